/* Browser sessions over the gateway: the Authorization header passes through; without one, the
 * HttpOnly session cookie set at login is sent as the bearer, and a request so authenticated
 * that changes state must repeat the CSRF cookie in X-CSRF-Token (double submit). The gateway
 * moves tokens; the services verify them. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gwsrv.h"
#include "identity.pb-c.h"
#include "log.h"

#define IDN "/hoso.identity.v1.Identity/"
#define COOKIE_SESSION "hoso_session"
#define COOKIE_REFRESH "hoso_refresh"
#define COOKIE_CSRF "hoso_csrf"
#define TOKEN_MAX 8000

int gw_ct_equal(const char *a, const char *b) {
  size_t n = strlen(a);
  if (n != strlen(b)) return 0;
  return CRYPTO_memcmp(a, b, n) == 0;
}

static int is_method(const gw_method *m, const char *name) {
  return strncmp(m->path, IDN, sizeof IDN - 1) == 0 && strcmp(m->path + sizeof IDN - 1, name) == 0;
}

/* Characters a cookie value may hold unquoted (RFC 6265 cookie-octet). */
static int cookie_safe(const char *s) {
  if (!s || !*s) return 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\') return 0;
  }
  return 1;
}

/* For Refresh and Logout, whose request names the refresh token: when the body leaves it empty,
 * the token of the refresh cookie, in a shallow copy of the request (r->sub) so the decoded
 * message's own memory is never touched. 1 when the cookie was used. */
static int refresh_from_cookie(gw_req *r, const gw_method *m, ProtobufCMessage *req) {
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field_by_name(m->input, "refresh_token");
  if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED) return 0;
  const char *cur = *(const char **)((const char *)req + f->offset);
  if (cur && *cur) return 0;
  char *tok = r->refresh_tok;
  if (http_cookie(r->h, COOKIE_REFRESH, tok, sizeof r->refresh_tok) != 1 || !*tok) return 0;
  void *copy = malloc(m->input->sizeof_message);
  if (!copy) return 0;
  memcpy(copy, req, m->input->sizeof_message);
  *(const char **)((char *)copy + f->offset) = tok;
  r->sub = copy;
  return 1;
}

int gw_auth_before(gw_req *r, const gw_method *m, ProtobufCMessage *req, int state_changing,
                   char *why, size_t n) {
  int login = is_method(m, "Login");
  /* Refresh and Logout carry their own credential (the refresh token) and need no bearer */
  int by_refresh = is_method(m, "Refresh") || is_method(m, "Logout");
  const http_header *a = http_find(r->h, "authorization");
  if (a) {
    if (a->value_len >= sizeof r->authz) {
      snprintf(why, n, "authorization: header too long");
      return 400;
    }
    memcpy(r->authz, a->value, a->value_len);
    r->authz[a->value_len] = 0;
  } else if (!login && !by_refresh) {
    char tok[TOKEN_MAX];
    if (http_cookie(r->h, COOKIE_SESSION, tok, sizeof tok) == 1 && tok[0]) {
      snprintf(r->authz, sizeof r->authz, "Bearer %s", tok);
      r->cookie_auth = 1;
    }
  }
  if (by_refresh && refresh_from_cookie(r, m, req)) r->cookie_auth = 1;

  /* A login is not authenticated by any cookie: a forged one gains nothing. */
  if (!r->cookie_auth || !state_changing || login) return 0;
  const http_header *h = http_find(r->h, "x-csrf-token");
  char sent[128], want[128];
  if (h && h->value_len < sizeof sent) {
    memcpy(sent, h->value, h->value_len);
    sent[h->value_len] = 0;
  } else {
    sent[0] = 0;
  }
  if (http_cookie(r->h, COOKIE_CSRF, want, sizeof want) != 1) want[0] = 0;
  if (sent[0] && want[0] && gw_ct_equal(sent, want)) return 0;
  snprintf(why, n, "%s", !h ? "X-CSRF-Token: missing; a request authenticated by the session cookie "
                              "that changes something must send the hoso_csrf cookie's value in "
                              "the X-CSRF-Token header"
                            : "X-CSRF-Token: does not match the hoso_csrf cookie; log in again if "
                              "the cookie is gone");
  return 403;
}

