/* Input validation shared by every RPC: strict UTF-8, NFC with white-space folding, text
 * lengths in characters, identifiers, dates and the opaque keyset page tokens. */
#include "val.h"
#include "b64.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#define VAL_PAGE_DEFAULT 50
#define VAL_PAGE_MAX 500
#define VAL_TOKEN_MAX 4096
#define VAL_TOKEN_PREFIX "v1:"

/* Unicode White_Space: the ASCII blanks, and beyond ASCII NBSP (U+00A0, common in text
 * pasted from office documents), the typographic spaces and the ideographic space. */
static int is_space(ucs4_t c) {
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');
  return uc_is_property_white_space(c);
}

/* 1 when s (NUL-terminated) is valid UTF-8 without control characters and certainly what
 * clean() makes of it, with *n its length and *chars its code points: only characters that
 * never take part in a composition (ASCII, the Latin letters with the precomposed Vietnamese
 * ones, a few punctuation marks), single inner spaces, and with keep_lines single or double
 * "\n" between non-blank characters. Most stored text is like this; checking and normalizing
 * it were the largest cost of validating a record (measured on bulk imports), so it is one pass
 * here, also standing for strlen, that decodes just the characters it accepts. 0: anything
 * else, which takes the full path (and its messages). */
static int scan_clean(const char *s, int keep_lines, size_t *n, size_t *chars) {
  enum { START, CHAR, SPACE, BREAK1, BREAK2 } prev = START;
  const uint8_t *p = (const uint8_t *)s;
  size_t count = 0;
  for (;; count++) {
    uint8_t c = *p;
    if (c > ' ' && c < 0x7F) { /* most bytes */
      prev = CHAR;
      p++;
      continue;
    }
    if (c == '\0') break;
    if (c == ' ') {
      if (prev != CHAR) return 0;
      prev = SPACE;
      p++;
      continue;
    }
    if (c == '\n' && keep_lines) {
      if (prev != CHAR && prev != BREAK1) return 0;
      prev = prev == CHAR ? BREAK1 : BREAK2;
      p++;
      continue;
    }
    prev = CHAR;
    ucs4_t u;
    /* A NUL after a lead byte is not a continuation byte: the checks stop there. */
    if (c >= 0xC2 && c <= 0xDF) {
      if ((p[1] & 0xC0) != 0x80) return 0;
      u = (ucs4_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
      p += 2;
      if (u < 0xC0 || u > 0x1B0) return 0;
    } else if (c == 0xE1 || c == 0xE2) { /* U+1000..2FFF: never overlong, never a surrogate */
      if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
      u = (ucs4_t)(c & 0x0F) << 12 | (ucs4_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
      p += 3;
      if (!((u >= 0x1EA0 && u <= 0x1EF9) || u == 0x2013 || u == 0x2014 || (u >= 0x2018 && u <= 0x201D) ||
            u == 0x2026))
        return 0;
    } else {
      return 0; /* other controls, DEL, other leads, stray continuation bytes */
    }
  }
  if (prev != CHAR && prev != START) return 0;
  *n = (size_t)(p - (const uint8_t *)s);
  *chars = count;
  return 1;
}

/* Line and paragraph separators: LF, VT, FF, CR, NEL, U+2028, U+2029. */
static int is_line_break(ucs4_t c) {
  return (c >= '\n' && c <= '\r') || c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* NFC, then white space rewritten: with keep_lines, line breaks (CR LF counted once) survive
 * as "\n", at most one blank line in a row, each line trimmed and folded; without, every run
 * of white space is one space. Leading and trailing white space is dropped either way. s is
 * n bytes of valid UTF-8. */
static char *clean_full(const char *s, size_t n, int keep_lines) {
  size_t len = 0;
  uint8_t *nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, NULL, &len);
  if (!nfc) return NULL;
  char *out = malloc(len + 1);
  if (!out) {
    free(nfc);
    return NULL;
  }
  size_t o = 0;
  int pending_space = 0, pending_breaks = 0;
  const uint8_t *p = nfc, *end = nfc + len;
  while (p < end) {
    ucs4_t c;
    int k = u8_mbtouc(&c, p, (size_t)(end - p));
    if (keep_lines && is_line_break(c)) {
      if (!(c == '\r' && p + 1 < end && p[1] == '\n')) pending_breaks += o > 0;
      pending_space = 0; /* a line's trailing white space is dropped */
    } else if (is_space(c)) {
      pending_space = o > 0 && !pending_breaks; /* so is leading white space */
    } else {
      if (pending_breaks) {
        out[o++] = '\n';
        if (pending_breaks > 1) out[o++] = '\n';
      } else if (pending_space) {
        out[o++] = ' ';
      }
      pending_space = pending_breaks = 0;
      memcpy(out + o, p, (size_t)k);
      o += (size_t)k;
    }
    p += k;
  }
  out[o] = '\0'; /* trailing white space never got written */
  free(nfc);
  return out;
}

static char *clean(const char *s, int keep_lines) {
  size_t n, chars;
  if (!s) return NULL;
  if (scan_clean(s, keep_lines, &n, &chars)) return strdup(s);
  n = strlen(s);
  if (!val_utf8(s, n)) return NULL;
  return clean_full(s, n, keep_lines);
}

char *val_nfc_clean(const char *s) { return clean(s, 0); }

char *val_nfc_clean_lines(const char *s) { return clean(s, 1); }

static const char *too_long(size_t max_chars) {
  static _Thread_local char msg[64];
  snprintf(msg, sizeof msg, "must be at most %zu characters", max_chars);
  return msg;
}

/* The checks of val_text / val_prose; with out, the cleaned text too (val_text_clean). */
static const char *text_check(const char *in, int required, size_t max_chars, int keep_lines, char **out) {
  const char *s = in ? in : "", *e = NULL;
  char *cleaned = NULL;
  size_t n, chars;
  if (out) *out = NULL;
  /* Text the shortcut accepts needs no normalizing: its length is checked below. */
  if (!scan_clean(s, keep_lines, &n, &chars)) {
    n = strlen(s);
    /* Refuse absurd sizes before normalizing them; no NFC character takes more than a few
     * code points of NFD input, so 16 bytes per character is generous. */
    if (max_chars < SIZE_MAX / 32 && n > max_chars * 16 + 64) return too_long(max_chars);
    if (!val_utf8(s, n)) return "must be valid UTF-8";
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)s[i];
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
        return "must not contain control characters";
    }
    cleaned = clean_full(s, n, keep_lines);
    if (!cleaned) return "could not be checked, please try again";
    chars = u8_mbsnlen((const uint8_t *)cleaned, strlen(cleaned));
  }
  if (chars == 0)
    e = required ? "must not be empty" : NULL;
  else if (chars > max_chars)
    e = too_long(max_chars);
  if (e || !out) {
    free(cleaned);
    return e;
  }
  if (cleaned && strcmp(cleaned, s) == 0) {
    free(cleaned);
    cleaned = NULL;
  }
  *out = cleaned ? cleaned : (char *)in;
  return NULL;
}

