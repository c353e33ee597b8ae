/* The reporting service's second connection per worker: to records' published views, possibly
 * on a streaming replica (HOSO_REPORTING_PG_DSN), opened on a worker's first report and closed
 * at exit. */
#include <pthread.h>
#include <stdlib.h>
#include "cfg.h"
#include "log.h"
#include "reporting.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static db_conn *all[256];
static int n_all;
static __thread db_conn *mine;

static void close_all(void) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_all; i++) db_close(all[i]);
  n_all = 0;
  pthread_mutex_unlock(&lock);
}

static db_conn *reader(void) {
  if (mine) return mine;
  const char *dsn = cfg_str("HOSO_REPORTING_PG_DSN", NULL);
  if (!dsn || !*dsn) dsn = cfg_str("HOSO_PG_DSN", "");
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
  ctx->db = r;
  int rc = srv_tx(ctx, DB_REPEATABLE_READ, fn, arg);
  ctx->db = primary;
  return rc;
}
