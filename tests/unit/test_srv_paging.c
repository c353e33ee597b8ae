/* Keyset paging of the list handlers (srv.h): a page is read with one row more than asked, and
 * only that extra row means another page follows. The token itself is tested through every list
 * RPC's integration test (pages walked to the end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "srv.h"

static void cut(size_t n, int size, size_t want_shown, int want_more) {
  int more = -1;
  assert_int_equal(srv_page_cut(n, size, &more), want_shown);
  assert_int_equal(more, want_more);
}

static void test_page_cut(void **state) {
  (void)state;
  cut(0, 20, 0, 0);         /* nothing at all */
  cut(7, 20, 7, 0);         /* a short last page */
  cut(20, 20, 20, 0);       /* exactly a page: no extra row, so no next page */
  cut(21, 20, 20, 1);       /* the extra row: 20 shown, another page follows */
  cut(2, 1, 1, 1);          /* pages of one */
  cut(1, 1, 1, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_page_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
