/* Faults, as SQLite proves its journal: PostgreSQL killed (SIGKILL) and started again while
 * writers run, the records service killed in the middle of writes and started again, and the
 * disk of the audit checkpoint file turned read-only. Each time: no change the service
 * acknowledged is lost, none is half done (a record without its version or its audit row, an
 * import partly stored), a retried request is applied once, and the services go on (after
 * PostgreSQL's restart without being restarted themselves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "records.pb-c.h"
#include "th_transfers.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define WRITERS 2
#define PER_WRITER 12
#define DEADLINE_MS 90000

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long long sql_long(th_world *w, const char *q, const char *p1) {
  PGconn *db = PQconnectdb(w->pg.admin_dsn);
  const char *p[1] = {p1};
  PGresult *r = PQexecParams(db, q, p1 ? 1 : 0, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", q, PQerrorMessage(db));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(db);
  return v;
}

/* ------------------------------------------------------------ writers ------------------- */

typedef struct {
  th_world *w;
  cli_chan **ch; /* the records channel, reopened by the test after a restart */
  const char *tag;
  int id;
  char ids[PER_WRITER][32]; /* what the service acknowledged */
  int acked;
  atomic_int *failures;     /* calls that failed during the fault */
} writer;

/* PER_WRITER new records, each retried with its own request_id until the service says OK: a
 * retry after a fault must be applied once, whether or not the first try was. */
static void *write_records(void *p) {
  writer *wr = p;
  long long end = now_ms() + DEADLINE_MS;
  for (int i = 0; i < PER_WRITER && now_ms() < end;) {
    char name[64], rid[64];
    snprintf(name, sizeof name, "Người Thử %s %d %d", wr->tag, wr->id, i);
    snprintf(rid, sizeof rid, "fault-%s-%d-%d", wr->tag, wr->id, i);
    Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
    Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
    r.managing_unit_id = wr->w->d1_id;
    r.full_name = name;
    r.birth_date = "1984-05-19";
    r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
    e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
    r.employment = &e;
    Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
    req.record = &r;
    req.request_id = rid;
    Hoso__Records__V1__CreateRecordResponse *out = NULL;
    cli_status st;
    grpc_status_code c = th_call(*wr->ch, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor,
                                 (void **)&out, wr->w->tok_d1_updater, &st);
    if (c == GRPC_STATUS_OK) {
      snprintf(wr->ids[i], 32, "%s", out->record->id);
      wr->acked = ++i;
      protobuf_c_message_free_unpacked(&out->base, NULL);
    } else {
      if (c != GRPC_STATUS_UNAVAILABLE && c != GRPC_STATUS_DEADLINE_EXCEEDED && c != GRPC_STATUS_INTERNAL)
        fprintf(stderr, "writer %d: %s %s\n", wr->id, cli_status_name(c), st.message);
      atomic_fetch_add(wr->failures, 1);
      usleep(100 * 1000); /* a client's pause before it tries again, not a synchronization */
    }
  }
  return NULL;
}

/* Every acknowledged record is there once, with its one version and its one audit row; no
 * record of the run exists that was never acknowledged twice over (a retry applied again). */
static void check_writes(th_world *w, writer *wr, int n, const char *tag) {
  char like[64];
  snprintf(like, sizeof like, "Người Thử %s %%", tag);
  for (int k = 0; k < n; k++) {
    if (wr[k].acked != PER_WRITER) fail_msg("writer %d: %d of %d records acknowledged", k, wr[k].acked, PER_WRITER);
    for (int i = 0; i < PER_WRITER; i++) {
      const char *id = wr[k].ids[i];
      assert_int_equal(sql_long(w, "SELECT count(*) FROM records.records WHERE id = $1::bigint", id), 1);
      assert_int_equal(sql_long(w, "SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint", id), 1);
      assert_int_equal(
          sql_long(w, "SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_CREATE' AND target_id = $1", id), 1);
    }
  }
  assert_int_equal(sql_long(w, "SELECT count(*) FROM records.records WHERE full_name LIKE $1", like), n * PER_WRITER);
}

static void run_writers(writer *wr, th_world *w, cli_chan **ch, const char *tag, atomic_int *failures,
                        pthread_t *th) {
  for (int k = 0; k < WRITERS; k++) {
    wr[k] = (writer){.w = w, .ch = ch, .tag = tag, .id = k, .failures = failures};
    pthread_create(&th[k], NULL, write_records, &wr[k]);
  }
}