const char *val_text(const char *s, int required, size_t max_chars) {
  return text_check(s, required, max_chars, 0, NULL);
}

const char *val_prose(const char *s, int required, size_t max_chars) {
  return text_check(s, required, max_chars, 1, NULL);
}

const char *val_text_clean(const char *s, int keep_lines, int required, size_t max_chars, char **out) {
  return text_check(s, required, max_chars, keep_lines, out);
}

const char *val_username(const char *s) {
  if (!s || !*s) return "must not be empty";
  size_t n = strlen(s);
  if (n < 3 || n > 64) return "must be 3 to 64 characters long";
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return "may contain only lowercase letters a-z, digits, '.', '_' and '-'";
  }
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
    return "must start with a letter or a digit";
  return NULL;
}

const char *val_code(const char *s) {
  if (!s || !*s) return "must not be empty";
  size_t n = strlen(s);
  if (n > 64) return "must be at most 64 characters";
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return "may contain only letters A-Z, a-z, digits, '.', '_' and '-'";
  }
  return NULL;
}

const char *val_request_id(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n > VAL_REQUEST_ID_MAX) return "must be at most 128 characters";
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return "must be printable ASCII without spaces";
  return NULL;
}

const char *val_id(const char *s) {
  static const char max[] = "9223372036854775807";
  if (!s || !*s) return "must not be empty";
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return "must be a positive whole number (digits only)";
  if (s[0] == '0') return "must be a positive whole number without leading zeros";
  /* Same length, so text order is numeric order. */
  if (n > sizeof max - 1 || (n == sizeof max - 1 && strcmp(s, max) > 0))
    return "is too large to be an id";
  return NULL;
}

