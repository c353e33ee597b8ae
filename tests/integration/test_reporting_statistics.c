/* GetStatistics and DrillDown over real services (identity, records, reporting) and data with
 * known distributions, generated here and imported through ImportRecords: every number is
 * compared with a count this test makes itself from what it generated (not with SQL). Also the
 * scope rule in every number, crossing two dimensions, the filters of SearchRecords, drill-down
 * paging, days before the data and knowledge before it was entered, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "records.pb-c.h"
#include "reporting.pb-c.h"
#include <libpq-fe.h>
#include "th_files.h"
#include "th_people.h"

#define REC "/hoso.records.v1.Records/"
#define REP "/hoso.reporting.v1.Reporting/"

typedef Hoso__Reporting__V1__GetStatisticsRequest StatsReq;
typedef Hoso__Reporting__V1__GetStatisticsResponse StatsResp;

static th_world w;
static th_svc rep;
static cli_chan *rep_ch;

/* ------------------------------------------------------------ the people ---------------- */

enum { N = 150 };

static th_person P[N];
static char today[11];

static const char *key_of(const th_person *p, const char *dim, char buf[32]) {
  const char *k = th_people_key(p, dim, today, buf);
  if (!k) fail_msg("no key for dimension %s", dim);
  return k;
}

/* ------------------------------------------------------------ calls --------------------- */

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

static grpc_status_code stats(const char *tok, const char *unit, const char *d1, const char *d2,
                              Hoso__Records__V1__SearchRecordsRequest *filters, const char *as_of, const char *known_on,
                              StatsResp **out, cli_status *st) {
  StatsReq req = HOSO__REPORTING__V1__GET_STATISTICS_REQUEST__INIT;
  Hoso__Reporting__V1__When when = HOSO__REPORTING__V1__WHEN__INIT;
  char *dims[2] = {(char *)d1, (char *)d2};
  req.unit_id = (char *)(unit ? unit : "");
  req.dimensions = dims;
  req.n_dimensions = d2 ? 2 : d1 ? 1 : 0;
  req.filters = filters;
  when.as_of = (char *)(as_of ? as_of : "");
  when.known_on = (char *)(known_on ? known_on : "");
  req.when = &when;
  return th_call(rep_ch, REP "GetStatistics", &req, &hoso__reporting__v1__get_statistics_response__descriptor,
                 (void **)out, tok, st);
}

static StatsResp *stats_ok(const char *tok, const char *unit, const char *d1, const char *d2,
                           Hoso__Records__V1__SearchRecordsRequest *filters) {
  StatsResp *out = NULL;
  cli_status st;
  th_expect(stats(tok, unit, d1, d2, filters, NULL, NULL, &out, &st), &st, GRPC_STATUS_OK, NULL);
  return out;
}

/* The count of the cell with keys k1 (and k2) in r, 0 when absent. */
static long long cell(const StatsResp *r, const char *k1, const char *k2) {
  for (size_t i = 0; i < r->n_cells; i++) {
    const Hoso__Reporting__V1__Cell *c = r->cells[i];
    if (!strcmp(c->keys[0], k1) && (!k2 || !strcmp(c->keys[1], k2))) return c->count;
  }
  return 0;
}

typedef int (*want_fn)(const th_person *p, const void *arg);

static int in_units(const th_person *p, const void *arg) {
  const int *units = arg; /* bitmask */
  return !p->retired && (*units & (1 << p->unit));
}

/* ------------------------------------------------------------ set-up -------------------- */

static void retire(th_person *p) {
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "9/QĐ";
  d.date = "2020-01-01";
  d.effective_date = "2020-01-31";
  Hoso__Records__V1__ChangeRecordStatusRequest req = HOSO__RECORDS__V1__CHANGE_RECORD_STATUS_REQUEST__INIT;
  req.record_id = p->id;
  req.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RETIRED;
  req.decision = &d;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "ChangeRecordStatus", &req, &hoso__records__v1__change_record_status_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  p->retired = 1;
}

