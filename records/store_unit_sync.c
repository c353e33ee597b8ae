/* The SQL of records' unit sync (unit_sync.c): one change of identity's unit-change feed applied
 * under the locked cursor, and records written with a unit path from before a change re-filed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rpc_util.h"
#include "scope.h"
#include "store_unit_sync.h"

/* New prefix for a path under $1 (old), $2 (new). subpath(p, nlevel(p)) is an error rather than
 * the empty path, hence the CASE for the unit itself. */
#define REPREFIX                                                                           \
  "CASE WHEN unit_path = $1::public.ltree THEN $2::public.ltree "                          \
  "ELSE $2::public.ltree || subpath(unit_path, nlevel($1::public.ltree)) END"

static int count_of(PGresult *r, long long *n) {
  if (!r) return -1;
  *n = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return 0;
}

/* Everything filed under old_path now lies under new_path: the records (unit_key, search's
 * subtree key, is generated from unit_path and follows; attachments follow their record by the
 * trigger of migration 007), their change requests, and the versions' access path. */
static int reprefix(srv_ctx *ctx, us_apply *a, const char *old_path, const char *new_path) {
  /* unit_key ranges, not <@: only a btree range is an index condition under row-level security
   * (003_search.sql), and a move should not read every record of the province. */
  const char *lo = srv_printf(ctx, "%s.", old_path), *hi = srv_printf(ctx, "%s/", old_path);
  if (count_of(db_q(ctx->db, "UPDATE records SET unit_path = " REPREFIX " WHERE unit_key >= $3 AND unit_key < $4", 4,
                    old_path, new_path, lo, hi),
               &a->records) != 0)
    return -1;
  /* record_versions.unit_path is the version's access key (row-level security, the scope of
   * GetRecord as_of and ListRecordVersions): it names where the unit that managed the record
   * then sits now, so that unit's staff keep its history and, after a merge, its successor's
   * staff get it. The version itself (data, meta: who, when, why, which unit) is never
   * rewritten. */
  if (count_of(db_q(ctx->db, "UPDATE record_versions SET unit_path = " REPREFIX " WHERE unit_path <@ $1::public.ltree",
                    2, old_path, new_path),
               &a->versions) != 0)
    return -1;
  return count_of(db_q(ctx->db, "UPDATE change_requests SET unit_path = " REPREFIX " WHERE unit_path <@ $1::public.ltree",
                       2, old_path, new_path),
                  &a->requests);
}

/* MERGED: the records managed by `unit` (A) become successor's (B, at new_path), each with a
 * version of its own (action UNIT_MERGED, the merge's decision as the reason, the diff of
 * managing_unit_id) and its audit row (rec_store). *n gets the count. Each record is read and
 * written in a context of its own, emptied after it, on the same connection and so in the same
 * transaction: a unit of thousands of records does not keep every dossier in memory at once. */
static int merge_own_records(srv_ctx *ctx, const char *unit, const char *successor, const char *new_path,
                             const char *reason, long long *n) {
  PGresult *r = db_q(ctx->db, "SELECT id::text FROM records WHERE managing_unit_id = $1::bigint ORDER BY id", 1, unit);
  if (!r) return -1;
  srv_ctx *one = srv_job_new(ctx->db, ctx->method);
  int rc = one ? 0 : srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
    srv_job_reset(one);
    one->auth = ctx->auth;
    one->request_id = ctx->request_id;
    rec_reason *why = srv_new(one, &hoso__records__v1__change_reason__descriptor);
    why->text = srv_strdup(one, *reason ? reason : "unit merged");
    rec_t *old = NULL;
    rc = rec_fetch(one, PQgetvalue(r, i, 0), RIGHT_READ, 1, &old);
    if (rc == 0) {
      rec_t *neu = srv_msg_copy(one, &old->base);
      neu->managing_unit_id = srv_strdup(one, successor);
      neu->managing_unit_path = srv_strdup(one, new_path);
      rc = rec_store(one, old, neu, "UNIT_MERGED", why);
    }
    if (rc == 0) {
      (*n)++;
    } else {
      /* A refusal recorded on the record's context becomes the change's (a database error is
       * on the shared connection, where srv_tx finds it). */
      grpc_status_code code;
      const char *msg = srv_fail_take(one, &code);
      if (msg) srv_fail(ctx, code, "record %s: %s", PQgetvalue(r, i, 0), msg);
    }
  }
  srv_job_free(one);
  PQclear(r);
  return rc;
}

