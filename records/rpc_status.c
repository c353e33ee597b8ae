/* Where a person stands: ChangeRecordStatus (retired, resigned, deceased, transferred out, back
 * to work) with the state's decision, and SetManagingUnit, the transfers service's move of a
 * record to another unit (003 Đ7.3). Records are never deleted: every status stays readable. */
#include <stdio.h>
#include <string.h>
#include "cfg.h"
#include "fault.h"
#include "idem.h"
#include "log.h"
#include "pbwalk.h"
#include "records.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_change_requests.h"
#include "store_grants.h"
#include "val.h"

#define STATUS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define WORKFLOW(x) HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_##x
#define DECISION_NUMBER_MAX_CHARS 255
#define TRANSFER_ID_MAX_CHARS 128

typedef Hoso__Records__V1__Decision decision_t;

static const char *str(const char *s) { return s ? s : ""; }

static const char *status_name(int s) {
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&hoso__records__v1__record_status__descriptor, s);
  return v ? v->name : "RECORD_STATUS_UNSPECIFIED";
}

/* The statuses of a person who left the unit's workforce (001 Đ10.3). */
static int leaving(int s) {
  return s == STATUS(RETIRED) || s == STATUS(RESIGNED) || s == STATUS(DECEASED) || s == STATUS(TRANSFERRED_OUT);
}

/* ------------------------------------------------------------ the decision -------------- */

/* The decision a change rests on, as stored: NFC text, a number, a signing date and an
 * effective date (YYYY-MM-DD); issuer and scan optional. Messages name "decision.<field>". */
static int decision_clean(srv_ctx *ctx, const decision_t *in, decision_t **out) {
  char err[PBWALK_PATH_MAX + 128];
  const char *e;
  *out = NULL;
  if (!in)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "decision: required: the decision (number, date, effective_date) the change rests on");
  decision_t *d = srv_msg_copy(ctx, &in->base);
  if (pbwalk_nfc(&d->base, "decision", REC_TEXT_MAX_CHARS, NULL, srv_allocator(ctx), err, sizeof err) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
  if ((e = val_text(str(d->number), 1, DECISION_NUMBER_MAX_CHARS)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "decision.number: %s (the number written on the decision)", e);
  if ((e = val_date(d->date))) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "decision.date: %s", e);
  if ((e = val_date(d->effective_date)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "decision.effective_date: %s", e);
  if (d->attachment_id && *d->attachment_id && (e = val_id(d->attachment_id)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "decision.attachment_id: %s", e);
  *out = d;
  return 0;
}

/* ------------------------------------------------------------ work history -------------- */

/* Leaving ends the work going on: every open entry (no `to`) ends on the decision's effective
 * date, which must not lie before the entry's start. */
static int close_work(srv_ctx *ctx, rec_t *r, const char *date) {
  for (size_t i = 0; i < r->n_work_history; i++) {
    Hoso__Records__V1__WorkHistoryEntry *e = r->work_history[i];
    if (e->to && *e->to) continue;
    const char *from = str(e->from);
    size_t n = strlen(from) < strlen(date) ? strlen(from) : strlen(date);
    if (*from && strncmp(date, from, n) < 0)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "decision.effective_date: %s is before %s, the start of work_history[%zu] that it "
                      "would end",
                      date, from, i);
    e->to = (char *)date;
  }
  return 0;
}

/* Undoing a leaving (a mistake, or a corrected decision): the entries it closed, those ending on
 * its effective date, are open again. */
static void reopen_work(rec_t *r, const char *closed_on) {
  if (!closed_on || !*closed_on) return;
  for (size_t i = 0; i < r->n_work_history; i++)
    if (r->work_history[i]->to && strcmp(r->work_history[i]->to, closed_on) == 0) r->work_history[i]->to = "";
}

/* r (a copy of old) gets the new status with its decision; the work history follows. */
static int apply_status(srv_ctx *ctx, const rec_t *old, rec_t *r, int status, decision_t *d) {
  if (leaving(old->status)) reopen_work(r, old->status_date);
  if (leaving(status) && close_work(ctx, r, d->effective_date) != 0) return -1;
  r->status = status;
  r->status_date = d->effective_date;
  r->status_decision = d;
  return 0;
}

static rec_reason *reason_of(srv_ctx *ctx, const char *text, decision_t *d) {
  rec_reason *why = srv_new(ctx, &hoso__records__v1__change_reason__descriptor);
  why->text = (char *)text;
  why->decision = d;
  return why;
}

/* ------------------------------------------------------------ ChangeRecordStatus -------- */

typedef struct {
  const char *id, *request_id;
  int status;
  long long expected;
  decision_t *decision;
  rec_t *out;
} status_st;

static int status_tx(srv_ctx *ctx, void *p) {
  status_st *st = p;
  rec_t *old;
  st->out = NULL;
  int replayed;
  SRV_TRY(rec_replay(ctx, st->request_id, &replayed, &st->out));
  if (replayed) return 0;

  SRV_TRY(record_fetch(ctx, st->id, RIGHT_UPDATE, RECORD_LOCK | RECORD_ANY_STATUS, &old));
  SRV_TRY(rec_check_version(ctx, old, st->expected));
  if (old->workflow_state == WORKFLOW(SUBMITTED))
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "record_id: record %s is awaiting approval; change its status once it is approved or "
                    "sent back", old->id);
  if (old->status == STATUS(PENDING_TRANSFER))
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "record_id: record %s is being transferred; its status changes when the transfer "
                    "completes or is cancelled", old->id);
  if ((int)old->status == st->status)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "status: record %s is already %s", old->id,
                    status_name(st->status));

  rec_t *r = srv_msg_copy(ctx, &old->base);
  r->managing_unit_path = old->managing_unit_path;
  SRV_TRY(apply_status(ctx, old, r, st->status, st->decision));
  /* The service's one rule for changes an updater enters from a state decision (rpc_record.c):
   * they apply at once, and an approved record awaits the unit's verification again. */
  if (old->workflow_state == WORKFLOW(APPROVED)) r->verified = 0;
  SRV_TRY(record_store(ctx, old, r, "STATUS", reason_of(ctx, "", st->decision)));
  if (rec_idem_done(ctx, st->request_id, r) != 0) return -1;
  st->out = r;
  return 0;
}

