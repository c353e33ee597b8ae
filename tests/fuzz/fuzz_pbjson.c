/* libFuzzer: Connect/JSON → protobuf decoding (common/pbjson.c) into the request messages with
 * the most shapes (a whole dossier, search criteria, lists, maps, enums, 64-bit integers),
 * then encoding the result back; and path binding as REST routes use it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "identity.pb-c.h"
#include "pbjson.h"
#include "records.pb-c.h"

static const ProtobufCMessageDescriptor *const targets[] = {
    &hoso__records__v1__create_record_request__descriptor,
    &hoso__records__v1__update_record_request__descriptor,
    &hoso__records__v1__search_records_request__descriptor,
    &hoso__records__v1__import_records_request__descriptor,
    &hoso__identity__v1__create_account_request__descriptor,
    &hoso__identity__v1__login_request__descriptor,
    &hoso__records__v1__record__descriptor,
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const ProtobufCMessageDescriptor *d = targets[data[0] % N_TARGETS];
  char err[256];
  ProtobufCMessage *m = pbjson_decode(d, (const char *)data + 1, size - 1, 0, NULL, err, sizeof err);
  if (m) {
    char *back = pbjson_encode(m, 0);
    /* what we wrote must read back */
    if (back) {
      ProtobufCMessage *again = pbjson_decode(d, back, strlen(back), 0, NULL, err, sizeof err);
      if (!again) abort();
      protobuf_c_message_free_unpacked(again, NULL);
    }
    free(back);
    protobuf_c_message_free_unpacked(m, NULL);
  }
  /* "path=value" as a URL parameter bound to a field */
  const char *eq = memchr(data + 1, '=', size - 1);
  if (eq) {
    size_t pl = (size_t)(eq - (const char *)data - 1), vl = size - 2 - pl;
    char *path = strndup((const char *)data + 1, pl), *value = strndup(eq + 1, vl);
    ProtobufCMessage *t = calloc(1, d->sizeof_message);
    if (path && value && t) {
      protobuf_c_message_init(d, t);
      (void)pbjson_set_path(t, path, value, NULL, err, sizeof err);
      protobuf_c_message_free_unpacked(t, NULL);
    } else {
      free(t);
    }
    free(path);
    free(value);
  }
  return 0;
}