static int setup(void **state) {
  (void)state;
  time_t t = time(NULL) + 7 * 3600; /* the day in Vietnam, as the services judge it */
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  if (th_world_start(&w, 1, NULL) != 0 || th_world_reporting_start(&w, &rep, NULL) != 0) return -1;
  rep_ch = cli_open_tls(rep.addr, NULL, NULL, NULL);
  if (!rep_ch) return -1;
  th_people_generate(P, N, 3, 20261204);
  const char *units[3] = {w.d1_id, w.d1u_id, w.d2_id};
  if (th_people_import(&w, P, N, units, 3) != 0) return -1;
  retire(&P[4]);
  retire(&P[10]);
  retire(&P[11]);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (rep_ch) cli_close(rep_ch);
  int rc = th_svc_stop(&rep);
  char log[256];
  snprintf(log, sizeof log, "%s", rep.log);
  rc |= th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ tests --------------------- */

static long long expected(want_fn f, const void *arg) {
  long long n = 0;
  for (int i = 0; i < N; i++) n += f(&P[i], arg);
  return n;
}

/* Totals of each subtree: the people at work there, none of another district's. */
static void test_totals_by_subtree(void **state) {
  (void)state;
  static const struct {
    int mask;
  } cases[] = {{7}, {3}, {2}, {4}};
  const char *units[] = {w.root_id, w.d1_id, w.d1u_id, w.d2_id};
  for (int i = 0; i < 4; i++) {
    StatsResp *r = stats_ok(w.tok_admin, units[i], NULL, NULL, NULL);
    assert_int_equal(r->total, expected(in_units, &cases[i].mask));
    assert_int_equal(r->n_cells, 1);
    free_msg(r);
  }
}

/* Every dimension alone, and crossed with gender, against the generated people. */
static void test_each_dimension_and_crossing(void **state) {
  (void)state;
  static const char *const dims[] = {"category", "age_band", "party", "ethnicity", "religion", "degree", "political_theory",
                                     "state_management", "rank_code", "rank_group", "ethnic_language", "english",
                                     "other_language", "it"};
  for (size_t d = 0; d < sizeof dims / sizeof *dims; d++) {
    StatsResp *one = stats_ok(w.tok_admin, w.root_id, dims[d], NULL, NULL);
    StatsResp *two = stats_ok(w.tok_admin, w.root_id, dims[d], "gender", NULL);
    long long sum = 0;
    for (size_t c = 0; c < one->n_cells; c++) {
      const char *k = one->cells[c]->keys[0];
      long long want = 0, want_f = 0;
      char buf[32];
      for (int i = 0; i < N; i++)
        if (!P[i].retired && !strcmp(key_of(&P[i], dims[d], buf), k)) want++, want_f += P[i].gender == 2;
      if (one->cells[c]->count != want) fail_msg("%s=%s: %lld, want %lld", dims[d], k, one->cells[c]->count, want);
      if (cell(two, k, "2") != want_f) fail_msg("%s=%s x female: %lld, want %lld", dims[d], k, cell(two, k, "2"), want_f);
      sum += want;
    }
    assert_int_equal(sum, one->total);
    assert_int_equal(two->total, one->total);
    /* labels: Vietnamese words or the catalogue's names */
    assert_int_equal(one->n_dimensions, 1);
    for (size_t v = 0; v < one->dimensions[0]->n_values; v++) assert_true(strlen(one->dimensions[0]->values[v]->label) > 0);
    free_msg(one);
    free_msg(two);
  }
  StatsResp *g = stats_ok(w.tok_admin, w.root_id, "degree", NULL, NULL);
  for (size_t v = 0; v < g->dimensions[0]->n_values; v++)
    if (!strcmp(g->dimensions[0]->values[v]->key, "THS")) assert_string_equal(g->dimensions[0]->values[v]->label, "Thạc sĩ");
  free_msg(g);
}

/* The unit dimension: the units directly below, and the unit's own people. */
static void test_unit_dimension(void **state) {
  (void)state;
  StatsResp *r = stats_ok(w.tok_d1_admin, w.d1_id, "unit", "gender", NULL);
  int m0 = 1, m1 = 2;
  long long own = expected(in_units, &m0), below = expected(in_units, &m1);
  assert_int_equal(cell(r, w.d1_id, "1") + cell(r, w.d1_id, "2"), own);
  assert_int_equal(cell(r, w.d1u_id, "1") + cell(r, w.d1u_id, "2"), below);
  assert_int_equal(r->total, own + below);
  int named = 0;
  for (size_t v = 0; v < r->dimensions[0]->n_values; v++)
    named += !strcmp(r->dimensions[0]->values[v]->label, "Trường THCS Thị trấn Đồi Ngô");
  assert_int_equal(named, 1);
  free_msg(r);
}

static int is_wm_party(const th_person *p, const void *arg) {
  (void)arg;
  return !p->retired && p->gender == 2 && p->party && (!strcmp(p->degree, "THS") || !strcmp(p->degree, "TS"));
}

static int is_retired(const th_person *p, const void *arg) {
  (void)arg;
  return p->retired;
}

/* SearchRecords' criteria as filters: "women, Party members, with a master's or a doctorate". */
static void test_filters(void **state) {
  (void)state;
  Hoso__Records__V1__SearchRecordsRequest f = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  char *degrees[2] = {"THS", "TS"};
  f.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  f.party_member = 1;
  f.degree_codes = degrees;
  f.n_degree_codes = 2;
  StatsResp *r = stats_ok(w.tok_admin, w.root_id, NULL, NULL, &f);
  assert_int_equal(r->total, expected(is_wm_party, NULL));
  free_msg(r);
  /* statuses named: the retired are counted when asked for */
  Hoso__Records__V1__SearchRecordsRequest g = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  Hoso__Records__V1__RecordStatus st[1] = {HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RETIRED};
  g.statuses = st;
  g.n_statuses = 1;
  r = stats_ok(w.tok_admin, w.root_id, "status", NULL, &g);
  assert_int_equal(r->total, expected(is_retired, NULL));
  assert_int_equal(cell(r, "4", NULL), 3);
  free_msg(r);
  /* a name with or without diacritics */
  Hoso__Records__V1__SearchRecordsRequest h = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  h.name = "nguoi so 12";
  r = stats_ok(w.tok_admin, w.root_id, NULL, NULL, &h);
  long long want = 0; /* "Người Số 12" and, by prefix, "Người Số 120" to "Người Số 129" */
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "%d", i);
    want += !P[i].retired && !strncmp(name, "12", 2) && (i == 12 || i >= 120);
  }
  assert_int_equal(r->total, want);
  free_msg(r);
}

