/* val_text_clean and the one-pass shortcut behind val_text, val_prose, val_nfc_clean(_lines):
 * on many random strings, each result and message equals an independent reference's. */
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

static int is_space(ucs4_t c) {
  return c < 0x80 ? (c == ' ' || (c >= '\t' && c <= '\r')) : uc_is_property_white_space(c);
}

static int is_break(ucs4_t c) { return (c >= '\n' && c <= '\r') || c == 0x85 || c == 0x2028 || c == 0x2029; }

/* The definition, written independently of val.c and differently from it: NFC; then the text
 * cut into lines (CR LF is one break; without keep_lines there is one line), each line's white
 * space trimmed and folded to single spaces; the non-empty lines joined by "\n", or by "\n\n"
 * where blank lines stood between them. s is valid UTF-8. */
static char *reference(const char *s, int keep_lines) {
  size_t len = 0;
  uint8_t *nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)s, strlen(s), NULL, &len);
  if (len == 0) {
    free(nfc);
    return strdup("");
  }
  assert_non_null(nfc);
  char *out = calloc(1, len * 2 + 1), *line = calloc(1, len + 1);
  size_t o = 0, lo = 0;
  int gap = -1; /* line breaks since the last non-empty line; -1 before the first */
  const uint8_t *p = nfc, *end = nfc + len;
  for (;;) {
    ucs4_t c = 0;
    int k = p < end ? u8_mbtouc(&c, p, (size_t)(end - p)) : 0;
    if (p == end || (keep_lines && is_break(c))) {
      /* the line ends: trim and fold it */
      char folded[4096];
      size_t f = 0;
      int sp = 0;
      for (const uint8_t *q = (const uint8_t *)line, *qe = q + lo; q < qe;) {
        ucs4_t d;
        int kk = u8_mbtouc(&d, q, (size_t)(qe - q));
        if (is_space(d)) {
          sp = f > 0;
        } else {
          if (sp) folded[f++] = ' ';
          sp = 0;
          memcpy(folded + f, q, (size_t)kk);
          f += (size_t)kk;
        }
        q += kk;
      }
      if (f > 0) {
        if (gap >= 1) out[o++] = '\n';
        if (gap >= 2) out[o++] = '\n';
        memcpy(out + o, folded, f);
        o += f;
        gap = 0;
      }
      lo = 0;
      if (p == end) break;
      if (gap >= 0 && !(c == '\r' && p + 1 < end && p[1] == '\n')) gap++;
    } else {
      memcpy(line + lo, p, (size_t)k);
      lo += (size_t)k;
    }
    p += k;
  }
  out[o] = '\0';
  free(line);
  free(nfc);
  return out;
}

/* val_text's rules on the reference: byte guard, UTF-8, control characters, then the length
 * of the cleaned text. *out: the cleaned text when accepted. */
static const char *reference_check(const char *s, int keep_lines, int required, size_t max, char **out,
                                   char *msg, size_t msglen) {
  size_t n = strlen(s);
  *out = NULL;
  snprintf(msg, msglen, "must be at most %zu characters", max);
  if (n > max * 16 + 64) return msg;
  if (!val_utf8(s, n)) return "must be valid UTF-8";
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] < 0x20 && !strchr("\t\n\r", s[i])) || s[i] == 0x7F)
      return "must not contain control characters";
  char *c = reference(s, keep_lines);
  size_t chars = u8_mbsnlen((const uint8_t *)c, strlen(c));
  if ((chars == 0 && required) || chars > max) {
    free(c);
    return chars ? msg : "must not be empty";
  }
  *out = c;
  return NULL;
}

/* Pieces the shortcut accepts, pieces it must leave to the full path, and invalid ones. */
static const char *const pieces[] = {
    "Nguyễn", "Văn", "An", "Đặng", "đ", "Hường", "ơ", "ư" /* U+01B0, last of the Latin range */,
    "\xC6\xB1" /* U+01B1, just after */, "\xC2\xBF" /* U+00BF, just before */, "ỹ" /* U+1EF9 */,
    "\xE1\xBB\xBA" /* U+1EFA */, "Thị", "a", "Z", "0", "-", ",", "–", "“", "”", "…", "\xE2\x80\xA2" /* bullet */,
    " ", " ", " ", "  ", "\t", "\n", "\n", "\n\n", "\n\n\n", "\r\n", "\r", "\x0B", "\xC2\x85" /* NEL */,
    "\xE2\x80\xA8" /* LS */, "\xC2\xA0" /* NBSP */, "\xE2\x80\x83" /* em space */,
    "e\xCC\x82\xCC\x81" /* decomposed */, "\xCC\x80" /* lone grave */, "A\xCC\x8A", "\xEF\xAC\x81",
    "\xE2\x84\xA6" /* Ohm sign */, "\xE1\xBA\xA0\xCC\x82", "한", "\xE1\x84\x92\xE1\x85\xA1" /* jamo */,
    "\xF0\x9F\x98\x80" /* emoji */, "\x01", "\x7F", "\x1B",
    /* not UTF-8: a cut sequence, a stray continuation, overlongs (one of U+00C0, which the
     * shortcut would otherwise accept), a surrogate, beyond U+10FFFF */
    "\xC3", "\x80", "\xE0\x83\x80", "\xC0\x80", "\xC1\xBF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE1\xBA",
};

