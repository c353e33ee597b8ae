/* Unit tests of val.c: strict UTF-8, NFC with white-space folding, text lengths in
 * characters, usernames, codes, ids, page sizes, calendar dates and page tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "val.h"

#define U(s) (s), (sizeof(s) - 1)

static void test_utf8_edges(void **state) {
  (void)state;
  assert_true(val_utf8(U("")));
  assert_true(val_utf8(U("plain ascii")));
  assert_true(val_utf8(U("Nguyễn Văn Đức")));
  assert_true(val_utf8(U("\xF0\x9F\x98\x80")));          /* U+1F600, 4 bytes */
  assert_true(val_utf8(U("\xF4\x8F\xBF\xBF")));          /* U+10FFFF, the last one */
  assert_true(val_utf8(U("\xED\x9F\xBF")));              /* U+D7FF, just below surrogates */
  assert_true(val_utf8(U("\xEE\x80\x80")));              /* U+E000, just above */

  assert_false(val_utf8(U("\xC0\x80")));                 /* overlong NUL */
  assert_false(val_utf8(U("\xC1\xBF")));                 /* overlong ASCII */
  assert_false(val_utf8(U("\xE0\x80\xAF")));             /* overlong '/' in 3 bytes */
  assert_false(val_utf8(U("\xF0\x80\x80\xAF")));         /* overlong '/' in 4 bytes */
  assert_false(val_utf8(U("\xED\xA0\x80")));             /* U+D800, a surrogate */
  assert_false(val_utf8(U("\xED\xBF\xBF")));             /* U+DFFF */
  assert_false(val_utf8(U("\xF4\x90\x80\x80")));         /* U+110000 */
  assert_false(val_utf8(U("\xF5\x80\x80\x80")));
  assert_false(val_utf8(U("\xFF")));
  assert_false(val_utf8(U("\x80")));                     /* lone continuation */
  assert_false(val_utf8(U("abc\xE1\xBB")));              /* truncated 3-byte sequence */
  assert_false(val_utf8(U("\xC3")));
  assert_false(val_utf8(U("\xE1\xBB\x41")));             /* continuation replaced by 'A' */
  assert_false(val_utf8("a\0b", 3));                     /* embedded NUL */
  /* Only n bytes are looked at: a valid prefix of a longer buffer is fine. */
  assert_true(val_utf8("ab\xE1", 2));
}

static void test_nfc(void **state) {
  (void)state;
  /* "Nguyễn" decomposed: e + U+0302 (circumflex) + U+0303 (tilde). */
  const char *nfd = "Nguye\xCC\x82\xCC\x83n";
  char *s = val_nfc_clean(nfd);
  assert_non_null(s);
  assert_string_equal(s, "Nguy\xE1\xBB\x85n");  /* U+1EC5 ễ */
  assert_string_equal(s, "Nguyễn");
  free(s);
  /* Two marks on one letter: a + breve + grave composes to U+1EB1 (ằ). */
  s = val_nfc_clean("Đa\xCC\x80 Na\xCC\x86\xCC\x80ng");  /* "Đà Nằng", decomposed */
  assert_string_equal(s, "Đà Nằng");
  free(s);
  /* Already NFC stays as it is. */
  s = val_nfc_clean("Trần Thị Thu Hà");
  assert_string_equal(s, "Trần Thị Thu Hà");
  free(s);
  assert_null(val_nfc_clean("bad \xC0\x80"));
  assert_null(val_nfc_clean(NULL));
}

static void test_whitespace_folding(void **state) {
  (void)state;
  char *s = val_nfc_clean("  Nguyễn \t Văn\n\nAn  ");
  assert_string_equal(s, "Nguyễn Văn An");
  free(s);
  /* No-break spaces (pasted from office documents) count as white space. */
  s = val_nfc_clean("\xC2\xA0Lê\xC2\xA0\xC2\xA0Thị\xC2\xA0");
  assert_string_equal(s, "Lê Thị");
  free(s);
  s = val_nfc_clean(" \t\r\n ");
  assert_string_equal(s, "");
  free(s);
  s = val_nfc_clean("");
  assert_string_equal(s, "");
  free(s);
}

/* Prose keeps its lines: CR LF, CR and U+2028 become one "\n", blank lines shrink to one,
 * every line is trimmed and folded like a one-line field. */
