/* The approval workflow of a record (004 Đ10, 001 Đ9.1): a draft is submitted by its unit's
 * updater, then approved or sent back with a reason by a unit administrator; a change to an
 * approved record applies at once and is verified (or rejected) here afterwards. */
#include <string.h>
#include "records.h"
#include "rpc_util.h"
#include "scope.h"

#define DRAFT HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT
#define SUBMITTED HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUBMITTED
#define APPROVED HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED
#define REJECTED HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_REJECTED

typedef enum { WF_SUBMIT, WF_APPROVE, WF_REJECT } wf_kind;

typedef struct {
  wf_kind kind;
  const char *id;
  long long expected;
  rec_reason *reason;
  rec_t *out;
} wf_st;

static int refuse(srv_ctx *ctx, const char *why) {
  return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "record_id: %s", why);
}

/* The next state of r for the step, or -1 with FAILED_PRECONDITION naming the state. */
static int transition(srv_ctx *ctx, wf_kind k, rec_t *r) {
  int s = r->workflow_state;
  switch (k) {
  case WF_SUBMIT:
    if (s == DRAFT || s == REJECTED) {
      r->workflow_state = SUBMITTED;
      return 0;
    }
    if (s == SUBMITTED) return refuse(ctx, "record is already awaiting approval");
    return refuse(ctx, "record is already approved; changes to it apply at once and are verified with "
                       "ApproveRecord");
  case WF_APPROVE:
    if (s == SUBMITTED || (s == APPROVED && !r->verified)) {
      r->workflow_state = APPROVED;
      r->verified = 1;
      r->approved_by = (char *)ctx->auth->sub;
      r->approved_at = ""; /* record_store stamps it with the write's time */
      return 0;
    }
    if (s == APPROVED) return refuse(ctx, "record is already approved and verified; nothing awaits approval");
    return refuse(ctx, s == REJECTED ? "record was sent back; it must be submitted again before approval"
                                     : "record is a draft; it must be submitted before approval");
  case WF_REJECT:
    if (s == SUBMITTED) {
      r->workflow_state = REJECTED;
      return 0;
    }
    /* A rejected change of an approved record stays applied and unverified: it came from a
     * state decision, and the updater corrects it (UpdateRecord) for a new approval. */
    if (s == APPROVED && !r->verified) return 0;
    if (s == APPROVED) return refuse(ctx, "record is approved and verified; nothing awaits approval");
    return refuse(ctx, s == REJECTED ? "record was already sent back" : "record is a draft; nothing awaits approval");
  }
  return refuse(ctx, "unknown workflow step");
}

static int wf_tx(srv_ctx *ctx, void *p) {
  static const char *const action[] = {"SUBMIT", "APPROVE", "REJECT"};
  wf_st *st = p;
  rec_t *old;
  st->out = NULL;
  SRV_TRY(record_fetch(ctx, st->id, st->kind == WF_SUBMIT ? RIGHT_UPDATE : RIGHT_APPROVE, 1, &old));
  SRV_TRY(rec_check_version(ctx, old, st->expected));
  if (st->kind == WF_APPROVE) SRV_TRY(rec_duties_record(ctx, old));
  rec_t *r = srv_msg_copy(ctx, &old->base);
  r->managing_unit_path = old->managing_unit_path;
  SRV_TRY(transition(ctx, st->kind, r));
  SRV_TRY(record_store(ctx, old, r, action[st->kind], st->reason));
  st->out = r;
  return 0;
}

static int run(srv_ctx *ctx, wf_st *st, ProtobufCMessage **resp, const ProtobufCMessageDescriptor *d) {
  if (srv_tx(ctx, DB_READ_COMMITTED, wf_tx, st) != 0) return -1;
  /* Every workflow response is { Record record = 1; }. */
  Hoso__Records__V1__SubmitRecordResponse *o = srv_new(ctx, d);
  o->record = st->out;
  *resp = &o->base;
  return 0;
}

static int check_common(srv_ctx *ctx, const char *id, long long expected) {
  if (srv_check_id(ctx, "record_id", id)) return -1;
  if (expected < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "expected_version: must not be negative");
  return 0;
}

/* The note of an approval or the reason of a rejection, kept with the version it makes. */
static int text_reason(srv_ctx *ctx, const char *field, const char *text, int required, rec_reason **out) {
  const char *clean;
  if (srv_clean_prose(ctx, field, text, required, REC_TEXT_MAX_CHARS, &clean)) return -1;
  *out = srv_new(ctx, &hoso__records__v1__change_reason__descriptor);
  (*out)->text = (char *)clean;
  return 0;
}

int rpc_submit_record(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__SubmitRecordRequest *in = (const void *)req;
  wf_st st = {.kind = WF_SUBMIT, .id = in->record_id, .expected = in->expected_version};
  if (check_common(ctx, in->record_id, in->expected_version) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "submitting records needs the UPDATER role"))
    return -1;
  return run(ctx, &st, resp, &hoso__records__v1__submit_record_response__descriptor);
}

int rpc_approve_record(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ApproveRecordRequest *in = (const void *)req;
  wf_st st = {.kind = WF_APPROVE, .id = in->record_id, .expected = in->expected_version};
  if (check_common(ctx, in->record_id, in->expected_version) ||
      text_reason(ctx, "note", in->note, 0, &st.reason) ||
      srv_need_right(ctx, RIGHT_APPROVE, 0, "approving records needs the UNIT_ADMIN role"))
    return -1;
  return run(ctx, &st, resp, &hoso__records__v1__approve_record_response__descriptor);
}

int rpc_reject_record(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__RejectRecordRequest *in = (const void *)req;
  wf_st st = {.kind = WF_REJECT, .id = in->record_id, .expected = in->expected_version};
  if (check_common(ctx, in->record_id, in->expected_version) ||
      text_reason(ctx, "reason", in->reason, 1, &st.reason) ||
      srv_need_right(ctx, RIGHT_APPROVE, 0, "rejecting records needs the UNIT_ADMIN role"))
    return -1;
  return run(ctx, &st, resp, &hoso__records__v1__reject_record_response__descriptor);
}
