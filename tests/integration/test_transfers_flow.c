/* Every kind and path of a transfer over real gRPC, real PostgreSQL and the real identity,
 * records and transfers services: between units (received, rejected, cancelled), a pull
 * refused and a pull approved, a forward to the final unit, a move inside an agency, a
 * secondment ended early and one that ends by itself; each with the record where it must be,
 * the notices in the right inboxes, and who may act at each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "identity.pb-c.h"
#include "th_transfers.h"

#define K(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define S(x) HOSO__TRANSFERS__V1__TRANSFER_STATE__TRANSFER_STATE_##x
#define SK(x) HOSO__TRANSFERS__V1__STEP_KIND__STEP_KIND_##x
#define RS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define OK GRPC_STATUS_OK
#define WAIT_MS 60000

static th_world w;
static th_tr tr;
static char dep_a[32], dep_b[32]; /* two departments of district 1 */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  if (th_world_unit(&w, w.d1_id, "LN-NV", "Phòng Nội vụ huyện Lục Nam", 7, dep_a, NULL) != 0 ||
      th_world_unit(&w, w.d1_id, "LN-TC", "Phòng Tài chính - Kế hoạch huyện Lục Nam", 7, dep_b, NULL) != 0)
    return -1;
  return th_tr_start(&tr, &w, NULL);
}

static int teardown(void **state) {
  (void)state;
  char logs[3][256];
  snprintf(logs[0], 256, "%s", tr.svc.log);
  snprintf(logs[1], 256, "%s", w.records.log);
  snprintf(logs[2], 256, "%s", w.identity.log);
  int rc = th_tr_stop(&tr) | th_world_stop(&w);
  for (int i = 0; i < 3; i++) rc |= th_log_errors(logs[i]) != 0;
  return rc ? -1 : 0;
}

static th_transfer *must(th_transfer *x, const cli_status *st, const char *what) {
  if (!x) fail_msg("%s: %s %s", what, cli_status_name(st->code), st->message);
  return x;
}

/* The record's unit and status as records has them. */
static void record_is(const char *id, const char *unit, int status) {
  Hoso__Records__V1__Record *r = th_tr_record(&tr, id);
  assert_non_null(r);
  assert_string_equal(r->managing_unit_id, unit);
  if ((int)r->status != status) fail_msg("record %s has status %d, not %d", id, (int)r->status, status);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static grpc_status_code reads(const char *tok, const char *id) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  return th_call(w.rec_ch, "/hoso.records.v1.Records/GetRecord", &req, &hoso__records__v1__get_record_response__descriptor,
                 NULL, tok, NULL);
}

/* The notice kinds of a unit's inbox, newest first, joined by spaces. */
static void inbox(const char *tok, const char *unit, char *out, size_t len) {
  Hoso__Transfers__V1__ListNoticesRequest req = HOSO__TRANSFERS__V1__LIST_NOTICES_REQUEST__INIT;
  req.unit_id = (char *)unit;
  Hoso__Transfers__V1__ListNoticesResponse *o = NULL;
  cli_status st;
  if (th_tr_call(&tr, TR "ListNotices", &req, &hoso__transfers__v1__list_notices_response__descriptor, (void **)&o, tok,
                 &st) != OK)
    fail_msg("ListNotices: %s", st.message);
  size_t l = 0;
  out[0] = 0;
  for (size_t i = 0; i < o->n_notices && l < len; i++)
    l += (size_t)snprintf(out + l, len - l, "%s%s", i ? " " : "", o->notices[i]->kind);
  protobuf_c_message_free_unpacked(&o->base, NULL);
}

/* ------------------------------------------------------------ between units ------------- */

/* Started, sent, received: the record is PENDING_TRANSFER at district 1 while in transit
 * (both read it), then ACTIVE at district 2, which alone reads it; the steps carry who, when,
 * and the deadlines of the policy in force (Bắc Giang: 10 working days each, 004 Đ9.1). */
