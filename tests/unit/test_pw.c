/* Unit tests of pw.c: argon2id PHC hashing and verification, the OWASP parameters, the
 * rehash rule, the password policy messages, and the small secret/digest helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <argon2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pw.h"

static void test_hash_and_verify(void **state) {
  (void)state;
  char phc[PW_PHC_MAX];
  assert_int_equal(pw_hash("correct horse battery", phc), 0);
  assert_int_equal(pw_verify(phc, "correct horse battery"), 1);
  assert_int_equal(pw_verify(phc, "correct horse batterY"), 0);
  assert_int_equal(pw_verify(phc, ""), 0);
  assert_int_equal(pw_verify(phc, NULL), 0);
  /* Same password, fresh salt: two different strings that both verify. */
  char phc2[PW_PHC_MAX];
  assert_int_equal(pw_hash("correct horse battery", phc2), 0);
  assert_string_not_equal(phc, phc2);
  assert_int_equal(pw_verify(phc2, "correct horse battery"), 1);
}

static void test_vietnamese_password(void **state) {
  (void)state;
  char phc[PW_PHC_MAX];
  assert_int_equal(pw_hash("Mật khẩu của tôi 2024", phc), 0);
  assert_int_equal(pw_verify(phc, "Mật khẩu của tôi 2024"), 1);
  /* Without diacritics it is a different password. */
  assert_int_equal(pw_verify(phc, "Mat khau cua toi 2024"), 0);
}

static void test_owasp_parameters(void **state) {
  (void)state;
  char phc[PW_PHC_MAX];
  assert_int_equal(pw_hash("some long password", phc), 0);
  /* argon2id, version 19, m = 19 MiB, t = 2, p = 1; 16-byte salt (22 base64 characters) and
   * 32-byte hash (43 characters). */
  assert_memory_equal(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31);
  const char *salt = phc + 31;
  const char *dollar = strchr(salt, '$');
  assert_non_null(dollar);
  assert_int_equal(dollar - salt, 22);
  assert_int_equal(strlen(dollar + 1), 43);
  assert_int_equal(pw_needs_rehash(phc), 0);
}

static void test_malformed_phc(void **state) {
  (void)state;
  char phc[PW_PHC_MAX];
  assert_int_equal(pw_hash("another password", phc), 0);
  const char *bad[] = {
      "",
      "plaintext-password",
      "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNo",  /* not id */
      "$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNo",     /* no p */
      "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA",                  /* no hash */
      "$argon2id$v=19$m=-1,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNo",
      /* 4 GiB of memory asked for by a planted row must not be attempted */
      "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNo",
      "$argon2id$v=19$m=19456,t=100000,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNo",
      "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNo$",
      "$argon2id$v=19$m=019456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNo",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (pw_verify(bad[i], "another password") != -1) fail_msg("case %zu accepted", i);
    assert_int_equal(pw_needs_rehash(bad[i]), 1);
  }
  assert_int_equal(pw_verify(NULL, "x"), -1);
  /* A hash with one character changed still parses but no longer matches. */
  char *cut = strdup(phc);
  size_t n = strlen(cut);
  cut[n - 2] = cut[n - 2] == 'A' ? 'B' : 'A';
  assert_int_equal(pw_verify(cut, "another password"), 0);
  free(cut);
}

static void test_needs_rehash(void **state) {
  (void)state;
  char weak[PW_PHC_MAX];
  const unsigned char salt[16] = "0123456789abcdef";
  /* A hash from an older configuration (t = 1) still verifies, but asks to be redone. */
  assert_int_equal(argon2id_hash_encoded(1, 19456, 1, "legacy password", 15, salt, sizeof salt,
                                         32, weak, sizeof weak),
                   ARGON2_OK);
  assert_int_equal(pw_verify(weak, "legacy password"), 1);
  assert_int_equal(pw_needs_rehash(weak), 1);
  /* Less memory too. */
  assert_int_equal(argon2id_hash_encoded(2, 4096, 1, "legacy password", 15, salt, sizeof salt,
                                         32, weak, sizeof weak),
                   ARGON2_OK);
  assert_int_equal(pw_needs_rehash(weak), 1);
  /* Today's parameters with a short hash length. */
  assert_int_equal(argon2id_hash_encoded(2, 19456, 1, "legacy password", 15, salt, sizeof salt,
                                         16, weak, sizeof weak),
                   ARGON2_OK);
  assert_int_equal(pw_needs_rehash(weak), 1);
  /* Stronger than today's in memory and time: kept. */
  assert_int_equal(argon2id_hash_encoded(3, 32768, 1, "legacy password", 15, salt, sizeof salt,
                                         32, weak, sizeof weak),
                   ARGON2_OK);
  assert_int_equal(pw_needs_rehash(weak), 0);
}

