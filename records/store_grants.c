/* store_grants.h: read grants and the page of records' own open steps, the SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_grants.h"

int grants_pending_set(srv_ctx *ctx, const char *record_id, const char *transfer_id, const char *unit_id,
                       const char *unit_path) {
  const char *key = srv_printf(ctx, "pending:%s", transfer_id);
  if (db_cmd(ctx->db,
             "UPDATE read_grants SET ended_at = now() WHERE record_id = $1 AND kind = 1 AND ended_at IS NULL "
             "AND ($2 = '' OR key <> $2)",
             2, record_id, unit_id ? key : "") != 0)
    return -1;
  if (!unit_id) return 0;
  return db_cmd(ctx->db,
                "INSERT INTO read_grants (key, record_id, kind, unit_id, unit_path, transfer_id) "
                "VALUES ($1, $2, 1, $3, $4::public.ltree, $5) ON CONFLICT (key) DO UPDATE SET "
                "unit_id = excluded.unit_id, unit_path = excluded.unit_path, ended_at = NULL",
                5, key, record_id, unit_id, unit_path, transfer_id);
}

int grants_secondment_set(srv_ctx *ctx, const char *key, const char *record_id, const char *unit_id,
                          const char *unit_path, const char *until, int ended) {
  return db_cmd(ctx->db,
                "INSERT INTO read_grants (key, record_id, kind, unit_id, unit_path, until, transfer_id, ended_at) "
                "VALUES ($1, $2, 2, $3, $4::public.ltree, $5::date, $1, CASE WHEN $6 THEN now() END) "
                "ON CONFLICT (key) DO UPDATE SET until = excluded.until, "
                "ended_at = CASE WHEN $6 THEN coalesce(read_grants.ended_at, now()) ELSE read_grants.ended_at END",
                6, key, record_id, unit_id, unit_path, until, ended ? "true" : "false");
}

static Hoso__Records__V1__RecordStep *step_new(srv_ctx *ctx, int kind, const char *eff, const char *prev,
                                               const char *ref) {
  Hoso__Records__V1__RecordStep *s = srv_new(ctx, &hoso__records__v1__record_step__descriptor);
  s->kind = kind;
  s->effective_date = srv_strdup(ctx, eff);
  s->previous_date = srv_strdup(ctx, prev);
  s->ref = srv_strdup(ctx, ref);
  return s;
}

/* The record's steps: its own (kind > 0) and one per pending declaration ("id/YYYY-MM-DD,..."). */
static void fill_steps(srv_ctx *ctx, Hoso__Records__V1__RecordSteps *rs, const PGresult *r, int row) {
  int kind = atoi(PQgetvalue(r, row, 4));
  const char *crs = PQgetvalue(r, row, 7);
  size_t n = (kind ? 1 : 0) + (*crs ? 1 : 0);
  for (const char *c = crs; *c; c++) n += *c == ',';
  rs->steps = srv_alloc(ctx, (n ? n : 1) * sizeof *rs->steps);
  if (kind) rs->steps[rs->n_steps++] = step_new(ctx, kind, PQgetvalue(r, row, 5), PQgetvalue(r, row, 6), "");
  for (const char *c = crs; *c;) {
    const char *comma = strchr(c, ','), *end = comma ? comma : c + strlen(c);
    const char *slash = memchr(c, '/', (size_t)(end - c));
    if (slash) {
      char *id = srv_strdup(ctx, c);
      id[slash - c] = 0;
      char *day = srv_strdup(ctx, slash + 1);
      day[end - slash - 1] = 0;
      rs->steps[rs->n_steps++] = step_new(ctx, HOSO__RECORDS__V1__RECORD_STEP_KIND__RECORD_STEP_KIND_VERIFY_DECLARATION,
                                          "", day, id);
    }
    c = comma ? comma + 1 : end;
  }
}

int record_steps_page(srv_ctx *ctx, unsigned long long lo, unsigned long long *hi, long long after, int limit,
                      Hoso__Records__V1__RecordSteps ***out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (*hi == 0) {
    PGresult *x = db_q(ctx->db, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text", 0);
    if (!x) return -1;
    *hi = strtoull(PQgetvalue(x, 0, 0), NULL, 10);
    PQclear(x);
  }
  PGresult *r = db_q(
      ctx->db,
      "WITH changed AS (SELECT record_id FROM record_steps WHERE feed_xid >= $1::xid8 AND feed_xid < $2::xid8 "
      "  UNION SELECT record_id FROM change_requests WHERE feed_xid >= $1::xid8 AND feed_xid < $2::xid8) "
      "SELECT r.id, r.full_name, r.managing_unit_id, r.unit_path::text, coalesce(s.kind, 0), "
      "  coalesce(to_char(s.effective_date, 'YYYY-MM-DD'), ''), coalesce(to_char(s.previous_date, 'YYYY-MM-DD'), ''), "
      "  coalesce((SELECT string_agg(c.id || '/' || to_char((c.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, "
      "    'YYYY-MM-DD'), ',' ORDER BY c.id) FROM change_requests c WHERE c.record_id = r.id AND c.state = 1), '') "
      "FROM changed JOIN records r ON r.id = changed.record_id LEFT JOIN record_steps s ON s.record_id = r.id "
      "WHERE r.id > $3::bigint ORDER BY r.id LIMIT $4::int",
      4, srv_printf(ctx, "%llu", lo), srv_printf(ctx, "%llu", *hi), srv_printf(ctx, "%lld", after),
      srv_printf(ctx, "%d", limit));
  if (!r) return -1;
  int rows = PQntuples(r);
  *out = srv_alloc(ctx, (size_t)(rows ? rows : 1) * sizeof **out);
  for (int i = 0; i < rows; i++) {
    Hoso__Records__V1__RecordSteps *rs = srv_new(ctx, &hoso__records__v1__record_steps__descriptor);
    rs->record_id = srv_strdup(ctx, PQgetvalue(r, i, 0));
    rs->full_name = srv_strdup(ctx, PQgetvalue(r, i, 1));
    rs->unit_id = srv_strdup(ctx, PQgetvalue(r, i, 2));
    rs->unit_path = srv_strdup(ctx, PQgetvalue(r, i, 3));
    fill_steps(ctx, rs, r, i);
    (*out)[(*n)++] = rs;
  }
  PQclear(r);
  return 0;
}
