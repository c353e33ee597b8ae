/* ChangeRecordStatus and SetManagingUnit over real gRPC and PostgreSQL: each status with its
 * decision, the work history it closes or reopens, who may change it, versions, idempotency;
 * the transfers service's move of a record, its idempotency and the access that moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define IDN "/hoso.identity.v1.Identity/"
#define ST(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x

typedef Hoso__Records__V1__Record Record;
typedef Hoso__Records__V1__Decision Decision;

static th_world w;
static PGconn *admin_db; /* superuser: inspection only */

/* ------------------------------------------------------------ helpers ------------------- */

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static char *sql_text(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  char *v = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static long long sql_long(const char *q, const char *p1) {
  char *v = sql_text(q, p1);
  long long n = atoll(v);
  free(v);
  return n;
}

static long long n_versions(const char *id) {
  return sql_long("SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint", id);
}

/* Every response used here is { Record record = 1; ... }: take the record out of it. */
typedef struct {
  ProtobufCMessage base;
  Record *record;
} rec_resp;

static grpc_status_code rec_call(const char *tok, const char *method, const void *req,
                                 const ProtobufCMessageDescriptor *d, Record **out, cli_status *st) {
  rec_resp *r = NULL;
  memset(st, 0, sizeof *st);
  grpc_status_code c = th_call(w.rec_ch, method, req, d, (void **)&r, tok, st);
  if (out) {
    *out = r ? r->record : NULL;
    if (r) r->record = NULL;
  }
  free_msg(r);
  return c;
}

/* r is read after the call (a pointer to it, as argument order is unspecified in C). */
static Record *must(grpc_status_code c, const cli_status *st, Record **r, const char *what) {
  if (c != GRPC_STATUS_OK) fail_msg("%s: %s %s", what, cli_status_name(c), st->message);
  return *r;
}

/* A dossier of unit `unit` with a finished and an open work-history entry (the job held now). */
static Record *new_record(const char *unit, const char *name) {
  Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__WorkHistoryEntry e[2] = {HOSO__RECORDS__V1__WORK_HISTORY_ENTRY__INIT,
                                              HOSO__RECORDS__V1__WORK_HISTORY_ENTRY__INIT};
  Hoso__Records__V1__WorkHistoryEntry *ep[2] = {&e[0], &e[1]};
  e[0].from = "2005-09";
  e[0].to = "2011-12";
  e[0].unit = "Trường THCS Thị trấn Đồi Ngô";
  e[0].position = "Giáo viên";
  e[1].from = "2012-01";
  e[1].unit = "UBND huyện Lục Nam";
  e[1].position = "Chuyên viên";
  Hoso__Records__V1__Employment emp = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  emp.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  emp.recruitment_date = "2005-09-01";
  r.employment = &emp;
  r.managing_unit_id = (char *)unit;
  r.full_name = (char *)name;
  r.birth_date = "1964-03-02";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  r.work_history = ep;
  r.n_work_history = 2;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &r;
  const char *tok = strcmp(unit, w.d2_id) == 0 ? w.tok_d2_updater : w.tok_d1_updater;
  Record *out = NULL;
  cli_status st;
  return must(rec_call(tok, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor, &out, &st),
              &st, &out, "CreateRecord");
}

/* Submitted by d1's updater and approved by d1's head: an approved, verified record. */
static Record *approved(Record *r) {
  cli_status st;
  Hoso__Records__V1__SubmitRecordRequest s = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  s.record_id = r->id;
  Record *out = NULL;
  must(rec_call(w.tok_d1_updater, REC "SubmitRecord", &s, &hoso__records__v1__submit_record_response__descriptor, &out,
                &st),
       &st, &out, "SubmitRecord");
  free_msg(out);
  Hoso__Records__V1__ApproveRecordRequest a = HOSO__RECORDS__V1__APPROVE_RECORD_REQUEST__INIT;
  a.record_id = r->id;
  out = NULL;
  must(rec_call(w.tok_d1_admin, REC "ApproveRecord", &a, &hoso__records__v1__approve_record_response__descriptor, &out,
                &st),
       &st, &out, "ApproveRecord");
  free_msg(r);
  return out;
}

static grpc_status_code get(const char *tok, const char *id, Record **out, cli_status *st) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  return rec_call(tok, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor, out, st);
}

