/* The proto3 JSON mapping, values: memory through the caller's allocator and storing a decoded
 * value in a message (pbjson_int.h), for the decoder and the dotted-path setters. */
#include "pbjson_int.h"

#include <stdlib.h>
#include <string.h>

static void *sys_alloc(void *data, size_t n) {
  (void)data;
  return malloc(n ? n : 1);
}
static void sys_free(void *data, void *p) {
  (void)data;
  free(p);
}
/* The same functions protobuf-c's default allocator uses, so that free_unpacked(m, NULL)
 * releases what we allocated with a == NULL. */
ProtobufCAllocator pbjson__sys_allocator = {sys_alloc, sys_free, NULL};

void *pbjson__xalloc(ProtobufCAllocator *a, size_t n) { return a->alloc(a->allocator_data, n ? n : 1); }
void pbjson__xfree(ProtobufCAllocator *a, void *p) {
  if (p) a->free(a->allocator_data, p);
}

ProtobufCMessage *pbjson__new_message(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a) {
  ProtobufCMessage *m = pbjson__xalloc(a, d->sizeof_message);
  if (m) protobuf_c_message_init(d, m);
  return m;
}

size_t pbjson__elem_size(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
    return 4;
  case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
  case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
    return 8;
  case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
  case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
  }
  return 8;
}

/* Releases what a stored value owns, honouring protobuf-c's rules: string and bytes defaults
 * and the shared empty string belong to the descriptor, never to the message. */
static void free_value(const ProtobufCFieldDescriptor *f, void *slot, ProtobufCAllocator *a) {
  if (f->type == PROTOBUF_C_TYPE_STRING) {
    char *s = *(char **)slot;
    if (s && s != f->default_value && s != protobuf_c_empty_string) pbjson__xfree(a, s);
    *(char **)slot = f->default_value ? (char *)f->default_value : NULL;
  } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
    ProtobufCBinaryData *bd = slot;
    const ProtobufCBinaryData *def = f->default_value;
    if (bd->data && (!def || def->data != bd->data)) pbjson__xfree(a, bd->data);
    *bd = def ? *def : (ProtobufCBinaryData){0, NULL};
  } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
    ProtobufCMessage *sm = *(ProtobufCMessage **)slot;
    if (sm && sm != f->default_value) protobuf_c_message_free_unpacked(sm, a);
    *(ProtobufCMessage **)slot = NULL;
  }
}

/* Stores v in singular field f of m, releasing the previous value first (also the other
 * member of a oneof that shared the storage). */
void pbjson__store_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, pbval *v,
                           ProtobufCAllocator *a) {
  char *base = (char *)m;
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
    uint32_t *cs = (uint32_t *)(base + f->quantifier_offset);
    if (*cs) {
      const ProtobufCFieldDescriptor *old = protobuf_c_message_descriptor_get_field(m->descriptor, *cs);
      if (old) free_value(old, base + old->offset, a);
    }
    *cs = f->id;
  } else {
    free_value(f, base + f->offset, a);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
        f->type != PROTOBUF_C_TYPE_MESSAGE)
      *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
  }
  memcpy(base + f->offset, v, pbjson__elem_size(f->type));
}

/* Appends v to repeated field f of m. -1 on out of memory (v is then still the caller's). */
int pbjson__append_repeated(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, pbval *v,
                           ProtobufCAllocator *a) {
  char *base = (char *)m;
  size_t *n = (size_t *)(base + f->quantifier_offset);
  void **arr = (void **)(base + f->offset);
  size_t es = pbjson__elem_size(f->type);
  char *grown = pbjson__xalloc(a, (*n + 1) * es);
  if (!grown) return -1;
  if (*n) memcpy(grown, *arr, *n * es);
  memcpy(grown + *n * es, v, es);
  pbjson__xfree(a, *arr);
  *arr = grown;
  (*n)++;
  return 0;
}
