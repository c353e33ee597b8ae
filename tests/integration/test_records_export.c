/* ExportRecord over real gRPC and PostgreSQL with identity running: the JSON form round-trips to
 * the record GetRecord returns, the 2C résumé names the person, the catalogue entries and the
 * units, scope and roles decide who may export, every export is audited, as_of exports the past. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "pbjson.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define JSON_FMT HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON
#define HTML_FMT HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_HTML_2C

typedef Hoso__Records__V1__Record Record;
typedef Hoso__Records__V1__ExportRecordResponse ExportResp;

static th_world w;
static PGconn *admin_db; /* superuser: fixtures and inspection only */

/* ------------------------------------------------------------ helpers ------------------- */

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static long long sql_long(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static void sql_exec(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  PQclear(r);
}

/* A dossier built in place (it points into itself: never copy it after fill). */
typedef struct {
  Record r;
  Hoso__Records__V1__PersonalInfo personal;
  Hoso__Records__V1__Employment emp;
  Hoso__Records__V1__SalaryInfo salary;
  Hoso__Records__V1__Qualifications q;
  Hoso__Records__V1__RewardEntry reward, *rewardp;
  Hoso__Records__V1__FamilyRelation fam, *famp;
  Hoso__Records__V1__WorkHistoryEntry work, *workp;
  Hoso__Records__V1__TrainingEntry train, *trainp;
} recfix;

static void fill(recfix *f, const char *unit, const char *name) {
  memset(f, 0, sizeof *f);
  hoso__records__v1__record__init(&f->r);
  hoso__records__v1__personal_info__init(&f->personal);
  hoso__records__v1__employment__init(&f->emp);
  hoso__records__v1__salary_info__init(&f->salary);
  hoso__records__v1__qualifications__init(&f->q);
  hoso__records__v1__reward_entry__init(&f->reward);
  hoso__records__v1__family_relation__init(&f->fam);
  hoso__records__v1__work_history_entry__init(&f->work);
  hoso__records__v1__training_entry__init(&f->train);
  f->r.managing_unit_id = (char *)unit;
  f->r.full_name = (char *)name;
  f->r.birth_date = "1985-07-14";
  f->r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  f->personal.ethnicity_code = "01";
  f->personal.birth_place = "Xã Tiên Hưng, huyện Lục Nam, tỉnh Bắc Giang";
  f->personal.citizen_id = "024185001234";
  f->personal.citizen_id_date = "2021-03-15";
  f->r.personal = &f->personal;
  f->emp.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  f->emp.recruitment_date = "2008-09-01";
  f->emp.department = "Phòng Nội vụ";
  f->r.employment = &f->emp;
  f->salary.rank_code = "01.003";
  f->salary.step = 3;
  f->salary.coefficient = "3.00";
  f->salary.effective_date = "2017-09-01";
  f->r.salary = &f->salary;
  f->q.degree_code = "DH";
  f->q.major = "Luật";
  f->r.qualifications = &f->q;
  f->reward.form_code = "XT_BK";
  f->reward.year = "2020";
  f->rewardp = &f->reward;
  f->r.rewards = &f->rewardp;
  f->r.n_rewards = 1;
  f->fam.relation_code = "FATHER";
  f->fam.full_name = "Đặng Văn Bình";
  f->fam.birth_year = "1958";
  f->famp = &f->fam;
  f->r.family = &f->famp;
  f->r.n_family = 1;
  f->work.from = "2008-09";
  f->work.unit = "UBND huyện Lục Nam";
  f->work.position = "Chuyên viên";
  f->workp = &f->work;
  f->r.work_history = &f->workp;
  f->r.n_work_history = 1;
  f->train.school = "Trường Đại học Luật Hà Nội";
  f->train.from = "2003-09";
  f->train.to = "2007-06";
  f->train.degree_code = "DH";
  f->trainp = &f->train;
  f->r.trainings = &f->trainp;
  f->r.n_trainings = 1;
}

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

static void mk(const char *tok, const char *unit, const char *name, char id_out[32]) {
  recfix f;
  fill(&f, unit, name);
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &f.r;
  Record *r = NULL;
  cli_status st;
  grpc_status_code c = rec_call(tok, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor, &r, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateRecord %s: %s %s", name, cli_status_name(c), st.message);
  snprintf(id_out, 32, "%s", r->id);
  free_msg(r);
}

static Record *must_get(const char *tok, const char *id) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  Record *r = NULL;
  cli_status st;
  grpc_status_code c = rec_call(tok, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor, &r, &st);
  if (c != GRPC_STATUS_OK) fail_msg("GetRecord %s: %s %s", id, cli_status_name(c), st.message);
  return r;
}

static grpc_status_code export_rec(const char *tok, const char *id, int format, const char *as_of, ExportResp **out,
                                   cli_status *st) {
  Hoso__Records__V1__ExportRecordRequest req = HOSO__RECORDS__V1__EXPORT_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.format = format;
  req.as_of = (char *)(as_of ? as_of : "");
  memset(st, 0, sizeof *st);
  ExportResp *r = NULL;
  grpc_status_code c = th_call(w.rec_ch, REC "ExportRecord", &req, &hoso__records__v1__export_record_response__descriptor,
                               (void **)&r, tok, st);
  if (out)
    *out = r;
  else
    free_msg(r);
  return c;
}

static ExportResp *must_export(const char *tok, const char *id, int format, const char *as_of) {
  cli_status st;
  ExportResp *r = NULL;
  th_expect(export_rec(tok, id, format, as_of, &r, &st), &st, GRPC_STATUS_OK, NULL);
  return r;
}

/* The content as a NUL-terminated string (the bytes carry no terminator). */
static char *content(const ExportResp *r) {
  char *s = malloc(r->content.len + 1);
  memcpy(s, r->content.data, r->content.len);
  s[r->content.len] = 0;
  return s;
}

static void has(const char *text, const char *needle) {
  if (!strstr(text, needle)) fail_msg("export lacks \"%s\"", needle);
}

static int same_bytes(const ProtobufCMessage *a, const ProtobufCMessage *b) {
  size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
  if (na != nb) return 0;
  uint8_t *x = malloc(na + 1), *y = malloc(nb + 1);
  protobuf_c_message_pack(a, x);
  protobuf_c_message_pack(b, y);
  int eq = memcmp(x, y, na) == 0;
  free(x);
  free(y);
  return eq;
}

static const char *day(int days) { return th_vn_day(days); }

static long long exports_of(const char *id) {
  return sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_EXPORT' AND target_id = $1", id);
}

/* ------------------------------------------------------------ setup --------------------- */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(admin_db) != CONNECTION_OK) return -1;
  PQclear(PQexec(admin_db, "SET search_path = records, public"));
  /* The codes these records use, with names only this test gives (XT_BK), so the résumé shows
   * a name that can only have come from catalog_entries. */
  static const char *codes[][3] = {
      {"ETHNICITY", "01", "Kinh"},           {"RANK", "01.003", "Chuyên viên"},
      {"DEGREE", "DH", "Đại học"},           {"RELATION", "FATHER", "Bố đẻ"},
      {"REWARD_FORM", "XT_BK", "Bằng khen thử nghiệm xuất hồ sơ"},
  };
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *p[3] = {codes[i][0], codes[i][1], codes[i][2]};
    PGresult *r = PQexecParams(admin_db,
                               "INSERT INTO records.catalog_entries (catalog, code, name) SELECT $1, $2, $3 "
                               "WHERE NOT EXISTS (SELECT 1 FROM records.catalog_entries WHERE catalog = $1 AND code = $2)",
                               3, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "catalogue fixture: %s", PQresultErrorMessage(r));
    PQclear(r);
    if (!ok) return -1;
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

