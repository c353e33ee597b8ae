/* Unit tests of records/diff.c (compiled in): the field-level changes between two versions of
 * a record, their paths ("salary.step", "work_history[2].to") and proto3 JSON values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "srv_int.h"

typedef Hoso__Records__V1__FieldChange Change;

/* A call context with only its arena: all rec_diff needs. */
static struct srv_call_priv priv;
static srv_ctx ctx = {.priv = &priv};

static int teardown(void **state) {
  (void)state;
  srv_arena_reset(&priv);
  free(priv.arena);
  priv.arena = NULL;
  return 0;
}

/* Two full records with histories; tests change b. */
typedef struct {
  rec_t r;
  Hoso__Records__V1__SalaryInfo salary;
  Hoso__Records__V1__Employment emp;
  Hoso__Records__V1__PartyAndUnions party;
  Hoso__Records__V1__WorkHistoryEntry w[3], *wp[3];
  char *codes[2];
} doc;

static void build(doc *d) {
  memset(d, 0, sizeof *d);
  hoso__records__v1__record__init(&d->r);
  hoso__records__v1__salary_info__init(&d->salary);
  hoso__records__v1__employment__init(&d->emp);
  hoso__records__v1__party_and_unions__init(&d->party);
  d->r.id = "100001";
  d->r.version = 3;
  d->r.full_name = "Nguyễn Văn An";
  d->r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  d->salary.rank_code = "01.003";
  d->salary.step = 3;
  d->salary.coefficient = "3.00";
  d->r.salary = &d->salary;
  d->codes[0] = "P01";
  d->emp.concurrent_position_codes = d->codes;
  d->emp.n_concurrent_position_codes = 1;
  d->r.employment = &d->emp;
  d->r.party = &d->party;
  static const char *from[3] = {"2005-09", "2010-01", "2016-03"}, *to[3] = {"2009-12", "2016-02", ""};
  for (int i = 0; i < 3; i++) {
    hoso__records__v1__work_history_entry__init(&d->w[i]);
    d->w[i].from = (char *)from[i];
    d->w[i].to = (char *)to[i];
    d->w[i].unit = "UBND huyện Lục Nam";
    d->wp[i] = &d->w[i];
  }
  d->r.work_history = d->wp;
  d->r.n_work_history = 2;
}

static size_t diff(const doc *a, const doc *b, Change ***out) {
  size_t n = 99;
  assert_int_equal(rec_diff(&ctx, a ? &a->r.base : NULL, b ? &b->r.base : NULL, out, &n), 0);
  return n;
}

static const Change *find(Change **c, size_t n, const char *path) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(c[i]->path, path) == 0) return c[i];
  return NULL;
}

static void expect(Change **c, size_t n, const char *path, const char *old_v, const char *new_v) {
  const Change *x = find(c, n, path);
  if (!x) fail_msg("no change at %s", path);
  assert_string_equal(x->old_value, old_v);
  assert_string_equal(x->new_value, new_v);
}

static void test_identical(void **state) {
  (void)state;
  doc a, b;
  build(&a);
  build(&b);
  Change **c;
  /* Same content in different memory: no change at all. */
  assert_int_equal(diff(&a, &b, &c), 0);
}

static void test_salary_step(void **state) {
  (void)state;
  doc a, b;
  build(&a);
  build(&b);
  b.salary.step = 4;
  b.salary.coefficient = "3.33";
  Change **c;
  /* A salary raise (nâng bậc): exactly the two leaves that moved. */
  assert_int_equal(diff(&a, &b, &c), 2);
  expect(c, 2, "salary.step", "3", "4");
  expect(c, 2, "salary.coefficient", "\"3.00\"", "\"3.33\"");
}

