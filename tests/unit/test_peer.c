/* The client address behind proxies (common/peer.c): X-Forwarded-For is read from the right past
 * the trusted proxies, as nginx's real_ip_recursive does, so a client that writes its own header
 * cannot choose the address its guesses are throttled and audited under. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "peer.h"

static const char *client(const char *peer, int forwards, const char *xff, const char *trusted) {
  static char out[64];
  assert_int_equal(peer_client_addr(peer, forwards, xff, trusted, out, sizeof out), 0);
  return out;
}

/* A peer that may not forward is the client, whatever its header says. */
static void test_untrusted_peer(void **state) {
  (void)state;
  assert_string_equal(client("198.51.100.4", 0, "203.0.113.7", "10.0.0.1"), "198.51.100.4");
  assert_string_equal(client("198.51.100.4", 1, NULL, "10.0.0.1"), "198.51.100.4");
}

/* The attack: the client sends "X-Forwarded-For: <victim>" itself; the proxy appends the real
 * address. The left-most element (what the first element rule believed) is the attacker's
 * choice; the right-most is what our proxy saw. */
static void test_client_cannot_choose(void **state) {
  (void)state;
  assert_string_equal(client("10.0.0.1", 1, "203.0.113.99, 198.51.100.4", "10.0.0.1"), "198.51.100.4");
  assert_string_equal(client("10.0.0.1", 1, " 203.0.113.7 , 10.0.0.9", "10.0.0.1"), "10.0.0.9");
}

/* Chains of trusted proxies are skipped from the right (recursive). */
static void test_recursive(void **state) {
  (void)state;
  const char *trusted = "10.0.0.1, 10.0.0.2 ,::1";
  assert_string_equal(client("10.0.0.1", 1, "203.0.113.7, 198.51.100.4, 10.0.0.2", trusted), "198.51.100.4");
  assert_string_equal(client("::1", 1, "2001:db8::5,0:0:0:0:0:0:0:1", trusted), "2001:db8::5");
  /* every element trusted: the left-most one */
  assert_string_equal(client("10.0.0.1", 1, "10.0.0.2,10.0.0.1", trusted), "10.0.0.2");
}

/* Junk ends the walk at the last address believed: the peer, or the proxy that passed it on. */
static void test_junk(void **state) {
  (void)state;
  const char *trusted = "10.0.0.1,10.0.0.2";
  assert_string_equal(client("10.0.0.1", 1, "not-an-ip", trusted), "10.0.0.1");
  assert_string_equal(client("10.0.0.1", 1, "203.0.113.7, junk, 10.0.0.2", trusted), "10.0.0.2");
  assert_string_equal(client("10.0.0.1", 1, "203.0.113.7,", trusted), "10.0.0.1");
  assert_string_equal(client("10.0.0.1", 1, "", trusted), "10.0.0.1");
  assert_string_equal(client("10.0.0.1", 1, "1.2.3.4:80", trusted), "10.0.0.1");
}

static void test_small_buffer(void **state) {
  (void)state;
  char out[8];
  assert_int_equal(peer_client_addr("10.0.0.1", 1, "2001:db8::5", "10.0.0.1", out, sizeof out), -1);
  assert_string_equal(out, "");
}

static void test_ip_in_list(void **state) {
  (void)state;
  assert_true(peer_ip_in_list("::1", " 127.0.0.1 , 0:0::1"));
  assert_true(peer_ip_in_list("127.0.0.1", "127.0.0.1"));
  assert_false(peer_ip_in_list("127.0.0.2", "127.0.0.1,::1"));
  assert_false(peer_ip_in_list("", "127.0.0.1"));
  assert_false(peer_ip_in_list("127.0.0.1", ""));
  assert_false(peer_ip_in_list("127.0.0.1", NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_untrusted_peer), cmocka_unit_test(test_client_cannot_choose),
      cmocka_unit_test(test_recursive),      cmocka_unit_test(test_junk),
      cmocka_unit_test(test_small_buffer),   cmocka_unit_test(test_ip_in_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
