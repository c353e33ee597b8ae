/* The proto3 JSON mapping, names: a field's JSON name (lowerCamelCase), a field found by either
 * name, map fields told from repeated messages. */
#include "pbjson_int.h"

#include <string.h>

void pbjson_json_name(const char *proto_name, char *out, size_t outlen) {
  size_t o = 0;
  int up = 0;
  if (!outlen) return;
  for (const char *p = proto_name; *p && o + 1 < outlen; p++) {
    if (*p == '_') {
      up = 1;
    } else {
      out[o++] = (up && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
      up = 0;
    }
  }
  out[o] = 0;
}

/* Whether key is the lowerCamelCase JSON name of proto_name (protoc's ToJsonName), compared
 * without building the name: this runs for every key of every request body. */
static int json_name_eq(const char *proto_name, const char *key) {
  int up = 0;
  const char *p = proto_name;
  for (; *p; p++) {
    if (*p == '_') {
      up = 1;
      continue;
    }
    char c = (up && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
    up = 0;
    if (*key++ != c) return 0;
  }
  return *key == 0;
}

const ProtobufCFieldDescriptor *pbjson__find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key) {
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
  if (f) return f;
  for (unsigned i = 0; i < d->n_fields; i++)
    if (json_name_eq(d->fields[i].name, key)) return &d->fields[i];
  return NULL;
}

/* protobuf-c has no map flag, but protoc turns map<K, V> name into `repeated
 * <Parent>.<Name>Entry name` with fields key = 1 and value = 2, and no other message may have
 * that name (protoc refuses it). */
int pbjson_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f) {
  const ProtobufCMessageDescriptor *e = f->descriptor;
  char want[512];
  size_t o;
  int up = 1;
  if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE || e->n_fields != 2 ||
      e->fields[0].id != 1 || e->fields[1].id != 2 || strcmp(e->fields[0].name, "key") != 0 ||
      strcmp(e->fields[1].name, "value") != 0)
    return 0;
  o = (size_t)snprintf(want, sizeof want, "%s.", parent->name);
  for (const char *p = f->name; *p && o + 6 < sizeof want; p++) {
    if (*p == '_') {
      up = 1;
      continue;
    }
    want[o++] = (up && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
    up = 0;
  }
  memcpy(want + o, "Entry", 6);
  return strcmp(e->name, want) == 0;
}
