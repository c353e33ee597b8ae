/* Change requests (phiếu bổ sung lý lịch, 001 Đ9.2a) over real gRPC and PostgreSQL: a person
 * declares changes to their own record only and only to the parts a person declares; the unit
 * approves (applied, verified, versioned) or rejects with a reason; who lists and decides what;
 * the one-working-day deadline; stale bases merged or refused; requests follow a transfer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <pthread.h>
#include <libpq-fe.h>
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define CRS(x) HOSO__RECORDS__V1__CHANGE_REQUEST_STATE__CHANGE_REQUEST_STATE_##x

typedef Hoso__Records__V1__Record Record;
typedef Hoso__Records__V1__ChangeRequest CR;
typedef Hoso__Records__V1__FamilyRelation Family;

static th_world w;
static PGconn *admin_db; /* superuser: inspection only */

/* ------------------------------------------------------------ helpers ------------------- */

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static char *sql_text(const char *q, const char *p1, const char *p2) {
  const char *params[2] = {p1, p2};
  PGresult *r = PQexecParams(admin_db, q, p2 ? 2 : p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  char *v = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static long long sql_long(const char *q, const char *p1, const char *p2) {
  char *v = sql_text(q, p1, p2);
  long long n = atoll(v);
  free(v);
  return n;
}

static grpc_status_code call(const char *tok, const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                             void *out, cli_status *st) {
  memset(st, 0, sizeof *st);
  return th_call(w.rec_ch, method, req, d, (void **)out, tok, st);
}

/* A dossier of d1 (or of `unit`) as its updater enters it: identity, papers, the job, salary,
 * two parents. Approved by d1's head (submitted, then approved) when `approve` is set. */
static Record *new_record(const char *unit, const char *tok, const char *name, int approve) {
  Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  Hoso__Records__V1__SalaryInfo s = HOSO__RECORDS__V1__SALARY_INFO__INIT;
  Family f[2] = {HOSO__RECORDS__V1__FAMILY_RELATION__INIT, HOSO__RECORDS__V1__FAMILY_RELATION__INIT};
  Family *fp[2] = {&f[0], &f[1]};
  p.ethnicity_code = "01";
  p.home_town = "Xã Tiên Hưng, huyện Lục Nam, tỉnh Bắc Giang";
  p.current_address = "Thị trấn Đồi Ngô, huyện Lục Nam";
  p.phone = "0204 3884 123";
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  e.recruitment_date = "2009-09-01";
  s.rank_code = "01.003";
  s.step = 3;
  s.coefficient = "3.00";
  f[0].relation_code = "FATHER";
  f[0].full_name = "Nguyễn Văn Bình";
  f[0].birth_year = "1958";
  f[1].relation_code = "MOTHER";
  f[1].full_name = "Lê Thị Mai";
  f[1].birth_year = "1961";
  r.managing_unit_id = (char *)unit;
  r.full_name = (char *)name;
  r.birth_date = "1986-04-12";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  r.personal = &p;
  r.employment = &e;
  r.salary = &s;
  r.family = fp;
  r.n_family = 2;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &r;
  Hoso__Records__V1__CreateRecordResponse *cr = NULL;
  cli_status st;
  grpc_status_code c = call(tok, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor, &cr, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateRecord: %s %s", cli_status_name(c), st.message);
  Record *out = cr->record;
  cr->record = NULL;
  free_msg(cr);
  if (!approve) return out;
  Hoso__Records__V1__SubmitRecordRequest sr = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  sr.record_id = out->id;
  c = call(tok, REC "SubmitRecord", &sr, &hoso__records__v1__submit_record_response__descriptor, NULL, &st);
  if (c != GRPC_STATUS_OK) fail_msg("SubmitRecord: %s %s", cli_status_name(c), st.message);
  Hoso__Records__V1__ApproveRecordRequest ar = HOSO__RECORDS__V1__APPROVE_RECORD_REQUEST__INIT;
  ar.record_id = out->id;
  const char *head = strcmp(unit, w.d2_id) == 0 ? w.tok_d2_admin : w.tok_d1_admin;
  Hoso__Records__V1__ApproveRecordResponse *a = NULL;
  c = call(head, REC "ApproveRecord", &ar, &hoso__records__v1__approve_record_response__descriptor, &a, &st);
  if (c != GRPC_STATUS_OK) fail_msg("ApproveRecord: %s %s", cli_status_name(c), st.message);
  free_msg(out);
  out = a->record;
  a->record = NULL;
  free_msg(a);
  return out;
}

static Record *must_get(const char *tok, const char *id) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  Hoso__Records__V1__GetRecordResponse *r = NULL;
  cli_status st;
  grpc_status_code c = call(tok, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor, &r, &st);
  if (c != GRPC_STATUS_OK) fail_msg("GetRecord %s: %s %s", id, cli_status_name(c), st.message);
  Record *out = r->record;
  r->record = NULL;
  free_msg(r);
  return out;
}

static grpc_status_code declare(const char *tok, Record *proposed, long long base, const char *note,
                                const char *request_id, CR **out, cli_status *st) {
  Hoso__Records__V1__CreateChangeRequestRequest req = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  req.proposed = proposed;
  req.base_version = base;
  req.note = (char *)(note ? note : "");
  req.request_id = (char *)(request_id ? request_id : "");
  Hoso__Records__V1__CreateChangeRequestResponse *r = NULL;
  grpc_status_code c =
      call(tok, REC "CreateChangeRequest", &req, &hoso__records__v1__create_change_request_response__descriptor, &r, st);
  if (out) {
    *out = r ? r->change_request : NULL;
    if (r) r->change_request = NULL;
  }
  free_msg(r);
  return c;
}

/* The record as its person reads it, with a new phone number (or, with address set, a new
 * current address) declared: the pointer is put back before the message is freed (it is not
 * the message's own memory). */
static grpc_status_code declare_personal(const char *self, const char *record_id, int address, const char *value,
                                         CR **out, cli_status *st) {
  Record *r = must_get(self, record_id);
  char **slot = address ? &r->personal->current_address : &r->personal->phone, *old = *slot;
  *slot = (char *)value;
  grpc_status_code c = declare(self, r, r->version, address ? "Chuyển nơi ở" : "Đổi số điện thoại", NULL, out, st);
  *slot = old;
  free_msg(r);
  return c;
}

static grpc_status_code declare_phone(const char *self, const char *record_id, const char *phone, CR **out,
                                      cli_status *st) {
  return declare_personal(self, record_id, 0, phone, out, st);
}

static CR *must_declare_phone(const char *self, const char *record_id, const char *phone) {
  CR *cr = NULL;
  cli_status st;
  th_expect(declare_phone(self, record_id, phone, &cr, &st), &st, GRPC_STATUS_OK, NULL);
  return cr;
}

static grpc_status_code approve_cr(const char *tok, const char *id, const char *note, CR **cr, Record **rec,
                                   cli_status *st) {
  Hoso__Records__V1__ApproveChangeRequestRequest req = HOSO__RECORDS__V1__APPROVE_CHANGE_REQUEST_REQUEST__INIT;
  req.change_request_id = (char *)id;
  req.note = (char *)(note ? note : "");
  Hoso__Records__V1__ApproveChangeRequestResponse *r = NULL;
  grpc_status_code c =
      call(tok, REC "ApproveChangeRequest", &req, &hoso__records__v1__approve_change_request_response__descriptor, &r, st);
  if (cr) *cr = r ? r->change_request : NULL;
  if (rec) *rec = r ? r->record : NULL;
  if (r && cr) r->change_request = NULL;
  if (r && rec) r->record = NULL;
  free_msg(r);
  return c;
}

static grpc_status_code reject_cr(const char *tok, const char *id, const char *reason, CR **cr, cli_status *st) {
  Hoso__Records__V1__RejectChangeRequestRequest req = HOSO__RECORDS__V1__REJECT_CHANGE_REQUEST_REQUEST__INIT;
  req.change_request_id = (char *)id;
  req.reason = (char *)(reason ? reason : "");
  Hoso__Records__V1__RejectChangeRequestResponse *r = NULL;
  grpc_status_code c =
      call(tok, REC "RejectChangeRequest", &req, &hoso__records__v1__reject_change_request_response__descriptor, &r, st);
  if (cr) {
    *cr = r ? r->change_request : NULL;
    if (r) r->change_request = NULL;
  }
  free_msg(r);
  return c;
}

static grpc_status_code list(const char *tok, const char *unit_id, const char *record_id, int state, int size,
                             const char *page_token, Hoso__Records__V1__ListChangeRequestsResponse **out, cli_status *st) {
  Hoso__Records__V1__ListChangeRequestsRequest req = HOSO__RECORDS__V1__LIST_CHANGE_REQUESTS_REQUEST__INIT;
  req.unit_id = (char *)(unit_id ? unit_id : "");
  req.record_id = (char *)(record_id ? record_id : "");
  req.state = (Hoso__Records__V1__ChangeRequestState)state;
  req.page_size = size;
  req.page_token = (char *)(page_token ? page_token : "");
  return call(tok, REC "ListChangeRequests", &req, &hoso__records__v1__list_change_requests_response__descriptor, out, st);
}

/* Whether a list holds the request `id`. */
static int holds(const Hoso__Records__V1__ListChangeRequestsResponse *l, const char *id) {
  for (size_t i = 0; i < l->n_change_requests; i++)
    if (strcmp(l->change_requests[i]->id, id) == 0) return 1;
  return 0;
}

static int has_change(const CR *cr, const char *path) {
  for (size_t i = 0; i < cr->n_changes; i++)
    if (strcmp(cr->changes[i]->path, path) == 0) return 1;
  return 0;
}

static long long n_versions(const char *id) {
  return sql_long("SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint", id, NULL);
}

/* The rule of 001 Đ9.2a as the test reads it, independently of the SQL: the end (23:59:59,
 * UTC+7) of the first Monday-to-Friday day after the day (in Vietnam) of submitted_at. */
static void expected_due(const char *submitted_at, char out[32]) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (!strptime(submitted_at, "%Y-%m-%dT%H:%M:%SZ", &tm)) fail_msg("submitted_at %s is not RFC 3339 UTC", submitted_at);
  time_t t = timegm(&tm) + 7 * 3600;
  struct tm local;
  gmtime_r(&t, &local);
  local.tm_hour = local.tm_min = local.tm_sec = 0;
  time_t day = timegm(&local);
  do {
    day += 86400;
    gmtime_r(&day, &local);
  } while (local.tm_wday == 0 || local.tm_wday == 6);
  day += 86400 - 1 - 7 * 3600;
  gmtime_r(&day, &local);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &local);
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

/* ------------------------------------------------------------ tests --------------------- */

/* The whole path: the person reads their own record, declares a new phone, a new address and
 * a child (as read, with the rest unchanged); the request is pending with its field changes
 * and its one-working-day deadline, and the record is untouched. The head of d1 approves: the
 * record gets one new version "CHANGE_REQUEST", verified, with exactly those changes, and the
 * request, its approval and the record's change each leave an audit row. */
static void test_self_declares_unit_approves(void **state) {
  (void)state;
  Record *rec = new_record(w.d1_id, w.tok_d1_updater, "Nguyễn Thị Khai", 1);
  assert_true(rec->verified);
  char *self = th_world_self_token(&w, w.d1_id, rec->id);
  assert_non_null(self);

  Record *mine = must_get(self, rec->id);
  Family child = HOSO__RECORDS__V1__FAMILY_RELATION__INIT;
  child.relation_code = "CHILD";
  child.full_name = "Trần Minh Khôi";
  child.birth_year = "2015";
  Family *fam[3] = {mine->family[0], mine->family[1], &child};
  Family **old_fam = mine->family;
  char *old_phone = mine->personal->phone, *old_addr = mine->personal->current_address;
  mine->family = fam;
  mine->n_family = 3;
  mine->personal->phone = "0912 345 678";
  mine->personal->current_address = "Số 12 đường Nguyễn Văn Cừ, thị trấn Đồi Ngô";
  CR *cr = NULL;
  cli_status st;
  th_expect(declare(self, mine, mine->version, "Bổ sung con và địa chỉ mới", "cr-req-1", &cr, &st), &st, GRPC_STATUS_OK,
         NULL);
  /* A retry of the same request is the same request. */
  CR *again = NULL;
  th_expect(declare(self, mine, mine->version, "Bổ sung con và địa chỉ mới", "cr-req-1", &again, &st), &st,
         GRPC_STATUS_OK, NULL);
  assert_string_equal(again->id, cr->id);
  free_msg(again);
  mine->family = old_fam;
  mine->n_family = 2;
  mine->personal->phone = old_phone;
  mine->personal->current_address = old_addr;
  free_msg(mine);

  assert_int_equal(cr->state, CRS(PENDING));
  assert_string_equal(cr->record_id, rec->id);
  assert_int_equal(cr->base_version, rec->version);
  assert_true(has_change(cr, "personal.phone"));
  assert_true(has_change(cr, "personal.current_address"));
  assert_true(has_change(cr, "family[2].full_name"));
  assert_int_equal(cr->n_changes, 5); /* phone, address, the child's code, name, birth year */
  assert_string_not_equal(cr->submitted_by, "");
  char due[32];
  expected_due(cr->submitted_at, due);
  assert_string_equal(cr->due_at, due);
  assert_int_equal(sql_long("SELECT count(*) FROM records.change_requests WHERE record_id = $1::bigint", rec->id, NULL),
                   1);
  assert_int_equal(n_versions(rec->id), rec->version);

  CR *done = NULL;
  Record *after = NULL;
  th_expect(approve_cr(w.tok_d1_admin, cr->id, "Đã đối chiếu giấy khai sinh", &done, &after, &st), &st, GRPC_STATUS_OK,
         NULL);
  assert_int_equal(done->state, CRS(APPROVED));
  assert_string_not_equal(done->decided_by, "");
  assert_string_not_equal(done->decided_at, "");
  assert_string_equal(done->decision_reason, "Đã đối chiếu giấy khai sinh");
  assert_int_equal(after->version, rec->version + 1);
  assert_true(after->verified);
  assert_string_equal(after->personal->phone, "0912 345 678");
  assert_int_equal(after->n_family, 3);
  assert_string_equal(after->family[2]->full_name, "Trần Minh Khôi");
  assert_string_equal(after->salary->coefficient, "3.00");
  free_msg(after);
  after = must_get(w.tok_d1_reader, rec->id);
  assert_string_equal(after->personal->current_address, "Số 12 đường Nguyễn Văn Cừ, thị trấn Đồi Ngô");
  assert_true(after->verified);
  free_msg(after);
  char *action = sql_text("SELECT action FROM records.record_versions WHERE record_id = $1::bigint ORDER BY version "
                          "DESC LIMIT 1",
                          rec->id, NULL);
  assert_string_equal(action, "CHANGE_REQUEST");
  free(action);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE target_type = 'change_request' AND "
                            "target_id = $1 AND action IN ('CHANGE_REQUEST_CREATE', 'CHANGE_REQUEST_APPROVE')",
                            cr->id, NULL),
                   2);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_CHANGE_REQUEST' AND "
                            "target_id = $1",
                            rec->id, NULL),
                   1);

  /* Decided once: a second approval is refused and writes nothing. */
  th_expect(approve_cr(w.tok_d1_admin, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION,
         "change_request_id");
  assert_int_equal(n_versions(rec->id), rec->version + 1);
  free_msg(done);
  free_msg(cr);
  free_msg(rec);
  free(self);
}