int rpc_change_record_status(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ChangeRecordStatusRequest *in = (const void *)req;
  status_st st = {.id = in->record_id, .request_id = in->request_id, .status = (int)in->status,
                  .expected = in->expected_version};
  if (srv_check_id(ctx, "record_id", in->record_id)) return -1;
  if (st.status == STATUS(PENDING_TRANSFER))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "status: RECORD_STATUS_PENDING_TRANSFER is set by a transfer (the transfers service), "
                    "not by a status change");
  if (!leaving(st.status) && st.status != STATUS(ACTIVE))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "status: must be RECORD_STATUS_RETIRED, RECORD_STATUS_RESIGNED, RECORD_STATUS_DECEASED, "
                    "RECORD_STATUS_TRANSFERRED_OUT or RECORD_STATUS_ACTIVE");
  if (in->expected_version < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "expected_version: must not be negative");
  if (decision_clean(ctx, in->decision, &st.decision) || srv_check_request_id(ctx, in->request_id) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "changing a record's status needs the UPDATER role"))
    return -1;

  if (srv_tx(ctx, DB_READ_COMMITTED, status_tx, &st) != 0) return -1;
  Hoso__Records__V1__ChangeRecordStatusResponse *o =
      srv_new(ctx, &hoso__records__v1__change_record_status_response__descriptor);
  o->record = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ SetManagingUnit ----------- */

/* Who may move records between units: the transfers service alone, known by its service
 * client id (record_is_transfers_service). Its token carries only RIGHT_READ within its grant
 * (scope_rights), so the write right of this one RPC comes from being that client, and the
 * unit half of the rule stays the grant's: both the record's current unit and the new unit
 * must lie within it (checked here, and again by row-level security on the rows written). */
