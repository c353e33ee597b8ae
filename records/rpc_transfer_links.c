/* What records offers the transfers service beside SetManagingUnit (rpc_status.c): read grants
 * (a secondment's host unit reads the record until the end date, 001 Đ7.10) and the feed of
 * records' own open steps, whose deadlines the transfers service counts and lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "records.h"
#include "scope.h"
#include "unit_tree.h"
#include "val.h"

#define KEY_MAX_CHARS 128

static const char *str(const char *s) { return s ? s : ""; }

static int only_transfers(srv_ctx *ctx, const char *method) {
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (!record_is_transfers_service(ctx))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "%s is reserved for the transfers service", method);
  return 0;
}

/* ------------------------------------------------------------ SetReadGrant -------------- */

/* An ended grant stays ended: a late retry of the grant's start, delivered after its end,
 * must not open it again. */

typedef struct {
  const Hoso__Records__V1__SetReadGrantRequest *in;
  char path[UNIT_TREE_PATH_MAX];
} grant_st;

static int grant_tx(srv_ctx *ctx, void *p) {
  grant_st *st = p;
  rec_t *rec;
  SRV_TRY(record_fetch(ctx, st->in->record_id, RIGHT_READ, RECORD_LOCK | RECORD_ANY_STATUS, &rec));
  const char *until = *str(st->in->until) ? st->in->until : NULL;
  if (db_cmd(ctx->db,
             "INSERT INTO read_grants (key, record_id, kind, unit_id, unit_path, until, transfer_id, ended_at) "
             "VALUES ($1, $2, 2, $3, $4::public.ltree, $5::date, $1, CASE WHEN $6 THEN now() END) "
             "ON CONFLICT (key) DO UPDATE SET until = excluded.until, "
             "ended_at = CASE WHEN $6 THEN coalesce(read_grants.ended_at, now()) ELSE read_grants.ended_at END",
             6, st->in->key, rec->id, st->in->unit_id, st->path, until, st->in->ended ? "true" : "false") != 0)
    return -1;
  audit_entry e = {.action = "RECORD_READ_GRANT", .target_type = "record", .target_id = rec->id,
                   .unit_path = rec->managing_unit_path};
  return srv_audit(ctx, &e,
                   json_pack("{s:s, s:s, s:s, s:b}", "key", st->in->key, "unit_id", st->in->unit_id, "until",
                             until ? until : "", "ended", st->in->ended));
}

int rpc_set_read_grant(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__SetReadGrantRequest *in = (const void *)req;
  grant_st st = {.in = in};
  const char *e;
  if (srv_check_id(ctx, "record_id", in->record_id) || srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  if (*str(in->until) && (e = val_date(in->until)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "until: %s", e);
  if ((e = val_text(str(in->key), 1, KEY_MAX_CHARS))) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "key: %s", e);
  if (only_transfers(ctx, "SetReadGrant")) return -1;
  if (unit_tree_path(ctx, "unit_id", in->unit_id, st.path)) return -1;
  if (!scope_allows(ctx->auth, st.path, RIGHT_READ))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside the transfers service's grant",
                    in->unit_id);
  if (srv_tx(ctx, DB_READ_COMMITTED, grant_tx, &st) != 0) return -1;
  Hoso__Records__V1__SetReadGrantResponse *o = srv_new(ctx, &hoso__records__v1__set_read_grant_response__descriptor);
  o->record_id = in->record_id;
  o->unit_id = in->unit_id;
  o->until = (char *)str(in->until);
  o->ended = in->ended;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ ListRecordSteps ----------- */

/* A position is "lo:hi:after": the window of writing transactions [lo, hi) being read (hi 0:
 * not chosen yet) and the last record id of it given out. A window's upper end is the oldest
 * transaction still running when it is chosen, so every row of the window is committed (or
 * gone) and none can appear in it later; the next window starts there. */
typedef struct {
  unsigned long long lo, hi;
  long long after;
} feed_pos;

static int pos_parse(const char *s, feed_pos *p) {
  *p = (feed_pos){0};
  if (!s || !*s) return 0;
  char tail;
  return sscanf(s, "%llu:%llu:%lld%c", &p->lo, &p->hi, &p->after, &tail) == 3 && p->after >= 0 ? 0 : -1;
}

typedef struct {
  feed_pos pos;
  int limit;
  Hoso__Records__V1__ListRecordStepsResponse *out;
} feed_st;

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

static int feed_tx(srv_ctx *ctx, void *p) {
  feed_st *st = p;
  if (st->pos.hi == 0) {
    PGresult *x = db_q(ctx->db, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text", 0);
    if (!x) return -1;
    st->pos.hi = strtoull(PQgetvalue(x, 0, 0), NULL, 10);
    PQclear(x);
  }
  char lo[24], hi[24], after[24], lim[16];
  snprintf(lo, sizeof lo, "%llu", st->pos.lo);
  snprintf(hi, sizeof hi, "%llu", st->pos.hi);
  snprintf(after, sizeof after, "%lld", st->pos.after);
  snprintf(lim, sizeof lim, "%d", st->limit);
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
      4, lo, hi, after, lim);
  if (!r) return -1;
  int n = PQntuples(r);
  Hoso__Records__V1__ListRecordStepsResponse *o = st->out;
  o->records = srv_alloc(ctx, (size_t)(n ? n : 1) * sizeof *o->records);
  for (int i = 0; i < n; i++) {
    Hoso__Records__V1__RecordSteps *rs = srv_new(ctx, &hoso__records__v1__record_steps__descriptor);
    rs->record_id = srv_strdup(ctx, PQgetvalue(r, i, 0));
    rs->full_name = srv_strdup(ctx, PQgetvalue(r, i, 1));
    rs->unit_id = srv_strdup(ctx, PQgetvalue(r, i, 2));
    rs->unit_path = srv_strdup(ctx, PQgetvalue(r, i, 3));
    fill_steps(ctx, rs, r, i);
    o->records[o->n_records++] = rs;
  }
  o->more = n == st->limit;
  if (o->more)
    o->next = srv_printf(ctx, "%llu:%llu:%s", st->pos.lo, st->pos.hi, o->records[n - 1]->record_id);
  else
    o->next = srv_printf(ctx, "%llu:0:0", st->pos.hi);
  PQclear(r);
  return 0;
}

int rpc_list_record_steps(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ListRecordStepsRequest *in = (const void *)req;
  feed_st st = {.limit = in->page_size ? in->page_size : 500};
  if (pos_parse(in->after, &st.pos) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "after: not a position this feed gave; start again from empty");
  if (st.limit < 1 || st.limit > 1000)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 1 and 1000");
  if (only_transfers(ctx, "ListRecordSteps")) return -1;
  st.out = srv_new(ctx, &hoso__records__v1__list_record_steps_response__descriptor);
  /* Names and dates of open steps, what ListDeadlines shows and audits; a poll every few seconds
   * writes no audit row of its own. */
  if (srv_tx(ctx, DB_READ_COMMITTED, feed_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