static void test_lines(void **state) {
  (void)state;
  char *s = val_nfc_clean_lines("  Năm 1972 bị bắt  \r\n\r\n\r\n  tại   Hà Nội.\rĐã khai\xE2\x80\xA8" "báo.\n \t\n");
  assert_string_equal(s, "Năm 1972 bị bắt\n\ntại Hà Nội.\nĐã khai\nbáo.");
  free(s);
  /* decomposed marks compose across kept lines; a lone CR LF counts once */
  s = val_nfc_clean_lines("Nguye\xCC\x82\xCC\x83n\r\nVa\xCC\x86n");
  assert_string_equal(s, "Nguyễn\nVăn");
  free(s);
  s = val_nfc_clean_lines("\r\n \n");
  assert_string_equal(s, "");
  free(s);
  /* the one-line cleaning of the same text folds the breaks */
  s = val_nfc_clean("a\r\n\r\nb");
  assert_string_equal(s, "a b");
  free(s);
  assert_null(val_nfc_clean_lines("bad \xC0\x80"));
  /* lengths count the kept breaks: "a\n\nb" is 4 characters, "a b" only 3 */
  assert_null(val_text("a\n\n\nb", 1, 3));
  assert_string_equal(val_prose("a\n\n\nb", 1, 3), "must be at most 3 characters");
  assert_null(val_prose("a\n\n\nb", 1, 4));
  assert_string_equal(val_prose(" \n\r\n ", 1, 4), "must not be empty");
}

static void test_text(void **state) {
  (void)state;
  assert_null(val_text("Nguyễn", 1, 6));  /* 6 characters, 8 bytes */
  assert_string_equal(val_text("Nguyễn Văn", 1, 6), "must be at most 6 characters");
  /* Counted after NFC: the decomposed form has 8 code points but 6 characters. */
  assert_null(val_text("Nguye\xCC\x82\xCC\x83n", 1, 6));
  /* Trailing and repeated spaces do not count. */
  assert_null(val_text("  ab   c  ", 1, 4));
  assert_string_equal(val_text("   ", 1, 10), "must not be empty");
  assert_string_equal(val_text("", 1, 10), "must not be empty");
  assert_string_equal(val_text(NULL, 1, 10), "must not be empty");
  assert_null(val_text("", 0, 10));
  assert_null(val_text(NULL, 0, 10));
  assert_string_equal(val_text("a\xED\xA0\x80", 1, 10), "must be valid UTF-8");
  assert_string_equal(val_text("a\x01" "b", 1, 10), "must not contain control characters");
  assert_string_equal(val_text("a\x7F" "b", 1, 10), "must not contain control characters");
  assert_null(val_text("line one\nline two", 1, 100));
  /* A 10 MB value is refused without being normalized. */
  size_t big = 10u << 20;
  char *huge = malloc(big + 1);
  memset(huge, 'a', big);
  huge[big] = '\0';
  assert_string_equal(val_text(huge, 1, 200), "must be at most 200 characters");
  free(huge);
}

static void test_username_code(void **state) {
  (void)state;
  assert_null(val_username("nguyen.van.an"));
  assert_null(val_username("an_2024-b"));
  assert_null(val_username("9an"));
  assert_string_equal(val_username("an"), "must be 3 to 64 characters long");
  assert_string_equal(val_username(""), "must not be empty");
  assert_non_null(val_username("Nguyen"));          /* upper case */
  assert_non_null(val_username("nguyễn"));          /* non-ASCII */
  assert_non_null(val_username("an van"));
  assert_string_equal(val_username(".an"), "must start with a letter or a digit");
  char u65[66];
  memset(u65, 'a', 65);
  u65[65] = '\0';
  assert_non_null(val_username(u65));
  u65[64] = '\0';
  assert_null(val_username(u65));

  assert_null(val_code("HN-01.a_b"));
  assert_non_null(val_code(""));
  assert_non_null(val_code("has space"));
  assert_non_null(val_code("Đ01"));
  assert_null(val_code(u65));  /* 64 */
  u65[64] = 'a';
  assert_non_null(val_code(u65));
}

static void test_ids(void **state) {
  (void)state;
  assert_null(val_id("1"));
  assert_null(val_id("42"));
  assert_null(val_id("9223372036854775807"));
  assert_non_null(val_id("9223372036854775808"));
  assert_non_null(val_id("10000000000000000000"));
  assert_non_null(val_id("0"));
  assert_non_null(val_id("007"));
  assert_non_null(val_id("-1"));
  assert_non_null(val_id("+1"));
  assert_non_null(val_id(" 1"));
  assert_non_null(val_id("1e3"));
  assert_non_null(val_id(""));
  assert_non_null(val_id(NULL));
}

/* One rule for every request_id of the contract: empty (not tracked), or up to 128 printable
 * ASCII characters without spaces; a UUID fits, text that NFC could change does not. */
