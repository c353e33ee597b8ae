/* libFuzzer: the text cleaner every RPC runs on names, addresses and prose (common/val.c):
 * strict UTF-8, NFC, control characters, line breaks. What it accepts comes out as valid
 * UTF-8, already clean (cleaning it again changes nothing). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "val.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char *s = strndup((const char *)data + 1, size - 1);
  if (!s) return 0;
  int keep_lines = data[0] & 1, required = (data[0] >> 1) & 1;
  size_t max = (size_t)(data[0] >> 2) * 8 + 1;
  char *out = NULL;
  const char *why = val_text_clean(s, keep_lines, required, max, &out);
  if (!why) {
    if (!out || !val_utf8(out, strlen(out))) abort();
    char *again = NULL;
    if (val_text_clean(out, keep_lines, required, max, &again) != NULL || strcmp(again, out) != 0) abort();
    if (again != out) free(again);
  }
  if (out != s) free(out); /* s itself when it was already clean */
  char *n = val_nfc_clean(s);
  if (n && !val_utf8(n, strlen(n))) abort();
  free(n);
  free(s);
  return 0;
}
