/* Nothing lost, nothing twice (GUIDE "Across services"; SQLite's way of proving a journal): the
 * transfers process is killed with SIGKILL at each step of a receive — before its commit, after
 * it and before the delivery, before the call to records, during it (records paused with the
 * request in its socket), after records answered and before the outbox row is marked — then
 * started again; records is killed before and after its own commit of the move; PostgreSQL
 * restarts while a delivery is under way. Each time the transfer ends right and the record
 * moved exactly once: one MANAGING_UNIT version for the send, one for the receipt. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "th_transfers.h"

#define K(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define S(x) HOSO__TRANSFERS__V1__TRANSFER_STATE__TRANSFER_STATE_##x
#define OK GRPC_STATUS_OK
#define WAIT_MS 90000

static th_world w;
static th_tr tr;
static const char *const quick[] = {"HOSO_TRANSFERS_JOBS_MS=200", "HOSO_LOG_LEVEL=debug", NULL};

static int setup(void **state) {
  (void)state;
  return th_world_start(&w, 1, NULL) == 0 && th_tr_start(&tr, &w, quick) == 0 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  th_svc_resume(&w.records);
  /* Logs are not checked for errors here: the crashes make services log failed calls. */
  return (th_tr_stop(&tr) | th_world_stop(&w)) ? -1 : 0;
}

static void nap_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static long long moves_of(const char *record) {
  PGconn *c = PQconnectdb(w.pg.admin_dsn);
  const char *p[1] = {record};
  PGresult *r = PQexecParams(c,
                             "SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint "
                             "AND action = 'MANAGING_UNIT'",
                             1, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("count: %s", PQresultErrorMessage(r));
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

/* A record of district 1, sent to district 2 and delivered (PENDING_TRANSFER): its transfer id. */
static void sent_record(const char *name, char rec[32], char id[32]) {
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, name, rec), 0);
  th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), w.d2_id, NULL, "2026-01-05", &st);
  if (!x) fail_msg("StartTransfer: %s", st.message);
  snprintf(id, 32, "%s", x->id);
  th_tr_free(x);
  x = th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st);
  if (!x) fail_msg("SendTransfer: %s", st.message);
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
}

/* The end every scenario must reach: received, delivered, the record at district 2 and moved
 * once by the send and once by the receipt. */
static void moved_once(const char *rec, const char *id) {
  assert_int_equal(th_tr_wait_state(&tr, id, S(COMPLETED), WAIT_MS), 0);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  Hoso__Records__V1__Record *r = th_tr_record(&tr, rec);
  assert_non_null(r);
  assert_string_equal(r->managing_unit_id, w.d2_id);
  assert_int_equal(r->status, HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE);
  assert_int_equal(r->n_transfers, 1);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  assert_int_equal(moves_of(rec), 2);
}

/* transfers restarted with a kill point set (or none): a new process, a new channel. */
static void restart_transfers(const char *kill_at) {
  char fault[96];
  snprintf(fault, sizeof fault, "HOSO_FAULT_KILL=%s", kill_at ? kill_at : "");
  const char *env[] = {quick[0], quick[1], fault, NULL};
  if (tr.svc.pid > 0) assert_int_equal(th_tr_stop(&tr), 0);
  assert_int_equal(th_tr_start(&tr, &w, env), 0);
}

/* ------------------------------------------------------------ transfers killed ---------- */

static void test_transfers_killed_at_each_step(void **state) {
  (void)state;
  static const char *const points[] = {"RECEIVE.before_commit", "RECEIVE.after_commit", "deliver.before_call",
                                       "deliver.after_call"};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
    char rec[32], id[32], name[64];
    cli_status st;
    snprintf(name, sizeof name, "Người Gián Đoạn %zu", i);
    sent_record(name, rec, id);
    restart_transfers(points[i]);
    assert_null(th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st)); /* it died answering */
    assert_int_equal(th_tr_wait_gone(&tr.svc, 0), 0);
    assert_true(th_log_count(tr.svc.log, "fault point", NULL) >= 1);
    restart_transfers(NULL);
    if (i == 0) {
      /* Killed before its commit, the receipt never happened: the unit receives again. */
      th_transfer *x = th_tr_get(&tr, w.tok_d2_reader, id, &st);
      assert_int_equal(x->state, S(SENT));
      th_tr_free(x);
      x = th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st);
      if (!x) fail_msg("ReceiveTransfer again: %s", st.message);
      th_tr_free(x);
    }
    moved_once(rec, id);
    fprintf(stderr, "killed at %s: moved once\n", points[i]);
  }
}

/* records' sockets hold bytes not read yet: the request has reached the paused process. gRPC
 * listens on IPv6 sockets (IPv4 mapped), so both tables are read. */
