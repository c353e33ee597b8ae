/* The SQL of the outbox (003_transfers.sql): the rows due for delivery, each only after every
 * earlier row of its record, and their outcome. Run with every unit in scope: delivery is the
 * service's own work, whoever's call committed the row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "outbox.h"

static int rows_of(srv_ctx *ctx, PGresult *r, outbox_row **out, int *n) {
  if (!r) return -1;
  int rows = PQntuples(r);
  *out = srv_alloc(ctx, (size_t)(rows ? rows : 1) * sizeof **out);
  for (int i = 0; i < rows; i++) {
    outbox_row *o = &(*out)[i];
    o->id = srv_strdup(ctx, PQgetvalue(r, i, 0));
    o->transfer_id = srv_strdup(ctx, PQgetvalue(r, i, 1));
    o->record_id = srv_strdup(ctx, PQgetvalue(r, i, 2));
    o->method = srv_strdup(ctx, PQgetvalue(r, i, 3));
    o->attempts = atoi(PQgetvalue(r, i, 5));
    o->rev = srv_strdup(ctx, PQgetvalue(r, i, 6));
    ProtobufCBinaryData b = {0};
    if (srv_bytea_parse(ctx, PQgetvalue(r, i, 4), (size_t)PQgetlength(r, i, 4), &b) != 0) b.len = 0;
    o->request = b.data;
    o->len = b.len;
  }
  *n = rows;
  PQclear(r);
  return 0;
}

int store_outbox_due(srv_ctx *ctx, const char *transfer_id, int max, outbox_row **out, int *n) {
  *out = NULL;
  *n = 0;
  PGresult *r = db_q(ctx->db,
                     "SELECT o.id::text, o.transfer_id::text, o.record_id::text, o.method, o.request, o.attempts, "
                     "o.rev::text FROM outbox o WHERE o.done_at IS NULL AND o.next_attempt_at <= now() "
                     "AND ($1::bigint IS NULL OR o.transfer_id = $1::bigint) "
                     "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.record_id = o.record_id AND p.done_at IS NULL "
                     "  AND p.id < o.id) ORDER BY o.id LIMIT $2::int",
                     2, transfer_id, srv_printf(ctx, "%d", max));
  return rows_of(ctx, r, out, n);
}

int store_outbox_undelivered(srv_ctx *ctx, outbox_row **out, int *n) {
  *out = NULL;
  *n = 0;
  PGresult *r = db_q(ctx->db,
                     "SELECT o.id::text, o.transfer_id::text, o.record_id::text, o.method, o.request, o.attempts, "
                     "o.rev::text FROM outbox o WHERE o.done_at IS NULL ORDER BY o.id FOR UPDATE",
                     0);
  return rows_of(ctx, r, out, n);
}

int store_outbox_rewrite(srv_ctx *ctx, const outbox_row *o, const ProtobufCMessage *req) {
  size_t n = protobuf_c_message_get_packed_size(req);
  uint8_t *buf = srv_alloc(ctx, n ? n : 1);
  protobuf_c_message_pack(req, buf);
  return db_cmd(ctx->db, "UPDATE outbox SET request = $2::bytea, rev = rev + 1 WHERE id = $1::bigint", 2, o->id,
                srv_bytea_text(ctx, buf, n));
}

int store_outbox_merge_seq(srv_ctx *ctx, const char *unit_id, long long *seq) {
  /* Applied before (a late writer's row, re-filed by the follower's sweep): that merge's seq.
   * Being applied now: the change after the cursor, which the follower applies in order. */
  PGresult *r = db_q(ctx->db,
                     "SELECT coalesce((SELECT max(seq) FROM unit_tree_applied WHERE unit_id = $1::bigint "
                     "AND successor_id IS NOT NULL), (SELECT last_seq + 1 FROM unit_tree_cursor))",
                     1, unit_id);
  if (!r) return -1;
  *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return 0;
}

int store_outbox_done(srv_ctx *ctx, const outbox_row *o, int refused, const char *error) {
  /* Not worth a flush of the log: a mark lost in a crash only makes the row delivered again,
   * which records answers without changing anything (the key). A refusal waits for its flush:
   * it tells people something. */
  if (!refused &&
      db_cmd_later(ctx->db, "SELECT set_config('synchronous_commit', 'off', true)", 0, NULL) != 0)
    return -1;
  PGresult *r = db_q(ctx->db,
                     "UPDATE outbox SET done_at = now(), refused = $2::boolean, last_error = $3, attempts = attempts + 1 "
                     "WHERE id = $1::bigint AND done_at IS NULL AND rev = $4::int RETURNING id",
                     4, o->id, refused ? "t" : "f", error ? error : "", o->rev);
  if (!r) return -1;
  /* Another deliverer may have marked it first, or a merge rewritten it since it was read (then
   * it goes again as it is now). */
  int mine = PQntuples(r) == 1;
  PQclear(r);
  if (!mine) return 0;
  if (db_cmd(ctx->db,
             "UPDATE transfers SET undelivered = undelivered - 1, "
             "delivery_error = CASE WHEN $2::boolean THEN $3 ELSE delivery_error END WHERE id = $1::bigint",
             3, o->transfer_id, refused ? "t" : "f", error ? error : "") != 0)
    return -1;
  if (!refused) return 0;
  return db_cmd(ctx->db,
                "INSERT INTO notices (unit_id, unit_path, transfer_id, record_id, kind, text) "
                "SELECT from_unit_id, from_path, id, record_id, 'DELIVERY_FAILED', "
                "'Hồ sơ chưa được chuyển: ' || $2 FROM transfers WHERE id = $1::bigint",
                2, o->transfer_id, error ? error : "");
}

int store_outbox_retry(srv_ctx *ctx, const outbox_row *o, const char *error, long delay_ms) {
  return db_cmd(ctx->db,
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2, "
                "next_attempt_at = now() + $3::bigint * interval '1 millisecond' "
                "WHERE id = $1::bigint AND done_at IS NULL AND rev = $4::int",
                4, o->id, error ? error : "", srv_printf(ctx, "%ld", delay_ms), o->rev);
}

long store_outbox_next_ms(srv_ctx *ctx) {
  /* Not coalesce(greatest(0, ...), -1): greatest() skips a NULL, so an empty outbox gave 0 and
   * the jobs ran back to back, ~125 rounds a second on an idle service. */
  PGresult *r = db_q(ctx->db,
                     "SELECT CASE WHEN min(next_attempt_at) IS NULL THEN -1 "
                     "ELSE greatest(0, extract(epoch FROM min(next_attempt_at) - now()) * 1000)::bigint END "
                     "FROM outbox WHERE done_at IS NULL",
                     0);
  if (!r) return -2;
  long ms = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return ms;
}

/* One process at a time does the background work: a session lock held for a round (released
 * at its end, or with the connection when the process dies). */
#define JOBS_LOCK "hashtext('hoso.transfers.jobs')"

int jobs_lock_take(srv_ctx *ctx) {
  PGresult *r = db_q(ctx->db, "SELECT pg_try_advisory_lock(" JOBS_LOCK ")", 0);
  if (!r) return 0;
  int mine = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  return mine;
}

void jobs_lock_drop(srv_ctx *ctx) { PQclear(db_q(ctx->db, "SELECT pg_advisory_unlock(" JOBS_LOCK ")", 0)); }