static void test_between_units_received(void **state) {
  (void)state;
  char rec[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Nguyễn Văn Điều", rec), 0);
  th_transfer *x = must(th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2025-01-20", &st), &st,
                        "StartTransfer");
  char id[32];
  snprintf(id, sizeof id, "%s", x->id);
  assert_int_equal(x->state, S(STARTED));
  assert_string_equal(x->record_name, "Nguyễn Văn Điều");
  assert_string_equal(x->from_unit_id, w.d1_id);
  assert_int_equal(x->n_steps, 1);
  assert_int_equal(x->steps[0]->kind, SK(SEND));
  /* 10 working days from Monday 20 January 2025, across Tết Ất Tỵ. */
  assert_string_equal(x->steps[0]->due_date, "2025-02-10");
  assert_true(x->overdue);
  assert_int_equal(x->n_documents, 1);
  assert_string_equal(x->documents[0]->content_type, "application/pdf");
  th_tr_free(x);
  record_is(rec, w.d1_id, RS(ACTIVE));

  /* Only the sending side sends. */
  assert_null(th_tr_act(&tr, w.tok_d2_updater, "SendTransfer", id, &st));
  assert_int_equal(st.code, GRPC_STATUS_PERMISSION_DENIED);
  x = must(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st), &st, "SendTransfer");
  assert_int_equal(x->state, S(SENT));
  assert_int_equal(x->n_steps, 2);
  assert_string_equal(x->steps[0]->outcome, "SENT");
  assert_int_equal(x->steps[1]->kind, SK(RECEIVE));
  assert_string_equal(x->steps[1]->unit_id, w.d2_id);
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d1_id, RS(PENDING_TRANSFER));
  assert_int_equal(reads(w.tok_d2_reader, rec), OK);
  assert_int_equal(reads(w.tok_d1_reader, rec), OK);
  char box[256];
  inbox(w.tok_d2_reader, w.d2_id, box, sizeof box);
  assert_non_null(strstr(box, "SENT"));

  /* Only the receiving side receives. */
  assert_null(th_tr_act(&tr, w.tok_d1_updater, "ReceiveTransfer", id, &st));
  assert_int_equal(st.code, GRPC_STATUS_PERMISSION_DENIED);
  x = must(th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st), &st, "ReceiveTransfer");
  assert_int_equal(x->state, S(COMPLETED));
  assert_string_equal(x->steps[1]->outcome, "RECEIVED");
  assert_string_equal(x->steps[1]->done_by_name, "yt.capnhat");
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d2_id, RS(ACTIVE));
  assert_int_equal(reads(w.tok_d1_reader, rec), GRPC_STATUS_PERMISSION_DENIED);
  assert_int_equal(reads(w.tok_d2_reader, rec), OK);
  inbox(w.tok_d1_reader, w.d1_id, box, sizeof box);
  assert_non_null(strstr(box, "RECEIVED"));
  /* The move is in the record's history, with its decision. */
  Hoso__Records__V1__Record *r = th_tr_record(&tr, rec);
  assert_int_equal(r->n_transfers, 1);
  assert_string_equal(r->transfers[0]->from_unit, w.d1_id);
  assert_string_equal(r->transfers[0]->to_unit, w.d2_id);
  assert_string_equal(r->transfers[0]->from, "2025-01-20");
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* Both sides still see the transfer itself; nothing more happens to it. */
  x = must(th_tr_get(&tr, w.tok_d1_reader, id, &st), &st, "GetTransfer d1");
  th_tr_free(x);
  assert_null(th_tr_act(&tr, w.tok_d1_updater, "CancelTransfer", id, &st));
  assert_int_equal(st.code, GRPC_STATUS_FAILED_PRECONDITION);
}

/* Rejected with a reason, or cancelled by the sender: the record stays where it was, active,
 * and the other side reads it no more. */
static void test_rejected_and_cancelled(void **state) {
  (void)state;
  const char *how[2] = {"RejectTransfer", "CancelTransfer"};
  for (int i = 0; i < 2; i++) {
    char rec[32], id[32];
    cli_status st;
    assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, i ? "Lê Thị Hủy" : "Trần Văn Từ", rec), 0);
    th_transfer *x =
        must(th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2026-01-05", &st), &st, "start");
    snprintf(id, sizeof id, "%s", x->id);
    th_tr_free(x);
    th_tr_free(must(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st), &st, "send"));
    assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
    const char *tok = i ? w.tok_d1_updater : w.tok_d2_updater;
    x = must(th_tr_act(&tr, tok, how[i], id, &st), &st, how[i]);
    assert_int_equal(x->state, i ? S(CANCELLED) : S(REJECTED));
    assert_string_equal(x->steps[1]->reason, "Đơn vị chưa đủ điều kiện tiếp nhận");
    th_tr_free(x);
    assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
    record_is(rec, w.d1_id, RS(ACTIVE));
    assert_int_equal(reads(w.tok_d2_reader, rec), GRPC_STATUS_PERMISSION_DENIED);
    /* The record can be transferred again. */
    x = must(th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2026-01-06", &st), &st, "again");
    th_tr_free(x);
  }
}

