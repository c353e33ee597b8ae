/* The authorization matrix's set of services with HOSO_SERVICE_MTLS=require (authz_mtls.h). */
#include "authz_mtls.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "th_tls.h"

typedef struct {
  char v[12][400];
  const char *p[16];
  size_t n;
} env_t;

static void add(env_t *e, const char *fmt, const char *a) {
  snprintf(e->v[e->n], sizeof e->v[e->n], fmt, a);
  e->p[e->n] = e->v[e->n];
  e->p[++e->n] = NULL;
}

/* The environment of one service of the set: TLS, the rule, its own client certificate
 * (client: a service client id, or "server" for identity, which calls as its callers), the
 * set's addresses, then extra. */
static const char *const *env_of(env_t *e, const authz_mtls *m, const char *client, const char *addrs[3],
                                 const char *const *extra) {
  char f[300];
  e->n = 0;
  th_tls_path(f, sizeof f, m->dir, "server", "pem");
  add(e, "HOSO_TLS_CERT=%s", f);
  th_tls_path(f, sizeof f, m->dir, "server", "key");
  add(e, "HOSO_TLS_KEY=%s", f);
  th_tls_path(f, sizeof f, m->dir, "ca", "pem");
  add(e, "HOSO_TLS_CA=%s", f);
  add(e, "HOSO_SERVICE_MTLS=%s", "require");
  add(e, "HOSO_SERVICE_MTLS_RELAYS=%s", m->relays);
  th_tls_path(f, sizeof f, m->dir, client, "pem");
  add(e, "HOSO_TLS_CLIENT_CERT=%s", f);
  th_tls_path(f, sizeof f, m->dir, client, "key");
  add(e, "HOSO_TLS_CLIENT_KEY=%s", f);
  for (int i = 0; i < 3; i++)
    if (addrs[i]) e->p[e->n] = addrs[i], e->p[++e->n] = NULL;
  size_t base = e->n;
  for (size_t i = 0; extra && extra[i] && base + i < 15; i++) e->p[base + i] = extra[i], e->p[base + i + 1] = NULL;
  return e->p;
}

static cli_chan *chan(const authz_mtls *m, const char *addr, const char *who) {
  char ca[300], cert[300], key[300];
  th_tls_path(ca, sizeof ca, m->dir, "ca", "pem");
  th_tls_path(cert, sizeof cert, m->dir, who ? who : "", "pem");
  th_tls_path(key, sizeof key, m->dir, who ? who : "", "key");
  return cli_open_tls(addr, ca, who ? cert : NULL, who ? key : NULL);
}

int authz_mtls_start(authz_mtls *m, th_world *w, const char *client_id, const char *const *extra_env) {
  memset(m, 0, sizeof *m);
  snprintf(m->dir, sizeof m->dir, "%s/test-logs/authz-mtls-%d", HOSO_BIN_DIR, (int)getpid());
  if (!w->reporting_client_id[0]) {
    fprintf(stderr, "authz_mtls: start the world's reporting first (its service client names a certificate)\n");
    return -1;
  }
  const char *names[] = {client_id, w->records_client_id, w->transfers_client_id, w->reporting_client_id,
                         "hoso-gateway"};
  if (th_tls_make(m->dir, names, sizeof names / sizeof names[0]) != 0) return -1;
  /* records, transfers and reporting pass their callers' tokens on to each other */
  snprintf(m->relays, sizeof m->relays, "%s,%s,%s", w->records_client_id, w->transfers_client_id,
           w->reporting_client_id);
  /* identity is told records' address before records can start */
  int held = -1, rec_port = th_port_hold(&held);
  if (rec_port <= 0) return -1;
  char a_id[96], a_rec[96], a_tr[96];
  snprintf(a_rec, sizeof a_rec, "HOSO_RECORDS_ADDR=127.0.0.1:%d", rec_port);
  env_t e;
  const char *addrs[3] = {a_rec, NULL, NULL};
  if (th_svc_start(&m->svc[MTLS_IDENTITY], "hoso-identity", "HOSO_IDENTITY_ADDR", &w->pg,
                   env_of(&e, m, "server", addrs, extra_env)) != 0)
    return close(held), -1;
  snprintf(a_id, sizeof a_id, "HOSO_IDENTITY_ADDR=%s", m->svc[MTLS_IDENTITY].addr);
  addrs[0] = a_id;
  addrs[1] = NULL;
  if (th_world_service_start_held(w, "records", &m->svc[MTLS_RECORDS],
                                  env_of(&e, m, w->records_client_id, addrs, extra_env), &held, rec_port) != 0)
    return -1;
  addrs[1] = a_rec;
  if (th_world_service_start(w, "transfers", &m->svc[MTLS_TRANSFERS],
                             env_of(&e, m, w->transfers_client_id, addrs, extra_env)) != 0)
    return -1;
  snprintf(a_tr, sizeof a_tr, "HOSO_TRANSFERS_ADDR=%s", m->svc[MTLS_TRANSFERS].addr);
  addrs[2] = a_tr;
  if (th_world_reporting_start(w, &m->svc[MTLS_REPORTING], env_of(&e, m, w->reporting_client_id, addrs, extra_env)) !=
      0)
    return -1;
  for (int i = 0; i < MTLS_N; i++)
    if (!(m->own[i] = chan(m, m->svc[i].addr, client_id)) || !(m->none[i] = chan(m, m->svc[i].addr, NULL)) ||
        !(m->other[i] = chan(m, m->svc[i].addr, "hoso-gateway")))
      return -1;
  return 0;
}

int authz_mtls_stop(authz_mtls *m) {
  int rc = 0;
  for (int i = MTLS_N - 1; i >= 0; i--) {
    cli_close(m->own[i]);
    cli_close(m->none[i]);
    cli_close(m->other[i]);
    if (m->svc[i].pid > 0 && th_svc_stop(&m->svc[i]) != 0) rc = -1;
  }
  if (m->dir[0]) {
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", m->dir);
    if (system(cmd) != 0) rc = -1;
  }
  return rc;
}
