/* The reporting facts of records written before migration 030 (an upgraded deployment): a
 * background job makes their periods from their versions, 200 records a round, until none is
 * left; a record written meanwhile gets its periods from rec_store as usual. The same job prunes
 * reporting's change marks (051_report_mark_log.sql) when idle, so the log stays bounded. */
#include <stdio.h>
#include <stdlib.h>
#include "cfg.h"
#include "log.h"
#include "records.h"
#include "store_records.h"

static srv_periodic *job;
static const tok_claims backfill_claims = {.sub = "records", .username = "records (facts backfill)", .scope = "*"};

static int one_tx(srv_ctx *ctx, void *id) { return record_facts_refresh(ctx, (const char *)id); }

typedef struct {
  char ids[200][24];
  int n;
} batch;

static int prune_tx(srv_ctx *ctx, void *n) {
  return (*(long *)n = record_marks_prune(ctx, cfg_int("HOSO_REPORT_MARKS_KEEP_HOURS", 24, 1, 8760))) < 0 ? -1 : 0;
}

static int list_tx(srv_ctx *ctx, void *p) {
  batch *b = p;
  PGresult *r = db_q(ctx->db,
                     "SELECT r.id::text FROM records r WHERE NOT EXISTS "
                     "(SELECT 1 FROM fact_periods f WHERE f.record_id = r.id) ORDER BY r.id LIMIT 200",
                     0);
  if (!r) return -1;
  b->n = PQntuples(r);
  for (int i = 0; i < b->n; i++) snprintf(b->ids[i], sizeof b->ids[i], "%s", PQgetvalue(r, i, 0));
  PQclear(r);
  return 0;
}

static long backfill_round(srv_ctx *ctx, void *unused) {
  (void)unused;
  static batch b; /* one job thread */
  ctx->auth = &backfill_claims;
  ctx->request_id = "facts-backfill";
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", list_tx, &b) != 0) {
    log_warn("facts backfill: the database did not answer; trying again in a minute");
    return 60000;
  }
  int done = 0;
  for (int i = 0; i < b.n; i++) {
    if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", one_tx, b.ids[i]) == 0) done++;
    srv_job_reset(ctx);
    ctx->auth = &backfill_claims;
    ctx->request_id = "facts-backfill";
  }
  if (b.n) log_info("facts backfill: %d of %d records given their reporting facts", done, b.n);
  if (b.n < 200) {
    long pruned = 0;
    if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", prune_tx, &pruned) != 0)
      log_warn("reporting's change marks: the prune did not run; trying again at the next round");
    else if (pruned > 0)
      log_info("reporting's change marks: %ld older than the horizon pruned", pruned);
    srv_job_reset(ctx);
  }
  /* until every record has its facts; then rarely (only an older release writes a record
   * without them) */
  return b.n == 200 ? 0 : b.n ? 1000 : cfg_int("HOSO_FACTS_BACKFILL_IDLE_MS", 3600000, 100, 86400000);
}

int rec_facts_backfill_start(void) {
  return (job = srv_periodic_start("facts-backfill", "records", backfill_round, NULL, 2000)) ? 0 : -1;
}

void rec_facts_backfill_stop(void) {
  srv_periodic_stop(job);
  job = NULL;
}