/* ------------------------------------------------------------ a pull -------------------- */

static th_transfer *request(const char *tok, const char *rec, const char *to, cli_status *st) {
  Hoso__Transfers__V1__RequestTransferRequest req = HOSO__TRANSFERS__V1__REQUEST_TRANSFER_REQUEST__INIT;
  req.record_id = (char *)rec;
  req.to_unit_id = (char *)to;
  req.request_letter = th_tr_scan();
  req.note = "Đề nghị chuyển hồ sơ theo Công văn số 15/UBND";
  Hoso__Transfers__V1__RequestTransferResponse *o = NULL;
  if (th_tr_call(&tr, TR "RequestTransfer", &req, &hoso__transfers__v1__request_transfer_response__descriptor,
                 (void **)&o, tok, st) != OK)
    return NULL;
  th_transfer *x = o->transfer;
  o->transfer = NULL;
  protobuf_c_message_free_unpacked(&o->base, NULL);
  return x;
}

/* 002 Đ10: district 2 asks in writing; district 1 refuses once, then approves a second request
 * with its decision, sends, and district 2 receives. */
static void test_pull_refused_then_approved(void **state) {
  (void)state;
  char rec[32], id[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Phạm Thị Kéo", rec), 0);
  th_transfer *x = must(request(w.tok_d2_updater, rec, w.d2_id, &st), &st, "RequestTransfer");
  assert_int_equal(x->kind, K(PULL));
  assert_int_equal(x->state, S(REQUESTED));
  assert_non_null(x->request_letter);
  assert_int_equal(x->steps[0]->kind, SK(ANSWER_REQUEST));
  assert_string_equal(x->steps[0]->unit_id, w.d1_id);
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  char box[256];
  inbox(w.tok_d1_reader, w.d1_id, box, sizeof box);
  assert_non_null(strstr(box, "REQUESTED"));
  /* The requester does not answer its own request. */
  assert_null(th_tr_act(&tr, w.tok_d2_updater, "RefuseRequest", id, &st));
  assert_int_equal(st.code, GRPC_STATUS_PERMISSION_DENIED);
  x = must(th_tr_act(&tr, w.tok_d1_updater, "RefuseRequest", id, &st), &st, "RefuseRequest");
  assert_int_equal(x->state, S(REFUSED));
  th_tr_free(x);
  inbox(w.tok_d2_reader, w.d2_id, box, sizeof box);
  assert_non_null(strstr(box, "REFUSED"));
  record_is(rec, w.d1_id, RS(ACTIVE));

  x = must(request(w.tok_d2_updater, rec, w.d2_id, &st), &st, "RequestTransfer again");
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  Hoso__Transfers__V1__ApproveRequestRequest ap = HOSO__TRANSFERS__V1__APPROVE_REQUEST_REQUEST__INIT;
  ap.transfer_id = id;
  ap.decision = th_tr_decision("2026-02-02");
  ap.decision_scan = th_tr_scan();
  Hoso__Transfers__V1__ApproveRequestResponse *ao = NULL;
  if (th_tr_call(&tr, TR "ApproveRequest", &ap, &hoso__transfers__v1__approve_request_response__descriptor,
                 (void **)&ao, w.tok_d1_updater, &st) != OK)
    fail_msg("ApproveRequest: %s", st.message);
  assert_int_equal(ao->transfer->state, S(STARTED));
  assert_string_equal(ao->transfer->decision->effective_date, "2026-02-02");
  assert_int_equal(ao->transfer->steps[1]->kind, SK(SEND));
  protobuf_c_message_free_unpacked(&ao->base, NULL);
  th_tr_free(must(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st), &st, "send"));
  th_tr_free(must(th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st), &st, "receive"));
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d2_id, RS(ACTIVE));
}

/* ------------------------------------------------------------ forward, inside ---------- */

/* District 2 sends to district 1 naming the school below it as the unit that will use the
 * person: district 1 receives (a forward is due, with its own step), forwards, and the school
 * receives; in between the record is at district 1, pending to the school. */
