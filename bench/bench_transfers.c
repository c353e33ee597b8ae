/* Figures of a running transfers service (./hoso bench): end-to-end transfers per second with 32
 * concurrent pairs of units (start → send → receive → the record moved in records) and the CPU
 * each process spends per transfer; ListDeadlines p50/p95/p99 over a province's open steps, next
 * to the same SQL run bare by pgbench on the same data (the floor). With HOSO_BENCH_FILL=1 it
 * first brings the deployment to 100 000 records and 5 000 open steps (docs/BENCHMARKS.md). */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "transfers.pb-c.h"

#define TR "/hoso.transfers.v1.Transfers/"
#define PAIRS 32
#define RUN_S 20
#define DEADLINE_CALLS 2000
#define TARGET_RECORDS 100000
#define TARGET_STEPS 5000

static cli_chan *id_ch, *rec_ch, *tr_ch;
static char bearer[8192];
static PGconn *db;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p) { return n ? v[(size_t)(p * (double)(n - 1))] : 0; }

static grpc_status_code call(cli_chan *ch, const char *m, const void *req, const ProtobufCMessageDescriptor *d,
                             void *out) {
  cli_md md = {"authorization", bearer};
  cli_status st;
  grpc_status_code c = cli_call(ch, m, req, d, out, &md, 1, 30000, &st);
  if (c != GRPC_STATUS_OK) fprintf(stderr, "bench_transfers: %s: %s %s\n", m, cli_status_name(c), st.message);
  return c;
}

static PGresult *sql(const char *q) {
  PGresult *r = PQexec(db, q);
  if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
    fprintf(stderr, "bench_transfers: %s: %s", q, PQerrorMessage(db));
    PQclear(r);
    return NULL;
  }
  return r;
}

/* q with every unit in scope (row-level security reads hoso.scope), in a transaction of its own. */
static PGresult *scoped(const char *q) {
  PQclear(sql("BEGIN"));
  PQclear(sql("SELECT set_config('hoso.scope', '*', true)"));
  PGresult *r = sql(q);
  PQclear(sql("COMMIT"));
  return r;
}

static long long sql_long(const char *q) {
  PGresult *r = scoped(q);
  long long n = r && PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

/* ------------------------------------------------------------ CPU of the processes ------ */

static long long ticks_of(long pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  unsigned long long ut = 0, stt = 0;
  /* fields after the command: state ppid ... utime(14) stime(15) */
  if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) == 2)
    return (long long)(ut + stt);
  return 0;
}

static long ppid_of(long pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  long pp = -1;
  if (p) sscanf(p + 2, "%*c %ld", &pp);
  return pp;
}

static long pid_file(const char *path) {
  FILE *f = fopen(path, "r");
  long pid = 0;
  if (f && fscanf(f, "%ld", &pid) != 1) pid = 0;
  if (f) fclose(f);
  return pid;
}

typedef struct {
  const char *name;
  long pid;
  long long t0, t1;
} proc_cpu;

static proc_cpu procs[5] = {{.name = "identity"}, {.name = "records"}, {.name = "transfers"}, {.name = "gateway"}, {.name = "postgres"}};

/* The PostgreSQL server and every process it started (the backends). */
static long long pg_ticks(long postmaster) {
  long long t = ticks_of(postmaster);
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && ppid_of(atol(e->d_name)) == postmaster) t += ticks_of(atol(e->d_name));
  if (d) closedir(d);
  return t;
}

static void cpu_mark(int end) {
  const char *run = getenv("HOSO_RUN_DIR");
  for (int i = 0; i < 5 && run; i++) {
    char path[512];
    if (i < 4)
      snprintf(path, sizeof path, "%s/%s.pid", run, procs[i].name);
    else
      snprintf(path, sizeof path, "%s/../pg/postmaster.pid", run);
    procs[i].pid = pid_file(path);
    long long t = procs[i].pid ? (i < 4 ? ticks_of(procs[i].pid) : pg_ticks(procs[i].pid)) : 0;
    if (end)
      procs[i].t1 = t;
    else
      procs[i].t0 = t;
  }
}

/* ------------------------------------------------------------ end to end ---------------- */

typedef struct {
  char unit[2][24], record[24];
  int done;
  double *lat;
  size_t n_lat, cap;
} pair;

static pair pairs[PAIRS];
static double stop_at;
static char today[11];

static Hoso__Transfers__V1__Scan the_scan = HOSO__TRANSFERS__V1__SCAN__INIT;

