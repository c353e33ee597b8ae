/* What records offers the transfers service beside SetManagingUnit (rpc_status.c): read grants
 * (a secondment's host unit reads the record until the end date, 001 Đ7.10) and the feed of
 * records' own open steps, whose deadlines the transfers service counts and lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "records.h"
#include "store_grants.h"
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

int record_step_unit_path(srv_ctx *ctx, const char *field, const char *unit_id, char path[UNIT_TREE_PATH_MAX]) {
  if (unit_tree_path(ctx, field, unit_id, path) == 0) return 0;
  grpc_status_code code = GRPC_STATUS_INTERNAL;
  const char *m = srv_fail_take(ctx, &code);
  if (code != GRPC_STATUS_FAILED_PRECONDITION) return srv_fail(ctx, code, "%s", m);
  return srv_fail(ctx, GRPC_STATUS_ABORTED,
                  "%s; the step was decided before the merge: the transfers service gives it to the successor once "
                  "it has followed the merge, then sends it again",
                  m);
}

/* ------------------------------------------------------------ SetReadGrant -------------- */

typedef struct {
  const Hoso__Records__V1__SetReadGrantRequest *in;
  char path[UNIT_TREE_PATH_MAX];
} grant_st;

static int grant_tx(srv_ctx *ctx, void *p) {
  grant_st *st = p;
  rec_t *rec;
  SRV_TRY(record_fetch(ctx, st->in->record_id, RIGHT_READ, RECORD_LOCK | RECORD_ANY_STATUS, &rec));
  const char *until = *str(st->in->until) ? st->in->until : NULL;
  SRV_TRY(grants_secondment_set(ctx, st->in->key, rec->id, st->in->unit_id, st->path, until, st->in->ended));
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
  if (record_step_unit_path(ctx, "unit_id", in->unit_id, st.path)) return -1;
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

static int feed_tx(srv_ctx *ctx, void *p) {
  feed_st *st = p;
  Hoso__Records__V1__ListRecordStepsResponse *o = st->out;
  SRV_TRY(record_steps_page(ctx, st->pos.lo, &st->pos.hi, st->pos.after, st->limit, &o->records, &o->n_records));
  o->more = (int)o->n_records == st->limit;
  if (o->more)
    o->next = srv_printf(ctx, "%llu:%llu:%s", st->pos.lo, st->pos.hi, o->records[o->n_records - 1]->record_id);
  else
    o->next = srv_printf(ctx, "%llu:0:0", st->pos.hi);
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