int val_page_size(int requested) {
  if (requested == 0) return VAL_PAGE_DEFAULT;
  if (requested < 0 || requested > VAL_PAGE_MAX) return -1;
  return requested;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

const char *val_date(const char *s) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (!s || !*s) return "must not be empty";
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return "must be a date written YYYY-MM-DD";
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return "must be a date written YYYY-MM-DD";
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  if (y < 1900 || y > 2200) return "must have a year between 1900 and 2200";
  if (m < 1 || m > 12) return "must have a month between 01 and 12";
  int last = mdays[m - 1] + (m == 2 && is_leap(y));
  if (d < 1 || d > last) return "must be a real calendar date (that day does not exist)";
  return NULL;
}

/* --- page tokens ----------------------------------------------------------------------- */

char *val_page_token_encode(const char *key) {
  if (!key) return NULL;
  size_t kn = strlen(key);
  size_t n = sizeof VAL_TOKEN_PREFIX - 1 + kn;
  if (n > VAL_TOKEN_MAX) return NULL;
  unsigned char *raw = malloc(n);
  char *out = malloc((n * 4 + 2) / 3 + 1);
  if (!raw || !out) {
    free(raw);
    free(out);
    return NULL;
  }
  memcpy(raw, VAL_TOKEN_PREFIX, sizeof VAL_TOKEN_PREFIX - 1);
  memcpy(raw + sizeof VAL_TOKEN_PREFIX - 1, key, kn);
  b64url_encode(raw, n, out, (n * 4 + 2) / 3 + 1);
  free(raw);
  return out;
}

int val_page_token_decode(const char *token, char *out, size_t outlen) {
  unsigned char raw[VAL_TOKEN_MAX];
  if (!token || !out || outlen == 0) return -1;
  out[0] = '\0';
  size_t n = strnlen(token, VAL_TOKEN_MAX * 2);
  if (n == 0 || n >= VAL_TOKEN_MAX * 4 / 3 || n % 4 == 1) return -1;
  size_t o = 0;
  /* Non-canonical spellings mean a token we did not write. */
  if (b64url_decode(token, n, raw, sizeof raw, &o) != 0) return -1;
  size_t pn = sizeof VAL_TOKEN_PREFIX - 1;
  if (o < pn || memcmp(raw, VAL_TOKEN_PREFIX, pn) != 0) return -1;
  size_t kn = o - pn;
  if (kn >= outlen || !val_utf8((const char *)raw + pn, kn)) return -1;
  memcpy(out, raw + pn, kn);
  out[kn] = '\0';
  return 0;
}

const char *val_scan_type(const unsigned char *b, size_t n) {
  static const unsigned char png[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
  if (n >= 5 && memcmp(b, "%PDF-", 5) == 0) return "application/pdf";
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "image/jpeg";
  if (n >= 8 && memcmp(b, png, 8) == 0) return "image/png";
  return NULL;
}

const char *val_scan_describe(const unsigned char *b, size_t n) {
  if (n == 0) return "nothing: the file is empty";
  if (n >= 4 && memcmp(b, "\x7f" "ELF", 4) == 0) return "an ELF executable";
  if (n >= 2 && b[0] == 'M' && b[1] == 'Z') return "a Windows executable";
  if (n >= 4 && memcmp(b, "PK\x03\x04", 4) == 0) return "a ZIP archive or Office document";
  if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0)) return "a GIF image";
  for (size_t i = 0; i < n && i < 512; i++)
    if (b[i] == '<') return "text or HTML";
  return "unknown binary data";
}