static void new_csrf(char *out, size_t n) {
  unsigned char b[32];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
    out[0] = 0; /* no randomness, no token: the next state-changing request is refused */
    return;
  }
  static const char a64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  for (size_t i = 0; i + 2 < sizeof b && o + 4 < n; i += 3) {
    unsigned v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];
    out[o++] = a64[v >> 18 & 63];
    out[o++] = a64[v >> 12 & 63];
    out[o++] = a64[v >> 6 & 63];
    out[o++] = a64[v & 63];
  }
  out[o] = 0;
}

static void set_session(gw_req *r, const char *access, int expires_in, const char *refresh,
                        int csrf_rotate) {
  if (cookie_safe(access) && expires_in > 0)
    gw_hdr(r, "Set-Cookie: " COOKIE_SESSION "=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict",
           access, expires_in);
  if (cookie_safe(refresh))
    gw_hdr(r, "Set-Cookie: " COOKIE_REFRESH "=%s; Path=/v1/auth; Max-Age=%d; HttpOnly; Secure; SameSite=Strict",
           refresh, gw_cfg.refresh_max_age);
  char have[128];
  if (!csrf_rotate && http_cookie(r->h, COOKIE_CSRF, have, sizeof have) == 1 && have[0]) return;
  char csrf[64];
  new_csrf(csrf, sizeof csrf);
  /* readable by the page's script (no HttpOnly): it copies it into X-CSRF-Token */
  if (csrf[0])
    gw_hdr(r, "Set-Cookie: " COOKIE_CSRF "=%s; Path=/; Max-Age=%d; Secure; SameSite=Strict", csrf,
           gw_cfg.refresh_max_age);
}

static void clear_session(gw_req *r) {
  gw_hdr(r, "Set-Cookie: " COOKIE_SESSION "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
  gw_hdr(r, "Set-Cookie: " COOKIE_REFRESH "=; Path=/v1/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
  gw_hdr(r, "Set-Cookie: " COOKIE_CSRF "=; Path=/; Max-Age=0; Secure; SameSite=Strict");
}

/* A browser is known by headers its pages' scripts can neither set nor remove: Fetch Metadata
 * (Sec-Fetch-Mode, on every request of current browsers) and Origin (on every POST a page
 * makes). Other clients (curl, other systems, the Connect and gRPC libraries) send neither. */
static int from_browser(const gw_req *r) {
  return http_find(r->h, "sec-fetch-mode") != NULL || http_find(r->h, "origin") != NULL;
}

/* Once the tokens are in HttpOnly cookies, the body must not carry them as well: a script
 * injected into the page would read them there, and a refresh token lives for hours. The
 * strings are the reply's own (freed with it): emptied in place, they are left out of the
 * encoded reply as proto3 defaults. */
static void forget(char *s) {
  if (s && *s) memset(s, 0, strlen(s));
}

void gw_auth_after(gw_req *r, const gw_method *m, grpc_status_code code,
                   const ProtobufCMessage *resp) {
  if (is_method(m, "Logout")) {
    clear_session(r); /* whatever the service said, the browser forgets the session */
    return;
  }
  if (code != GRPC_STATUS_OK || !resp) return;
  /* Cookies for a browser's login, and for a session already held in cookies; the tokens in
   * the body for everyone else (who has no use for cookies). */
  int cookies = from_browser(r) || r->cookie_auth;
  if (!cookies) return;
  if (resp->descriptor == &hoso__identity__v1__login_response__descriptor) {
    Hoso__Identity__V1__LoginResponse *l = (void *)resp;
    set_session(r, l->access_token, l->expires_in, l->refresh_token, 1);
    forget(l->access_token);
    forget(l->refresh_token);
  } else if (resp->descriptor == &hoso__identity__v1__refresh_response__descriptor) {
    Hoso__Identity__V1__RefreshResponse *l = (void *)resp;
    set_session(r, l->access_token, l->expires_in, l->refresh_token, 0);
    forget(l->access_token);
    forget(l->refresh_token);
  } else if (resp->descriptor == &hoso__identity__v1__change_password_response__descriptor &&
             r->cookie_auth) {
    /* a browser that changed its password keeps working with the fresh tokens */
    Hoso__Identity__V1__ChangePasswordResponse *l = (void *)resp;
    set_session(r, l->access_token, l->expires_in, l->refresh_token, 0);
    forget(l->access_token);
    forget(l->refresh_token);
  }
}
