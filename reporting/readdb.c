/* The reporting service's second connection per worker: to records' published views, possibly
 * on a streaming replica (HOSO_REPORTING_PG_DSN), opened on a worker's first report and closed
 * at exit; its role checked, as the services' own role is (common/srv_schema.c). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "cfg.h"
#include "log.h"
#include "reporting.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static db_conn *all[256];
static int n_all;
static __thread db_conn *mine;
static __thread int mine_fit;

static const char *read_dsn(void) {
  const char *dsn = cfg_str("HOSO_REPORTING_PG_DSN", NULL);
  return dsn && *dsn ? dsn : cfg_str("HOSO_PG_DSN", "");
}

/* Every number is limited by row-level security behind the service's own scope check, so the
 * read role must be one the policies apply to, and one that cannot change what it reads:
 * neither a superuser nor a role that bypasses row-level security, nor one that may create in
 * records' schema (its owner). 1 fit, 0 not (logged), -1 database error. */
static int role_fit(db_conn *c) {
  PGresult *r = db_q(c,
                     "SELECT current_user, rolsuper OR rolbypassrls, "
                     "COALESCE((SELECT has_schema_privilege(n.oid, 'CREATE') FROM pg_namespace n "
                     "WHERE n.nspname = 'records'), false) FROM pg_roles WHERE rolname = current_user",
                     0);
  if (!r) return -1;
  int fit = 1;
  if (PQntuples(r) != 1) {
    fit = -1;
  } else if (PQgetvalue(r, 0, 1)[0] == 't' || PQgetvalue(r, 0, 2)[0] == 't') {
    log_error("HOSO_REPORTING_PG_DSN connects as %s, %s: connect reporting's reads as a role that only reads "
              "records' published views (hoso_report; docs/OPERATIONS.md)",
              PQgetvalue(r, 0, 0),
              PQgetvalue(r, 0, 1)[0] == 't' ? "a superuser or a role that bypasses row-level security"
                                            : "which may change records' schema");
    fit = 0;
  }
  PQclear(r);
  return fit;
}

int rp_read_role_check(void) {
  db_conn *c = db_open(read_dsn(), "records");
  if (!c) return -1;
  int rc = 0;
  if (db_ensure(c) != 0)
    log_warn("reporting: the read database is not reachable yet (%s); reports answer UNAVAILABLE until it is",
             db_err_message(c));
  else if (role_fit(c) == 0)
    rc = -1;
  db_close(c);
  return rc;
}

static void close_all(void) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_all; i++) db_close(all[i]);
  n_all = 0;
  pthread_mutex_unlock(&lock);
}

static db_conn *reader(void) {
  if (mine) return mine;
  const char *dsn = read_dsn();
  pthread_mutex_lock(&lock);
  if (n_all == 0) atexit(close_all);
  if (n_all < (int)(sizeof all / sizeof *all) && (mine = db_open(dsn, "records"))) all[n_all++] = mine;
  pthread_mutex_unlock(&lock);
  return mine;
}

int rp_read_tx(srv_ctx *ctx, srv_tx_fn fn, void *arg) {
  db_conn *r = reader(), *primary = ctx->db;
  if (!r) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
  if (db_ensure(r) != 0) {
    log_warn("reporting: the read database is unreachable: %s", db_err_message(r));
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "the reporting database is unavailable; retry");
  }
  if (!mine_fit && (mine_fit = role_fit(r)) != 1) {
    mine_fit = 0;
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE,
                    "the reporting database connection is not set up for reports; the operator must fix it");
  }
  ctx->db = r;
  int rc = srv_tx(ctx, DB_REPEATABLE_READ, fn, arg);
  ctx->db = primary;
  return rc;
}
