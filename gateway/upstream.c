/* The backends: one per hoso.<svc>.v1 package, addresses from the service table (cfg.h: its
 * variable, comma separated, else its default), several gRPC channels per address used in turn, one unary call per request
 * with the caller's metadata and deadline, and the health checks behind /readyz. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "gwsrv.h"
#include "log.h"

typedef struct {
  char name[32];     /* "identity" */
  char env[48];      /* "HOSO_IDENTITY_ADDR" */
  char package[96];  /* "hoso.identity.v1" */
  char **addrs;
  size_t n_addrs;
  cli_chan **ch;     /* n_addrs * per_addr: address i owns ch[i*per_addr ...] */
  size_t n_ch, per_addr;
  atomic_uint rr;
  int explicit_addr; /* its variable is set */
} backend;

static backend *B;
static size_t NB;

static int add_addrs(backend *b, const char *list) {
  for (const char *s = list; s && *s;) {
    while (*s == ',' || isspace((unsigned char)*s)) s++;
    size_t n = strcspn(s, ",");
    size_t m = n;
    while (m > 0 && isspace((unsigned char)s[m - 1])) m--;
    if (m > 0) {
      char **na = realloc(b->addrs, (b->n_addrs + 1) * sizeof *na);
      if (!na) return -1;
      b->addrs = na;
      if (!(b->addrs[b->n_addrs] = strndup(s, m))) return -1;
      b->n_addrs++;
    }
    s += n;
  }
  return 0;
}

static backend *find(const char *package) {
  for (size_t i = 0; i < NB; i++)
    if (!strcmp(B[i].package, package)) return &B[i];
  return NULL;
}

static int add_backend(const char *package) {
  const char *svc = package + 5; /* after "hoso." */
  size_t n = strcspn(svc, ".");
  char name[32];
  if (n == 0 || n >= sizeof name) return 0;
  memcpy(name, svc, n);
  name[n] = 0;
  const cfg_service *s = cfg_service_find(name);
  if (!s || s->gateway != CFG_GATEWAY_YES) {
    log_error("backend %s (package %s) is not a service the gateway serves in common/services.tsv", name, package);
    return -1;
  }
  backend *nb = realloc(B, (NB + 1) * sizeof *nb);
  if (!nb) return -1;
  B = nb;
  backend *b = &B[NB++];
  memset(b, 0, sizeof *b);
  snprintf(b->package, sizeof b->package, "%s", package);
  snprintf(b->name, sizeof b->name, "%s", name);
  snprintf(b->env, sizeof b->env, "%s", s->addr_var);
  const char *v = cfg_str(b->env, NULL);
  b->explicit_addr = v != NULL;
  if (!v) v = s->default_addr;
  if (add_addrs(b, v) != 0) return -1;
  b->per_addr = (size_t)gw_cfg.channels;
  b->n_ch = b->n_addrs * b->per_addr;
  if (b->n_ch) {
    b->ch = calloc(b->n_ch, sizeof *b->ch);
    if (!b->ch) return -1;
  }
  for (size_t i = 0; i < b->n_ch; i++) {
    /* cli_open: TLS from HOSO_TLS_CA (and the client pair) exactly as every service connects */
    if (!(b->ch[i] = cli_open(b->addrs[i / b->per_addr]))) {
      log_error("backend %s at %s: cannot open a channel", b->name, b->addrs[i / b->per_addr]);
      return -1;
    }
  }
  if (!b->n_addrs)
    log_warn("backend %s has no address: set %s; its methods answer UNAVAILABLE", b->name, b->env);
  else
    log_info("backend %s: %s%s (%zu channels)", b->name, v, b->explicit_addr ? "" : " (default)", b->n_ch);
  return 0;
}

int gw_upstream_init(void) {
  const gw_method *const *all;
  size_t n = gw_methods(&all);
  for (size_t i = 0; i < n; i++) {
    const char *p = all[i]->package;
    if (strncmp(p, "hoso.", 5) != 0 || find(p)) continue;
    if (add_backend(p) != 0) return -1;
  }
  return 0;
}

void gw_upstream_free(void) {
  for (size_t i = 0; i < NB; i++) {
    for (size_t k = 0; k < B[i].n_ch; k++) cli_close(B[i].ch[k]);
    for (size_t k = 0; k < B[i].n_addrs; k++) free(B[i].addrs[k]);
    free(B[i].ch);
    free(B[i].addrs);
  }
  free(B);
  B = NULL;
  NB = 0;
}

/* The channel for a call of m (addresses used in turn) and the request's metadata in md (3
 * entries); NULL with st filled (UNAVAILABLE) when the backend has no address. */
