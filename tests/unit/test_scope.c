/* Unit tests of scope.c: the unit subtree rule on dotted paths, the rights of each role, and
 * the combined check with single, multiple and "*" scopes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scope.h"

static tok_claims caller(unsigned roles, const char *scope) {
  tok_claims c;
  memset(&c, 0, sizeof c);
  snprintf(c.sub, sizeof c.sub, "7");
  snprintf(c.scope, sizeof c.scope, "%s", scope);
  snprintf(c.unit_path, sizeof c.unit_path, "%s", scope);
  snprintf(c.typ, sizeof c.typ, TOK_TYP_ACCESS);
  c.roles = roles;
  return c;
}

static void test_path_within_table(void **state) {
  (void)state;
  struct {
    const char *path, *root;
    int want;
  } t[] = {
      {"1.4", "1.4", 1},        /* own unit */
      {"1.4.17", "1.4", 1},     /* child */
      {"1.4.17.3", "1.4", 1},   /* grandchild */
      {"1.5", "1.4", 0},        /* sibling */
      {"1", "1.4", 0},          /* parent */
      {"1.41", "1.4", 0},       /* text prefix, not a path prefix */
      {"1.41.2", "1.4", 0},
      {"1.4", "1.41", 0},
      {"1.4", "1", 1},          /* the province root contains everything */
      {"2.4", "1", 0},
      {"1.4.", "1.4", 0},       /* malformed paths never match */
      {"1..4", "1", 0},
      {"1.4", "", 0},           /* an empty root must not contain everything */
      {"", "", 0},
      {"1.4", "1.", 0},
      {"1.4;drop", "1.4", 0},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    if (scope_path_within(t[i].path, t[i].root) != t[i].want)
      fail_msg("within(%s, %s) != %d", t[i].path, t[i].root, t[i].want);
  }
  assert_int_equal(scope_path_within(NULL, "1"), 0);
  assert_int_equal(scope_path_within("1", NULL), 0);
}

static void test_rights_per_role(void **state) {
  (void)state;
  unsigned all = RIGHT_READ | RIGHT_UPDATE | RIGHT_APPROVE | RIGHT_MANAGE_ACCOUNTS |
                 RIGHT_MANAGE_UNITS | RIGHT_ADMIN;
  assert_int_equal(scope_rights(ROLE_SYSTEM_ADMIN), all);
  assert_int_equal(scope_rights(ROLE_UNIT_ADMIN),
                   RIGHT_READ | RIGHT_APPROVE | RIGHT_MANAGE_ACCOUNTS);
  assert_int_equal(scope_rights(ROLE_UPDATER), RIGHT_READ | RIGHT_UPDATE);
  assert_int_equal(scope_rights(ROLE_READER), RIGHT_READ);
  assert_int_equal(scope_rights(ROLE_SELF), 0);
  assert_int_equal(scope_rights(ROLE_SERVICE), RIGHT_READ);
  assert_int_equal(scope_rights(0), 0);
  /* Roles add up. */
  assert_int_equal(scope_rights(ROLE_UNIT_ADMIN | ROLE_UPDATER),
                   RIGHT_READ | RIGHT_UPDATE | RIGHT_APPROVE | RIGHT_MANAGE_ACCOUNTS);
}

static void test_allows_by_role(void **state) {
  (void)state;
  tok_claims upd = caller(ROLE_UPDATER, "1.4");
  assert_true(scope_allows(&upd, "1.4.17", RIGHT_UPDATE));
  assert_true(scope_allows(&upd, "1.4.17", RIGHT_READ | RIGHT_UPDATE));
  assert_false(scope_allows(&upd, "1.4.17", RIGHT_MANAGE_ACCOUNTS));
  assert_false(scope_allows(&upd, "1.4", RIGHT_APPROVE));

  tok_claims rd = caller(ROLE_READER, "1.4");
  assert_true(scope_allows(&rd, "1.4", RIGHT_READ));
  assert_false(scope_allows(&rd, "1.4", RIGHT_UPDATE));

  /* A person's own-record access is decided by the records service, not by a unit right. */
  tok_claims self = caller(ROLE_SELF, "1.4.17");
  assert_false(scope_allows(&self, "1.4.17", RIGHT_READ));
  assert_false(scope_allows(&self, "1.4.17", 0));

  tok_claims ua = caller(ROLE_UNIT_ADMIN, "1.4");
  assert_true(scope_allows(&ua, "1.4.17", RIGHT_MANAGE_ACCOUNTS));
  assert_true(scope_allows(&ua, "1.4.17", RIGHT_APPROVE));
  assert_false(scope_allows(&ua, "1.4.17", RIGHT_UPDATE));
  assert_false(scope_allows(&ua, "1.4.17", RIGHT_MANAGE_UNITS));
  /* Outside the subtree nothing is allowed, whatever the right. */
  assert_false(scope_allows(&ua, "1.5", RIGHT_READ));
  assert_false(scope_allows(&ua, "1", RIGHT_READ));
  assert_false(scope_allows(&ua, "1.41", RIGHT_READ));
}

static void test_allows_star_and_multi(void **state) {
  (void)state;
  tok_claims adm = caller(ROLE_SYSTEM_ADMIN, "*");
  assert_true(scope_allows(&adm, "1", RIGHT_MANAGE_UNITS));
  assert_true(scope_allows(&adm, "9.9.9", RIGHT_ADMIN | RIGHT_READ));

  /* A service granted two districts reads both and nothing in between. */
  tok_claims svc = caller(ROLE_SERVICE, "1.4,1.7.2");
  assert_true(scope_allows(&svc, "1.4", RIGHT_READ));
  assert_true(scope_allows(&svc, "1.4.17", RIGHT_READ));
  assert_true(scope_allows(&svc, "1.7.2.5", RIGHT_READ));
  assert_false(scope_allows(&svc, "1.7", RIGHT_READ));
  assert_false(scope_allows(&svc, "1.5", RIGHT_READ));
  assert_false(scope_allows(&svc, "1.7.20", RIGHT_READ));
  assert_false(scope_allows(&svc, "1.4", RIGHT_UPDATE));

  /* "*" is honoured only by itself, never as a label; empty scope allows nothing. */
  tok_claims odd = caller(ROLE_READER, "1.4,,");
  assert_true(scope_allows(&odd, "1.4.1", RIGHT_READ));
  assert_false(scope_allows(&odd, "1.5", RIGHT_READ));
  tok_claims none = caller(ROLE_READER, "");
  assert_false(scope_allows(&none, "1", RIGHT_READ));
  tok_claims star_label = caller(ROLE_READER, "1.*");
  assert_false(scope_allows(&star_label, "1.4", RIGHT_READ));
  assert_false(scope_allows(NULL, "1", RIGHT_READ));
  assert_false(scope_allows(&adm, NULL, RIGHT_READ));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_path_within_table),
      cmocka_unit_test(test_rights_per_role),
      cmocka_unit_test(test_allows_by_role),
      cmocka_unit_test(test_allows_star_and_multi),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
