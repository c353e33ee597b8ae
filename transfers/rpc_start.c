/* How a transfer begins: StartTransfer by the managing unit (or a unit above it) — inside an
 * agency, between units, a secondment, out of the system — and RequestTransfer, the pull of
 * 002 Đ10 by the unit that wants the record, with its request letter. Every refusal comes before
 * anything is written; a record has one open transfer at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "scope.h"
#include "transfers.h"

#define RS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define SECONDMENT_DAYS_MAX (5 * 366)

static const char *str(const char *s) { return s ? s : ""; }

/* The parent path of an ltree path ("1.4.17" → "1.4"), "" for the root. */
static const char *parent_of(srv_ctx *ctx, const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot) return "";
  char *p = srv_strdup(ctx, path);
  p[dot - path] = 0;
  return p;
}

/* 001 Đ10.1: inside an agency, between its departments (siblings), or between the agency and
 * one of its departments. */
static int same_agency(srv_ctx *ctx, const char *a, const char *b) {
  const char *pa = parent_of(ctx, a), *pb = parent_of(ctx, b);
  return (*pa && !strcmp(pa, pb)) || !strcmp(pa, b) || !strcmp(pb, a);
}

static const char *status_name(int s) {
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&hoso__records__v1__record_status__descriptor, s);
  return v ? v->name : "unknown";
}

typedef struct {
  tr_row *row;
  const char *request_id;
  const char *scan_kind, *scan_type, *scan_name;
  const ProtobufCBinaryData *scan;
  int first_step;
  flow_side first_at;
  unsigned notify;
  const char *notice, *audit;
} start_st;

/* The new transfer's rows, once the caller is known to be allowed (checked before the
 * transaction): they reach the other side's unit too (its notice). */
static int start_writes(srv_ctx *ctx, void *p) {
  start_st *st = p;
  tr_row *r = st->row;
  if (store_transfer_insert(ctx, r) != 0) {
    /* Two starts of the same record at once: the index lets one in. */
    if (db_err_kind(ctx->db) == DB_UNIQUE && !strcmp(db_err_constraint(ctx->db), "transfers_one_open"))
      return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                      "record_id: record %s is already in another transfer; a record has one open transfer at a time",
                      r->t->record_id);
    return -1;
  }
  if (st->scan_type) {
    tr_document_t *d;
    SRV_TRY(store_document_add(ctx, r->t->id, st->scan_kind, st->scan_name, st->scan_type, st->scan->data,
                               st->scan->len, &d));
  }
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  SRV_TRY(store_step_open(ctx, r, s, st->first_step, tr_side_unit(r, st->first_at), tr_side_path(r, st->first_at),
                          NULL));
  if (st->notice) SRV_TRY(tr_notify(ctx, r, st->notify, st->notice));
  return tr_audit(ctx, r, st->audit,
                  json_pack("{s:i, s:s, s:s}", "kind", r->t->kind, "to_unit_id", str(r->t->to_unit_id), "decision",
                            r->t->decision ? str(r->t->decision->number) : ""));
}

static int start_tx(srv_ctx *ctx, void *p) {
  start_st *st = p;
  char prev[64], open_id[32];
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev), open_state;
  if (seen < 0) return -1;
  if (seen == 1) {
    st->row->t->id = srv_strdup(ctx, prev);
    return 0;
  }
  tr_row *r = st->row;
  SRV_TRY(store_transfer_open_of(ctx, r->t->record_id, open_id, &open_state));
  if (*open_id)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "record_id: record %s is already in transfer %s (%s); a record has one open transfer at a time",
                    r->t->record_id, open_id, flow_state_name(open_state));
  SRV_TRY(srv_all_units(ctx, start_writes, st));
  return idem_done(ctx, st->request_id, r->t->id);
}

/* The record as records has it, which must be active and not this unit's already. */
static int movable_record(srv_ctx *ctx, const char *record_id, Hoso__Records__V1__Record **rec) {
  if (tr_record(ctx, record_id, rec)) return -1;
  if ((*rec)->status == RS(PENDING_TRANSFER))
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "record_id: record %s is already being transferred",
                    record_id);
  if ((*rec)->status != RS(ACTIVE))
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "record_id: record %s is %s; only the record of a person at work is transferred", record_id,
                    status_name((*rec)->status));
  return 0;
}

static int finish(srv_ctx *ctx, start_st *st, transfer_t **out) {
  if (srv_tx(ctx, DB_READ_COMMITTED, start_tx, st) != 0) return -1;
  return tr_reply(ctx, st->row->t->id, out);
}

