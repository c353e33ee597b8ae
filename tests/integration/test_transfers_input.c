/* What the transfers service refuses, and that a refusal changes nothing (no transfer, step,
 * outbox row, notice, document or audit row, the record untouched): unknown record or unit,
 * a transfer to the managing unit, a decision without number or effective date or effective
 * far ahead, a scan that is not PDF/JPEG/PNG by its content, a record not active or already in
 * transfer, acting outside one's scope. Two units acting on one transfer at once: exactly one
 * wins. Who sees which transfers, and in what order. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "th_transfers.h"

#define K(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define S(x) HOSO__TRANSFERS__V1__TRANSFER_STATE__TRANSFER_STATE_##x
#define BOX(x) HOSO__TRANSFERS__V1__BOX__BOX_##x
#define OK GRPC_STATUS_OK
#define WAIT_MS 60000
#define ROUNDS 8

static th_world w;
static th_tr tr;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0 || th_tr_start(&tr, &w, NULL) != 0) return -1;
  db = PQconnectdb(w.pg.admin_dsn);
  return PQstatus(db) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  PQfinish(db);
  char logs[2][256];
  snprintf(logs[0], 256, "%s", tr.svc.log);
  snprintf(logs[1], 256, "%s", w.records.log);
  int rc = th_tr_stop(&tr) | th_world_stop(&w);
  for (int i = 0; i < 2; i++) rc |= th_log_errors(logs[i]) != 0;
  return rc ? -1 : 0;
}

static long long sql_long(const char *sql) {
  PGresult *r = PQexec(db, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

/* Everything a transfer call could write, summed over the tables, and the records' versions.
 * (Records' own deadlines, source 2, are copied by the service's job whenever records change.) */
static long long footprint(void) {
  return sql_long("SELECT (SELECT count(*) FROM transfers.transfers) + (SELECT count(*) FROM transfers.transfer_steps) "
                  "+ (SELECT count(*) FROM transfers.outbox) + (SELECT count(*) FROM transfers.notices) "
                  "+ (SELECT count(*) FROM transfers.documents) "
                  "+ (SELECT count(*) FROM transfers.deadlines WHERE source = 1) "
                  "+ (SELECT count(*) FROM transfers.audit_log) + (SELECT count(*) FROM records.record_versions)");
}

static Hoso__Transfers__V1__StartTransferRequest start_req(const char *rec, const char *to) {
  Hoso__Transfers__V1__StartTransferRequest req = HOSO__TRANSFERS__V1__START_TRANSFER_REQUEST__INIT;
  req.record_id = (char *)rec;
  req.kind = K(BETWEEN_UNITS);
  req.to_unit_id = (char *)to;
  req.decision = th_tr_decision("2026-01-05");
  req.decision_scan = th_tr_scan();
  return req;
}

static void refuse(const char *tok, Hoso__Transfers__V1__StartTransferRequest *req, grpc_status_code want,
                   const char *field) {
  long long before = footprint();
  cli_status st;
  grpc_status_code c = th_tr_call(&tr, TR "StartTransfer", req, &hoso__transfers__v1__start_transfer_response__descriptor,
                                  NULL, tok, &st);
  th_expect(c, &st, want, field);
  if (footprint() != before) fail_msg("a refused StartTransfer (%s) changed something", st.message);
}

/* Each bad StartTransfer is refused with the status and the field the contract names, and
 * leaves every table as it was. */