typedef struct {
  const char *id, *unit_id, *transfer_id, *pending_unit_id, *step_key;
  int status;
  long long tree_seq; /* the unit-tree change the transfers service had applied */
  decision_t *decision;
  char path[UNIT_TREE_PATH_MAX], pending_path[UNIT_TREE_PATH_MAX];
  rec_t *out;
} move_st;

/* The record's transfers history gains the move, with its decision. The unit fields hold unit
 * ids: identity keeps each unit's names over time (001 Đ5.5), so the name a unit had on the
 * date is found there, never a copy that a rename would leave stale. */
static void add_transfer(srv_ctx *ctx, rec_t *r, const char *from_unit, const char *to_unit, decision_t *d) {
  Hoso__Records__V1__TransferEntry **v = srv_alloc(ctx, (r->n_transfers + 1) * sizeof *v);
  if (r->n_transfers) memcpy(v, r->transfers, r->n_transfers * sizeof *v);
  Hoso__Records__V1__TransferEntry *e = srv_new(ctx, &hoso__records__v1__transfer_entry__descriptor);
  e->kind = "TRANSFER";
  e->from_unit = (char *)from_unit;
  e->to_unit = (char *)to_unit;
  e->from = d->effective_date;
  e->decision = d;
  v[r->n_transfers] = e;
  r->transfers = v;
  r->n_transfers++;
}

static int move_tx(srv_ctx *ctx, void *p) {
  move_st *st = p;
  rec_t *old;
  st->out = NULL;
  /* One transfer moves a record in steps (sent: PENDING_TRANSFER; received: ACTIVE at the new
   * unit; forwarded to the unit that uses the person), so the key is the transfer and the step's
   * target: a retried step changes nothing, the next step of the same transfer applies. */
  const char *key = *st->step_key ? srv_printf(ctx, "%s|%s", st->transfer_id, st->step_key)
                                   : srv_printf(ctx, "%s|%s|%d|%s", st->transfer_id, st->unit_id, st->status,
                                                st->pending_unit_id);
  int replayed;
  SRV_TRY(rec_replay(ctx, key, &replayed, &st->out));
  if (replayed) return 0;
  /* The step was decided on the tree as the transfers service had followed it: after a merge,
   * its units are the successor's. Until records has applied the same change, the record may
   * still be filed under the dissolved unit, and moving it now would enter the merge in the
   * work history as a transfer; the outbox tries again. */
  long long followed = 0;
  SRV_TRY(unit_tree_followed(ctx, &followed));
  if (followed < st->tree_seq)
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE,
                    "unit_tree_seq: records has applied the unit tree's changes up to %lld, the step was "
                    "decided after change %lld; try again once records has followed it",
                    followed, st->tree_seq);

  SRV_TRY(record_fetch(ctx, st->id, RIGHT_READ, RECORD_LOCK | RECORD_ANY_STATUS, &old));
  if (leaving(old->status) && old->status != STATUS(TRANSFERRED_OUT))
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "record_id: record %s is %s; a person who left is not transferred", old->id,
                    status_name(old->status));
  int moves = strcmp(str(old->managing_unit_id), st->unit_id) != 0;
  int goes_out = st->status == STATUS(TRANSFERRED_OUT) && old->status != STATUS(TRANSFERRED_OUT);
  if (!moves && (int)old->status == st->status) {
    st->out = old; /* already where the step puts it */
  } else {
    rec_t *r = srv_msg_copy(ctx, &old->base);
    r->managing_unit_path = old->managing_unit_path;
    if (moves) {
      r->managing_unit_id = (char *)st->unit_id;
      /* record_store writes records.unit_path from it; the response outlives st (arena copy). */
      r->managing_unit_path = srv_strdup(ctx, st->path);
    }
    if (moves || goes_out) add_transfer(ctx, r, old->managing_unit_id, moves ? st->unit_id : "", st->decision);
    if ((int)old->status != st->status) SRV_TRY(apply_status(ctx, old, r, st->status, st->decision));
    /* `verified` is kept: the move was decided and checked by both units in the transfers
     * service's workflow, and the dossier's content is what it was. */
    SRV_TRY(record_store(ctx, old, r, "MANAGING_UNIT",
                      reason_of(ctx, srv_printf(ctx, "transfer %s", st->transfer_id), st->decision)));
    /* Access moves with the record at once (003 Đ7.3), its change requests included. */
    if (moves && change_requests_follow_record(ctx, r->id, st->path) != 0) return -1;
    st->out = r;
  }
  /* While in transit the receiving unit reads it; any other step ends that. */
  int pending = st->status == STATUS(PENDING_TRANSFER) && *st->pending_path;
  SRV_TRY(grants_pending_set(ctx, st->id, st->transfer_id, pending ? st->pending_unit_id : NULL, st->pending_path));
  if (rec_idem_done(ctx, key, st->out) != 0) return -1;
  fault_point("SetManagingUnit.before_commit");
  return 0;
}