/* The retirement decision most tests use: signed in December, effective on New Year's Day. */
static Decision decision(void) {
  Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "45/QĐ-UBND";
  d.date = "2025-12-15";
  d.effective_date = "2026-01-01";
  d.issuer = "UBND huyện Lục Nam";
  return d;
}

static grpc_status_code change_status(const char *tok, const char *id, int status, Decision *d, long long expected,
                                      const char *request_id, Record **out, cli_status *st) {
  Hoso__Records__V1__ChangeRecordStatusRequest req = HOSO__RECORDS__V1__CHANGE_RECORD_STATUS_REQUEST__INIT;
  req.record_id = (char *)id;
  req.status = (Hoso__Records__V1__RecordStatus)status;
  req.decision = d;
  req.expected_version = expected;
  req.request_id = (char *)(request_id ? request_id : "");
  return rec_call(tok, REC "ChangeRecordStatus", &req, &hoso__records__v1__change_record_status_response__descriptor,
                  out, st);
}

static grpc_status_code set_unit(const char *tok, const char *id, const char *unit, const char *transfer_id, int status,
                                 Record **out, cli_status *st) {
  Decision d = decision();
  d.number = "310/QĐ-UBND";
  d.issuer = "UBND tỉnh";
  Hoso__Records__V1__SetManagingUnitRequest req = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
  req.record_id = (char *)id;
  req.new_unit_id = (char *)unit;
  req.transfer_id = (char *)transfer_id;
  req.status = (Hoso__Records__V1__RecordStatus)status;
  req.decision = &d;
  return rec_call(tok, REC "SetManagingUnit", &req, &hoso__records__v1__set_managing_unit_response__descriptor, out, st);
}

/* The action of the newest version of record id. */
static char *last_action(const char *id) {
  return sql_text("SELECT action FROM records.record_versions WHERE record_id = $1::bigint ORDER BY version DESC LIMIT 1",
                  id);
}

