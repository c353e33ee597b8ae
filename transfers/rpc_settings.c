/* The province's rules as data: the working-day calendar (ListCalendar, SetCalendarYear), its
 * arithmetic for the other services (AddWorkingDays, CountWorkingDays), and the policy of
 * allowances (GetPolicy, SetPolicy, ListPolicyPresets). Reading needs any verified token;
 * changing needs the system administrator, and counts every open deadline again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "scope.h"
#include "transfers.h"
#include "val.h"

#define AU(x) HOSO__TRANSFERS__V1__ALLOWANCE_UNIT__ALLOWANCE_UNIT_##x
#define CF(x) HOSO__TRANSFERS__V1__COUNT_FROM__COUNT_FROM_##x
#define YEAR_SPAN_MAX 50
#define DAYS_MAX 3650

typedef Hoso__Transfers__V1__CalendarYear year_t;
typedef Hoso__Transfers__V1__Policy policy_t;

static int this_year(void) {
  char today[11];
  settings_today(today);
  return atoi(today);
}

static int need_caller(srv_ctx *ctx) {
  return ctx->auth ? 0 : srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
}

static int audit_settings(srv_ctx *ctx, const char *action, const char *target, json_t *detail) {
  audit_entry e = {.action = action, .target_type = "settings", .target_id = target, .unit_path = ""};
  return srv_audit(ctx, &e, detail);
}

/* ------------------------------------------------------------ ListCalendar -------------- */

typedef struct {
  int from, to;
  Hoso__Transfers__V1__ListCalendarResponse *out;
} list_cal_st;

static int list_cal_tx(srv_ctx *ctx, void *p) {
  list_cal_st *st = p;
  SRV_TRY(store_calendar_list(ctx, st->from, st->to, &st->out->years, &st->out->n_years));
  st->out->missing_years = srv_alloc(ctx, (size_t)(st->to - st->from + 1) * sizeof(int32_t));
  size_t k = 0;
  for (int y = st->from; y <= st->to; y++) {
    while (k < st->out->n_years && st->out->years[k]->year < y) k++;
    if (k >= st->out->n_years || st->out->years[k]->year != y) st->out->missing_years[st->out->n_missing_years++] = y;
  }
  return 0;
}

int rpc_list_calendar(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ListCalendarRequest *in = (const void *)req;
  list_cal_st st = {.from = in->from_year ? in->from_year : this_year() - 1,
                    .to = in->to_year ? in->to_year : this_year() + 1};
  if (st.from < WD_YEAR_MIN || st.from > WD_YEAR_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "from_year: must be between %d and %d", WD_YEAR_MIN, WD_YEAR_MAX);
  if (st.to < st.from || st.to > WD_YEAR_MAX || st.to - st.from >= YEAR_SPAN_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to_year: must be from from_year to at most %d years later",
                    YEAR_SPAN_MAX - 1);
  if (need_caller(ctx)) return -1;
  st.out = srv_new(ctx, &hoso__transfers__v1__list_calendar_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, list_cal_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------ SetCalendarYear ----------- */

typedef struct {
  year_t *year;
  const char *request_id;
  int recomputed;
} set_cal_st;

static int set_cal_tx(srv_ctx *ctx, void *p) {
  set_cal_st *st = p;
  char prev[64];
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 0) {
    SRV_TRY(store_calendar_put(ctx, st->year));
    const tr_settings *s;
    SRV_TRY(settings_get(ctx, &s));
    SRV_TRY(settings_recompute(ctx, s, &st->recomputed));
    SRV_TRY(audit_settings(ctx, "CALENDAR_YEAR_SET", srv_printf(ctx, "%d", st->year->year),
                           json_pack("{s:i, s:i, s:i, s:i}", "year", st->year->year, "days_off",
                                     (int)st->year->n_days_off, "worked_days", (int)st->year->n_worked_days,
                                     "deadlines_recomputed", st->recomputed)));
    SRV_TRY(idem_done(ctx, st->request_id, srv_printf(ctx, "%d", st->year->year)));
  }
  year_t **ys;
  size_t n;
  SRV_TRY(store_calendar_list(ctx, st->year->year, st->year->year, &ys, &n));
  if (n == 1) st->year = ys[0];
  return 0;
}

/* The days of one list, cleaned, as day numbers; names the entry that is wrong. */
static int clean_days(srv_ctx *ctx, const char *field, Hoso__Transfers__V1__CalendarDay **v, size_t n, int year,
                      wd_day *out) {
  for (size_t i = 0; i < n; i++) {
    if (!v[i] || wd_parse(v[i]->date, &out[i]) != 0)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "calendar.%s[%zu].date: must be a date YYYY-MM-DD", field, i);
    if (atoi(v[i]->date) != year)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "calendar.%s[%zu].date: %s is not in %d", field, i, v[i]->date,
                      year);
    const char *name;
    if (srv_clean_text(ctx, srv_printf(ctx, "calendar.%s[%zu].name", field, i), v[i]->name, 0, TR_LINE_MAX, &name))
      return -1;
    v[i]->name = (char *)name;
  }
  return 0;
}

