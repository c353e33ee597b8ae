/* RunReport and the template RPCs over real services: BM01/BNV filled from generated dossiers
 * and opened with exceljs, every one of its 38 columns of every unit row and of the total row
 * compared with counts this test makes from what it generated; BM03/BNV as CSV (csv-parse) and
 * PDF (pdftotext); a report as known before the data existed; the scope; template versions and
 * refusals that name the bad part and leave the stored template unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "reporting.pb-c.h"
#include "th_files.h"
#include "th_people.h"

#define REP "/hoso.reporting.v1.Reporting/"

enum { N = 120 };

static th_world w;
static th_svc rep;
static cli_chan *rep_ch;
static th_person P[N];
static char today[11], dir[64];

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

/* ------------------------------------------------------------ the expected BM01 --------- */

/* The retirement of NĐ 135/2020, written here from REFERENCE §3's table: the last day of the
 * month in which the age of the year it is reached is reached (as a month index y*12+m-1). */
static int retire_month(const th_person *p) {
  int born = p->by * 12 + p->bm - 1;
  for (int y = p->by + 50; y < p->by + 70; y++) {
    int age = p->gender == 1 ? (y <= 2020 ? 720 : y >= 2028 ? 744 : 723 + 3 * (y - 2021))
                             : (y <= 2020 ? 660 : y >= 2035 ? 720 : 664 + 4 * (y - 2021));
    if ((born + age) / 12 == y) return born + age;
  }
  return -1;
}

static int over_retirement(const th_person *p) {
  int y, m, d;
  sscanf(today, "%d-%d-%d", &y, &m, &d);
  return retire_month(p) < y * 12 + m - 1; /* retired at the end of an earlier month */
}

static int any(const char *v, const char *const *set) {
  for (; *set; set++)
    if (!strcmp(v, *set)) return 1;
  return 0;
}

/* Column c (1..38) of BM01/BNV for person p (a civil servant at work): 1 when p counts in it. */
static int bm01(const th_person *p, int c) {
  static const char *const a3[] = {"01.001", NULL}, *const a2[] = {"01.002", NULL},
                           *const a1[] = {"01.003", "V.07.04.32", NULL}, *const a0[] = {"01.004", NULL},
                           *const bc[] = {"01.005", NULL};
  int a = th_people_age(p, today);
  switch (c) {
  case 2: return 1;
  case 3: return p->gender == 2;
  case 4: return p->party;
  case 5: return strcmp(p->eth, "01") != 0 && *p->eth;
  case 6: return *p->rel && strcmp(p->rel, "00") != 0;
  case 7: return any(p->rank, a3);
  case 8: return any(p->rank, a2);
  case 9: return any(p->rank, a1);
  case 10: return any(p->rank, a0);
  case 11: return any(p->rank, bc);
  case 12: return !strcmp(p->degree, "TS");
  case 13: return !strcmp(p->degree, "THS");
  case 14: return !strcmp(p->degree, "DH");
  case 15: return !strcmp(p->degree, "CD");
  case 16: return !strcmp(p->degree, "TC");
  case 17: return !strcmp(p->degree, "SC");
  case 18: return !strcmp(p->pol, "CN");
  case 19: return !strcmp(p->pol, "CC");
  case 20: return !strcmp(p->pol, "TC");
  case 21: return !strcmp(p->pol, "SC");
  case 22: return !strcmp(p->it, "Trung cấp tin học") || !strcmp(p->it, "Ứng dụng CNTT nâng cao");
  case 23: return !strcmp(p->it, "Chứng chỉ B");
  case 24: return !strcmp(p->lang, "Cử nhân tiếng Anh");
  case 25: return !strcmp(p->lang, "Tiếng Anh B1");
  case 26: return !strcmp(p->lang, "Đại học tiếng Trung");
  case 27: return !strcmp(p->lang, "Tiếng Pháp B");
  case 28: return *p->ethlang != 0;
  case 29: return !strcmp(p->sm, "CVCC");
  case 30: return !strcmp(p->sm, "CVC");
  case 31: return !strcmp(p->sm, "CV");
  case 32: return a <= 30;
  case 33: return a >= 31 && a <= 40;
  case 34: return a >= 41 && a <= 50;
  case 35: return a >= 51 && a <= 60;
  case 36: return p->gender == 2 && a >= 51 && a <= 55;
  case 37: return p->gender == 1 && a >= 56 && a <= 60;
  case 38: return over_retirement(p);
  default: return 0;
  }
}