/* A cell's people, page by page, exactly the generated ones. */
static void test_drill_down(void **state) {
  (void)state;
  Hoso__Reporting__V1__DrillDownRequest req = HOSO__REPORTING__V1__DRILL_DOWN_REQUEST__INIT;
  char *dims[2] = {"gender", "degree"}, *cellk[2] = {"2", "DH"};
  req.unit_id = w.root_id;
  req.dimensions = dims;
  req.n_dimensions = 2;
  req.cell = cellk;
  req.n_cell = 2;
  req.page_size = 4;
  int seen[N] = {0}, got = 0;
  char *token = NULL;
  for (int page = 0; page < 100; page++) {
    req.page_token = token ? token : "";
    Hoso__Reporting__V1__DrillDownResponse *out = NULL;
    cli_status st;
    th_expect(th_call(rep_ch, REP "DrillDown", &req, &hoso__reporting__v1__drill_down_response__descriptor, (void **)&out,
                      w.tok_admin, &st),
              &st, GRPC_STATUS_OK, NULL);
    assert_true(out->n_people <= 4);
    for (size_t i = 0; i < out->n_people; i++) {
      int k = -1;
      for (int j = 0; j < N; j++)
        if (!strcmp(P[j].id, out->people[i]->record_id)) k = j;
      assert_true(k >= 0);
      assert_false(seen[k]);
      seen[k] = 1;
      got++;
      assert_int_equal(P[k].gender, 2);
      assert_string_equal(P[k].degree, "DH");
    }
    free(token);
    token = out->next_page_token && *out->next_page_token ? strdup(out->next_page_token) : NULL;
    free_msg(out);
    if (!token) break;
  }
  int want = 0;
  for (int j = 0; j < N; j++) want += !P[j].retired && P[j].gender == 2 && !strcmp(P[j].degree, "DH");
  assert_int_equal(got, want);
  /* the cell must match the dimensions */
  req.n_cell = 1;
  req.page_token = "";
  cli_status st;
  th_expect(th_call(rep_ch, REP "DrillDown", &req, &hoso__reporting__v1__drill_down_response__descriptor, NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "cell");
}

/* The scope rule in every number: a district sees itself only, never the other one. */
static void test_scope(void **state) {
  (void)state;
  StatsResp *out = NULL;
  cli_status st;
  th_expect(stats(w.tok_d2_reader, w.d1_id, NULL, NULL, NULL, NULL, NULL, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "unit_id");
  th_expect(stats(w.tok_d2_reader, w.root_id, "unit", NULL, NULL, NULL, NULL, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "unit_id");
  th_expect(stats(w.tok_d1u_updater, w.d1_id, NULL, NULL, NULL, NULL, NULL, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "unit_id");
  /* the caller's own unit by default */
  StatsResp *r = stats_ok(w.tok_d2_reader, NULL, NULL, NULL, NULL);
  int m = 4;
  assert_int_equal(r->total, expected(in_units, &m));
  assert_string_equal(r->unit_id, w.d2_id);
  free_msg(r);
  r = stats_ok(w.tok_d1_reader, NULL, "unit", NULL, NULL);
  for (size_t c = 0; c < r->n_cells; c++) assert_string_not_equal(r->cells[c]->keys[0], w.d2_id);
  free_msg(r);
}

/* Before the people were recruited nobody counts; as the system knew it yesterday, before the
 * import, nobody either; a retirement effective in 2020 counts from then. */
static void test_days_and_knowledge(void **state) {
  (void)state;
  StatsResp *r = NULL;
  cli_status st;
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, NULL, "2009-12-31", NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->total, 0);
  free_msg(r);
  char yesterday[11];
  time_t t = time(NULL) + 7 * 3600 - 86400; /* yesterday in Vietnam */
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(yesterday, sizeof yesterday, "%Y-%m-%d", &tm);
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, NULL, NULL, yesterday, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->total, 0);
  assert_string_equal(r->known_on, yesterday);
  free_msg(r);
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, NULL, "2020-01-30", NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->total, N);
  free_msg(r);
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, NULL, "2020-01-31", NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->total, N - 3);
  free_msg(r);
}

