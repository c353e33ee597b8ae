/* Records' change marks for reporting's kept counts (records/migrations/051_report_mark_log.sql)
 * over a real PostgreSQL and records process: writers of a leaf's periods only append to the
 * marks log, so two transactions moving people between two leaves in opposite orders both
 * commit (033's one row per leaf, updated by every writer, deadlocked here: 40P01), each leaves
 * its marks under its own transaction id, and the log is pruned below a horizon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "th_world.h"

static th_world w;
static char a1[32], a2[32], b1[32], b2[32];

static PGconn *records_conn(void) {
  PGconn *c = PQconnectdb(w.pg.dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, "SET search_path = records, public; SET hoso.scope = '*'");
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  return c;
}

static void ok(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
}

/* What records does when a person's period changes: the current period of `id` rewritten (the
 * statement's trigger marks the person's leaf). */
static const char *const touch = "UPDATE fact_periods SET full_name = full_name WHERE record_id = $1::bigint "
                                 "AND known_to = 'infinity'";

static void touch_now(PGconn *c, const char *id) {
  const char *p[1] = {id};
  PGresult *r = PQexecParams(c, touch, 1, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("touching %s: %s", id, PQerrorMessage(c));
  assert_true(atoi(PQcmdTuples(r)) >= 1);
  PQclear(r);
}

static long one_long(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", sql, PQerrorMessage(c));
  long v = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  return th_world_record(&w, w.tok_admin, w.d1_id, "Nguyễn Văn An", a1) || th_world_record(&w, w.tok_admin, w.d1_id,
                                                                                            "Trần Thị Bình", a2) ||
                 th_world_record(&w, w.tok_admin, w.d2_id, "Lê Văn Cường", b1) ||
                 th_world_record(&w, w.tok_admin, w.d2_id, "Phạm Thị Dung", b2)
             ? -1
             : 0;
}

static int teardown(void **state) {
  (void)state;
  return th_world_stop(&w);
}

/* T1 writes leaf d1 then d2, T2 writes d2 then d1 (different people: no period row is shared),
 * the second statements sent together: both must commit. */
static void test_opposite_moves_both_commit(void **state) {
  (void)state;
  PGconn *t1 = records_conn(), *t2 = records_conn();
  ok(t1, "BEGIN");
  ok(t2, "BEGIN");
  touch_now(t1, a1); /* T1: leaf d1 */
  touch_now(t2, b1); /* T2: leaf d2 */
  const char *p1[1] = {b2}, *p2[1] = {a2};
  assert_int_equal(PQsendQueryParams(t1, touch, 1, NULL, p1, NULL, NULL, 0), 1); /* T1: leaf d2 */
  assert_int_equal(PQsendQueryParams(t2, touch, 1, NULL, p2, NULL, NULL, 0), 1); /* T2: leaf d1 */
  PGconn *both[2] = {t1, t2};
  for (int i = 0; i < 2; i++) {
    PGresult *r, *last = NULL;
    while ((r = PQgetResult(both[i]))) {
      if (last) PQclear(last);
      last = r;
    }
    if (!last || PQresultStatus(last) != PGRES_COMMAND_OK)
      fail_msg("transaction %d's second write was refused: %s (SQLSTATE %s)", i + 1, PQerrorMessage(both[i]),
               last && PQresultErrorField(last, PG_DIAG_SQLSTATE) ? PQresultErrorField(last, PG_DIAG_SQLSTATE) : "-");
    PQclear(last);
  }
  long x1 = one_long(t1, "SELECT pg_current_xact_id()::text::bigint");
  long x2 = one_long(t2, "SELECT pg_current_xact_id()::text::bigint");
  ok(t1, "COMMIT");
  ok(t2, "COMMIT");
  /* each transaction marked both leaves under its own id */
  PGconn *c = records_conn();
  char q[512];
  snprintf(q, sizeof q, "SELECT count(*) FROM report_mark_log WHERE xid IN (%ld, %ld) AND unit_path IN "
           "('%s'::public.ltree, '%s'::public.ltree)", x1, x2, w.d1_path, w.d2_path);
  assert_int_equal(one_long(c, q), 4);
  PQfinish(t1);
  PQfinish(t2);
  PQfinish(c);
}

/* The prune deletes the marks below the candidate horizon taken by its previous run (once it is
 * `keep` old) and records that horizon with the delete. */
static void test_prune_below_horizon(void **state) {
  (void)state;
  PGconn *c = records_conn();
  /* records' facts job took a candidate at its start: begin from none */
  ok(c, "UPDATE report_mark_horizon SET candidate = NULL, candidate_at = NULL");
  ok(c, "BEGIN");
  touch_now(c, a1);
  long old = one_long(c, "SELECT pg_current_xact_id()::text::bigint");
  ok(c, "COMMIT");
  /* first run: a candidate (above `old`: that transaction has ended), nothing deleted yet */
  assert_int_equal(one_long(c, "SELECT report_marks_prune('1 hour')"), 0);
  long cand = one_long(c, "SELECT candidate FROM report_mark_horizon");
  assert_true(cand > old);
  ok(c, "BEGIN");
  touch_now(c, b1);
  long young = one_long(c, "SELECT pg_current_xact_id()::text::bigint");
  ok(c, "COMMIT");
  /* not yet `keep` old: kept */
  assert_int_equal(one_long(c, "SELECT report_marks_prune('1 hour')"), 0);
  assert_int_equal(one_long(c, "SELECT pruned_below FROM report_mark_horizon"), 0);
  /* old enough: the marks below the candidate go, the horizon moves with them */
  assert_true(one_long(c, "SELECT report_marks_prune('0 seconds')") >= 1);
  assert_int_equal(one_long(c, "SELECT pruned_below FROM report_mark_horizon"), cand);
  char q[256];
  snprintf(q, sizeof q, "SELECT count(*) FROM report_mark_log WHERE xid = %ld", old);
  assert_int_equal(one_long(c, q), 0);
  snprintf(q, sizeof q, "SELECT count(*) FROM report_mark_log WHERE xid = %ld", young);
  assert_int_equal(one_long(c, q), 1);
  assert_int_equal(one_long(c, "SELECT count(*) FROM report_mark_log WHERE xid < (SELECT pruned_below FROM "
                               "report_mark_horizon)"),
                   0);
  /* a new candidate was taken for the next run */
  assert_true(one_long(c, "SELECT candidate FROM report_mark_horizon") > cand);
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_opposite_moves_both_commit),
      cmocka_unit_test(test_prune_below_horizon),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