/* The JSON export is the proto3 JSON form of the record GetRecord returns: decoded again it
 * packs to the same bytes, so nothing is lost or added on the way. */
static void test_json_round_trip(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Đặng Thị Hoa", id);
  ExportResp *e = must_export(w.tok_d1_reader, id, JSON_FMT, NULL);
  assert_string_equal(e->content_type, "application/json");
  char name[64];
  snprintf(name, sizeof name, "ho-so-%s.json", id);
  assert_string_equal(e->file_name, name);
  char err[256];
  Record *back = (Record *)pbjson_decode(&hoso__records__v1__record__descriptor, (const char *)e->content.data,
                                         e->content.len, 0, NULL, err, sizeof err);
  if (!back) fail_msg("the export does not decode: %s", err);
  Record *now = must_get(w.tok_d1_reader, id);
  assert_true(same_bytes(&back->base, &now->base));
  assert_string_equal(back->full_name, "Đặng Thị Hoa");
  assert_string_equal(back->trainings[0]->school, "Trường Đại học Luật Hà Nội");
  free_msg(back);
  free_msg(now);
  free_msg(e);
}

/* The résumé: the form's title, the name in capitals, the dates as dd/mm/yyyy, catalogue codes
 * as the names catalog_entries gives them, and the managing unit's name from identity. */
