/* libFuzzer: strict base64url (common/b64.c). Whatever decodes must encode back to the same
 * text (one spelling per byte string), and whatever is encoded must decode back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  uint8_t out[4096];
  size_t n = 0;
  if (b64url_decode((const char *)data, size, out, sizeof out, &n) == 0) {
    char text[B64URL_ENCODED_SIZE(4096)];
    size_t len = b64url_encode(out, n, text, sizeof text);
    if (n > 0 && (len != size || memcmp(text, data, size) != 0)) abort();
  }
  char text[B64URL_ENCODED_SIZE(4096)];
  size_t len = b64url_encode(data, size, text, sizeof text);
  if (size > 0) {
    if (len == 0) abort();
    if (b64url_decode(text, len, out, sizeof out, &n) != 0 || n != size || memcmp(out, data, size) != 0) abort();
  }
  return 0;
}