int rpc_set_managing_unit(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__SetManagingUnitRequest *in = (const void *)req;
  move_st st = {.id = in->record_id, .unit_id = in->new_unit_id, .transfer_id = in->transfer_id,
                .status = (int)in->status, .pending_unit_id = str(in->pending_unit_id), .step_key = str(in->step_key),
                .tree_seq = (long long)in->unit_tree_seq};
  const char *e;
  if (srv_check_id(ctx, "record_id", in->record_id) || srv_check_id(ctx, "new_unit_id", in->new_unit_id))
    return -1;
  if ((e = val_text(str(in->transfer_id), 1, TRANSFER_ID_MAX_CHARS)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "transfer_id: %s", e);
  if (st.status != STATUS(ACTIVE) && st.status != STATUS(PENDING_TRANSFER) && st.status != STATUS(TRANSFERRED_OUT))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "status: must be RECORD_STATUS_ACTIVE, RECORD_STATUS_PENDING_TRANSFER or "
                    "RECORD_STATUS_TRANSFERRED_OUT (the record's status after this step)");
  if (*st.pending_unit_id && srv_check_id(ctx, "pending_unit_id", st.pending_unit_id)) return -1;
  if (st.tree_seq < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unit_tree_seq: must not be negative");
  if ((e = val_text(st.step_key, 0, TRANSFER_ID_MAX_CHARS)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "step_key: %s", e);
  if (*st.pending_unit_id && st.status != STATUS(PENDING_TRANSFER))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "pending_unit_id: only a step that leaves the record PENDING_TRANSFER names a receiving unit");
  if (decision_clean(ctx, in->decision, &st.decision)) return -1;
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (!record_is_transfers_service(ctx)) {
    if (!*cfg_str("HOSO_TRANSFERS_CLIENT_ID", ""))
      log_warn("records: SetManagingUnit refused: HOSO_TRANSFERS_CLIENT_ID is not configured");
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "SetManagingUnit is reserved for the transfers service; records move between units "
                    "through a transfer");
  }
  /* Asked of identity (with the service's own token) before the transaction holds a row lock. */
  if (record_step_unit_path(ctx, "new_unit_id", in->new_unit_id, st.path)) return -1;
  if (!scope_allows(ctx->auth, st.path, RIGHT_READ))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "new_unit_id: unit %s is outside the transfers service's grant", in->new_unit_id);
  if (*st.pending_unit_id) {
    if (record_step_unit_path(ctx, "pending_unit_id", st.pending_unit_id, st.pending_path)) return -1;
    if (!scope_allows(ctx->auth, st.pending_path, RIGHT_READ))
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                      "pending_unit_id: unit %s is outside the transfers service's grant", st.pending_unit_id);
  }

  if (srv_tx(ctx, DB_READ_COMMITTED, move_tx, &st) != 0) return -1;
  fault_point("SetManagingUnit.after_commit");
  Hoso__Records__V1__SetManagingUnitResponse *o = srv_new(ctx, &hoso__records__v1__set_managing_unit_response__descriptor);
  o->record = st.out;
  *resp = &o->base;
  return 0;
}
