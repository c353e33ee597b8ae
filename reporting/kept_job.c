/* The kept counts' background job: today's kept sets of the shipped templates warmed over the
 * whole deployment (each top unit) when the day changes in Vietnam and at start (so a warm-up
 * missed while the service was down is taken at the next start), so that the first report of a
 * day is answered from kept counts; then, the same way, the past days reports are asked for
 * most (rdate_report_days: the first of the month, the last 30 June, 31 December of last year),
 * so that their first report is not a count of every leaf either. The work is bounded: three
 * past days, once a day, each after its first warm-up re-counting only the leaves records
 * marked since; none on a hot standby (there every leaf would be counted each time and nothing
 * kept: kept.c); HOSO_REPORTING_KEPT_PAST=0 leaves the past days out. And the sets no report
 * used for HOSO_REPORTING_KEPT_DAYS days dropped. It runs on its own thread and connections: a report asked meanwhile counts for
 * itself and nothing waits on the job. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cfg.h"
#include "kept.h"
#include "log.h"
#include "rdate.h"

static srv_periodic *job;
static const tok_claims job_claims = {.sub = "reporting", .username = "reporting (kept counts)", .scope = "*"};

typedef struct {
  tpl *t;
  rp_when w;
  rp_unit u;
  rp_kept k;
  db_conn *own;
  char err[256];
} warm_job;

static int warm_tx(srv_ctx *ctx, void *p) {
  warm_job *j = p;
  rp_rows rows;
  return rp_kept_rows(ctx, j->own, j->t, &j->w, &j->u, &j->k, &rows, j->err, sizeof j->err);
}

static int save_tx(srv_ctx *ctx, void *p) {
  warm_job *j = p;
  return rp_kept_save(ctx, j->w.as_of, &j->k);
}

int rp_kept_warm(srv_ctx *ctx, const char *code, const char *root, rdate day) {
  Hoso__Reporting__V1__ReportTemplate *t = NULL;
  if (rp_template_get(ctx, "template", code, 0, &t)) return -1;
  warm_job j;
  memset(&j, 0, sizeof j);
  char err[512];
  if (tpl_parse(t->definition, "template", &j.t, err, sizeof err) != 0)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "template %s does not parse: %s", code, err);
  j.w.day = day;
  rdate_fmt(j.w.day, j.w.as_of);
  int rc = 1;
  if (rp_kept_applies(j.t, &j.w) && !j.t->people) {
    j.u = (rp_unit){.id = root, .path = root, .name = root};
    j.own = ctx->db;
    j.k = (rp_kept){.code = t->code, .version = t->version};
    rc = rp_read_tx(ctx, warm_tx, &j) == 0 && srv_tx(ctx, DB_READ_COMMITTED, save_tx, &j) == 0 ? 0 : -1;
    if (rc == 0)
      log_info("kept counts: %s of %s for %s warmed (%zu leaves counted)", code, root, j.w.as_of, j.k.counted);
  }
  tpl_free(j.t);
  return rc;
}

typedef struct {
  const char **roots;
  size_t n;
  int standby; /* the read connection is a hot standby's */
} roots_arg;

static int roots_tx(srv_ctx *ctx, void *p) {
  roots_arg *a = p;
  PGresult *r = db_q(ctx->db, "SELECT pg_is_in_recovery()", 0);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  a->standby = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  return rp_kept_roots(ctx, &a->roots, &a->n);
}

/* Every shipped template of every root for day; 0, or -1 when one failed (logged). */
static int warm_day(srv_ctx *ctx, const roots_arg *a, rdate day) {
  int failed = 0;
  char d[11];
  rdate_fmt(day, d);
  for (size_t i = 0; i < a->n; i++)
    for (size_t s = 0; rp_template_shipped(s); s++) {
      if (rp_kept_warm(ctx, rp_template_shipped(s), a->roots[i], day) < 0) {
        grpc_status_code code;
        const char *msg = srv_fail_take(ctx, &code);
        log_warn("kept counts: warming %s of %s for %s: %s", rp_template_shipped(s), a->roots[i], d,
                 msg ? msg : "database error");
        failed = 1;
      }
    }
  return failed ? -1 : 0;
}

static char warmed[11]; /* the day last warmed (one job thread) */

static long kept_round(srv_ctx *ctx, void *unused) {
  (void)unused;
  ctx->auth = &job_claims;
  ctx->request_id = "kept-counts";
  char today[11];
  rdate_fmt(rp_today(), today);
  if (strcmp(today, warmed) != 0 && cfg_bool("HOSO_REPORTING_KEPT", 1)) {
    roots_arg a = {NULL, 0, 0};
    if (rp_read_tx(ctx, roots_tx, &a) != 0) {
      grpc_status_code code;
      const char *msg = srv_fail_take(ctx, &code);
      log_warn("kept counts: the deployment's top units unreadable (%s); trying again in a minute",
               msg ? msg : "database error");
      return 60000;
    }
    rdate day = rp_today(), past[3];
    int failed = warm_day(ctx, &a, day) != 0;
    if (!failed && !a.standby && cfg_bool("HOSO_REPORTING_KEPT_PAST", 1)) {
      int n = rdate_report_days(day, past);
      for (int i = 0; i < n; i++) failed |= warm_day(ctx, &a, past[i]) != 0;
    }
    if (failed) return 60000;
    memcpy(warmed, today, sizeof warmed);
    long gone = rp_kept_prune(ctx, (long)cfg_int("HOSO_REPORTING_KEPT_DAYS", 35, 1, 3660));
    if (gone > 0) log_info("kept counts: %ld sets unused for %ld days dropped", gone,
                           (long)cfg_int("HOSO_REPORTING_KEPT_DAYS", 35, 1, 3660));
  }
  /* until just after the next midnight in Vietnam (checked at least hourly) */
  long now = (long)(time(NULL) + 7 * 3600) % 86400;
  long ms = (86400 - now) * 1000 + 5000;
  return ms < 3600000 ? ms : cfg_int("HOSO_REPORTING_KEPT_CHECK_MS", 3600000, 100, 86400000);
}

int rp_kept_job_start(void) {
  return (job = srv_periodic_start("kept-counts", "reporting", kept_round, NULL,
                                   cfg_int("HOSO_REPORTING_KEPT_FIRST_MS", 2000, 0, 3600000)))
             ? 0
             : -1;
}

void rp_kept_job_stop(void) {
  srv_periodic_stop(job);
  job = NULL;
}
