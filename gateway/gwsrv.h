/* Internal interface of the gateway's HTTP half: configuration, routes, one request being
 * served, the reply writer, the two faces, upstream calls, session cookies, static files,
 * metrics. The descriptor half (registry, routes, OpenAPI) is behind gw.h. */
#ifndef HOSO_GWSRV_H
#define HOSO_GWSRV_H

#include <limits.h>
#include <stddef.h>
#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include "cli.h"
#include "gw.h"
#include "http.h"

/* ---- configuration (config.c) ------------------------------------------------------------ */

typedef struct {
  char addr[128];             /* HOSO_GATEWAY_ADDR, "127.0.0.1:8080" */
  int threads;                /* HOSO_GATEWAY_THREADS: requests served at once */
  int max_conns;              /* HOSO_GATEWAY_MAX_CONNS: open connections */
  int channels;               /* HOSO_GATEWAY_CHANNELS: gRPC channels per backend address */
  size_t max_body;            /* HOSO_GATEWAY_MAX_BODY */
  size_t max_upload;          /* HOSO_GATEWAY_MAX_UPLOAD: methods whose request carries bytes */
  int header_timeout_ms;      /* HOSO_GATEWAY_HEADER_TIMEOUT_MS: first byte to end of head */
  int body_timeout_ms;        /* HOSO_GATEWAY_BODY_TIMEOUT_MS: end of head to end of body */
  int idle_timeout_ms;        /* HOSO_GATEWAY_IDLE_TIMEOUT_MS: keep-alive between requests */
  int write_timeout_ms;       /* HOSO_GATEWAY_WRITE_TIMEOUT_MS: a reply the client does not read */
  int upstream_timeout_ms;    /* HOSO_GATEWAY_UPSTREAM_TIMEOUT_MS: default and maximum deadline */
  int ready_timeout_ms;       /* HOSO_GATEWAY_READY_TIMEOUT_MS: each health check of /readyz */
  int refresh_max_age;        /* HOSO_GATEWAY_REFRESH_MAX_AGE: refresh and CSRF cookies, seconds */
  char trusted_proxies[1024]; /* HOSO_GATEWAY_TRUSTED_PROXIES */
  char metrics_allow[1024];   /* HOSO_GATEWAY_METRICS_ALLOW: peers that may read /metrics, or "*" */
  char static_dir[PATH_MAX];  /* HOSO_GATEWAY_STATIC_DIR (default web/dist when it exists), "" = none */
} gw_config;

extern gw_config gw_cfg;
void gw_config_load(void);

/* ---- routes (resolve.c) -------------------------------------------------------------------- */

enum {
  GW_R_NOT_FOUND,
  GW_R_HEALTHZ,
  GW_R_READYZ,
  GW_R_METRICS,
  GW_R_OPENAPI,
  GW_R_CONNECT,         /* POST /pkg.Service/Method of a known method */
  GW_R_CONNECT_VERB,    /* a known Connect path with another verb: 405 */
  GW_R_CONNECT_UNKNOWN, /* looks like a Connect path, no such method: 404 */
  GW_R_REST,
  GW_R_REST_VERB,       /* a REST template matched, not with this verb: 405 */
  GW_R_STATIC,
  GW_R_UPLOAD,          /* POST /v1/records/{id}/attachments: the body streamed (files.c) */
  GW_R_DOWNLOAD,        /* GET /v1/attachments/{id}/content: streamed out (files.c) */
  GW_R_DOCUMENT,        /* GET /v1/transfers/{id}/documents/{id}/content: a transfer's scan (files.c) */
  GW_R_PACKAGE_OUT,     /* POST /v1/transfers/{id}/package: ExportTransferPackage streamed out (streams.c) */
  GW_R_PACKAGE_IN,      /* POST /v1/transfer-packages: the body streamed into ImportTransferPackage */
  GW_R_REPORT_FILE,     /* POST /v1/reports:run, /v1/records:exportSearch: a report's file streamed out */
};

