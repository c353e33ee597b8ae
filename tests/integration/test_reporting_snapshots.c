/* Monthly snapshots over real services: the current month's taken at start without anyone
 * asking, once however many instances run; months missed since the last one taken at the next
 * start, as the system knew them on their first day; statistics on a snapshot stay as frozen
 * while the records change; CreateSnapshot's refusals and idempotency; a form run on a snapshot
 * says the snapshot's day (file name, date line, audit) and an unknown snapshot is refused. */
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

enum { N = 40 };

static th_world w;
static th_svc rep, rep2;
static th_person P[N];
static PGconn *admin_db;

static const char *const env[] = {"HOSO_SNAPSHOT_FIRST_MS=0", "HOSO_SNAPSHOT_CHECK_MS=200", NULL};

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

static Hoso__Reporting__V1__ListSnapshotsResponse *list_as(cli_chan *ch, const char *tok) {
  Hoso__Reporting__V1__ListSnapshotsRequest req = HOSO__REPORTING__V1__LIST_SNAPSHOTS_REQUEST__INIT;
  req.page_size = 100;
  Hoso__Reporting__V1__ListSnapshotsResponse *out = NULL;
  cli_status st;
  th_expect(th_call(ch, REP "ListSnapshots", &req, &hoso__reporting__v1__list_snapshots_response__descriptor, (void **)&out,
                    tok, &st),
            &st, GRPC_STATUS_OK, NULL);
  return out;
}

static Hoso__Reporting__V1__ListSnapshotsResponse *list(cli_chan *ch) { return list_as(ch, w.tok_admin); }

/* The people generated into units[u] for u in [lo, hi]. */
static long long people_in(int lo, int hi) {
  long long n = 0;
  for (int i = 0; i < N; i++) n += P[i].unit >= lo && P[i].unit <= hi;
  return n;
}

/* The newest snapshot's record count as the caller sees it. */
static long long newest_count(cli_chan *ch, const char *tok) {
  Hoso__Reporting__V1__ListSnapshotsResponse *l = list_as(ch, tok);
  assert_true(l->n_snapshots >= 1);
  long long n = l->snapshots[0]->records;
  free_msg(l);
  return n;
}

/* Waits (up to 60 s) until ListSnapshots shows at least n snapshots. */
static Hoso__Reporting__V1__ListSnapshotsResponse *wait_for(cli_chan *ch, size_t n) {
  for (int i = 0; i < 600; i++) {
    Hoso__Reporting__V1__ListSnapshotsResponse *out = list(ch);
    if (out->n_snapshots >= n) return out;
    free_msg(out);
    usleep(100000);
  }
  fail_msg("fewer than %zu snapshots after 60 s", n);
  return NULL;
}