static void test_request_ids(void **state) {
  (void)state;
  assert_null(val_request_id(NULL));
  assert_null(val_request_id(""));
  assert_null(val_request_id("3f1c9a52-7d4e-4b8a-9c1e-2a6f0b9d8e71"));
  assert_null(val_request_id("import-2026-05-01:batch#3"));
  char s[130];
  memset(s, 'x', 128);
  s[128] = 0;
  assert_null(val_request_id(s));
  s[128] = 'x', s[129] = 0;
  assert_string_equal(val_request_id(s), "must be at most 128 characters");
  assert_string_equal(val_request_id("has space"), "must be printable ASCII without spaces");
  assert_non_null(val_request_id("tab\there"));
  assert_non_null(val_request_id("Nguy\xe1\xbb\x85n"));
  assert_non_null(val_request_id("del\x7f"));
}

static void test_page_size(void **state) {
  (void)state;
  assert_int_equal(val_page_size(0), 50);
  assert_int_equal(val_page_size(1), 1);
  assert_int_equal(val_page_size(500), 500);
  assert_int_equal(val_page_size(501), -1);
  assert_int_equal(val_page_size(-1), -1);
}

static void test_dates(void **state) {
  (void)state;
  assert_null(val_date("2024-02-29"));  /* leap year */
  assert_non_null(val_date("2023-02-29"));
  assert_null(val_date("2000-02-29"));  /* divisible by 400 */
  assert_non_null(val_date("1900-02-29"));  /* divisible by 100 only */
  assert_null(val_date("1900-01-01"));
  assert_null(val_date("2200-12-31"));
  assert_non_null(val_date("1899-12-31"));
  assert_non_null(val_date("2201-01-01"));
  assert_non_null(val_date("2024-04-31"));
  assert_null(val_date("2024-04-30"));
  assert_non_null(val_date("2024-13-01"));
  assert_non_null(val_date("2024-00-10"));
  assert_non_null(val_date("2024-01-00"));
  assert_non_null(val_date("2024-1-01"));
  assert_non_null(val_date("2024/01/01"));
  assert_non_null(val_date("2024-01-01T00:00:00Z"));
  assert_non_null(val_date("20a4-01-01"));
  assert_non_null(val_date(""));
  assert_non_null(val_date(NULL));
}

static void test_page_tokens(void **state) {
  (void)state;
  const char *keys[] = {"", "42", "Nguyễn Văn An|1234", "a\x7f" "b", "x,y:z/=+"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    char *t = val_page_token_encode(keys[i]);
    assert_non_null(t);
    for (const char *p = t; *p; p++)
      assert_non_null(
          strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    char out[128];
    assert_int_equal(val_page_token_decode(t, out, sizeof out), 0);
    assert_string_equal(out, keys[i]);
    free(t);
  }
  char out[128];
  /* Not ours: base64url of something without the prefix, other alphabets, junk. */
  assert_int_equal(val_page_token_decode("NDI", out, sizeof out), -1);          /* "42" */
  assert_int_equal(val_page_token_decode("djI6NDI", out, sizeof out), -1);      /* "v2:42" */
  assert_int_equal(val_page_token_decode("djE6NDI=", out, sizeof out), -1);     /* padded */
  assert_int_equal(val_page_token_decode("djE6NDI", out, sizeof out), 0);       /* "v1:42" */
  assert_string_equal(out, "42");
  assert_int_equal(val_page_token_decode("djE6NDJ", out, sizeof out), -1);      /* stray bits */
  assert_int_equal(val_page_token_decode("dj+6NDI", out, sizeof out), -1);
  assert_int_equal(val_page_token_decode("OFFSET 100", out, sizeof out), -1);
  assert_int_equal(val_page_token_decode("", out, sizeof out), -1);
  assert_int_equal(val_page_token_decode(NULL, out, sizeof out), -1);
  assert_int_equal(val_page_token_decode("djE6AA", out, sizeof out), -1);       /* "v1:\0" */
  assert_int_equal(val_page_token_decode("djE6_w", out, sizeof out), -1);       /* "v1:\xff" */
  /* A key too long for the caller's buffer is refused, not cut. */
  char *t = val_page_token_encode("0123456789");
  char small[10];
  assert_int_equal(val_page_token_decode(t, small, sizeof small), -1);
  char fits[11];
  assert_int_equal(val_page_token_decode(t, fits, sizeof fits), 0);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_edges),
      cmocka_unit_test(test_nfc),
      cmocka_unit_test(test_whitespace_folding),
      cmocka_unit_test(test_lines),
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_username_code),
      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_request_ids),
      cmocka_unit_test(test_page_size),
      cmocka_unit_test(test_dates),
      cmocka_unit_test(test_page_tokens),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
