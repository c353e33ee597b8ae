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
  long long v;
  if (store_settings_version(ctx, &v) != 0) return -1;
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

void settings_today(char out[11]) { wd_format(wd_vietnam_day((int64_t)time(NULL)), out); }

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
  deadline_open *rows;
  int total;
  /* A secondment's end is its own date, not the policy's. */
  SRV_TRY(deadlines_open(ctx, SK(SECONDMENT_END), &rows, &total));
  deadline_open *moved = srv_alloc(ctx, (size_t)(total + 1) * sizeof *moved);
  for (int i = 0; i < total; i++) {
    char *due = srv_alloc(ctx, 11);
    int est = 0;
    if (settings_due(st->s, rows[i].step, rows[i].effective_date, rows[i].previous_date, due, &est) != 0) due[0] = 0;
    if (strcmp(due, rows[i].due_date) == 0 && est == rows[i].estimated) continue;
    moved[*st->n] = rows[i];
    moved[*st->n].due_date = due;
    moved[*st->n].estimated = est;
    (*st->n)++;
  }
  SRV_TRY(deadlines_redate(ctx, moved, *st->n));
  if (*st->n) log_info("transfers: %d open deadlines counted again (settings version %lld)", *st->n, st->s->version);
  return 0;
}

int settings_recompute(srv_ctx *ctx, const tr_settings *s, int *n) {
  *n = 0;
  recompute_st st = {s, n};
  return srv_all_units(ctx, recompute_all, &st);
}
