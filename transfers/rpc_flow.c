/* The workflow's actions on a transfer (flow.h says which apply when, and to whom): approve or
 * refuse a pull, send, receive, reject, forward, cancel. Each is one transaction — the state,
 * the steps and their deadlines, the outbox row of the move records must make, the other side's
 * notice, the audit row — and then the move's delivery, so the reply usually shows it made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fault.h"
#include "idem.h"
#include "log.h"
#include "scope.h"
#include "transfers.h"

#define RS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x

static const char *str(const char *s) { return s ? s : ""; }

static const char *side_name(flow_side s) {
  switch (s) {
  case SIDE_FROM: return "the sending unit";
  case SIDE_TO: return "the receiving unit";
  case SIDE_FINAL: return "the final unit";
  default: return "the service";
  }
}

/* The notice in a unit's inbox, in Vietnamese for the people who read it. */
static const char *notice_text(srv_ctx *ctx, const tr_row *r, const char *kind) {
  const char *who = str(r->t->record_name);
  if (!strcmp(kind, "SENT")) return srv_printf(ctx, "Hồ sơ %s được chuyển đến đơn vị; đề nghị tiếp nhận.", who);
  if (!strcmp(kind, "RECEIVED")) return srv_printf(ctx, "Hồ sơ %s đã được đơn vị nhận tiếp nhận.", who);
  if (!strcmp(kind, "REJECTED")) return srv_printf(ctx, "Hồ sơ %s bị từ chối tiếp nhận.", who);
  if (!strcmp(kind, "CANCELLED")) return srv_printf(ctx, "Việc điều chuyển hồ sơ %s đã bị hủy.", who);
  if (!strcmp(kind, "APPROVED")) return srv_printf(ctx, "Đề nghị chuyển hồ sơ %s đã được đồng ý.", who);
  if (!strcmp(kind, "REFUSED")) return srv_printf(ctx, "Đề nghị chuyển hồ sơ %s bị từ chối.", who);
  if (!strcmp(kind, "REQUESTED")) return srv_printf(ctx, "Có đề nghị chuyển hồ sơ %s bằng văn bản.", who);
  if (!strcmp(kind, "MOVED")) return srv_printf(ctx, "Hồ sơ %s đã được chuyển đến bộ phận.", who);
  if (!strcmp(kind, "SECONDED")) return srv_printf(ctx, "%s được biệt phái đến đơn vị đến hết ngày %s.", who, str(r->t->end_date));
  if (!strcmp(kind, "SECONDMENT_ENDED")) return srv_printf(ctx, "Thời gian biệt phái của %s đã kết thúc.", who);
  return srv_printf(ctx, "Hồ sơ %s: %s.", who, kind);
}

int tr_notify(srv_ctx *ctx, const tr_row *r, unsigned sides, const char *kind) {
  static const flow_side all[] = {SIDE_FROM, SIDE_TO, SIDE_FINAL};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if ((sides & all[i]) && *tr_side_unit(r, all[i]))
      SRV_TRY(store_notice_add(ctx, r, tr_side_unit(r, all[i]), tr_side_path(r, all[i]), kind, notice_text(ctx, r, kind)));
  return 0;
}

/* ------------------------------------------------------------ one transition ------------ */

typedef struct {
  const char *id;
  flow_action a;
  const tr_act *act;
  tr_row *r;
  flow_t f;
} trans_st;

/* What a transition writes once it is allowed: the action's own work, the step closed and the
 * one opened, the transfer, the move for records, the notices, the audit row. */
