/* The kept-counts path of RunReport (reporting/kept.c) against the plain aggregation, over real
 * services and PostgreSQL: two reporting processes on the same database, one with kept counts
 * (the default) and one with HOSO_REPORTING_KEPT=0, asked the same BM01/BNV as CSV after every
 * change (today and a past day, three callers of different scopes) must give the same bytes.
 * The changes: a category, a rank, a birthday moved across an age band, a person moved to
 * another unit, a record closed (retired), a unit moved to another district, a unit merged into
 * another. After each, the kept service must have re-counted some leaves (so the mark moved)
 * and the reports must still be equal (so a missed mark fails). Then reports counted in a loop
 * while changes commit: every report asked after a change returned has it; a report counted
 * while an older transaction is still open and a younger one has committed (marks committing
 * out of order) is followed by an exact one once the older commits; and the background warm-up
 * of a day's kept sets (a restarted service) answers the day's first report without counting,
 * exactly, as does the first report of the past days asked most (31 December of last year, the
 * last 30 June, the first of the month), while the sets no report used for 35 days are
 * dropped. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "reporting.pb-c.h"
#include "th_files.h"
#include "th_people.h"

#define REP "/hoso.reporting.v1.Reporting/"
#define REC "/hoso.records.v1.Records/"
#define IDN "/hoso.identity.v1.Identity/"

enum { N = 96, NU = 6 };

static th_world w;
static th_svc kept_svc, plain_svc;
static cli_chan *kept_ch, *plain_ch;
static PGconn *admin_db;
static th_person P[N];
static char today[11], past[11], effective[11], dir[64];
/* units of the people: d1, d1u, d1a, d2, d2a, d1b */
static char d1a[32], d2a[32], d1b[32];
static const char *units[NU];

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

/* The day `days` after today in Vietnam (negative: before). */
static void day_from_today(int days, char out[11]) {
  time_t t = time(NULL) + 7 * 3600 + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ------------------------------------------------------------ reports ------------------- */

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  *n = fread(b, 1, (size_t)len, f);
  b[*n] = '\0';
  fclose(f);
  return b;
}

/* BM01/BNV as CSV from one reporting process into path; the status. */
static grpc_status_code bm01(cli_chan *ch, const char *tok, const char *unit, const char *as_of, const char *path,
                             cli_status *st) {
  Hoso__Reporting__V1__RunReportRequest req = HOSO__REPORTING__V1__RUN_REPORT_REQUEST__INIT;
  Hoso__Reporting__V1__When when = HOSO__REPORTING__V1__WHEN__INIT;
  req.template_ = "BM01/BNV";
  req.unit_id = (char *)unit;
  req.format = HOSO__REPORTING__V1__FORMAT__FORMAT_CSV;
  req.signer_name = "Trần Văn Trưởng";
  when.as_of = (char *)as_of;
  req.when = &when;
  return th_stream_file(ch, REP "RunReport", &req.base, &hoso__reporting__v1__file_chunk__descriptor, tok, path, NULL,
                        NULL, NULL, st);
}

