/* GetComplianceReport: the semi-annual report on record management (000 Đ13, 001 Đ13, 003
 * Đ10) for each unit directly below the caller's unit and the unit itself — records at the
 * period's end, how complete (form 2C's required fields), how current (changes entered within
 * the policy's deadline after taking effect, from the versions' times and effective dates),
 * transfer steps on time and overdue (transfers) and accounts in use (identity). The due dates
 * and the deadline are the deployment's policy (HOSO_COMPLIANCE_DUE_DATES,
 * HOSO_UPDATE_DEADLINE_DAYS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "reporting.h"
#include "scope.h"

typedef Hoso__Reporting__V1__UnitCompliance unit_c;

typedef struct {
  rp_unit u;
  rp_unit *units;
  size_t n_units;
  char from[11], to[11];
  int deadline;
  unit_c **rows;
  unit_c *total;
} job;

static unit_c *row_of(job *j, const char *key) {
  for (size_t i = 0; i < j->n_units; i++)
    if (!strcmp(j->units[i].id, key)) return j->rows[i];
  return NULL;
}

static int compliance_tx(srv_ctx *ctx, void *p) {
  job *j = p;
  rp_when w;
  memset(&w, 0, sizeof w);
  rdate_parse(j->to, &w.day);
  snprintf(w.as_of, sizeof w.as_of, "%s", j->to);
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT ");
  rp_unit_key_sql(&q, &j->u);
  qb_add(&q, ", count(*), count(*) FILTER (WHERE f.missing_2c = 0)");
  rp_from_where(&q, &w, &j->u, NULL, 1, NULL);
  qb_add(&q, " GROUP BY 1");
  PGresult *r = q.oom ? NULL : db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
  qb_free(&q);
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    unit_c *c = row_of(j, PQgetvalue(r, i, 0));
    if (!c) continue;
    c->records = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    c->complete = strtoll(PQgetvalue(r, i, 2), NULL, 10);
  }
  PQclear(r);
  char dl[16];
  snprintf(dl, sizeof dl, "%d", j->deadline);
  /* the versions entered in the period, by the unit that managed the record then (of the
   * records the caller may read now: records' policy 040); a transfer package's past (versions
   * 0 and below) was entered in another deployment */
  r = db_q(ctx->db,
           "SELECT CASE WHEN nlevel(v.unit_path) > nlevel($1::public.ltree) THEN subpath(v.unit_path, nlevel($1::public.ltree), 1)::text "
           "ELSE $2 END, count(*), "
           "count(*) FILTER (WHERE (v.changed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - v.effective_date <= $5::int), "
           "to_char(max(v.changed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
           "FROM records.report_versions v WHERE v.unit_path OPERATOR(public.<@) $1::public.ltree AND v.version > 0 "
           "AND v.changed_at >= ($3::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') "
           "AND v.changed_at < (($4::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') "
           /* bulk loads of dossiers that already existed on paper are no late changes */
           "AND v.action NOT IN ('SUBMIT', 'APPROVE', 'REJECT', 'IMPORT') GROUP BY 1",
           5, j->u.path, j->u.id, j->from, j->to, dl);
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    unit_c *c = row_of(j, PQgetvalue(r, i, 0));
    if (!c) continue;
    c->changes = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    c->changes_on_time = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    c->changes_late = c->changes - c->changes_on_time;
    c->last_update = srv_strdup(ctx, PQgetvalue(r, i, 3));
  }
  PQclear(r);
  for (size_t i = 0; i < j->n_units; i++) {
    unit_c *c = j->rows[i];
    j->total->records += c->records;
    j->total->complete += c->complete;
    j->total->changes += c->changes;
    j->total->changes_on_time += c->changes_on_time;
    j->total->changes_late += c->changes_late;
    if (c->last_update && (!j->total->last_update || strcmp(c->last_update, j->total->last_update) > 0))
      j->total->last_update = c->last_update;
  }
  return 0;
}

/* The other services' columns, asked as reporting for the caller's unit before the read
 * transaction; a service that cannot answer leaves its columns at 0 with a note. */
static int peer_columns(srv_ctx *ctx, job *j, const char **notes, size_t *n_notes) {
  Hoso__Transfers__V1__CountStepsResponse *steps;
  const char *note = NULL;
  int rc = rp_peer_step_counts(ctx, j->u.id, j->from, j->to, &steps, &note);
  if (rc < 0) return -1;
  if (note) notes[(*n_notes)++] = note;
  for (size_t i = 0; rc == 0 && i < steps->n_units; i++) {
    unit_c *c = row_of(j, steps->units[i]->unit_id);
    if (!c) continue;
    c->transfers_on_time = steps->units[i]->on_time;
    c->transfers_overdue = steps->units[i]->overdue;
    j->total->transfers_on_time += c->transfers_on_time;
    j->total->transfers_overdue += c->transfers_overdue;
  }
  Hoso__Identity__V1__CountAccountUseResponse *use;
  note = NULL;
  if ((rc = rp_peer_account_use(ctx, j->u.id, j->from, j->to, &use, &note)) < 0) return -1;
  if (note) notes[(*n_notes)++] = note;
  for (size_t i = 0; rc == 0 && i < use->n_units; i++) {
    unit_c *c = row_of(j, use->units[i]->unit_id);
    if (!c) continue;
    c->accounts_in_use = use->units[i]->in_use;
    j->total->accounts_in_use += c->accounts_in_use;
  }
  return 0;
}

