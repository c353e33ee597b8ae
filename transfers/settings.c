/* The policy and the calendar in force, kept in memory per process and reloaded when the
 * settings version moves; due dates of steps counted with the one engine (common/workdays.h);
 * every open deadline counted again after a change. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "transfers.h"

#define AU(x) HOSO__TRANSFERS__V1__ALLOWANCE_UNIT__ALLOWANCE_UNIT_##x
#define CF(x) HOSO__TRANSFERS__V1__COUNT_FROM__COUNT_FROM_##x

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Every copy loaded stays reachable from here until the process ends: a handler may still hold
 * an older one, and changes of the settings are rare. */
static tr_settings *current;

int settings_get(srv_ctx *ctx, const tr_settings **out) {
  PGresult *r = db_q(ctx->db, "SELECT version FROM settings_version", 0);
  if (!r) return -1;
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return settings_at(ctx, v, out);
}

int settings_at(srv_ctx *ctx, long long v, const tr_settings **out) {
  int rc = 0;
  pthread_mutex_lock(&lock);
  if (!current || current->version != v) {
    tr_settings *s = calloc(1, sizeof *s);
    if (!s || !(s->cal = wd_cal_new())) {
      free(s);
      rc = srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
    } else {
      s->version = v;
      if (store_settings_load(ctx, s) != 0) {
        wd_cal_free(s->cal);
        free(s);
        rc = -1;
      } else {
        s->older = current;
        current = s;
      }
    }
  }
  *out = rc == 0 ? current : NULL;
  pthread_mutex_unlock(&lock);
  return rc;
}

void settings_today(char out[11]) {
  time_t t = time(NULL) + 7 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  wd_format(wd_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), out);
}

int settings_due(const tr_settings *s, int step, const char *effective, const char *previous, char due[11],
                 int *estimated) {
  *estimated = 0;
  if (step < 1 || step >= (int)(sizeof s->rules / sizeof s->rules[0])) return 1;
  const tr_rule *rule = &s->rules[step];
  if (rule->unit != AU(CALENDAR_DAYS) && rule->unit != AU(WORKING_DAYS)) return 1;
  const char *from = rule->count_from == CF(EFFECTIVE_DATE) && effective && *effective ? effective : previous;
  wd_day start, d;
  if (wd_parse(from, &start) != 0) return 1;
  wd_allowance a = {.unit = rule->unit == AU(WORKING_DAYS) ? WD_WORKING_DAYS : WD_CALENDAR_DAYS,
                    .days = rule->days,
                    .roll_to_working_day = rule->roll};
  unsigned flags = 0;
  if (wd_due(s->cal, &a, start, &d, &flags) != 0) return 1;
  wd_format(d, due);
  *estimated = (flags & WD_ESTIMATED) != 0;
  return 0;
}

typedef struct {
  const tr_settings *s;
  int *n;
} recompute_st;

/* Every unit's deadlines: the caller is the system administrator, whose change it is. */
static int recompute_all(srv_ctx *ctx, void *p) {
  recompute_st *st = p;
  const tr_settings *s = st->s;
  int *n = st->n;
  PGresult *r = db_q(ctx->db,
                     "SELECT id, step, coalesce(effective_date::text, ''), previous_date::text, "
                     "coalesce(due_date::text, ''), estimated FROM deadlines WHERE step <> $1::smallint",
                     1, srv_printf(ctx, "%d", SK(SECONDMENT_END)));
  if (!r) return -1;
  int rows = PQntuples(r);
  /* The rows whose due date moves, as three array literals for one UPDATE. */
  size_t cap = (size_t)rows * 24 + 4;
  char *ids = srv_alloc(ctx, cap), *dues = srv_alloc(ctx, cap), *ests = srv_alloc(ctx, (size_t)rows * 2 + 4);
  size_t li = 0, ld = 0, le = 0;
  ids[li++] = dues[ld++] = ests[le++] = '{';
  for (int i = 0; i < rows; i++) {
    char due[11] = "";
    int est = 0;
    if (settings_due(s, atoi(PQgetvalue(r, i, 1)), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), due, &est) != 0)
      due[0] = 0;
    if (strcmp(due, PQgetvalue(r, i, 4)) == 0 && est == (PQgetvalue(r, i, 5)[0] == 't')) continue;
    li += (size_t)snprintf(ids + li, cap - li, "%s%s", *n ? "," : "", PQgetvalue(r, i, 0));
    ld += (size_t)snprintf(dues + ld, cap - ld, "%s%s", *n ? "," : "", *due ? due : "NULL");
    le += (size_t)snprintf(ests + le, (size_t)rows * 2 + 4 - le, "%s%c", *n ? "," : "", est ? 't' : 'f');
    (*n)++;
  }
  PQclear(r);
  snprintf(ids + li, cap - li, "}");
  snprintf(dues + ld, cap - ld, "}");
  snprintf(ests + le, (size_t)rows * 2 + 4 - le, "}");
  int rc = 0;
  if (*n) {
    /* The deadlines, then the copies kept with the transfer steps and the transfers' lists. */
    rc = db_cmd(ctx->db,
                "WITH u AS (SELECT * FROM unnest($1::bigint[], $2::date[], $3::boolean[]) AS u(id, due, est)), "
                "d AS (UPDATE deadlines SET due_date = u.due, estimated = u.est FROM u WHERE deadlines.id = u.id "
                "  RETURNING deadlines.transfer_id, u.due, u.est), "
                "s AS (UPDATE transfer_steps ts SET due_date = d.due, due_estimated = d.est FROM d "
                "  WHERE ts.transfer_id = d.transfer_id AND ts.done_at IS NULL RETURNING ts.transfer_id) "
                "UPDATE transfers t SET due_date = coalesce(d.due, 'infinity') FROM d WHERE t.id = d.transfer_id",
                3, ids, dues, ests);
  }
  if (rc == 0 && *n) log_info("transfers: %d open deadlines counted again (settings version %lld)", *n, s->version);
  return rc;
}

int settings_recompute(srv_ctx *ctx, const tr_settings *s, int *n) {
  *n = 0;
  recompute_st st = {s, n};
  return srv_all_units(ctx, recompute_all, &st);
}
