/* Deadlines over real services: one list of the open steps of transfers and of records' own
 * steps (a new record, a declaration awaiting verification), due dates counted by the policy in
 * force on the working-day calendar, counted again when the administrator picks another
 * province's policy or enters a year; overdue first, a unit's subtree only. The calendar and
 * its arithmetic as the other services call them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "th_transfers.h"

#define K(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define SK(x) HOSO__TRANSFERS__V1__STEP_KIND__STEP_KIND_##x
#define SRC(x) HOSO__TRANSFERS__V1__DEADLINE_SOURCE__DEADLINE_SOURCE_##x
#define OK GRPC_STATUS_OK
#define WAIT_MS 60000

typedef Hoso__Transfers__V1__ListDeadlinesResponse Deadlines;
typedef Hoso__Transfers__V1__Deadline Deadline;

static th_world w;
static th_tr tr;

static int setup(void **state) {
  (void)state;
  static const char *const env[] = {"HOSO_TRANSFERS_JOBS_MS=200", NULL};
  return th_world_start(&w, 1, NULL) == 0 && th_tr_start(&tr, &w, env) == 0 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char logs[2][256];
  snprintf(logs[0], 256, "%s", tr.svc.log);
  snprintf(logs[1], 256, "%s", w.records.log);
  int rc = th_tr_stop(&tr) | th_world_stop(&w);
  for (int i = 0; i < 2; i++) rc |= th_log_errors(logs[i]) != 0;
  return rc ? -1 : 0;
}

static Deadlines *deadlines(const char *tok, const char *unit, int overdue_only) {
  Hoso__Transfers__V1__ListDeadlinesRequest req = HOSO__TRANSFERS__V1__LIST_DEADLINES_REQUEST__INIT;
  req.unit_id = (char *)(unit ? unit : "");
  req.overdue_only = overdue_only;
  req.page_size = 500;
  Deadlines *o = NULL;
  cli_status st;
  if (th_tr_call(&tr, TR "ListDeadlines", &req, &hoso__transfers__v1__list_deadlines_response__descriptor, (void **)&o,
                 tok, &st) != OK)
    fail_msg("ListDeadlines: %s", st.message);
  for (size_t i = 1; i < o->n_deadlines; i++)
    if (strcmp(o->deadlines[i - 1]->due_date, o->deadlines[i]->due_date) > 0) fail_msg("ListDeadlines out of order");
  return o;
}

/* The deadline of record (step kind) in the caller's list, copied; NULL when absent. */
static Deadline *find(const char *tok, const char *unit, const char *record, int step) {
  Deadlines *o = deadlines(tok, unit, 0);
  Deadline *d = NULL;
  for (size_t i = 0; i < o->n_deadlines; i++)
    if (!strcmp(o->deadlines[i]->record_id, record) && (int)o->deadlines[i]->step == step) {
      d = o->deadlines[i];
      o->deadlines[i] = o->deadlines[--o->n_deadlines];
      break;
    }
  protobuf_c_message_free_unpacked(&o->base, NULL);
  return d;
}

static void free_deadline(Deadline *d) {
  if (d) protobuf_c_message_free_unpacked(&d->base, NULL);
}

/* Waits (bounded) until record's step shows with due date `due` in the system administrator's
 * list: records' steps arrive through the service's job. */
