/* Writing replies: status line, the headers every reply carries (security policy, request id,
 * framing), error bodies in the Connect and grpc-gateway shapes, and the status mapping. */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "gwsrv.h"
#include "log.h"

/* On every reply, API or not: a browser that renders one must not run or frame anything. */
#define CSP_POLICY(frame)                                                                       \
  "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "          \
  "img-src 'self' data:; connect-src 'self'; frame-ancestors " frame "; base-uri 'none'; "      \
  "form-action 'self'\r\n"                                                                      \
  "X-Content-Type-Options: nosniff\r\n"                                                         \
  "Referrer-Policy: no-referrer\r\n"
#define SECURITY_HEADERS CSP_POLICY("'none'") "X-Frame-Options: DENY\r\n"
/* A document the application previews in a frame of its own page (GW_FRAME_SELF). */
#define SECURITY_HEADERS_FRAME_SELF CSP_POLICY("'self'") "X-Frame-Options: SAMEORIGIN\r\n"

void gw_hdr(gw_req *r, const char *fmt, ...) {
  size_t room = sizeof r->extra - r->extra_len;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(r->extra + r->extra_len, room, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k + 2 >= room) {
    r->extra[r->extra_len] = 0; /* dropped whole rather than cut */
    log_warn("reply header dropped: no room");
    return;
  }
  memcpy(r->extra + r->extra_len + k, "\r\n", 3);
  r->extra_len += (size_t)k + 2;
}

/* Appends to a fixed buffer; remembers an overflow. */
typedef struct {
  char *p;
  size_t cap, len;
  int over;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...) {
  if (b->over) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= b->cap - b->len) b->over = 1;
  else b->len += (size_t)k;
}