int rpc_start_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__StartTransferRequest *in = (const void *)req;
  tr_row *r = srv_alloc(ctx, sizeof *r);
  memset(r, 0, sizeof *r);
  transfer_t *t = r->t = srv_new(ctx, &hoso__transfers__v1__transfer__descriptor);
  start_st st = {.row = r, .request_id = in->request_id, .scan_kind = "DECISION", .audit = "TRANSFER_START"};
  const char *v;
  int kind = in->kind;
  if (srv_check_id(ctx, "record_id", in->record_id)) return -1;
  if (kind != TK(INTERNAL) && kind != TK(BETWEEN_UNITS) && kind != TK(SECONDMENT) && kind != TK(OUT_OF_SYSTEM))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "kind: TRANSFER_KIND_INTERNAL, _BETWEEN_UNITS, _SECONDMENT or _OUT_OF_SYSTEM (a pull starts with "
                    "RequestTransfer)");
  int out_of_system = kind == TK(OUT_OF_SYSTEM);
  if (!out_of_system && srv_check_id(ctx, "to_unit_id", in->to_unit_id)) return -1;
  if (out_of_system && *str(in->to_unit_id))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to_unit_id: a transfer out of the system names its destination, "
                    "not a unit of this deployment");
  if (*str(in->final_unit_id) && kind != TK(BETWEEN_UNITS))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "final_unit_id: only a transfer between units is forwarded");
  if (*str(in->final_unit_id) && srv_check_id(ctx, "final_unit_id", in->final_unit_id)) return -1;
  if (tr_check_decision(ctx, "decision", in->decision, &t->decision) ||
      tr_check_scan(ctx, "decision_scan", in->decision_scan, &st.scan_type, &st.scan_name) ||
      srv_clean_text(ctx, "destination", in->destination, out_of_system, TR_LINE_MAX, &v))
    return -1;
  t->destination = (char *)v;
  if (!out_of_system && *t->destination)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "destination: only a transfer out of the system has one");
  if (in->decision_scan) st.scan = &in->decision_scan->content;
  if (kind == TK(SECONDMENT)) {
    wd_day end, eff;
    if (wd_parse(in->end_date, &end) != 0)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "end_date: required: the secondment's last day, YYYY-MM-DD");
    wd_parse(t->decision->effective_date, &eff);
    if (end < eff || end > eff + SECONDMENT_DAYS_MAX)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "end_date: must lie between the decision's effective date and five years after it");
    t->start_date = t->decision->effective_date;
    t->end_date = srv_strdup(ctx, in->end_date);
  } else if (*str(in->end_date)) {
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "end_date: only a secondment ends on a date");
  }
  if (srv_clean_prose(ctx, "note", in->note, 0, TR_TEXT_MAX, &v) || srv_check_request_id(ctx, in->request_id) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "transfers are started by the UPDATER role of the record's unit"))
    return -1;
  t->note = (char *)v;

  Hoso__Records__V1__Record *rec;
  if (movable_record(ctx, in->record_id, &rec)) return -1;
  if (!scope_allows(ctx->auth, rec->managing_unit_path, RIGHT_UPDATE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "record_id: record %s is managed by a unit outside your scope; its own unit (or one above it) "
                    "starts its transfer", in->record_id);
  char to[UNIT_TREE_PATH_MAX] = "", fin[UNIT_TREE_PATH_MAX] = "";
  if (!out_of_system) {
    if (tr_unit_path(ctx, "to_unit_id", in->to_unit_id, to)) return -1;
    if (!strcmp(in->to_unit_id, rec->managing_unit_id))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to_unit_id: unit %s already manages record %s",
                      in->to_unit_id, in->record_id);
    if (kind == TK(INTERNAL) && !same_agency(ctx, rec->managing_unit_path, to))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "to_unit_id: unit %s is not a department of the same agency as unit %s; that is a transfer "
                      "between units (TRANSFER_KIND_BETWEEN_UNITS)", in->to_unit_id, rec->managing_unit_id);
  }
  if (*str(in->final_unit_id)) {
    if (tr_unit_path(ctx, "final_unit_id", in->final_unit_id, fin)) return -1;
    if (!strcmp(in->final_unit_id, in->to_unit_id) || !strcmp(in->final_unit_id, rec->managing_unit_id))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "final_unit_id: the unit that will use the person, when it is neither the sender nor the "
                      "receiving unit; leave it empty otherwise");
  }
  t->record_id = rec->id;
  t->record_name = rec->full_name;
  t->kind = kind;
  t->state = TS(STARTED);
  t->from_unit_id = rec->managing_unit_id;
  r->from_path = rec->managing_unit_path;
  t->to_unit_id = (char *)str(in->to_unit_id);
  r->to_path = srv_strdup(ctx, to);
  t->final_unit_id = (char *)str(in->final_unit_id);
  r->final_path = srv_strdup(ctx, fin);
  r->effective_date = t->decision->effective_date;
  st.first_step = flow_first_step(kind);
  st.first_at = SIDE_FROM;
  transfer_t *out;
  if (finish(ctx, &st, &out) != 0) return -1;
  Hoso__Transfers__V1__StartTransferResponse *o = srv_new(ctx, &hoso__transfers__v1__start_transfer_response__descriptor);
  o->transfer = out;
  *resp = &o->base;
  return 0;
}