static void test_forward_to_final_unit(void **state) {
  (void)state;
  char rec[32], id[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d2_updater, w.d2_id, "Hoàng Văn Tiếp", rec), 0);
  th_transfer *x =
      must(th_tr_begin(&tr, w.tok_d2_updater, rec, K(BETWEEN_UNITS), w.d1_id, w.d1u_id, "2026-01-12", &st), &st, "start");
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  th_tr_free(must(th_tr_act(&tr, w.tok_d2_updater, "SendTransfer", id, &st), &st, "send"));
  x = must(th_tr_act(&tr, w.tok_d1_updater, "ReceiveTransfer", id, &st), &st, "receive");
  assert_int_equal(x->state, S(RECEIVED));
  assert_int_equal(x->steps[2]->kind, SK(FORWARD));
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d1_id, RS(ACTIVE));
  /* The school cannot take it before the forward. */
  assert_null(th_tr_act(&tr, w.tok_d1u_updater, "ReceiveTransfer", id, &st));
  assert_int_equal(st.code, GRPC_STATUS_FAILED_PRECONDITION);
  x = must(th_tr_act(&tr, w.tok_d1_updater, "ForwardTransfer", id, &st), &st, "forward");
  assert_int_equal(x->state, S(FORWARDED));
  assert_string_equal(x->steps[3]->unit_id, w.d1u_id);
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d1_id, RS(PENDING_TRANSFER));
  x = must(th_tr_act(&tr, w.tok_d1u_updater, "ReceiveTransfer", id, &st), &st, "final receive");
  assert_int_equal(x->state, S(COMPLETED));
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d1u_id, RS(ACTIVE));
  assert_int_equal(reads(w.tok_d2_reader, rec), GRPC_STATUS_PERMISSION_DENIED);
}

/* 001 Đ10.1: between two departments of the same district, one step; to another district it
 * is not "inside" and is refused as such. */
static void test_inside_an_agency(void **state) {
  (void)state;
  char rec[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, dep_a, "Vũ Thị Nội", rec), 0);
  assert_null(th_tr_begin(&tr, w.tok_d1_updater, rec, K(INTERNAL), w.d2_id, NULL, "2026-01-05", &st));
  th_expect(st.code, &st, GRPC_STATUS_INVALID_ARGUMENT, "to_unit_id");
  th_transfer *x = must(th_tr_begin(&tr, w.tok_d1_updater, rec, K(INTERNAL), dep_b, NULL, "2026-01-05", &st), &st, "start");
  assert_int_equal(x->steps[0]->kind, SK(MOVE_INSIDE));
  char id[32];
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  x = must(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st), &st, "send");
  assert_int_equal(x->state, S(COMPLETED));
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, dep_b, RS(ACTIVE));
}

/* ------------------------------------------------------------ secondments --------------- */

/* Biệt phái: the host unit reads the record (and changes nothing) while it lasts; ended early
 * by the managing unit, the host reads no more. */
static void test_secondment_ended_early(void **state) {
  (void)state;
  char rec[32], id[32], today[11];
  cli_status st;
  th_tr_day(0, today);
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Đặng Văn Phái", rec), 0);
  th_transfer *x = must(th_tr_begin(&tr, w.tok_d1_updater, rec, K(SECONDMENT), w.d2_id, NULL, today, &st), &st, "start");
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  x = must(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st), &st, "send");
  assert_int_equal(x->state, S(SECONDED));
  assert_int_equal(x->steps[1]->kind, SK(SECONDMENT_END));
  assert_string_equal(x->steps[1]->due_date, x->end_date);
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d1_id, RS(ACTIVE));
  assert_int_equal(reads(w.tok_d2_reader, rec), OK);
  x = must(th_tr_act(&tr, w.tok_d1_updater, "CancelTransfer", id, &st), &st, "end early");
  assert_int_equal(x->state, S(ENDED));
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  assert_int_equal(reads(w.tok_d2_reader, rec), GRPC_STATUS_PERMISSION_DENIED);
}

/* A secondment whose end date has passed ends by itself (the service's job), and both units
 * hear of it. */