static void test_list_growth_and_shrink(void **state) {
  (void)state;
  doc a, b;
  build(&a);
  build(&b);
  /* A closed work period and a new one: index 1 gets a "to", index 2 appears. */
  b.w[1].to = "2016-02";
  b.r.n_work_history = 3;
  b.w[2].to = "";
  Change **c;
  size_t n = diff(&a, &b, &c);
  expect(c, n, "work_history[2].from", "null", "\"2016-03\"");
  expect(c, n, "work_history[2].unit", "null", "\"UBND huyện Lục Nam\"");
  /* The new entry's empty "to" is nothing to report. */
  assert_null(find(c, n, "work_history[2].to"));
  assert_int_equal(n, 2);
  /* And back: the entry is gone, its values become null. */
  n = diff(&b, &a, &c);
  expect(c, n, "work_history[2].from", "\"2016-03\"", "null");
  assert_int_equal(n, 2);
}

static void test_value_forms(void **state) {
  (void)state;
  doc a, b;
  build(&a);
  build(&b);
  b.r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  b.r.version = 4;
  b.party.party_member = 1;
  b.r.full_name = "Nguyễn \"Văn\" An\n";
  b.codes[1] = "P02";
  b.emp.n_concurrent_position_codes = 2;
  Change **c;
  size_t n = diff(&a, &b, &c);
  /* proto3 JSON: enums by name, 64-bit integers as strings, bools bare, text escaped. */
  expect(c, n, "gender", "\"GENDER_MALE\"", "\"GENDER_FEMALE\"");
  expect(c, n, "version", "\"3\"", "\"4\"");
  expect(c, n, "party.party_member", "false", "true");
  expect(c, n, "full_name", "\"Nguyễn Văn An\"", "\"Nguyễn \\\"Văn\\\" An\\n\"");
  expect(c, n, "employment.concurrent_position_codes[1]", "null", "\"P02\"");
  assert_int_equal(n, 5);
}

static void test_unset_submessage(void **state) {
  (void)state;
  doc a, b;
  build(&a);
  build(&b);
  Hoso__Records__V1__HealthAndPolicy h = HOSO__RECORDS__V1__HEALTH_AND_POLICY__INIT;
  Change **c;
  /* Setting an empty group is no change: an unset group means all defaults. */
  b.r.health = &h;
  assert_int_equal(diff(&a, &b, &c), 0);
  /* One value in it is one change from the default, not from null. */
  h.height_cm = 165;
  assert_int_equal(diff(&a, &b, &c), 1);
  expect(c, 1, "health.height_cm", "0", "165");
}

static void test_from_nothing(void **state) {
  (void)state;
  doc b;
  build(&b);
  Change **c;
  /* A new record: every value it holds, each from null. */
  size_t n = diff(NULL, &b, &c);
  expect(c, n, "id", "null", "\"100001\"");
  expect(c, n, "salary.step", "null", "3");
  expect(c, n, "work_history[1].to", "null", "\"2016-02\"");
  /* Defaults of the new record are not listed. */
  assert_null(find(c, n, "health.height_cm"));
  assert_null(find(c, n, "party.party_member"));
  /* id, version, full_name, gender, 3 salary, 1 code, 2 x 3 work history. */
  assert_int_equal(n, 14);
  assert_int_equal(diff(NULL, NULL, &c), 0);
}

static void test_mismatch(void **state) {
  (void)state;
  doc a;
  build(&a);
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  Change **c;
  size_t n;
  /* Two different message types cannot be compared. */
  assert_int_equal(rec_diff(&ctx, &a.r.base, &d.base, &c, &n), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_identical, teardown),
      cmocka_unit_test_teardown(test_salary_step, teardown),
      cmocka_unit_test_teardown(test_list_growth_and_shrink, teardown),
      cmocka_unit_test_teardown(test_value_forms, teardown),
      cmocka_unit_test_teardown(test_unset_submessage, teardown),
      cmocka_unit_test_teardown(test_from_nothing, teardown),
      cmocka_unit_test_teardown(test_mismatch, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