int us_apply_tx(srv_ctx *ctx, void *p) {
  us_apply *a = p;
  const Hoso__Identity__V1__UnitChange *c = a->c;
  a->skipped = 0;
  a->merged = a->records = a->versions = a->requests = 0;
  /* The cursor row, locked until commit: a second records process waits here, then finds the
   * change applied and skips it. */
  PGresult *r = db_q(ctx->db, "SELECT last_seq FROM unit_sync_cursor FOR UPDATE", 0);
  if (!r) return -1;
  long long last = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
  PQclear(r);
  if (last >= c->seq) {
    a->skipped = 1;
    return 0;
  }
  if (last != c->seq - 1) {
    srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "cursor at %lld but the next change is %lld", last, (long long)c->seq);
    return DB_TX_ROLLBACK;
  }
  if (c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MERGED)
    SRV_TRY(merge_own_records(ctx, c->unit_id, c->successor_id, c->new_path, c->reason, &a->merged));
  SRV_TRY(reprefix(ctx, a, c->old_path, c->new_path));

  char seq[32], kind[8], n[4][32];
  snprintf(seq, sizeof seq, "%lld", (long long)c->seq);
  snprintf(kind, sizeof kind, "%d", (int)c->kind);
  snprintf(n[0], sizeof n[0], "%lld", a->merged);
  snprintf(n[1], sizeof n[1], "%lld", a->records);
  snprintf(n[2], sizeof n[2], "%lld", a->versions);
  snprintf(n[3], sizeof n[3], "%lld", a->requests);
  if (db_cmd(ctx->db,
             "INSERT INTO unit_changes_applied (seq, kind, unit_id, old_path, new_path, successor_id, reason, "
             "actor_id, changed_at, merged_records, moved_records, moved_versions, moved_requests) "
             "VALUES ($1::bigint, $2::smallint, $3::bigint, $4::public.ltree, $5::public.ltree, $6::bigint, $7, $8, "
             "$9::timestamptz, $10::bigint, $11::bigint, $12::bigint, $13::bigint)",
             13, seq, kind, c->unit_id, c->old_path, c->new_path, *c->successor_id ? c->successor_id : NULL, c->reason,
             c->actor_id, c->at, n[0], n[1], n[2], n[3]) != 0)
    return -1;
  return db_cmd(ctx->db, "UPDATE unit_sync_cursor SET last_seq = $1::bigint, updated_at = now()", 1, seq) != 0 ? -1
                                                                                                              : 0;
}

int us_look_tx(srv_ctx *ctx, void *p) {
  us_look *l = p;
  PGresult *r = db_q(ctx->db, "SELECT last_seq FROM unit_sync_cursor", 0);
  if (!r) return -1;
  l->cursor = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  char lim[16];
  snprintf(lim, sizeof lim, "%d", US_LOOK_UNITS);
  l->found = db_q(ctx->db,
                  "SELECT DISTINCT managing_unit_id::text, unit_path::text FROM records "
                  "WHERE unit_key >= $1 AND unit_key < $2 LIMIT $3::int",
                  3, srv_printf(ctx, "%s.", l->old_path), srv_printf(ctx, "%s/", l->old_path), lim);
  return l->found ? 0 : -1;
}

int us_refile_tx(srv_ctx *ctx, void *p) {
  us_refile *f = p;
  f->merged = f->records = f->versions = f->requests = 0;
  f->stale_cursor = 0;
  /* Under the cursor lock, and only if no change was applied since identity was asked. */
  PGresult *r = db_q(ctx->db, "SELECT last_seq FROM unit_sync_cursor FOR UPDATE", 0);
  if (!r) return -1;
  f->stale_cursor = strtoll(PQgetvalue(r, 0, 0), NULL, 10) != f->cursor;
  PQclear(r);
  if (f->stale_cursor) return 0;
  if (f->successor)
    SRV_TRY(merge_own_records(ctx, f->unit, f->successor, f->cur, f->reason, &f->merged));
  else if (count_of(db_q(ctx->db,
                         "UPDATE records SET unit_path = $3::public.ltree "
                         "WHERE managing_unit_id = $1::bigint AND unit_path = $2::public.ltree",
                         3, f->unit, f->stale, f->cur),
                    &f->records) != 0)
    return -1;
  /* The unit left this exact path, so whatever is still filed there was filed there for it. */
  if (count_of(db_q(ctx->db, "UPDATE record_versions SET unit_path = $2::public.ltree WHERE unit_path = $1::public.ltree",
                    2, f->stale, f->cur),
               &f->versions) != 0)
    return -1;
  return count_of(db_q(ctx->db, "UPDATE change_requests SET unit_path = $2::public.ltree WHERE unit_path = $1::public.ltree",
                       2, f->stale, f->cur),
                  &f->requests);
}
