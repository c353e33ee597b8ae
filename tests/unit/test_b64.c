/* Strict base64url: round trips of every length, the exact RFC 4648 test vectors, and refusal of
 * every second spelling (padding, non-zero trailing bits, foreign characters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "b64.h"

/* RFC 4648 §10 vectors, in the URL alphabet without padding. */
static void test_rfc_vectors(void **state) {
  (void)state;
  const char *in[] = {"f", "fo", "foo", "foob", "fooba", "foobar"};
  const char *want[] = {"Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  char out[16];
  for (int i = 0; i < 6; i++) {
    assert_int_equal(b64url_encode(in[i], strlen(in[i]), out, sizeof out), strlen(want[i]));
    assert_string_equal(out, want[i]);
  }
}

/* Bytes that map to '-' and '_' (62, 63) come back intact through every length 1..64. */
static void test_round_trip(void **state) {
  (void)state;
  unsigned char data[64], back[64];
  char text[B64URL_ENCODED_SIZE(64)];
  for (int i = 0; i < 64; i++) data[i] = (unsigned char)(0xfb + i * 37);
  for (size_t n = 1; n <= 64; n++) {
    size_t len = b64url_encode(data, n, text, sizeof text), got = 0;
    assert_int_equal(len, (n * 4 + 2) / 3);
    assert_int_equal(b64url_decode(text, len, back, sizeof back, &got), 0);
    assert_int_equal(got, n);
    assert_memory_equal(back, data, n);
  }
}

/* One byte string, one spelling: anything else is not ours. */
static void test_refuses_other_spellings(void **state) {
  (void)state;
  unsigned char out[8];
  size_t n;
  assert_int_equal(b64url_decode("Zg==", 4, out, sizeof out, &n), -1);  /* padding */
  assert_int_equal(b64url_decode("Zh", 2, out, sizeof out, &n), -1);    /* trailing bits set */
  assert_int_equal(b64url_decode("Zm9+", 4, out, sizeof out, &n), -1);  /* standard alphabet */
  assert_int_equal(b64url_decode("Z", 1, out, sizeof out, &n), -1);     /* impossible length */
  assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5, &n), -1);       /* does not fit */
  char small[4];
  assert_int_equal(b64url_encode("foo", 3, small, sizeof small), 0);    /* no room for NUL */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc_vectors),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_refuses_other_spellings),
  };
  return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