static int transition_writes(srv_ctx *ctx, void *p) {
  trans_st *st = p;
  const tr_act *act = st->act;
  tr_row *r = st->r;
  transfer_t *t = r->t;
  const flow_t *f = &st->f;
  if (act->extra) SRV_TRY(act->extra(ctx, r, act->extra_arg));
  const char *why_text = act->reason && *act->reason ? act->reason : str(act->note);
  if (f->outcome) SRV_TRY(store_step_close(ctx, r, f->outcome, why_text));
  t->state = f->next_state;
  if (act->note && *act->note) t->note = (char *)act->note;
  SRV_TRY(store_transfer_save(ctx, r));
  if (f->open_step) {
    const tr_settings *s;
    SRV_TRY(settings_get(ctx, &s));
    SRV_TRY(store_step_open(ctx, r, s, f->open_step, tr_side_unit(r, f->open_at), tr_side_path(r, f->open_at),
                            f->open_step == SK(SECONDMENT_END) ? t->end_date : NULL));
  }
  SRV_TRY(tr_queue_move(ctx, r, f->move));
  if (f->notice) SRV_TRY(tr_notify(ctx, r, f->notify, f->notice));
  return tr_audit(ctx, r, srv_printf(ctx, "TRANSFER_%s", flow_action_name(st->a)),
                  json_pack("{s:s, s:s, s:I}", "reason", str(act->reason), "note", str(act->note), "version",
                            (json_int_t)t->version));
}

static int transition_tx(srv_ctx *ctx, void *p) {
  trans_st *st = p;
  const tr_act *act = st->act;
  char prev[64];
  int seen = idem_begin(ctx, act->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 1) return 0;

  tr_row *r;
  SRV_TRY(store_transfer_get(ctx, st->id, 1, &r));
  transfer_t *t = r->t;
  if (act->expected_version && act->expected_version != t->version)
    return SRV_FAIL(ctx, GRPC_STATUS_ABORTED,
                    "expected_version: transfer %s was changed by someone else (now version %lld); reload and retry",
                    t->id, (long long)t->version);
  int has_final = *str(t->final_unit_id) && strcmp(t->final_unit_id, str(t->to_unit_id)) != 0;
  flow_t f;
  const char *why;
  if (flow_next(t->kind, t->state, st->a, has_final, &f, &why) != 0)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "transfer_id: transfer %s is %s: %s", t->id,
                    flow_state_name(t->state), why);
  if (f.actor == SIDE_SYSTEM ? !act->system
                             : act->system || !scope_allows(ctx->auth, tr_side_path(r, f.actor), RIGHT_UPDATE))
    return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "transfer_id: to %s transfer %s now needs the UPDATER role of %s (unit %s) or a unit above it",
                    flow_action_name(st->a), t->id, side_name(f.actor), tr_side_unit(r, f.actor));
  /* Decided: the writes reach the other side's units too (its step, its deadline, its notice). */
  st->r = r;
  st->f = f;
  SRV_TRY(srv_all_units(ctx, transition_writes, st));
  fault_point(srv_printf(ctx, "%s.before_commit", flow_action_name(st->a)));
  return idem_done(ctx, act->request_id, t->id);
}

int tr_transition(srv_ctx *ctx, const char *id, flow_action a, const tr_act *act, transfer_t **out) {
  trans_st st = {.id = id, .a = a, .act = act};
  if (srv_tx(ctx, DB_READ_COMMITTED, transition_tx, &st) != 0) return -1;
  fault_point(srv_printf(ctx, "%s.after_commit", flow_action_name(a)));
  outbox_deliver(ctx, id, 8);
  return out ? tr_reply(ctx, id, out) : 0;
}

/* ------------------------------------------------------------ the handlers -------------- */

/* What every action request carries: the transfer, the expected version, a request id. */
static int check_common(srv_ctx *ctx, const char *id, int64_t expected, const char *request_id) {
  if (srv_check_id(ctx, "transfer_id", id) || srv_check_request_id(ctx, request_id)) return -1;
  if (expected < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "expected_version: must not be negative");
  return srv_need_right(ctx, RIGHT_UPDATE, 0, "transfers are handled by the UPDATER role of the units concerned");
}

#define REPLY(type, desc)                 \
  do {                                    \
    type *o_ = srv_new(ctx, &desc);       \
    o_->transfer = out;                   \
    *resp = &o_->base;                    \
    return 0;                             \
  } while (0)

/* A scan kept with the transfer in the action's transaction. */
typedef struct {
  const char *kind, *type, *file_name;
  const ProtobufCBinaryData *content;
  tr_decision_t *decision; /* APPROVE: the decision the send rests on */
  int scan_required;       /* SEND of a transfer between units: 001 Đ10.2 */
  const char *final_unit_id, *final_path;
} extra_st;