/* A person declares for their own record only (the token's record id): another person's
 * record is PERMISSION_DENIED, and so is a declaration by the unit's own staff, who edit with
 * UpdateRecord. Missing parts of the request are named. */
static void test_only_own_record(void **state) {
  (void)state;
  Record *mine = new_record(w.d1_id, w.tok_d1_updater, "Phan Thị Riêng", 0);
  Record *other = new_record(w.d1_id, w.tok_d1_updater, "Võ Văn Khác", 0);
  char *self = th_world_self_token(&w, w.d1_id, mine->id);
  CR *cr = NULL;
  cli_status st;
  th_expect(declare(self, other, other->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "proposed.id");
  const char *staff[] = {w.tok_d1_updater, w.tok_d1_admin, w.tok_admin};
  for (size_t i = 0; i < 3; i++)
    th_expect(declare(staff[i], mine, mine->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(declare(self, NULL, 1, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "proposed");
  th_expect(declare(self, mine, 0, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "base_version");
  assert_int_equal(
      sql_long("SELECT count(*) FROM records.change_requests WHERE record_id IN ($1::bigint, $2::bigint)", mine->id,
               other->id),
      0);
  free_msg(mine);
  free_msg(other);
  free(self);
}

/* What the state decides is not the person's to declare (001 Đ9.2b): salary, status, the
 * managing unit and the work history are refused naming the field. Parts left out of the
 * proposal are kept, not cleared; a proposal equal to the record declares nothing; a bad value
 * in a declared part is refused by the record's own validation, naming its path. */
static void test_forbidden_fields(void **state) {
  (void)state;
  Record *rec = new_record(w.d1_id, w.tok_d1_updater, "Hồ Văn Giới", 0);
  char *self = th_world_self_token(&w, w.d1_id, rec->id);
  Record *r = must_get(self, rec->id);
  CR *cr = NULL;
  cli_status st;

  r->salary->step = 4;
  th_expect(declare(self, r, r->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "proposed.salary.step");
  r->salary->step = 3;
  r->status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RESIGNED;
  th_expect(declare(self, r, r->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "proposed.status");
  r->status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
  char *unit = r->managing_unit_id;
  r->managing_unit_id = w.d2_id;
  th_expect(declare(self, r, r->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "proposed.managing_unit_id");
  r->managing_unit_id = unit;
  Hoso__Records__V1__WorkHistoryEntry job = HOSO__RECORDS__V1__WORK_HISTORY_ENTRY__INIT, *jobs[1] = {&job};
  job.from = "2009-09";
  job.unit = "UBND huyện Lục Nam";
  r->work_history = jobs;
  r->n_work_history = 1;
  th_expect(declare(self, r, r->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "proposed.work_history[0].from");
  r->work_history = NULL;
  r->n_work_history = 0;

  th_expect(declare(self, r, r->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "proposed");
  char *code = r->family[0]->relation_code;
  r->family[0]->relation_code = "NOT_A_RELATION";
  th_expect(declare(self, r, r->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "proposed.family[0].relation_code");
  r->family[0]->relation_code = code;

  /* A form that shows only the person's parts: no salary, no employment, and the workflow marks
   * a client cannot set. The salary stays, the phone is declared. */
  Hoso__Records__V1__SalaryInfo *salary = r->salary;
  Hoso__Records__V1__Employment *emp = r->employment;
  char *phone = r->personal->phone;
  r->salary = NULL;
  r->employment = NULL;
  r->verified = 1;
  r->personal->phone = "0977 111 222";
  th_expect(declare(self, r, r->version, NULL, NULL, &cr, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(cr->n_changes, 1);
  assert_string_equal(cr->changes[0]->path, "personal.phone");
  assert_non_null(cr->proposed->salary);
  assert_string_equal(cr->proposed->salary->rank_code, "01.003");
  assert_false(cr->proposed->verified);
  r->salary = salary;
  r->employment = emp;
  r->personal->phone = phone;
  free_msg(cr);
  free_msg(r);
  free_msg(rec);
  free(self);
}

/* Rejection needs a reason, is the unit head's, leaves the record as it was, and is final. */
static void test_reject_needs_reason(void **state) {
  (void)state;
  Record *rec = new_record(w.d1_id, w.tok_d1_updater, "Lâm Thị Từ", 1);
  char *self = th_world_self_token(&w, w.d1_id, rec->id);
  CR *cr = must_declare_phone(self, rec->id, "0911 000 999"), *done = NULL;
  cli_status st;
  th_expect(reject_cr(w.tok_d1_admin, cr->id, "", &done, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "reason");
  th_expect(reject_cr(w.tok_d1_admin, cr->id, "   ", &done, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "reason");
  th_expect(reject_cr(w.tok_d1_updater, cr->id, "Không có giấy tờ", &done, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(reject_cr(self, cr->id, "Không có giấy tờ", &done, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(reject_cr(w.tok_d1_admin, cr->id, "Chưa có giấy tờ chứng minh", &done, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(done->state, CRS(REJECTED));
  assert_string_equal(done->decision_reason, "Chưa có giấy tờ chứng minh");
  assert_int_equal(n_versions(rec->id), rec->version);
  Record *now = must_get(w.tok_d1_reader, rec->id);
  assert_string_equal(now->personal->phone, "0204 3884 123");
  free_msg(now);
  th_expect(approve_cr(w.tok_d1_admin, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION,
         "change_request_id");
  th_expect(reject_cr(w.tok_d1_admin, cr->id, "Lần nữa", NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION,
         "change_request_id");
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'CHANGE_REQUEST_REJECT' AND "
                            "target_id = $1",
                            cr->id, NULL),
                   1);
  free_msg(done);
  free_msg(cr);
  free_msg(rec);
  free(self);
}

/* The head of d2 (a sibling district) cannot decide d1's requests, nor can a reader of d1 or
 * the person; a request that does not exist is NOT_FOUND. */
static void test_other_unit_cannot_decide(void **state) {
  (void)state;
  Record *rec = new_record(w.d1_id, w.tok_d1_updater, "Triệu Văn Ngoài", 1);
  char *self = th_world_self_token(&w, w.d1_id, rec->id);
  CR *cr = must_declare_phone(self, rec->id, "0911 222 333");
  cli_status st;
  th_expect(approve_cr(w.tok_d2_admin, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
         "change_request_id");
  th_expect(reject_cr(w.tok_d2_admin, cr->id, "Không thuộc đơn vị", NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
         "change_request_id");
  th_expect(approve_cr(w.tok_d1_reader, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(approve_cr(self, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(approve_cr(w.tok_d1_admin, "99999999", NULL, NULL, NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "change_request_id");
  th_expect(approve_cr(w.tok_d1_admin, "x", NULL, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "change_request_id");
  assert_int_equal(n_versions(rec->id), rec->version);
  /* The system administrator's scope is the whole province. */
  th_expect(approve_cr(w.tok_admin, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  free_msg(cr);
  free_msg(rec);
  free(self);
}

/* Who lists what: a person sees their own record's requests only; a reader of d1 sees those of
 * d1 and d1u below it, or one unit's by unit_id; d2's reader sees none of them and may not ask
 * for d1. Filters by state and record, and keyset pages that together give the whole list. */
static void test_lists_by_role(void **state) {
  (void)state;
  Record *a = new_record(w.d1_id, w.tok_d1_updater, "Kiều Thị Xem", 1);
  Record *b = new_record(w.d1u_id, w.tok_d1u_updater, "Dương Văn Dưới", 0);
  char *self_a = th_world_self_token(&w, w.d1_id, a->id), *self_b = th_world_self_token(&w, w.d1u_id, b->id);
  CR *a1 = must_declare_phone(self_a, a->id, "0901 000 001");
  CR *a2 = must_declare_phone(self_a, a->id, "0901 000 002");
  CR *a3 = must_declare_phone(self_a, a->id, "0901 000 003");
  CR *b1 = must_declare_phone(self_b, b->id, "0902 000 001");
  Hoso__Records__V1__ListChangeRequestsResponse *l = NULL;
  cli_status st;

  th_expect(list(self_a, NULL, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_change_requests, 3);
  assert_true(holds(l, a1->id) && holds(l, a2->id) && holds(l, a3->id) && !holds(l, b1->id));
  free_msg(l);
  th_expect(list(self_b, NULL, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_change_requests, 1);
  assert_true(holds(l, b1->id));
  free_msg(l);
  th_expect(list(self_a, NULL, b->id, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(list(self_a, w.d1_id, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");

  th_expect(list(w.tok_d1_reader, NULL, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(holds(l, a1->id) && holds(l, b1->id));
  free_msg(l);
  th_expect(list(w.tok_d1_reader, w.d1u_id, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(holds(l, b1->id) && !holds(l, a1->id));
  free_msg(l);
  th_expect(list(w.tok_d2_reader, NULL, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_false(holds(l, a1->id) || holds(l, b1->id));
  free_msg(l);
  th_expect(list(w.tok_d2_reader, w.d1_id, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  th_expect(list(w.tok_d2_reader, NULL, a->id, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");

  th_expect(reject_cr(w.tok_d1_admin, a2->id, "Trùng với phiếu khác", NULL, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(list(w.tok_d1_reader, NULL, a->id, CRS(PENDING), 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_change_requests, 2);
  assert_true(holds(l, a1->id) && holds(l, a3->id) && !holds(l, a2->id));
  free_msg(l);
  th_expect(list(w.tok_d1_reader, NULL, a->id, CRS(REJECTED), 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_change_requests, 1);
  assert_string_equal(l->change_requests[0]->decision_reason, "Trùng với phiếu khác");
  free_msg(l);

  /* Pages of two: a1, a2 then a3, oldest first (the first due first). */
  th_expect(list(w.tok_d1_admin, NULL, a->id, 0, 2, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_change_requests, 2);
  assert_string_equal(l->change_requests[0]->id, a1->id);
  assert_string_equal(l->change_requests[1]->id, a2->id);
  assert_string_not_equal(l->next_page_token, "");
  char *token = strdup(l->next_page_token);
  free_msg(l);
  th_expect(list(w.tok_d1_admin, NULL, a->id, 0, 2, token, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_change_requests, 1);
  assert_string_equal(l->change_requests[0]->id, a3->id);
  assert_string_equal(l->next_page_token, "");
  assert_non_null(l->change_requests[0]->proposed);
  assert_string_equal(l->change_requests[0]->proposed->personal->phone, "0901 000 003");
  free_msg(l);
  free(token);
  th_expect(list(w.tok_d1_admin, NULL, a->id, 0, 2, "bm90IG91cnM", &l, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
  th_expect(list(w.tok_d1_admin, NULL, NULL, 7, 0, NULL, &l, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "state");
  th_expect(list(w.tok_d1_admin, NULL, NULL, 0, 501, NULL, &l, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  /* The proposals are dossiers: reading them is recorded. */
  assert_true(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'CHANGE_REQUEST_LIST'", NULL, NULL) >= 6);

  CR *crs[] = {a1, a2, a3, b1};
  for (size_t i = 0; i < 4; i++) free_msg(crs[i]);
  free_msg(a);
  free_msg(b);
  free(self_a);
  free(self_b);
}

static grpc_status_code update_phone_salary(const char *id, const char *phone, int step, Record **out, cli_status *st) {
  Record *cur = must_get(w.tok_d1_updater, id);
  char *old = cur->personal->phone;
  if (phone) cur->personal->phone = (char *)phone;
  if (step) cur->salary->step = step;
  Hoso__Records__V1__UpdateRecordRequest req = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  req.record = cur;
  req.expected_version = cur->version;
  Hoso__Records__V1__UpdateRecordResponse *r = NULL;
  grpc_status_code c = call(w.tok_d1_updater, REC "UpdateRecord", &req, &hoso__records__v1__update_record_response__descriptor,
                            &r, st);
  cur->personal->phone = old;
  free_msg(cur);
  if (out) {
    *out = r ? r->record : NULL;
    if (r) r->record = NULL;
  }
  free_msg(r);
  return c;
}

/* The record changed after the person read it. Declaring on an old version is refused at once
 * (ABORTED). Once pending, an approval merges: the unit's change to other data (the salary
 * step) and the person's (the phone) both stand. When the unit changed the same field to
 * something else, the two cannot both stand: ABORTED naming the field, nothing written; once
 * the unit's value agrees with the declaration, the approval goes through without a version. */
static void test_stale_base(void **state) {
  (void)state;
  Record *rec = new_record(w.d1_id, w.tok_d1_updater, "Quách Thị Cũ", 1);
  char *self = th_world_self_token(&w, w.d1_id, rec->id);
  Record *mine = must_get(self, rec->id);
  cli_status st;
  CR *cr = NULL;
  th_expect(declare(self, mine, mine->version - 1, NULL, NULL, &cr, &st), &st, GRPC_STATUS_ABORTED, "base_version");
  free_msg(mine);

  cr = must_declare_phone(self, rec->id, "0933 444 555");
  Record *upd = NULL;
  th_expect(update_phone_salary(rec->id, NULL, 4, &upd, &st), &st, GRPC_STATUS_OK, NULL);
  assert_false(upd->verified); /* an updater's change awaits verification */
  free_msg(upd);
  Record *after = NULL;
  th_expect(approve_cr(w.tok_d1_admin, cr->id, NULL, NULL, &after, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(after->personal->phone, "0933 444 555");
  assert_int_equal(after->salary->step, 4);
  assert_int_equal(after->version, rec->version + 2);
  /* Approving the person's declaration does not verify the updater's change beside it. */
  assert_false(after->verified);
  free_msg(after);
  free_msg(cr);

  cr = must_declare_phone(self, rec->id, "0933 666 777");
  th_expect(update_phone_salary(rec->id, "0933 000 000", 0, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  long long versions = n_versions(rec->id);
  th_expect(approve_cr(w.tok_d1_admin, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_ABORTED, "change_request_id");
  assert_non_null(strstr(st.message, "personal.phone"));
  assert_int_equal(n_versions(rec->id), versions);
  th_expect(update_phone_salary(rec->id, "0933 666 777", 0, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  CR *done = NULL;
  th_expect(approve_cr(w.tok_d1_admin, cr->id, NULL, &done, &after, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(done->state, CRS(APPROVED));
  assert_int_equal(after->version, versions + 1);
  assert_int_equal(n_versions(rec->id), versions + 1);
  free_msg(after);
  free_msg(done);
  free_msg(cr);
  free_msg(rec);
  free(self);
}

/* A transfer moves the record's requests with it (003 Đ7.3): d1's head can no longer decide a
 * pending one, d2's head can, and d2's reader lists it. The person, whose account stays in d1,
 * still lists and declares on their own record. */
static void test_requests_follow_transfer(void **state) {
  (void)state;
  Record *rec = new_record(w.d1_id, w.tok_d1_updater, "Ông Văn Đi", 1);
  char *self = th_world_self_token(&w, w.d1_id, rec->id);
  CR *cr = must_declare_phone(self, rec->id, "0944 555 666");
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "311/QĐ-UBND";
  d.date = "2026-01-05";
  d.effective_date = "2026-01-15";
  Hoso__Records__V1__SetManagingUnitRequest mv = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
  mv.record_id = rec->id;
  mv.new_unit_id = w.d2_id;
  mv.transfer_id = "tr-cr-1";
  mv.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
  mv.decision = &d;
  cli_status st;
  th_expect(call(w.tok_transfers, REC "SetManagingUnit", &mv, &hoso__records__v1__set_managing_unit_response__descriptor, NULL,
              &st),
         &st, GRPC_STATUS_OK, NULL);
  char *path = sql_text("SELECT unit_path::text FROM records.change_requests WHERE id = $1::bigint", cr->id, NULL);
  assert_string_equal(path, w.d2_path);
  free(path);

  th_expect(approve_cr(w.tok_d1_admin, cr->id, NULL, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
         "change_request_id");
  Hoso__Records__V1__ListChangeRequestsResponse *l = NULL;
  th_expect(list(w.tok_d2_reader, NULL, rec->id, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(holds(l, cr->id));
  free_msg(l);
  th_expect(list(self, NULL, NULL, 0, 0, NULL, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_change_requests, 1);
  free_msg(l);
  Record *after = NULL;
  th_expect(approve_cr(w.tok_d2_admin, cr->id, NULL, NULL, &after, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(after->personal->phone, "0944 555 666");
  assert_string_equal(after->managing_unit_id, w.d2_id);
  free_msg(after);
  CR *next = must_declare_phone(self, rec->id, "0944 777 888");
  char *npath = sql_text("SELECT unit_path::text FROM records.change_requests WHERE id = $1::bigint", next->id, NULL);
  assert_string_equal(npath, w.d2_path);
  free(npath);
  free_msg(next);
  free_msg(cr);
  free_msg(rec);
  free(self);
}

typedef struct {
  const char *tok, *cr_id;
  int approve;
  pthread_barrier_t *go;
  grpc_status_code got;
} decider;

static void *decide(void *p) {
  decider *d = p;
  cli_status st;
  pthread_barrier_wait(d->go);
  d->got = d->approve ? approve_cr(d->tok, d->cr_id, "Đồng ý", NULL, NULL, &st)
                      : reject_cr(d->tok, d->cr_id, "Không đủ giấy tờ", NULL, &st);
  return NULL;
}

/* a and b decide at the same moment (a barrier releases both threads together). */
static void race(decider *a, decider *b) {
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, 2);
  a->go = b->go = &go;
  pthread_t ta, tb;
  assert_int_equal(pthread_create(&ta, NULL, decide, a), 0);
  assert_int_equal(pthread_create(&tb, NULL, decide, b), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  pthread_barrier_destroy(&go);
}

/* Two decisions on one request at the same moment: exactly one wins, the other is told the
 * request was decided (FAILED_PRECONDITION), and the record gains a version only when the
 * approval won. Two requests on one base approved at the same moment both apply: the second
 * merges onto the first's version, since they declare different fields. */
static void test_concurrent_decisions(void **state) {
  (void)state;
  Record *rec = new_record(w.d1_id, w.tok_d1_updater, "Tôn Thất Đua", 1);
  char *self = th_world_self_token(&w, w.d1_id, rec->id);
  for (int round = 0; round < 6; round++) {
    char phone[32];
    snprintf(phone, sizeof phone, "0966 000 %03d", round);
    CR *cr = must_declare_phone(self, rec->id, phone);
    long long before = n_versions(rec->id);
    decider a = {.tok = w.tok_d1_admin, .cr_id = cr->id, .approve = 1};
    decider b = {.tok = w.tok_admin, .cr_id = cr->id, .approve = 0};
    race(&a, &b);
    assert_true((a.got == GRPC_STATUS_OK) != (b.got == GRPC_STATUS_OK));
    assert_int_equal(a.got == GRPC_STATUS_OK ? b.got : a.got, GRPC_STATUS_FAILED_PRECONDITION);
    char *state_now = sql_text("SELECT state FROM records.change_requests WHERE id = $1::bigint", cr->id, NULL);
    assert_int_equal(atoi(state_now), a.got == GRPC_STATUS_OK ? CRS(APPROVED) : CRS(REJECTED));
    free(state_now);
    assert_int_equal(n_versions(rec->id), before + (a.got == GRPC_STATUS_OK));
    free_msg(cr);
  }

  CR *c1 = must_declare_phone(self, rec->id, "0966 111 111"), *c2 = NULL;
  cli_status st;
  th_expect(declare_personal(self, rec->id, 1, "Thôn Thanh Bình, xã Tiên Hưng", &c2, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(c1->base_version, c2->base_version);
  long long before = n_versions(rec->id);
  decider a = {.tok = w.tok_d1_admin, .cr_id = c1->id, .approve = 1};
  decider b = {.tok = w.tok_admin, .cr_id = c2->id, .approve = 1};
  race(&a, &b);
  assert_int_equal(a.got, GRPC_STATUS_OK);
  assert_int_equal(b.got, GRPC_STATUS_OK);
  assert_int_equal(n_versions(rec->id), before + 2);
  Record *now = must_get(w.tok_d1_reader, rec->id);
  assert_string_equal(now->personal->phone, "0966 111 111");
  assert_string_equal(now->personal->current_address, "Thôn Thanh Bình, xã Tiên Hưng");
  free_msg(now);
  free_msg(c1);
  free_msg(c2);
  free_msg(rec);
  free(self);
}

/* The deadline function itself on the days that matter: Friday and Saturday point to Monday,
 * and the day is Vietnam's (17:30 UTC on a Thursday is already Friday in Hà Nội). */
static void test_due_one_working_day(void **state) {
  (void)state;
  const char *cases[][2] = {
      {"2026-11-24 09:00+07", "2026-11-25 16:59:59+00"}, /* Tuesday → end of Wednesday */
      {"2026-11-27 10:00+07", "2026-11-30 16:59:59+00"}, /* Friday → end of Monday */
      {"2026-11-28 23:30+07", "2026-11-30 16:59:59+00"}, /* Saturday → end of Monday */
      {"2026-11-26 17:30+00", "2026-11-30 16:59:59+00"}, /* Friday 00:30 in Hà Nội → Monday */
      {"2026-11-26 16:30+00", "2026-11-27 16:59:59+00"}, /* Thursday 23:30 in Hà Nội → Friday */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *got = sql_text("SELECT records.change_request_due($1::timestamptz) = $2::timestamptz", cases[i][0], cases[i][1]);
    if (strcmp(got, "t") != 0) fail_msg("change_request_due(%s) is not %s", cases[i][0], cases[i][1]);
    free(got);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_self_declares_unit_approves),
      cmocka_unit_test(test_only_own_record),
      cmocka_unit_test(test_forbidden_fields),
      cmocka_unit_test(test_reject_needs_reason),
      cmocka_unit_test(test_other_unit_cannot_decide),
      cmocka_unit_test(test_lists_by_role),
      cmocka_unit_test(test_stale_base),
      cmocka_unit_test(test_requests_follow_transfer),
      cmocka_unit_test(test_concurrent_decisions),
      cmocka_unit_test(test_due_one_working_day),
  };
  return cmocka_run_group_tests_name("records_change_requests", tests, setup, teardown);
}