/* The count of column c over the civil servants at work in the units of `mask` (bit per unit). */
static long bm01_count(int mask, int c) {
  long n = 0;
  for (int i = 0; i < N; i++)
    if ((mask & (1 << P[i].unit)) && P[i].category == 2 && !P[i].retired) n += bm01(&P[i], c);
  return n;
}

/* ------------------------------------------------------------ calls --------------------- */

static grpc_status_code run_report(const char *tok, const char *code, const char *unit, int format, const char *known_on,
                                   const char *path, char **name, char **type, cli_status *st) {
  Hoso__Reporting__V1__RunReportRequest req = HOSO__REPORTING__V1__RUN_REPORT_REQUEST__INIT;
  Hoso__Reporting__V1__When when = HOSO__REPORTING__V1__WHEN__INIT;
  req.template_ = (char *)code;
  req.unit_id = (char *)(unit ? unit : "");
  req.format = (Hoso__Reporting__V1__Format)format;
  req.signer_name = "Trần Văn Trưởng";
  req.prepared_by = "Nguyễn Thị Lập";
  when.known_on = (char *)(known_on ? known_on : "");
  req.when = &when;
  return th_stream_file(rep_ch, REP "RunReport", &req.base, &hoso__reporting__v1__file_chunk__descriptor, tok, path, name,
                        type, NULL, st);
}

static int unit_quota(const char *id) {
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)id;
  Hoso__Identity__V1__GetUnitResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/GetUnit", &req, &hoso__identity__v1__get_unit_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  int q = out->unit->staffing_quota;
  free_msg(out);
  return q;
}

static char *unit_name(const char *id) {
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)id;
  Hoso__Identity__V1__GetUnitResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/GetUnit", &req, &hoso__identity__v1__get_unit_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  char *n = strdup(out->unit->name);
  free_msg(out);
  return n;
}

/* ------------------------------------------------------------ set-up -------------------- */

