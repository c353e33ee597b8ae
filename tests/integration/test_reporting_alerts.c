/* ListAlerts over real services, with dossiers made for each kind of alert relative to today:
 * retirements of men and women due within the window (and one past, one beyond it), salary
 * steps after 36 and 24 months, a discipline's extension for a civil servant and a public
 * employee, beyond-frame seniority at the last step, a secondment ending, a record not updated
 * for a year, an approval and a declared change waiting past their deadlines; soonest first,
 * paged, within the caller's scope. (The rules' own boundaries: unit/test_rp_rules.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "records.pb-c.h"
#include "reporting.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define REP "/hoso.reporting.v1.Reporting/"

typedef Hoso__Records__V1__Record Record;
typedef Hoso__Reporting__V1__ListAlertsResponse AlertsResp;

static th_world w;
static th_svc rep;
static cli_chan *rep_ch;
static PGconn *admin_db;

enum { RETIRE_M, RETIRE_F, RETIRED_PAST, RETIRE_LATER, STEP36, STEP24, DISC_CS, DISC_VC, SENIOR, SECOND, STALE, APPROVAL,
       REQUEST, D2_STEP, N_CASES };
static char ids[N_CASES][32];
static char due[N_CASES][11];

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

static int today_y, today_m, today_d;

static void fmt(char out[11], int y, int m, int d) { snprintf(out, 11, "%04d-%02d-%02d", y, m, d); }

/* y-m-d plus n months, the day clamped to the month's end. */
static void add_months(int *y, int *m, int *d, int n) {
  int t = *y * 12 + (*m - 1) + n;
  *y = t / 12;
  *m = t % 12 + 1;
  static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int last = len[*m - 1] + (*m == 2 && ((*y % 4 == 0 && *y % 100) || *y % 400 == 0));
  if (*d > last) *d = last;
}

static void add_days(int *y, int *m, int *d, int n) {
  struct tm tm = {.tm_year = *y - 1900, .tm_mon = *m - 1, .tm_mday = *d + n, .tm_hour = 12};
  timegm(&tm);
  *y = tm.tm_year + 1900;
  *m = tm.tm_mon + 1;
  *d = tm.tm_mday;
}

/* NĐ 135/2020 from REFERENCE §3's table: the month index (y*12+m-1) of retirement. */
static int retire_month(int by, int bm, int gender) {
  int born = by * 12 + bm - 1;
  for (int y = by + 50; y < by + 70; y++) {
    int age = gender == 1 ? (y <= 2020 ? 720 : y >= 2028 ? 744 : 723 + 3 * (y - 2021))
                          : (y <= 2020 ? 660 : y >= 2035 ? 720 : 664 + 4 * (y - 2021));
    if ((born + age) / 12 == y) return born + age;
  }
  return -1;
}

/* A birth month whose retirement falls `months_ahead` months from now or, when nobody retires
 * in that month (while the ages rise, a year's first months are nobody's), the nearest month
 * further in direction dir (+1 / -1); the retirement day (the month's last) as YYYY-MM-DD. */
static void born_to_retire(int gender, int months_ahead, int dir, char birth[11], char retire_day[11]) {
  for (int k = 0; k < 12; k++) {
    int target = today_y * 12 + today_m - 1 + months_ahead + dir * k;
    for (int b = (today_y - 70) * 12; b < (today_y - 50) * 12; b++) {
      if (retire_month(b / 12, b % 12 + 1, gender) != target) continue;
      fmt(birth, b / 12, b % 12 + 1, 15);
      int y = target / 12, m = target % 12 + 1, d = 31;
      add_months(&y, &m, &d, 0);
      fmt(retire_day, y, m, d);
      return;
    }
  }
  fail_msg("no birth month retires near %d months ahead (gender %d)", months_ahead, gender);
}

/* Days from today to YYYY-MM-DD. */
static int days_to(const char *day) {
  struct tm a = {.tm_year = today_y - 1900, .tm_mon = today_m - 1, .tm_mday = today_d, .tm_hour = 12}, b = a;
  sscanf(day, "%d-%d-%d", &b.tm_year, &b.tm_mon, &b.tm_mday);
  b.tm_year -= 1900;
  b.tm_mon -= 1;
  return (int)((timegm(&b) - timegm(&a)) / 86400);
}

