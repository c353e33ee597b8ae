/* Serving one request: request id, client address and deadline, then the handler of its route
 * (health, readiness, metrics, OpenAPI, the Connect and REST faces, static files), then the
 * metrics and the one JSON access-log line every request gets. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "gwsrv.h"
#include "log.h"
#include "peer.h"

#define RID_MAX 64

static pthread_mutex_t openapi_mu = PTHREAD_MUTEX_INITIALIZER;
static char *openapi_doc;
static size_t openapi_len;

void gw_dispatch_free(void) {
  pthread_mutex_lock(&openapi_mu);
  free(openapi_doc);
  openapi_doc = NULL;
  pthread_mutex_unlock(&openapi_mu);
}

/* A client's id is kept when it is 1..64 visible ASCII characters (the backends' own rule),
 * else a fresh random one. */
static void pick_request_id(gw_req *r) {
  const http_header *h = http_find(r->h, "x-request-id");
  if (h && h->value_len > 0 && h->value_len <= RID_MAX) {
    size_t i = 0;
    while (i < h->value_len && h->value[i] > 0x20 && h->value[i] < 0x7f) i++;
    if (i == h->value_len) {
      memcpy(r->rid, h->value, i);
      r->rid[i] = 0;
      return;
    }
  }
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
    /* unique, not secret: time and a counter will do */
    static _Atomic unsigned long long seq;
    unsigned long long t = (unsigned long long)gw_now_ms(), s = ++seq;
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)((i < 8 ? t : s) >> ((i % 8) * 8));
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof b; i++) {
    r->rid[2 * i] = hex[b[i] >> 4];
    r->rid[2 * i + 1] = hex[b[i] & 15];
  }
  r->rid[2 * sizeof b] = 0;
}

/* The socket peer, or, when the peer is a trusted proxy, the right-most X-Forwarded-For address
 * that is not one (peer.h): a client may prepend anything to the header, never append. */
static void pick_client(gw_req *r) {
  const char *peer = gw_conn_peer(r->conn);
  int forwards = gw_cfg.trusted_proxies[0] && peer_ip_in_list(peer, gw_cfg.trusted_proxies);
  const http_header *h = forwards ? http_find(r->h, "x-forwarded-for") : NULL;
  char v[1024];
  if (h) {
    /* the right end is what counts: a longer header loses its left part */
    size_t k = h->value_len < sizeof v ? h->value_len : sizeof v - 1;
    memcpy(v, h->value + h->value_len - k, k);
    v[k] = 0;
  }
  if (peer_client_addr(peer, forwards, h ? v : NULL, gw_cfg.trusted_proxies, r->client, sizeof r->client) != 0)
    snprintf(r->client, sizeof r->client, "%s", peer);
}

/* Connect-Timeout-Ms (up to 10 digits, positive) lowers the upstream deadline; it never raises
 * it past the configured one. 0, or -1 when the header is malformed. */
static int pick_timeout(gw_req *r) {
  r->timeout_ms = gw_cfg.upstream_timeout_ms;
  const http_header *h = http_find(r->h, "connect-timeout-ms");
  if (!h) return 0;
  if (h->value_len == 0 || h->value_len > 10) return -1;
  long long v = 0;
  for (size_t i = 0; i < h->value_len; i++) {
    if (h->value[i] < '0' || h->value[i] > '9') return -1;
    v = v * 10 + (h->value[i] - '0');
  }
  if (v <= 0) return -1;
  if (v < r->timeout_ms) r->timeout_ms = (int)v;
  return 0;
}

static int only_get(gw_req *r, unsigned *flags) {
  if (!strcmp(r->verb, "GET")) return 1;
  if (!strcmp(r->verb, "HEAD")) {
    *flags |= GW_HEAD;
    return 1;
  }
  gw_hdr(r, "Allow: GET, HEAD");
  gw_reply_rest_error(r, 405, GRPC_STATUS_UNIMPLEMENTED, "method not allowed: use GET");
  return 0;
}

static void serve_healthz(gw_req *r) {
  unsigned fl = GW_NO_STORE;
  if (!only_get(r, &fl)) return;
  static const char ok[] = "{\"status\":\"ok\"}";
  gw_reply(r, 200, "application/json", ok, sizeof ok - 1, fl);
}

static void serve_readyz(gw_req *r) {
  unsigned fl = GW_NO_STORE;
  if (!only_get(r, &fl)) return;
  char why[512];
  if (gw_ready(why, sizeof why)) {
    static const char ok[] = "{\"status\":\"ready\"}";
    gw_reply(r, 200, "application/json", ok, sizeof ok - 1, fl);
    return;
  }
  json_t *o = json_pack("{s:s,s:s}", "status", "not ready", "reason", why);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  static const char fallback[] = "{\"status\":\"not ready\"}";
  gw_reply(r, 503, "application/json", s ? s : fallback, s ? strlen(s) : sizeof fallback - 1, fl);
  free(s);
}