/* "ok" (done, the move delivered), "wait" (done, the move on its way) or "err". */
static const char *act(const char *method, const char *id) {
  char path[128];
  snprintf(path, sizeof path, TR "%s", method);
  const ProtobufCMethodDescriptor *md =
      protobuf_c_service_descriptor_get_method_by_name(&hoso__transfers__v1__transfers__descriptor, method);
  ProtobufCMessage *req = calloc(1, md->input->sizeof_message), *out = NULL;
  md->input->message_init(req);
  *(const char **)((char *)req + protobuf_c_message_descriptor_get_field_by_name(md->input, "transfer_id")->offset) = id;
  grpc_status_code c = call(tr_ch, path, req, md->output, &out);
  free(req);
  int delivered = 0;
  if (out) {
    const Hoso__Transfers__V1__Transfer *t =
        *(Hoso__Transfers__V1__Transfer **)((char *)out +
                                            protobuf_c_message_descriptor_get_field_by_name(md->output, "transfer")->offset);
    delivered = t->delivered;
    protobuf_c_message_free_unpacked(out, NULL);
  }
  return c != GRPC_STATUS_OK ? "err" : delivered ? "ok" : "wait";
}

static int wait_delivered(const char *id) {
  for (int i = 0; i < 3000; i++) {
    Hoso__Transfers__V1__GetTransferRequest g = HOSO__TRANSFERS__V1__GET_TRANSFER_REQUEST__INIT;
    g.transfer_id = (char *)id;
    Hoso__Transfers__V1__GetTransferResponse *o = NULL;
    if (call(tr_ch, TR "GetTransfer", &g, &hoso__transfers__v1__get_transfer_response__descriptor, &o) != GRPC_STATUS_OK)
      return -1;
    int d = o->transfer->delivered;
    protobuf_c_message_free_unpacked(&o->base, NULL);
    if (d) return 0;
    struct timespec ts = {0, 2000000L};
    nanosleep(&ts, NULL);
  }
  return -1;
}

static void *pair_loop(void *arg) {
  pair *p = arg;
  int dir = 0, n = 0;
  while (now_s() < stop_at) {
    double t0 = now_s();
    Hoso__Transfers__V1__Decision d = HOSO__TRANSFERS__V1__DECISION__INIT;
    char num[32];
    snprintf(num, sizeof num, "%d/QĐ-BENCH", ++n);
    d.number = num;
    d.effective_date = today;
    Hoso__Transfers__V1__StartTransferRequest s = HOSO__TRANSFERS__V1__START_TRANSFER_REQUEST__INIT;
    s.record_id = p->record;
    s.kind = HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_BETWEEN_UNITS;
    s.to_unit_id = p->unit[1 - dir];
    s.decision = &d;
    s.decision_scan = &the_scan;
    Hoso__Transfers__V1__StartTransferResponse *o = NULL;
    if (call(tr_ch, TR "StartTransfer", &s, &hoso__transfers__v1__start_transfer_response__descriptor, &o) !=
        GRPC_STATUS_OK)
      break;
    char id[32];
    snprintf(id, sizeof id, "%s", o->transfer->id);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    if (!strcmp(act("SendTransfer", id), "err")) break;
    const char *r = act("ReceiveTransfer", id);
    if (!strcmp(r, "err") || (strcmp(r, "ok") && wait_delivered(id) != 0)) break;
    if (p->n_lat == p->cap) {
      p->cap = p->cap ? 2 * p->cap : 256;
      p->lat = realloc(p->lat, p->cap * sizeof *p->lat);
    }
    p->lat[p->n_lat++] = (now_s() - t0) * 1000.0;
    p->done++;
    dir = 1 - dir;
  }
  return NULL;
}

static char *make_record(const char *unit, int i) {
  Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  char name[64];
  snprintf(name, sizeof name, "Người Đo Tốc Độ %d", i);
  r.managing_unit_id = (char *)unit;
  r.full_name = name;
  r.birth_date = "1985-05-05";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  r.employment = &e;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &r;
  Hoso__Records__V1__CreateRecordResponse *o = NULL;
  if (call(rec_ch, "/hoso.records.v1.Records/CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor,
           &o) != GRPC_STATUS_OK)
    return NULL;
  char *id = strdup(o->record->id);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  return id;
}