int rpc_set_calendar_year(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__SetCalendarYearRequest *in = (const void *)req;
  if (!in->calendar) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "calendar: must be given");
  set_cal_st st = {.year = srv_msg_copy(ctx, &in->calendar->base), .request_id = in->request_id};
  year_t *y = st.year;
  if (y->year < WD_YEAR_MIN || y->year > WD_YEAR_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "calendar.year: must be between %d and %d", WD_YEAR_MIN,
                    WD_YEAR_MAX);
  unsigned mask = 0;
  for (size_t i = 0; i < y->n_weekend; i++) {
    if (y->weekend[i] < 1 || y->weekend[i] > 7 || (mask & (1u << (y->weekend[i] - 1))))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "calendar.weekend[%zu]: weekdays are 1 (Monday) to 7 (Sunday), each once", i);
    mask |= 1u << (y->weekend[i] - 1);
  }
  if (y->n_days_off > 366 || y->n_worked_days > 366)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "calendar: a year has at most 366 days");
  wd_day *off = srv_alloc(ctx, (y->n_days_off + 1) * sizeof *off), *worked = srv_alloc(ctx, (y->n_worked_days + 1) * sizeof *worked);
  if (clean_days(ctx, "days_off", y->days_off, y->n_days_off, y->year, off) ||
      clean_days(ctx, "worked_days", y->worked_days, y->n_worked_days, y->year, worked) ||
      srv_check_request_id(ctx, in->request_id))
    return -1;
  /* The engine's own rules (a day off on a weekday, a day worked on a rest day, none twice). */
  wd_cal *probe = wd_cal_new();
  wd_year wy = {.year = y->year, .weekend = mask, .off = off, .n_off = y->n_days_off, .worked = worked,
                .n_worked = y->n_worked_days};
  char err[160];
  int bad = probe ? wd_cal_set_year(probe, &wy, err, sizeof err) : -1;
  wd_cal_free(probe);
  if (bad) {
    if (!probe) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
    const char *rest = strncmp(err, "off", 3) == 0 ? err + 3 : strncmp(err, "worked", 6) == 0 ? err + 6 : NULL;
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "calendar.%s%s",
                    rest ? (err[0] == 'o' ? "days_off" : "worked_days") : "", rest ? rest : err);
  }
  if (srv_need_right(ctx, RIGHT_ADMIN, 0, "the working-day calendar is entered by the system administrator"))
    return -1;
  if (srv_tx(ctx, DB_READ_COMMITTED, set_cal_tx, &st) != 0) return -1;
  Hoso__Transfers__V1__SetCalendarYearResponse *o = srv_new(ctx, &hoso__transfers__v1__set_calendar_year_response__descriptor);
  o->calendar = st.year;
  o->deadlines_recomputed = st.recomputed;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ the arithmetic ------------ */

typedef struct {
  wd_day a, b;
  int days;
  int result, estimated;
  wd_day date;
} arith_st;

static int add_tx(srv_ctx *ctx, void *p) {
  arith_st *st = p;
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  unsigned f = 0;
  st->date = wd_add(s->cal, st->a, st->days, &f);
  st->estimated = (f & WD_ESTIMATED) != 0;
  return 0;
}

