/* The reporting service's figures (docs/BENCHMARKS.md): BM01/BNV of the caller's whole unit
 * through RunReport (XLSX and CSV, today, as of 31 December of last year — a day the service
 * warms — and as of 15 September of last year — one it does not) beside its floor —
 * the same aggregation's SQL, built by the service's own code and run bare on the read
 * database — and a streamed XLSX export of every person with the reporting process's peak
 * memory. Against running services (HOSO_IDENTITY_ADDR, HOSO_REPORTING_ADDR,
 * HOSO_ADMIN_PASSWORD; the floor on HOSO_REPORTING_PG_DSN or HOSO_PG_DSN). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"
#include "pred.h"
#include "kept.h"
#include "reporting.h"
#include "tpl.h"

static char bearer[4096];
static cli_chan *id_ch, *rep_ch;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A server-streamed file: its bytes counted, the time to the last one; -1 on failure. */
static double stream(const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *d, long *bytes) {
  cli_md md[1] = {{"authorization", bearer}};
  double t0 = now_ms();
  cli_stream *s = cli_stream_open(rep_ch, method, md, 1, 600000);
  if (!s) return -1;
  cli_stream_send(s, req);
  cli_stream_close_send(s);
  ProtobufCMessage *m;
  *bytes = 0;
  while (cli_stream_recv(s, d, &m) == 1) {
    Hoso__Reporting__V1__FileChunk *c = d == &hoso__reporting__v1__file_chunk__descriptor
                                            ? (Hoso__Reporting__V1__FileChunk *)m
                                            : ((Hoso__Reporting__V1__ExportSearchResponse *)m)->file;
    if (c) *bytes += (long)c->chunk.len;
    protobuf_c_message_free_unpacked(m, NULL);
  }
  cli_status st;
  grpc_status_code code = cli_stream_finish(s, &st);
  if (code != GRPC_STATUS_OK) {
    fprintf(stderr, "bench_reporting: %s: %s %s\n", method, cli_status_name(code), st.message);
    return -1;
  }
  return now_ms() - t0;
}

static double run_bm01(int format, const char *as_of, long *bytes) {
  Hoso__Reporting__V1__RunReportRequest req = HOSO__REPORTING__V1__RUN_REPORT_REQUEST__INIT;
  Hoso__Reporting__V1__When when = HOSO__REPORTING__V1__WHEN__INIT;
  req.template_ = "BM01/BNV";
  req.format = (Hoso__Reporting__V1__Format)format;
  when.as_of = (char *)as_of;
  req.when = &when;
  return stream("/hoso.reporting.v1.Reporting/RunReport", &req.base, &hoso__reporting__v1__file_chunk__descriptor, bytes);
}

/* BM01's plain aggregation as the service builds it (rpc_run.c's plain_rows), every parameter
 * written as a literal: the statement a person would run in psql. malloc'd. */
static char *floor_sql(PGconn *db, const tpl *t, const rp_unit *u, const char *as_of) {
  qb q;
  qb_init(&q);
  rp_when w;
  memset(&w, 0, sizeof w);
  rdate_parse(as_of, &w.day);
  snprintf(w.as_of, sizeof w.as_of, "%s", as_of);
  char err[300];
  qb_add(&q, "SELECT ");
  rp_unit_key_sql(&q, u);
  rp_counts_sql(&q, t, &w, u, err, sizeof err);
  qb_add(&q, " GROUP BY 1");
  /* $n → the literal, from the highest number down so $12 is not read as $1 */
  size_t cap = q.len * 2 + 4096;
  char *out = malloc(cap);
  snprintf(out, cap, "%s", q.sql);
  for (int i = q.n; i >= 1; i--) {
    char ph[16];
    snprintf(ph, sizeof ph, "$%d", i);
    char *lit = PQescapeLiteral(db, q.params[i - 1], strlen(q.params[i - 1]));
    char *at;
    while ((at = strstr(out, ph)) && !(at[strlen(ph)] >= '0' && at[strlen(ph)] <= '9')) {
      size_t pre = (size_t)(at - out), ll = strlen(lit), pl = strlen(ph), rest = strlen(at + pl);
      if (pre + ll + rest + 1 > cap) out = realloc(out, cap = (pre + ll + rest + 1) * 2);
      at = out + pre;
      memmove(at + ll, at + pl, rest + 1);
      memcpy(at, lit, ll);
    }
    PQfreemem(lit);
  }
  qb_free(&q);
  return out;
}

static double time_sql(PGconn *db, const char *sql) {
  double t0 = now_ms();
  PGresult *r = PQexec(db, "BEGIN");
  PQclear(r);
  r = PQexec(db, "SELECT set_config('hoso.scope', '*', true)");
  PQclear(r);
  r = PQexec(db, sql);
  int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) fprintf(stderr, "bench_reporting: floor: %s", PQresultErrorMessage(r));
  PQclear(r);
  r = PQexec(db, "COMMIT");
  PQclear(r);
  return ok ? now_ms() - t0 : -1;
}

/* Changes 5 people's current facts in 5 different leaves (round `round`), as a superuser on
 * records' tables with their triggers. 0 / -1. */