static int end_to_end(void) {
  PGresult *u = scoped("SELECT id::text FROM identity.units u WHERE status = 1 AND parent_id IS NOT NULL "
                       "AND NOT EXISTS (SELECT 1 FROM identity.units c WHERE c.parent_id = u.id) ORDER BY id LIMIT 64");
  if (!u || PQntuples(u) < 2) {
    fprintf(stderr, "bench_transfers: needs the demo's units (./hoso up)\n");
    PQclear(u);
    return -1;
  }
  int nu = PQntuples(u);
  for (int i = 0; i < PAIRS; i++) {
    snprintf(pairs[i].unit[0], 24, "%s", PQgetvalue(u, (2 * i) % nu, 0));
    snprintf(pairs[i].unit[1], 24, "%s", PQgetvalue(u, (2 * i + 1) % nu, 0));
    char *rec = make_record(pairs[i].unit[0], i);
    if (!rec) return -1;
    snprintf(pairs[i].record, 24, "%s", rec);
    free(rec);
  }
  PQclear(u);
  static const char pdf[] = "%PDF-1.4\n% bench\n%%EOF\n";
  the_scan.file_name = "qd.pdf";
  the_scan.content.data = (uint8_t *)pdf;
  the_scan.content.len = sizeof pdf - 1;
  pthread_t t[PAIRS];
  cpu_mark(0);
  double t0 = now_s();
  stop_at = t0 + RUN_S;
  for (int i = 0; i < PAIRS; i++) pthread_create(&t[i], NULL, pair_loop, &pairs[i]);
  for (int i = 0; i < PAIRS; i++) pthread_join(t[i], NULL);
  double secs = now_s() - t0;
  cpu_mark(1);
  size_t total = 0, n_lat = 0;
  for (int i = 0; i < PAIRS; i++) total += (size_t)pairs[i].done, n_lat += pairs[i].n_lat;
  double *lat = malloc((n_lat ? n_lat : 1) * sizeof *lat);
  size_t k = 0;
  for (int i = 0; i < PAIRS; i++) {
    memcpy(lat + k, pairs[i].lat, pairs[i].n_lat * sizeof *lat);
    k += pairs[i].n_lat;
    free(pairs[i].lat);
  }
  qsort(lat, n_lat, sizeof *lat, cmp);
  printf("end to end (start → send → receive → record moved), %d pairs, %.1f s: %zu transfers, %.1f transfers/s\n",
         PAIRS, secs, total, (double)total / secs);
  printf("  one transfer: p50 %.1f ms  p95 %.1f ms  p99 %.1f ms\n", pct(lat, n_lat, .5), pct(lat, n_lat, .95),
         pct(lat, n_lat, .99));
  long hz = sysconf(_SC_CLK_TCK);
  for (int i = 0; i < 5; i++)
    if (procs[i].pid && total)
      printf("  CPU per transfer, %-9s %.2f ms\n", procs[i].name,
             (double)(procs[i].t1 - procs[i].t0) * 1000.0 / (double)hz / (double)total);
  free(lat);
  return total ? 0 : -1;
}

/* ------------------------------------------------------------ ListDeadlines ------------- */

/* Brings the deployment to TARGET_RECORDS records (hoso-gen-records) and TARGET_STEPS open steps
 * with a deadline (transfers started on records without one). */
static int fill(void) {
  long long n = sql_long("SELECT count(*) FROM records.records");
  if (n < TARGET_RECORDS) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s/hoso-gen-records --seed 77 --count %lld --batch 1000 --units-file %s/../demo-units.txt >/dev/null",
             HOSO_BIN_DIR, TARGET_RECORDS - n, getenv("HOSO_RUN_DIR") ? getenv("HOSO_RUN_DIR") : ".");
    printf("filling: %lld more records (hoso-gen-records)\n", TARGET_RECORDS - n);
    fflush(stdout);
    if (system(cmd) != 0) return -1;
  }
  long long steps = sql_long("SELECT count(*) FROM transfers.deadlines WHERE due_date IS NOT NULL");
  if (steps >= TARGET_STEPS) return 0;
  char q[512];
  snprintf(q, sizeof q,
           "SELECT r.id::text, (SELECT u.id FROM identity.units u WHERE u.status = 1 AND u.id <> r.managing_unit_id "
           "AND u.parent_id IS NOT NULL ORDER BY u.id LIMIT 1)::text FROM records.records r WHERE r.status = 1 AND NOT "
           "EXISTS (SELECT 1 FROM transfers.transfers t WHERE t.record_id = r.id) ORDER BY r.id LIMIT %lld",
           TARGET_STEPS - steps);
  PGresult *r = scoped(q);
  if (!r) return -1;
  printf("filling: %d transfers started (their send steps open)\n", PQntuples(r));
  fflush(stdout);
  static const char *const effective[] = {"2025-01-06", "2025-09-15", "2026-03-02", "2026-06-01"};
  for (int i = 0; i < PQntuples(r); i++) {
    Hoso__Transfers__V1__Decision d = HOSO__TRANSFERS__V1__DECISION__INIT;
    d.number = "1/QĐ-BENCH";
    d.effective_date = (char *)effective[i % 4];
    Hoso__Transfers__V1__StartTransferRequest s = HOSO__TRANSFERS__V1__START_TRANSFER_REQUEST__INIT;
    s.record_id = PQgetvalue(r, i, 0);
    s.kind = HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_BETWEEN_UNITS;
    s.to_unit_id = PQgetvalue(r, i, 1);
    s.decision = &d;
    Hoso__Transfers__V1__StartTransferResponse *o = NULL;
    if (call(tr_ch, TR "StartTransfer", &s, &hoso__transfers__v1__start_transfer_response__descriptor, &o) ==
        GRPC_STATUS_OK)
      protobuf_c_message_free_unpacked(&o->base, NULL);
  }
  PQclear(r);
  return 0;
}

