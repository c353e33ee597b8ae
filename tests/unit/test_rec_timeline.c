/* Unit tests of records/timeline.c (compiled in): versions composed by effective date into the
 * valid-time periods of the reporting facts, fact by fact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "timeline.h"

/* Facts: 0 unit, 1 status, 2 degree. */
enum { NF = 3 };

static int compose(const tl_version *v, size_t n, tl_period *out, const char **buf) {
  return tl_compose(v, n, NF, out, buf);
}

static void expect_period(const tl_period *p, const char *from, const char *to, const char *unit,
                          const char *status, const char *degree) {
  assert_string_equal(p->from, from);
  if (to)
    assert_string_equal(p->to, to);
  else
    assert_null(p->to);
  assert_string_equal(p->facts[0], unit);
  assert_string_equal(p->facts[1], status);
  assert_string_equal(p->facts[2], degree);
}

/* Changes entered in the order they take effect: one period per change. */
static void test_in_order(void **state) {
  (void)state;
  const char *f1[NF] = {"A", "1", "DH"}, *f2[NF] = {"B", "1", "DH"}, *f3[NF] = {"B", "4", "DH"};
  tl_version v[] = {{"2015-09-01", f1}, {"2026-03-10", f2}, {"2026-06-30", f3}};
  tl_period p[3];
  const char *buf[3 * NF];
  assert_int_equal(compose(v, 3, p, buf), 3);
  expect_period(&p[0], "2015-09-01", "2026-03-10", "A", "1", "DH");
  expect_period(&p[1], "2026-03-10", "2026-06-30", "B", "1", "DH");
  expect_period(&p[2], "2026-06-30", NULL, "B", "4", "DH");
}

/* A retirement effective 31 December entered on 5 January, after a change entered on 2
 * January (effective that day): the retirement reaches back to 31 December, and the 2 January
 * change stays where it took effect. */
static void test_late_entry_reaches_back(void **state) {
  (void)state;
  const char *f1[NF] = {"A", "1", "DH"}, *f2[NF] = {"A", "1", "THS"}, *f3[NF] = {"A", "4", "THS"};
  tl_version v[] = {{"2010-01-01", f1}, {"2026-01-02", f2}, {"2025-12-31", f3}};
  tl_period p[3];
  const char *buf[3 * NF];
  assert_int_equal(compose(v, 3, p, buf), 3);
  expect_period(&p[0], "2010-01-01", "2025-12-31", "A", "1", "DH");
  expect_period(&p[1], "2025-12-31", "2026-01-02", "A", "4", "DH");
  expect_period(&p[2], "2026-01-02", NULL, "A", "4", "THS");
}

/* A version entered late whose snapshot carries a later-effective change of another fact does
 * not pull that change back: only what it changed reaches back. */
static void test_snapshot_does_not_leak(void **state) {
  (void)state;
  /* v2 (effective next year) raises the degree; v3, entered after it but effective earlier,
   * moves the unit: its snapshot holds THS, which must not appear before next year */
  const char *f1[NF] = {"A", "1", "DH"}, *f2[NF] = {"A", "1", "THS"}, *f3[NF] = {"B", "1", "THS"};
  tl_version v[] = {{"2010-01-01", f1}, {"2027-01-01", f2}, {"2026-03-01", f3}};
  tl_period p[3];
  const char *buf[3 * NF];
  assert_int_equal(compose(v, 3, p, buf), 3);
  expect_period(&p[0], "2010-01-01", "2026-03-01", "A", "1", "DH");
  expect_period(&p[1], "2026-03-01", "2027-01-01", "B", "1", "DH");
  expect_period(&p[2], "2027-01-01", NULL, "B", "1", "THS");
}

/* The same fact changed twice: the later effective date wins on the days after it, whatever
 * the order of entry; on one day the later version wins. */
static void test_same_fact_by_effective_date(void **state) {
  (void)state;
  const char *f1[NF] = {"A", "1", "DH"}, *f2[NF] = {"A", "4", "DH"}, *f3[NF] = {"A", "5", "DH"},
             *f4[NF] = {"A", "6", "DH"};
  /* v2 retired from 1 March; v3 (entered later) resigned from 1 February; v4 on 1 March too */
  tl_version v[] = {{"2010-01-01", f1}, {"2026-03-01", f2}, {"2026-02-01", f3}, {"2026-03-01", f4}};
  tl_period p[4];
  const char *buf[4 * NF];
  assert_int_equal(compose(v, 4, p, buf), 3);
  expect_period(&p[0], "2010-01-01", "2026-02-01", "A", "1", "DH");
  expect_period(&p[1], "2026-02-01", "2026-03-01", "A", "5", "DH");
  expect_period(&p[2], "2026-03-01", NULL, "A", "6", "DH");
}

/* Versions that change no fact (an approval) and changes undone make no period boundary. */
static void test_merges_equal_periods(void **state) {
  (void)state;
  const char *f1[NF] = {"A", "1", "DH"}, *f2[NF] = {"A", "1", "DH"}, *f3[NF] = {"A", "2", "DH"},
             *f4[NF] = {"A", "1", "DH"};
  tl_version v[] = {{"2010-01-01", f1}, {"2026-01-05", f2}, {"2026-02-01", f3}, {"2026-02-01", f4}};
  tl_period p[4];
  const char *buf[4 * NF];
  assert_int_equal(compose(v, 4, p, buf), 1);
  expect_period(&p[0], "2010-01-01", NULL, "A", "1", "DH");
}

/* A change effective before the first version's date opens the timeline there and stays in
 * force after it: the first version is the baseline, not a change effective on its date. The
 * facts it does not change take the baseline's values. NULL facts are facts too. */
static void test_before_first_and_nulls(void **state) {
  (void)state;
  const char *f1[NF] = {"A", "1", NULL}, *f2[NF] = {"A", "1", "DH"};
  tl_version v[] = {{"2015-01-01", f1}, {"2012-06-01", f2}};
  tl_period p[2];
  const char *buf[2 * NF];
  assert_int_equal(compose(v, 2, p, buf), 1);
  expect_period(&p[0], "2012-06-01", NULL, "A", "1", "DH");

  const char *g1[NF] = {"A", "1", "DH"}, *g2[NF] = {"A", "1", NULL};
  tl_version w[] = {{"2015-01-01", g1}, {"2020-01-01", g2}};
  assert_int_equal(compose(w, 2, p, buf), 2);
  assert_null(p[1].facts[2]);
  assert_string_equal(p[1].from, "2020-01-01");
}

static void test_bad_input(void **state) {
  (void)state;
  const char *f1[NF] = {"A", "1", "DH"};
  tl_version v[] = {{"", f1}};
  tl_period p[1];
  const char *buf[NF];
  assert_int_equal(compose(v, 1, p, buf), -1);
  assert_int_equal(compose(v, 0, p, buf), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_order),
      cmocka_unit_test(test_late_entry_reaches_back),
      cmocka_unit_test(test_snapshot_does_not_leak),
      cmocka_unit_test(test_same_fact_by_effective_date),
      cmocka_unit_test(test_merges_equal_periods),
      cmocka_unit_test(test_before_first_and_nulls),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
