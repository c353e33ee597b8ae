/* The proto3 JSON mapping for protobuf-c messages, driven by their descriptors: used by the
 * gateway (HTTP/JSON) and by services that store or exchange the JSON form (record export and
 * import). lowerCamelCase names out, both spellings in; enums by name; 64-bit integers as
 * strings; bytes as base64; maps as objects; unknown fields rejected. Well-known types
 * (google.protobuf.Timestamp, wrappers, Struct...) get no special form. */
#ifndef HOSO_PBJSON_H
#define HOSO_PBJSON_H

#include <stddef.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

enum {
  PBJSON_EMIT_DEFAULTS = 1u << 0,  /* encode: also fields holding their default value */
  PBJSON_ORIG_NAMES = 1u << 1,     /* encode: proto field names (snake_case) instead of lowerCamelCase */
  PBJSON_IGNORE_UNKNOWN = 1u << 2, /* decode: skip unknown fields instead of failing */
  PBJSON_PRETTY = 1u << 3,         /* encode text: indented */
};

/* Message → JSON value (new reference) / compact UTF-8 text (malloc'd). NULL on out of memory. */
json_t *pbjson_to_json(const ProtobufCMessage *m, unsigned flags);
char *pbjson_encode(const ProtobufCMessage *m, unsigned flags);

/* JSON → a new message of descriptor d, its memory from allocator a (NULL: protobuf-c's default,
 * free with protobuf_c_message_free_unpacked(m, NULL)). On failure NULL, and err holds a message
 * naming the field path as the client wrote it, e.g. "record.birthDate: expected a string",
 * "pageSize: not an integer", "foo: unknown field", "body: malformed JSON at line 1 column 9". */
ProtobufCMessage *pbjson_from_json(const ProtobufCMessageDescriptor *d, json_t *v, unsigned flags,
                                   ProtobufCAllocator *a, char *err, size_t errlen);
ProtobufCMessage *pbjson_decode(const ProtobufCMessageDescriptor *d, const char *text, size_t len,
                                unsigned flags, ProtobufCAllocator *a, char *err, size_t errlen);

/* Sets one field of m (already initialised, allocated with a) from a text value, by dotted path of
 * proto or JSON names ("page_size", "record.fullName"), creating sub-messages on the way; a
 * repeated field gets the value appended. Used to bind URL path and query parameters. 0, or -1
 * with err naming the field. */
int pbjson_set_path(ProtobufCMessage *m, const char *path, const char *value, ProtobufCAllocator *a,
                    char *err, size_t errlen);

/* The proto3 JSON name of a proto field name: lowerCamelCase ("full_name" → "fullName"),
 * as protoc derives json_name. */
void pbjson_json_name(const char *proto_name, char *out, size_t outlen);

/* Whether field f of message parent is a map<K, V> (a repeated <Parent>.<Name>Entry). */
int pbjson_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f);

/* Resolves a dotted path of proto or JSON names against d: the canonical path of proto names
 * into canon ("record.full_name" for "record.fullName"; may be NULL) and the last field into
 * *last. 0, or -1 with err naming the path (unknown field, a list or a scalar on the way). */
int pbjson_resolve_path(const ProtobufCMessageDescriptor *d, const char *path, char *canon,
                        size_t canonlen, const ProtobufCFieldDescriptor **last, char *err,
                        size_t errlen);

#endif