/* ------------------------------------------------------------ set-up -------------------- */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  return PQstatus(admin_db) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  char rec_log[256];
  snprintf(rec_log, sizeof rec_log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  int errors = th_log_errors(rec_log); /* refusals must be chosen statuses, never faults */
  return rc == 0 && errors == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ ChangeRecordStatus -------- */

/* Retirement rests on its decision: the status, its date and decision are set, the open work
 * entry ends on the effective date (the finished one keeps its end), a new version "STATUS" is
 * written, and the record stays readable by the unit's reader as before (records are never
 * deleted, 000 Đ10). */
static void test_retire_closes_work_and_stays_readable(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Trần Văn Hưu");
  char id[32];
  snprintf(id, sizeof id, "%s", r->id);
  Decision d = decision();
  Record *out = NULL;
  cli_status st;
  th_expect(change_status(w.tok_d1_updater, id, ST(RETIRED), &d, r->version, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->status, ST(RETIRED));
  assert_string_equal(out->status_date, "2026-01-01");
  assert_string_equal(out->status_decision->number, "45/QĐ-UBND");
  assert_int_equal(out->version, r->version + 1);
  assert_string_equal(out->work_history[0]->to, "2011-12");
  assert_string_equal(out->work_history[1]->to, "2026-01-01");
  free_msg(out);
  free_msg(r);
  char *a = last_action(id);
  assert_string_equal(a, "STATUS");
  free(a);

  out = NULL;
  th_expect(get(w.tok_d1_reader, id, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->status, ST(RETIRED));
  assert_string_equal(out->full_name, "Trần Văn Hưu");
  assert_string_equal(out->work_history[1]->to, "2026-01-01");
  free_msg(out);
}

/* Resignation, death and transfer out of the system are leavings too: each sets its status
 * and date and closes the open work entry the same way (001 Đ10.3). */
static void test_each_leaving_status(void **state) {
  (void)state;
  const int statuses[] = {ST(RESIGNED), ST(DECEASED), ST(TRANSFERRED_OUT)};
  const char *dates[] = {"2025-07-01", "2025-11-20", "2026-02-01"};
  for (int i = 0; i < 3; i++) {
    Record *r = new_record(w.d1_id, "Lê Thị Rời");
    Decision d = decision();
    d.effective_date = (char *)dates[i];
    Record *out = NULL;
    cli_status st;
    th_expect(change_status(w.tok_d1_updater, r->id, statuses[i], &d, 0, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
    assert_int_equal(out->status, statuses[i]);
    assert_string_equal(out->status_date, dates[i]);
    assert_string_equal(out->work_history[1]->to, dates[i]);
    assert_int_equal(n_versions(r->id), 2);
    free_msg(out);
    free_msg(r);
  }
}

/* ACTIVE undoes a leaving entered by mistake: the work entry that leaving closed is open
 * again, the status date is the correcting decision's. A corrected leaving (resigned, in fact
 * retired) moves the end of the work to the new decision's date instead of keeping both. */
static void test_back_to_active_and_corrections(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Phạm Văn Nhầm");
  Decision d = decision();
  Record *out = NULL;
  cli_status st;
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RESIGNED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  free_msg(out);
  Decision d2 = decision();
  d2.number = "46/QĐ-UBND";
  d2.effective_date = "2026-03-01";
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d2, 0, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(out->work_history[1]->to, "2026-03-01");
  assert_string_equal(out->work_history[0]->to, "2011-12");
  free_msg(out);

  Decision back = decision();
  back.number = "50/QĐ-UBND";
  back.date = "2026-03-10";
  back.effective_date = "2026-03-10";
  th_expect(change_status(w.tok_d1_updater, r->id, ST(ACTIVE), &back, 0, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->status, ST(ACTIVE));
  assert_string_equal(out->status_date, "2026-03-10");
  assert_string_equal(out->status_decision->number, "50/QĐ-UBND");
  assert_string_equal(out->work_history[1]->to, "");
  assert_string_equal(out->work_history[0]->to, "2011-12");
  assert_int_equal(out->version, 4);
  free_msg(out);
  free_msg(r);
}

/* The decision is required and each of its parts is named when missing or malformed; nothing
 * is written for a refused call. */
static void test_decision_required(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Đỗ Thị Quyết");
  Record *out = NULL;
  cli_status st;
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), NULL, 0, NULL, &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "decision");
  Decision d = decision();
  d.number = "  ";
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "decision.number");
  d = decision();
  d.date = "";
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "decision.date");
  d = decision();
  d.effective_date = "2026-02-30";
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "decision.effective_date");
  /* Ending the current job before it began is refused, naming the date that is wrong. */
  d = decision();
  d.effective_date = "2011-06-30";
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "decision.effective_date");
  assert_int_equal(n_versions(r->id), 1);
  free_msg(r);
}

/* Which statuses this RPC sets: PENDING_TRANSFER belongs to a transfer, an unset status is
 * no status; and a record already in the status asked for is refused, not versioned again. */