static void serve_metrics(gw_req *r) {
  unsigned fl = GW_NO_STORE;
  if (!only_get(r, &fl)) return;
  /* The socket peer decides, never a forwarded address: a scraper connects directly. */
  if (strcmp(gw_cfg.metrics_allow, "*") != 0 && !peer_ip_in_list(gw_conn_peer(r->conn), gw_cfg.metrics_allow)) {
    gw_reply_rest_error(r, 403, GRPC_STATUS_PERMISSION_DENIED,
                        "metrics are served only to the addresses in HOSO_GATEWAY_METRICS_ALLOW");
    return;
  }
  size_t n = 0;
  char *t = gw_metrics_text(&n);
  if (!t) {
    gw_reply_rest_error(r, 500, GRPC_STATUS_INTERNAL, "metrics unavailable: out of memory");
    return;
  }
  gw_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", t, n, fl);
  free(t);
}

static void serve_openapi(gw_req *r) {
  unsigned fl = 0;
  if (!only_get(r, &fl)) return;
  /* generated once: the descriptors do not change while the process runs */
  pthread_mutex_lock(&openapi_mu);
  if (!openapi_doc) {
    openapi_doc = gw_openapi_json();
    openapi_len = openapi_doc ? strlen(openapi_doc) : 0;
  }
  pthread_mutex_unlock(&openapi_mu);
  if (!openapi_doc) {
    gw_reply_rest_error(r, 500, GRPC_STATUS_INTERNAL, "the OpenAPI document could not be generated");
    return;
  }
  gw_hdr(r, "Cache-Control: no-cache");
  gw_reply(r, 200, "application/json", openapi_doc, openapi_len, fl);
}

int gw_handle(gw_req *r) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const http_req *h = r->h;
  r->status = 0;
  r->bytes_out = 0;
  r->close = 0;
  r->extra_len = 0;
  r->extra[0] = 0;
  r->authz[0] = 0;
  r->cookie_auth = 0;
  r->sub = NULL;
  r->upstream_code = (grpc_status_code)-1;
  snprintf(r->verb, sizeof r->verb, "%.*s", (int)h->method_len, h->method);
  /* path and query share one buffer: together they are shorter than the head */
  memcpy(r->path, h->path, h->path_len);
  r->path[h->path_len] = 0;
  r->query = r->path + h->path_len + 1;
  memcpy(r->query, h->query, h->query_len);
  r->query[h->query_len] = 0;
  pick_request_id(r);
  log_set_request_id(r->rid);
  pick_client(r);
  gw_metrics_inflight(1);

  if (pick_timeout(r) != 0) {
    gw_reply_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT,
                   "connect-timeout-ms: expected a positive whole number of milliseconds (at most 10 digits)");
  } else {
    switch (r->rt->kind) {
    case GW_R_HEALTHZ: serve_healthz(r); break;
    case GW_R_READYZ: serve_readyz(r); break;
    case GW_R_METRICS: serve_metrics(r); break;
    case GW_R_OPENAPI: serve_openapi(r); break;
    case GW_R_CONNECT:
    case GW_R_CONNECT_VERB:
    case GW_R_CONNECT_UNKNOWN: gw_connect(r); break;
    case GW_R_REST:
    case GW_R_REST_VERB: gw_rest(r); break;
    case GW_R_STATIC: gw_static(r); break;
    case GW_R_UPLOAD: gw_upload(r); break;
    case GW_R_DOWNLOAD: gw_download(r); break;
    case GW_R_DOCUMENT: gw_document(r); break;
    case GW_R_PACKAGE_OUT: gw_package_export(r); break;
    case GW_R_PACKAGE_IN: gw_package_import(r); break;
    case GW_R_REPORT_FILE: gw_report_file(r); break;
    default: {
      char msg[200];
      snprintf(msg, sizeof msg, "no route for %s %.150s", r->verb, r->path);
      gw_reply_rest_error(r, 404, GRPC_STATUS_NOT_FOUND, msg);
    }
    }
  }
  free(r->sub);
  r->sub = NULL;

  gw_metrics_inflight(-1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  gw_metrics_request(r->rt->label, r->verb, r->status, secs);
  log_field f[] = {{"method", r->verb, 0},
                   {"path", r->path, 0},
                   {"route", r->rt->label, 0},
                   {"status", NULL, r->status},
                   {"duration_ms", NULL, (double)(long long)(secs * 1e6) / 1e3},
                   {"bytes", NULL, (double)r->bytes_out},
                   {"client", r->client, 0},
                   {"grpc_code", (int)r->upstream_code >= 0 ? cli_status_name(r->upstream_code) : "-", 0}};
  log_fields(LOG_INFO_, "http", f, sizeof f / sizeof f[0]);
  log_set_request_id(NULL);
  return r->close ? 0 : 1;
}
