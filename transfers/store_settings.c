/* The SQL of the policy and the calendar: what is stored (002_policy.sql, 001_calendar.sql) as
 * messages of the contract, their replacement by the system administrator, and the copy of
 * both that the due dates are counted with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "transfers.h"

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define AU(x) HOSO__TRANSFERS__V1__ALLOWANCE_UNIT__ALLOWANCE_UNIT_##x

typedef Hoso__Transfers__V1__Policy policy_t;
typedef Hoso__Transfers__V1__StepRule rule_t;
typedef Hoso__Transfers__V1__CalendarYear year_t;
typedef Hoso__Transfers__V1__CalendarDay day_t;

static char *col(srv_ctx *ctx, const PGresult *r, int row, int c) { return srv_strdup(ctx, PQgetvalue(r, row, c)); }

static int bump_version(srv_ctx *ctx) { return db_cmd(ctx->db, "UPDATE settings_version SET version = version + 1", 0); }

/* ------------------------------------------------------------ policy -------------------- */

/* Rules of rows [from, to) of r: step, unit, days, count_from, roll, basis at columns c.. */
static void rules_from(srv_ctx *ctx, const PGresult *r, int from, int to, int c, policy_t *p) {
  p->rules = srv_alloc(ctx, (size_t)(to > from ? to - from : 1) * sizeof *p->rules);
  for (int i = from; i < to; i++) {
    rule_t *x = srv_new(ctx, &hoso__transfers__v1__step_rule__descriptor);
    x->step = atoi(PQgetvalue(r, i, c));
    x->unit = atoi(PQgetvalue(r, i, c + 1));
    x->days = atoi(PQgetvalue(r, i, c + 2));
    x->from = atoi(PQgetvalue(r, i, c + 3));
    x->roll_to_working_day = PQgetvalue(r, i, c + 4)[0] == 't';
    x->basis = col(ctx, r, i, c + 5);
    p->rules[p->n_rules++] = x;
  }
}

int store_policy_get(srv_ctx *ctx, policy_t **out) {
  PGresult *r = db_q(ctx->db,
                     "SELECT preset_id, name, secondment_alert_days, version, updated_by, " UTC("updated_at")
                     " FROM policy",
                     0);
  if (!r) return -1;
  if (PQntuples(r) != 1) {
    PQclear(r);
    log_error("transfers: the policy row is missing");
    return srv_fail_internal(ctx);
  }
  policy_t *p = srv_new(ctx, &hoso__transfers__v1__policy__descriptor);
  p->id = col(ctx, r, 0, 0);
  p->name = col(ctx, r, 0, 1);
  p->secondment_alert_days = atoi(PQgetvalue(r, 0, 2));
  p->version = atoll(PQgetvalue(r, 0, 3));
  p->updated_by = col(ctx, r, 0, 4);
  p->updated_at = col(ctx, r, 0, 5);
  PQclear(r);
  r = db_q(ctx->db, "SELECT step, unit, days, count_from, roll, basis FROM policy_rules ORDER BY step", 0);
  if (!r) return -1;
  rules_from(ctx, r, 0, PQntuples(r), 0, p);
  PQclear(r);
  *out = p;
  return 0;
}

int store_policy_presets(srv_ctx *ctx, policy_t ***out, size_t *n) {
  PGresult *ps = db_q(ctx->db, "SELECT id, name, secondment_alert_days FROM policy_presets ORDER BY ord, id", 0);
  if (!ps) return -1;
  PGresult *r = db_q(ctx->db,
                     "SELECT preset_id, step, unit, days, count_from, roll, basis FROM policy_preset_rules "
                     "ORDER BY preset_id, step",
                     0);
  if (!r) {
    PQclear(ps);
    return -1;
  }
  *n = (size_t)PQntuples(ps);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    policy_t *p = srv_new(ctx, &hoso__transfers__v1__policy__descriptor);
    p->id = col(ctx, ps, (int)i, 0);
    p->name = col(ctx, ps, (int)i, 1);
    p->secondment_alert_days = atoi(PQgetvalue(ps, (int)i, 2));
    int from = 0, rows = PQntuples(r);
    while (from < rows && strcmp(PQgetvalue(r, from, 0), p->id) != 0) from++;
    int to = from;
    while (to < rows && strcmp(PQgetvalue(r, to, 0), p->id) == 0) to++;
    rules_from(ctx, r, from, to, 1, p);
    (*out)[i] = p;
  }
  PQclear(r);
  PQclear(ps);
  return 0;
}