static void check_one(const char *s) {
  static const size_t maxes[] = {1, 3, 8, 2000};
  char m1[64], *want = NULL, *got = NULL;
  for (int lines = 0; lines < 2; lines++) {
    for (size_t mi = 0; mi < sizeof maxes / sizeof maxes[0]; mi++) {
      int required = (int)(mi % 2);
      const char *we = reference_check(s, lines, required, maxes[mi], &want, m1, sizeof m1);
      const char *ge = val_text_clean(s, lines, required, maxes[mi], &got);
      const char *te = lines ? val_prose(s, required, maxes[mi]) : val_text(s, required, maxes[mi]);
      if (!we != !ge || (we && strcmp(we, ge) != 0) || !we != !te || (we && strcmp(we, te) != 0))
        fail_msg("\"%s\" lines=%d max=%zu: want \"%s\", got \"%s\" / \"%s\"", s, lines, maxes[mi],
                 we ? we : "(ok)", ge ? ge : "(ok)", te ? te : "(ok)");
      if (we) {
        assert_null(got);
        continue;
      }
      assert_non_null(got);
      if (strcmp(got, want) != 0) fail_msg("\"%s\" lines=%d: got \"%s\", want \"%s\"", s, lines, got, want);
      /* Text that is already clean comes back as itself: nothing to copy or free. */
      if (strcmp(want, s) == 0)
        assert_ptr_equal(got, s);
      else
        assert_ptr_not_equal(got, s);
      if (got != s) free(got);
      free(want);
    }
    /* The cleaners alone: NULL exactly for text that is not UTF-8, control characters kept. */
    char *c = lines ? val_nfc_clean_lines(s) : val_nfc_clean(s);
    if (!val_utf8(s, strlen(s))) {
      assert_null(c);
      continue;
    }
    char *r = reference(s, lines);
    assert_non_null(c);
    if (strcmp(c, r) != 0) fail_msg("clean \"%s\" lines=%d: got \"%s\", want \"%s\"", s, lines, c, r);
    free(c);
    free(r);
  }
}

static void test_same_as_reference(void **state) {
  (void)state;
  srand(4242);
  size_t np = sizeof pieces / sizeof pieces[0];
  for (int round = 0; round < 20000; round++) {
    char s[512] = "";
    int k = 1 + rand() % 8;
    for (int i = 0; i < k; i++) strcat(s, pieces[rand() % (int)np]);
    check_one(s);
  }
}

/* The common cases by hand, including the ones the shortcut takes. */
static void test_examples(void **state) {
  (void)state;
  char *out = NULL;
  const char *ok = "Nguyễn Văn An";
  assert_null(val_text_clean(ok, 0, 1, 255, &out));
  assert_ptr_equal(out, ok);
  const char *prose = "Năm 1990 học tại Hà Nội.\nNăm 1995 về công tác.\n\nĐã kết hôn.";
  assert_null(val_text_clean(prose, 1, 0, 2000, &out));
  assert_ptr_equal(out, prose);
  /* One line only, the breaks of prose become spaces. */
  assert_null(val_text_clean(prose, 0, 0, 2000, &out));
  assert_string_equal(out, "Năm 1990 học tại Hà Nội. Năm 1995 về công tác. Đã kết hôn.");
  free(out);
  assert_null(val_text_clean("  Nguye\xCC\x82\xCC\x83n\t An ", 0, 1, 255, &out));
  assert_string_equal(out, "Nguyễn An");
  free(out);
  assert_null(val_text_clean("", 0, 0, 10, &out));
  assert_string_equal(out, "");
  assert_null(val_text_clean(NULL, 0, 0, 10, &out));
  assert_null(out);
  assert_string_equal(val_text_clean(NULL, 0, 1, 10, &out), "must not be empty");
  assert_string_equal(val_text_clean("   ", 0, 1, 10, &out), "must not be empty");
  assert_null(out);
  /* 14 characters, 20 bytes: characters are counted, not bytes. */
  assert_null(val_text_clean("Nguyễn Văn Đức", 0, 1, 14, &out));
  assert_string_equal(val_text_clean("Nguyễn Văn Đức", 0, 1, 13, &out), "must be at most 13 characters");
  assert_string_equal(val_text_clean("a\xE0\x83\x80" "b", 0, 0, 10, &out), "must be valid UTF-8");
  assert_string_equal(val_text_clean("a\x01", 0, 0, 10, &out), "must not contain control characters");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_as_reference),
      cmocka_unit_test(test_examples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
