/* val_nfc_clean's shortcut for text that is already clean: over many random strings of
 * Vietnamese letters, combining marks, spaces of every kind and punctuation, the result must
 * be exactly the full path's (NFC, then white space trimmed and folded to single spaces). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>
#include "val.h"

/* The definition, written out independently of val.c: normalize, then fold white space. */
static char *reference(const char *s) {
  size_t len = 0;
  uint8_t *nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)s, strlen(s), NULL, &len);
  assert_non_null(nfc);
  char *out = malloc(len + 1);
  size_t o = 0;
  int pending = 0;
  for (const uint8_t *p = nfc, *end = nfc + len; p < end;) {
    ucs4_t c;
    int k = u8_mbtouc(&c, p, (size_t)(end - p));
    int space = c < 0x80 ? (c == ' ' || (c >= '\t' && c <= '\r')) : uc_is_property_white_space(c);
    if (space) {
      pending = o > 0;
    } else {
      if (pending) out[o++] = ' ';
      pending = 0;
      memcpy(out + o, p, (size_t)k);
      o += (size_t)k;
    }
    p += k;
  }
  out[o] = 0;
  free(nfc);
  return out;
}

/* Pieces the shortcut accepts and pieces it must leave to the full path. */
static const char *const pieces[] = {
    "Nguyễn", "Văn", "An", "Đặng", "đ", "Hường", "ơ", "ư", "Ă", "â", "Thị", "a", "Z", "0", "-", ",", "–", "“", "”",
    "…", " ", "  ", "\t", "\n", "\xC2\xA0" /* NBSP */, "\xE2\x80\x83" /* em space */,
    "e\xCC\x82\xCC\x81" /* e + circumflex + acute, decomposed */, "\xCC\x80" /* lone grave */,
    "A\xCC\x8A" /* A + ring */, "\xEF\xAC\x81" /* ﬁ ligature (NFC keeps it) */, "Ω", "\xE2\x84\xA6" /* Ohm sign */,
    "\xE1\xBA\xA0\xCC\x82" /* Ạ + circumflex */, "한", "\xE1\x84\x92\xE1\x85\xA1" /* jamo */,
};

static void test_same_as_full_path(void **state) {
  (void)state;
  srand(12345);
  size_t np = sizeof pieces / sizeof pieces[0];
  for (int round = 0; round < 20000; round++) {
    char s[512] = "";
    int k = 1 + rand() % 8;
    for (int i = 0; i < k; i++) strcat(s, pieces[rand() % (int)np]);
    char *got = val_nfc_clean(s), *want = reference(s);
    assert_non_null(got);
    if (strcmp(got, want) != 0) fail_msg("\"%s\": got \"%s\", want \"%s\"", s, got, want);
    free(got);
    free(want);
  }
}

/* The common case the shortcut is for, and cases it must not take. */
static void test_examples(void **state) {
  (void)state;
  struct {
    const char *in, *out;
  } ex[] = {
      {"Nguyễn Văn An", "Nguyễn Văn An"},
      {"  Nguyễn  Văn\tAn ", "Nguyễn Văn An"},
      {"Nguye\xCC\x82\xCC\x83n", "Nguyễn"},
      {"Xã Tiên Hưng, huyện Lục Nam", "Xã Tiên Hưng, huyện Lục Nam"},
      {"a\xC2\xA0" "b", "a b"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    char *got = val_nfc_clean(ex[i].in);
    assert_string_equal(got, ex[i].out);
    free(got);
  }
  assert_null(val_nfc_clean("\xC3"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_as_full_path),
      cmocka_unit_test(test_examples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
