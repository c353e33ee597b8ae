/* Strict unpadded base64url, shared by tokens (tok.c), page tokens (val.c) and random secrets
 * (pw.c). */
#include "b64.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '-') return 62;
  if (ch == '_') return 63;
  return -1;
}

size_t b64url_encode(const void *in, size_t n, char *out, size_t outcap) {
  const unsigned char *p = in;
  if (n == 0 || outcap < B64URL_ENCODED_SIZE(n)) return 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    size_t rem = n - i;
    uint32_t v = (uint32_t)p[i] << 16;
    if (rem > 1) v |= (uint32_t)p[i + 1] << 8;
    if (rem > 2) v |= p[i + 2];
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    if (rem > 1) out[o++] = alphabet[(v >> 6) & 63];
    if (rem > 2) out[o++] = alphabet[v & 63];
  }
  out[o] = '\0';
  return o;
}

int b64url_decode(const char *in, size_t n, void *out, size_t cap, size_t *outn) {
  unsigned char *q = out;
  if (n % 4 == 1) return -1;
  size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
  if (need > cap) return -1;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = value((unsigned char)in[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      q[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* Non-zero leftover bits: a second spelling of the same bytes, which we never write. */
  if (acc != 0) return -1;
  *outn = o;
  return 0;
}