static int records_has_unread(int dump) {
  const char *colon = strrchr(w.records.addr, ':');
  unsigned port = (unsigned)atoi(colon + 1);
  int found = 0;
  for (int v6 = 0; v6 <= 1 && !found; v6++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/net/tcp%s", (int)w.records.pid, v6 ? "6" : "");
    FILE *f = fopen(path, "r");
    if (!f) continue;
    char line[512];
    while (!found && fgets(line, sizeof line, f)) {
      unsigned lport, st, txq, rxq;
      if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %x:%x", &lport, &st, &txq, &rxq) == 4) {
        found = lport == port && st == 1 && rxq > 0;
        if (dump && lport == port) fprintf(stderr, "records socket: %s", line);
      }
    }
    fclose(f);
  }
  return found;
}

typedef struct {
  const char *id;
  grpc_status_code got;
} call_st;

static void *receive_call(void *p) {
  call_st *c = p;
  cli_status st;
  th_transfer *x = th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", c->id, &st);
  c->got = x ? OK : st.code;
  th_tr_free(x);
  return NULL;
}

/* Lines of transfers' log announcing a delivery of a row of transfer id. */
static int deliveries(const char *id) {
  char needle[96];
  snprintf(needle, sizeof needle, "of transfer %s (", id);
  return th_log_count(tr.svc.log, needle, NULL);
}

/* Waits (bounded) until transfers' log announces one more delivery of transfer id than `before`. */
static void wait_delivering(const char *id, int before) {
  for (int i = 0; i < 600; i++) {
    if (deliveries(id) > before) return;
    nap_ms(50);
  }
  fail_msg("transfers never started delivering transfer %s", id);
}

/* Killed during the delivery: records is paused, the request sits in its socket, transfers
 * dies; records wakes and makes the move; the new transfers process delivers the row again and
 * records, having seen its key, changes nothing. */
static void test_transfers_killed_during_delivery(void **state) {
  (void)state;
  char rec[32], id[32];
  sent_record("Người Giữa Đường", rec, id);
  int before = deliveries(id);
  assert_int_equal(th_svc_pause(&w.records), 0);
  call_st c = {.id = id};
  pthread_t t;
  pthread_create(&t, NULL, receive_call, &c);
  wait_delivering(id, before);
  int unread = 0;
  for (int i = 0; i < 400 && !(unread = records_has_unread(0)); i++) nap_ms(25);
  if (!unread) records_has_unread(1);
  assert_true(unread);
  th_tr_kill(&tr);
  assert_int_equal(th_svc_resume(&w.records), 0);
  pthread_join(t, NULL);
  assert_int_not_equal(c.got, OK);
  restart_transfers(NULL);
  moved_once(rec, id);
}

/* ------------------------------------------------------------ records killed ------------ */

static void restart_records(const char *kill_at) {
  char fault[96];
  snprintf(fault, sizeof fault, "HOSO_FAULT_KILL=%s", kill_at ? kill_at : "");
  const char *env[] = {fault, NULL};
  if (w.records.pid > 0) assert_int_equal(th_svc_stop(&w.records), 0);
  assert_int_equal(th_world_service_restart(&w, "records", &w.records, env), 0);
}

/* records killed outright before the receipt, and records killing itself just before and just
 * after committing the move: transfers keeps trying (backoff) until records, started again at
 * its address, confirms; the move is made once. */
static void test_records_killed(void **state) {
  (void)state;
  th_svc_resume(&w.records);
  char rec[32], id[32];
  cli_status st;
  sent_record("Người Chờ Hồ Sơ", rec, id);
  assert_int_equal(th_tr_wait_gone(&w.records, 1), 0);
  th_transfer *x = th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st);
  if (!x) fail_msg("ReceiveTransfer with records down: %s", st.message);
  assert_int_equal(x->state, S(COMPLETED));
  assert_false(x->delivered);
  th_tr_free(x);
  restart_records(NULL);
  moved_once(rec, id);

  static const char *const points[] = {"SetManagingUnit.before_commit", "SetManagingUnit.after_commit"};
  for (size_t i = 0; i < 2; i++) {
    char name[64];
    snprintf(name, sizeof name, "Người Đổ Vỡ %zu", i);
    sent_record(name, rec, id);
    restart_records(points[i]);
    x = th_tr_act(&tr, w.tok_d2_updater, "ReceiveTransfer", id, &st);
    if (!x) fail_msg("ReceiveTransfer: %s", st.message);
    th_tr_free(x);
    assert_int_equal(th_tr_wait_gone(&w.records, 0), 0);
    restart_records(NULL);
    moved_once(rec, id);
    fprintf(stderr, "records killed at %s: moved once\n", points[i]);
  }
}

/* ------------------------------------------------------------ PostgreSQL restarted ------ */

