/* libFuzzer: the three import formats of ImportRecords (records/import_parse*.c; CSV, JSON and
 * length-prefixed binary Record messages, docs/IMPORT_FORMAT.md). The first byte picks the
 * format. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "import_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const Hoso__Records__V1__ImportFormat formats[] = {
      HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV, HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON,
      HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO};
  /* exactly size - 1 bytes on the heap, so a read past the content is seen */
  uint8_t *content = malloc(size);
  if (!content) return 0;
  memcpy(content, data + 1, size - 1);
  import_result r;
  memset(&r, 0, sizeof r);
  (void)import_parse(formats[data[0] % 3], content, size - 1, NULL, &r);
  import_result_free(&r);
  free(content);
  return 0;
}