static size_t format_head(gw_req *r, int status, const char *ctype, size_t len, unsigned flags,
                          char *buf, size_t n) {
  int closing = r->close || !r->h || !r->h->keep_alive;
  sbuf b = {buf, n, 0, 0};
  sb_add(&b, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
  if (ctype) sb_add(&b, "Content-Type: %s\r\n", ctype);
  /* a 304 has no body, and a length there would have to be the 200's */
  if (status != 304 && len != GW_NO_LENGTH) sb_add(&b, "Content-Length: %zu\r\n", len);
  sb_add(&b, "X-Request-Id: %s\r\n%s", r->rid,
         flags & GW_FRAME_SELF ? SECURITY_HEADERS_FRAME_SELF : SECURITY_HEADERS);
  if (flags & GW_NO_STORE) sb_add(&b, "Cache-Control: no-store\r\n");
  if (closing) sb_add(&b, "Connection: close\r\n");
  else if (r->h->minor == 0) sb_add(&b, "Connection: keep-alive\r\n");
  sb_add(&b, "%.*s\r\n", (int)r->extra_len, r->extra);
  return b.over ? 0 : b.len;
}

static int send_reply(gw_req *r, int status, const char *ctype, const void *body, size_t len,
                      unsigned flags, int file_fd) {
  char head[8192];
  size_t hn = format_head(r, status, ctype, len, flags, head, sizeof head);
  r->status = status;
  if (!hn) {
    log_error("reply head too large");
    r->close = 2;
    return -1;
  }
  int with_body = !(flags & GW_HEAD) && status != 304 && status != 204 && len > 0;
  struct iovec iov[2] = {{head, hn}, {(void *)body, with_body && file_fd < 0 ? len : 0}};
  int rc = gw_conn_writev(r->conn, iov, with_body && file_fd < 0 ? 2 : 1);
  if (rc == 0 && with_body && file_fd >= 0) rc = gw_conn_sendfile(r->conn, file_fd, len);
  if (rc != 0) {
    r->close = 2;
    return -1;
  }
  r->bytes_out = hn + (with_body ? len : 0);
  return 0;
}

int gw_reply(gw_req *r, int status, const char *ctype, const void *body, size_t len, unsigned flags) {
  return send_reply(r, status, ctype, body, len, flags, -1);
}

int gw_reply_head(gw_req *r, int status, const char *ctype, size_t len, unsigned flags) {
  return send_reply(r, status, ctype, NULL, len, flags | GW_HEAD, -1);
}

int gw_reply_file(gw_req *r, int status, const char *ctype, int fd, size_t len, unsigned flags) {
  return send_reply(r, status, ctype, NULL, len, flags, fd);
}

int gw_http_status(grpc_status_code c) {
  switch (c) {
  case GRPC_STATUS_OK: return 200;
  case GRPC_STATUS_CANCELLED: return 499;
  case GRPC_STATUS_INVALID_ARGUMENT: return 400;
  case GRPC_STATUS_DEADLINE_EXCEEDED: return 504;
  case GRPC_STATUS_NOT_FOUND: return 404;
  case GRPC_STATUS_ALREADY_EXISTS: return 409;
  case GRPC_STATUS_PERMISSION_DENIED: return 403;
  case GRPC_STATUS_RESOURCE_EXHAUSTED: return 429;
  case GRPC_STATUS_FAILED_PRECONDITION: return 400;
  case GRPC_STATUS_ABORTED: return 409;
  case GRPC_STATUS_OUT_OF_RANGE: return 400;
  case GRPC_STATUS_UNIMPLEMENTED: return 501;
  case GRPC_STATUS_UNAVAILABLE: return 503;
  case GRPC_STATUS_UNAUTHENTICATED: return 401;
  default: return 500; /* UNKNOWN, INTERNAL, DATA_LOSS, anything new */
  }
}

void gw_connect_code(grpc_status_code c, char out[32]) {
  /* Connect's codes are gRPC's names in lower case, but for one spelling */
  const char *name = c == GRPC_STATUS_CANCELLED ? "canceled" : cli_status_name(c);
  if (!strcmp(name, "UNKNOWN_STATUS")) name = "unknown";
  size_t i = 0;
  for (; name[i] && i < 31; i++) out[i] = (char)tolower((unsigned char)name[i]);
  out[i] = 0;
}

/* A JSON string of text that may not be valid UTF-8 (then a plain replacement). */
static json_t *jstr(const char *s) {
  json_t *v = json_string(s ? s : "");
  return v ? v : json_string("(message not valid UTF-8)");
}

static char *error_body(int connect_face, grpc_status_code c, const char *msg) {
  char code[32];
  gw_connect_code(c, code);
  json_t *o = connect_face
                  ? json_pack("{s:s,s:o}", "code", code, "message", jstr(msg))
                  : json_pack("{s:i,s:o,s:[]}", "code", (int)c, "message", jstr(msg), "details");
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

static int reply_error(gw_req *r, int connect_face, int http_status, grpc_status_code c,
                       const char *msg) {
  char *body = error_body(connect_face, c, msg);
  static const char fallback[] = "{\"code\":\"internal\",\"message\":\"out of memory\"}";
  int rc = gw_reply(r, http_status ? http_status : gw_http_status(c), "application/json",
                    body ? body : fallback, body ? strlen(body) : sizeof fallback - 1, GW_NO_STORE);
  free(body);
  return rc;
}

int gw_reply_connect_error(gw_req *r, int http_status, grpc_status_code c, const char *msg) {
  return reply_error(r, 1, http_status, c, msg);
}

int gw_reply_rest_error(gw_req *r, int http_status, grpc_status_code c, const char *msg) {
  return reply_error(r, 0, http_status, c, msg);
}

int gw_reply_error(gw_req *r, int http_status, grpc_status_code c, const char *msg) {
  int k = r->rt ? r->rt->kind : GW_R_NOT_FOUND;
  int connect_face = k == GW_R_CONNECT || k == GW_R_CONNECT_VERB || k == GW_R_CONNECT_UNKNOWN;
  return reply_error(r, connect_face, http_status, c, msg);
}

size_t gw_format_early_error(char *buf, size_t n, int status, int connect_face, const char *rid,
                             const char *msg) {
  grpc_status_code c;
  const char *def;
  switch (status) {
  case 408: c = GRPC_STATUS_DEADLINE_EXCEEDED; def = "request not received in time"; break;
  case 413: c = GRPC_STATUS_RESOURCE_EXHAUSTED; def = "request body too large"; break;
  case 414: c = GRPC_STATUS_RESOURCE_EXHAUSTED; def = "request line too long (at most 16384 bytes)"; break;
  case 431:
    c = GRPC_STATUS_RESOURCE_EXHAUSTED;
    def = "request header section too large (at most 16384 bytes and 100 fields)";
    break;
  case 417: c = GRPC_STATUS_INVALID_ARGUMENT; def = "only the expectation 100-continue is supported"; break;
  case 411: c = GRPC_STATUS_INVALID_ARGUMENT; def = "Content-Length: required for an upload"; break;
  case 501: c = GRPC_STATUS_UNIMPLEMENTED; def = "method or transfer coding not implemented"; break;
  case 505: c = GRPC_STATUS_UNIMPLEMENTED; def = "HTTP version not supported: use HTTP/1.1"; break;
  case 503: c = GRPC_STATUS_UNAVAILABLE; def = "server busy: retry later"; break;
  default: c = GRPC_STATUS_INVALID_ARGUMENT; def = "malformed HTTP request"; break;
  }
  char *body = error_body(connect_face, c, msg ? msg : def);
  const char *b = body ? body : "{}";
  int k = snprintf(buf, n,
                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                   "X-Request-Id: %s\r\n" SECURITY_HEADERS
                   "Cache-Control: no-store\r\nConnection: close\r\n\r\n%s",
                   status, http_reason(status), strlen(b), rid, b);
  free(body);
  if (k < 0) return 0;
  return (size_t)k < n ? (size_t)k : n - 1;
}
