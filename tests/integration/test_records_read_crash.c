/* Crashes during batched read audit: records SIGKILLed just after a batch committed (before its
 * readers were answered), then PostgreSQL SIGKILLed under a stream of reads. Whatever was lost,
 * no read that returned a record is missing its audit row, and the chains verify. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "audit.h"
#include "db.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define READERS 8
#define MAX_OK 200000

static th_world w;
static char rec_id[32];

/* The request ids of the reads that returned the record. */
static struct {
  pthread_mutex_t mu;
  char (*ids)[24];
  int n;
} ok = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static atomic_int stop;
static atomic_int seq;

static int setup(void **state) {
  (void)state;
  /* the 30th batch to commit kills the process before its readers hear of it */
  static const char *const env[] = {"HOSO_FAULT_KILL=audit_batch.committed#30", NULL};
  if (th_world_start(&w, 1, env) != 0) return -1;
  ok.ids = calloc(MAX_OK, sizeof *ok.ids);
  return ok.ids && th_world_record(&w, w.tok_d1_updater, w.d1_id, "Ngô Thì Nhậm", rec_id) == 0 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(ok.ids);
  return th_world_stop(&w);
}

static void *reader(void *arg) {
  (void)arg;
  cli_chan *ch = cli_open_tls(w.records.addr, NULL, NULL, NULL);
  char bearer[4096];
  snprintf(bearer, sizeof bearer, "Bearer %s", w.tok_d1_reader);
  while (!atomic_load(&stop)) {
    char rid[24];
    snprintf(rid, sizeof rid, "crash-read-%d", atomic_fetch_add(&seq, 1));
    cli_md md[2] = {{"authorization", bearer}, {"x-request-id", rid}};
    Hoso__Records__V1__GetRecordRequest q = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
    q.record_id = rec_id;
    ProtobufCMessage *resp = NULL;
    cli_status st;
    grpc_status_code c =
        cli_call(ch, REC "GetRecord", &q.base, &hoso__records__v1__get_record_response__descriptor, &resp, md, 2, 5000, &st);
    Hoso__Records__V1__GetRecordResponse *o = (void *)resp;
    if (c == GRPC_STATUS_OK && o && o->record && !strcmp(o->record->id, rec_id)) {
      pthread_mutex_lock(&ok.mu);
      if (ok.n < MAX_OK) snprintf(ok.ids[ok.n++], 24, "%s", rid);
      pthread_mutex_unlock(&ok.mu);
    } else if (c != GRPC_STATUS_OK) {
      usleep(20000); /* the service or the database is down: try again shortly */
    }
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  }
  cli_close(ch);
  return NULL;
}

static int oks(void) {
  pthread_mutex_lock(&ok.mu);
  int n = ok.n;
  pthread_mutex_unlock(&ok.mu);
  return n;
}

static void start_readers(pthread_t *t) {
  atomic_store(&stop, 0);
  for (int i = 0; i < READERS; i++) assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
}

static void stop_readers(pthread_t *t) {
  atomic_store(&stop, 1);
  for (int i = 0; i < READERS; i++) pthread_join(t[i], NULL);
}

/* Every read that returned the record has its row: the ids missing from the log, none. */
static void expect_every_answered_read_logged(void) {
  PGconn *a = PQconnectdb(w.pg.admin_dsn);
  assert_int_equal(PQstatus(a), CONNECTION_OK);
  PGresult *r = PQexec(a, "CREATE TEMP TABLE answered (rid text PRIMARY KEY)");
  PQclear(r);
  pthread_mutex_lock(&ok.mu);
  for (int i = 0; i < ok.n; i++) {
    const char *p[1] = {ok.ids[i]};
    r = PQexecParams(a, "INSERT INTO answered VALUES ($1)", 1, NULL, p, NULL, NULL, 0);
    PQclear(r);
  }
  int n = ok.n;
  pthread_mutex_unlock(&ok.mu);
  r = PQexec(a, "SELECT count(*), min(rid) FROM answered x WHERE NOT EXISTS (SELECT 1 FROM records.audit_log l "
                "WHERE l.action = 'RECORD_READ' AND l.request_id = x.rid)");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  if (atoll(PQgetvalue(r, 0, 0)) != 0)
    fail_msg("%s of %d answered reads have no audit row (first: %s)", PQgetvalue(r, 0, 0), n, PQgetvalue(r, 0, 1));
  PQclear(r);
  PQfinish(a);
  printf("# %d answered reads, every one in the audit log\n", n);
}

static void wait_until(int (*cond)(void), const char *what) {
  for (int i = 0; i < 6000 && !cond(); i++) usleep(10000);
  if (!cond()) fail_msg("not within 60 s: %s", what);
}

static int records_dead(void) { return !th_svc_alive(&w.records); }
static int base;
static int some_more(void) { return oks() >= base + 100; }

static void test_kill_records_then_postgres(void **state) {
  (void)state;
  pthread_t t[READERS];
  /* 1: records dies right after a batch's commit, its readers not yet answered */
  start_readers(t);
  wait_until(records_dead, "records killed at its fault point");
  stop_readers(t);
  assert_true(th_log_count(w.records.log, "fault point audit_batch.committed", NULL) == 1);
  assert_true(oks() > 0);
  expect_every_answered_read_logged();

  /* 2: records again (no fault), then PostgreSQL killed under the reads */
  assert_int_equal(th_world_service_restart(&w, "records", &w.records, NULL), 0);
  start_readers(t);
  base = oks();
  wait_until(some_more, "reads answered after the restart of records");
  assert_int_equal(th_pg_kill(&w.pg), 0);
  assert_int_equal(th_pg_restart_server(&w.pg), 0);
  base = oks();
  wait_until(some_more, "reads answered again after PostgreSQL's recovery");
  stop_readers(t);
  expect_every_answered_read_logged();

  db_conn *c = db_open(w.pg.dsn, "records");
  assert_non_null(c);
  int64_t rows = 0, bad = 0;
  assert_int_equal(audit_verify(c, "records", &rows, &bad), 0);
  db_close(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kill_records_then_postgres),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