typedef struct {
  int kind;
  const gw_method *method; /* GW_R_CONNECT, GW_R_REST */
  gw_match match;          /* GW_R_REST (owns its values) */
  const char *allow;       /* the 405 kinds: the verbs the path takes */
  const char *label;       /* metrics and log label: the template, never the raw path */
} gw_route;

/* Builds the upload table; after gw_registry_init. */
int gw_routes_init(void);
void gw_routes_free(void);
void gw_route_resolve(const char *verb, size_t verb_len, const char *path, size_t path_len,
                      gw_route *rt);
void gw_route_free(gw_route *rt);
/* Largest body the route accepts. */
size_t gw_route_body_limit(const gw_route *rt);

/* ---- one request (server.c fills it, dispatch.c serves it) ------------------------------- */

struct gw_conn;

typedef struct {
  struct gw_conn *conn;
  const http_req *h;
  const char *body;
  size_t body_len;
  char verb[8];
  char path[HTTP_MAX_HEAD]; /* raw (percent-encoded) path, NUL-terminated */
  char *query;              /* raw query after '?', NUL-terminated, "" when none */
  const gw_route *rt;
  char client[64];          /* the client address the backends are told */
  char rid[72];             /* request id */
  int timeout_ms;           /* upstream deadline */
  char authz[8200];         /* "Bearer ..." to send, "" for none */
  int cookie_auth;          /* authz or the refresh token came from a cookie */
  grpc_status_code upstream_code; /* -1 when no upstream call was made */
  void *sub;                /* a shallow copy of the request message made by gw_auth_before */
  char refresh_tok[2048];   /* a refresh token taken from its cookie (sub points to it) */
  /* the reply */
  int status;
  size_t bytes_out;
  int close;                /* 1: close the connection after this reply; 2: the client is gone */
  char extra[4096];         /* extra header lines, each ending in CRLF */
  size_t extra_len;
} gw_req;

/* Serves one complete request: writes the reply, logs it, counts it. 1 when the connection may
 * carry another request, 0 when it must close. */
int gw_handle(gw_req *r);
/* Frees the cached OpenAPI document. */
void gw_dispatch_free(void);

/* ---- replies (reply.c) --------------------------------------------------------------------- */

enum {
  GW_NO_STORE = 1u << 0, /* Cache-Control: no-store (API replies: they may hold tokens) */
  GW_HEAD = 1u << 1,     /* a HEAD request: headers only */
  GW_FRAME_SELF = 1u << 2, /* the page itself may frame this reply (a document previewed in place) */
};

