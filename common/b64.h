/* Unpadded base64url (RFC 4648 §5), strict: the one spelling of tokens, page tokens and
 * secrets. (Protobuf bytes in JSON use standard base64: pbjson.c.) */
#ifndef HOSO_B64_H
#define HOSO_B64_H

#include <stddef.h>

/* Room b64url_encode needs for n bytes, with the terminating NUL. */
#define B64URL_ENCODED_SIZE(n) (((n) * 4 + 2) / 3 + 1)

/* Encodes n bytes into out (NUL-terminated). Returns the length, or 0 when outcap is smaller
 * than B64URL_ENCODED_SIZE(n) (and for n = 0). */
size_t b64url_encode(const void *in, size_t n, char *out, size_t outcap);

/* Decodes n characters into out. Only the canonical form is accepted (no padding, unused
 * trailing bits zero), so every byte string has exactly one spelling. 0 and *outn, or -1 when
 * the text is not canonical base64url or does not fit in cap bytes. */
int b64url_decode(const char *in, size_t n, void *out, size_t cap, size_t *outn);

#endif