/* The service's query, as its statement text, for pgbench (the deployment's whole scope), sent
 * as the service sends it: BEGIN, the settings, the SELECT and the COMMIT in one pipeline
 * (db_commit_with_next), prepared. */
static const char bare_sql[] =
    "\\startpipeline\n"
    "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;\n"
    "SELECT set_config('hoso.scope', '*', true), set_config('hoso.actor', 'bench', true), "
    "set_config('statement_timeout', '29000', true);\n"
    "SELECT id::text, source, step, coalesce(transfer_id::text, ''), record_id::text, record_name, ref, unit_id::text, "
    "coalesce(effective_date::text, ''), previous_date::text, due_date::text, estimated, "
    "(SELECT version FROM transfers.settings_version) FROM transfers.deadlines WHERE due_date IS NOT NULL "
    "ORDER BY deadlines.due_date, deadlines.id LIMIT 51;\n"
    "COMMIT;\n"
    "\\endpipeline\n";

static int deadlines(void) {
  if (getenv("HOSO_BENCH_FILL") && atoi(getenv("HOSO_BENCH_FILL")) && fill() != 0) return -1;
  /* records' steps arrive through the job: wait until the copy stops growing. */
  long long open = -1, last = -2;
  for (int i = 0; i < 60 && open != last; i++) {
    last = open;
    sleep(1);
    open = sql_long("SELECT count(*) FROM transfers.deadlines WHERE due_date IS NOT NULL");
  }
  long long records = sql_long("SELECT count(*) FROM records.records");
  double *lat = malloc(DEADLINE_CALLS * sizeof *lat);
  size_t n = 0;
  for (int i = 0; i < DEADLINE_CALLS; i++) {
    Hoso__Transfers__V1__ListDeadlinesRequest req = HOSO__TRANSFERS__V1__LIST_DEADLINES_REQUEST__INIT;
    req.page_size = 50;
    Hoso__Transfers__V1__ListDeadlinesResponse *o = NULL;
    double t0 = now_s();
    if (call(tr_ch, TR "ListDeadlines", &req, &hoso__transfers__v1__list_deadlines_response__descriptor, &o) !=
        GRPC_STATUS_OK)
      break;
    lat[n++] = (now_s() - t0) * 1000.0;
    protobuf_c_message_free_unpacked(&o->base, NULL);
  }
  qsort(lat, n, sizeof *lat, cmp);
  /* What any call of this service costs around its SQL: a call whose work is one tiny query. */
  double *tiny = malloc(DEADLINE_CALLS * sizeof *tiny);
  size_t nt = 0;
  for (int i = 0; i < DEADLINE_CALLS; i++) {
    Hoso__Transfers__V1__CountWorkingDaysRequest req = HOSO__TRANSFERS__V1__COUNT_WORKING_DAYS_REQUEST__INIT;
    req.from = "2026-01-02";
    req.to = "2026-01-09";
    Hoso__Transfers__V1__CountWorkingDaysResponse *o = NULL;
    double t0 = now_s();
    if (call(tr_ch, TR "CountWorkingDays", &req, &hoso__transfers__v1__count_working_days_response__descriptor, &o) !=
        GRPC_STATUS_OK)
      break;
    tiny[nt++] = (now_s() - t0) * 1000.0;
    protobuf_c_message_free_unpacked(&o->base, NULL);
  }
  qsort(tiny, nt, sizeof *tiny, cmp);
  printf("a call around one tiny query (CountWorkingDays, %zu calls): p50 %.2f ms  p95 %.2f ms  p99 %.2f ms\n", nt,
         pct(tiny, nt, .5), pct(tiny, nt, .95), pct(tiny, nt, .99));
  free(tiny);
  printf("ListDeadlines (%lld records, %lld open steps with a deadline; first page of 50, whole province, one "
         "client, %zu calls): p50 %.2f ms  p95 %.2f ms  p99 %.2f ms\n",
         records, open, n, pct(lat, n, .5), pct(lat, n, .95), pct(lat, n, .99));
  double p95 = pct(lat, n, .95);
  free(lat);

  /* The floor: the same statements by pgbench, one client, the same number of runs. */
  char dir[] = "/tmp/hoso-bench-pgbench-XXXXXX";
  if (!mkdtemp(dir)) return -1;
  char file[128], cmd[2048];
  snprintf(file, sizeof file, "%s/deadlines.sql", dir);
  FILE *f = fopen(file, "w");
  fputs(bare_sql, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "cd %s && pgbench -n -M prepared -c 1 -t %d -f deadlines.sql -l '%s' >pgbench.out 2>&1",
           dir, DEADLINE_CALLS, getenv("HOSO_PG_DSN") ? getenv("HOSO_PG_DSN") : "dbname=hoso");
  if (system(cmd) != 0) {
    fprintf(stderr, "bench_transfers: pgbench failed (%s/pgbench.out)\n", dir);
    return -1;
  }
  double *bare = malloc(DEADLINE_CALLS * sizeof *bare);
  size_t m = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, "pgbench_log", 11) != 0) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *lf = fopen(path, "r");
    long us;
    while (lf && m < DEADLINE_CALLS && fscanf(lf, "%*d %*d %ld %*[^\n]", &us) == 1) bare[m++] = (double)us / 1000.0;
    if (lf) fclose(lf);
  }
  if (d) closedir(d);
  qsort(bare, m, sizeof *bare, cmp);
  printf("the same SQL bare by pgbench (%zu runs): p50 %.2f ms  p95 %.2f ms  p99 %.2f ms; ListDeadlines p95 is "
         "%.2fx the floor\n",
         m, pct(bare, m, .5), pct(bare, m, .95), pct(bare, m, .99), pct(bare, m, .95) > 0 ? p95 / pct(bare, m, .95) : 0);
  free(bare);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_transfers: %s left behind\n", dir);
  return 0;
}