static long long total(cli_chan *ch, const char *snapshot, const char *as_of) {
  Hoso__Reporting__V1__GetStatisticsRequest req = HOSO__REPORTING__V1__GET_STATISTICS_REQUEST__INIT;
  Hoso__Reporting__V1__When when = HOSO__REPORTING__V1__WHEN__INIT;
  when.snapshot_id = (char *)(snapshot ? snapshot : "");
  when.as_of = (char *)(as_of ? as_of : "");
  req.unit_id = w.root_id;
  req.when = &when;
  Hoso__Reporting__V1__GetStatisticsResponse *out = NULL;
  cli_status st;
  th_expect(th_call(ch, REP "GetStatistics", &req, &hoso__reporting__v1__get_statistics_response__descriptor, (void **)&out,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  long long n = out->total;
  free_msg(out);
  return n;
}

static grpc_status_code create(cli_chan *ch, const char *tok, const char *month, const char *request_id,
                               Hoso__Reporting__V1__CreateSnapshotResponse **out, cli_status *st) {
  Hoso__Reporting__V1__CreateSnapshotRequest req = HOSO__REPORTING__V1__CREATE_SNAPSHOT_REQUEST__INIT;
  req.month = (char *)month;
  req.request_id = (char *)(request_id ? request_id : "");
  return th_call(ch, REP "CreateSnapshot", &req, &hoso__reporting__v1__create_snapshot_response__descriptor, (void **)out, tok,
                 st);
}

static void sql(const char *q) {
  PGresult *r = PQexec(admin_db, q);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    fail_msg("%s: %s", q, PQresultErrorMessage(r));
  PQclear(r);
}

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(admin_db) != CONNECTION_OK) return -1;
  th_people_generate(P, N, 3, 99);
  const char *units[3] = {w.d1_id, w.d1u_id, w.d2_id};
  return th_people_import(&w, P, N, units, 3);
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  char log[256];
  snprintf(log, sizeof log, "%s", rep.log);
  int rc = th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

static void this_month(char out[8], int back) {
  time_t t = time(NULL) + 7 * 3600; /* the day in Vietnam, as the services judge it */
  struct tm tm;
  gmtime_r(&t, &tm);
  unsigned m = (unsigned)((tm.tm_year + 1900) * 12 + tm.tm_mon - back);
  snprintf(out, 8, "%04u-%02u", (m / 12) % 10000, m % 12 + 1);
}

static void test_automatic_once_and_frozen(void **state) {
  (void)state;
  /* two instances started together: one snapshot of this month */
  assert_int_equal(th_world_reporting_start(&w, &rep, env), 0);
  assert_int_equal(th_world_reporting_start(&w, &rep2, env), 0);
  cli_chan *ch = cli_open_tls(rep.addr, NULL, NULL, NULL);
  Hoso__Reporting__V1__ListSnapshotsResponse *l = wait_for(ch, 1);
  char month[8];
  this_month(month, 0);
  assert_string_equal(l->snapshots[0]->month, month);
  assert_true(l->snapshots[0]->automatic);
  assert_int_equal(l->snapshots[0]->records, N);
  char id[32];
  snprintf(id, sizeof id, "%s", l->snapshots[0]->id);
  free_msg(l);
  /* a district's reader counts its own district only (d1 and its school d1u), never the whole
   * system's N, which would tell it the other districts' sizes */
  long long d1 = people_in(0, 1), d2 = people_in(2, 2);
  assert_true(d1 > 0 && d2 > 0);
  assert_int_equal(newest_count(ch, w.tok_d1_reader), d1);
  assert_int_equal(newest_count(ch, w.tok_d2_reader), d2);
  /* both instances keep checking (every 200 ms here): still one */
  usleep(1000000);
  l = list(ch);
  assert_int_equal(l->n_snapshots, 1);
  free_msg(l);
  /* the numbers of the snapshot are those of the month's first day, and stay so */
  char first[11];
  snprintf(first, sizeof first, "%s-01", month);
  long long before = total(ch, id, NULL);
  assert_int_equal(before, total(ch, NULL, first));
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "1/QĐ";
  d.date = "2020-01-01";
  d.effective_date = "2020-01-01";
  Hoso__Records__V1__ChangeRecordStatusRequest cs = HOSO__RECORDS__V1__CHANGE_RECORD_STATUS_REQUEST__INIT;
  cs.record_id = P[0].id;
  cs.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RESIGNED;
  cs.decision = &d;
  cli_status st;
  th_expect(th_call(w.rec_ch, "/hoso.records.v1.Records/ChangeRecordStatus", &cs,
                    &hoso__records__v1__change_record_status_response__descriptor, NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(total(ch, id, NULL), before);
  assert_int_equal(total(ch, NULL, first), before - 1);
  cli_close(ch);
  assert_int_equal(th_svc_stop(&rep2), 0);
  assert_int_equal(th_svc_stop(&rep), 0);
}

/* The root unit's code, as identity has it (malloc'd). */
static char *root_code(void) {
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = w.root_id;
  Hoso__Identity__V1__GetUnitResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/GetUnit", &req, &hoso__identity__v1__get_unit_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  char *code = strdup(out->unit->code);
  free_msg(out);
  return code;
}

static grpc_status_code run_on(cli_chan *ch, const char *snapshot, const char *path, char **name, cli_status *st) {
  Hoso__Reporting__V1__RunReportRequest req = HOSO__REPORTING__V1__RUN_REPORT_REQUEST__INIT;
  Hoso__Reporting__V1__When when = HOSO__REPORTING__V1__WHEN__INIT;
  req.template_ = "BM01/BNV";
  req.unit_id = w.root_id;
  req.format = HOSO__REPORTING__V1__FORMAT__FORMAT_XLSX;
  req.signer_name = "Trần Văn Trưởng";
  when.snapshot_id = (char *)snapshot;
  req.when = &when;
  return th_stream_file(ch, REP "RunReport", &req.base, &hoso__reporting__v1__file_chunk__descriptor, w.tok_admin, path, name,
                        NULL, NULL, st);
}

/* BM01/BNV on the snapshot of January 2025: named BM01-BNV_<root's code>_2025-01-01.xlsx, its date
 * line "Có đến ngày 01/01/2025", its audit entry with the snapshot and that day; an unknown
 * snapshot is INVALID_ARGUMENT naming when.snapshot_id, for a report and for statistics. */
static void report_on_snapshot(cli_chan *ch, const char *id) {
  char dir[64], path[128], want[160];
  snprintf(dir, sizeof dir, "/tmp/hoso-snapshot-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/bm01.xlsx", dir);
  char *name = NULL, *code = root_code();
  cli_status st;
  th_expect(run_on(ch, id, path, &name, &st), &st, GRPC_STATUS_OK, NULL);
  assert_non_null(name);
  snprintf(want, sizeof want, "BM01-BNV_%s_2025-01-01.xlsx", code);
  for (char *c = want + strlen("BM01-BNV_"); *c && c < want + strlen("BM01-BNV_") + strlen(code); c++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c)) *c = '-';
  assert_string_equal(name, want);
  free(name);
  free(code);
  /* the date line, as exceljs reads the file */
  json_t *x = th_read_back("xlsx", path);
  assert_non_null(x);
  int dated = 0;
  for (size_t r = 0; r < 8 && !dated; r++)
    for (size_t c = 0; c < 8 && !dated; c++) {
      const char *t = th_xlsx_text(x, r, c);
      dated = t && strstr(t, "Có đến ngày 01/01/2025") != NULL;
    }
  json_decref(x);
  if (!dated) fail_msg("no date line \"Có đến ngày 01/01/2025\" in the first rows of %s", path);
  snprintf(want, sizeof want, "rm -rf %s", dir);
  free(th_run(want));

  PGresult *r = PQexecParams(admin_db,
                             "SELECT detail::json->>'snapshot_id', detail::json->>'as_of' FROM reporting.audit_log "
                             "WHERE action = 'REPORT_RUN' ORDER BY seq DESC LIMIT 1",
                             0, NULL, NULL, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_int_equal(PQntuples(r), 1);
  assert_string_equal(PQgetvalue(r, 0, 0), id);
  assert_string_equal(PQgetvalue(r, 0, 1), "2025-01-01");
  PQclear(r);

  th_expect(run_on(ch, "987654", "/dev/null", NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "when.snapshot_id");
  Hoso__Reporting__V1__GetStatisticsRequest q = HOSO__REPORTING__V1__GET_STATISTICS_REQUEST__INIT;
  Hoso__Reporting__V1__When when = HOSO__REPORTING__V1__WHEN__INIT;
  when.snapshot_id = "987654";
  q.unit_id = w.root_id;
  q.when = &when;
  th_expect(th_call(ch, REP "GetStatistics", &q, &hoso__reporting__v1__get_statistics_response__descriptor, NULL, w.tok_admin,
                    &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "when.snapshot_id");
}

/* The last snapshot three months ago: the next start takes the two months between and this
 * one's exists already. */
static void test_missed_months(void **state) {
  (void)state;
  char m3[8], m2[8], m1[8];
  this_month(m3, 3);
  this_month(m2, 2);
  this_month(m1, 1);
  char q[200];
  snprintf(q, sizeof q, "INSERT INTO reporting.snapshots (month, automatic) VALUES ('%s-01', true)", m3);
  sql(q);
  assert_int_equal(th_world_reporting_start(&w, &rep, env), 0);
  cli_chan *ch = cli_open_tls(rep.addr, NULL, NULL, NULL);
  Hoso__Reporting__V1__ListSnapshotsResponse *l = wait_for(ch, 4);
  assert_int_equal(l->n_snapshots, 4);
  assert_string_equal(l->snapshots[1]->month, m1);
  assert_string_equal(l->snapshots[2]->month, m2);
  /* as known at the end of their first day: the import of today was not known then */
  assert_int_equal(l->snapshots[1]->records, 0);
  assert_int_equal(l->snapshots[2]->records, 0);
  free_msg(l);

  /* CreateSnapshot: a system administrator's, of a past month, once per month */
  Hoso__Reporting__V1__CreateSnapshotResponse *out = NULL;
  cli_status st;
  th_expect(create(ch, w.tok_d1_admin, "2025-01", NULL, &out, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(create(ch, w.tok_admin, "2099-01", NULL, &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "month");
  th_expect(create(ch, w.tok_admin, "2025-13", NULL, &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "month");
  th_expect(create(ch, w.tok_admin, "25-01", NULL, &out, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "month");
  th_expect(create(ch, w.tok_admin, m1, NULL, &out, &st), &st, GRPC_STATUS_ALREADY_EXISTS, "month");
  th_expect(create(ch, w.tok_admin, "2025-01", "snap-1", &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(out->snapshot->month, "2025-01");
  assert_false(out->snapshot->automatic);
  assert_int_equal(out->snapshot->records, N); /* recruited in 2010, as known now */
  char id[32];
  snprintf(id, sizeof id, "%s", out->snapshot->id);
  free_msg(out);
  th_expect(create(ch, w.tok_admin, "2025-01", "snap-1", &out, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(out->snapshot->id, id);
  free_msg(out);
  assert_int_equal(total(ch, id, NULL), N - 1); /* P[0] resigned from 2020 on: not at work */
  report_on_snapshot(ch, id);
  cli_close(ch);
  assert_int_equal(th_svc_stop(&rep), 0);
}

/* The school (d1u) moves from district 1 to district 2: its people's rows in the snapshots get
 * its new path, so district 2 reports on them and district 1 no longer does. */
static void test_snapshots_follow_moves(void **state) {
  (void)state;
  assert_int_equal(th_world_reporting_start(&w, &rep, env), 0);
  cli_chan *ch = cli_open_tls(rep.addr, NULL, NULL, NULL);
  Hoso__Reporting__V1__ListSnapshotsResponse *l = wait_for(ch, 1);
  free_msg(l);
  Hoso__Identity__V1__MoveUnitRequest mv = HOSO__IDENTITY__V1__MOVE_UNIT_REQUEST__INIT;
  mv.unit_id = w.d1u_id;
  mv.new_parent_id = w.d2_id;
  mv.reason = "Quyết định số 5/QĐ-UBND";
  cli_status st;
  th_expect(th_call(w.id_ch, "/hoso.identity.v1.Identity/MoveUnit", &mv, &hoso__identity__v1__move_unit_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  char want[96], q[300];
  snprintf(want, sizeof want, "%s.%s", w.d2_path, w.d1u_id);
  snprintf(q, sizeof q,
           "SELECT count(*) FROM reporting.snapshot_facts WHERE managing_unit_id = %s AND unit_path <> '%s'::ltree",
           w.d1u_id, want);
  long left = -1;
  for (int i = 0; i < 600 && left != 0; i++) { /* the follower polls identity every 2 s */
    PGresult *r = PQexec(admin_db, q);
    left = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    if (left != 0) usleep(100000);
  }
  assert_int_equal(left, 0);
  snprintf(q, sizeof q, "SELECT count(*) FROM reporting.snapshot_facts WHERE managing_unit_id = %s", w.d1u_id);
  PGresult *r = PQexec(admin_db, q);
  assert_true(atol(PQgetvalue(r, 0, 0)) > 0);
  PQclear(r);
  /* the counts ListSnapshots gives a district moved with the school, in the same transaction */
  assert_int_equal(newest_count(ch, w.tok_d1_reader), people_in(0, 0));
  assert_int_equal(newest_count(ch, w.tok_d2_reader), people_in(1, 2));
  assert_int_equal(newest_count(ch, w.tok_admin), N);
  cli_close(ch);
  assert_int_equal(th_svc_stop(&rep), 0);
}

/* Reporting's reads go through row-level security: it does not start when its read connection
 * is a superuser's (which ignores it) or the owner's of records' schema (which could change
 * what it reads), and says why. */
static void test_refuses_unfit_read_roles(void **state) {
  (void)state;
  char dsn[700];
  th_svc s;
  snprintf(dsn, sizeof dsn, "HOSO_REPORTING_PG_DSN=%s", w.pg.admin_dsn);
  const char *as_super[] = {dsn, NULL};
  assert_int_not_equal(th_world_reporting_start(&w, &s, as_super), 0);
  assert_true(th_log_count(s.log, "a superuser or a role that bypasses row-level security", NULL) >= 1);
  snprintf(dsn, sizeof dsn, "HOSO_REPORTING_PG_DSN=%s", w.pg.migrate_dsn);
  const char *as_owner[] = {dsn, NULL};
  assert_int_not_equal(th_world_reporting_start(&w, &s, as_owner), 0);
  assert_true(th_log_count(s.log, "which may change records' schema", NULL) >= 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_refuses_unfit_read_roles),
      cmocka_unit_test(test_automatic_once_and_frozen),
      cmocka_unit_test(test_missed_months),
      cmocka_unit_test(test_snapshots_follow_moves),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