static int add_scan(srv_ctx *ctx, tr_row *r, extra_st *x) {
  if (!x->type) return 0;
  tr_document_t *d;
  SRV_TRY(store_document_add(ctx, r->t->id, x->kind, x->file_name, x->type, x->content->data, x->content->len, &d));
  r->t->decision->scan_document_id = d->id;
  return 0;
}

static int approve_extra(srv_ctx *ctx, tr_row *r, void *p) {
  extra_st *x = p;
  x->decision->scan_document_id = "";
  r->t->decision = x->decision;
  r->effective_date = x->decision->effective_date;
  return add_scan(ctx, r, x);
}

static int send_extra(srv_ctx *ctx, tr_row *r, void *p) {
  extra_st *x = p;
  int between = r->t->kind == TK(BETWEEN_UNITS) || r->t->kind == TK(PULL);
  if (between && !x->type && !*str(r->t->decision->scan_document_id))
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "decision_scan: required: the decision's scan goes with the record (001 Đ10.2); attach it");
  return add_scan(ctx, r, x);
}

static int forward_extra(srv_ctx *ctx, tr_row *r, void *p) {
  extra_st *x = p;
  if (x->final_unit_id) {
    r->t->final_unit_id = (char *)x->final_unit_id;
    r->final_path = x->final_path;
  }
  if (!*str(r->t->final_unit_id))
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "final_unit_id: required: the unit that will use the person");
  if (!strcmp(r->t->final_unit_id, str(r->t->to_unit_id)) || !strcmp(r->t->final_unit_id, r->t->from_unit_id))
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "final_unit_id: unit %s already has the record or sent it; forward to another unit",
                    r->t->final_unit_id);
  return 0;
}

int rpc_approve_request(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ApproveRequestRequest *in = (const void *)req;
  extra_st x = {.kind = "DECISION"};
  tr_act act = {.note = in->note, .expected_version = in->expected_version, .request_id = in->request_id,
                .extra = approve_extra, .extra_arg = &x};
  if (tr_check_decision(ctx, "decision", in->decision, &x.decision) ||
      tr_check_scan(ctx, "decision_scan", in->decision_scan, &x.type, &x.file_name) ||
      srv_clean_prose(ctx, "note", in->note, 0, TR_TEXT_MAX, &act.note) ||
      check_common(ctx, in->transfer_id, in->expected_version, in->request_id))
    return -1;
  if (in->decision_scan) x.content = &in->decision_scan->content;
  transfer_t *out;
  if (tr_transition(ctx, in->transfer_id, FLOW_APPROVE, &act, &out) != 0) return -1;
  REPLY(Hoso__Transfers__V1__ApproveRequestResponse, hoso__transfers__v1__approve_request_response__descriptor);
}

int rpc_refuse_request(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__RefuseRequestRequest *in = (const void *)req;
  tr_act act = {.expected_version = in->expected_version, .request_id = in->request_id};
  if (tr_check_reason(ctx, in->reason, 1, &act.reason) ||
      check_common(ctx, in->transfer_id, in->expected_version, in->request_id))
    return -1;
  transfer_t *out;
  if (tr_transition(ctx, in->transfer_id, FLOW_REFUSE, &act, &out) != 0) return -1;
  REPLY(Hoso__Transfers__V1__RefuseRequestResponse, hoso__transfers__v1__refuse_request_response__descriptor);
}

typedef struct {
  const char *id;
  const char *record_id;
} rec_of_st;

static int record_of_tx(srv_ctx *ctx, void *p) {
  rec_of_st *st = p;
  tr_row *r;
  SRV_TRY(store_transfer_get(ctx, st->id, 0, &r));
  st->record_id = r->t->record_id;
  return 0;
}