static void test_policy(void **state) {
  (void)state;
  assert_null(pw_policy_check("a sound passphrase", "nguyenvanan"));
  assert_string_equal(pw_policy_check("", "u"), "must not be empty");
  assert_string_equal(pw_policy_check(NULL, "u"), "must not be empty");
  assert_string_equal(pw_policy_check("short1!", "nguyenvanan"), "must be at least 10 characters");
  assert_null(pw_policy_check("exactly10c", "nguyenvanan"));
  assert_string_equal(pw_policy_check("exactly9c", "nguyenvanan"),
                      "must be at least 10 characters");
  /* The username, in any case, anywhere in the password. */
  assert_string_equal(pw_policy_check("my-NguyenVanAn-2024", "nguyenvanan"),
                      "must not contain the username");
  assert_string_equal(pw_policy_check("nguyenvanan", "nguyenvanan"),
                      "must not contain the username");
  assert_null(pw_policy_check("my-nguyen-van-an-2024", "nguyenvanan"));
  assert_string_equal(pw_policy_check("aaaaaaaaaaaa", "u123"), "must not repeat a single character");
  assert_string_equal(pw_policy_check("ệệệệệệệệệệệệ", "u123"), "must not repeat a single character");
  assert_string_equal(pw_policy_check("abc\xff\xfe" "defghijk", "u123"), "must be valid UTF-8 text");
  char big[300];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  big[0] = 'y';
  assert_string_equal(pw_policy_check(big, "u123"), "must not be longer than 256 bytes");
  big[256] = '\0';
  assert_null(pw_policy_check(big, "u123"));
}

static void test_policy_counts_characters(void **state) {
  (void)state;
  /* "Đà Lạt mù" is 9 characters but 14 bytes: too short although it has more than 10 bytes. */
  const char *nine = "Đà Lạt mù";
  assert_true(strlen(nine) >= 10);
  assert_string_equal(pw_policy_check(nine, "u123"), "must be at least 10 characters");
  /* One more character and it passes. */
  assert_null(pw_policy_check("Đà Lạt mùa", "u123"));
  assert_null(pw_policy_check("Hồ Gươm xanh thẳm", "u123"));
  /* The username check folds Vietnamese case too. */
  assert_string_equal(pw_policy_check("ĐẶNG-2024-mật khẩu", "đặng"),
                      "must not contain the username");
}

static void test_random_secret(void **state) {
  (void)state;
  char a[64], b[64];
  assert_int_equal(pw_random_secret(32, a, sizeof a), 0);
  assert_int_equal(pw_random_secret(32, b, sizeof b), 0);
  assert_int_equal(strlen(a), 43);  /* 32 bytes, base64url without padding */
  assert_string_not_equal(a, b);
  for (const char *p = a; *p; p++)
    assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
  char small[10];
  assert_int_equal(pw_random_secret(32, small, sizeof small), -1);
  char exact[4 * 32 / 3 + 2];
  assert_int_equal(pw_random_secret(32, exact, sizeof exact), 0);
  assert_int_equal(pw_random_secret(1, exact, sizeof exact), 0);
  assert_int_equal(strlen(exact), 2);
}

static void test_ct_equal_and_sha256(void **state) {
  (void)state;
  assert_int_equal(pw_ct_equal("abcdef", "abcdef", 6), 1);
  assert_int_equal(pw_ct_equal("abcdef", "abcdeg", 6), 0);
  assert_int_equal(pw_ct_equal("x", "y", 0), 1);
  char hex[65];
  pw_sha256_hex("abc", hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  pw_sha256_hex("", hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_and_verify),
      cmocka_unit_test(test_vietnamese_password),
      cmocka_unit_test(test_owasp_parameters),
      cmocka_unit_test(test_malformed_phc),
      cmocka_unit_test(test_needs_rehash),
      cmocka_unit_test(test_policy),
      cmocka_unit_test(test_policy_counts_characters),
      cmocka_unit_test(test_random_secret),
      cmocka_unit_test(test_ct_equal_and_sha256),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
