/* val_utf8 (val.h): strict UTF-8, with no other dependency, so the gateway's JSON code can use
 * it without the normalization the rest of val.c brings. */
#include "val.h"

int val_utf8(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  if (!s) return n == 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  /* allowed range of the second byte */
    if (c == 0) return 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;       /* below: overlong */
      else if (c == 0xED) hi = 0x9F;  /* above: UTF-16 surrogates D800..DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;       /* below: overlong */
      else if (c == 0xF4) hi = 0x8F;  /* above: beyond U+10FFFF */
    } else {
      return 0;  /* C0, C1 (overlong ASCII), F5..FF, or a stray continuation byte */
    }
    if (n - i < len) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
    i += len;
  }
  return 1;
}