static int count_tx(srv_ctx *ctx, void *p) {
  arith_st *st = p;
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  unsigned f = 0;
  st->result = wd_count(s->cal, st->a, st->b, &f);
  st->estimated = (f & WD_ESTIMATED) != 0;
  return 0;
}

int rpc_add_working_days(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__AddWorkingDaysRequest *in = (const void *)req;
  arith_st st = {.days = in->days};
  if (wd_parse(in->date, &st.a) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "date: must be a date YYYY-MM-DD between %d and %d", WD_YEAR_MIN,
                    WD_YEAR_MAX);
  if (in->days < -DAYS_MAX || in->days > DAYS_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "days: must be between -%d and %d", DAYS_MAX, DAYS_MAX);
  if (need_caller(ctx) || srv_tx(ctx, DB_READ_COMMITTED, add_tx, &st) != 0) return -1;
  Hoso__Transfers__V1__AddWorkingDaysResponse *o = srv_new(ctx, &hoso__transfers__v1__add_working_days_response__descriptor);
  o->date = srv_alloc(ctx, 11);
  wd_format(st.date, o->date);
  o->estimated = st.estimated;
  *resp = &o->base;
  return 0;
}

int rpc_count_working_days(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__CountWorkingDaysRequest *in = (const void *)req;
  arith_st st = {0};
  if (wd_parse(in->from, &st.a) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "from: must be a date YYYY-MM-DD between %d and %d", WD_YEAR_MIN,
                    WD_YEAR_MAX);
  if (wd_parse(in->to, &st.b) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to: must be a date YYYY-MM-DD between %d and %d", WD_YEAR_MIN,
                    WD_YEAR_MAX);
  if (st.b - st.a > DAYS_MAX * 2 || st.a - st.b > DAYS_MAX * 2)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to: at most %d days from `from`", DAYS_MAX * 2);
  if (need_caller(ctx) || srv_tx(ctx, DB_READ_COMMITTED, count_tx, &st) != 0) return -1;
  Hoso__Transfers__V1__CountWorkingDaysResponse *o =
      srv_new(ctx, &hoso__transfers__v1__count_working_days_response__descriptor);
  o->days = st.result;
  o->estimated = st.estimated;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ policy -------------------- */

typedef struct {
  policy_t *policy, **presets;
  size_t n_presets;
  const char *preset_id, *request_id;
  int64_t expected;
  int recomputed;
} policy_st;

static int get_policy_tx(srv_ctx *ctx, void *p) { return store_policy_get(ctx, &((policy_st *)p)->policy); }

int rpc_get_policy(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  policy_st st = {0};
  if (need_caller(ctx) || srv_tx(ctx, DB_READ_COMMITTED, get_policy_tx, &st) != 0) return -1;
  Hoso__Transfers__V1__GetPolicyResponse *o = srv_new(ctx, &hoso__transfers__v1__get_policy_response__descriptor);
  o->policy = st.policy;
  *resp = &o->base;
  return 0;
}

static int presets_tx(srv_ctx *ctx, void *p) {
  policy_st *st = p;
  return store_policy_presets(ctx, &st->presets, &st->n_presets);
}

int rpc_list_policy_presets(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  policy_st st = {0};
  if (need_caller(ctx) || srv_tx(ctx, DB_READ_COMMITTED, presets_tx, &st) != 0) return -1;
  Hoso__Transfers__V1__ListPolicyPresetsResponse *o =
      srv_new(ctx, &hoso__transfers__v1__list_policy_presets_response__descriptor);
  o->presets = st.presets;
  o->n_presets = st.n_presets;
  *resp = &o->base;
  return 0;
}

/* The rules as a province may write them: one per step kind at most, no deadline for the
 * secondment's end (its end date is its own). */
static int check_rules(srv_ctx *ctx, policy_t *p) {
  unsigned seen = 0;
  for (size_t i = 0; i < p->n_rules; i++) {
    Hoso__Transfers__V1__StepRule *x = p->rules[i];
    if (!x || x->step < SK(NEW_RECORD) || x->step > SK(ANSWER_REQUEST) || (seen & (1u << x->step)))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "policy.rules[%zu].step: a step kind from STEP_KIND_NEW_RECORD to STEP_KIND_ANSWER_REQUEST, "
                      "each once (a secondment ends on its own end date)", i);
    seen |= 1u << x->step;
    if (x->unit < AU(NONE) || x->unit > AU(WORKING_DAYS))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "policy.rules[%zu].unit: must be NONE, CALENDAR_DAYS or WORKING_DAYS", i);
    if (x->days < 0 || x->days > WD_ALLOWANCE_MAX || (x->unit != AU(NONE) && x->days == 0))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "policy.rules[%zu].days: must be between 1 and %d", i,
                      WD_ALLOWANCE_MAX);
    if (x->unit == AU(NONE)) x->days = 0;
    if (x->from == CF(UNSPECIFIED)) x->from = CF(EFFECTIVE_DATE);
    if (x->from != CF(EFFECTIVE_DATE) && x->from != CF(PREVIOUS_STEP))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "policy.rules[%zu].from: must be EFFECTIVE_DATE or PREVIOUS_STEP", i);
    const char *basis;
    if (srv_clean_text(ctx, srv_printf(ctx, "policy.rules[%zu].basis", i), x->basis, 0, TR_LINE_MAX, &basis)) return -1;
    x->basis = (char *)basis;
  }
  return 0;
}