static void create(int which, const char *unit, int gender, const char *birth, int category, const char *rank, int step,
                   const char *since, const char *seniority, const char *disc_from, const char *secondment_to) {
  Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  Hoso__Records__V1__SalaryInfo s = HOSO__RECORDS__V1__SALARY_INFO__INIT;
  Hoso__Records__V1__DisciplineEntry de = HOSO__RECORDS__V1__DISCIPLINE_ENTRY__INIT, *dl[1] = {&de};
  Hoso__Records__V1__TransferEntry te = HOSO__RECORDS__V1__TRANSFER_ENTRY__INIT, *tl[1] = {&te};
  char name[64];
  snprintf(name, sizeof name, "Cảnh Báo Số %d", which);
  r.managing_unit_id = (char *)unit;
  r.full_name = name;
  r.birth_date = (char *)birth;
  r.gender = (Hoso__Records__V1__Gender)gender;
  e.category = (Hoso__Records__V1__Category)category;
  e.recruitment_date = "2000-01-03";
  r.employment = &e;
  if (rank) {
    s.rank_code = (char *)rank;
    s.step = step;
    s.effective_date = (char *)since;
    s.seniority_beyond_frame_percent = (char *)seniority;
    r.salary = &s;
  }
  if (disc_from) {
    de.form_code = "KHIEN_TRACH";
    de.from = (char *)disc_from;
    r.disciplines = dl;
    r.n_disciplines = 1;
  }
  if (secondment_to) {
    te.kind = "SECONDMENT";
    te.from = "2024-01-01";
    te.to = (char *)secondment_to;
    r.transfers = tl;
    r.n_transfers = 1;
  }
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &r;
  Hoso__Records__V1__CreateRecordResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  snprintf(ids[which], sizeof ids[which], "%s", out->record->id);
  free_msg(out);
}

