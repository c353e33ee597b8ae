/* What reporting asks of the other services as itself, over real identity, records, transfers
 * and reporting: transfer steps due or overdue in ListAlerts (transfers' ListDeadlines), and the
 * compliance report's transfer steps on time and overdue (transfers' CountSteps) and accounts in
 * use (identity's CountAccountUse), each within the caller's unit; with transfers stopped the
 * alerts and the report still answer, saying what is missing. What reporting must ask with the
 * caller's own token (identity's GetUnit) fails the call as every service fails it
 * (svc_fail_downstream): identity not answering -> UNAVAILABLE naming it; a session identity
 * no longer accepts -> UNAUTHENTICATED "log in again". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "common.pb-c.h"
#include "identity.pb-c.h"
#include "reporting.pb-c.h"
#include "th_transfers.h"

#define REP "/hoso.reporting.v1.Reporting/"
#define K(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define TRANSFER_ALERT HOSO__REPORTING__V1__ALERT_KIND__ALERT_KIND_TRANSFER_OVERDUE

typedef Hoso__Reporting__V1__ListAlertsResponse Alerts;
typedef Hoso__Reporting__V1__GetComplianceReportResponse Compliance;
typedef Hoso__Reporting__V1__UnitCompliance UnitC;

static th_world w;
static th_tr tr;
static th_svc rep;
static cli_chan *rep_ch;
static char rec_late[32], rec_sent[32], t_late[32], t_sent[32];
static char today[11], period[16], previous[16];

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

/* Two transfers of district 1's people: one decided in January 2025 and never sent (its send
 * step overdue since 10 February 2025), one decided today and sent at once (on time; its
 * receipt now district 2's work, due in 10 working days). */
