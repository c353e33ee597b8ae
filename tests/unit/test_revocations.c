/* The revocation list (common/revocations.c): a token is void only below its subject's
 * generation, revocations only tighten, pruning forgets by age, bad subjects are refused, and
 * readers and a writer may run at once (the sanitizers watch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "revocations.h"

static void test_generations(void **state) {
  (void)state;
  rev_list *l = rev_new();
  assert_non_null(l);
  assert_int_equal(rev_revoked(l, "17", 0), 0); /* nothing known: nothing void */
  assert_int_equal(rev_add(l, "17", 3, 1000), 0);
  assert_int_equal(rev_revoked(l, "17", 0), 1);
  assert_int_equal(rev_revoked(l, "17", 2), 1);
  assert_int_equal(rev_revoked(l, "17", 3), 0); /* signed after the change */
  assert_int_equal(rev_revoked(l, "17", 4), 0);
  assert_int_equal(rev_revoked(l, "170", 0), 0); /* another subject */
  assert_int_equal(rev_revoked(l, "1", 0), 0);
  assert_int_equal(rev_revoked(l, "", 0), 0);
  /* an older revocation read late never loosens a newer one */
  assert_int_equal(rev_add(l, "17", 2, 1001), 0);
  assert_int_equal(rev_revoked(l, "17", 2), 1);
  assert_int_equal(rev_add(l, "17", 5, 1002), 0);
  assert_int_equal(rev_revoked(l, "17", 4), 1);
  assert_int_equal(rev_count(l), 1);
  assert_int_equal(rev_add(l, "svc:records", 1, 1002), 0);
  assert_int_equal(rev_revoked(l, "svc:records", 0), 1);
  assert_int_equal(rev_count(l), 2);
  rev_free(l);
}

static void test_bad_subjects(void **state) {
  (void)state;
  rev_list *l = rev_new();
  char longsub[80];
  memset(longsub, 'x', sizeof longsub - 1);
  longsub[sizeof longsub - 1] = 0;
  assert_int_equal(rev_add(l, "", 1, 1), -1);
  assert_int_equal(rev_add(l, NULL, 1, 1), -1);
  assert_int_equal(rev_add(l, longsub, 1, 1), -1);
  longsub[63] = 0; /* 63 characters: the longest a token's sub can be */
  assert_int_equal(rev_add(l, longsub, 1, 1), 0);
  assert_int_equal(rev_revoked(l, longsub, 0), 1);
  rev_free(l);
}

static void test_prune(void **state) {
  (void)state;
  rev_list *l = rev_new();
  char sub[16];
  for (int i = 0; i < 5000; i++) { /* more than the buckets: chains */
    snprintf(sub, sizeof sub, "%d", i);
    assert_int_equal(rev_add(l, sub, 1, i < 2500 ? 100 : 200), 0);
  }
  assert_int_equal(rev_count(l), 5000);
  assert_int_equal(rev_prune(l, 100), 5000); /* learnt at 100 is not before 100 */
  assert_int_equal(rev_prune(l, 101), 2500);
  assert_int_equal(rev_revoked(l, "0", 0), 0);
  assert_int_equal(rev_revoked(l, "2499", 0), 0);
  assert_int_equal(rev_revoked(l, "2500", 0), 1);
  assert_int_equal(rev_revoked(l, "4999", 0), 1);
  /* learning a revocation again keeps it for longer */
  assert_int_equal(rev_add(l, "2500", 1, 300), 0);
  assert_int_equal(rev_prune(l, 250), 1);
  assert_int_equal(rev_revoked(l, "2500", 0), 1);
  assert_int_equal(rev_prune(l, 301), 0);
  rev_free(l);
}

static rev_list *shared;

static void *reader(void *arg) {
  (void)arg;
  long void_seen = 0;
  char sub[16];
  for (int i = 0; i < 20000; i++) {
    snprintf(sub, sizeof sub, "%d", i % 500);
    void_seen += rev_revoked(shared, sub, 0);
  }
  return (void *)void_seen;
}

static void test_threads(void **state) {
  (void)state;
  shared = rev_new();
  pthread_t th[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
  char sub[16];
  for (int i = 0; i < 20000; i++) {
    snprintf(sub, sizeof sub, "%d", i % 500);
    assert_int_equal(rev_add(shared, sub, i / 500 + 1, i / 1000), 0);
    if (i % 1000 == 999) rev_prune(shared, i / 1000 - 3);
  }
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  /* every subject was learnt again in the last round, at time 19: none pruned, all void at 0 */
  assert_int_equal(rev_count(shared), 500);
  assert_int_equal(rev_revoked(shared, "499", 39), 1); /* the last round: 19999 / 500 + 1 = 40 */
  assert_int_equal(rev_revoked(shared, "499", 40), 0);
  rev_free(shared);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_generations),
      cmocka_unit_test(test_bad_subjects),
      cmocka_unit_test(test_prune),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
