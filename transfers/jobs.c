/* The service's background work, run by one process at a time however many are started (an
 * advisory lock per round, released at its end or with the connection): the outbox's delivery
 * of what handlers could not deliver at once, the copy of records' own steps into the deadlines,
 * and the secondments' alerts and ends. */
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "log.h"
#include "outbox.h"

#define STEP_PAGES_PER_ROUND 20

static srv_periodic *job;
static tok_claims claims;

static int next_tx(srv_ctx *ctx, void *p) {
  long *ms = p;
  *ms = store_outbox_next_ms(ctx);
  return *ms < -1 ? -1 : 0;
}

static long round_of_work(srv_ctx *ctx, void *arg) {
  (void)arg;
  long poll = cfg_int("HOSO_TRANSFERS_JOBS_MS", 1000, 20, 60000);
  svc_client *c = tr_client();
  if (!c) return 60000;
  if (svc_client_login(c, &claims) != 0) return poll;
  ctx->auth = &claims;
  ctx->request_id = "transfers-jobs";
  if (db_ensure(ctx->db) != 0) return poll;
  if (!jobs_lock_take(ctx)) return poll;
  grpc_status_code code;
  outbox_deliver(ctx, NULL, 256);
  srv_fail_take(ctx, &code);
  for (int i = 0; i < STEP_PAGES_PER_ROUND; i++) {
    int more = record_steps_sync(ctx);
    srv_fail_take(ctx, &code);
    srv_job_reset(ctx);
    ctx->auth = &claims;
    ctx->request_id = "transfers-jobs";
    if (more != 1) break;
  }
  secondments_tick(ctx);
  srv_fail_take(ctx, &code);
  long next = poll, due = -1;
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", next_tx, &due) == 0 && due >= 0 && due < next) next = due;
  srv_fail_take(ctx, &code);
  jobs_lock_drop(ctx);
  return next;
}

int jobs_start(void) {
  if (!tr_client()) {
    log_warn("transfers: HOSO_TRANSFERS_CLIENT_ID / _SECRET not set: no delivery to records, no records' deadlines");
    return 0;
  }
  job = srv_periodic_start("transfers-jobs", "transfers", round_of_work, NULL, 200);
  return job ? 0 : -1;
}

void jobs_stop(void) {
  srv_periodic_stop(job);
  job = NULL;
}