int main(void) {
  const char *pw = getenv("HOSO_ADMIN_PASSWORD");
  if (!pw) {
    fprintf(stderr, "bench_transfers: run by ./hoso bench (HOSO_ADMIN_PASSWORD, the addresses, HOSO_RUN_DIR)\n");
    return 2;
  }
  id_ch = cli_open(cfg_service_addr("identity"));
  rec_ch = cli_open(cfg_service_addr("records"));
  tr_ch = cli_open(cfg_service_addr("transfers"));
  db = PQconnectdb(getenv("HOSO_PG_DSN") ? getenv("HOSO_PG_DSN") : "dbname=hoso");
  if (PQstatus(db) != CONNECTION_OK) {
    fprintf(stderr, "bench_transfers: database: %s", PQerrorMessage(db));
    return 1;
  }
  Hoso__Identity__V1__LoginRequest l = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  l.username = "admin";
  l.password = (char *)pw;
  ProtobufCMessage *out = NULL;
  cli_status st;
  if (cli_call(id_ch, "/hoso.identity.v1.Identity/Login", &l.base, &hoso__identity__v1__login_response__descriptor, &out,
               NULL, 0, 30000, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "bench_transfers: login: %s\n", st.message);
    return 1;
  }
  snprintf(bearer, sizeof bearer, "Bearer %s", ((Hoso__Identity__V1__LoginResponse *)out)->access_token);
  protobuf_c_message_free_unpacked(out, NULL);
  time_t t = time(NULL) + 7 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  /* HOSO_BENCH_DEADLINES_ONLY=1: the second half alone (the first adds a few thousand transfers). */
  const char *only = getenv("HOSO_BENCH_DEADLINES_ONLY");
  int rc = (only && atoi(only) ? 0 : end_to_end()) | deadlines();
  PQfinish(db);
  return rc ? 1 : 0;
}