/* Adds a header line ("Name: value") to the reply. */
void gw_hdr(gw_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes status line, common headers (security, request id, length, connection), the extra
 * lines and the body. 0, or -1 when the client is gone (the connection then closes). */
int gw_reply(gw_req *r, int status, const char *ctype, const void *body, size_t len, unsigned flags);
/* Only the status line and headers of a reply whose body of len bytes the caller then writes
 * with gw_conn_writev (a streamed download). 0 / -1 as gw_reply. */
int gw_reply_head(gw_req *r, int status, const char *ctype, size_t len, unsigned flags);
/* gw_reply_head's len for a body of unknown length: no Content-Length (the caller says
 * Transfer-Encoding: chunked, or closes the connection at its end). */
#define GW_NO_LENGTH ((size_t)-1)
/* Same with the body from a file (sendfile). */
int gw_reply_file(gw_req *r, int status, const char *ctype, int fd, size_t len, unsigned flags);

/* HTTP status of a gRPC code (grpc-gateway's and Connect's table, which agree). */
int gw_http_status(grpc_status_code c);
/* Connect's name of a code ("invalid_argument"). */
void gw_connect_code(grpc_status_code c, char out[32]);
/* Connect error JSON {"code":"...","message":"..."} with the code's status, or http_status
 * when non-zero. */
int gw_reply_connect_error(gw_req *r, int http_status, grpc_status_code c, const char *msg);
/* grpc-gateway error JSON {"code":n,"message":"...","details":[]}, likewise. */
int gw_reply_rest_error(gw_req *r, int http_status, grpc_status_code c, const char *msg);
/* The error shape of the route: Connect for Connect routes, REST JSON otherwise. */
int gw_reply_error(gw_req *r, int http_status, grpc_status_code c, const char *msg);
/* A small complete error reply in buf for a request that never reached a worker (parse
 * errors, 408, 413 before the body), message msg or the status's own when NULL: length
 * written. */
size_t gw_format_early_error(char *buf, size_t n, int status, int connect_face, const char *rid,
                             const char *msg);

/* Writes all of iov to the connection's socket, waiting up to the write timeout. 0 / -1. */
struct iovec;
int gw_conn_writev(struct gw_conn *c, struct iovec *iov, int n);
int gw_conn_sendfile(struct gw_conn *c, int fd, size_t len);
/* For a streaming route (GW_R_UPLOAD), served once its head is read: the next bytes of the
 * body (Content-Length framing), waiting up to the body timeout for each. The count, 0 at the
 * end of the body, -1 when the client is gone or too slow. The connection closes after such a
 * request, so what the handler leaves unread is drained by the lingering close. */
long gw_conn_body_read(struct gw_conn *c, void *buf, size_t n);
/* The socket peer's address (text). */
const char *gw_conn_peer(const struct gw_conn *c);

/* ---- the faces (connect.c, rest.c) ------------------------------------------------------- */

int gw_connect(gw_req *r);
int gw_rest(gw_req *r);

/* ---- upstreams (upstream.c) --------------------------------------------------------------- */

int gw_upstream_init(void);
void gw_upstream_free(void);
/* One unary call to the method's backend with the request's metadata (authorization,
 * x-request-id, x-forwarded-for) and deadline; counts upstream errors. */
grpc_status_code gw_call(gw_req *r, const gw_method *m, const ProtobufCMessage *req,
                         ProtobufCMessage **resp, cli_status *st);
/* A decoded request on behalf of the HTTP client: credentials and CSRF (gw_auth_before), the
 * call, session cookies (gw_auth_after). GRPC_STATUS_OK with *resp; else the code, st->message
 * and *http_status (0: the code's own; 403 for a CSRF refusal). */
grpc_status_code gw_call_as_client(gw_req *r, const gw_method *m, ProtobufCMessage *req,
                                   int state_changing, ProtobufCMessage **resp, cli_status *st,
                                   int *http_status);
/* Opens a streaming call of m on its backend with the request's metadata (as gw_call) and a
 * deadline of timeout_ms. NULL with st filled when there is no backend or gRPC refuses. */
struct cli_stream *gw_stream_open(gw_req *r, const gw_method *m, int timeout_ms, cli_status *st);
/* 1 when every backend /readyz checks (HOSO_GATEWAY_READY_BACKENDS, else those whose address
 * variable is set, else all) answers SERVING on every address; else 0 and why names the first
 * one that does not (its name only: the address goes to the log). */
int gw_ready(char *why, size_t n);

/* ---- browser sessions (auth_cookie.c) ------------------------------------------------------ */

/* Chooses the credentials to send (Authorization header, else the session cookie), fills a
 * refresh token from its cookie for Refresh/Logout, and checks CSRF for a cookie-authenticated
 * request that changes state. 0, or 403 with why. */
int gw_auth_before(gw_req *r, const gw_method *m, ProtobufCMessage *req, int state_changing,
                   char *why, size_t n);
/* After the call: session cookies set by Login/Refresh/ChangePassword for a browser (Fetch
 * Metadata or Origin header) or a session already in cookies, and then the tokens taken out of
 * the reply (resp is changed); cleared by Logout. */
void gw_auth_after(gw_req *r, const gw_method *m, grpc_status_code code,
                   const ProtobufCMessage *resp);
/* Constant-time equality of two NUL-terminated strings (length may leak, contents do not). */
int gw_ct_equal(const char *a, const char *b);

/* ---- static files (static.c) -------------------------------------------------------------- */

int gw_static_init(void);
int gw_static_enabled(void);
int gw_static(gw_req *r);

/* ---- attachment files (files.c) ------------------------------------------------------------ */

/* Sets rt for the two file routes (upload, download) and returns 1; 0 for any other path. */
int gw_files_resolve(const char *verb, size_t verb_len, const char *path, gw_route *rt);
/* The upload route's body limit: the records service's 20 MiB per attachment. */
size_t gw_files_upload_limit(void);
int gw_upload(gw_req *r);
int gw_download(gw_req *r);
int gw_document(gw_req *r);
/* Shared by the file routes (files.c, streams.c). A query parameter, percent-decoded ('+' as a
 * space): 1 found, 0 absent, -1 malformed. */
int gw_query_param(const char *q, const char *name, char *out, size_t cap);
/* Credentials and CSRF (gw_auth_before), then a stream of the route's method; on a refusal
 * the reply has been written and NULL is returned. */
struct cli_stream *gw_stream_as_client(gw_req *r, ProtobufCMessage *req, int state_changing, int timeout_ms);
/* The request body into a client stream, a message per chunk of 1 MiB: `first` (carrying the
 * call's own fields) with the first chunk, `rest` (a chunk alone) with each further one; at
 * least one message even for an empty body. On 0 the body went out and the stream is
 * half-closed (unless the service ended the call early: its status says why). Otherwise the
 * stream is cancelled and finished: GW_BODY_CUT the client left or stalled (logged with `what`,
 * the connection to close; nothing to reply), GW_BODY_TOO_LARGE past `max` (0: no bound here),
 * GW_BODY_NOMEM no buffer. */
typedef struct {
  ProtobufCMessage *first, *rest;
  ProtobufCBinaryData *first_chunk, *rest_chunk;
  size_t max;
  const char *what;
} gw_body_pump;
enum { GW_BODY_CUT = -1, GW_BODY_TOO_LARGE = -2, GW_BODY_NOMEM = -3 };
int gw_body_to_stream(gw_req *r, struct cli_stream *s, const gw_body_pump *p);
/* A stream that ended without its reply: the status as the REST error reply. */
int gw_stream_failed(gw_req *r, struct cli_stream *s, const char *backend, const char *what);
/* Content-Disposition (inline or attachment) with an ASCII and an RFC 5987 UTF-8 name. */
void gw_disposition(gw_req *r, const char *name, int inl);
/* A scan's type as served: PDF, JPEG, PNG, anything else application/octet-stream. */
const char *gw_safe_type(const char *t);

/* ---- the other streamed methods (streams.c) ------------------------------------------------- */

/* Sets rt for the routes of transfer packages (out and in) and of report and search files, and
 * returns 1; 0 for any other path. */
int gw_streams_resolve(const char *verb, size_t verb_len, const char *path, gw_route *rt);
/* The package import route's body limit (HOSO_PACKAGE_MAX_MB, as the transfers service). */
size_t gw_streams_package_limit(void);
int gw_package_export(gw_req *r);
int gw_package_import(gw_req *r);
int gw_report_file(gw_req *r);

/* ---- metrics (metrics.c) -------------------------------------------------------------------- */

void gw_metrics_request(const char *route, const char *verb, int status, double seconds);
void gw_metrics_upstream_error(const char *backend, grpc_status_code code);
void gw_metrics_inflight(int delta);
/* The Prometheus text exposition (malloc'd), or NULL. */
char *gw_metrics_text(size_t *len);
void gw_metrics_free(void);

/* ---- the server (server.c) ---------------------------------------------------------------- */

int gw_server_start(void);
/* Stops accepting, lets requests in progress finish (up to grace_ms), closes everything. */
void gw_server_stop(int grace_ms);

/* Monotonic milliseconds. */
long long gw_now_ms(void);

#endif