/* The leaves the kept service counted for its latest report (its audit row), -1 when none. */
static long last_counted(void) {
  PGresult *r = PQexec(admin_db, "SELECT detail::jsonb->>'counted_leaves' FROM reporting.audit_log "
                                 "WHERE action = 'REPORT_RUN' AND detail LIKE '%counted_leaves%' ORDER BY seq DESC LIMIT 1");
  long n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

static int equal_files(const char *x, const char *y) {
  size_t nx = 0, ny = 0;
  char *a = slurp(x, &nx), *b = slurp(y, &ny);
  assert_non_null(a);
  assert_non_null(b);
  int eq = nx == ny && memcmp(a, b, nx) == 0;
  free(a);
  free(b);
  return eq;
}

/* Names the first cell where the two CSV files differ. */
static void show_difference(const char *what, const char *unit, const char *as_of, const char *kp, const char *pp) {
  json_t *jk = th_read_back("csv", kp), *jp = th_read_back("csv", pp);
  json_t *rk = json_object_get(jk, "records"), *rp = json_object_get(jp, "records");
  for (size_t r = 0; r < json_array_size(rk) || r < json_array_size(rp); r++)
    for (size_t c = 0; c < json_array_size(json_array_get(rk, r)) || c < json_array_size(json_array_get(rp, r)); c++) {
      const char *a = json_string_value(json_array_get(json_array_get(rk, r), c));
      const char *b = json_string_value(json_array_get(json_array_get(rp, r), c));
      if (!a || !b || strcmp(a, b))
        fail_msg("%s: unit %s as of %s: row %zu column %zu: kept %s, plain %s", what, unit, as_of, r, c, a ? a : "-",
                 b ? b : "-");
    }
  fail_msg("%s: unit %s as of %s: the files differ", what, unit, as_of);
}

/* The kept report of (tok, unit, as_of) between two plain ones: it must equal the plain one
 * after it. Only when the two plain ones differ (records committed something meanwhile, e.g.
 * its follower of the unit tree) is the comparison taken again (bounded); with nothing
 * committed in between, a difference fails. *counted: the leaves the first kept report
 * counted. Returns the kept file's text (malloc'd). */
static char *same(const char *what, const char *tok, const char *unit, const char *as_of, long *counted) {
  char kp[128], pp[128], pb[128];
  snprintf(kp, sizeof kp, "%s/kept.csv", dir);
  snprintf(pp, sizeof pp, "%s/plain.csv", dir);
  snprintf(pb, sizeof pb, "%s/plain-before.csv", dir);
  cli_status st;
  for (int attempt = 0;; attempt++) {
    th_expect(bm01(plain_ch, tok, unit, as_of, pb, &st), &st, GRPC_STATUS_OK, NULL);
    th_expect(bm01(kept_ch, tok, unit, as_of, kp, &st), &st, GRPC_STATUS_OK, NULL);
    if (counted && attempt == 0) *counted = last_counted();
    th_expect(bm01(plain_ch, tok, unit, as_of, pp, &st), &st, GRPC_STATUS_OK, NULL);
    if (equal_files(kp, pp)) break;
    if (equal_files(pb, pp) || attempt == 5) show_difference(what, unit, as_of, kp, pp);
  }
  size_t n;
  return slurp(kp, &n);
}

/* Every comparison of a step: three callers (the province, district 1's and district 2's
 * readers), today and the past day. After a change (`changed`) the kept service re-counted at
 * least one leaf in the first (the province today). *root_today (may be NULL) gets that report. */
static void compare_all(const char *what, char **root_today, int changed) {
  long counted = -1;
  char *t = same(what, w.tok_admin, w.root_id, today, &counted);
  if (changed && counted < 1) fail_msg("%s: the kept service counted %ld leaves after a change", what, counted);
  if (root_today)
    *root_today = t;
  else
    free(t);
  free(same(what, w.tok_admin, w.root_id, past, NULL));
  free(same(what, w.tok_d1_reader, w.d1_id, today, NULL));
  free(same(what, w.tok_d1_reader, w.d1_id, past, NULL));
  free(same(what, w.tok_d2_reader, w.d2_id, today, NULL));
  free(same(what, w.tok_d2_reader, w.d2_id, past, NULL));
  /* nothing changed since: every leaf from the kept counts */
  free(same(what, w.tok_admin, w.root_id, today, &counted));
  assert_int_equal(counted, 0);
}

/* ------------------------------------------------------------ changes ------------------- */

static Hoso__Records__V1__Decision decision(const char *number) {
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = (char *)number;
  d.date = effective;
  d.effective_date = effective;
  return d;
}

typedef enum { CH_CATEGORY, CH_RANK, CH_BIRTH } change_kind;

/* A change of one person's dossier by the province's administrator, by a decision effective
 * before the past day (so both days see it). */
static void change(th_person *p, change_kind kind, const char *value) {
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = p->id;
  Hoso__Records__V1__GetRecordResponse *got = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor, (void **)&got,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  Hoso__Records__V1__Record *r = got->record;
  char *saved = NULL;
  int saved_cat = 0;
  if (kind == CH_CATEGORY) {
    assert_non_null(r->employment);
    saved_cat = r->employment->category;
    r->employment->category = atoi(value);
  } else if (kind == CH_RANK) {
    assert_non_null(r->salary);
    saved = r->salary->rank_code;
    r->salary->rank_code = (char *)value;
  } else {
    saved = r->birth_date;
    r->birth_date = (char *)value;
  }
  Hoso__Records__V1__Decision d = decision("31/QĐ-UBND");
  Hoso__Records__V1__ChangeReason why = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
  why.decision = &d;
  Hoso__Records__V1__UpdateRecordRequest up = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  up.record = r;
  up.expected_version = r->version;
  up.reason = &why;
  th_expect(th_call(w.rec_ch, REC "UpdateRecord", &up, &hoso__records__v1__update_record_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  if (kind == CH_CATEGORY) r->employment->category = saved_cat;
  if (kind == CH_RANK) r->salary->rank_code = saved;
  if (kind == CH_BIRTH) r->birth_date = saved;
  free_msg(got);
}

/* The transfers service's step: the person managed by `unit` from the decision's day. */
static void move_person(th_person *p, const char *unit, const char *key) {
  Hoso__Records__V1__Decision d = decision("77/QĐ-UBND");
  Hoso__Records__V1__SetManagingUnitRequest req = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
  req.record_id = p->id;
  req.new_unit_id = (char *)unit;
  req.transfer_id = (char *)key;
  req.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
  req.decision = &d;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "SetManagingUnit", &req, &hoso__records__v1__set_managing_unit_response__descriptor,
                    NULL, w.tok_transfers, &st),
            &st, GRPC_STATUS_OK, NULL);
}

static void retire(th_person *p) {
  Hoso__Records__V1__Decision d = decision("9/QĐ");
  Hoso__Records__V1__ChangeRecordStatusRequest req = HOSO__RECORDS__V1__CHANGE_RECORD_STATUS_REQUEST__INIT;
  req.record_id = p->id;
  req.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RETIRED;
  req.decision = &d;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "ChangeRecordStatus", &req, &hoso__records__v1__change_record_status_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  p->retired = 1;
}

/* Waits (bounded: records follows identity's tree every few seconds) until `sql` counts 0. */
static void wait_zero(const char *sql) {
  long left = -1;
  for (int i = 0; i < 900 && left != 0; i++) {
    PGresult *r = PQexec(admin_db, sql);
    left = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    if (left != 0) usleep(100000);
  }
  if (left != 0) fail_msg("still %ld after 90 s: %s", left, sql);
}

/* The first civil servant at work in unit index u, or NULL. */
static th_person *civil_servant(int u, int skip) {
  for (int i = 0; i < N; i++)
    if (P[i].unit == u && P[i].category == 2 && !P[i].retired && skip-- == 0) return &P[i];
  return NULL;
}

/* ------------------------------------------------------------ set-up -------------------- */

static int setup(void **state) {
  (void)state;
  day_from_today(0, today);
  day_from_today(-120, past);
  day_from_today(-150, effective);
  snprintf(dir, sizeof dir, "/tmp/hoso-kept-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  static const char *const plain_env[] = {"HOSO_REPORTING_KEPT=0", NULL};
  /* no warm-up until test_warm_up restarts it: the first tests count from nothing */
  static const char *const kept_env[] = {"HOSO_REPORTING_KEPT_FIRST_MS=3600000", NULL};
  if (th_world_start(&w, 1, NULL) != 0 || th_world_reporting_start(&w, &kept_svc, kept_env) != 0 ||
      th_world_reporting_start(&w, &plain_svc, plain_env) != 0)
    return -1;
  kept_ch = cli_open_tls(kept_svc.addr, NULL, NULL, NULL);
  plain_ch = cli_open_tls(plain_svc.addr, NULL, NULL, NULL);
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (!kept_ch || !plain_ch || PQstatus(admin_db) != CONNECTION_OK) return -1;
  int agency = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_AGENCY;
  if (th_world_unit(&w, w.d1_id, "LN.PNV", "Phòng Nội vụ Lục Nam", agency, d1a, NULL) != 0 ||
      th_world_unit(&w, w.d2_id, "YT.PTC", "Phòng Tài chính Yên Thế", agency, d2a, NULL) != 0 ||
      th_world_unit(&w, w.d1_id, "LN.PTP", "Phòng Tư pháp Lục Nam", agency, d1b, NULL) != 0)
    return -1;
  units[0] = w.d1_id, units[1] = w.d1u_id, units[2] = d1a, units[3] = w.d2_id, units[4] = d2a, units[5] = d1b;
  th_people_generate(P, N, NU, 4217);
  return th_people_import(&w, P, N, units, NU);
}

static int teardown(void **state) {
  (void)state;
  if (kept_ch) cli_close(kept_ch);
  if (plain_ch) cli_close(plain_ch);
  if (admin_db) PQfinish(admin_db);
  int rc = th_svc_stop(&kept_svc) | th_svc_stop(&plain_svc);
  char log1[256], log2[256], cmd[128];
  snprintf(log1, sizeof log1, "%s", kept_svc.log);
  snprintf(log2, sizeof log2, "%s", plain_svc.log);
  rc |= th_world_stop(&w);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  rc |= system(cmd);
  return rc == 0 && th_log_errors(log1) == 0 && th_log_errors(log2) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ tests --------------------- */

static void test_kept_equals_plain_through_changes(void **state) {
  (void)state;
  /* district 2's reader first: its leaves kept in district 2's set; the province then counts
   * all its leaves (a set is used only for the unit it was counted for and the units below),
   * and district 1's reader after it counts nothing (its leaves from the province's set) */
  long counted = -1;
  free(same("district 2 first", w.tok_d2_reader, w.d2_id, today, &counted));
  assert_int_equal(counted, 2); /* d2 and d2a */
  char *before = same("province after", w.tok_admin, w.root_id, today, &counted);
  assert_int_equal(counted, 6); /* d1, d1u, d1a, d1b, d2, d2a */
  free(same("district 1 after", w.tok_d1_reader, w.d1_id, today, &counted));
  assert_int_equal(counted, 0);
  /* the numbers are real: the file has people in it */
  assert_non_null(strstr(before, "Tổng cộng"));
  compare_all("baseline", NULL, 0);

  char *after = NULL;
  th_person *a = civil_servant(1, 0);
  assert_non_null(a);
  change(a, CH_CATEGORY, "3"); /* a civil servant becomes a public employee: out of BM01 */
  a->category = 3;
  compare_all("category", &after, 1);
  assert_true(strcmp(before, after) != 0);
  free(before);
  before = after;

  th_person *b = civil_servant(2, 0);
  assert_non_null(b);
  change(b, CH_RANK, strcmp(b->rank, "01.001") ? "01.001" : "01.002");
  compare_all("rank", NULL, 1);

  /* born so that the person is 30 on the past day and 31 today: another age band each day */
  th_person *c = civil_servant(3, 0);
  assert_non_null(c);
  char born[11];
  day_from_today(-110, born);
  int y = atoi(born) - 31;
  if (!strcmp(born + 5, "02-29")) memcpy(born + 5, "02-28", 5);
  char year[12];
  snprintf(year, sizeof year, "%04d", y % 10000);
  memcpy(born, year, 4);
  change(c, CH_BIRTH, born);
  compare_all("birthday", NULL, 1);

  th_person *d = civil_servant(1, 0);
  assert_non_null(d);
  move_person(d, w.d2_id, "kept-move-1");
  compare_all("person moved to district 2", &after, 1);
  assert_true(strcmp(before, after) != 0);
  free(before);
  before = after;

  th_person *e = civil_servant(4, 0);
  assert_non_null(e);
  retire(e);
  compare_all("record closed", NULL, 1);

  /* district 1's office of home affairs moves to district 2: records follows identity and
   * rewrites the unit paths of its periods */
  Hoso__Identity__V1__MoveUnitRequest mv = HOSO__IDENTITY__V1__MOVE_UNIT_REQUEST__INIT;
  mv.unit_id = d1a;
  mv.new_parent_id = w.d2_id;
  mv.reason = "Quyết định số 5/QĐ-UBND";
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "MoveUnit", &mv, &hoso__identity__v1__move_unit_response__descriptor, NULL, w.tok_admin,
                    &st),
            &st, GRPC_STATUS_OK, NULL);
  char q[400];
  snprintf(q, sizeof q,
           "SELECT count(*) FROM records.fact_periods WHERE managing_unit_id = %s AND NOT unit_path <@ '%s.%s'::ltree",
           d1a, w.d2_path, d1a);
  wait_zero(q);
  compare_all("unit moved", &after, 1);
  assert_true(strcmp(before, after) != 0);
  free(before);
  before = after;

  /* district 1's office of justice merged into the school: its people given to the school */
  Hoso__Identity__V1__MergeUnitsRequest m = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  m.source_unit_id = d1b;
  m.target_unit_id = w.d1u_id;
  m.reason = "Quyết định 125/QĐ-UBND";
  th_expect(th_call(w.id_ch, IDN "MergeUnits", &m, &hoso__identity__v1__merge_units_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  snprintf(q, sizeof q, "SELECT count(*) FROM records.records WHERE managing_unit_id = %s", d1b);
  wait_zero(q);
  compare_all("unit merged", NULL, 1);
  free(before);
}

/* Reports counted in a loop while changes commit: each report asked after a change returned
 * equals the plain aggregation, though kept counts from reports that began before the change
 * may be written after it. */
typedef struct {
  volatile int stop;
  int runs, fails;
} loop_arg;

static void *loop(void *p) {
  loop_arg *a = p;
  char path[128];
  snprintf(path, sizeof path, "%s/loop.csv", dir);
  while (!a->stop) {
    cli_status st;
    if (bm01(kept_ch, w.tok_admin, w.root_id, today, path, &st) != GRPC_STATUS_OK) a->fails++;
    a->runs++;
  }
  return NULL;
}

static void test_change_during_counting(void **state) {
  (void)state;
  loop_arg a = {0, 0, 0};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, loop, &a), 0);
  for (int k = 0; k < 6; k++) {
    th_person *p = civil_servant(k % 2 == 0 ? 0 : 3, 0);
    assert_non_null(p);
    if (k % 2 == 0) {
      change(p, CH_CATEGORY, "5");
      p->category = 5;
    } else {
      char key[32];
      snprintf(key, sizeof key, "kept-loop-%d", k);
      move_person(p, k % 4 == 1 ? w.d1u_id : w.d2_id, key);
    }
    free(same("during counting", w.tok_admin, w.root_id, today, NULL));
  }
  a.stop = 1;
  pthread_join(th, NULL);
  assert_int_equal(a.fails, 0);
  assert_true(a.runs > 0);
}

/* A connection as records' role, as records writes: the scope of the whole deployment. */
static PGconn *writer(void) {
  PGconn *c = PQconnectdb(w.pg.dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, "SET search_path = records, public; SET hoso.scope = '*'");
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  return c;
}

static void sql_ok(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
}

/* A civil servant's current period made a public employee's (out of BM01) in c's transaction. */
static void out_of_bm01(PGconn *c, th_person *p) {
  const char *v[1] = {p->id};
  PGresult *r = PQexecParams(c, "UPDATE fact_periods SET category = 3 WHERE record_id = $1::bigint AND known_to = "
                                "'infinity' AND valid_to = 'infinity'", 1, NULL, v, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK || atoi(PQcmdTuples(r)) < 1) fail_msg("%s: %s", p->id, PQerrorMessage(c));
  PQclear(r);
  p->category = 3;
}

/* Marks committing out of order: T1 writes (its id is the lower), T2 writes another leaf and
 * commits, a report counts and keeps its set while T1 is still open, then T1 commits. A scheme
 * that keeps "the newest mark seen" misses T1 (its mark is older than T2's); the report after
 * T1's commit must count it. */
static void test_out_of_order_commits(void **state) {
  (void)state;
  th_person *x = civil_servant(0, 0), *y = civil_servant(4, 0);
  assert_non_null(x);
  assert_non_null(y);
  PGconn *t1 = writer(), *t2 = writer();
  sql_ok(t1, "BEGIN");
  out_of_bm01(t1, x);
  sql_ok(t2, "BEGIN");
  out_of_bm01(t2, y);
  sql_ok(t2, "COMMIT");
  long counted = -1;
  char *mid = same("T2 committed, T1 open", w.tok_admin, w.root_id, today, &counted);
  assert_true(counted >= 1);
  free(same("T2 committed, T1 open, again", w.tok_admin, w.root_id, today, &counted));
  assert_int_equal(counted, 0);
  sql_ok(t1, "COMMIT");
  char *after = same("T1 committed after", w.tok_admin, w.root_id, today, &counted);
  assert_true(counted >= 1);
  assert_true(strcmp(mid, after) != 0);
  free(mid);
  free(after);
  PQfinish(t1);
  PQfinish(t2);
}

static long count_of(const char *sql) {
  PGresult *r = PQexec(admin_db, sql);
  long n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

/* The service restarted with its warm-up: today's sets made in the background for the whole
 * deployment, so the first report of the day (the province's and a district's) counts nothing
 * and equals the plain aggregation; a set no report used for 35 days is dropped, recent ones
 * stay. */
static void test_warm_up(void **state) {
  (void)state;
  char q[300];
  snprintf(q, sizeof q, "DELETE FROM reporting.kept_sets WHERE day = '%s'", today);
  assert_int_equal(count_of("SELECT 0"), 0);
  PQclear(PQexec(admin_db, q));
  snprintf(q, sizeof q, "UPDATE reporting.kept_sets SET used_at = now() - interval '36 days' WHERE day = '%s' "
           "AND root = '%s'", past, w.d2_path);
  PGresult *r = PQexec(admin_db, q);
  assert_int_equal(atoi(PQcmdTuples(r)), 1);
  PQclear(r);
  assert_int_equal(th_svc_stop(&kept_svc), 0);
  cli_close(kept_ch);
  static const char *const warm_env[] = {"HOSO_REPORTING_KEPT_FIRST_MS=0", NULL};
  assert_int_equal(th_world_reporting_start(&w, &kept_svc, warm_env), 0);
  kept_ch = cli_open_tls(kept_svc.addr, NULL, NULL, NULL);
  assert_non_null(kept_ch);
  /* the warm-up's end: the old set dropped (after every template was warmed) */
  snprintf(q, sizeof q, "SELECT count(*) FROM reporting.kept_sets WHERE day = '%s' AND root = '%s'", past, w.d2_path);
  wait_zero(q);
  snprintf(q, sizeof q, "SELECT count(*) FROM reporting.kept_sets WHERE day = '%s' AND template = 'BM01/BNV' "
           "AND root = '%s'", today, w.root_path);
  assert_int_equal(count_of(q), 1);
  snprintf(q, sizeof q, "SELECT count(*) FROM reporting.kept_sets WHERE day = '%s' AND root = '%s'", past,
           w.root_path);
  assert_int_equal(count_of(q), 1); /* used recently: kept */
  long counted = -1;
  free(same("first of the day after the warm-up", w.tok_admin, w.root_id, today, &counted));
  assert_int_equal(counted, 0);
  free(same("a district's first after the warm-up", w.tok_d2_reader, w.d2_id, today, &counted));
  assert_int_equal(counted, 0);

  /* the past days asked most were warmed too: 31 December of last year, the last 30 June
   * before today, the first of this month (unless today is the first); their first reports
   * count nothing and equal the plain aggregation, for the province and for a district */
  int y = atoi(today);
  char days[3][16];
  int n = 0;
  snprintf(days[n++], 16, "%04d-12-31", (y - 1) % 10000);
  char june[16];
  snprintf(june, sizeof june, "%04d-06-30", y % 10000);
  if (strcmp(today, june) <= 0) snprintf(june, sizeof june, "%04d-06-30", (y - 1) % 10000);
  memcpy(days[n++], june, 16);
  if (strcmp(today + 8, "01") != 0) snprintf(days[n++], 16, "%.8s01", today);
  for (int i = 0; i < n; i++) {
    snprintf(q, sizeof q, "SELECT count(*) FROM reporting.kept_sets WHERE day = '%s' AND template = 'BM01/BNV' "
             "AND root = '%s'", days[i], w.root_path);
    if (count_of(q) != 1) fail_msg("no kept set of BM01/BNV for %s after the warm-up", days[i]);
    char what[96];
    snprintf(what, sizeof what, "the first report of %s after the warm-up", days[i]);
    free(same(what, w.tok_admin, w.root_id, days[i], &counted));
    assert_int_equal(counted, 0);
    free(same(what, w.tok_d1_reader, w.d1_id, days[i], &counted));
    assert_int_equal(counted, 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kept_equals_plain_through_changes),
      cmocka_unit_test(test_change_during_counting),
      cmocka_unit_test(test_out_of_order_commits),
      cmocka_unit_test(test_warm_up),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
