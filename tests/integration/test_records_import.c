/* ImportRecords over real gRPC and PostgreSQL: good CSV and JSON batches stored as drafts with
 * their first versions and one audit row, a bad row reported with its line and field while
 * nothing is applied, dry runs, the error cap, content over the 4 MiB limit, who may import
 * where, and request_id idempotency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"

typedef Hoso__Records__V1__ImportRecordsRequest ImportReq;
typedef Hoso__Records__V1__ImportRecordsResponse ImportResp;

static th_world w;
static PGconn *admin_db;

static long long sql_long(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static long long n_records(void) { return sql_long("SELECT count(*) FROM records.records", NULL); }

static grpc_status_code import(const char *tok, const char *unit, int format, const char *content, size_t len,
                               int dry_run, const char *request_id, ImportResp **out, cli_status *st) {
  ImportReq req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.format = format;
  req.content.data = (uint8_t *)content;
  req.content.len = len ? len : strlen(content);
  req.dry_run = dry_run;
  req.request_id = (char *)(request_id ? request_id : "");
  cli_status local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  *out = NULL;
  return th_call(w.rec_ch, REC "ImportRecords", &req, &hoso__records__v1__import_records_response__descriptor, (void **)out,
                 tok, st);
}

#define CSV HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV
#define JSON HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON

static const char good_csv[] =
    "full_name,birth_date,gender,personal.ethnicity_code,personal.home_town,employment.category,"
    "salary.rank_code,salary.step,salary.coefficient,work_history[0].from,work_history[0].unit\n"
    "Nguyễn Văn Bảy,1979-05-01,GENDER_MALE,01,\"Xã Tiên Hưng, huyện Lục Nam\",CATEGORY_CIVIL_SERVANT,01.003,4,3.33,"
    "2004-09,UBND huyện Lục Nam\n"
    "Hoàng Thị Tám,1986-11-20,GENDER_FEMALE,02,Xã Bảo Sơn,CATEGORY_PUBLIC_EMPLOYEE,V.07.04.32,2,2.67,2010-09,"
    "Trường THCS Thị trấn Đồi Ngô\n"
    "Lý Văn Chín,1990-02-28,GENDER_MALE,09,Xã An Lạc,CATEGORY_COMMUNE_OFFICIAL,01.004,1,2.10,,\n";

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  return PQstatus(admin_db) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  int errors = th_log_errors(w.records.log);
  return th_world_stop(&w) == 0 && errors == 0 ? 0 : -1;
}

/* A good CSV batch: every row becomes a draft record of the unit with a first version made by
 * action IMPORT, and the batch leaves one RECORD_IMPORT audit row naming every id. */
static void test_good_csv(void **state) {
  (void)state;
  long long before = n_records();
  long long audits = sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_IMPORT'", NULL);
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 3);
  assert_int_equal(r->n_errors, 0);
  assert_int_equal(r->n_record_ids, 3);
  assert_int_equal(n_records(), before + 3);
  for (size_t i = 0; i < 3; i++) {
    const char *id = r->record_ids[i];
    /* Drafts of d1 (004 Đ10: the unit approves later), version 1. */
    assert_int_equal(sql_long("SELECT workflow_state FROM records.records WHERE id = $1::bigint", id), 1);
    assert_int_equal(sql_long("SELECT managing_unit_id FROM records.records WHERE id = $1::bigint", id), atoll(w.d1_id));
    assert_int_equal(sql_long("SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint "
                              "AND version = 1 AND action = 'IMPORT'", id),
                     1);
  }
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_IMPORT'", NULL), audits + 1);
  PGresult *a = PQexec(admin_db, "SELECT detail, unit_path FROM records.audit_log WHERE action = 'RECORD_IMPORT' "
                                 "ORDER BY seq DESC LIMIT 1");
  for (size_t i = 0; i < 3; i++) assert_non_null(strstr(PQgetvalue(a, 0, 0), r->record_ids[i]));
  assert_non_null(strstr(PQgetvalue(a, 0, 0), "\"count\":3"));
  assert_string_equal(PQgetvalue(a, 0, 1), w.d1_path);
  PQclear(a);

  /* The stored record is the row as read: GetRecord gives the CSV's values back. */
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = r->record_ids[1];
  Hoso__Records__V1__GetRecordResponse *gr = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor, (void **)&gr,
                           w.tok_d1_reader, &st),
                   GRPC_STATUS_OK);
  assert_string_equal(gr->record->full_name, "Hoàng Thị Tám");
  assert_string_equal(gr->record->salary->coefficient, "2.67");
  assert_string_equal(gr->record->work_history[0]->unit, "Trường THCS Thị trấn Đồi Ngô");
  assert_int_equal(gr->record->version, 1);
  free_msg(gr);
  free_msg(r);
}