static int setup(void **state) {
  (void)state;
  static const char *const tr_env[] = {"HOSO_TRANSFERS_JOBS_MS=200", NULL};
  if (th_world_start(&w, 1, NULL) != 0 || th_tr_start(&tr, &w, tr_env) != 0) return -1;
  char addr[96];
  snprintf(addr, sizeof addr, "HOSO_TRANSFERS_ADDR=%s", tr.svc.addr);
  const char *rep_env[] = {addr, NULL};
  if (th_world_reporting_start(&w, &rep, rep_env) != 0 || !(rep_ch = cli_open_tls(rep.addr, NULL, NULL, NULL)))
    return -1;
  th_tr_day(0, today);
  int y = atoi(today), h = strncmp(today + 5, "07", 2) < 0 ? 1 : 2;
  snprintf(period, sizeof period, "%04d-H%d", y % 10000, h);
  snprintf(previous, sizeof previous, "%04d-H%d", (h == 1 ? y - 1 : y) % 10000, h == 1 ? 2 : 1);
  cli_status st;
  if (th_world_record(&w, w.tok_d1_updater, w.d1_id, "Người Chậm Gửi", rec_late) != 0 ||
      th_world_record(&w, w.tok_d1_updater, w.d1_id, "Người Gửi Ngay", rec_sent) != 0)
    return -1;
  th_transfer *a = th_tr_begin(&tr, w.tok_d1_updater, rec_late, K(BETWEEN_UNITS), w.d2_id, NULL, "2025-01-20", &st);
  th_transfer *b = th_tr_begin(&tr, w.tok_d1_updater, rec_sent, K(BETWEEN_UNITS), w.d2_id, NULL, today, &st);
  if (!a || !b) return -1;
  snprintf(t_late, sizeof t_late, "%s", a->id);
  snprintf(t_sent, sizeof t_sent, "%s", b->id);
  th_tr_free(a);
  th_tr_free(b);
  th_transfer *s = th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", t_sent, &st);
  if (!s) return -1;
  th_tr_free(s);
  /* a person's own account: logged in, but not an officer's account in use */
  free(th_world_self_token(&w, w.d1_id, rec_late));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (rep_ch) cli_close(rep_ch);
  char log[256];
  snprintf(log, sizeof log, "%s", rep.log);
  int rc = th_svc_stop(&rep);
  if (tr.svc.pid > 0) rc |= th_tr_stop(&tr);
  rc |= th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

static Alerts *alerts(const char *tok, int transfers_only) {
  Hoso__Reporting__V1__ListAlertsRequest req = HOSO__REPORTING__V1__LIST_ALERTS_REQUEST__INIT;
  Hoso__Reporting__V1__AlertKind kinds[1] = {TRANSFER_ALERT};
  req.kinds = kinds;
  req.n_kinds = transfers_only ? 1 : 0;
  req.within_days = 30;
  req.page_size = 500;
  Alerts *out = NULL;
  cli_status st;
  th_expect(th_call(rep_ch, REP "ListAlerts", &req, &hoso__reporting__v1__list_alerts_response__descriptor, (void **)&out,
                    tok, &st),
            &st, GRPC_STATUS_OK, NULL);
  return out;
}

static const Hoso__Reporting__V1__Alert *transfer_alert(const Alerts *a, const char *transfer) {
  for (size_t i = 0; i < a->n_alerts; i++)
    if (a->alerts[i]->kind == TRANSFER_ALERT && !strcmp(a->alerts[i]->subject_id, transfer)) return a->alerts[i];
  return NULL;
}

static int has_note(char **notes, size_t n, const char *start) {
  for (size_t i = 0; i < n; i++)
    if (!strncmp(notes[i], start, strlen(start))) return 1;
  return 0;
}

static Compliance *compliance(const char *tok, const char *unit, const char *which) {
  Hoso__Reporting__V1__GetComplianceReportRequest req = HOSO__REPORTING__V1__GET_COMPLIANCE_REPORT_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.period = (char *)which;
  Compliance *out = NULL;
  cli_status st;
  th_expect(th_call(rep_ch, REP "GetComplianceReport", &req, &hoso__reporting__v1__get_compliance_report_response__descriptor,
                    (void **)&out, tok, &st),
            &st, GRPC_STATUS_OK, NULL);
  return out;
}

static const UnitC *unit_row(const Compliance *c, const char *unit) {
  for (size_t i = 0; i < c->n_units; i++)
    if (!strcmp(c->units[i]->unit_id, unit)) return c->units[i];
  fail_msg("no row for unit %s", unit);
  return NULL;
}

/* The overdue send is district 1's alert, the receipt district 2's; each sees only its own,
 * with the transfer named, the due date by Bắc Giang's 10 working days, soonest first. */
static void test_transfer_alerts(void **state) {
  (void)state;
  Alerts *d1 = alerts(w.tok_d1_reader, 0);
  const Hoso__Reporting__V1__Alert *late = transfer_alert(d1, t_late);
  assert_non_null(late);
  assert_string_equal(late->record_id, rec_late);
  assert_string_equal(late->full_name, "Người Chậm Gửi");
  assert_string_equal(late->managing_unit_id, w.d1_id);
  assert_string_equal(late->managing_unit_path, w.d1_path);
  assert_string_equal(late->due_date, "2025-02-10");
  assert_true(late->days_left < 0);
  assert_non_null(strstr(late->detail, "Gửi hồ sơ đến đơn vị mới"));
  assert_non_null(strstr(late->detail, "quá hạn"));
  assert_null(transfer_alert(d1, t_sent));
  for (size_t i = 1; i < d1->n_alerts; i++) assert_true(strcmp(d1->alerts[i - 1]->due_date, d1->alerts[i]->due_date) <= 0);
  assert_int_equal(d1->n_notes, 0);
  free_msg(d1);
  Alerts *d2 = alerts(w.tok_d2_reader, 1);
  const Hoso__Reporting__V1__Alert *recv = transfer_alert(d2, t_sent);
  assert_non_null(recv);
  assert_string_equal(recv->managing_unit_id, w.d2_id);
  assert_true(recv->days_left >= 0);
  assert_non_null(strstr(recv->detail, "Tiếp nhận hồ sơ"));
  assert_null(transfer_alert(d2, t_late));
  for (size_t i = 0; i < d2->n_alerts; i++) assert_int_equal(d2->alerts[i]->kind, TRANSFER_ALERT);
  free_msg(d2);
}

/* This half-year: district 1 sent one transfer on time and has one send overdue; district 2
 * none done yet. Officers' accounts that logged in: district 1's administrator, updater and
 * reader and the school's updater, district 2's three, the administrator at the root; the
 * person's own account is not counted. The half-year before: nothing yet. */
static void test_compliance_columns(void **state) {
  (void)state;
  Compliance *c = compliance(w.tok_admin, w.root_id, period);
  const UnitC *d1 = unit_row(c, w.d1_id), *d2 = unit_row(c, w.d2_id), *root = unit_row(c, w.root_id);
  assert_int_equal(d1->transfers_on_time, 1);
  assert_int_equal(d1->transfers_overdue, 1);
  assert_int_equal(d2->transfers_on_time + d2->transfers_overdue, 0);
  assert_int_equal(c->total->transfers_on_time, 1);
  assert_int_equal(c->total->transfers_overdue, 1);
  assert_int_equal(d1->accounts_in_use, 4);
  assert_int_equal(d2->accounts_in_use, 3);
  assert_int_equal(root->accounts_in_use, 1);
  assert_int_equal(c->total->accounts_in_use, 8);
  assert_int_equal(c->n_notes, 0);
  free_msg(c);
  /* district 1's administrator sees its school and itself */
  c = compliance(w.tok_d1_admin, w.d1_id, period);
  assert_int_equal(unit_row(c, w.d1u_id)->accounts_in_use, 1);
  assert_int_equal(unit_row(c, w.d1_id)->accounts_in_use, 3);
  assert_int_equal(unit_row(c, w.d1_id)->transfers_overdue, 1);
  free_msg(c);
  c = compliance(w.tok_admin, w.root_id, previous);
  assert_int_equal(c->total->transfers_on_time + c->total->transfers_overdue + c->total->accounts_in_use, 0);
  free_msg(c);
}

/* The services' own checks of the two questions: the period is checked first, and a person (even
 * the unit's reader) is refused: only the reporting service asks them. */
static void test_count_refusals(void **state) {
  (void)state;
  Hoso__Identity__V1__CountAccountUseRequest a = HOSO__IDENTITY__V1__COUNT_ACCOUNT_USE_REQUEST__INIT;
  a.unit_id = w.d1_id;
  a.from = "2026-02-30";
  a.to = today;
  cli_status st;
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/CountAccountUse", &a,
                    &hoso__identity__v1__count_account_use_response__descriptor, NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "from");
  a.from = today;
  a.to = "2020-01-01";
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/CountAccountUse", &a,
                    &hoso__identity__v1__count_account_use_response__descriptor, NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "to");
  a.from = "2020-01-01";
  a.to = today;
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/CountAccountUse", &a,
                    &hoso__identity__v1__count_account_use_response__descriptor, NULL, w.tok_d2_reader, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_non_null(strstr(st.message, "CountAccountUse is asked by the reporting service"));
  Hoso__Transfers__V1__CountStepsRequest s = HOSO__TRANSFERS__V1__COUNT_STEPS_REQUEST__INIT;
  s.unit_id = w.d1_id;
  s.from = "2020-01-01";
  s.to = "yesterday";
  th_expect(th_tr_call(&tr, TR "CountSteps", &s, &hoso__transfers__v1__count_steps_response__descriptor, NULL, w.tok_admin,
                       &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "to");
  s.to = today;
  th_expect(th_tr_call(&tr, TR "CountSteps", &s, &hoso__transfers__v1__count_steps_response__descriptor, NULL,
                       w.tok_d2_reader, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_non_null(strstr(st.message, "CountSteps is asked by the reporting service"));
}

/* Transfers stopped: the alerts of the facts and the records' columns still come, with a note
 * naming what is missing; identity's column is still counted. */
static void test_transfers_down(void **state) {
  (void)state;
  assert_int_equal(th_tr_stop(&tr), 0);
  Alerts *d1 = alerts(w.tok_d1_reader, 0);
  assert_null(transfer_alert(d1, t_late));
  assert_true(has_note(d1->notes, d1->n_notes,
                       "ALERT_KIND_TRANSFER_OVERDUE: not counted — the transfers service is unavailable; retry"));
  free_msg(d1);
  Compliance *c = compliance(w.tok_admin, w.root_id, period);
  assert_true(has_note(c->notes, c->n_notes,
                       "transfers_on_time, transfers_overdue: not counted — the transfers service is unavailable; retry"));
  assert_int_equal(c->total->transfers_on_time + c->total->transfers_overdue, 0);
  assert_int_equal(c->total->accounts_in_use, 8);
  free_msg(c);
}

static grpc_status_code alerts_at(cli_chan *ch, const char *tok, cli_status *st) {
  Hoso__Reporting__V1__ListAlertsRequest req = HOSO__REPORTING__V1__LIST_ALERTS_REQUEST__INIT;
  req.unit_id = w.d1_id;
  req.within_days = 30;
  /* more than the 5 s reporting gives identity */
  return th_call_ms(ch, REP "ListAlerts", &req, &hoso__reporting__v1__list_alerts_response__descriptor, NULL, tok, 20000,
                    st);
}

/* Identity accepts connections but does not answer: where the unit is cannot be known, so the
 * alerts fail, UNAVAILABLE naming identity (not INTERNAL, not a hang), and answer again once
 * identity does. */
static void test_identity_down(void **state) {
  (void)state;
  cli_status st;
  assert_int_equal(th_svc_pause(&w.identity), 0);
  grpc_status_code c = alerts_at(rep_ch, w.tok_d1_reader, &st);
  assert_int_equal(th_svc_resume(&w.identity), 0);
  th_expect(c, &st, GRPC_STATUS_UNAVAILABLE, NULL);
  if (!strstr(st.message, "the identity service is unavailable; retry")) fail_msg("message: %s", st.message);
  th_expect(alerts_at(rep_ch, w.tok_d1_reader, &st), &st, GRPC_STATUS_OK, NULL);
}

/* A session identity has ended (the account disabled) while reporting, which reads the
 * revocations only every minute here, still takes its token: identity's refusal of the caller's
 * token comes back as the caller's UNAUTHENTICATED, "log in again" (not UNAVAILABLE). */
static void test_session_refused_at_identity(void **state) {
  (void)state;
  static const char *const env[] = {"HOSO_REVOCATION_POLL_MS=60000", NULL};
  th_svc rep2;
  memset(&rep2, 0, sizeof rep2);
  assert_int_equal(th_world_reporting_start(&w, &rep2, env), 0);
  cli_chan *ch = cli_open_tls(rep2.addr, NULL, NULL, NULL);
  assert_non_null(ch);
  char *tok = th_world_account_token(&w, "pr.reader", w.d1_id, HOSO__COMMON__V1__ROLE__READER);
  assert_non_null(tok);
  cli_status st;
  th_expect(alerts_at(ch, tok, &st), &st, GRPC_STATUS_OK, NULL);
  Hoso__Identity__V1__WhoAmIRequest q = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *me = NULL;
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/WhoAmI", &q, &hoso__identity__v1__who_am_iresponse__descriptor,
                    (void **)&me, tok, &st),
            &st, GRPC_STATUS_OK, NULL);
  Hoso__Identity__V1__DisableAccountRequest d = HOSO__IDENTITY__V1__DISABLE_ACCOUNT_REQUEST__INIT;
  d.account_id = me->account->id;
  d.reason = "Nghỉ việc";
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/DisableAccount", &d,
                    &hoso__identity__v1__disable_account_response__descriptor, NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  free_msg(me);
  /* until identity itself refuses the token (it reads its list every 2 s) */
  time_t t0 = time(NULL);
  while (th_call(w.id_ch, "/hoso.identity.v1.Identity/WhoAmI", &q, &hoso__identity__v1__who_am_iresponse__descriptor,
                 NULL, tok, &st) == GRPC_STATUS_OK) {
    if (time(NULL) - t0 > 30) fail_msg("identity still takes the disabled account's token after 30 s");
    usleep(100 * 1000);
  }
  assert_true(time(NULL) - t0 < 40); /* well inside reporting's minute */
  th_expect(alerts_at(ch, tok, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
  if (!strstr(st.message, "log in again") || !strstr(st.message, "identity")) fail_msg("message: %s", st.message);
  free(tok);
  cli_close(ch);
  char log[256];
  snprintf(log, sizeof log, "%s", rep2.log);
  assert_int_equal(th_svc_stop(&rep2), 0);
  assert_int_equal(th_log_errors(log), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transfer_alerts),
      cmocka_unit_test(test_compliance_columns),
      cmocka_unit_test(test_count_refusals),

      cmocka_unit_test(test_transfers_down),
      /* last: its account would count among the accounts in use */
      cmocka_unit_test(test_identity_down),
      cmocka_unit_test(test_session_refused_at_identity),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
