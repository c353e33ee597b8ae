/* The double-submit CSRF token: the gateway sets the readable cookie hoso_csrf at login, and
 * every request authenticated by the HttpOnly session cookie that changes something must
 * repeat it in X-CSRF-Token (gateway/auth_cookie.c). */
export function csrfToken(cookie: string = document.cookie): string {
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === 'hoso_csrf') return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return '';
}