static void test_secondment_ends_by_itself(void **state) {
  (void)state;
  char rec[32], id[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Bùi Thị Hết", rec), 0);
  Hoso__Transfers__V1__StartTransferRequest req = HOSO__TRANSFERS__V1__START_TRANSFER_REQUEST__INIT;
  req.record_id = rec;
  req.kind = K(SECONDMENT);
  req.to_unit_id = w.d2_id;
  req.decision = th_tr_decision("2025-03-03");
  req.end_date = "2025-06-30";
  Hoso__Transfers__V1__StartTransferResponse *o = NULL;
  if (th_tr_call(&tr, TR "StartTransfer", &req, &hoso__transfers__v1__start_transfer_response__descriptor,
                 (void **)&o, w.tok_d1_updater, &st) != OK)
    fail_msg("StartTransfer: %s", st.message);
  snprintf(id, sizeof id, "%s", o->transfer->id);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  th_tr_free(must(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st), &st, "send"));
  assert_int_equal(th_tr_wait_state(&tr, id, S(ENDED), WAIT_MS), 0);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  assert_int_equal(reads(w.tok_d2_reader, rec), GRPC_STATUS_PERMISSION_DENIED);
  char box[256];
  inbox(w.tok_d2_reader, w.d2_id, box, sizeof box);
  assert_non_null(strstr(box, "SECONDMENT_ENDED"));
  inbox(w.tok_d1_reader, w.d1_id, box, sizeof box);
  assert_non_null(strstr(box, "SECONDMENT_ENDED"));
}

/* Polls GetTransfer as tok until the transfer's sending unit is `from` (the follower applies
 * identity's feed by itself); the transfer then, or NULL. */