int store_policy_put(srv_ctx *ctx, const policy_t *p) {
  if (db_cmd(ctx->db,
             "UPDATE policy SET preset_id = $1, name = $2, secondment_alert_days = $3::smallint, "
             "version = version + 1, updated_by = $4, updated_at = now()",
             4, p->id, p->name, srv_printf(ctx, "%d", p->secondment_alert_days), ctx->auth ? ctx->auth->sub : "") != 0 ||
      db_cmd(ctx->db, "DELETE FROM policy_rules", 0) != 0)
    return -1;
  for (size_t i = 0; i < p->n_rules; i++) {
    const rule_t *x = p->rules[i];
    const char *v[6] = {srv_printf(ctx, "%d", x->step), srv_printf(ctx, "%d", x->unit), srv_printf(ctx, "%d", x->days),
                        srv_printf(ctx, "%d", x->from), x->roll_to_working_day ? "t" : "f", x->basis ? x->basis : ""};
    if (db_cmd_later(ctx->db,
                     "INSERT INTO policy_rules (step, unit, days, count_from, roll, basis) "
                     "VALUES ($1::smallint, $2::smallint, $3::smallint, $4::smallint, $5::boolean, $6)",
                     6, v) != 0)
      return -1;
  }
  return bump_version(ctx);
}

/* ------------------------------------------------------------ calendar ------------------ */

int store_calendar_list(srv_ctx *ctx, int from, int to, year_t ***out, size_t *n) {
  const char *f = srv_printf(ctx, "%d", from), *t = srv_printf(ctx, "%d", to);
  PGresult *ys = db_q(ctx->db,
                      "SELECT year, array_to_string(weekend, ','), updated_by, " UTC("updated_at")
                      " FROM calendar_years WHERE year BETWEEN $1::int AND $2::int ORDER BY year",
                      2, f, t);
  if (!ys) return -1;
  PGresult *ds = db_q(ctx->db,
                      "SELECT year, day::text, kind, name FROM calendar_days WHERE year BETWEEN $1::int AND $2::int "
                      "ORDER BY calendar_days.day",
                      2, f, t);
  if (!ds) {
    PQclear(ys);
    return -1;
  }
  *n = (size_t)PQntuples(ys);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  int rows = PQntuples(ds);
  for (size_t i = 0; i < *n; i++) {
    year_t *y = srv_new(ctx, &hoso__transfers__v1__calendar_year__descriptor);
    y->year = atoi(PQgetvalue(ys, (int)i, 0));
    const char *w = PQgetvalue(ys, (int)i, 1);
    y->weekend = srv_alloc(ctx, 8 * sizeof *y->weekend);
    for (const char *c = w; *c; c++)
      if (*c >= '1' && *c <= '7' && y->n_weekend < 7) y->weekend[y->n_weekend++] = *c - '0';
    y->updated_by = col(ctx, ys, (int)i, 2);
    y->updated_at = col(ctx, ys, (int)i, 3);
    y->days_off = srv_alloc(ctx, (size_t)(rows ? rows : 1) * sizeof *y->days_off);
    y->worked_days = srv_alloc(ctx, (size_t)(rows ? rows : 1) * sizeof *y->worked_days);
    for (int j = 0; j < rows; j++) {
      if (atoi(PQgetvalue(ds, j, 0)) != y->year) continue;
      day_t *d = srv_new(ctx, &hoso__transfers__v1__calendar_day__descriptor);
      d->date = col(ctx, ds, j, 1);
      d->name = col(ctx, ds, j, 3);
      if (atoi(PQgetvalue(ds, j, 2)) == 1)
        y->days_off[y->n_days_off++] = d;
      else
        y->worked_days[y->n_worked_days++] = d;
    }
    (*out)[i] = y;
  }
  PQclear(ds);
  PQclear(ys);
  return 0;
}