static void test_bad_input_changes_nothing(void **state) {
  (void)state;
  char rec[32], left[32], busy[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Ngô Văn Sai", rec), 0);
  Hoso__Transfers__V1__StartTransferRequest req = start_req("99999999", w.d2_id);
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_NOT_FOUND, "record_id");
  req = start_req(rec, "99999999");
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_NOT_FOUND, "to_unit_id");
  req = start_req(rec, w.d1_id);
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_INVALID_ARGUMENT, "to_unit_id");
  req = start_req(rec, w.d2_id);
  req.decision->number = "";
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_INVALID_ARGUMENT, "decision.number");
  req = start_req(rec, w.d2_id);
  req.decision->effective_date = "";
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_INVALID_ARGUMENT, "decision.effective_date");
  char far[11];
  th_tr_day(400, far);
  req = start_req(rec, w.d2_id);
  req.decision->effective_date = far;
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_INVALID_ARGUMENT, "decision.effective_date");
  req = start_req(rec, w.d2_id);
  req.decision = NULL;
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_INVALID_ARGUMENT, "decision");
  /* A Word document renamed .pdf is told by its content. */
  static const char docx[] = "PK\x03\x04 word/document.xml";
  Hoso__Transfers__V1__Scan bad = HOSO__TRANSFERS__V1__SCAN__INIT;
  bad.file_name = "quyet-dinh.pdf";
  bad.content.data = (uint8_t *)docx;
  bad.content.len = sizeof docx - 1;
  req = start_req(rec, w.d2_id);
  req.decision_scan = &bad;
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_INVALID_ARGUMENT, "decision_scan.content");
  /* Outside one's scope: district 2 moves district 1's record; a reader starts anything. */
  req = start_req(rec, w.d2_id);
  refuse(w.tok_d2_updater, &req, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  refuse(w.tok_d1_reader, &req, GRPC_STATUS_PERMISSION_DENIED, NULL);

  /* A person who left is not transferred. */
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Đỗ Thị Nghỉ", left), 0);
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "9/QĐ-UBND";
  d.date = "2026-01-02";
  d.effective_date = "2026-01-02";
  Hoso__Records__V1__ChangeRecordStatusRequest cs = HOSO__RECORDS__V1__CHANGE_RECORD_STATUS_REQUEST__INIT;
  cs.record_id = left;
  cs.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RETIRED;
  cs.decision = &d;
  assert_int_equal(th_call(w.rec_ch, "/hoso.records.v1.Records/ChangeRecordStatus", &cs,
                           &hoso__records__v1__change_record_status_response__descriptor, NULL, w.tok_d1_updater, &st),
                   OK);
  req = start_req(left, w.d2_id);
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_FAILED_PRECONDITION, "record_id");

  /* One open transfer per record. */
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Lý Văn Bận", busy), 0);
  th_tr_free(th_tr_begin(&tr, w.tok_d1_updater, busy, K(BETWEEN_UNITS), w.d2_id, NULL, "2026-01-05", &st));
  assert_int_equal(st.code, OK);
  req = start_req(busy, w.d2_id);
  refuse(w.tok_d1_updater, &req, GRPC_STATUS_FAILED_PRECONDITION, "record_id");

  /* A repeated request id returns the first transfer and makes no second. */
  req = start_req(rec, w.d2_id);
  req.request_id = "start-ngo-van-sai-1";
  Hoso__Transfers__V1__StartTransferResponse *a = NULL, *b = NULL;
  assert_int_equal(th_tr_call(&tr, TR "StartTransfer", &req, &hoso__transfers__v1__start_transfer_response__descriptor,
                              (void **)&a, w.tok_d1_updater, &st),
                   OK);
  long long before = footprint();
  assert_int_equal(th_tr_call(&tr, TR "StartTransfer", &req, &hoso__transfers__v1__start_transfer_response__descriptor,
                              (void **)&b, w.tok_d1_updater, &st),
                   OK);
  assert_string_equal(a->transfer->id, b->transfer->id);
  assert_true(footprint() == before);
  protobuf_c_message_free_unpacked(&a->base, NULL);
  protobuf_c_message_free_unpacked(&b->base, NULL);
}

/* Acting on a transfer that is not one's own, or in the wrong state, is refused and changes
 * nothing; reasons are required where the contract says. */