static int change_facts(const char *dsn, int round) {
  PGconn *c = PQconnectdb(dsn);
  char sql[900];
  snprintf(sql, sizeof sql,
           "BEGIN; SELECT set_config('hoso.scope', '*', true); "
           "UPDATE records.fact_periods f SET degree_code = CASE WHEN degree_code = 'TS' THEN 'DH' ELSE 'TS' END "
           "WHERE known_to = 'infinity' AND record_id IN (SELECT DISTINCT ON (unit_path) record_id FROM records.fact_periods "
           "WHERE known_to = 'infinity' AND valid_to = 'infinity' ORDER BY unit_path, record_id OFFSET %d LIMIT 5); COMMIT;",
           (round * 37) % 500);
  PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
  int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) fprintf(stderr, "bench_reporting: change: %s", PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return ok ? 0 : -1;
}

static long vm_hwm_kb(const char *pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%s/status", pid);
  FILE *f = fopen(path, "r");
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) kb = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  int runs = 5;
  const char *floor_file = NULL, *pid = NULL, *change_dsn = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--floor-sql") && i + 1 < argc)
      floor_file = argv[++i];
    else if (!strcmp(argv[i], "--pid") && i + 1 < argc)
      pid = argv[++i];
    else if (!strcmp(argv[i], "--change-dsn") && i + 1 < argc)
      change_dsn = argv[++i];
    else {
      fprintf(stderr, "usage: bench_reporting [--runs N] [--floor-sql FILE] [--pid REPORTING_PID] [--change-dsn DSN]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > 100) runs = 5;
  const char *pw = getenv("HOSO_ADMIN_PASSWORD");
  if (!pw) {
    fprintf(stderr, "bench_reporting: set HOSO_ADMIN_PASSWORD\n");
    return 2;
  }
  id_ch = cli_open(cfg_service_addr("identity"));
  rep_ch = cli_open(cfg_service_addr("reporting"));
  Hoso__Identity__V1__LoginRequest lr = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  lr.username = "admin";
  lr.password = (char *)pw;
  ProtobufCMessage *out = NULL;
  cli_status st;
  if (!id_ch || !rep_ch ||
      cli_call(id_ch, "/hoso.identity.v1.Identity/Login", &lr.base, &hoso__identity__v1__login_response__descriptor, &out,
               NULL, 0, 30000, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "bench_reporting: login failed\n");
    return 1;
  }
  snprintf(bearer, sizeof bearer, "Bearer %s", ((Hoso__Identity__V1__LoginResponse *)out)->access_token);
  protobuf_c_message_free_unpacked(out, NULL);
  cli_md md[1] = {{"authorization", bearer}};

  /* the admin's unit, and BM01's definition as stored */
  Hoso__Identity__V1__WhoAmIRequest wr = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  if (cli_call(id_ch, "/hoso.identity.v1.Identity/WhoAmI", &wr.base, &hoso__identity__v1__who_am_iresponse__descriptor, &out,
               md, 1, 30000, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "bench_reporting: WhoAmI: %s\n", st.message);
    return 1;
  }
  Hoso__Identity__V1__Account *acc = ((Hoso__Identity__V1__WhoAmIResponse *)out)->account;
  rp_unit u = {.id = strdup(acc->unit_id), .path = strdup(acc->unit_path)};
  protobuf_c_message_free_unpacked(out, NULL);
  Hoso__Reporting__V1__GetReportTemplateRequest tr = HOSO__REPORTING__V1__GET_REPORT_TEMPLATE_REQUEST__INIT;
  tr.code = "BM01/BNV";
  if (cli_call(rep_ch, "/hoso.reporting.v1.Reporting/GetReportTemplate", &tr.base,
               &hoso__reporting__v1__get_report_template_response__descriptor, &out, md, 1, 30000, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "bench_reporting: GetReportTemplate: %s\n", st.message);
    return 1;
  }
  tpl *t = NULL;
  char err[300];
  if (tpl_parse(((Hoso__Reporting__V1__GetReportTemplateResponse *)out)->template_->definition, "d", &t, err, sizeof err)) {
    fprintf(stderr, "bench_reporting: %s\n", err);
    return 1;
  }
  protobuf_c_message_free_unpacked(out, NULL);

  time_t now = time(NULL) + 7 * 3600; /* the day in Vietnam, as the service's */
  struct tm tm;
  gmtime_r(&now, &tm);
  char today[16], past[16], other[16];
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  snprintf(past, sizeof past, "%04d-12-31", (tm.tm_year + 1900 - 1) % 10000);
  snprintf(other, sizeof other, "%04d-09-15", (tm.tm_year + 1900 - 1) % 10000);
  /* the days the service warms: today and rdate_report_days' */
  rdate td, ref[3];
  rdate_parse(today, &td);
  int n_warm = 1 + rdate_report_days(td, ref);

  const char *dsn = getenv("HOSO_REPORTING_PG_DSN");
  if (!dsn || !*dsn) dsn = getenv("HOSO_PG_DSN");
  PGconn *db = dsn ? PQconnectdb(dsn) : NULL;
  if (!db || PQstatus(db) != CONNECTION_OK) {
    fprintf(stderr, "bench_reporting: no database for the floor (HOSO_REPORTING_PG_DSN or HOSO_PG_DSN)\n");
    return 1;
  }
  PGresult *cnt = PQexec(db, "BEGIN; SELECT set_config('hoso.scope', '*', true)");
  PQclear(cnt);
  cnt = PQexec(db, "SELECT count(*) FROM records.report_facts WHERE known_to = 'infinity' AND valid_to = 'infinity'");
  printf("people on file (current periods): %s\n", PQresultStatus(cnt) == PGRES_TUPLES_OK ? PQgetvalue(cnt, 0, 0) : "?");
  PQclear(cnt);
  cnt = PQexec(db, "COMMIT");
  PQclear(cnt);

  if (change_dsn) {
    /* the service warms the kept counts of today and of the past days asked most in the
     * background after it starts (kept_job.c): the first requests are timed once that is done,
     * as an officer's first report of the day would be; 15 September of last year is not
     * warmed (its first request counts every leaf) */
    PGconn *adm = PQconnectdb(change_dsn);
    double waited = 0;
    char nw[16];
    snprintf(nw, sizeof nw, "%d", n_warm);
    for (int i = 0; PQstatus(adm) == CONNECTION_OK && i < 6000; i++) {
      const char *v[1] = {nw};
      PGresult *r = PQexecParams(adm, "SELECT count(DISTINCT day) >= $1::int FROM reporting.kept_sets "
                                      "WHERE template = 'BM01/BNV'", 1, NULL, v, NULL, NULL, 0);
      int done = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "t");
      PQclear(r);
      if (done) break;
      usleep(100000);
      waited += 0.1;
    }
    PQfinish(adm);
    printf("kept counts of %d days (today's and the past days asked most) warmed by the service in the background "
           "(waited %.1f s after the start)\n", n_warm, waited);
  }
  const char *days[3] = {today, past, other};
  for (int k = 0; k < 3; k++) {
    char *sql = floor_sql(db, t, &u, days[k]);
    if (floor_file && k == 0) {
      FILE *f = fopen(floor_file, "w");
      if (f) fprintf(f, "BEGIN;\nSELECT set_config('hoso.scope', '*', true);\n%s;\nCOMMIT;\n", sql), fclose(f);
    }
    double fl[100], xl[100], cs[100], ch[100];
    long bytes = 0;
    time_sql(db, sql); /* warm the cache once */
    /* the first request of today and of 31 December: from the warmed kept counts; of 15
     * September: every leaf counted */
    double first = run_bm01(1, days[k], &bytes);
    printf("BM01/BNV as of %s (%s): first request XLSX %.1f ms\n", days[k],
           k == 0 ? "today, warmed" : k == 1 ? "past, warmed" : "past, not warmed", first);
    for (int i = 0; i < runs; i++) {
      fl[i] = time_sql(db, sql);
      xl[i] = run_bm01(1, days[k], &bytes);
      cs[i] = run_bm01(3, days[k], &bytes);
      if (fl[i] < 0 || xl[i] < 0 || cs[i] < 0) return 1;
    }
    double f = median(fl, runs), x = median(xl, runs), c = median(cs, runs);
    printf("BM01/BNV as of %s (median of %d): floor (bare SQL) %.1f ms; RunReport XLSX %.1f ms (%.2fx), CSV %.1f ms (%.2fx)\n",
           days[k], runs, f, x, x / f, c, c / f);
    if (change_dsn) {
      /* a few changes between requests: 5 people's degree in 5 leaves, as a write of records
       * does (their leaves' marks move in the same transaction), then the request */
      for (int i = 0; i < runs; i++) {
        if (change_facts(change_dsn, i) != 0) return 1;
        ch[i] = run_bm01(1, days[k], &bytes);
        if (ch[i] < 0) return 1;
      }
      double a = median(ch, runs);
      printf("BM01/BNV as of %s after 5 people changed (median of %d): RunReport XLSX %.1f ms (%.2fx the floor)\n", days[k],
             runs, a, a / f);
    }
    free(sql);
  }

  /* every person at work of the unit as XLSX, streamed */
  Hoso__Reporting__V1__ExportSearchRequest er = HOSO__REPORTING__V1__EXPORT_SEARCH_REQUEST__INIT;
  er.format = HOSO__REPORTING__V1__FORMAT__FORMAT_XLSX;
  long before = pid ? vm_hwm_kb(pid) : -1, bytes = 0;
  double ms = stream("/hoso.reporting.v1.Reporting/ExportSearch", &er.base,
                     &hoso__reporting__v1__export_search_response__descriptor, &bytes);
  if (ms < 0) return 1;
  printf("ExportSearch XLSX of the whole unit: %.1f s, %ld bytes", ms / 1e3, bytes);
  if (pid) printf("; reporting's peak resident memory %ld MB before, %ld MB after", before / 1024, vm_hwm_kb(pid) / 1024);
  printf("\n");
  tpl_free(t);
  PQfinish(db);
  free((char *)u.id);
  free((char *)u.path);
  cli_close(id_ch);
  cli_close(rep_ch);
  return 0;
}