int store_calendar_put(srv_ctx *ctx, const year_t *y) {
  char weekend[32] = "{";
  size_t l = 1;
  for (size_t i = 0; i < y->n_weekend && l < sizeof weekend - 4; i++)
    l += (size_t)snprintf(weekend + l, sizeof weekend - l, "%s%d", i ? "," : "", y->weekend[i]);
  snprintf(weekend + l, sizeof weekend - l, "}");
  const char *year = srv_printf(ctx, "%d", y->year);
  if (db_cmd(ctx->db,
             "INSERT INTO calendar_years (year, weekend, updated_by) VALUES ($1::smallint, $2::smallint[], $3) "
             "ON CONFLICT (year) DO UPDATE SET weekend = excluded.weekend, updated_by = excluded.updated_by, "
             "updated_at = now()",
             3, year, y->n_weekend ? weekend : "{6,7}", ctx->auth ? ctx->auth->sub : "") != 0 ||
      db_cmd(ctx->db, "DELETE FROM calendar_days WHERE year = $1::smallint", 1, year) != 0)
    return -1;
  for (int kind = 1; kind <= 2; kind++) {
    day_t **v = kind == 1 ? y->days_off : y->worked_days;
    size_t n = kind == 1 ? y->n_days_off : y->n_worked_days;
    for (size_t i = 0; i < n; i++) {
      const char *p[4] = {v[i]->date, year, kind == 1 ? "1" : "2", v[i]->name ? v[i]->name : ""};
      if (db_cmd_later(ctx->db,
                       "INSERT INTO calendar_days (day, year, kind, name) VALUES ($1::date, $2::smallint, "
                       "$3::smallint, $4)",
                       4, p) != 0)
        return -1;
    }
  }
  return bump_version(ctx);
}

/* ------------------------------------------------------------ the copy in force --------- */

/* A stored year into the engine; a year that does not pass (it never should: SetCalendarYear
 * checks the same rules) is logged and counts as not entered. */
static void load_year(wd_cal *cal, int year, const char *weekend, const PGresult *ds) {
  wd_day off[400], worked[400];
  size_t n_off = 0, n_worked = 0;
  for (int j = 0; j < PQntuples(ds); j++) {
    if (atoi(PQgetvalue(ds, j, 0)) != year) continue;
    wd_day d;
    if (wd_parse(PQgetvalue(ds, j, 1), &d) != 0) continue;
    if (atoi(PQgetvalue(ds, j, 2)) == 1 && n_off < 400)
      off[n_off++] = d;
    else if (n_worked < 400)
      worked[n_worked++] = d;
  }
  unsigned mask = 0;
  for (const char *c = weekend; *c; c++)
    if (*c >= '1' && *c <= '7') mask |= 1u << (*c - '1');
  wd_year y = {.year = year, .weekend = mask, .off = off, .n_off = n_off, .worked = worked, .n_worked = n_worked};
  char err[160];
  if (wd_cal_set_year(cal, &y, err, sizeof err) != 0)
    log_error("transfers: calendar year %d as stored is refused (%s); counted as not entered", year, err);
}

int store_settings_load(srv_ctx *ctx, tr_settings *s) {
  PGresult *ys = db_q(ctx->db, "SELECT year, array_to_string(weekend, ',') FROM calendar_years ORDER BY year", 0);
  if (!ys) return -1;
  PGresult *ds = db_q(ctx->db, "SELECT year, day::text, kind FROM calendar_days ORDER BY calendar_days.day", 0);
  if (!ds) {
    PQclear(ys);
    return -1;
  }
  for (int i = 0; i < PQntuples(ys); i++) load_year(s->cal, atoi(PQgetvalue(ys, i, 0)), PQgetvalue(ys, i, 1), ds);
  PQclear(ds);
  PQclear(ys);
  for (size_t i = 0; i < sizeof s->rules / sizeof s->rules[0]; i++) s->rules[i].unit = AU(NONE);
  PGresult *r = db_q(ctx->db,
                     "SELECT step, unit, days, count_from, roll, (SELECT secondment_alert_days FROM policy) "
                     "FROM policy_rules RIGHT JOIN (SELECT 1) one ON true",
                     0);
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    s->alert_days = atoi(PQgetvalue(r, i, 5));
    if (PQgetisnull(r, i, 0)) continue;
    int step = atoi(PQgetvalue(r, i, 0));
    if (step < 1 || step >= (int)(sizeof s->rules / sizeof s->rules[0])) continue;
    s->rules[step] = (tr_rule){.unit = atoi(PQgetvalue(r, i, 1)),
                               .days = atoi(PQgetvalue(r, i, 2)),
                               .count_from = atoi(PQgetvalue(r, i, 3)),
                               .roll = PQgetvalue(r, i, 4)[0] == 't'};
  }
  PQclear(r);
  return 0;
}

int store_settings_version(srv_ctx *ctx, long long *version) {
  PGresult *r = db_q(ctx->db, "SELECT version FROM settings_version", 0);
  if (!r) return -1;
  *version = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}
