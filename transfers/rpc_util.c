/* What every transfers handler checks the same way (a decision, a scan, a reason), the sides of
 * a transfer, its audit row, and the transfer as a reply shows it (with its deadline judged on
 * today). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "transfers.h"
#include "val.h"

#define FUTURE_DAYS_MAX 366

int tr_check_decision(srv_ctx *ctx, const char *field, const tr_decision_t *in, tr_decision_t **out) {
  *out = NULL;
  if (!in)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s: required: the decision (number, effective_date) the transfer rests on", field);
  tr_decision_t *d = srv_new(ctx, &hoso__transfers__v1__decision__descriptor);
  const char *v;
  if (srv_clean_text(ctx, srv_printf(ctx, "%s.number", field), in->number, 1, TR_LINE_MAX, &v)) return -1;
  d->number = (char *)v;
  if (srv_clean_text(ctx, srv_printf(ctx, "%s.issuer", field), in->issuer, 0, TR_LINE_MAX, &v)) return -1;
  d->issuer = (char *)v;
  wd_day eff, signed_on, today;
  char t[11];
  settings_today(t);
  wd_parse(t, &today);
  if (!in->effective_date || !*in->effective_date)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.effective_date: required: the day the decision takes effect "
                    "(deadlines count from it)", field);
  if (wd_parse(in->effective_date, &eff) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.effective_date: must be a date YYYY-MM-DD", field);
  if (eff > today + FUTURE_DAYS_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s.effective_date: %s is more than a year ahead; enter the transfer when its decision is near",
                    field, in->effective_date);
  d->effective_date = srv_strdup(ctx, in->effective_date);
  if (in->date && *in->date) {
    if (wd_parse(in->date, &signed_on) != 0)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.date: must be a date YYYY-MM-DD", field);
    if (signed_on > today)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.date: %s is in the future; a decision is signed before "
                      "it is entered", field, in->date);
    d->date = srv_strdup(ctx, in->date);
  } else {
    d->date = "";
  }
  *out = d;
  return 0;
}

int tr_check_scan(srv_ctx *ctx, const char *field, const Hoso__Transfers__V1__Scan *in, const char **type,
                  const char **file_name) {
  *type = NULL;
  *file_name = NULL;
  if (!in) return 0;
  if (in->content.len == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.content: empty; attach the scanned document", field);
  if (in->content.len > TR_SCAN_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.content: %zu bytes; a scan may have at most %d", field,
                    in->content.len, TR_SCAN_MAX);
  if (!(*type = val_scan_type(in->content.data, in->content.len)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.content: only PDF, JPEG or PNG scans are accepted (detected: "
                    "%s)", field, val_scan_describe(in->content.data, in->content.len));
  const char *name;
  if (srv_clean_text(ctx, srv_printf(ctx, "%s.file_name", field), in->file_name, 1, TR_LINE_MAX, &name)) return -1;
  if (strpbrk(name, "/\\"))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.file_name: a file name, without / or \\", field);
  *file_name = name;
  return 0;
}

int tr_check_reason(srv_ctx *ctx, const char *in, int required, const char **out) {
  return srv_clean_prose(ctx, "reason", in, required, TR_TEXT_MAX, out);
}

const char *tr_side_unit(const tr_row *r, flow_side side) {
  switch (side) {
  case SIDE_FROM: return r->t->from_unit_id;
  case SIDE_TO: return r->t->to_unit_id;
  case SIDE_FINAL: return r->t->final_unit_id;
  default: return "";
  }
}

const char *tr_side_path(const tr_row *r, flow_side side) {
  switch (side) {
  case SIDE_FROM: return r->from_path;
  case SIDE_TO: return r->to_path;
  case SIDE_FINAL: return r->final_path;
  default: return "";
  }
}

int tr_audit(srv_ctx *ctx, const tr_row *r, const char *action, json_t *detail) {
  if (!detail) return srv_fail_internal(ctx);
  json_object_set_new(detail, "record_id", json_string(r->t->record_id));
  json_object_set_new(detail, "state", json_string(flow_state_name(r->t->state)));
  audit_entry e = {.action = action, .target_type = "transfer", .target_id = r->t->id, .unit_path = r->from_path};
  return srv_audit(ctx, &e, detail);
}

/* ------------------------------------------------------------ the reply ----------------- */

void tr_judge(const tr_settings *s, transfer_t *t, const char *today) {
  wd_day now, due;
  t->overdue = 0;
  t->working_days_left = 0;
  if (!t->due_date || !*t->due_date || wd_parse(t->due_date, &due) != 0 || wd_parse(today, &now) != 0) return;
  t->overdue = now > due;
  t->working_days_left = wd_left(s->cal, now, due, NULL);
}

typedef struct {
  const char *id;
  transfer_t *out;
} reply_st;

static int reply_tx(srv_ctx *ctx, void *p) {
  reply_st *st = p;
  tr_row *r;
  const tr_settings *s;
  SRV_TRY(store_transfer_get(ctx, st->id, 0, &r));
  SRV_TRY(settings_get(ctx, &s));
  char today[11];
  settings_today(today);
  tr_judge(s, r->t, today);
  st->out = r->t;
  return 0;
}

int tr_reply(srv_ctx *ctx, const char *id, transfer_t **out) {
  reply_st st = {.id = id};
  /* The caller acted on it a moment ago, possibly as the side that no longer sees it now (a
   * record received by another unit stays visible to both: the transfer names them). */
  if (srv_tx(ctx, DB_READ_COMMITTED, reply_tx, &st) != 0) return -1;
  *out = st.out;
  return 0;
}