static Deadline *wait_deadline(const char *record, int step, const char *due) {
  for (int i = 0; i < 600; i++) {
    Deadline *d = find(w.tok_admin, NULL, record, step);
    if (d && (!due || !strcmp(d->due_date, due))) return d;
    free_deadline(d);
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  fail_msg("no deadline of step %d for record %s (due %s) within %d ms", step, record, due ? due : "any", WAIT_MS);
  return NULL;
}

static void set_preset(const char *preset, int *recomputed) {
  Hoso__Transfers__V1__SetPolicyRequest req = HOSO__TRANSFERS__V1__SET_POLICY_REQUEST__INIT;
  req.preset_id = (char *)preset;
  Hoso__Transfers__V1__SetPolicyResponse *o = NULL;
  cli_status st;
  if (th_tr_call(&tr, TR "SetPolicy", &req, &hoso__transfers__v1__set_policy_response__descriptor, (void **)&o,
                 w.tok_admin, &st) != OK)
    fail_msg("SetPolicy %s: %s", preset, st.message);
  assert_string_equal(o->policy->id, preset);
  if (recomputed) *recomputed = o->deadlines_recomputed;
  protobuf_c_message_free_unpacked(&o->base, NULL);
}

static char *new_recruit(const char *unit, const char *name, const char *recruited) {
  Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  r.managing_unit_id = (char *)unit;
  r.full_name = (char *)name;
  r.birth_date = "1999-09-09";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_PUBLIC_EMPLOYEE;
  e.recruitment_date = (char *)recruited;
  r.employment = &e;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &r;
  Hoso__Records__V1__CreateRecordResponse *o = NULL;
  cli_status st;
  if (th_call(w.rec_ch, "/hoso.records.v1.Records/CreateRecord", &req,
              &hoso__records__v1__create_record_response__descriptor, (void **)&o, w.tok_d1_updater, &st) != OK)
    fail_msg("CreateRecord: %s", st.message);
  char *id = strdup(o->record->id);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  return id;
}

/* An idle service rests between the rounds of its jobs. Each round (outbox, records' steps,
 * secondments) stamps the steps cursor; with nothing to deliver the next round comes after
 * HOSO_TRANSFERS_JOBS_MS (200 here), so 2 s hold about 10 stamps. An empty outbox once made the
 * wait 0 (greatest(0, NULL) is 0, not NULL), and the jobs spun: hundreds of rounds. */
static void test_idle_between_rounds(void **state) {
  (void)state;
  PGconn *c = PQconnectdb(w.pg.admin_dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  struct timespec pause = {0, 20 * 1000000L};
  char seen[128][40];
  int n_seen = 0;
  for (int i = 0; i < 75; i++) nanosleep(&pause, NULL); /* the first rounds catch up with the feed */
  for (int i = 0; i < 100; i++) {
    PGresult *r = PQexec(c, "SELECT updated_at::text FROM transfers.record_steps_cursor");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    int known = 0;
    for (int k = 0; k < n_seen && !known; k++) known = !strcmp(seen[k], PQgetvalue(r, 0, 0));
    if (!known && n_seen < 128) snprintf(seen[n_seen++], sizeof seen[0], "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    nanosleep(&pause, NULL);
  }
  PQfinish(c);
  if (n_seen > 15) fail_msg("%d rounds of the jobs in ~2 s on an idle service (expected about 10)", n_seen);
  if (n_seen < 2) fail_msg("the jobs did not run in ~2 s (cursor stamped %d time)", n_seen);
}

/* A transfer's send step and a new recruit's record step in one list, due by Bắc Giang's rules
 * (10 working days each, 004 Đ8.1, Đ9.1); Đắk Lắk's policy counts them again (5 and 15 working
 * days, 001 Đ10.2, Đ9.1); district 2 sees neither; overdue first. */
static void test_one_list_both_kinds(void **state) {
  (void)state;
  set_preset("004-bac-giang", NULL);
  char rec[32];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Người Chuyển Đi", rec), 0);
  th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2025-01-20", &st);
  assert_non_null(x);
  th_tr_free(x);
  char *recruit = new_recruit(w.d1_id, "Người Mới Tuyển", "2025-04-24");

  Deadline *send = find(w.tok_d1_reader, NULL, rec, SK(SEND));
  assert_non_null(send);
  assert_int_equal(send->source, SRC(TRANSFER));
  assert_string_equal(send->due_date, "2025-02-10");
  assert_string_equal(send->start_date, "2025-01-20");
  assert_true(send->overdue);
  assert_true(send->working_days_left < 0);
  assert_string_equal(send->unit_id, w.d1_id);
  free_deadline(send);
  /* 10 working days from Thursday 24 April 2025: the swapped Saturday 26 April counts, 30/4–2/5 do not. */
  Deadline *nr = wait_deadline(recruit, SK(NEW_RECORD), "2025-05-12");
  assert_int_equal(nr->source, SRC(RECORD));
  assert_string_equal(nr->record_name, "Người Mới Tuyển");
  free_deadline(nr);

  int n = 0;
  set_preset("001-dak-lak", &n);
  assert_true(n >= 2);
  send = find(w.tok_d1_reader, NULL, rec, SK(SEND));
  assert_string_equal(send->due_date, "2025-02-03"); /* 5 working days across Tết */
  free_deadline(send);
  nr = find(w.tok_d1_reader, NULL, recruit, SK(NEW_RECORD));
  assert_string_equal(nr->due_date, "2025-05-19"); /* 15 working days */
  free_deadline(nr);

  /* District 2 sees none of district 1's; overdue_only keeps these two. */
  assert_null(find(w.tok_d2_admin, NULL, rec, SK(SEND)));
  assert_null(find(w.tok_d2_admin, NULL, recruit, SK(NEW_RECORD)));
  Deadlines *o = deadlines(w.tok_d1_reader, w.d1_id, 1);
  int both = 0;
  for (size_t i = 0; i < o->n_deadlines; i++) {
    assert_true(o->deadlines[i]->overdue);
    both += !strcmp(o->deadlines[i]->record_id, rec) || !strcmp(o->deadlines[i]->record_id, recruit);
  }
  assert_int_equal(both, 2);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  Hoso__Transfers__V1__ListDeadlinesRequest req = HOSO__TRANSFERS__V1__LIST_DEADLINES_REQUEST__INIT;
  req.unit_id = w.d1_id;
  th_expect(th_tr_call(&tr, TR "ListDeadlines", &req, &hoso__transfers__v1__list_deadlines_response__descriptor, NULL,
                       w.tok_d2_reader, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  free(recruit);
  set_preset("004-bac-giang", NULL);
}

/* A person's declaration waits one working day for verification under Đắk Lắk's policy (001
 * Đ9.2a); verified, the step leaves the list. */
static void test_declaration_verified(void **state) {
  (void)state;
  set_preset("001-dak-lak", NULL);
  char rec[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Người Khai Báo", rec), 0);
  char *self = th_world_self_token(&w, w.d1_id, rec);
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = rec;
  Hoso__Records__V1__GetRecordResponse *cur = NULL;
  assert_int_equal(th_call(w.rec_ch, "/hoso.records.v1.Records/GetRecord", &g,
                           &hoso__records__v1__get_record_response__descriptor, (void **)&cur, self, NULL),
                   OK);
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  p.phone = "0977 111 222";
  Hoso__Records__V1__PersonalInfo *saved = cur->record->personal;
  cur->record->personal = &p;
  Hoso__Records__V1__CreateChangeRequestRequest cr = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  cr.proposed = cur->record;
  cr.base_version = cur->record->version;
  Hoso__Records__V1__CreateChangeRequestResponse *made = NULL;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, "/hoso.records.v1.Records/CreateChangeRequest", &cr,
                               &hoso__records__v1__create_change_request_response__descriptor, (void **)&made, self, &st);
  cur->record->personal = saved;
  protobuf_c_message_free_unpacked(&cur->base, NULL);
  if (c != OK) fail_msg("CreateChangeRequest: %s", st.message);
  char today[11];
  th_tr_day(0, today);
  Deadline *d = wait_deadline(rec, SK(VERIFY_DECLARATION), NULL);
  assert_string_equal(d->ref, made->change_request->id);
  assert_string_equal(d->start_date, today);
  free_deadline(d);
  Hoso__Records__V1__ApproveChangeRequestRequest ap = HOSO__RECORDS__V1__APPROVE_CHANGE_REQUEST_REQUEST__INIT;
  ap.change_request_id = made->change_request->id;
  if (th_call(w.rec_ch, "/hoso.records.v1.Records/ApproveChangeRequest", &ap,
              &hoso__records__v1__approve_change_request_response__descriptor, NULL, w.tok_d1_admin, &st) != OK)
    fail_msg("ApproveChangeRequest: %s", st.message);
  protobuf_c_message_free_unpacked(&made->base, NULL);
  free(self);
  for (int i = 0; i < 600; i++) {
    d = find(w.tok_admin, NULL, rec, SK(VERIFY_DECLARATION));
    if (!d) break;
    free_deadline(d);
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  assert_null(d);
  set_preset("004-bac-giang", NULL);
}

/* ------------------------------------------------------------ the calendar -------------- */

static Hoso__Transfers__V1__AddWorkingDaysResponse *add_days(const char *date, int days) {
  Hoso__Transfers__V1__AddWorkingDaysRequest req = HOSO__TRANSFERS__V1__ADD_WORKING_DAYS_REQUEST__INIT;
  req.date = (char *)date;
  req.days = days;
  Hoso__Transfers__V1__AddWorkingDaysResponse *o = NULL;
  cli_status st;
  if (th_tr_call(&tr, TR "AddWorkingDays", &req, &hoso__transfers__v1__add_working_days_response__descriptor,
                 (void **)&o, w.tok_transfers, &st) != OK)
    fail_msg("AddWorkingDays: %s", st.message);
  return o;
}

/* The preloaded years are REFERENCE §1's; a year entered by the administrator makes dates in
 * it exact; what an administrator may not enter is named; others may not enter anything. */
static void test_calendar(void **state) {
  (void)state;
  Hoso__Transfers__V1__ListCalendarRequest lr = HOSO__TRANSFERS__V1__LIST_CALENDAR_REQUEST__INIT;
  lr.from_year = 2024;
  lr.to_year = 2028;
  Hoso__Transfers__V1__ListCalendarResponse *cal = NULL;
  cli_status st;
  assert_int_equal(th_tr_call(&tr, TR "ListCalendar", &lr, &hoso__transfers__v1__list_calendar_response__descriptor,
                              (void **)&cal, w.tok_d2_reader, &st),
                   OK);
  assert_true(cal->n_years >= 3);
  assert_int_equal(cal->years[1]->year, 2025);
  assert_int_equal(cal->years[1]->n_days_off, 12);
  assert_int_equal(cal->years[1]->n_worked_days, 1);
  assert_string_equal(cal->years[1]->worked_days[0]->date, "2025-04-26");
  protobuf_c_message_free_unpacked(&cal->base, NULL);

  Hoso__Transfers__V1__AddWorkingDaysResponse *a = add_days("2025-01-20", 10);
  assert_string_equal(a->date, "2025-02-10");
  assert_false(a->estimated);
  protobuf_c_message_free_unpacked(&a->base, NULL);
  a = add_days("2027-02-03", 3);
  assert_string_equal(a->date, "2027-02-08");
  assert_true(a->estimated);
  protobuf_c_message_free_unpacked(&a->base, NULL);

  /* Tết Đinh Mùi 2027: 6 February is a Saturday; say 4–10 February off (weekdays listed). */
  Hoso__Transfers__V1__CalendarDay d[5];
  const char *days[5] = {"2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10"};
  Hoso__Transfers__V1__CalendarDay *dp[5];
  for (int i = 0; i < 5; i++) {
    d[i] = (Hoso__Transfers__V1__CalendarDay)HOSO__TRANSFERS__V1__CALENDAR_DAY__INIT;
    d[i].date = (char *)days[i];
    d[i].name = "Tết Nguyên đán";
    dp[i] = &d[i];
  }
  Hoso__Transfers__V1__CalendarYear y = HOSO__TRANSFERS__V1__CALENDAR_YEAR__INIT;
  y.year = 2027;
  y.days_off = dp;
  y.n_days_off = 5;
  Hoso__Transfers__V1__SetCalendarYearRequest sr = HOSO__TRANSFERS__V1__SET_CALENDAR_YEAR_REQUEST__INIT;
  sr.calendar = &y;
  th_expect(th_tr_call(&tr, TR "SetCalendarYear", &sr, &hoso__transfers__v1__set_calendar_year_response__descriptor,
                       NULL, w.tok_d1_admin, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_int_equal(th_tr_call(&tr, TR "SetCalendarYear", &sr, &hoso__transfers__v1__set_calendar_year_response__descriptor,
                              NULL, w.tok_admin, &st),
                   OK);
  a = add_days("2027-02-03", 3);
  assert_string_equal(a->date, "2027-02-15");
  assert_false(a->estimated);
  protobuf_c_message_free_unpacked(&a->base, NULL);

  d[2].date = "2027-02-06"; /* a Saturday is not a day off to enter */
  th_expect(th_tr_call(&tr, TR "SetCalendarYear", &sr, &hoso__transfers__v1__set_calendar_year_response__descriptor,
                       NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "calendar.days_off[2]");
  d[2].date = "2026-02-08";
  th_expect(th_tr_call(&tr, TR "SetCalendarYear", &sr, &hoso__transfers__v1__set_calendar_year_response__descriptor,
                       NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "calendar.days_off[2].date");

  Hoso__Transfers__V1__CountWorkingDaysRequest cr = HOSO__TRANSFERS__V1__COUNT_WORKING_DAYS_REQUEST__INIT;
  cr.from = "2024-12-31";
  cr.to = "2025-12-31";
  Hoso__Transfers__V1__CountWorkingDaysResponse *c = NULL;
  assert_int_equal(th_tr_call(&tr, TR "CountWorkingDays", &cr, &hoso__transfers__v1__count_working_days_response__descriptor,
                              (void **)&c, w.tok_d1_reader, &st),
                   OK);
  assert_int_equal(c->days, 261 - 12 + 1); /* 2025: 261 weekdays, 12 of them off, one Saturday worked */
  protobuf_c_message_free_unpacked(&c->base, NULL);
  cr.to = "2025-02-30";
  th_expect(th_tr_call(&tr, TR "CountWorkingDays", &cr, &hoso__transfers__v1__count_working_days_response__descriptor,
                       NULL, w.tok_d1_reader, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "to");
}

/* The presets are the five seeds; a province's own policy is checked rule by rule. */
static void test_policy_presets_and_rules(void **state) {
  (void)state;
  Hoso__Transfers__V1__ListPolicyPresetsRequest pr = HOSO__TRANSFERS__V1__LIST_POLICY_PRESETS_REQUEST__INIT;
  Hoso__Transfers__V1__ListPolicyPresetsResponse *ps = NULL;
  cli_status st;
  assert_int_equal(th_tr_call(&tr, TR "ListPolicyPresets", &pr,
                              &hoso__transfers__v1__list_policy_presets_response__descriptor, (void **)&ps,
                              w.tok_d1_reader, &st),
                   OK);
  assert_int_equal(ps->n_presets, 5);
  assert_string_equal(ps->presets[1]->id, "001-dak-lak");
  assert_true(ps->presets[1]->n_rules >= 8);
  protobuf_c_message_free_unpacked(&ps->base, NULL);

  Hoso__Transfers__V1__StepRule r1 = HOSO__TRANSFERS__V1__STEP_RULE__INIT, r2 = HOSO__TRANSFERS__V1__STEP_RULE__INIT;
  r1.step = SK(SEND);
  r1.unit = HOSO__TRANSFERS__V1__ALLOWANCE_UNIT__ALLOWANCE_UNIT_WORKING_DAYS;
  r1.days = 7;
  r2 = r1;
  Hoso__Transfers__V1__StepRule *rules[2] = {&r1, &r2};
  Hoso__Transfers__V1__Policy p = HOSO__TRANSFERS__V1__POLICY__INIT;
  p.name = "Tỉnh thử nghiệm";
  p.rules = rules;
  p.n_rules = 2;
  Hoso__Transfers__V1__SetPolicyRequest req = HOSO__TRANSFERS__V1__SET_POLICY_REQUEST__INIT;
  req.policy = &p;
  th_expect(th_tr_call(&tr, TR "SetPolicy", &req, &hoso__transfers__v1__set_policy_response__descriptor, NULL,
                       w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "policy.rules[1].step");
  p.n_rules = 1;
  r1.days = 0;
  th_expect(th_tr_call(&tr, TR "SetPolicy", &req, &hoso__transfers__v1__set_policy_response__descriptor, NULL,
                       w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "policy.rules[0].days");
  r1.days = 7;
  th_expect(th_tr_call(&tr, TR "SetPolicy", &req, &hoso__transfers__v1__set_policy_response__descriptor, NULL,
                       w.tok_d1_admin, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  Hoso__Transfers__V1__SetPolicyResponse *o = NULL;
  assert_int_equal(th_tr_call(&tr, TR "SetPolicy", &req, &hoso__transfers__v1__set_policy_response__descriptor,
                              (void **)&o, w.tok_admin, &st),
                   OK);
  assert_string_equal(o->policy->id, "custom");
  assert_int_equal(o->policy->n_rules, 1);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  set_preset("004-bac-giang", NULL);
}

/* Paging: small pages, token after token, give exactly the rows of one big page in the same
 * order (due date, then id as a number: a text order would put id 10 before 9 and lose rows
 * between pages); notices likewise, newest first. */
static void test_pages(void **state) {
  (void)state;
  /* Rows enough that ids pass from one digit to two within one due date (new records of the
   * same day), and a notice for each (district 2 asks district 1 for each record). */
  char rec[32];
  for (int i = 0; i < 12; i++) {
    char name[64];
    snprintf(name, sizeof name, "Người Trang %d", i);
    assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, name, rec), 0);
    Hoso__Transfers__V1__RequestTransferRequest rq = HOSO__TRANSFERS__V1__REQUEST_TRANSFER_REQUEST__INIT;
    rq.record_id = rec;
    rq.to_unit_id = w.d2_id;
    rq.request_letter = th_tr_scan();
    cli_status st;
    if (th_tr_call(&tr, TR "RequestTransfer", &rq, &hoso__transfers__v1__request_transfer_response__descriptor, NULL,
                   w.tok_d2_updater, &st) != OK)
      fail_msg("RequestTransfer: %s", st.message);
  }
  free_deadline(wait_deadline(rec, SK(NEW_RECORD), NULL));
  Deadlines *all = deadlines(w.tok_admin, NULL, 0);
  assert_true(all->n_deadlines >= 12);
  char token[512] = "";
  size_t k = 0;
  for (int page = 0; page < 500; page++) {
    Hoso__Transfers__V1__ListDeadlinesRequest req = HOSO__TRANSFERS__V1__LIST_DEADLINES_REQUEST__INIT;
    req.page_size = 3;
    req.page_token = token;
    Deadlines *o = NULL;
    cli_status st;
    if (th_tr_call(&tr, TR "ListDeadlines", &req, &hoso__transfers__v1__list_deadlines_response__descriptor,
                   (void **)&o, w.tok_admin, &st) != OK)
      fail_msg("ListDeadlines page: %s", st.message);
    for (size_t i = 0; i < o->n_deadlines; i++, k++) {
      assert_true(k < all->n_deadlines);
      assert_string_equal(o->deadlines[i]->record_id, all->deadlines[k]->record_id);
      assert_int_equal(o->deadlines[i]->step, all->deadlines[k]->step);
    }
    snprintf(token, sizeof token, "%s", o->next_page_token);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    if (!*token) break;
  }
  assert_int_equal(k, all->n_deadlines);
  protobuf_c_message_free_unpacked(&all->base, NULL);

  long long last = -1;
  int seen = 0;
  token[0] = 0;
  for (int page = 0; page < 500; page++) {
    Hoso__Transfers__V1__ListNoticesRequest req = HOSO__TRANSFERS__V1__LIST_NOTICES_REQUEST__INIT;
    req.page_size = 2;
    req.page_token = token;
    Hoso__Transfers__V1__ListNoticesResponse *o = NULL;
    cli_status st;
    if (th_tr_call(&tr, TR "ListNotices", &req, &hoso__transfers__v1__list_notices_response__descriptor, (void **)&o,
                   w.tok_admin, &st) != OK)
      fail_msg("ListNotices page: %s", st.message);
    for (size_t i = 0; i < o->n_notices; i++, seen++) {
      long long id = atoll(o->notices[i]->id);
      if (last >= 0 && id >= last) fail_msg("notice %lld after %lld: not newest first", id, last);
      last = id;
    }
    snprintf(token, sizeof token, "%s", o->next_page_token);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    if (!*token) break;
  }
  assert_true(seen >= 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idle_between_rounds),
      cmocka_unit_test(test_one_list_both_kinds),
      cmocka_unit_test(test_declaration_verified),
      cmocka_unit_test(test_calendar),
      cmocka_unit_test(test_policy_presets_and_rules),
      cmocka_unit_test(test_pages),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