/* The delivery is under way (records paused with the request in its socket) when PostgreSQL
 * restarts: records' and transfers' connections break under them; both reconnect and the move
 * is made once. */
static void test_postgres_restarted_mid_delivery(void **state) {
  (void)state;
  th_svc_resume(&w.records);
  char rec[32], id[32];
  sent_record("Người Qua Cơn Bão", rec, id);
  int before = deliveries(id);
  assert_int_equal(th_svc_pause(&w.records), 0);
  call_st c = {.id = id};
  pthread_t t;
  pthread_create(&t, NULL, receive_call, &c);
  wait_delivering(id, before);
  assert_int_equal(th_pg_stop(&w.pg), 0);
  assert_int_equal(th_pg_restart_server(&w.pg), 0);
  assert_int_equal(th_svc_resume(&w.records), 0);
  pthread_join(t, NULL);
  moved_once(rec, id);
}

/* ------------------------------------------------------------ a merge meanwhile --------- */

/* Rows of transfers' own schema, counted as the administrator (no row-level security). */
static long long count_of(const char *sql, const char *arg) {
  PGconn *c = PQconnectdb(w.pg.admin_dsn);
  const char *p[1] = {arg};
  PGresult *r = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("count: %s", PQresultErrorMessage(r));
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

/* The receiving unit is dissolved into its district (MergeUnits) while the receipt waits in the
 * outbox (records down): its step names the dissolved school. Transfers gives it to the
 * successor when it follows the merge, records (started again) makes it once it has followed the
 * merge too, and the record ends active at the district, moved once by the send and once by the
 * receipt, with no delivery error. Before: records refused the step for good (the unit is
 * dissolved) and the record stayed in transit at district 1 for ever. */
static void test_receiver_merged_before_delivery(void **state) {
  (void)state;
  th_svc_resume(&w.records);
  char school[32], rec[32], id[32];
  cli_status st;
  assert_int_equal(th_world_unit(&w, w.d2_id, "LNG-TH-HM", "Trường Tiểu học Hợp Mới", 5, school, NULL), 0);
  char *school_updater = th_world_account_token(&w, "thhm.capnhat", school, HOSO__COMMON__V1__ROLE__UPDATER);
  assert_non_null(school_updater);
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Người Sáp Nhập", rec), 0);
  th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, rec, K(BETWEEN_UNITS), school, NULL, "2026-01-05", &st);
  if (!x) fail_msg("StartTransfer: %s", st.message);
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);

  x = th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st);
  if (!x) fail_msg("SendTransfer: %s", st.message);
  th_tr_free(x);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  assert_int_equal(th_tr_wait_gone(&w.records, 1), 0);
  x = th_tr_act(&tr, school_updater, "ReceiveTransfer", id, &st);
  if (!x) fail_msg("ReceiveTransfer with records down: %s", st.message);
  assert_int_equal(x->state, S(COMPLETED));
  assert_false(x->delivered);
  th_tr_free(x);

  Hoso__Identity__V1__MergeUnitsRequest mr = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  mr.source_unit_id = school;
  mr.target_unit_id = w.d2_id;
  mr.reason = "Quyết định hợp nhất trường vào huyện (thử nghiệm)";
  if (th_call(w.id_ch, "/hoso.identity.v1.Identity/MergeUnits", &mr, &hoso__identity__v1__merge_units_response__descriptor,
              NULL, w.tok_admin, &st) != OK)
    fail_msg("MergeUnits: %s", st.message);
  int followed = 0;
  for (int i = 0; i < 1200 && !followed; i++) {
    followed = count_of("SELECT count(*) FROM transfers.unit_tree_applied WHERE unit_id = $1::bigint", school) == 1;
    if (!followed) nap_ms(50);
  }
  assert_true(followed);

  restart_records(NULL);
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  x = th_tr_get(&tr, w.tok_admin, id, &st);
  assert_non_null(x);
  if (x->delivery_error && *x->delivery_error) fail_msg("refused: %s", x->delivery_error);
  th_tr_free(x);
  Hoso__Records__V1__Record *r = th_tr_record(&tr, rec);
  assert_non_null(r);
  assert_string_equal(r->managing_unit_id, w.d2_id);
  assert_int_equal(r->status, HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE);
  assert_int_equal(r->n_transfers, 1);
  assert_string_equal(r->transfers[0]->to_unit, w.d2_id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  assert_int_equal(moves_of(rec), 2);
  free(school_updater);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transfers_killed_at_each_step),
      cmocka_unit_test(test_transfers_killed_during_delivery),
      cmocka_unit_test(test_records_killed),
      cmocka_unit_test(test_postgres_restarted_mid_delivery),
      cmocka_unit_test(test_receiver_merged_before_delivery),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