/* "2026-H1" → its first and last days. 0 / -1. */
static int period_days(const char *period, int *year, int *half, char from[11], char to[11]) {
  if (!period || strlen(period) != 7 || period[4] != '-' || period[5] != 'H' || (period[6] != '1' && period[6] != '2'))
    return -1;
  for (int i = 0; i < 4; i++)
    if (period[i] < '0' || period[i] > '9') return -1;
  *year = atoi(period);
  *half = period[6] - '0';
  memcpy(from, period, 4);
  memcpy(to, period, 4);
  memcpy(from + 4, *half == 1 ? "-01-01" : "-07-01", 7);
  memcpy(to + 4, *half == 1 ? "-06-30" : "-12-31", 7);
  return 0;
}

RP_HANDLER(rpc_get_compliance_report) {
  const Hoso__Reporting__V1__GetComplianceReportRequest *in = (const void *)req;
  job j;
  memset(&j, 0, sizeof j);
  if (srv_need_right(ctx, RIGHT_READ, 0, "the compliance report needs a READER role or above")) return -1;
  rdate now = rp_today();
  char period[16];
  int year, half;
  if (in->period && *in->period) {
    snprintf(period, sizeof period, "%.15s", in->period);
  } else { /* the last period ended */
    snprintf(period, sizeof period, "%04d-H%d", (now.m <= 6 ? now.y - 1 : now.y) % 10000, now.m <= 6 ? 2 : 1);
  }
  if (period_days(period, &year, &half, j.from, j.to) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "period: must be YYYY-H1 or YYYY-H2 (got \"%.20s\")", period);
  char today[11];
  rdate_fmt(now, today);
  if (year < 1945 || strcmp(j.from, today) > 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "period: %s has not begun", period);
  if (strcmp(j.to, today) > 0) snprintf(j.to, sizeof j.to, "%s", today); /* the period so far */
  j.deadline = (int)cfg_int("HOSO_UPDATE_DEADLINE_DAYS", 15, 0, 365);
  if (rp_unit_resolve(ctx, in->unit_id, &j.u) || rp_unit_children(ctx, &j.u, 2, &j.units, &j.n_units)) return -1;
  Hoso__Reporting__V1__GetComplianceReportResponse *out =
      srv_new(ctx, &hoso__reporting__v1__get_compliance_report_response__descriptor);
  j.rows = srv_alloc(ctx, (j.n_units ? j.n_units : 1) * sizeof *j.rows);
  for (size_t i = 0; i < j.n_units; i++) {
    unit_c *c = srv_new(ctx, &hoso__reporting__v1__unit_compliance__descriptor);
    c->unit_id = (char *)j.units[i].id;
    c->unit_name = (char *)j.units[i].name;
    c->unit_path = (char *)j.units[i].path;
    j.rows[i] = c;
  }
  j.total = srv_new(ctx, &hoso__reporting__v1__unit_compliance__descriptor);
  j.total->unit_id = (char *)j.u.id;
  j.total->unit_name = (char *)j.u.name;
  j.total->unit_path = (char *)j.u.path;
  const char **notes = srv_alloc(ctx, 2 * sizeof *notes);
  size_t n_notes = 0;
  if (peer_columns(ctx, &j, notes, &n_notes) != 0 || rp_read_tx(ctx, compliance_tx, &j) != 0) return -1;
  /* the due date of the period's report: the policy's day of the half-year (001: 25/5, 15/12) */
  const char *due = cfg_str("HOSO_COMPLIANCE_DUE_DATES", "05-25,12-15");
  const char *second = strchr(due, ',');
  out->period = srv_strdup(ctx, period);
  out->from = srv_strdup(ctx, j.from);
  out->to = srv_strdup(ctx, j.to);
  out->due_date = srv_printf(ctx, "%04d-%.5s", year, half == 1 || !second ? due : second + 1);
  out->update_deadline_days = j.deadline;
  out->units = j.rows;
  out->n_units = j.n_units;
  out->total = j.total;
  out->notes = (char **)notes;
  out->n_notes = n_notes;
  *resp = &out->base;
  return 0;
}