static void test_html_2c(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Đặng Thị Hoa", id);
  ExportResp *e = must_export(w.tok_d1_reader, id, HTML_FMT, NULL);
  assert_string_equal(e->content_type, "text/html; charset=utf-8");
  char name[64];
  snprintf(name, sizeof name, "2C-%s.html", id);
  assert_string_equal(e->file_name, name);
  char *html = content(e);
  has(html, "SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC");
  has(html, "ĐẶNG THỊ HOA");
  has(html, "01/09/2008");                        /* recruitment date */
  has(html, "15/03/2021");                        /* citizen id date */
  has(html, "<span class=\"v\">14</span> tháng <span class=\"v\">07</span> năm <span class=\"v\">1985</span>");
  has(html, "Bằng khen thử nghiệm xuất hồ sơ (2020)");
  has(html, "<td>Bố đẻ</td><td>Đặng Văn Bình</td>");
  has(html, "Kinh");
  /* Quản lý: the managing unit d1; sử dụng: the department within it. */
  has(html, "Cơ quan, đơn vị có thẩm quyền quản lý CBCC: <span class=\"v\">UBND huyện Lục Nam</span>");
  has(html, "Cơ quan, đơn vị sử dụng CBCC: <span class=\"v\">Phòng Nội vụ, UBND huyện Lục Nam</span>");
  assert_null(strstr(html, "<script"));
  free(html);
  free_msg(e);
  /* The names come from the record's managing unit, d1u here, not from the caller's unit. */
  char id2[32];
  mk(w.tok_d1u_updater, w.d1u_id, "Lương Văn Tùng", id2);
  e = must_export(w.tok_d1_reader, id2, HTML_FMT, NULL);
  html = content(e);
  has(html, "LƯƠNG VĂN TÙNG");
  has(html, "Trường THCS Thị trấn Đồi Ngô");
  free(html);
  free_msg(e);
}

/* Exports follow the read rule: a reader of a sibling district and an updater of a unit below
 * are refused; no caller, a bad format, a bad date and an unknown record are named. */