static void test_bad_input(void **state) {
  (void)state;
  StatsResp *r = NULL;
  cli_status st;
  th_expect(stats(w.tok_admin, w.root_id, "colour", NULL, NULL, NULL, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "dimensions[0]");
  th_expect(stats(w.tok_admin, w.root_id, "gender", "gender", NULL, NULL, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "dimensions[1]");
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, NULL, "2999-01-01", NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "when.as_of");
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, NULL, "1944-12-31", NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "when.as_of");
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, NULL, "2024-02-30", NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "when.as_of");
  th_expect(stats(w.tok_admin, "abc", NULL, NULL, NULL, NULL, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  th_expect(stats(w.tok_admin, "999999", NULL, NULL, NULL, NULL, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  Hoso__Records__V1__SearchRecordsRequest f = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  f.page_size = 10;
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, &f, NULL, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "filters.page_size");
  Hoso__Records__V1__SearchRecordsRequest g = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  g.birth_date_from = "1980-13-01";
  th_expect(stats(w.tok_admin, w.root_id, NULL, NULL, &g, NULL, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
            "filters.birth_date_from");
  th_expect(stats(NULL, w.root_id, NULL, NULL, NULL, NULL, NULL, &r, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
}

static grpc_status_code export(const char *tok, Hoso__Records__V1__SearchRecordsRequest *crit, char **cols, size_t n_cols,
                               int format, const char *path, int *progress, cli_status *st) {
  Hoso__Reporting__V1__ExportSearchRequest req = HOSO__REPORTING__V1__EXPORT_SEARCH_REQUEST__INIT;
  req.criteria = crit;
  req.columns = cols;
  req.n_columns = n_cols;
  req.format = (Hoso__Reporting__V1__Format)format;
  return th_stream_file(rep_ch, REP "ExportSearch", &req.base, &hoso__reporting__v1__export_search_response__descriptor, tok,
                        path, NULL, NULL, progress, st);
}

/* ExportSearch: the women with a university degree of district 1, as XLSX (exceljs) and CSV
 * (csv-parse) with chosen columns; progress first and last; one audit row with the criteria
 * and the row count; the scope and bad requests. */
static void test_export_search(void **state) {
  (void)state;
  char path[] = "/tmp/hoso-export-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  Hoso__Records__V1__SearchRecordsRequest crit = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  char *degrees[1] = {"DH"};
  crit.unit_id = w.d1_id;
  crit.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  crit.degree_codes = degrees;
  crit.n_degree_codes = 1;
  long want = 0;
  for (int i = 0; i < N; i++) want += !P[i].retired && P[i].unit != 2 && P[i].gender == 2 && !strcmp(P[i].degree, "DH");
  int progress = 0;
  cli_status st;
  th_expect(export(w.tok_d1_reader, &crit, NULL, 0, 1, path, &progress, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(progress >= 2);
  json_t *x = th_read_back("xlsx", path);
  assert_non_null(x);
  long head = th_xlsx_find(x, 0, "Họ và tên");
  assert_true(head >= 0);
  long rows = (long)json_array_size(json_object_get(x, "rows")) - head - 1;
  assert_int_equal(rows, want);
  assert_string_equal(th_xlsx_text(x, (size_t)head + 1, 2), "Nữ");
  json_decref(x);
  char *cols[3] = {"full_name", "salary_step", "unit"};
  th_expect(export(w.tok_d1_reader, &crit, cols, 3, 3, path, &progress, &st), &st, GRPC_STATUS_OK, NULL);
  x = th_read_back("csv", path);
  json_t *recs = json_object_get(x, "records");
  assert_int_equal((long)json_array_size(recs) - 1, want);
  assert_string_equal(json_string_value(json_array_get(json_array_get(recs, 0), 1)), "Bậc");
  json_decref(x);
  unlink(path);
  /* audited with the criteria and the row count */
  PGconn *db = PQconnectdb(w.pg.admin_dsn);
  PGresult *r = PQexec(db, "SELECT detail FROM reporting.audit_log WHERE action = 'REPORT_EXPORT' ORDER BY at DESC LIMIT 1");
  assert_int_equal(PQntuples(r), 1);
  json_t *d = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
  assert_int_equal(json_integer_value(json_object_get(d, "rows")), want);
  assert_string_equal(json_string_value(json_object_get(json_object_get(d, "criteria"), "gender")), "GENDER_FEMALE");
  json_decref(d);
  PQclear(r);
  PQfinish(db);
  /* scope and bad requests */
  th_expect(export(w.tok_d2_reader, &crit, NULL, 0, 1, path, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  char *bad[1] = {"salary"};
  th_expect(export(w.tok_d1_reader, &crit, bad, 1, 1, path, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "columns[0]");
  th_expect(export(w.tok_d1_reader, &crit, NULL, 0, 2, path, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "format");
  unlink(path);
}

/* The semi-annual report of this half-year: records and completeness at its end (today), and
 * the retirements entered today although effective in 2020: late beyond the policy's 15 days. */
static void test_compliance(void **state) {
  (void)state;
  Hoso__Reporting__V1__GetComplianceReportRequest req = HOSO__REPORTING__V1__GET_COMPLIANCE_REPORT_REQUEST__INIT;
  char period[16];
  snprintf(period, sizeof period, "%.4s-H%c", today, strncmp(today + 5, "07", 2) < 0 ? '1' : '2');
  req.unit_id = w.root_id;
  req.period = period;
  Hoso__Reporting__V1__GetComplianceReportResponse *out = NULL;
  cli_status st;
  th_expect(th_call(rep_ch, REP "GetComplianceReport", &req, &hoso__reporting__v1__get_compliance_report_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(out->period, period);
  assert_string_equal(out->to, today);
  const Hoso__Reporting__V1__UnitCompliance *d1 = NULL, *d2 = NULL;
  for (size_t i = 0; i < out->n_units; i++) {
    if (!strcmp(out->units[i]->unit_id, w.d1_id)) d1 = out->units[i];
    if (!strcmp(out->units[i]->unit_id, w.d2_id)) d2 = out->units[i];
  }
  assert_non_null(d1);
  assert_non_null(d2);
  int m1 = 3, m2 = 4;
  assert_int_equal(d1->records, expected(in_units, &m1));
  assert_int_equal(d2->records, expected(in_units, &m2));
  long late1 = 0, late2 = 0;
  for (int i = 0; i < N; i++)
    if (P[i].retired) *(P[i].unit == 2 ? &late2 : &late1) += 1;
  assert_int_equal(d1->changes, late1);
  assert_int_equal(d1->changes_late, late1);
  assert_int_equal(d2->changes_late, late2);
  assert_int_equal(out->total->changes_late, late1 + late2);
  assert_int_equal(d1->complete, 0); /* the generated dossiers lack citizen ids, addresses, ... */
  assert_true(out->n_notes >= 1);
  free_msg(out);
  req.period = "2026-H3";
  th_expect(th_call(rep_ch, REP "GetComplianceReport", &req, &hoso__reporting__v1__get_compliance_report_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "period");
  req.period = "2999-H1";
  th_expect(th_call(rep_ch, REP "GetComplianceReport", &req, &hoso__reporting__v1__get_compliance_report_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "period");
  req.period = period;
  req.unit_id = w.d1_id;
  th_expect(th_call(rep_ch, REP "GetComplianceReport", &req, &hoso__reporting__v1__get_compliance_report_response__descriptor,
                    NULL, w.tok_d2_reader, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_totals_by_subtree),
      cmocka_unit_test(test_each_dimension_and_crossing),
      cmocka_unit_test(test_unit_dimension),
      cmocka_unit_test(test_filters),
      cmocka_unit_test(test_drill_down),
      cmocka_unit_test(test_scope),
      cmocka_unit_test(test_days_and_knowledge),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_export_search),
      cmocka_unit_test(test_compliance),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