static void wait_acked(writer *wr, int at_least) {
  long long end = now_ms() + DEADLINE_MS;
  for (;;) {
    int all = 1;
    for (int k = 0; k < WRITERS; k++) all &= wr[k].acked >= at_least;
    if (all) return;
    if (now_ms() > end) fail_msg("the writers did not get %d records acknowledged", at_least);
    usleep(20 * 1000);
  }
}

/* ------------------------------------------------------------ the faults ---------------- */

/* PostgreSQL dies (SIGKILL, no shutdown) with writes in flight and comes back: the services,
 * never restarted, answer UNAVAILABLE meanwhile and then work again on new connections. */
static void test_postgres_killed_under_load(void **state) {
  (void)state;
  /* commits wait for their WAL, as in production (the test clusters' default does not) */
  setenv("HOSO_TH_PG_SYNCHRONOUS_COMMIT", "on", 1);
  th_world w;
  assert_int_equal(th_world_start(&w, 1, NULL), 0);
  pid_t idn = w.identity.pid, rec = w.records.pid;
  atomic_int failures = 0;
  writer wr[WRITERS];
  pthread_t th[WRITERS];
  run_writers(wr, &w, &w.rec_ch, "pg", &failures, th);
  wait_acked(wr, 3);
  assert_int_equal(th_pg_kill(&w.pg), 0);
  /* the writers meet the outage before the database is back */
  long long end = now_ms() + 30000;
  while (atomic_load(&failures) < WRITERS && now_ms() < end) usleep(20 * 1000);
  assert_true(atomic_load(&failures) >= WRITERS);
  assert_int_equal(th_pg_start_again(&w.pg), 0);
  for (int k = 0; k < WRITERS; k++) pthread_join(th[k], NULL);
  check_writes(&w, wr, WRITERS, "pg");
  unsetenv("HOSO_TH_PG_SYNCHRONOUS_COMMIT");
  /* the same processes, serving: a login and a read */
  assert_int_equal(w.identity.pid, idn);
  assert_int_equal(w.records.pid, rec);
  char *t = th_login(w.id_ch, "ln.xem", TH_WORLD_PASSWORD);
  assert_non_null(t);
  free(t);
  assert_int_equal(th_world_stop(&w), 0);
}

/* The records service dies (SIGKILL) in the middle of writes, among them a 300-row import, and
 * is started again on its address: every acknowledged write is there, the import is all there
 * or not at all, and the retries apply each write once. */
static void test_service_killed_mid_write(void **state) {
  (void)state;
  setenv("HOSO_TH_PG_SYNCHRONOUS_COMMIT", "on", 1);
  th_world w;
  assert_int_equal(th_world_start(&w, 1, NULL), 0);
  atomic_int failures = 0;
  writer wr[WRITERS];
  pthread_t th[WRITERS];
  run_writers(wr, &w, &w.rec_ch, "svc", &failures, th);
  wait_acked(wr, 2);
  /* an import of 300 rows in flight when the process dies */
  size_t cap = 64 + 300 * 64, o = 0;
  char *csv = malloc(cap);
  o += (size_t)snprintf(csv + o, cap - o, "full_name,birth_date,gender,employment.category\n");
  for (int i = 0; i < 300; i++)
    o += (size_t)snprintf(csv + o, cap - o, "Người Nhập Lô %03d,1980-01-01,Nam,CIVIL_SERVANT\n", i);
  Hoso__Records__V1__ImportRecordsRequest iq = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  iq.unit_id = w.d1_id;
  iq.format = HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV;
  iq.content.data = (uint8_t *)csv;
  iq.content.len = o;
  iq.request_id = "fault-import-1";
  cli_status st;
  /* sent without waiting: the kill lands while it is read, validated or stored */
  cli_stream *s = cli_stream_open(w.rec_ch, REC "ImportRecords", th_bearer(w.tok_d1_updater), 1, 30000);
  assert_non_null(s);
  cli_stream_send(s, &iq.base);
  cli_stream_close_send(s);
  usleep(5 * 1000);
  assert_int_equal(th_tr_wait_gone(&w.records, 1), 0);
  cli_stream_finish(s, &st); /* whatever it says: the process is gone */
  long long before = sql_long(&w, "SELECT count(*) FROM records.records WHERE full_name LIKE 'Người Nhập Lô %'", NULL);
  assert_true(before == 0 || before == 300);
  assert_int_equal(th_world_service_restart(&w, "records", &w.records, NULL), 0);
  for (int k = 0; k < WRITERS; k++) pthread_join(th[k], NULL);
  check_writes(&w, wr, WRITERS, "svc");
  unsetenv("HOSO_TH_PG_SYNCHRONOUS_COMMIT");
  /* the import again, with its request_id: stored once in all */
  Hoso__Records__V1__ImportRecordsResponse *ir = NULL;
  grpc_status_code c = th_call(w.rec_ch, REC "ImportRecords", &iq, &hoso__records__v1__import_records_response__descriptor,
                               (void **)&ir, w.tok_d1_updater, &st);
  if (c != GRPC_STATUS_OK) fail_msg("import again: %s %s", cli_status_name(c), st.message);
  assert_int_equal(ir->imported, 300);
  protobuf_c_message_free_unpacked(&ir->base, NULL);
  assert_int_equal(sql_long(&w, "SELECT count(*) FROM records.records WHERE full_name LIKE 'Người Nhập Lô %'", NULL), 300);
  assert_int_equal(sql_long(&w,
                            "SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_IMPORT' AND "
                            "target_id = (SELECT managing_unit_id::text FROM records.records WHERE full_name = 'Người "
                            "Nhập Lô 000')",
                            NULL),
                   1);
  free(csv);
  assert_int_equal(th_world_stop(&w), 0);
}

