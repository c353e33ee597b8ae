/* The proto3 JSON mapping, encoding: any protobuf-c message to jansson values or text, walking
 * its descriptor. */
#include "pbjson_int.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "val.h"


/* ------------------------------------------------------------------------------------------ */
/* base64 through OpenSSL: standard alphabet with padding out; standard or URL-safe, padded or  */
/* not, in                                                                                     */

static char *b64_encode(const uint8_t *p, size_t n) {
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  if (!out) return NULL;
  if (n > INT_MAX) {
    free(out);
    return NULL;
  }
  EVP_EncodeBlock((unsigned char *)out, p, (int)n);
  return out;
}

static json_t *message_to_json(const ProtobufCMessage *m, unsigned flags);

/* Text that is not valid UTF-8 (a backend's bytes) goes out with U+FFFD for each bad byte:
 * jansson would refuse it and the whole response would be lost for one character. */
static json_t *utf8_string(const char *s) {
  size_t n = strlen(s);
  if (val_utf8(s, n)) return json_stringn_nocheck(s, n);
  char *fixed = malloc(3 * n + 1);
  if (!fixed) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len <= n && val_utf8(s + i, len)) {
      memcpy(fixed + o, s + i, len);
      o += len;
      i += len;
    } else {
      memcpy(fixed + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    }
  }
  json_t *v = json_stringn_nocheck(fixed, o);
  free(fixed);
  return v;
}

static json_t *real_to_json(double d) {
  if (isnan(d)) return json_string("NaN");
  if (isinf(d)) return json_string(d > 0 ? "Infinity" : "-Infinity");
  return json_real(d);
}

static json_t *value_to_json(const ProtobufCFieldDescriptor *f, const void *p, unsigned flags) {
  char buf[32];
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    return json_integer(*(const int32_t *)p);
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
    return json_integer(*(const uint32_t *)p);
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    snprintf(buf, sizeof buf, "%" PRId64, *(const int64_t *)p);
    return json_string(buf);
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
    snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *)p);
    return json_string(buf);
  case PROTOBUF_C_TYPE_FLOAT: return real_to_json(*(const float *)p);
  case PROTOBUF_C_TYPE_DOUBLE: return real_to_json(*(const double *)p);
  case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
  case PROTOBUF_C_TYPE_ENUM: {
    int v = *(const int *)p;
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
    /* an open enum may hold a number this build does not name: proto3 JSON says the number */
    return ev ? json_string(ev->name) : json_integer(v);
  }
  case PROTOBUF_C_TYPE_STRING: {
    const char *s = *(char *const *)p;
    return utf8_string(s ? s : "");
  }
  case PROTOBUF_C_TYPE_BYTES: {
    const ProtobufCBinaryData *bd = p;
    char *t = b64_encode(bd->data, bd->len);
    json_t *v = t ? json_string_nocheck(t) : NULL;
    free(t);
    return v;
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    const ProtobufCMessage *sm = *(ProtobufCMessage *const *)p;
    if (sm) return message_to_json(sm, flags);
    return json_object();
  }
  }
  return NULL;
}

static int is_zero(const ProtobufCFieldDescriptor *f, const void *p) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING: {
    const char *s = *(char *const *)p;
    return !s || !*s;
  }
  case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
  case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p == NULL;
  case PROTOBUF_C_TYPE_FLOAT: {
    float v = *(const float *)p;
    return v == 0 && !signbit(v);
  }
  case PROTOBUF_C_TYPE_DOUBLE: {
    double v = *(const double *)p;
    return v == 0 && !signbit(v);
  }
  default: {
    static const unsigned char zero[8];
    return memcmp(p, zero, pbjson__elem_size(f->type)) == 0;
  }
  }
}

/* Whether field f of m goes into the JSON: set oneof members and fields with presence when
 * set, proto3 scalars when not default (or always with PBJSON_EMIT_DEFAULTS). */
static int field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned flags) {
  const char *base = (const char *)m;
  const void *p = base + f->offset;
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
  if (f->label == PROTOBUF_C_LABEL_REPEATED)
    return *(const size_t *)(base + f->quantifier_offset) > 0 || (flags & PBJSON_EMIT_DEFAULTS);
  if (f->label == PROTOBUF_C_LABEL_REQUIRED) return 1;
  if (f->type == PROTOBUF_C_TYPE_MESSAGE) return *(ProtobufCMessage *const *)p != NULL;
  if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
    if (f->type == PROTOBUF_C_TYPE_STRING) {
      const char *s = *(char *const *)p;
      return s && s != f->default_value;
    }
    return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
  }
  return (flags & PBJSON_EMIT_DEFAULTS) || !is_zero(f, p);
}

/* A map as a JSON object: keys as strings (numbers in decimal, bools as true/false), values
 * in their usual JSON form; of entries with the same key the last wins, as in the binary form. */
static json_t *map_to_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned flags) {
  size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
  ProtobufCMessage *const *entries = *(ProtobufCMessage *const *const *)((const char *)m + f->offset);
  const ProtobufCMessageDescriptor *ed = f->descriptor;
  const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
  json_t *obj = json_object();
  for (size_t i = 0; obj && i < n; i++) {
    const char *e = (const char *)entries[i];
    json_t *k = value_to_json(kf, e + kf->offset, flags), *v = value_to_json(vf, e + vf->offset, flags);
    char buf[32];
    const char *key = NULL;
    if (json_is_string(k)) key = json_string_value(k);
    else if (json_is_integer(k)) snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(k)), key = buf;
    else if (json_is_boolean(k)) key = json_is_true(k) ? "true" : "false";
    if (!key || !v || json_object_set_new(obj, key, v)) {
      if (!key || !v) json_decref(v);
      json_decref(obj);
      obj = NULL;
    }
    json_decref(k);
  }
  return obj;
}

static json_t *message_to_json(const ProtobufCMessage *m, unsigned flags) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  json_t *obj = json_object();
  char name[256];
  if (!obj) return NULL;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (!field_present(m, f, flags)) continue;
    const char *p = (const char *)m + f->offset;
    json_t *v;
    if (pbjson_is_map(d, f)) {
      v = map_to_json(m, f, flags);
    } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
      const char *arr = *(char *const *)p;
      size_t es = pbjson__elem_size(f->type);
      v = json_array();
      for (size_t k = 0; v && k < n; k++) {
        json_t *e = value_to_json(f, arr + k * es, flags);
        if (!e || json_array_append_new(v, e)) {
          json_decref(v);
          v = NULL;
        }
      }
    } else {
      v = value_to_json(f, p, flags);
    }
    if (flags & PBJSON_ORIG_NAMES)
      snprintf(name, sizeof name, "%s", f->name);
    else
      pbjson_json_name(f->name, name, sizeof name);
    if (!v || json_object_set_new_nocheck(obj, name, v)) {
      json_decref(obj);
      return NULL;
    }
  }
  return obj;
}

json_t *pbjson_to_json(const ProtobufCMessage *m, unsigned flags) {
  if (!m) return NULL;
  return message_to_json(m, flags);
}

char *pbjson_encode(const ProtobufCMessage *m, unsigned flags) {
  json_t *v = pbjson_to_json(m, flags);
  if (!v) return NULL;
  char *s = json_dumps(v, (flags & PBJSON_PRETTY) ? JSON_INDENT(2) : JSON_COMPACT);
  json_decref(v);
  return s;
}