static void test_bad_actions_change_nothing(void **state) {
  (void)state;
  char rec[32], id[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Mai Văn Lạc", rec), 0);
  th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2026-01-05", &st);
  assert_non_null(x);
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  long long before = footprint();
  assert_null(th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st)); /* not sent yet */
  th_expect(st.code, &st, GRPC_STATUS_FAILED_PRECONDITION, "transfer_id");
  assert_null(th_tr_act(&tr, w.tok_d2_updater, "SendTransfer", id, &st)); /* not the sender */
  th_expect(st.code, &st, GRPC_STATUS_PERMISSION_DENIED, "transfer_id");
  assert_null(th_tr_get(&tr, w.tok_d1u_updater, id, &st)); /* a unit it does not concern */
  th_expect(st.code, &st, GRPC_STATUS_PERMISSION_DENIED, "transfer_id");
  assert_null(th_tr_get(&tr, w.tok_d1_reader, "9999999", &st));
  th_expect(st.code, &st, GRPC_STATUS_NOT_FOUND, "transfer_id");
  Hoso__Transfers__V1__CancelTransferRequest c = HOSO__TRANSFERS__V1__CANCEL_TRANSFER_REQUEST__INIT;
  c.transfer_id = id;
  th_expect(th_tr_call(&tr, TR "CancelTransfer", &c, &hoso__transfers__v1__cancel_transfer_response__descriptor, NULL,
                       w.tok_d1_updater, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "reason");
  Hoso__Transfers__V1__SendTransferRequest s = HOSO__TRANSFERS__V1__SEND_TRANSFER_REQUEST__INIT;
  s.transfer_id = id;
  s.expected_version = 99;
  th_expect(th_tr_call(&tr, TR "SendTransfer", &s, &hoso__transfers__v1__send_transfer_response__descriptor, NULL,
                       w.tok_d1_updater, &st),
            &st, GRPC_STATUS_ABORTED, "expected_version");
  assert_true(footprint() == before);
}

/* ------------------------------------------------------------ receive vs cancel --------- */

typedef struct {
  const char *tok, *method, *id;
  pthread_barrier_t *go;
  grpc_status_code got;
  char msg[1024];
} racer;

static void *race(void *p) {
  racer *r = p;
  cli_status st;
  pthread_barrier_wait(r->go);
  th_transfer *x = th_tr_act(&tr, r->tok, r->method, r->id, &st);
  r->got = x ? OK : st.code;
  snprintf(r->msg, sizeof r->msg, "%s", x ? "" : st.message);
  th_tr_free(x);
  return NULL;
}

/* The receiving unit receives while the sender cancels, at once, many times: each time exactly
 * one wins, the other is told why (FAILED_PRECONDITION), and the record ends where the winner
 * put it, moved once. */
static void test_receive_and_cancel_at_once(void **state) {
  (void)state;
  int received = 0, cancelled = 0;
  for (int i = 0; i < ROUNDS; i++) {
    char rec[32], id[32], name[64];
    cli_status st;
    snprintf(name, sizeof name, "Người Tranh Chấp %d", i);
    assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, name, rec), 0);
    th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2026-01-05", &st);
    assert_non_null(x);
    snprintf(id, sizeof id, "%s", x->id);
    th_tr_free(x);
    th_tr_free(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st));
    assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    racer a = {.tok = w.tok_d2_updater, .method = "ReceiveTransfer", .id = id, .go = &go};
    racer b = {.tok = w.tok_d1_updater, .method = "CancelTransfer", .id = id, .go = &go};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&go);
    if ((a.got == OK) == (b.got == OK))
      fail_msg("round %d: receive %s (%s), cancel %s (%s)", i, cli_status_name(a.got), a.msg, cli_status_name(b.got),
               b.msg);
    racer *loser = a.got == OK ? &b : &a;
    assert_int_equal(loser->got, GRPC_STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(loser->msg, "transfer_id: transfer"));
    assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
    Hoso__Records__V1__Record *r = th_tr_record(&tr, rec);
    assert_string_equal(r->managing_unit_id, a.got == OK ? w.d2_id : w.d1_id);
    assert_int_equal(r->status, HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE);
    assert_int_equal(r->n_transfers, a.got == OK ? 1 : 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    received += a.got == OK;
    cancelled += b.got == OK;
  }
  fprintf(stderr, "receive vs cancel: %d received, %d cancelled in %d rounds\n", received, cancelled, ROUNDS);
}

