/* The batched read audit over real gRPC and PostgreSQL: a read answers only once its audit row
 * is committed (the batch writer held, the read seen waiting), a batch that cannot be written
 * fails its reads with UNAVAILABLE and sends no data, and a repeated request_id answers with the
 * first call's result (never the record as it is now) and is recorded as a read. */
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

static th_world w;
static PGconn *admin_db; /* superuser: inspection and the faults only */
static char rec_id[32];

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(admin_db) != CONNECTION_OK) return -1;
  return th_world_record(&w, w.tok_d1_updater, w.d1_id, "Hoàng Văn Thụ", rec_id);
}

static int teardown(void **state) {
  (void)state;
  PQfinish(admin_db);
  return th_world_stop(&w);
}

static long long sql_count(const char *sql, const char *p1) {
  const char *p[1] = {p1};
  PGresult *r = PQexecParams(admin_db, sql, p1 ? 1 : 0, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static void admin_sql(const char *sql) {
  PGresult *r = PQexec(admin_db, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    fail_msg("%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
}

/* GetRecord with an x-request-id of our own, on a channel of its own (a thread may call it). */
static grpc_status_code get_with_id(const char *request_id, Hoso__Records__V1__GetRecordResponse **out) {
  cli_chan *ch = cli_open_tls(w.records.addr, NULL, NULL, NULL);
  char bearer[4096];
  snprintf(bearer, sizeof bearer, "Bearer %s", w.tok_d1_reader);
  cli_md md[2] = {{"authorization", bearer}, {"x-request-id", request_id}};
  Hoso__Records__V1__GetRecordRequest q = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  q.record_id = rec_id;
  ProtobufCMessage *resp = NULL;
  cli_status st;
  grpc_status_code c =
      cli_call(ch, REC "GetRecord", &q.base, &hoso__records__v1__get_record_response__descriptor, &resp, md, 2, 30000, &st);
  cli_close(ch);
  *out = (Hoso__Records__V1__GetRecordResponse *)resp;
  return c;
}

static long long rows_of(const char *request_id) {
  return sql_count("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_READ' AND request_id = $1", request_id);
}

/* ------------------------------------------------------------ the read waits ------------- */

typedef struct {
  char request_id[64];
  atomic_int done;
  grpc_status_code code;
  int had_record;
} reader;

static void *read_once(void *p) {
  reader *r = p;
  Hoso__Records__V1__GetRecordResponse *o = NULL;
  r->code = get_with_id(r->request_id, &o);
  r->had_record = o && o->record && !strcmp(o->record->id, rec_id);
  if (o) protobuf_c_message_free_unpacked(&o->base, NULL);
  atomic_store(&r->done, 1);
  return NULL;
}

/* With every chain's head locked by another transaction the batch writer cannot append: the
 * read, whose own transaction has long committed, is seen waiting for it, with no row yet; once
 * the lock goes its row is committed and only then does the record arrive. */
static void test_read_waits_for_its_row(void **state) {
  (void)state;
  admin_sql("BEGIN");
  admin_sql("SELECT id FROM records.audit_head FOR UPDATE");
  reader r = {.request_id = "batch-wait-1"};
  atomic_init(&r.done, 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, read_once, &r), 0);
  /* the writer's append, blocked on the heads: a condition, waited for (bounded) */
  PGconn *look = PQconnectdb(w.pg.admin_dsn);
  int blocked = 0;
  for (int i = 0; i < 3000 && !blocked; i++) {
    PGresult *q = PQexec(look, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND query LIKE '%audit_append_batch%'");
    blocked = PQresultStatus(q) == PGRES_TUPLES_OK && atoll(PQgetvalue(q, 0, 0)) > 0;
    PQclear(q);
    if (!blocked) usleep(10000);
  }
  PQfinish(look);
  if (!blocked) {
    admin_sql("ROLLBACK");
    pthread_join(t, NULL);
    fail_msg("the audit batch never waited on the heads within 30 s");
  }
  /* the read has not answered, and its row is not there */
  assert_int_equal(atomic_load(&r.done), 0);
  assert_int_equal(rows_of(r.request_id), 0);
  admin_sql("ROLLBACK");
  pthread_join(t, NULL);
  assert_int_equal(r.code, GRPC_STATUS_OK);
  assert_true(r.had_record);
  /* committed before the answer: there as soon as the call returned */
  assert_int_equal(rows_of(r.request_id), 1);
}

/* ------------------------------------------------------------ the batch fails ------------ */

/* When the append fails (here: the services' role may no longer call it), every read of that
 * batch fails with UNAVAILABLE and carries no record; reads work again once it can. */
static void test_audit_failure_sends_nothing(void **state) {
  (void)state;
  admin_sql("REVOKE EXECUTE ON FUNCTION records.audit_append_batch(smallint, json) FROM hoso");
  enum { N = 6 };
  reader r[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    memset(&r[i], 0, sizeof r[i]);
    snprintf(r[i].request_id, sizeof r[i].request_id, "batch-fail-%d", i);
    atomic_init(&r[i].done, 0);
    assert_int_equal(pthread_create(&t[i], NULL, read_once, &r[i]), 0);
  }
  for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < N; i++) {
    assert_int_equal(r[i].code, GRPC_STATUS_UNAVAILABLE);
    assert_false(r[i].had_record);
    assert_int_equal(rows_of(r[i].request_id), 0);
  }
  /* a search is a read too: its page is not sent either */
  Hoso__Records__V1__SearchRecordsRequest s = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  s.name = "hoang";
  Hoso__Records__V1__SearchRecordsResponse *sr = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "SearchRecords", &s, &hoso__records__v1__search_records_response__descriptor,
                    (void **)&sr, w.tok_d1_reader, &st),
            &st, GRPC_STATUS_UNAVAILABLE, NULL);
  assert_null(sr);
  admin_sql("GRANT EXECUTE ON FUNCTION records.audit_append_batch(smallint, json) TO hoso");
  Hoso__Records__V1__GetRecordResponse *o = NULL;
  assert_int_equal(get_with_id("batch-fail-after", &o), GRPC_STATUS_OK);
  assert_non_null(o);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  assert_int_equal(rows_of("batch-fail-after"), 1);
  /* the failure is in the log, once per batch, as an error an operator sees */
  assert_true(th_log_count(w.records.log, "audit batch of", NULL) >= 1);
}

/* ------------------------------------------------------------ replays -------------------- */

static grpc_status_code create(const char *name, const char *request_id, Hoso__Records__V1__Record **out,
                               cli_status *st) {
  Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
  r.managing_unit_id = w.d1_id;
  r.full_name = (char *)name;
  r.birth_date = "1984-04-04";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  Hoso__Records__V1__Employment em = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  em.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  r.employment = &em;
  Hoso__Records__V1__CreateRecordRequest q = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  q.record = &r;
  q.request_id = (char *)request_id;
  Hoso__Records__V1__CreateRecordResponse *o = NULL;
  grpc_status_code c = th_call(w.rec_ch, REC "CreateRecord", &q, &hoso__records__v1__create_record_response__descriptor,
                               (void **)&o, w.tok_d1_updater, st);
  *out = NULL;
  if (o) {
    *out = o->record;
    o->record = NULL;
    protobuf_c_message_free_unpacked(&o->base, NULL);
  }
  return c;
}

/* The first CreateRecord made version 1; the record has changed since. The same request_id
 * again, with another body that nobody validates, gets version 1 as the first call answered,
 * not the record as it is now, and the replay is in the audit log as a read. */
static void test_replay_answers_the_first_result(void **state) {
  (void)state;
  Hoso__Records__V1__Record *a = NULL, *b = NULL;
  cli_status st;
  assert_int_equal(create("Vũ Thị Lụa", "replay-create-1", &a, &st), GRPC_STATUS_OK);
  assert_int_equal(a->version, 1);

  Hoso__Records__V1__UpdateRecordRequest u = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  char *name = a->full_name;
  a->full_name = "Vũ Thị Lụa Đổi Tên";
  u.record = a;
  u.expected_version = 1;
  u.request_id = "replay-update-1";
  Hoso__Records__V1__UpdateRecordResponse *uo = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "UpdateRecord", &u, &hoso__records__v1__update_record_response__descriptor,
                           (void **)&uo, w.tok_d1_updater, &st),
                   GRPC_STATUS_OK);
  a->full_name = name;
  assert_int_equal(uo->record->version, 2);
  protobuf_c_message_free_unpacked(&uo->base, NULL);

  assert_int_equal(create("Một Tên Khác Hẳn", "replay-create-1", &b, &st), GRPC_STATUS_OK);
  assert_string_equal(b->id, a->id);
  assert_int_equal(b->version, 1);
  assert_string_equal(b->full_name, "Vũ Thị Lụa");
  assert_int_equal(sql_count("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_READ' "
                             "AND detail LIKE '%\"replay_of\":\"replay-create-1\"%' AND target_id = $1",
                             a->id),
                   1);
  /* the update's replay: version 2 as it answered then */
  uo = NULL;
  u.expected_version = 7; /* not looked at: a replay */
  assert_int_equal(th_call(w.rec_ch, REC "UpdateRecord", &u, &hoso__records__v1__update_record_response__descriptor,
                           (void **)&uo, w.tok_d1_updater, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(uo->record->version, 2);
  assert_string_equal(uo->record->full_name, "Vũ Thị Lụa Đổi Tên");
  protobuf_c_message_free_unpacked(&uo->base, NULL);
  /* nothing new was created by either replay */
  assert_int_equal(sql_count("SELECT count(*) FROM records.records WHERE full_name = $1", "Một Tên Khác Hẳn"), 0);
  assert_int_equal(sql_count("SELECT max(version) FROM records.records WHERE id = $1::bigint", a->id), 2);
  protobuf_c_message_free_unpacked(&a->base, NULL);
  protobuf_c_message_free_unpacked(&b->base, NULL);

  /* the chains, rows of batches and of transactions together, recompute intact */
  db_conn *c = db_open(w.pg.dsn, "records");
  assert_non_null(c);
  int64_t rows = 0, bad = 0;
  assert_int_equal(audit_verify(c, "records", &rows, &bad), 0);
  db_close(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_waits_for_its_row),
      cmocka_unit_test(test_audit_failure_sends_nothing),
      cmocka_unit_test(test_replay_answers_the_first_result),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
