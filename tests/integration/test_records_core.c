/* The record RPCs of the records service over real gRPC and PostgreSQL, with identity running:
 * create, read (now and as of a day), update with optimistic concurrency, versions with their
 * field-level changes, the approval workflow, every role in and out of its subtree, bad input
 * naming the field, NFC text, idempotency, and the audit rows the calls leave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define IDN "/hoso.identity.v1.Identity/"

typedef Hoso__Records__V1__Record Record;
typedef Hoso__Records__V1__RecordVersion Version;

static th_world w;
static PGconn *admin_db; /* superuser: fixtures and inspection only */

/* "Nguyễn Thị Hương" with decomposed letters (NFD), as some keyboards and macOS send it. */
#define NFD_NAME "Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Hu\xCC\x9Bo\xCC\x9B\xCC\x80ng"
#define NFC_NAME "Nguyễn Thị Hường"

/* ------------------------------------------------------------ helpers ------------------- */

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

#define expect th_expect

static long long sql_long(const char *q, const char *p1, const char *p2) {
  const char *params[2] = {p1, p2};
  int n = p2 ? 2 : p1 ? 1 : 0;
  PGresult *r = PQexecParams(admin_db, q, n, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    fail_msg("%s: %s", q, PQresultErrorMessage(r));
  }
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static void sql_exec(const char *q, const char *p1, const char *p2) {
  const char *params[2] = {p1, p2};
  int n = p2 ? 2 : p1 ? 1 : 0;
  PGresult *r = PQexecParams(admin_db, q, n, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  PQclear(r);
}

/* A full dossier built in place (it points into itself: never copy it after fill). */
typedef struct {
  Record r;
  Hoso__Records__V1__PersonalInfo personal;
  Hoso__Records__V1__Employment emp;
  Hoso__Records__V1__SalaryInfo salary;
  Hoso__Records__V1__Qualifications q;
  Hoso__Records__V1__PartyAndUnions party;
  Hoso__Records__V1__FamilyRelation fam[2], *famp[2];
  Hoso__Records__V1__WorkHistoryEntry work[2], *workp[2];
} recfix;

static void fill(recfix *f, const char *unit, const char *name) {
  memset(f, 0, sizeof *f);
  hoso__records__v1__record__init(&f->r);
  hoso__records__v1__personal_info__init(&f->personal);
  hoso__records__v1__employment__init(&f->emp);
  hoso__records__v1__salary_info__init(&f->salary);
  hoso__records__v1__qualifications__init(&f->q);
  hoso__records__v1__party_and_unions__init(&f->party);
  f->r.managing_unit_id = (char *)unit;
  f->r.full_name = (char *)name;
  f->r.birth_date = "1985-07-14";
  f->r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  f->personal.ethnicity_code = "01";
  f->personal.religion_code = "00";
  f->personal.birth_place = "Xã Tiên Hưng, huyện Lục Nam, tỉnh Bắc Giang";
  f->personal.home_town = "Xã Tiên Hưng, huyện Lục Nam";
  f->personal.citizen_id = "024185001234";
  f->r.personal = &f->personal;
  f->emp.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  f->emp.recruitment_date = "2008-09-01";
  f->emp.staffing_status = "BIEN_CHE";
  f->r.employment = &f->emp;
  f->salary.rank_code = "01.003";
  f->salary.step = 3;
  f->salary.coefficient = "3.00";
  f->salary.effective_date = "2017-09-01";
  f->r.salary = &f->salary;
  f->q.degree_code = "DH";
  f->q.political_theory_code = "TC";
  f->r.qualifications = &f->q;
  f->party.party_member = 1;
  f->party.party_join_date = "2010-05-19";
  f->r.party = &f->party;
  static const char *rel[2] = {"FATHER", "MOTHER"}, *fn[2] = {"Nguyễn Văn Bình", "Lê Thị Mai"};
  for (int i = 0; i < 2; i++) {
    hoso__records__v1__family_relation__init(&f->fam[i]);
    f->fam[i].relation_code = (char *)rel[i];
    f->fam[i].full_name = (char *)fn[i];
    f->fam[i].birth_year = i ? "1962" : "1960";
    f->famp[i] = &f->fam[i];
    hoso__records__v1__work_history_entry__init(&f->work[i]);
    f->work[i].from = i ? "2012-01" : "2008-09";
    f->work[i].to = i ? "" : "2011-12";
    f->work[i].unit = "UBND huyện Lục Nam";
    f->workp[i] = &f->work[i];
  }
  f->r.family = f->famp;
  f->r.n_family = 2;
  f->r.work_history = f->workp;
  f->r.n_work_history = 2;
}

/* Every record response is { Record record = 1; }: take the record out of it. */
typedef struct {
  ProtobufCMessage base;
  Record *record;
} rec_resp;

static grpc_status_code rec_call(const char *tok, const char *method, const void *req,
                                 const ProtobufCMessageDescriptor *d, Record **out, cli_status *st) {
  rec_resp *r = NULL;
  cli_status local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  grpc_status_code c = th_call(w.rec_ch, method, req, d, (void **)&r, tok, st);
  if (out) {
    *out = r ? r->record : NULL;
    if (r) r->record = NULL;
  }
  free_msg(r);
  return c;
}

static grpc_status_code create(const char *tok, const Record *rec, const char *request_id, Record **out, cli_status *st) {
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = (Record *)rec;
  req.request_id = (char *)(request_id ? request_id : "");
  return rec_call(tok, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor, out, st);
}

static grpc_status_code get(const char *tok, const char *id, const char *as_of, Record **out, cli_status *st) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.as_of = (char *)(as_of ? as_of : "");
  return rec_call(tok, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor, out, st);
}

static grpc_status_code update(const char *tok, const Record *rec, long long expected, const char *why, Record **out,
                               cli_status *st) {
  Hoso__Records__V1__UpdateRecordRequest req = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  Hoso__Records__V1__ChangeReason reason = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
  Hoso__Records__V1__Decision dec = HOSO__RECORDS__V1__DECISION__INIT;
  req.record = (Record *)rec;
  req.expected_version = expected;
  if (why) {
    reason.text = (char *)why;
    dec.number = "125/QĐ-UBND";
    dec.date = "2024-08-20";
    dec.effective_date = "2024-09-01";
    reason.decision = &dec;
    req.reason = &reason;
  }
  return rec_call(tok, REC "UpdateRecord", &req, &hoso__records__v1__update_record_response__descriptor, out, st);
}

static grpc_status_code submit(const char *tok, const char *id, long long expected, Record **out, cli_status *st) {
  Hoso__Records__V1__SubmitRecordRequest req = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.expected_version = expected;
  return rec_call(tok, REC "SubmitRecord", &req, &hoso__records__v1__submit_record_response__descriptor, out, st);
}

static grpc_status_code approve(const char *tok, const char *id, long long expected, Record **out, cli_status *st) {
  Hoso__Records__V1__ApproveRecordRequest req = HOSO__RECORDS__V1__APPROVE_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.expected_version = expected;
  req.note = "Đã đối chiếu với hồ sơ giấy";
  return rec_call(tok, REC "ApproveRecord", &req, &hoso__records__v1__approve_record_response__descriptor, out, st);
}

static grpc_status_code reject(const char *tok, const char *id, const char *reason, Record **out, cli_status *st) {
  Hoso__Records__V1__RejectRecordRequest req = HOSO__RECORDS__V1__REJECT_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.reason = (char *)reason;
  return rec_call(tok, REC "RejectRecord", &req, &hoso__records__v1__reject_record_response__descriptor, out, st);
}

static grpc_status_code versions(const char *tok, const char *id, int size, const char *token,
                                 Hoso__Records__V1__ListRecordVersionsResponse **out, cli_status *st) {
  Hoso__Records__V1__ListRecordVersionsRequest req = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_REQUEST__INIT;
  req.record_id = (char *)id;
  req.page_size = size;
  req.page_token = (char *)(token ? token : "");
  memset(st, 0, sizeof *st);
  return th_call(w.rec_ch, REC "ListRecordVersions", &req, &hoso__records__v1__list_record_versions_response__descriptor,
                 (void **)out, tok, st);
}

/* A new record made by tok in unit; its id copied to id_out. */
static void mk(const char *tok, const char *unit, const char *name, char id_out[32]) {
  recfix f;
  fill(&f, unit, name);
  Record *r = NULL;
  cli_status st;
  grpc_status_code c = create(tok, &f.r, NULL, &r, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateRecord %s: %s %s", name, cli_status_name(c), st.message);
  snprintf(id_out, 32, "%s", r->id);
  free_msg(r);
}

static Record *must_get(const char *tok, const char *id) {
  Record *r = NULL;
  cli_status st;
  grpc_status_code c = get(tok, id, NULL, &r, &st);
  if (c != GRPC_STATUS_OK) fail_msg("GetRecord %s: %s %s", id, cli_status_name(c), st.message);
  return r;
}

/* YYYY-MM-DD of today (UTC) plus days. */
static const char *day(int days) { return th_vn_day(days); }

static long long audit_count(const char *action, const char *id) {
  return sql_long("SELECT count(*) FROM records.audit_log WHERE action = $1 AND target_id = $2", action, id);
}

/* ------------------------------------------------------------ setup --------------------- */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(admin_db) != CONNECTION_OK) return -1;
  /* The catalogue's triggers name their tables unqualified, as the service's sessions do. */
  PQclear(PQexec(admin_db, "SET search_path = records, public"));
  /* The catalogue codes these records use: seeded by the catalogue migration, inserted here
   * too so the tests do not depend on which seed rows exist. */
  static const char *codes[][3] = {
      {"ETHNICITY", "01", "Kinh"},      {"RELIGION", "00", "Không"},    {"RANK", "01.003", "Chuyên viên"},
      {"DEGREE", "DH", "Đại học"},      {"POLITICAL_THEORY", "TC", "Trung cấp"},
      {"STAFFING", "BIEN_CHE", "Trong biên chế"}, {"RELATION", "FATHER", "Bố đẻ"},
      {"RELATION", "MOTHER", "Mẹ đẻ"},
  };
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *p[3] = {codes[i][0], codes[i][1], codes[i][2]};
    PGresult *r = PQexecParams(admin_db,
                               "INSERT INTO records.catalog_entries (catalog, code, name) SELECT $1, $2, $3 "
                               "WHERE NOT EXISTS (SELECT 1 FROM records.catalog_entries WHERE catalog = $1 AND code = $2)",
                               3, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      fprintf(stderr, "catalogue fixture: %s", PQresultErrorMessage(r));
      PQclear(r);
      return -1;
    }
    PQclear(r);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  char rec_log[256];
  snprintf(rec_log, sizeof rec_log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  int errors = th_log_errors(rec_log);
  return rc == 0 && errors == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ tests --------------------- */

/* A new dossier is a draft of its unit: workflow fields sent by the client are ignored, the
 * search columns are copied from it, and a reader of the unit reads back what was written. */
static void test_create_and_get(void **state) {
  (void)state;
  recfix f;
  fill(&f, w.d1_id, "Nguyễn Thị An");
  f.r.workflow_state = HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED;
  f.r.verified = 1;
  f.r.version = 9;
  f.r.id = "999";
  f.r.approved_by = "1";
  Record *r = NULL;
  cli_status st;
  expect(create(w.tok_d1_updater, &f.r, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->version, 1);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT);
  assert_int_equal(r->status, HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE);
  assert_false(r->verified);
  assert_string_equal(r->approved_by, "");
  assert_string_not_equal(r->id, "999");
  assert_string_equal(r->managing_unit_path, w.d1_path);
  assert_true(strlen(r->created_at) == 20 && r->created_at[19] == 'Z');
  char id[32];
  snprintf(id, sizeof id, "%s", r->id);
  free_msg(r);

  r = must_get(w.tok_d1_reader, id);
  assert_string_equal(r->full_name, "Nguyễn Thị An");
  assert_string_equal(r->salary->coefficient, "3.00");
  assert_int_equal(r->salary->step, 3);
  assert_int_equal(r->n_family, 2);
  assert_string_equal(r->family[1]->relation_code, "MOTHER");
  assert_string_equal(r->work_history[0]->to, "2011-12");
  assert_true(r->party->party_member);
  free_msg(r);

  /* The columns search and reports use are copies of the dossier's fields, folded for search. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.records WHERE id = $1 AND name_folded = 'nguyen thi an' "
                            "AND rank_code = '01.003' AND ethnicity_code = '01' AND party_member "
                            "AND category = 2 AND birth_date = '1985-07-14' AND recruitment_date = '2008-09-01' "
                            "AND search_text LIKE '%tien hung, huyen luc nam%' AND workflow_state = 1 "
                            "AND unit_path = $2::ltree",
                            id, w.d1_path),
                   1);
  /* One version, made by CREATE. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.record_versions WHERE record_id = $1 AND version = 1 "
                            "AND action = 'CREATE'",
                            id, NULL),
                   1);
}

/* Scope (001 Đ6): a unit sees its own records and every unit's below it, never a sibling's;
 * rights come from the roles; a person reads their own record only. */
static void test_roles_and_scope(void **state) {
  (void)state;
  char a[32], b[32], c[32];
  /* a: managed by the school d1u below d1; b: by d2; c: by d1. */
  mk(w.tok_d1u_updater, w.d1u_id, "Trần Văn Bảo", a);
  mk(w.tok_d2_updater, w.d2_id, "Lê Văn Cường", b);
  mk(w.tok_d1_updater, w.d1_id, "Mai Thị Chi", c);
  Record *r = NULL;
  cli_status st;

  /* The reader of d1 reads a record of the school below it; d2's reader may not. */
  expect(get(w.tok_d1_reader, a, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  free_msg(r);
  expect(get(w.tok_d2_reader, a, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  expect(get(w.tok_d1_reader, b, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  /* The school's updater sees its own records, not its parent district's sibling records. */
  expect(get(w.tok_d1u_updater, b, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  /* An id nobody has: NOT_FOUND for everyone, also for the caller who cannot see most records. */
  expect(get(w.tok_d2_reader, "987654321", NULL, NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "record_id");
  expect(get(w.tok_d1_reader, "abc", NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record_id");

  /* Changing needs UPDATER on the managing unit or above: d2's updater is refused on a d1
   * record, d1's updater (parent) and the school's own updater may. */
  recfix f;
  fill(&f, w.d1u_id, "Trần Văn Bảo");
  f.r.id = a;
  f.personal.phone = "0912 345 678";
  expect(update(w.tok_d2_updater, &f.r, 1, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  expect(update(w.tok_d1_reader, &f.r, 1, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  /* A unit administrator approves but does not edit (the roles are granted separately). */
  expect(update(w.tok_d1_admin, &f.r, 1, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  expect(update(w.tok_d1_updater, &f.r, 1, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->version, 2);
  free_msg(r);
  f.personal.phone = "0912 345 679";
  expect(update(w.tok_d1u_updater, &f.r, 2, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);

  /* Creating: only in a unit within the caller's scope, only with the UPDATER role. */
  fill(&f, w.d1_id, "Phạm Thị Dung");
  expect(create(w.tok_d1u_updater, &f.r, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record.managing_unit_id");
  expect(create(w.tok_d2_updater, &f.r, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record.managing_unit_id");
  expect(create(w.tok_d1_reader, &f.r, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  fill(&f, "987654", "Phạm Thị Dung");
  expect(create(w.tok_admin, &f.r, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.managing_unit_id");

  /* SELF: the person reads their own record and nothing else, and changes nothing. The second
   * person's account sits in d2 while their record is in d1: the token's record id decides,
   * not the account's unit. */
  char *self_a = th_world_self_token(&w, w.d1u_id, a);
  char *self_far = th_world_self_token(&w, w.d2_id, c);
  assert_non_null(self_a);
  assert_non_null(self_far);
  expect(get(self_a, a, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->full_name, "Trần Văn Bảo");
  free_msg(r);
  expect(get(self_a, b, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  fill(&f, w.d1u_id, "Trần Văn Bảo");
  f.r.id = a;
  expect(update(self_a, &f.r, 3, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  expect(submit(self_a, a, 0, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  Hoso__Records__V1__ListRecordVersionsResponse *vr = NULL;
  expect(versions(self_a, a, 0, NULL, &vr, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(vr->n_versions, 3);
  free_msg(vr);
  expect(get(self_far, c, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->full_name, "Mai Thị Chi");
  free_msg(r);
  /* Their own past and history too, though the versions lie outside the account's unit. */
  expect(get(self_far, c, day(0), &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->version, 1);
  free_msg(r);
  expect(versions(self_far, c, 0, NULL, &vr, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(vr->n_versions, 1);
  assert_string_equal(vr->versions[0]->action, "CREATE");
  free_msg(vr);
  expect(get(self_far, a, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  /* A record of the account's own unit is still someone else's. */
  expect(get(self_far, b, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  free(self_a);
  free(self_far);
}

/* 004 Đ10: draft → submitted → approved, with who and when; only a unit administrator of the
 * managing unit (or above) approves; a submitted record is frozen. */
static void test_workflow_approve(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Hoàng Văn Em", id);
  Record *r = NULL;
  cli_status st;
  expect(approve(w.tok_d1_admin, id, 0, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "record_id");
  expect(submit(w.tok_d1_updater, id, 1, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUBMITTED);
  assert_int_equal(r->version, 2);
  free_msg(r);
  expect(submit(w.tok_d1_updater, id, 0, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "record_id");

  recfix f;
  fill(&f, w.d1_id, "Hoàng Văn Em");
  f.r.id = id;
  f.salary.step = 4;
  expect(update(w.tok_d1_updater, &f.r, 2, NULL, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, NULL);
  assert_non_null(strstr(st.message, "awaiting approval"));

  /* Approval: not the updater's, not another district's administrator's. */
  expect(approve(w.tok_d1_updater, id, 2, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  expect(approve(w.tok_d2_admin, id, 2, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  expect(approve(w.tok_d1_admin, id, 2, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED);
  assert_true(r->verified);
  assert_string_not_equal(r->approved_by, "");
  assert_true(strlen(r->approved_at) == 20);
  free_msg(r);
  expect(approve(w.tok_d1_admin, id, 0, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "record_id");
  /* The system administrator approves anywhere: here there is nothing left to approve. */
  expect(approve(w.tok_admin, id, 0, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "record_id");
}

/* Sent back with a reason, edited, submitted again and approved; the reason stays with the
 * version that recorded it. */
static void test_workflow_reject_resubmit(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Đỗ Thị Giang", id);
  Record *r = NULL;
  cli_status st;
  expect(submit(w.tok_d1_updater, id, 0, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  expect(reject(w.tok_d1_admin, id, "   ", NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "reason");
  expect(reject(w.tok_d1_updater, id, "sai năm sinh", NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  expect(reject(w.tok_d1_admin, id, "Sai năm sinh so với giấy khai sinh", &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_REJECTED);
  free_msg(r);
  expect(reject(w.tok_d1_admin, id, "lần nữa", NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "record_id");

  /* Editing a sent-back record keeps it sent back until it is submitted again. */
  recfix f;
  fill(&f, w.d1_id, "Đỗ Thị Giang");
  f.r.id = id;
  f.r.birth_date = "1986-07-14";
  expect(update(w.tok_d1_updater, &f.r, 3, "sửa năm sinh", &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_REJECTED);
  assert_int_equal(r->version, 4);
  free_msg(r);
  expect(submit(w.tok_d1_updater, id, 4, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  expect(approve(w.tok_d1_admin, id, 5, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED);
  assert_string_equal(r->birth_date, "1986-07-14");
  free_msg(r);

  Hoso__Records__V1__ListRecordVersionsResponse *vr = NULL;
  expect(versions(w.tok_d1_reader, id, 0, NULL, &vr, &st), &st, GRPC_STATUS_OK, NULL);
  /* Newest first: APPROVE, SUBMIT, UPDATE, REJECT, SUBMIT, CREATE. */
  static const char *actions[] = {"APPROVE", "SUBMIT", "UPDATE", "REJECT", "SUBMIT", "CREATE"};
  assert_int_equal(vr->n_versions, 6);
  for (int i = 0; i < 6; i++) assert_string_equal(vr->versions[i]->action, actions[i]);
  assert_string_equal(vr->versions[3]->reason->text, "Sai năm sinh so với giấy khai sinh");
  assert_int_equal(vr->versions[3]->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_REJECTED);
  assert_string_equal(vr->versions[2]->reason->text, "sửa năm sinh");
  free_msg(vr);
}

/* A change decided by the state (a salary raise) to an approved record applies at once and is
 * marked unverified until a unit administrator approves it; a rejection leaves it applied and
 * unverified, recorded with its reason, for the updater to correct. */
static void test_change_after_approval(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Vũ Văn Hải", id);
  cli_status st;
  Record *r = NULL;
  expect(submit(w.tok_d1_updater, id, 1, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  expect(approve(w.tok_d1_admin, id, 2, NULL, &st), &st, GRPC_STATUS_OK, NULL);

  recfix f;
  fill(&f, w.d1_id, "Vũ Văn Hải");
  f.r.id = id;
  f.salary.step = 4;
  f.salary.coefficient = "3.33";
  expect(update(w.tok_d1_updater, &f.r, 3, "Nâng bậc lương thường xuyên", &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED);
  assert_false(r->verified);
  free_msg(r);
  r = must_get(w.tok_d1_reader, id);
  assert_int_equal(r->salary->step, 4);
  assert_false(r->verified);
  free_msg(r);

  /* Rejected: still applied, still unverified, the rejection on file. */
  expect(reject(w.tok_d1_admin, id, "Chưa có quyết định nâng lương kèm theo", &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED);
  assert_false(r->verified);
  assert_int_equal(r->salary->step, 4);
  assert_int_equal(r->version, 5);
  free_msg(r);
  /* Corrected by the updater (the decision's number in the reason), then approved. */
  f.salary.effective_date = "2024-09-01";
  expect(update(w.tok_d1_updater, &f.r, 5, "Bổ sung ngày hưởng theo quyết định", NULL, &st), &st, GRPC_STATUS_OK, NULL);
  expect(approve(w.tok_d1_admin, id, 6, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(r->verified);
  assert_int_equal(r->version, 7);
  free_msg(r);
  expect(reject(w.tok_d1_admin, id, "không còn gì", NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "record_id");
}

/* Optimistic concurrency: a stale version is ABORTED, never a silent overwrite; the fields
 * other RPCs own are refused by name; saving an unchanged form makes no version. */
static void test_versions_and_owned_fields(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Bùi Thị Lan", id);
  recfix f;
  fill(&f, w.d1_id, "Bùi Thị Lan");
  f.r.id = id;
  f.personal.email = "lan.bt@lucnam.bacgiang.gov.vn";
  cli_status st;
  Record *r = NULL;
  expect(update(w.tok_d1_updater, &f.r, 0, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "expected_version");
  expect(update(w.tok_d1_updater, &f.r, 1, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  /* A second editor who also read version 1. */
  f.personal.email = "lan@lucnam.bacgiang.gov.vn";
  expect(update(w.tok_admin, &f.r, 1, NULL, NULL, &st), &st, GRPC_STATUS_ABORTED, NULL);
  assert_non_null(strstr(st.message, "now version 2"));
  expect(submit(w.tok_d1_updater, id, 1, NULL, &st), &st, GRPC_STATUS_ABORTED, NULL);
  r = must_get(w.tok_d1_reader, id);
  assert_string_equal(r->personal->email, "lan.bt@lucnam.bacgiang.gov.vn");
  free_msg(r);

  /* The record as read, sent back unchanged: fine, and no new version. */
  r = must_get(w.tok_d1_updater, id);
  Record *out = NULL;
  expect(update(w.tok_d1_updater, r, 2, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->version, 2);
  free_msg(out);
  free_msg(r);

  fill(&f, w.d1_id, "Bùi Thị Lan");
  f.r.id = id;
  f.personal.email = "lan.bt@lucnam.bacgiang.gov.vn";
  f.r.managing_unit_id = w.d2_id;
  expect(update(w.tok_d1_updater, &f.r, 2, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.managing_unit_id");
  assert_non_null(strstr(st.message, "SetManagingUnit"));
  f.r.managing_unit_id = w.d1_id;
  f.r.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RETIRED;
  expect(update(w.tok_d1_updater, &f.r, 2, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.status");
  assert_non_null(strstr(st.message, "ChangeRecordStatus"));
  f.r.status = 0;
  f.r.workflow_state = HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED;
  expect(update(w.tok_d1_updater, &f.r, 2, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.workflow_state");
  f.r.workflow_state = 0;
  f.r.verified = 1;
  expect(update(w.tok_d1_updater, &f.r, 2, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.verified");
  assert_int_equal(sql_long("SELECT version FROM records.records WHERE id = $1", id, NULL), 2);
}

/* GetRecord(as_of) is transaction time: the last version written before the end of that day
 * in Vietnam. Version 1 is moved ten days back in the database, so three days discriminate: before
 * the record existed, while version 1 was current, and today. */
static void test_as_of(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Đặng Văn Khoa", id);
  recfix f;
  fill(&f, w.d1_id, "Đặng Văn Khoa");
  f.r.id = id;
  f.salary.step = 4;
  f.salary.coefficient = "3.33";
  cli_status st;
  expect(update(w.tok_d1_updater, &f.r, 1, "Nâng bậc", NULL, &st), &st, GRPC_STATUS_OK, NULL);
  /* version 1 at 00:30 in Vietnam ten days ago: 17:30 UTC of the day before, which a day ended
   * in UTC counted to that earlier day */
  sql_exec("UPDATE records.record_versions SET changed_at = ($2::date + time '00:30') AT TIME ZONE 'Asia/Ho_Chi_Minh' "
           "WHERE record_id = $1 AND version = 1",
           id, day(-10));

  Record *r = NULL;
  expect(get(w.tok_d1_reader, id, day(-20), NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "as_of");
  expect(get(w.tok_d1_reader, id, day(-11), NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "as_of");
  /* The day version 1 was written counts to its end. */
  expect(get(w.tok_d1_reader, id, day(-10), &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->version, 1);
  assert_int_equal(r->salary->step, 3);
  free_msg(r);
  expect(get(w.tok_d1_reader, id, day(-5), &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->salary->step, 3);
  assert_string_equal(r->managing_unit_path, w.d1_path);
  free_msg(r);
  expect(get(w.tok_d1_reader, id, day(0), &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->version, 2);
  assert_int_equal(r->salary->step, 4);
  free_msg(r);
  /* Scope holds for the past too; a bad day is named. */
  expect(get(w.tok_d2_reader, id, day(-5), NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  expect(get(w.tok_d2_reader, id, day(-20), NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  expect(get(w.tok_d1_reader, id, "2024-02-30", NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "as_of");
  expect(get(w.tok_d1_reader, "987654321", day(0), NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "record_id");
}

/* ListRecordVersions: newest first, keyset pages, the field-level changes with old and new
 * values, who made them and why. */
static void test_list_versions(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Ngô Thị Mai", id);
  recfix f;
  fill(&f, w.d1_id, "Ngô Thị Mai");
  f.r.id = id;
  cli_status st;
  for (int v = 1; v <= 4; v++) {
    f.salary.step = 3 + v;
    expect(update(w.tok_d1_updater, &f.r, v, "Nâng bậc lương", NULL, &st), &st, GRPC_STATUS_OK, NULL);
  }
  Hoso__Records__V1__ListRecordVersionsResponse *vr = NULL;
  long long expect_v = 5;
  char token[512] = "";
  int pages = 0;
  do {
    expect(versions(w.tok_d1_reader, id, 2, token, &vr, &st), &st, GRPC_STATUS_OK, NULL);
    pages++;
    for (size_t i = 0; i < vr->n_versions; i++) assert_int_equal(vr->versions[i]->version, expect_v--);
    snprintf(token, sizeof token, "%s", vr->next_page_token);
    if (pages == 1) {
      /* Version 5 raised step 6 to 7: exactly that leaf, with its values as JSON. */
      const Version *v5 = vr->versions[0];
      assert_string_equal(v5->action, "UPDATE");
      assert_int_equal(v5->n_changes, 1);
      assert_string_equal(v5->changes[0]->path, "salary.step");
      assert_string_equal(v5->changes[0]->old_value, "6");
      assert_string_equal(v5->changes[0]->new_value, "7");
      assert_string_equal(v5->changed_by_name, "ln.capnhat");
      assert_string_equal(v5->reason->text, "Nâng bậc lương");
      assert_string_equal(v5->reason->decision->number, "125/QĐ-UBND");
      assert_true(strlen(v5->changed_at) == 20);
    }
    free_msg(vr);
  } while (token[0]);
  assert_int_equal(pages, 3);
  assert_int_equal(expect_v, 0);
  /* The first version lists what the record was created with, each from null. */
  expect(versions(w.tok_d1_reader, id, 500, NULL, &vr, &st), &st, GRPC_STATUS_OK, NULL);
  const Version *v1 = vr->versions[4];
  int seen = 0;
  for (size_t i = 0; i < v1->n_changes; i++)
    if (strcmp(v1->changes[i]->path, "salary.step") == 0) {
      assert_string_equal(v1->changes[i]->old_value, "null");
      assert_string_equal(v1->changes[i]->new_value, "3");
      seen = 1;
    }
  assert_true(seen);
  free_msg(vr);

  expect(versions(w.tok_d1_reader, id, 2, "bm90LWEtdG9rZW4", NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
  expect(versions(w.tok_d1_reader, id, 501, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  expect(versions(w.tok_d2_reader, id, 0, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
}

/* Text is stored NFC (TCVN 6909:2001): decomposed input comes back composed, trimmed. */
static void test_nfc(void **state) {
  (void)state;
  recfix f;
  fill(&f, w.d1_id, "  " NFD_NAME " ");
  f.personal.home_town = "Xa\xCC\x83 Tie\xCC\x82n Hu\xCC\x9Bng";
  f.fam[0].full_name = "Nguye\xCC\x82\xCC\x83n Va\xCC\x86n Bi\xCC\x80nh";
  Record *r = NULL;
  cli_status st;
  expect(create(w.tok_d1_updater, &f.r, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  char id[32];
  snprintf(id, sizeof id, "%s", r->id);
  free_msg(r);
  r = must_get(w.tok_d1_reader, id);
  assert_string_equal(r->full_name, NFC_NAME);
  assert_string_equal(r->personal->home_town, "Xã Tiên Hưng");
  assert_string_equal(r->family[0]->full_name, "Nguyễn Văn Bình");
  free_msg(r);

  /* The declared personal history is prose: its paragraphs survive (and print as lines on
   * the 2C form); a line break typed into a one-line field such as a place is folded. */
  Hoso__Records__V1__PersonalHistory h = HOSO__RECORDS__V1__PERSONAL_HISTORY__INIT;
  h.relatives_abroad = "Anh trai: Trần Văn Hải, kỹ sư tại Đức.\r\n\r\n\r\nEm gái: Trần Thị Lan, du học tại Nhật Bản.  ";
  fill(&f, w.d1_id, "Trần Thị Hòa");
  f.r.personal_history = &h;
  f.personal.home_town = "Xã Tiên Hưng,\nhuyện Đông Hưng";
  expect(create(w.tok_d1_updater, &f.r, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->personal_history->relatives_abroad,
                      "Anh trai: Trần Văn Hải, kỹ sư tại Đức.\n\nEm gái: Trần Thị Lan, du học tại Nhật Bản.");
  assert_string_equal(r->personal->home_town, "Xã Tiên Hưng, huyện Đông Hưng");
  free_msg(r);
  assert_int_equal(sql_long("SELECT count(*) FROM records.records WHERE id = $1 AND name_folded = 'nguyen thi huong'",
                            id, NULL),
                   1);
}

/* Every refusal of bad input is INVALID_ARGUMENT naming the field path. */
static void test_bad_input(void **state) {
  (void)state;
  recfix f;
  cli_status st;
#define BAD(field_path, stmt)                                                                 \
  do {                                                                                        \
    fill(&f, w.d1_id, "Lý Thị Nga");                                                         \
    stmt;                                                                                     \
    expect(create(w.tok_d1_updater, &f.r, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, field_path); \
  } while (0)
  BAD("record.family[1].relation_code", f.fam[1].relation_code = "GRANDFATHER_X");
  assert_non_null(strstr(st.message, "RELATION"));
  BAD("record.personal.ethnicity_code", f.personal.ethnicity_code = "99");
  BAD("record.personal.birth_place", f.personal.birth_place = "X\xC3");
  assert_non_null(strstr(st.message, "UTF-8"));
  BAD("record.family[0].full_name", f.fam[0].full_name = "Nguy\xE1\xBB");
  BAD("record.full_name", f.r.full_name = "   ");
  BAD("record.birth_date", f.r.birth_date = "1985-02-29");
  BAD("record.birth_date", f.r.birth_date = (char *)day(2));
  BAD("record.birth_date", f.r.birth_date = "1899-12-31");
  BAD("record.gender", f.r.gender = 0);
  BAD("record.employment.category", f.emp.category = 0);
  BAD("record.employment.category", f.r.employment = NULL);
  BAD("record.salary.coefficient", f.salary.coefficient = "2.345");
  BAD("record.salary.coefficient", f.salary.coefficient = "20.00");
  BAD("record.salary.coefficient", f.salary.coefficient = "2,34");
  BAD("record.salary.step", f.salary.step = 21);
  BAD("record.salary.rank_code", f.salary.rank_code = "01.999");
  BAD("record.work_history[0].to", f.work[0].to = "2007-01");
  BAD("record.work_history[1].from", f.work[1].from = "2012-13");
  BAD("record.employment.recruitment_date", f.emp.recruitment_date = "01/09/2008");
  BAD("record.personal.citizen_id", f.personal.citizen_id = "12345");
  BAD("record.family[1].birth_year", f.fam[1].birth_year = "62");
  BAD("record.qualifications.degree_code", f.q.degree_code = "bad code!");
  char big[2100];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  BAD("record.personal.permanent_address", f.personal.permanent_address = big);
  assert_non_null(strstr(st.message, "2000"));
  char name[300];
  memset(name, 'b', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  BAD("record.full_name", f.r.full_name = name);
#undef BAD
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  memset(&st, 0, sizeof st);
  expect(th_call(w.rec_ch, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor, NULL,
                 w.tok_d1_updater, &st),
         &st, GRPC_STATUS_INVALID_ARGUMENT, "record");
  fill(&f, "", "Lý Thị Nga");
  expect(create(w.tok_d1_updater, &f.r, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.managing_unit_id");
  fill(&f, w.d1_id, "Lý Thị Nga");
  f.r.id = "x1";
  expect(update(w.tok_d1_updater, &f.r, 1, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.id");
  f.r.id = "987654321";
  expect(update(w.tok_d1_updater, &f.r, 1, NULL, NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "record_id");
  /* No refusal left a record behind. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.records WHERE full_name = 'Lý Thị Nga'", NULL, NULL), 0);
}

/* A repeated request_id returns the first result and changes nothing. */
static void test_idempotent_create(void **state) {
  (void)state;
  recfix f;
  fill(&f, w.d1_id, "Cao Văn Phúc");
  Record *a = NULL, *b = NULL;
  cli_status st;
  expect(create(w.tok_d1_updater, &f.r, "tao-ho-so-cao-van-phuc", &a, &st), &st, GRPC_STATUS_OK, NULL);
  expect(create(w.tok_d1_updater, &f.r, "tao-ho-so-cao-van-phuc", &b, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(a->id, b->id);
  free_msg(a);
  free_msg(b);
  assert_int_equal(sql_long("SELECT count(*) FROM records.records WHERE full_name = 'Cao Văn Phúc'", NULL, NULL), 1);
}

/* Records go only to units that can take them: a dissolved unit's records belong to its
 * successor (001 Đ5.5); while identity cannot answer, the caller is told to retry. */
static void test_unit_states(void **state) {
  (void)state;
  char gone[32], gone_path[64], fresh[32], fresh_path[64];
  Hoso__Identity__V1__CreateUnitRequest cu = HOSO__IDENTITY__V1__CREATE_UNIT_REQUEST__INIT;
  Hoso__Identity__V1__CreateUnitResponse *cr = NULL;
  cu.parent_id = w.d1_id;
  cu.code = "LN-XA-CU";
  cu.name = "UBND xã Cũ";
  cu.type = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_COMMUNE;
  cli_status st;
  expect(th_call(w.id_ch, IDN "CreateUnit", &cu, &hoso__identity__v1__create_unit_response__descriptor, (void **)&cr,
                 w.tok_admin, &st),
         &st, GRPC_STATUS_OK, NULL);
  snprintf(gone, sizeof gone, "%s", cr->unit->id);
  snprintf(gone_path, sizeof gone_path, "%s", cr->unit->path);
  free_msg(cr);
  cu.code = "LN-XA-MOI";
  cu.name = "UBND xã Mới";
  expect(th_call(w.id_ch, IDN "CreateUnit", &cu, &hoso__identity__v1__create_unit_response__descriptor, (void **)&cr,
                 w.tok_admin, &st),
         &st, GRPC_STATUS_OK, NULL);
  snprintf(fresh, sizeof fresh, "%s", cr->unit->id);
  snprintf(fresh_path, sizeof fresh_path, "%s", cr->unit->path);
  free_msg(cr);
  Hoso__Identity__V1__MergeUnitsRequest mu = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  mu.source_unit_id = gone;
  mu.target_unit_id = w.d1u_id;
  mu.reason = "Nghị quyết sáp nhập 01/NQ-HĐND";
  expect(th_call(w.id_ch, IDN "MergeUnits", &mu, &hoso__identity__v1__merge_units_response__descriptor, NULL,
                 w.tok_admin, &st),
         &st, GRPC_STATUS_OK, NULL);
  recfix f;
  fill(&f, gone, "Tạ Văn Quang");
  expect(create(w.tok_d1_updater, &f.r, NULL, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "record.managing_unit_id");
  assert_non_null(strstr(st.message, "dissolved"));

  /* identity frozen: the unit not yet known to records cannot be placed; after, it can. */
  fill(&f, fresh, "Tạ Văn Quang");
  assert_int_equal(th_svc_pause(&w.identity), 0);
  grpc_status_code c = create(w.tok_d1_updater, &f.r, NULL, NULL, &st);
  th_svc_resume(&w.identity);
  expect(c, &st, GRPC_STATUS_UNAVAILABLE, NULL);
  assert_non_null(strstr(st.message, "retry"));
  Record *r = NULL;
  expect(create(w.tok_d1_updater, &f.r, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->managing_unit_path, fresh_path);
  free_msg(r);
  (void)gone_path;
}

/* Every read of a full record and every change leaves an audit row in the same transaction,
 * and the records schema's audit chains recompute intact. */
static void test_audit(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Lương Thị Quế", id);
  long long reads = audit_count("RECORD_READ", id);
  Record *r = must_get(w.tok_d1_reader, id);
  free_msg(r);
  r = must_get(w.tok_d1_admin, id);
  free_msg(r);
  assert_int_equal(audit_count("RECORD_READ", id), reads + 2);
  /* Who read whom: the reader's account name is on the row. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_READ' AND target_id = $1 "
                            "AND actor_name = 'ln.xem' AND unit_path = $2",
                            id, w.d1_path),
                   1);
  /* A refused read is not a read of the dossier. */
  cli_status st;
  expect(get(w.tok_d2_reader, id, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_int_equal(audit_count("RECORD_READ", id), reads + 2);
  expect(submit(w.tok_d1_updater, id, 1, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  expect(approve(w.tok_d1_admin, id, 2, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(audit_count("RECORD_CREATE", id), 1);
  assert_int_equal(audit_count("RECORD_SUBMIT", id), 1);
  assert_int_equal(audit_count("RECORD_APPROVE", id), 1);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_APPROVE' AND target_id = $1 "
                            "AND detail LIKE '%workflow_state%'",
                            id, NULL),
                   1);

  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    setenv("HOSO_PG_DSN", w.pg.dsn, 1);
    execl(HOSO_BIN_DIR "/hoso-audit-verify", "hoso-audit-verify", "--schema", "records", (char *)NULL);
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_and_get),
      cmocka_unit_test(test_roles_and_scope),
      cmocka_unit_test(test_workflow_approve),
      cmocka_unit_test(test_workflow_reject_resubmit),
      cmocka_unit_test(test_change_after_approval),
      cmocka_unit_test(test_versions_and_owned_fields),
      cmocka_unit_test(test_as_of),
      cmocka_unit_test(test_list_versions),
      cmocka_unit_test(test_nfc),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_idempotent_create),
      cmocka_unit_test(test_unit_states),
      cmocka_unit_test(test_audit),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