static int set_policy_tx(srv_ctx *ctx, void *p) {
  policy_st *st = p;
  char prev[64];
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 0) {
    policy_t *cur;
    SRV_TRY(store_policy_get(ctx, &cur));
    if (st->expected && st->expected != cur->version)
      return SRV_FAIL(ctx, GRPC_STATUS_ABORTED, "expected_version: the policy was changed by someone else (now version "
                      "%lld); reload and retry", (long long)cur->version);
    if (st->preset_id) {
      policy_t **ps;
      size_t n;
      SRV_TRY(store_policy_presets(ctx, &ps, &n));
      st->policy = NULL;
      for (size_t i = 0; i < n; i++)
        if (strcmp(ps[i]->id, st->preset_id) == 0) st->policy = ps[i];
      if (!st->policy)
        return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "preset_id: no preset %s (ListPolicyPresets names them)",
                        st->preset_id);
    }
    SRV_TRY(store_policy_put(ctx, st->policy));
    const tr_settings *s;
    SRV_TRY(settings_get(ctx, &s));
    SRV_TRY(settings_recompute(ctx, s, &st->recomputed));
    SRV_TRY(audit_settings(ctx, "POLICY_SET", st->policy->id,
                           json_pack("{s:s, s:i, s:i}", "preset", st->policy->id, "rules", (int)st->policy->n_rules,
                                     "deadlines_recomputed", st->recomputed)));
    SRV_TRY(idem_done(ctx, st->request_id, st->policy->id));
  }
  return store_policy_get(ctx, &st->policy);
}

int rpc_set_policy(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__SetPolicyRequest *in = (const void *)req;
  policy_st st = {.request_id = in->request_id, .expected = in->expected_version};
  if (in->preset_id && *in->preset_id) {
    if (in->policy) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "policy: give a preset_id or a policy, not both");
    st.preset_id = in->preset_id;
  } else {
    if (!in->policy) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "policy: give a preset_id or a policy");
    st.policy = srv_msg_copy(ctx, &in->policy->base);
    const char *name;
    if (srv_clean_text(ctx, "policy.name", st.policy->name, 1, TR_LINE_MAX, &name)) return -1;
    st.policy->name = (char *)name;
    st.policy->id = "custom";
    if (st.policy->secondment_alert_days < 0 || st.policy->secondment_alert_days > 60)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "policy.secondment_alert_days: must be between 0 and 60");
    if (check_rules(ctx, st.policy)) return -1;
  }
  if (in->expected_version < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "expected_version: must not be negative");
  if (srv_check_request_id(ctx, in->request_id) ||
      srv_need_right(ctx, RIGHT_ADMIN, 0, "the province's policy is chosen by the system administrator"))
    return -1;
  if (srv_tx(ctx, DB_READ_COMMITTED, set_policy_tx, &st) != 0) return -1;
  Hoso__Transfers__V1__SetPolicyResponse *o = srv_new(ctx, &hoso__transfers__v1__set_policy_response__descriptor);
  o->policy = st.policy;
  o->deadlines_recomputed = st.recomputed;
  *resp = &o->base;
  return 0;
}