/* ------------------------------------------------------------ who sees what ------------- */

static int listed(const char *tok, const char *unit, int box, const char *want_ids[], size_t n_want) {
  Hoso__Transfers__V1__ListTransfersRequest req = HOSO__TRANSFERS__V1__LIST_TRANSFERS_REQUEST__INIT;
  req.unit_id = (char *)(unit ? unit : "");
  req.box = box;
  req.page_size = 500;
  Hoso__Transfers__V1__ListTransfersResponse *o = NULL;
  cli_status st;
  if (th_tr_call(&tr, TR "ListTransfers", &req, &hoso__transfers__v1__list_transfers_response__descriptor, (void **)&o,
                 tok, &st) != OK)
    fail_msg("ListTransfers: %s", st.message);
  size_t found = 0;
  for (size_t i = 0; i < n_want; i++)
    for (size_t k = 0; k < o->n_transfers; k++)
      if (!strcmp(o->transfers[k]->id, want_ids[i])) found++;
  int n = (int)o->n_transfers;
  /* Overdue first: the due dates never go down along the list (empty ones last). */
  for (size_t k = 1; k < o->n_transfers; k++) {
    const char *p = o->transfers[k - 1]->due_date, *q = o->transfers[k]->due_date;
    if (*q && (!*p || strcmp(p, q) > 0)) fail_msg("ListTransfers out of order: %s before %s", p, q);
  }
  protobuf_c_message_free_unpacked(&o->base, NULL);
  return found == n_want ? n : -1;
}

/* A unit sees the transfers it sends or receives and those of the units below it; nobody else
 * does. District 1 sees a transfer into its school; the school sees only that one. */
static void test_scope_of_lists(void **state) {
  (void)state;
  char r1[32], r2[32], a[32], b[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Người Đi Yên Thế", r1), 0);
  assert_int_equal(th_world_record(&w, w.tok_d2_updater, w.d2_id, "Người Về Đồi Ngô", r2), 0);
  th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, r1, K(BETWEEN_UNITS), w.d2_id, NULL, "2025-01-20", &st);
  snprintf(a, sizeof a, "%s", x->id);
  th_tr_free(x);
  x = th_tr_begin(&tr, w.tok_d2_updater, r2, K(BETWEEN_UNITS), w.d1u_id, NULL, "2026-01-05", &st);
  snprintf(b, sizeof b, "%s", x->id);
  th_tr_free(x);
  const char *ab[2] = {a, b}, *only_a[1] = {a}, *only_b[1] = {b};
  assert_true(listed(w.tok_admin, NULL, 0, ab, 2) >= 2);
  assert_true(listed(w.tok_d1_reader, NULL, 0, ab, 2) >= 2);
  assert_true(listed(w.tok_d2_reader, NULL, 0, ab, 2) >= 2);
  int n = listed(w.tok_d1u_updater, NULL, 0, only_b, 1);
  assert_int_equal(n, 1);
  assert_int_equal(listed(w.tok_d2_reader, w.d2_id, BOX(INBOX), only_a, 1) >= 1, 1);
  assert_int_equal(listed(w.tok_d2_reader, w.d2_id, BOX(OUTBOX), only_b, 1) >= 1, 1);
  assert_int_equal(listed(w.tok_d2_reader, w.d2_id, BOX(INBOX), only_b, 1), -1);
  /* A unit outside one's scope is not a list one may ask for. */
  Hoso__Transfers__V1__ListTransfersRequest req = HOSO__TRANSFERS__V1__LIST_TRANSFERS_REQUEST__INIT;
  req.unit_id = w.d1_id;
  th_expect(th_tr_call(&tr, TR "ListTransfers", &req, &hoso__transfers__v1__list_transfers_response__descriptor, NULL,
                       w.tok_d2_reader, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_input_changes_nothing), cmocka_unit_test(test_bad_actions_change_nothing),
      cmocka_unit_test(test_receive_and_cancel_at_once), cmocka_unit_test(test_scope_of_lists),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