static void retire(th_person *p) {
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "9/QĐ";
  d.date = "2021-01-01";
  d.effective_date = "2021-01-31";
  Hoso__Records__V1__ChangeRecordStatusRequest req = HOSO__RECORDS__V1__CHANGE_RECORD_STATUS_REQUEST__INIT;
  req.record_id = p->id;
  req.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RETIRED;
  req.decision = &d;
  cli_status st;
  th_expect(th_call(w.rec_ch, "/hoso.records.v1.Records/ChangeRecordStatus", &req,
                    &hoso__records__v1__change_record_status_response__descriptor, NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  p->retired = 1;
}

static int setup(void **state) {
  (void)state;
  time_t t = time(NULL) + 7 * 3600; /* the day in Vietnam, as the services judge it */
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  snprintf(dir, sizeof dir, "/tmp/hoso-forms-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  if (th_world_start(&w, 1, NULL) != 0 || th_world_reporting_start(&w, &rep, NULL) != 0) return -1;
  rep_ch = cli_open_tls(rep.addr, NULL, NULL, NULL);
  if (!rep_ch) return -1;
  th_people_generate(P, N, 3, 7031);
  const char *units[3] = {w.d1_id, w.d1u_id, w.d2_id};
  if (th_people_import(&w, P, N, units, 3) != 0) return -1;
  for (int i = 0; i < N; i += 17) retire(&P[i]);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (rep_ch) cli_close(rep_ch);
  int rc = th_svc_stop(&rep);
  char log[256], cmd[128];
  snprintf(log, sizeof log, "%s", rep.log);
  rc |= th_world_stop(&w);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  rc |= system(cmd);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ tests --------------------- */

/* BM01/BNV of the province: a row per district (district 1 with its school), every column of
 * every row and of the total equal to the test's own count; quotas from identity. */
static void test_bm01_every_column(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/bm01.xlsx", dir);
  char *name = NULL, *type = NULL;
  cli_status st;
  th_expect(run_report(w.tok_admin, "BM01/BNV", w.root_id, 1, NULL, path, &name, &type, &st), &st, GRPC_STATUS_OK, NULL);
  assert_non_null(strstr(name, ".xlsx"));
  assert_non_null(strstr(type, "spreadsheetml"));
  free(name);
  free(type);
  json_t *x = th_read_back("xlsx", path);
  assert_non_null(x);
  assert_true(th_xlsx_find(x, 0, "BÁO CÁO SỐ LƯỢNG, CHẤT LƯỢNG CÔNG CHỨC") >= 0);
  char *d1 = unit_name(w.d1_id), *d2 = unit_name(w.d2_id);
  long r1 = th_xlsx_find(x, 1, d1), r2 = th_xlsx_find(x, 1, d2), rt = th_xlsx_find(x, 1, "Tổng cộng");
  if (r1 < 0 || r2 < 0 || rt < 0) fail_msg("rows: %ld %ld %ld", r1, r2, rt);
  /* the column numbers 1..38 above the rows */
  long nums = th_xlsx_find(x, 2, "1");
  assert_true(nums >= 0 && nums < r1);
  assert_string_equal(th_xlsx_text(x, (size_t)nums, 39), "38");
  const struct {
    long row;
    int mask;
  } rows[] = {{r1, 3}, {r2, 4}, {rt, 7}};
  for (size_t k = 0; k < 3; k++) {
    for (int c = 2; c <= 38; c++) {
      double got = th_xlsx_num(x, (size_t)rows[k].row, (size_t)(c + 1));
      long want = bm01_count(rows[k].mask, c);
      if ((long)got != want) fail_msg("row %zu column %d: %g, want %ld", k, c, got, want);
    }
  }
  /* column 1: the staffing quota assigned (identity) */
  assert_int_equal((long)th_xlsx_num(x, (size_t)r1, 2), unit_quota(w.d1_id));
  assert_int_equal((long)th_xlsx_num(x, (size_t)r2, 2), unit_quota(w.d2_id));
  int root_q = unit_quota(w.root_id);
  assert_int_equal((long)th_xlsx_num(x, (size_t)rt, 2), root_q > 0 ? root_q : unit_quota(w.d1_id) + unit_quota(w.d2_id));
  /* some of each column is non-zero, so the comparison means something */
  long nonzero = 0;
  for (int c = 2; c <= 38; c++) nonzero += bm01_count(7, c) > 0;
  assert_true(nonzero >= 30);
  assert_true(th_xlsx_find(x, 0, "NGƯỜI LẬP BẢNG") > rt);
  free(d1);
  free(d2);
  json_decref(x);
}

/* Known on yesterday (before the import): the same form, every count zero. */
static void test_bm01_as_known_before(void **state) {
  (void)state;
  char path[128], yesterday[11];
  time_t t = time(NULL) + 7 * 3600 - 86400; /* yesterday in Vietnam */
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(yesterday, sizeof yesterday, "%Y-%m-%d", &tm);
  snprintf(path, sizeof path, "%s/bm01-before.csv", dir);
  cli_status st;
  th_expect(run_report(w.tok_admin, "BM01/BNV", w.root_id, 3, yesterday, path, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  json_t *x = th_read_back("csv", path);
  assert_non_null(x);
  json_t *recs = json_object_get(x, "records");
  json_t *total = json_array_get(recs, json_array_size(recs) - 1);
  assert_string_equal(json_string_value(json_array_get(total, 1)), "Tổng cộng");
  for (size_t c = 3; c < json_array_size(total); c++) assert_string_equal(json_string_value(json_array_get(total, c)), "0");
  json_decref(x);
}

/* BM03/BNV lists each civil servant at work of district 1 once, in CSV and PDF. */
static void test_bm03_lists(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/bm03.csv", dir);
  cli_status st;
  th_expect(run_report(w.tok_d1_reader, "BM03/BNV", NULL, 3, NULL, path, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  json_t *x = th_read_back("csv", path);
  assert_non_null(x);
  assert_true(json_is_true(json_object_get(x, "bom")));
  json_t *recs = json_object_get(x, "records");
  long want = 0;
  for (int i = 0; i < N; i++) want += (P[i].unit == 0 || P[i].unit == 1) && P[i].category == 2 && !P[i].retired;
  assert_int_equal((long)json_array_size(recs) - 1, want);
  for (size_t r = 1; r < json_array_size(recs); r++) {
    json_t *row = json_array_get(recs, r);
    const char *nm = json_string_value(json_array_get(row, 1));
    int k = -1;
    sscanf(nm, "Người Số %d", &k);
    assert_true(k >= 0 && k < N);
    assert_true(P[k].unit != 2);
    /* the birth date in the man's or the woman's column */
    const char *male = json_string_value(json_array_get(row, 2)), *female = json_string_value(json_array_get(row, 3));
    char bd[16];
    snprintf(bd, sizeof bd, "%02d/%02d/%04d", P[k].bd, P[k].bm, P[k].by);
    assert_string_equal(P[k].gender == 1 ? male : female, bd);
    assert_string_equal(P[k].gender == 1 ? female : male, "");
  }
  json_decref(x);
  snprintf(path, sizeof path, "%s/bm03.pdf", dir);
  th_expect(run_report(w.tok_d1_reader, "BM03/BNV", NULL, 2, NULL, path, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "pdftotext -layout %s -", path);
  char *txt = th_run(cmd);
  assert_non_null(txt);
  assert_non_null(strstr(txt, "DANH SÁCH VÀ TIỀN LƯƠNG CÔNG CHỨC"));
  assert_non_null(strstr(txt, "Trang 1"));
  assert_non_null(strstr(txt, "Trần Văn Trưởng"));
  free(txt);
}

static void test_scope_and_bad_requests(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/x.xlsx", dir);
  cli_status st;
  th_expect(run_report(w.tok_d2_reader, "BM01/BNV", w.root_id, 1, NULL, path, NULL, NULL, &st), &st,
            GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  th_expect(run_report(w.tok_d2_reader, "BM99/BNV", NULL, 1, NULL, path, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "template");
  th_expect(run_report(w.tok_d2_reader, "BM01/BNV", NULL, 7, NULL, path, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "format");
}

static grpc_status_code upsert(const char *tok, const char *code, const char *def, long long expected,
                               Hoso__Reporting__V1__UpsertReportTemplateResponse **out, cli_status *st) {
  Hoso__Reporting__V1__ReportTemplate t = HOSO__REPORTING__V1__REPORT_TEMPLATE__INIT;
  t.code = (char *)code;
  t.name = "Mẫu thử";
  t.definition = (char *)def;
  Hoso__Reporting__V1__UpsertReportTemplateRequest req = HOSO__REPORTING__V1__UPSERT_REPORT_TEMPLATE_REQUEST__INIT;
  req.template_ = &t;
  req.expected_version = expected;
  return th_call(rep_ch, REP "UpsertReportTemplate", &req, &hoso__reporting__v1__upsert_report_template_response__descriptor,
                 (void **)out, tok, st);
}

static Hoso__Reporting__V1__ReportTemplate *get_template(const char *code, long long version) {
  Hoso__Reporting__V1__GetReportTemplateRequest req = HOSO__REPORTING__V1__GET_REPORT_TEMPLATE_REQUEST__INIT;
  req.code = (char *)code;
  req.version = version;
  Hoso__Reporting__V1__GetReportTemplateResponse *out = NULL;
  cli_status st;
  th_expect(th_call(rep_ch, REP "GetReportTemplate", &req, &hoso__reporting__v1__get_report_template_response__descriptor,
                    (void **)&out, w.tok_d1_reader, &st),
            &st, GRPC_STATUS_OK, NULL);
  Hoso__Reporting__V1__ReportTemplate *t = out->template_;
  out->template_ = NULL;
  free_msg(out);
  return t;
}

/* A new form added without code: stored, versioned, run; a bad one refused naming its part. */
static void test_template_versions(void **state) {
  (void)state;
  static const char v1[] = "{\"format\":1,\"title\":\"NỮ ĐẢNG VIÊN\",\"rows\":\"units\",\"population\":{\"status\":[1,2]},"
                           "\"columns\":[{\"label\":\"Đơn vị\",\"kind\":\"row_name\"},"
                           "{\"label\":\"Nữ đảng viên\",\"kind\":\"count\",\"when\":{\"gender\":2,\"party_member\":true}}]}";
  static const char v2[] = "{\"format\":1,\"title\":\"NỮ ĐẢNG VIÊN\",\"rows\":\"units\",\"population\":{\"status\":[1,2]},"
                           "\"columns\":[{\"label\":\"Đơn vị\",\"kind\":\"row_name\"},"
                           "{\"label\":\"Nữ\",\"kind\":\"count\",\"when\":{\"gender\":2}}]}";
  static const char bad[] = "{\"format\":1,\"title\":\"X\",\"rows\":\"units\",\"population\":{},"
                            "\"columns\":[{\"label\":\"A\",\"kind\":\"count\",\"when\":{\"sex\":2}}]}";
  Hoso__Reporting__V1__UpsertReportTemplateResponse *out = NULL;
  cli_status st;
  th_expect(upsert(w.tok_d1_admin, "NU/DV", v1, 0, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(upsert(w.tok_admin, "NU/DV", v1, 0, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->template_->version, 1);
  free_msg(out);
  th_expect(upsert(w.tok_admin, "NU/DV", v1, 0, &out, &st), &st, GRPC_STATUS_ALREADY_EXISTS, "template.code");
  th_expect(upsert(w.tok_admin, "NU/DV", bad, 1, &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "template.definition.columns[0].when.sex");
  th_expect(upsert(w.tok_admin, "NU/DV", "{not json", 1, &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "template.definition");
  Hoso__Reporting__V1__ReportTemplate *t = get_template("NU/DV", 0);
  assert_int_equal(t->version, 1); /* unchanged by the refusals */
  free_msg(t);
  th_expect(upsert(w.tok_admin, "NU/DV", v2, 1, &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(out->template_->version, 2);
  free_msg(out);
  th_expect(upsert(w.tok_admin, "NU/DV", v2, 1, &out, &st), &st, GRPC_STATUS_ABORTED, "expected_version");
  t = get_template("NU/DV", 1);
  assert_non_null(strstr(t->definition, "Nữ đảng viên"));
  free_msg(t);
  /* run the new version: its one count is the women at work of the province */
  char path[128];
  snprintf(path, sizeof path, "%s/nu.csv", dir);
  th_expect(run_report(w.tok_admin, "NU/DV", w.root_id, 3, NULL, path, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  json_t *x = th_read_back("csv", path);
  json_t *recs = json_object_get(x, "records");
  json_t *total = json_array_get(recs, json_array_size(recs) - 1);
  long women = 0;
  for (int i = 0; i < N; i++) women += P[i].gender == 2 && !P[i].retired;
  char want[24];
  snprintf(want, sizeof want, "%ld", women);
  assert_string_equal(json_string_value(json_array_get(total, 1)), want);
  json_decref(x);
  /* the shipped ones are listed */
  Hoso__Reporting__V1__ListReportTemplatesRequest lr = HOSO__REPORTING__V1__LIST_REPORT_TEMPLATES_REQUEST__INIT;
  Hoso__Reporting__V1__ListReportTemplatesResponse *list = NULL;
  th_expect(th_call(rep_ch, REP "ListReportTemplates", &lr, &hoso__reporting__v1__list_report_templates_response__descriptor,
                    (void **)&list, w.tok_d2_reader, &st),
            &st, GRPC_STATUS_OK, NULL);
  int shipped = 0;
  for (size_t i = 0; i < list->n_templates; i++) shipped += list->templates[i]->builtin;
  assert_int_equal(shipped, 6);
  free_msg(list);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bm01_every_column),
      cmocka_unit_test(test_bm01_as_known_before),
      cmocka_unit_test(test_bm03_lists),
      cmocka_unit_test(test_scope_and_bad_requests),
      cmocka_unit_test(test_template_versions),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