static th_transfer *wait_from(const char *tok, const char *id, const char *from) {
  for (int i = 0; i < 600; i++) {
    th_transfer *x = th_tr_get(&tr, tok, id, NULL);
    if (x && !strcmp(x->from_unit_id, from)) return x;
    th_tr_free(x);
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* Polls the record until records has moved it to `unit` (records follows identity's feed by
 * itself, as transfers does, each at its own pace); 0, or -1 after timeout_ms. */
static int wait_record_unit(const char *id, const char *unit, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 100) {
    Hoso__Records__V1__Record *r = th_tr_record(&tr, id);
    int there = r && !strcmp(r->managing_unit_id, unit);
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
    if (there) return 0;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return -1;
}

/* Transfers follow a merge (001 Đ5.5, the 2025 reorganisation): a school of district 1 starts a
 * transfer to district 2, then is dissolved into the other school (MergeUnits). The open
 * transfer, its open step and that step's deadline become the successor's: the successor's
 * updater sees it as its own and sends it, district 2 receives it, and the record (which records
 * moved to the successor meanwhile) ends in district 2. */
static void test_follows_a_unit_merge(void **state) {
  (void)state;
  char school[32], rec[32], id[32];
  cli_status st;
  assert_int_equal(th_world_unit(&w, w.d1_id, "LN-TH-SN", "Trường Tiểu học Song Nhận", 5, school, NULL), 0);
  char *school_updater = th_world_account_token(&w, "thsn.capnhat", school, HOSO__COMMON__V1__ROLE__UPDATER);
  assert_non_null(school_updater);
  assert_int_equal(th_world_record(&w, school_updater, school, "Hà Văn Sáp", rec), 0);
  th_transfer *x = must(th_tr_begin(&tr, school_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2026-01-05", &st), &st,
                        "start");
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  assert_null(th_tr_get(&tr, w.tok_d1u_updater, id, &st));
  assert_int_equal(st.code, GRPC_STATUS_PERMISSION_DENIED);

  Hoso__Identity__V1__MergeUnitsRequest mr = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  mr.source_unit_id = school;
  mr.target_unit_id = w.d1u_id;
  mr.reason = "Quyết định hợp nhất trường (thử nghiệm)";
  if (th_call(w.id_ch, "/hoso.identity.v1.Identity/MergeUnits", &mr, &hoso__identity__v1__merge_units_response__descriptor,
              NULL, w.tok_admin, &st) != OK)
    fail_msg("MergeUnits: %s", st.message);
  x = wait_from(w.tok_d1u_updater, id, w.d1u_id);
  assert_non_null(x);
  assert_int_equal(x->state, S(STARTED));
  assert_int_equal(x->n_steps, 1);
  assert_string_equal(x->steps[0]->unit_id, w.d1u_id); /* the open step is the successor's work */
  th_tr_free(x);
  /* Records follows the merge on its own poll (every 2 s), which may come after transfers'. The
   * send goes at once on purpose: its step names the tree transfers had followed
   * (unit_tree_seq), and records holds it (UNAVAILABLE, the outbox retries) until it has followed
   * as far, so the merge never enters the work history as a transfer (checked at the end: one
   * entry). Seen before that rule: the send 0.25 s after the merge made a second entry. */
  Hoso__Transfers__V1__Deadline *d = th_tr_wait_deadline(&tr, w.tok_d1u_updater, w.d1u_id, rec, SK(SEND), WAIT_MS);
  assert_non_null(d);
  assert_string_equal(d->transfer_id, id);
  assert_string_equal(d->unit_id, w.d1u_id);
  protobuf_c_message_free_unpacked(&d->base, NULL);
  /* Records follows the merge on its own: until it has, the record is still the dissolved
   * school's, and a step sent now would move it from there (a second entry in its transfers). */
  assert_int_equal(wait_record_unit(rec, w.d1u_id, WAIT_MS), 0);

  /* The successor sends, district 2 receives: the record ends there. */
  x = must(th_tr_act(&tr, w.tok_d1u_updater, "SendTransfer", id, &st), &st, "SendTransfer by the successor");
  assert_int_equal(x->state, S(SENT));
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d1u_id, RS(PENDING_TRANSFER));
  th_tr_free(must(th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st), &st, "ReceiveTransfer"));
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  record_is(rec, w.d2_id, RS(ACTIVE));
  Hoso__Records__V1__Record *r = th_tr_record(&tr, rec);
  assert_int_equal(r->n_transfers, 1);
  assert_string_equal(r->transfers[0]->from_unit, w.d1u_id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  free(school_updater);
}

/* Transfers follow the unit tree: the school moves from district 1 to district 2 (MoveUnit),
 * and the transfer it sends, with its open step's deadline, is district 2's to see from then on
 * (the transfers service applies identity's change feed by itself). Last: it changes the tree. */
static void test_follows_a_unit_move(void **state) {
  (void)state;
  char rec[32], id[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1u_updater, w.d1u_id, "Mạc Văn Dời", rec), 0);
  th_transfer *x = must(th_tr_begin(&tr, w.tok_d1u_updater, rec, K(BETWEEN_UNITS), dep_a, NULL, "2026-01-05", &st),
                        &st, "start");
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  assert_null(th_tr_get(&tr, w.tok_d2_reader, id, &st));
  assert_int_equal(st.code, GRPC_STATUS_PERMISSION_DENIED);

  Hoso__Identity__V1__MoveUnitRequest mv = HOSO__IDENTITY__V1__MOVE_UNIT_REQUEST__INIT;
  mv.unit_id = w.d1u_id;
  mv.new_parent_id = w.d2_id;
  mv.reason = "Quyết định sắp xếp đơn vị hành chính (thử nghiệm)";
  if (th_call(w.id_ch, "/hoso.identity.v1.Identity/MoveUnit", &mv, &hoso__identity__v1__move_unit_response__descriptor,
              NULL, w.tok_admin, &st) != OK)
    fail_msg("MoveUnit: %s", st.message);
  int seen = 0;
  for (int i = 0; i < 600 && !seen; i++) {
    x = th_tr_get(&tr, w.tok_d2_reader, id, &st);
    seen = x != NULL;
    th_tr_free(x);
    if (!seen) {
      struct timespec ts = {0, 100 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  assert_true(seen);
  /* Its send step is district 2's deadline now. */
  Hoso__Transfers__V1__ListDeadlinesRequest req = HOSO__TRANSFERS__V1__LIST_DEADLINES_REQUEST__INIT;
  req.unit_id = w.d2_id;
  req.page_size = 500;
  Hoso__Transfers__V1__ListDeadlinesResponse *o = NULL;
  if (th_tr_call(&tr, TR "ListDeadlines", &req, &hoso__transfers__v1__list_deadlines_response__descriptor, (void **)&o,
                 w.tok_d2_reader, &st) != OK)
    fail_msg("ListDeadlines: %s", st.message);
  int found = 0;
  for (size_t i = 0; i < o->n_deadlines; i++) found |= !strcmp(o->deadlines[i]->transfer_id, id);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  assert_true(found);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_between_units_received),  cmocka_unit_test(test_rejected_and_cancelled),
      cmocka_unit_test(test_pull_refused_then_approved), cmocka_unit_test(test_forward_to_final_unit),
      cmocka_unit_test(test_inside_an_agency),        cmocka_unit_test(test_secondment_ended_early),
      cmocka_unit_test(test_secondment_ends_by_itself), cmocka_unit_test(test_follows_a_unit_merge),
      cmocka_unit_test(test_follows_a_unit_move),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
