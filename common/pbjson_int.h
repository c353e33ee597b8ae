/* Internals shared by the proto3 JSON files (pbjson_names.c, pbjson_value.c, pbjson_encode.c,
 * pbjson_decode.c, pbjson_path.c). */
#ifndef HOSO_PBJSON_INT_H
#define HOSO_PBJSON_INT_H

#include <stddef.h>
#include <stdint.h>
#include "pbjson.h"

/* Protobuf's own parsers stop at 100 levels; our messages nest a handful deep. */
#define PBJSON_MAX_DEPTH 64
/* pbjson_decode replaces each byte of invalid UTF-8 with U+FFFF (a noncharacter) so that
 * jansson accepts the text and the error can name the field the bad string was given for. */
#define BAD_UTF8_MARK "\xEF\xBF\xBF"


/* One decoded value, before it is stored in the message. */
typedef union {
  int32_t i32;
  uint32_t u32;
  int64_t i64;
  uint64_t u64;
  float f;
  double d;
  protobuf_c_boolean b;
  int e;
  char *s;
  ProtobufCBinaryData bd;
  ProtobufCMessage *m;
} pbval;

/* The decoder's state: allocator, flags, the error buffer and the path being decoded. */
typedef struct {
  ProtobufCAllocator *a;
  unsigned flags;
  char *err;
  size_t errlen;
  char path[512]; /* the field path as the client wrote it, e.g. "record.workHistory[2].from" */
  size_t plen;
  int bad_utf8;   /* the text had invalid UTF-8, replaced by BAD_UTF8_MARK */
  int depth;
} dctx;

/* pbjson_names.c: a field by proto or JSON name. */
const ProtobufCFieldDescriptor *pbjson__find_field(const ProtobufCMessageDescriptor *d, const char *key);

/* pbjson_value.c: protobuf-c's default allocator (so free_unpacked(m, NULL) releases what was
 * allocated with a == NULL), allocation through an allocator, a new initialised message, the
 * size of a repeated element, storing a value (the old one released) or appending it. */
extern ProtobufCAllocator pbjson__sys_allocator;
void *pbjson__xalloc(ProtobufCAllocator *a, size_t n);
void pbjson__xfree(ProtobufCAllocator *a, void *p);
ProtobufCMessage *pbjson__new_message(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a);
size_t pbjson__elem_size(ProtobufCType t);
void pbjson__store_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a);
int pbjson__append_repeated(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a);

/* pbjson_decode.c: errors naming the path, the path stack, number text, one value decoded, and
 * what the dotted-path setters share with the decoder. */
int pbjson__fail(dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t pbjson__push_key(dctx *c, const char *key);
void pbjson__pop(dctx *c, size_t old);
int pbjson__number_text(const char *s, int *integral);
int pbjson__decode_value(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v, pbval *out);
void pbjson__tidy_empty_string(const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a);
void pbjson__drop_value(const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a);
int pbjson__oneof_conflict(dctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

#endif