/* The disk of the audit checkpoint file turns read-only: records goes on serving, says so in
 * its log, and writes the checkpoints again once the disk is writable, without a restart. */
static void test_checkpoint_disk_read_only(void **state) {
  (void)state;
  char dir[] = "/tmp/hoso-ckpt-XXXXXX";
  assert_non_null(mkdtemp(dir));
  if (mount("tmpfs", dir, "tmpfs", 0, "size=4m") != 0) fail_msg("mount a tmpfs on %s: %m (the test runs as root)", dir);
  char file[128], env_file[192];
  snprintf(file, sizeof file, "%s/checkpoints.log", dir);
  snprintf(env_file, sizeof env_file, "HOSO_AUDIT_CHECKPOINT_FILE=%s", file);
  const char *env[] = {env_file, "HOSO_AUDIT_CHECKPOINT_SECONDS=1", NULL};
  th_world w;
  assert_int_equal(th_world_start(&w, 1, env), 0);
  pid_t rec = w.records.pid;
  struct stat sb;
  long long end = now_ms() + 30000;
  while ((stat(file, &sb) != 0 || sb.st_size == 0) && now_ms() < end) usleep(50 * 1000);
  assert_true(sb.st_size > 0);

  assert_int_equal(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
  end = now_ms() + 30000;
  while (th_log_count(w.records.log, "audit checkpoint of records not written: Read-only file system", NULL) < 1 &&
         now_ms() < end)
    usleep(50 * 1000);
  assert_true(th_log_count(w.records.log, "audit checkpoint of records not written: Read-only file system", NULL) >= 1);
  /* serving all the while: a change is stored and audited */
  char id[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Người Đĩa Chỉ Đọc", id), 0);
  assert_int_equal(sql_long(&w, "SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_CREATE' AND target_id = $1", id),
                   1);
  stat(file, &sb);
  off_t frozen = sb.st_size;

  assert_int_equal(mount(NULL, dir, NULL, MS_REMOUNT, NULL), 0);
  end = now_ms() + 30000;
  while (th_log_count(w.records.log, "audit checkpoint of records written again", NULL) < 1 && now_ms() < end)
    usleep(50 * 1000);
  assert_true(th_log_count(w.records.log, "audit checkpoint of records written again", NULL) >= 1);
  stat(file, &sb);
  assert_true(sb.st_size > frozen);
  assert_int_equal(w.records.pid, rec);
  assert_int_equal(th_world_stop(&w), 0);
  umount(dir);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_postgres_killed_under_load),
      cmocka_unit_test(test_service_killed_mid_write),
      cmocka_unit_test(test_checkpoint_disk_read_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