/* JSON: an array and JSON Lines both import; the names are searchable at once. */
static void test_good_json(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  const char *arr =
      "[{\"fullName\":\"Phan Thị Mười\",\"birthDate\":\"1991-01-01\",\"gender\":\"GENDER_FEMALE\","
      "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"},"
      "\"family\":[{\"relationCode\":\"FATHER\",\"fullName\":\"Phan Văn Một\",\"birthYear\":\"1960\"}]},"
      "{\"full_name\":\"Vũ Văn Mười Một\",\"birth_date\":\"1992-02-02\",\"gender\":\"GENDER_MALE\","
      "\"employment\":{\"category\":\"CATEGORY_PUBLIC_EMPLOYEE\"}}]";
  th_expect(import(w.tok_d2_updater, w.d2_id, JSON, arr, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 2);
  assert_int_equal(r->imported, 2);
  free_msg(r);
  const char *lines =
      "{\"fullName\":\"Bùi Văn Mười Hai\",\"birthDate\":\"1993-03-03\",\"gender\":\"GENDER_MALE\",\"employment\":{\"category\":\"CATEGORY_CADRE\"}}\n"
      "{\"fullName\":\"Đỗ Thị Mười Ba\",\"birthDate\":\"1994-04-04\",\"gender\":\"GENDER_FEMALE\",\"employment\":{\"category\":\"CATEGORY_CONTRACT\"}}\n";
  th_expect(import(w.tok_d2_updater, w.d2_id, JSON, lines, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->imported, 2);
  free_msg(r);
  assert_int_equal(n_records(), before + 4);

  Hoso__Records__V1__SearchRecordsRequest q = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.name = "muoi";
  Hoso__Records__V1__SearchRecordsResponse *sr = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "SearchRecords", &q, &hoso__records__v1__search_records_response__descriptor,
                           (void **)&sr, w.tok_d2_reader, &st),
                   GRPC_STATUS_OK);
  /* Mười (given name), Mười Một and Mười Hai (middle words), Mười Ba: four word starts. */
  assert_int_equal(sr->total, 4);
  free_msg(sr);
}

/* One bad row among good ones: the whole batch is refused, each error names its line and
 * field, and not one record is added. */
static void test_bad_row_nothing_applied(void **state) {
  (void)state;
  long long before = n_records();
  long long versions = sql_long("SELECT count(*) FROM records.record_versions", NULL);
  const char *csv =
      "full_name,birth_date,gender,personal.ethnicity_code,employment.category\n"
      "Trần Văn Một,1980-01-01,GENDER_MALE,01,CATEGORY_CIVIL_SERVANT\n"
      "Trần Văn Hai,1980-01-01,GENDER_MALE,99,CATEGORY_CIVIL_SERVANT\n"   /* line 3: unknown ethnicity */
      "Trần Văn Ba,1980-02-30,GENDER_MALE,01,CATEGORY_CIVIL_SERVANT\n"    /* line 4: no such date */
      "Trần Văn Bốn,1980-01-01,GENDER_MALE,01,CATEGORY_CIVIL_SERVANT\n";
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 4);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_record_ids, 0);
  assert_int_equal(r->n_errors, 2);
  assert_int_equal(r->errors[0]->line, 3);
  assert_string_equal(r->errors[0]->field, "personal.ethnicity_code");
  assert_non_null(strstr(r->errors[0]->message, "99"));
  assert_int_equal(r->errors[1]->line, 4);
  assert_string_equal(r->errors[1]->field, "birth_date");
  free_msg(r);
  assert_int_equal(n_records(), before);
  assert_int_equal(sql_long("SELECT count(*) FROM records.record_versions", NULL), versions);

  /* JSON: the error is at the array index + 1. */
  const char *arr = "[{\"fullName\":\"Lê Văn Năm\",\"birthDate\":\"1980-01-01\",\"gender\":\"GENDER_MALE\","
                    "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"}},"
                    "{\"fullName\":\"Lê Văn Sáu\",\"birthDate\":\"1980-01-01\",\"gender\":\"GENDER_MALE\","
                    "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"},\"salary\":{\"rankCode\":\"XX.999\"}}]";
  th_expect(import(w.tok_d1_updater, w.d1_id, JSON, arr, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 1);
  assert_int_equal(r->errors[0]->line, 2);
  assert_string_equal(r->errors[0]->field, "salary.rank_code");
  free_msg(r);
  assert_int_equal(n_records(), before);
}

