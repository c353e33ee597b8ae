/* common/audit_batch against a real PostgreSQL: a million read audit rows appended in batches by
 * many concurrent callers (each waiting for its own batch, as a read does) leave chains that
 * the verifier recomputes intact, every row once; batches really are shared. */
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
#include "audit.h"
#include "audit_batch.h"
#include "db.h"
#include "log.h"
#include "th.h"

#define ROWS 1000000
#define CALLERS 64

static th_pg pg;

static int setup(void **state) {
  (void)state;
  log_init("test-audit-batch");
  if (th_pg_start(&pg) != 0) return -1;
  /* the schema as a service's: made by the owner role, the services' role granted its part */
  db_conn *owner = db_open(pg.migrate_dsn, "ab");
  static const db_migration none[] = {{0, 0, 0}};
  int rc = owner && db_migrate(owner, "ab", none) == 0 && db_cmd(owner, "SELECT grant_service_role('hoso')", 0) == 0;
  db_close(owner);
  return rc ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  th_pg_destroy(&pg);
  return 0;
}

typedef struct {
  audit_batch *b;
  int first, n;
  int failed;
} caller;

static void *call_loop(void *p) {
  caller *c = p;
  char target[24], rid[32], detail[64];
  for (int i = 0; i < c->n; i++) {
    int k = c->first + i;
    snprintf(target, sizeof target, "%d", 100001 + k % 250000);
    snprintf(rid, sizeof rid, "read-%d", k);
    snprintf(detail, sizeof detail, "{\"updated_at\":\"2026-12-01T00:00:00Z\",\"version\":%d}", 1 + k % 7);
    audit_entry e = {.actor_id = "42", .actor_name = "ln.xem", .action = "RECORD_READ", .target_type = "record",
                     .target_id = target, .unit_path = "1.2.5", .outcome = "ok", .client_addr = "10.0.0.9",
                     .request_id = rid, .detail_json = detail};
    if (audit_batch_write(c->b, &e) != 0) c->failed++;
  }
  return NULL;
}

static void test_million_batched_reads_verify(void **state) {
  (void)state;
  struct timespec t0, t1, t2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  audit_batch *b = audit_batch_start(pg.dsn, "ab", 2, 1, 60000);
  assert_non_null(b);
  caller c[CALLERS];
  pthread_t th[CALLERS];
  for (int i = 0; i < CALLERS; i++) {
    c[i] = (caller){.b = b, .first = i * (ROWS / CALLERS), .n = ROWS / CALLERS};
    assert_int_equal(pthread_create(&th[i], NULL, call_loop, &c[i]), 0);
  }
  int failed = 0;
  for (int i = 0; i < CALLERS; i++) {
    pthread_join(th[i], NULL);
    failed += c[i].failed;
  }
  long long rows = 0, batches = 0;
  audit_batch_counts(b, &rows, &batches);
  audit_batch_stop(b);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  assert_int_equal(failed, 0);
  assert_int_equal(rows, ROWS);
  /* shared: far fewer statements than rows */
  assert_true(batches * 8 <= rows);

  db_conn *v = db_open(pg.dsn, "ab");
  assert_non_null(v);
  int64_t checked = 0, bad = 0;
  int bad_chain = 0;
  assert_int_equal(audit_verify_ex(v, "ab", &checked, &bad_chain, &bad), 0);
  assert_int_equal(checked, ROWS);
  /* each call's row once */
  PGresult *r = db_q(v, "SELECT count(DISTINCT request_id) FROM ab.audit_log", 0);
  assert_non_null(r);
  assert_int_equal(atoll(PQgetvalue(r, 0, 0)), ROWS);
  PQclear(r);
  db_close(v);
  clock_gettime(CLOCK_MONOTONIC, &t2);
  printf("# %d rows in %lld batches: written in %.1f s, verified in %.1f s\n", ROWS, batches,
         (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
         (double)(t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) / 1e9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_million_batched_reads_verify),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