static void admin_sql(const char *sql, const char *id) {
  const char *p[1] = {id};
  PGresult *r = PQexecParams(admin_db, sql, 1, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
}

/* A date `months` months and `days` days from today. */
static void from_today(char out[11], int months, int days) {
  int y = today_y, m = today_m, d = today_d;
  add_months(&y, &m, &d, months);
  add_days(&y, &m, &d, days);
  fmt(out, y, m, d);
}

static int setup(void **state) {
  (void)state;
  time_t t = time(NULL) + 7 * 3600; /* the day in Vietnam, as the services judge it */
  struct tm tm;
  gmtime_r(&t, &tm);
  today_y = tm.tm_year + 1900, today_m = tm.tm_mon + 1, today_d = tm.tm_mday;
  if (th_world_start(&w, 1, NULL) != 0 || th_world_reporting_start(&w, &rep, NULL) != 0) return -1;
  rep_ch = cli_open_tls(rep.addr, NULL, NULL, NULL);
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (!rep_ch || PQstatus(admin_db) != CONNECTION_OK) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (rep_ch) cli_close(rep_ch);
  if (admin_db) PQfinish(admin_db);
  int rc = th_svc_stop(&rep);
  char log[256];
  snprintf(log, sizeof log, "%s", rep.log);
  rc |= th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

static AlertsResp *alerts(const char *tok, const char *unit, int within, int page_size, const char *token) {
  Hoso__Reporting__V1__ListAlertsRequest req = HOSO__REPORTING__V1__LIST_ALERTS_REQUEST__INIT;
  req.unit_id = (char *)(unit ? unit : "");
  req.within_days = within;
  req.page_size = page_size;
  req.page_token = (char *)(token ? token : "");
  AlertsResp *out = NULL;
  cli_status st;
  th_expect(th_call(rep_ch, REP "ListAlerts", &req, &hoso__reporting__v1__list_alerts_response__descriptor, (void **)&out,
                    tok, &st),
            &st, GRPC_STATUS_OK, NULL);
  return out;
}

/* The alert of record `which` of kind `kind` in out, or NULL. */
static const Hoso__Reporting__V1__Alert *find(const AlertsResp *out, int which, int kind) {
  for (size_t i = 0; i < out->n_alerts; i++)
    if (!strcmp(out->alerts[i]->record_id, ids[which]) && (int)out->alerts[i]->kind == kind) return out->alerts[i];
  return NULL;
}

static void expect_alert(const AlertsResp *out, int which, int kind, const char *want_due) {
  const Hoso__Reporting__V1__Alert *a = find(out, which, kind);
  if (!a) fail_msg("no alert of kind %d for case %d", kind, which);
  if (want_due) assert_string_equal(a->due_date, want_due);
  assert_true(strlen(a->detail) > 10);
}

/* Every kind made, checked, ordered and paged in one pass over one world. */
static void test_alerts(void **state) {
  (void)state;
  char birth[11], d36[11], d24[11], dcs[11], dvc[11], dsen[11], sec[11], disc[11];
  born_to_retire(1, 2, 1, birth, due[RETIRE_M]);
  create(RETIRE_M, w.d1_id, 1, birth, 2, NULL, 0, NULL, NULL, NULL, NULL);
  born_to_retire(2, 2, 1, birth, due[RETIRE_F]);
  create(RETIRE_F, w.d1u_id, 2, birth, 3, NULL, 0, NULL, NULL, NULL, NULL);
  born_to_retire(1, -2, -1, birth, due[RETIRED_PAST]);
  create(RETIRED_PAST, w.d1_id, 1, birth, 2, NULL, 0, NULL, NULL, NULL, NULL);
  born_to_retire(2, 14, 1, birth, due[RETIRE_LATER]);
  create(RETIRE_LATER, w.d1_id, 2, birth, 2, NULL, 0, NULL, NULL, NULL, NULL);
  /* steps: 36 months for 01.003 (college or higher), 24 for 01.005 */
  from_today(d36, -36, 20);
  from_today(due[STEP36], 0, 20);
  create(STEP36, w.d1_id, 1, "1985-06-01", 2, "01.003", 2, d36, NULL, NULL, NULL);
  from_today(d24, -24, 40);
  from_today(due[STEP24], 0, 40);
  create(STEP24, w.d1_id, 2, "1990-06-01", 2, "01.005", 4, d24, NULL, NULL, NULL);
  /* a reprimand inside the interval: + 6 months for a civil servant, + 3 for a public employee */
  from_today(dcs, -42, 10);
  from_today(due[DISC_CS], 0, 10);
  from_today(disc, -30, 0);
  create(DISC_CS, w.d1_id, 1, "1984-02-29", 2, "01.003", 3, dcs, NULL, disc, NULL);
  from_today(dvc, -39, 12);
  from_today(due[DISC_VC], 0, 12);
  create(DISC_VC, w.d1_id, 2, "1986-03-31", 3, "01.003", 3, dvc, NULL, disc, NULL);
  /* the last step of 01.003 (9): beyond-frame 5 % after 36 months */
  from_today(dsen, -36, 5);
  from_today(due[SENIOR], 0, 5);
  create(SENIOR, w.d1_id, 1, "1970-01-01", 2, "01.003", 9, dsen, NULL, NULL, NULL);
  from_today(sec, 0, 15);
  snprintf(due[SECOND], sizeof due[SECOND], "%s", sec);
  create(SECOND, w.d1_id, 2, "1988-08-08", 2, NULL, 0, NULL, NULL, NULL, sec);
  /* a record last changed 400 days ago; a submission 15 days ago (10 allowed); a declared change
   * whose deadline was 3 days ago: the past made by moving their times back */
  create(STALE, w.d1_id, 1, "1980-01-01", 2, NULL, 0, NULL, NULL, NULL, NULL);
  admin_sql("UPDATE records.record_versions SET changed_at = now() - interval '400 days' WHERE record_id = $1::bigint",
            ids[STALE]);
  create(APPROVAL, w.d1_id, 2, "1981-01-01", 2, NULL, 0, NULL, NULL, NULL, NULL);
  Hoso__Records__V1__SubmitRecordRequest sub = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  sub.record_id = ids[APPROVAL];
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "SubmitRecord", &sub, &hoso__records__v1__submit_record_response__descriptor, NULL,
                    w.tok_d1_updater, &st),
            &st, GRPC_STATUS_OK, NULL);
  admin_sql("UPDATE records.record_versions SET changed_at = changed_at - interval '15 days' WHERE record_id = $1::bigint "
            "AND action = 'SUBMIT'",
            ids[APPROVAL]);
  from_today(due[APPROVAL], 0, -5);
  create(REQUEST, w.d1_id, 1, "1982-01-01", 2, NULL, 0, NULL, NULL, NULL, NULL);
  char *self = th_world_self_token(&w, w.d1_id, ids[REQUEST]);
  Hoso__Records__V1__GetRecordRequest gr = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  gr.record_id = ids[REQUEST];
  Hoso__Records__V1__GetRecordResponse *got = NULL;
  th_expect(th_call(w.rec_ch, REC "GetRecord", &gr, &hoso__records__v1__get_record_response__descriptor, (void **)&got, self,
                    &st),
            &st, GRPC_STATUS_OK, NULL);
  Hoso__Records__V1__PersonalInfo pi = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__PersonalInfo *was = got->record->personal;
  pi.phone = "0912345678";
  got->record->personal = &pi;
  Hoso__Records__V1__CreateChangeRequestRequest cr = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  cr.proposed = got->record;
  cr.base_version = got->record->version;
  th_expect(th_call(w.rec_ch, REC "CreateChangeRequest", &cr, &hoso__records__v1__create_change_request_response__descriptor,
                    NULL, self, &st),
            &st, GRPC_STATUS_OK, NULL);
  got->record->personal = was;
  free_msg(got);
  free(self);
  admin_sql("UPDATE records.change_requests SET due_at = now() - interval '3 days' WHERE record_id = $1::bigint",
            ids[REQUEST]);
  from_today(due[REQUEST], 0, -3);
  /* district 2's own */
  from_today(d36, -36, 30);
  create(D2_STEP, w.d2_id, 1, "1985-06-01", 2, "01.003", 2, d36, NULL, NULL, NULL);

  /* the window: up to the later of the two near retirements; the far one lies beyond it */
  int window = days_to(due[RETIRE_M]) > days_to(due[RETIRE_F]) ? days_to(due[RETIRE_M]) : days_to(due[RETIRE_F]);
  assert_true(window >= 59 && days_to(due[RETIRE_LATER]) > window);
  AlertsResp *out = alerts(w.tok_d1_reader, NULL, window, 500, NULL);
  expect_alert(out, RETIRE_M, 3, due[RETIRE_M]);
  expect_alert(out, RETIRE_F, 3, due[RETIRE_F]);
  assert_null(find(out, RETIRED_PAST, 3));
  assert_null(find(out, RETIRE_LATER, 3));
  expect_alert(out, STEP36, 1, due[STEP36]);
  expect_alert(out, STEP24, 1, due[STEP24]);
  expect_alert(out, DISC_CS, 1, due[DISC_CS]);
  expect_alert(out, DISC_VC, 1, due[DISC_VC]);
  assert_non_null(strstr(find(out, DISC_CS, 1)->detail, "kéo dài 6 tháng"));
  assert_non_null(strstr(find(out, DISC_VC, 1)->detail, "kéo dài 3 tháng"));
  expect_alert(out, SENIOR, 2, due[SENIOR]);
  assert_non_null(strstr(find(out, SENIOR, 2)->detail, "0% → 5%"));
  expect_alert(out, SECOND, 4, due[SECOND]);
  expect_alert(out, STALE, 5, NULL);
  assert_true(find(out, STALE, 5)->days_left < 0);
  expect_alert(out, APPROVAL, 7, due[APPROVAL]);
  assert_int_equal(find(out, APPROVAL, 7)->days_left, -5);
  expect_alert(out, REQUEST, 6, due[REQUEST]);
  assert_null(find(out, D2_STEP, 1)); /* another district's */
  /* soonest first */
  for (size_t i = 1; i < out->n_alerts; i++) assert_true(strcmp(out->alerts[i - 1]->due_date, out->alerts[i]->due_date) <= 0);
  assert_true(out->n_notes >= 1);
  size_t all = out->n_alerts;
  free_msg(out);

  /* a longer window brings the later retirement; 30 days leaves the retirements out */
  out = alerts(w.tok_d1_reader, NULL, days_to(due[RETIRE_LATER]), 500, NULL);
  expect_alert(out, RETIRE_LATER, 3, due[RETIRE_LATER]);
  free_msg(out);
  out = alerts(w.tok_d1_reader, NULL, 30, 500, NULL);
  assert_null(find(out, RETIRE_M, 3));
  expect_alert(out, STEP36, 1, due[STEP36]);
  free_msg(out);

  /* pages of 3 give the same list */
  size_t seen = 0;
  char *token = NULL;
  for (int page = 0; page < 50; page++) {
    out = alerts(w.tok_d1_reader, NULL, window, 3, token);
    seen += out->n_alerts;
    free(token);
    token = out->next_page_token && *out->next_page_token ? strdup(out->next_page_token) : NULL;
    free_msg(out);
    if (!token) break;
  }
  assert_int_equal(seen, all);

  /* district 2 sees its own only */
  out = alerts(w.tok_d2_reader, NULL, window, 500, NULL);
  assert_non_null(find(out, D2_STEP, 1));
  for (size_t i = 0; i < out->n_alerts; i++) assert_string_equal(out->alerts[i]->managing_unit_id, w.d2_id);
  free_msg(out);
}

static void test_bad_input(void **state) {
  (void)state;
  Hoso__Reporting__V1__ListAlertsRequest req = HOSO__REPORTING__V1__LIST_ALERTS_REQUEST__INIT;
  Hoso__Reporting__V1__AlertKind kinds[1] = {(Hoso__Reporting__V1__AlertKind)99};
  req.kinds = kinds;
  req.n_kinds = 1;
  cli_status st;
  th_expect(th_call(rep_ch, REP "ListAlerts", &req, &hoso__reporting__v1__list_alerts_response__descriptor, NULL,
                    w.tok_d1_reader, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "kinds[0]");
  req.n_kinds = 0;
  req.within_days = -1;
  th_expect(th_call(rep_ch, REP "ListAlerts", &req, &hoso__reporting__v1__list_alerts_response__descriptor, NULL,
                    w.tok_d1_reader, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "within_days");
  req.within_days = 0;
  req.unit_id = w.d2_id;
  th_expect(th_call(rep_ch, REP "ListAlerts", &req, &hoso__reporting__v1__list_alerts_response__descriptor, NULL,
                    w.tok_d1_reader, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alerts),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