/* Past 1 000 errors the response lists the first 1 000 and says how many more there were. */
static void test_error_cap(void **state) {
  (void)state;
  size_t cap = 1300 * 80 + 200, o = 0;
  char *csv = malloc(cap);
  o += (size_t)snprintf(csv + o, cap - o, "full_name,birth_date,gender,employment.category\n");
  for (int i = 0; i < 1200; i++)
    o += (size_t)snprintf(csv + o, cap - o, "Người Thứ %d,1980-13-01,GENDER_MALE,CATEGORY_CIVIL_SERVANT\n", i);
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, csv, o, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 1200);
  assert_int_equal(r->imported, 0);
  /* 1 000 listed, then one line that counts the rest. */
  assert_int_equal(r->n_errors, 1001);
  assert_int_equal(r->errors[0]->line, 2);
  assert_non_null(strstr(r->errors[1000]->message, "200 more errors"));
  free_msg(r);
  free(csv);
  assert_int_equal(n_records(), before);
}

/* A dry run validates and counts, and stores nothing, even when every row is good. */
static void test_dry_run(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, good_csv, 0, 1, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 0);
  assert_int_equal(r->n_record_ids, 0);
  free_msg(r);
  assert_int_equal(n_records(), before);
}

/* Content beyond the 4 MiB message limit is refused before any handler runs; nothing changes. */
static void test_oversize(void **state) {
  (void)state;
  size_t n = (4u << 20) + 1024;
  char *big = malloc(n + 1);
  memset(big, 'a', n);
  big[n] = 0;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  grpc_status_code c = import(w.tok_d1_updater, w.d1_id, CSV, big, n, 0, NULL, &r, &st);
  assert_int_equal(c, GRPC_STATUS_RESOURCE_EXHAUSTED);
  assert_null(r);
  free(big);
  assert_int_equal(n_records(), before);
  /* Empty content is named. */
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, "", 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "content");
}

/* Importing is the updaters' job within their subtree: a READER may not, an UPDATER of d2 may
 * not import into d1, and bad fields are named. */
static void test_permissions_and_fields(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_reader, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(import(w.tok_d2_updater, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "unit_id");
  th_expect(import(w.tok_d1_admin, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  /* An updater of d1u (below d1) may not import into d1 above it. */
  th_expect(import(w.tok_d1u_updater, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "unit_id");
  th_expect(import(NULL, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
  th_expect(import(w.tok_d1_updater, "", CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  th_expect(import(w.tok_d1_updater, w.d1_id, 0, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "format");
  /* rec_unit_path answers an unknown unit as a bad argument naming the field. */
  th_expect(import(w.tok_d1_updater, "999999", CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  assert_int_equal(n_records(), before);
  /* The UPDATER of d1 may import into d1u below it. */
  th_expect(import(w.tok_d1_updater, w.d1u_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->imported, 3);
  free_msg(r);
  assert_int_equal(n_records(), before + 3);
}

/* The same request_id again returns the first call's ids and adds nothing. */
static void test_idempotent(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *a = NULL, *b = NULL;
  cli_status st;
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, good_csv, 0, 0, "nhap-lo-2026-001", &a, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, good_csv, 0, 0, "nhap-lo-2026-001", &b, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(a->imported, 3);
  assert_int_equal(b->imported, 3);
  assert_int_equal(b->rows, 3);
  assert_int_equal(b->n_record_ids, 3);
  for (size_t i = 0; i < 3; i++) assert_string_equal(a->record_ids[i], b->record_ids[i]);
  free_msg(a);
  free_msg(b);
  assert_int_equal(n_records(), before + 3);
  /* A failed batch does not use up its request_id: fixed and sent again, it imports. */
  const char *bad = "full_name,birth_date,gender,employment.category\nLê Văn Lỗi,1980-01-01,GENDER_MALE,CATEGORY_NONE\n";
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, bad, 0, 0, "nhap-lo-2026-002", &a, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(a->imported, 0);
  assert_true(a->n_errors >= 1);
  free_msg(a);
  const char *fixed = "full_name,birth_date,gender,employment.category\nLê Văn Lỗi,1980-01-01,GENDER_MALE,CATEGORY_CADRE\n";
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, fixed, 0, 0, "nhap-lo-2026-002", &a, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(a->imported, 1);
  free_msg(a);
  assert_int_equal(n_records(), before + 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_csv),
      cmocka_unit_test(test_good_json),
      cmocka_unit_test(test_bad_row_nothing_applied),
      cmocka_unit_test(test_error_cap),
      cmocka_unit_test(test_dry_run),
      cmocka_unit_test(test_oversize),
      cmocka_unit_test(test_permissions_and_fields),
      cmocka_unit_test(test_idempotent),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