static void test_scope_and_input(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Vũ Thị Lan", id);
  cli_status st;
  th_expect(export_rec(w.tok_d2_reader, id, JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(export_rec(w.tok_d2_reader, id, HTML_FMT, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(export_rec(w.tok_d1u_updater, id, JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(export_rec(w.tok_admin, id, HTML_FMT, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(export_rec(w.tok_d1_admin, id, JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(export_rec(NULL, id, JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
  th_expect(export_rec(w.tok_d1_reader, id, 0, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "format");
  th_expect(export_rec(w.tok_d1_reader, id, 7, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "format");
  th_expect(export_rec(w.tok_d1_reader, id, JSON_FMT, "2024-13-01", NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "as_of");
  th_expect(export_rec(w.tok_d1_reader, "abc", JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record_id");
  th_expect(export_rec(w.tok_d1_reader, "987654321", JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "record_id");
}

/* A person may export their own dossier (004 Đ12.2), and no one else's. */
static void test_self(void **state) {
  (void)state;
  char mine[32], other[32];
  mk(w.tok_d1_updater, w.d1_id, "Trịnh Văn Sơn", mine);
  mk(w.tok_d1_updater, w.d1_id, "Trịnh Thị Mai", other);
  char *tok = th_world_self_token(&w, w.d1_id, mine);
  assert_non_null(tok);
  ExportResp *e = must_export(tok, mine, HTML_FMT, NULL);
  char *html = content(e);
  has(html, "TRỊNH VĂN SƠN");
  free(html);
  free_msg(e);
  cli_status st;
  th_expect(export_rec(tok, other, JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  free(tok);
}

/* Every export leaves one RECORD_EXPORT row naming the record and the caller, written with the
 * read; a refused export leaves none. */
static void test_audit(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Phan Văn Đức", id);
  assert_int_equal(exports_of(id), 0);
  cli_status st;
  th_expect(export_rec(w.tok_d1_reader, id, JSON_FMT, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(export_rec(w.tok_d1_reader, id, HTML_FMT, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(export_rec(w.tok_d2_reader, id, HTML_FMT, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  assert_int_equal(exports_of(id), 2);
  assert_int_equal(sql_long("SELECT count(DISTINCT actor_id) FROM records.audit_log "
                            "WHERE action = 'RECORD_EXPORT' AND target_id = $1",
                            id),
                   1);
}

/* as_of exports the version current at the end of that day: version 1 is moved ten days back,
 * so five days ago the record still had step 3 and coefficient 3.00, today step 4. */
static void test_as_of(void **state) {
  (void)state;
  char id[32];
  mk(w.tok_d1_updater, w.d1_id, "Hà Văn Quang", id);
  recfix f;
  fill(&f, w.d1_id, "Hà Văn Quang");
  f.r.id = id;
  f.salary.step = 4;
  f.salary.coefficient = "3.33";
  Hoso__Records__V1__UpdateRecordRequest req = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  Hoso__Records__V1__ChangeReason reason = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
  reason.text = "Nâng bậc lương thường xuyên";
  req.record = &f.r;
  req.expected_version = 1;
  req.reason = &reason;
  cli_status st;
  th_expect(rec_call(w.tok_d1_updater, REC "UpdateRecord", &req, &hoso__records__v1__update_record_response__descriptor,
                  NULL, &st),
         &st, GRPC_STATUS_OK, NULL);
  sql_exec("UPDATE records.record_versions SET changed_at = now() - interval '10 days' "
           "WHERE record_id = $1 AND version = 1",
           id);

  ExportResp *e = must_export(w.tok_d1_reader, id, JSON_FMT, day(-5));
  char err[256];
  Record *old = (Record *)pbjson_decode(&hoso__records__v1__record__descriptor, (const char *)e->content.data,
                                        e->content.len, 0, NULL, err, sizeof err);
  if (!old) fail_msg("the export does not decode: %s", err);
  assert_int_equal(old->version, 1);
  assert_int_equal(old->salary->step, 3);
  assert_string_equal(old->salary->coefficient, "3.00");
  free_msg(old);
  free_msg(e);

  e = must_export(w.tok_d1_reader, id, HTML_FMT, day(-5));
  char *html = content(e);
  has(html, "Bậc lương: <span class=\"v\">3</span>, Hệ số: <span class=\"v\">3.00</span>");
  free(html);
  free_msg(e);
  e = must_export(w.tok_d1_reader, id, HTML_FMT, NULL);
  html = content(e);
  has(html, "Bậc lương: <span class=\"v\">4</span>, Hệ số: <span class=\"v\">3.33</span>");
  free(html);
  free_msg(e);

  /* Before the record existed there is nothing to export; scope holds for the past too. */
  th_expect(export_rec(w.tok_d1_reader, id, JSON_FMT, day(-20), NULL, &st), &st, GRPC_STATUS_NOT_FOUND, NULL);
  th_expect(export_rec(w.tok_d2_reader, id, JSON_FMT, day(-5), NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_round_trip),
      cmocka_unit_test(test_html_2c),
      cmocka_unit_test(test_scope_and_input),
      cmocka_unit_test(test_self),
      cmocka_unit_test(test_audit),
      cmocka_unit_test(test_as_of),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