static cli_chan *pick(gw_req *r, const gw_method *m, cli_md md[3], size_t *n_md, backend **bk,
                      cli_status *st) {
  backend *b = *bk = find(m->package);
  if (!b || !b->n_ch) {
    st->code = GRPC_STATUS_UNAVAILABLE;
    snprintf(st->message, sizeof st->message, "no backend address for %s: set %s", m->package,
             b ? b->env : "its HOSO_*_ADDR variable");
    gw_metrics_upstream_error(b ? b->name : m->package, st->code);
    r->upstream_code = st->code;
    return NULL;
  }
  size_t n = 0;
  if (r->authz[0]) md[n++] = (cli_md){"authorization", r->authz};
  md[n++] = (cli_md){"x-request-id", r->rid};
  md[n++] = (cli_md){"x-forwarded-for", r->client};
  *n_md = n;
  return b->ch[atomic_fetch_add_explicit(&b->rr, 1, memory_order_relaxed) % b->n_ch];
}

grpc_status_code gw_call(gw_req *r, const gw_method *m, const ProtobufCMessage *req,
                         ProtobufCMessage **resp, cli_status *st) {
  *resp = NULL;
  cli_md md[3];
  size_t n = 0;
  backend *b;
  cli_chan *ch = pick(r, m, md, &n, &b, st);
  if (!ch) return st->code;
  grpc_status_code code = cli_call(ch, m->path, req, m->output, resp, md, n, r->timeout_ms, st);
  if (code != GRPC_STATUS_OK) gw_metrics_upstream_error(b->name, code);
  r->upstream_code = code;
  return code;
}

struct cli_stream *gw_stream_open(gw_req *r, const gw_method *m, int timeout_ms, cli_status *st) {
  cli_md md[3];
  size_t n = 0;
  backend *b;
  cli_chan *ch = pick(r, m, md, &n, &b, st);
  if (!ch) return NULL;
  cli_stream *s = cli_stream_open(ch, m->path, md, n, timeout_ms);
  if (!s) {
    st->code = GRPC_STATUS_UNAVAILABLE;
    snprintf(st->message, sizeof st->message, "%s: the call could not be started", b->name);
    gw_metrics_upstream_error(b->name, st->code);
    r->upstream_code = st->code;
  }
  return s;
}

/* Whether /readyz checks b: the backends HOSO_GATEWAY_READY_BACKENDS names ("identity,records");
 * without it, those whose address variable is set; when none is, all. */
static int checked(const backend *b, int any_explicit) {
  const char *list = cfg_str("HOSO_GATEWAY_READY_BACKENDS", NULL);
  if (!list) return !any_explicit || b->explicit_addr;
  size_t bl = strlen(b->name);
  for (const char *s = list; *s;) {
    while (*s == ',' || isspace((unsigned char)*s)) s++;
    size_t k = strcspn(s, ", \t");
    if (k == bl && strncmp(s, b->name, k) == 0) return 1;
    s += k;
  }
  return 0;
}

grpc_status_code gw_call_as_client(gw_req *r, const gw_method *m, ProtobufCMessage *req,
                                   int state_changing, ProtobufCMessage **resp, cli_status *st,
                                   int *http_status) {
  *resp = NULL;
  *http_status = 0;
  int refused = gw_auth_before(r, m, req, state_changing, st->message, sizeof st->message);
  if (refused) {
    *http_status = refused;
    st->code = refused == 403 ? GRPC_STATUS_PERMISSION_DENIED : GRPC_STATUS_INVALID_ARGUMENT;
    return st->code;
  }
  grpc_status_code code = gw_call(r, m, r->sub ? r->sub : req, resp, st);
  gw_auth_after(r, m, code, *resp);
  return code;
}

int gw_ready(char *why, size_t n) {
  int any_explicit = 0;
  for (size_t i = 0; i < NB; i++) any_explicit |= B[i].explicit_addr;
  for (size_t i = 0; i < NB; i++) {
    backend *b = &B[i];
    if (!checked(b, any_explicit)) continue;
    /* The reason goes to whoever asks /readyz; where the backends live goes to the log. */
    if (!b->n_addrs) {
      log_warn("readiness: backend %s has no address (set %s)", b->name, b->env);
      snprintf(why, n, "%s is not configured", b->name);
      return 0;
    }
    for (size_t a = 0; a < b->n_addrs; a++) {
      if (!cli_health(b->ch[a * b->per_addr], gw_cfg.ready_timeout_ms)) {
        log_warn("readiness: backend %s at %s is not serving", b->name, b->addrs[a]);
        snprintf(why, n, "%s is not serving", b->name);
        return 0;
      }
    }
  }
  snprintf(why, n, "ready");
  return 1;
}