static void test_status_values(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Vũ Văn Trạng");
  Decision d = decision();
  Record *out = NULL;
  cli_status st;
  th_expect(change_status(w.tok_d1_updater, r->id, ST(PENDING_TRANSFER), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "status");
  th_expect(change_status(w.tok_d1_updater, r->id, ST(UNSPECIFIED), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "status");
  th_expect(change_status(w.tok_d1_updater, r->id, 42, &d, 0, NULL, &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "status");
  th_expect(change_status(w.tok_d1_updater, r->id, ST(ACTIVE), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_FAILED_PRECONDITION, "status");
  th_expect(change_status(w.tok_d1_updater, "0", ST(RETIRED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "record_id");
  th_expect(change_status(w.tok_d1_updater, "987654321", ST(RETIRED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_NOT_FOUND,
         "record_id");
  assert_int_equal(n_versions(r->id), 1);
  free_msg(r);
}

/* Changing a status is an updater's right on the managing unit or a unit above it (001
 * Đ12.2): a reader, the head of the unit (approves, does not edit), an updater of a sibling
 * district, and an updater of a unit below are refused; d1's updater may change a record of
 * d1u below it. */
static void test_who_may_change_status(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Hoàng Văn Quyền");
  Decision d = decision();
  Record *out = NULL;
  cli_status st;
  const char *refused[] = {w.tok_d1_reader, w.tok_d1_admin, w.tok_d2_updater, w.tok_d1u_updater, w.tok_transfers};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    th_expect(change_status(refused[i], r->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
           NULL);
  assert_int_equal(n_versions(r->id), 1);
  free_msg(r);

  Record r2 = HOSO__RECORDS__V1__RECORD__INIT;
  r2.managing_unit_id = w.d1u_id;
  r2.full_name = "Ngô Thị Dưới";
  r2.birth_date = "1970-01-01";
  r2.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  Hoso__Records__V1__Employment emp = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  emp.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_PUBLIC_EMPLOYEE;
  r2.employment = &emp;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &r2;
  Record *below = must(rec_call(w.tok_d1u_updater, REC "CreateRecord", &req,
                                &hoso__records__v1__create_record_response__descriptor, &out, &st),
                       &st, &out, "CreateRecord d1u");
  th_expect(change_status(w.tok_d1_updater, below->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->status, ST(RETIRED));
  free_msg(out);
  free_msg(below);
}

/* A stale expected_version is ABORTED (someone else changed the record); a repeated
 * request_id returns the first result and writes no second version. */
static void test_status_version_and_idempotency(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Bùi Văn Lặp");
  Decision d = decision();
  Record *out = NULL, *again = NULL;
  cli_status st;
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, r->version + 5, NULL, &out, &st), &st,
         GRPC_STATUS_ABORTED, NULL);
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, r->version, "status-req-1", &out, &st), &st,
         GRPC_STATUS_OK, NULL);
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, r->version, "status-req-1", &again, &st), &st,
         GRPC_STATUS_OK, NULL);
  assert_int_equal(again->version, out->version);
  assert_int_equal(again->status, ST(RETIRED));
  assert_int_equal(n_versions(r->id), 2);
  free_msg(out);
  free_msg(again);
  free_msg(r);
}

/* The updater's status change that makes a record TRANSFERRED_OUT, sent again with the same
 * request_id (its reply was lost): the record is now read by its unit's administrators only,
 * yet the replay answers as the first call did — OK with the record's id — and writes nothing. */
static void test_status_replay_after_transferred_out(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Đỗ Văn Ra Đi");
  Decision d = decision();
  Record *out = NULL, *again = NULL;
  cli_status st;
  th_expect(change_status(w.tok_d1_updater, r->id, ST(TRANSFERRED_OUT), &d, r->version, "status-out-1", &out, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->status, ST(TRANSFERRED_OUT));
  th_expect(get(w.tok_d1_updater, r->id, &again, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(change_status(w.tok_d1_updater, r->id, ST(TRANSFERRED_OUT), &d, r->version, "status-out-1", &again, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(again->id, r->id);
  assert_int_equal(n_versions(r->id), 2);
  free_msg(out);
  free_msg(again);
  free_msg(r);
}

/* The service's one rule for changes an updater enters from a decision (rpc_record.c): they
 * apply at once and an approved record awaits verification again. The status change and its
 * audit row are written together. */
static void test_status_unverifies_approved_record(void **state) {
  (void)state;
  Record *r = approved(new_record(w.d1_id, "Đinh Thị Duyệt"));
  assert_true(r->verified);
  Decision d = decision();
  Record *out = NULL;
  cli_status st;
  th_expect(change_status(w.tok_d1_updater, r->id, ST(DECEASED), &d, r->version, NULL, &out, &st), &st, GRPC_STATUS_OK,
         NULL);
  assert_false(out->verified);
  assert_int_equal(out->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_STATUS' AND target_id = $1",
                            r->id),
                   1);
  free_msg(out);
  free_msg(r);
}

/* ------------------------------------------------------------ SetManagingUnit ----------- */

/* The transfers service moves a record from d1 to d2: the managing unit, its path and the
 * records.unit_path column change, a transfer entry with the decision is added, and access
 * moves at once (003 Đ7.3): d1's reader is refused, d2's reader reads it. */
static void test_set_managing_unit_moves_access(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Lý Văn Chuyển");
  char id[32];
  snprintf(id, sizeof id, "%s", r->id);
  Record *out = NULL;
  cli_status st;
  th_expect(get(w.tok_d2_reader, id, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(set_unit(w.tok_transfers, id, w.d2_id, "tr-1001", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(out->managing_unit_id, w.d2_id);
  assert_string_equal(out->managing_unit_path, w.d2_path);
  assert_int_equal(out->status, ST(ACTIVE));
  assert_int_equal(out->n_transfers, 1);
  assert_string_equal(out->transfers[0]->from_unit, w.d1_id);
  assert_string_equal(out->transfers[0]->to_unit, w.d2_id);
  assert_string_equal(out->transfers[0]->from, "2026-01-01");
  assert_string_equal(out->transfers[0]->decision->number, "310/QĐ-UBND");
  free_msg(out);
  free_msg(r);
  char *path = sql_text("SELECT unit_path::text FROM records.records WHERE id = $1::bigint", id);
  assert_string_equal(path, w.d2_path);
  free(path);
  char *a = last_action(id);
  assert_string_equal(a, "MANAGING_UNIT");
  free(a);

  th_expect(get(w.tok_d1_reader, id, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(get(w.tok_d2_reader, id, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(out->full_name, "Lý Văn Chuyển");
  free_msg(out);
  /* The new unit's updater edits it now; the old unit's no longer does. */
  Decision d = decision();
  th_expect(change_status(w.tok_d1_updater, id, ST(RETIRED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
         NULL);
  th_expect(change_status(w.tok_d2_updater, id, ST(RETIRED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  free_msg(out);
}

/* Idempotent by transfer: the same step again returns the record and writes no version. A
 * transfer moves in steps under one transfer id (sent: PENDING_TRANSFER at the old unit;
 * received: ACTIVE at the new one): each step applies once. */
static void test_set_managing_unit_idempotent_steps(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Mai Thị Bước");
  Record *out = NULL;
  cli_status st;
  th_expect(set_unit(w.tok_transfers, r->id, w.d1_id, "tr-2002", ST(PENDING_TRANSFER), &out, &st), &st, GRPC_STATUS_OK,
         NULL);
  assert_int_equal(out->status, ST(PENDING_TRANSFER));
  assert_string_equal(out->managing_unit_id, w.d1_id);
  assert_int_equal(out->n_transfers, 0); /* not moved yet */
  free_msg(out);
  th_expect(set_unit(w.tok_transfers, r->id, w.d1_id, "tr-2002", ST(PENDING_TRANSFER), &out, &st), &st, GRPC_STATUS_OK,
         NULL);
  assert_int_equal(out->version, 2);
  free_msg(out);
  assert_int_equal(n_versions(r->id), 2);

  /* While the transfer runs, nobody changes the status beside it. */
  Decision d = decision();
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st,
         GRPC_STATUS_FAILED_PRECONDITION, "record_id");

  th_expect(set_unit(w.tok_transfers, r->id, w.d2_id, "tr-2002", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->version, 3);
  assert_string_equal(out->managing_unit_id, w.d2_id);
  assert_int_equal(out->status, ST(ACTIVE));
  free_msg(out);
  th_expect(set_unit(w.tok_transfers, r->id, w.d2_id, "tr-2002", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->version, 3);
  assert_int_equal(out->n_transfers, 1);
  free_msg(out);
  assert_int_equal(n_versions(r->id), 3);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_MANAGING_UNIT' "
                            "AND target_id = $1",
                            r->id),
                   2);
  free_msg(r);
}

/* A second service client, granted the whole province like the transfers service. */
static char *other_service_token(void) {
  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[1] = {w.root_id};
  req.name = "Hệ thống báo cáo thống kê";
  req.unit_ids = units;
  req.n_unit_ids = 1;
  req.approval_reference = "Văn bản chấp thuận số 02/SNV-TEST";
  Hoso__Identity__V1__CreateServiceClientResponse *r = NULL;
  cli_status st;
  grpc_status_code c = th_call(w.id_ch, IDN "CreateServiceClient", &req,
                               &hoso__identity__v1__create_service_client_response__descriptor, (void **)&r, w.tok_admin, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateServiceClient: %s %s", cli_status_name(c), st.message);
  Hoso__Identity__V1__ServiceLoginRequest sl = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  sl.client_id = r->client->client_id;
  sl.client_secret = r->client_secret;
  Hoso__Identity__V1__ServiceLoginResponse *lr = NULL;
  c = th_call(w.id_ch, IDN "ServiceLogin", &sl, &hoso__identity__v1__service_login_response__descriptor, (void **)&lr,
              NULL, &st);
  free_msg(r);
  if (c != GRPC_STATUS_OK) fail_msg("ServiceLogin: %s %s", cli_status_name(c), st.message);
  char *tok = strdup(lr->access_token);
  free_msg(lr);
  return tok;
}

/* Reserved for the transfers service: the system administrator, an updater of the record's
 * unit and another service client with the same grant are all refused, and nothing moves. */
static void test_set_managing_unit_reserved(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Tạ Văn Giữ");
  char *other = other_service_token();
  Record *out = NULL;
  cli_status st;
  const char *refused[] = {w.tok_admin, w.tok_d1_updater, w.tok_d1_admin, other};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    th_expect(set_unit(refused[i], r->id, w.d2_id, "tr-3003", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
           NULL);
    assert_non_null(strstr(st.message, "transfers service"));
  }
  th_expect(set_unit(NULL, r->id, w.d2_id, "tr-3003", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
  assert_int_equal(n_versions(r->id), 1);
  free(other);
  /* The refused calls did not claim the transfer id: the transfers service still moves it. */
  th_expect(set_unit(w.tok_transfers, r->id, w.d2_id, "tr-3003", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(out->managing_unit_id, w.d2_id);
  free_msg(out);
  free_msg(r);
}

/* Bad input names its field before anything is looked at: the transfer id, the status after
 * the step, the decision, and a unit that does not exist. */
static void test_set_managing_unit_bad_input(void **state) {
  (void)state;
  Record *r = new_record(w.d1_id, "Cao Thị Sai");
  Record *out = NULL;
  cli_status st;
  th_expect(set_unit(w.tok_transfers, r->id, w.d2_id, "", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "transfer_id");
  th_expect(set_unit(w.tok_transfers, r->id, w.d2_id, "tr-4004", ST(RETIRED), &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "status");
  th_expect(set_unit(w.tok_transfers, r->id, "abc", "tr-4004", ST(ACTIVE), &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "new_unit_id");
  th_expect(set_unit(w.tok_transfers, r->id, "987654", "tr-4004", ST(ACTIVE), &out, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "new_unit_id");
  Hoso__Records__V1__SetManagingUnitRequest req = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
  req.record_id = r->id;
  req.new_unit_id = w.d2_id;
  req.transfer_id = "tr-4004";
  req.status = ST(ACTIVE);
  th_expect(rec_call(w.tok_transfers, REC "SetManagingUnit", &req, &hoso__records__v1__set_managing_unit_response__descriptor,
                  &out, &st),
         &st, GRPC_STATUS_INVALID_ARGUMENT, "decision");
  assert_int_equal(n_versions(r->id), 1);
  /* A person who left is not transferred. */
  Decision d = decision();
  th_expect(change_status(w.tok_d1_updater, r->id, ST(RETIRED), &d, 0, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  free_msg(out);
  th_expect(set_unit(w.tok_transfers, r->id, w.d2_id, "tr-4005", ST(ACTIVE), &out, &st), &st,
         GRPC_STATUS_FAILED_PRECONDITION, "record_id");
  free_msg(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_retire_closes_work_and_stays_readable),
      cmocka_unit_test(test_each_leaving_status),
      cmocka_unit_test(test_back_to_active_and_corrections),
      cmocka_unit_test(test_decision_required),
      cmocka_unit_test(test_status_values),
      cmocka_unit_test(test_who_may_change_status),
      cmocka_unit_test(test_status_version_and_idempotency),
      cmocka_unit_test(test_status_replay_after_transferred_out),
      cmocka_unit_test(test_status_unverifies_approved_record),
      cmocka_unit_test(test_set_managing_unit_moves_access),
      cmocka_unit_test(test_set_managing_unit_idempotent_steps),
      cmocka_unit_test(test_set_managing_unit_reserved),
      cmocka_unit_test(test_set_managing_unit_bad_input),
  };
  return cmocka_run_group_tests_name("records_status", tests, setup, teardown);
}