int rpc_request_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__RequestTransferRequest *in = (const void *)req;
  tr_row *r = srv_alloc(ctx, sizeof *r);
  memset(r, 0, sizeof *r);
  transfer_t *t = r->t = srv_new(ctx, &hoso__transfers__v1__transfer__descriptor);
  start_st st = {.row = r, .request_id = in->request_id, .scan_kind = "REQUEST_LETTER", .audit = "TRANSFER_REQUEST",
                 .notify = SIDE_FROM, .notice = "REQUESTED"};
  const char *v;
  if (srv_check_id(ctx, "record_id", in->record_id) || srv_check_id(ctx, "to_unit_id", in->to_unit_id)) return -1;
  if (*str(in->final_unit_id) && srv_check_id(ctx, "final_unit_id", in->final_unit_id)) return -1;
  if (!in->request_letter)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "request_letter: required: the scan of the written request (002 Đ10)");
  if (tr_check_scan(ctx, "request_letter", in->request_letter, &st.scan_type, &st.scan_name) ||
      srv_clean_prose(ctx, "note", in->note, 0, TR_TEXT_MAX, &v) || srv_check_request_id(ctx, in->request_id) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "a record is asked for by the UPDATER role of the unit that wants it"))
    return -1;
  t->note = (char *)v;
  st.scan = &in->request_letter->content;
  char to[UNIT_TREE_PATH_MAX], fin[UNIT_TREE_PATH_MAX] = "";
  if (tr_unit_path(ctx, "to_unit_id", in->to_unit_id, to)) return -1;
  if (!scope_allows(ctx->auth, to, RIGHT_UPDATE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "to_unit_id: unit %s is outside your scope; a unit asks for a record for itself or a unit below it",
                    in->to_unit_id);
  Hoso__Records__V1__Record *rec;
  if (movable_record(ctx, in->record_id, &rec)) return -1;
  if (!strcmp(in->to_unit_id, rec->managing_unit_id))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to_unit_id: unit %s already manages record %s", in->to_unit_id,
                    in->record_id);
  if (*str(in->final_unit_id)) {
    if (tr_unit_path(ctx, "final_unit_id", in->final_unit_id, fin)) return -1;
    if (!strcmp(in->final_unit_id, in->to_unit_id) || !strcmp(in->final_unit_id, rec->managing_unit_id))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "final_unit_id: leave it empty unless another unit will "
                      "use the person");
  }
  t->record_id = rec->id;
  t->record_name = rec->full_name;
  t->kind = TK(PULL);
  t->state = TS(REQUESTED);
  t->decision = srv_new(ctx, &hoso__transfers__v1__decision__descriptor);
  t->from_unit_id = rec->managing_unit_id;
  r->from_path = rec->managing_unit_path;
  t->to_unit_id = in->to_unit_id;
  r->to_path = srv_strdup(ctx, to);
  t->final_unit_id = (char *)str(in->final_unit_id);
  r->final_path = srv_strdup(ctx, fin);
  r->effective_date = "";
  st.first_step = SK(ANSWER_REQUEST);
  st.first_at = SIDE_FROM;
  transfer_t *out;
  if (finish(ctx, &st, &out) != 0) return -1;
  Hoso__Transfers__V1__RequestTransferResponse *o =
      srv_new(ctx, &hoso__transfers__v1__request_transfer_response__descriptor);
  o->transfer = out;
  *resp = &o->base;
  return 0;
}