int rpc_send_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__SendTransferRequest *in = (const void *)req;
  extra_st x = {.kind = "DECISION"};
  tr_act act = {.expected_version = in->expected_version, .request_id = in->request_id, .extra = send_extra,
                .extra_arg = &x};
  if (tr_check_scan(ctx, "decision_scan", in->decision_scan, &x.type, &x.file_name) ||
      srv_clean_prose(ctx, "note", in->note, 0, TR_TEXT_MAX, &act.note) ||
      check_common(ctx, in->transfer_id, in->expected_version, in->request_id))
    return -1;
  if (in->decision_scan) x.content = &in->decision_scan->content;
  /* The record must still be one that moves (not retired or deceased since the start): asked
   * of records before the transaction, so no row lock waits on it. */
  rec_of_st ro = {.id = in->transfer_id};
  Hoso__Records__V1__Record *rec;
  if (srv_tx(ctx, DB_READ_COMMITTED, record_of_tx, &ro) != 0 || tr_record(ctx, ro.record_id, &rec) != 0) return -1;
  if (rec->status != RS(ACTIVE)) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hoso__records__v1__record_status__descriptor, rec->status);
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "transfer_id: record %s is no longer active (%s); cancel the "
                    "transfer", rec->id, v ? v->name : "unknown status");
  }
  transfer_t *out;
  if (tr_transition(ctx, in->transfer_id, FLOW_SEND, &act, &out) != 0) return -1;
  REPLY(Hoso__Transfers__V1__SendTransferResponse, hoso__transfers__v1__send_transfer_response__descriptor);
}

int rpc_receive_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ReceiveTransferRequest *in = (const void *)req;
  tr_act act = {.expected_version = in->expected_version, .request_id = in->request_id};
  if (srv_clean_prose(ctx, "note", in->note, 0, TR_TEXT_MAX, &act.note) ||
      check_common(ctx, in->transfer_id, in->expected_version, in->request_id))
    return -1;
  transfer_t *out;
  if (tr_transition(ctx, in->transfer_id, FLOW_RECEIVE, &act, &out) != 0) return -1;
  REPLY(Hoso__Transfers__V1__ReceiveTransferResponse, hoso__transfers__v1__receive_transfer_response__descriptor);
}

int rpc_reject_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__RejectTransferRequest *in = (const void *)req;
  tr_act act = {.expected_version = in->expected_version, .request_id = in->request_id};
  if (tr_check_reason(ctx, in->reason, 1, &act.reason) ||
      check_common(ctx, in->transfer_id, in->expected_version, in->request_id))
    return -1;
  transfer_t *out;
  if (tr_transition(ctx, in->transfer_id, FLOW_REJECT, &act, &out) != 0) return -1;
  REPLY(Hoso__Transfers__V1__RejectTransferResponse, hoso__transfers__v1__reject_transfer_response__descriptor);
}

int rpc_forward_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ForwardTransferRequest *in = (const void *)req;
  extra_st x = {0};
  tr_act act = {.expected_version = in->expected_version, .request_id = in->request_id, .extra = forward_extra,
                .extra_arg = &x};
  char path[UNIT_TREE_PATH_MAX];
  if (srv_clean_prose(ctx, "note", in->note, 0, TR_TEXT_MAX, &act.note) ||
      check_common(ctx, in->transfer_id, in->expected_version, in->request_id))
    return -1;
  if (in->final_unit_id && *in->final_unit_id) {
    if (tr_unit_path(ctx, "final_unit_id", in->final_unit_id, path)) return -1;
    x.final_unit_id = in->final_unit_id;
    x.final_path = srv_strdup(ctx, path);
  }
  transfer_t *out;
  if (tr_transition(ctx, in->transfer_id, FLOW_FORWARD, &act, &out) != 0) return -1;
  REPLY(Hoso__Transfers__V1__ForwardTransferResponse, hoso__transfers__v1__forward_transfer_response__descriptor);
}

int rpc_cancel_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__CancelTransferRequest *in = (const void *)req;
  tr_act act = {.expected_version = in->expected_version, .request_id = in->request_id};
  if (tr_check_reason(ctx, in->reason, 1, &act.reason) ||
      check_common(ctx, in->transfer_id, in->expected_version, in->request_id))
    return -1;
  transfer_t *out;
  if (tr_transition(ctx, in->transfer_id, FLOW_CANCEL, &act, &out) != 0) return -1;
  REPLY(Hoso__Transfers__V1__CancelTransferResponse, hoso__transfers__v1__cancel_transfer_response__descriptor);
}
