/* The one Connect transport of the application: JSON over the gateway on the page's own origin,
 * the session cookie sent by the browser (never a token held by script), the CSRF header on
 * every call, and a session that runs out renewed once through /v1/auth/refresh (the refresh
 * cookie is scoped to /v1/auth) before the call is tried again. When renewal fails the session
 * is over: listeners (the session provider) show why. */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { csrfToken } from './csrf';

type Listener = () => void;
const expiredListeners = new Set<Listener>();

export function onSessionExpired(l: Listener): () => void {
  expiredListeners.add(l);
  return () => expiredListeners.delete(l);
}

let refreshing: Promise<boolean> | null = null;

/* One renewal at a time, shared by the calls that failed together. */
export function refreshSession(): Promise<boolean> {
  if (!refreshing) {
    refreshing = fetch('/v1/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
      body: '{}',
    })
      .then((r) => r.ok)
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/* Ends the session on the server (the refresh token family) and clears the cookies. */
export async function logoutSession(): Promise<void> {
  await fetch('/v1/auth/logout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
    body: '{}',
  }).catch(() => undefined);
}

const NO_RENEWAL = new Set(['Login', 'ChangePassword', 'WhoAmI']);

const session: Interceptor = (next) => async (req) => {
  req.header.set('X-CSRF-Token', csrfToken());
  try {
    return await next(req);
  } catch (e) {
    const err = ConnectError.from(e);
    if (err.code !== Code.Unauthenticated || NO_RENEWAL.has(req.method.name)) throw err;
    if (await refreshSession()) {
      req.header.set('X-CSRF-Token', csrfToken());
      return await next(req);
    }
    expiredListeners.forEach((l) => l());
    throw err;
  }
};

export const transport = createConnectTransport({
  baseUrl: typeof window === 'undefined' ? 'http://localhost' : window.location.origin,
  useBinaryFormat: false,
  interceptors: [session],
  fetch: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
});
