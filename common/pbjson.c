/* The proto3 JSON mapping for any protobuf-c message, walking its descriptor: encode to jansson
 * values, decode from them (every allocation through the caller's allocator), and dotted-path
 * setters for URL parameters. */
#include "pbjson.h"

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

/* Protobuf's own parsers stop at 100 levels; our messages nest a handful deep. */
#define PBJSON_MAX_DEPTH 64
/* pbjson_decode replaces each byte of invalid UTF-8 with U+FFFF (a noncharacter) so that
 * jansson accepts the text and the error can name the field the bad string was given for. */
#define BAD_UTF8_MARK "\xEF\xBF\xBF"

/* ------------------------------------------------------------------------------------------ */
/* names                                                                                       */

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

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
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

/* ------------------------------------------------------------------------------------------ */
/* memory                                                                                      */

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
static ProtobufCAllocator sys_allocator = {sys_alloc, sys_free, NULL};

static void *xalloc(ProtobufCAllocator *a, size_t n) { return a->alloc(a->allocator_data, n ? n : 1); }
static void xfree(ProtobufCAllocator *a, void *p) {
  if (p) a->free(a->allocator_data, p);
}

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a) {
  ProtobufCMessage *m = xalloc(a, d->sizeof_message);
  if (m) protobuf_c_message_init(d, m);
  return m;
}

static size_t elem_size(ProtobufCType t) {
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

/* Releases what a stored value owns, honouring protobuf-c's rules: string and bytes defaults
 * and the shared empty string belong to the descriptor, never to the message. */
static void free_value(const ProtobufCFieldDescriptor *f, void *slot, ProtobufCAllocator *a) {
  if (f->type == PROTOBUF_C_TYPE_STRING) {
    char *s = *(char **)slot;
    if (s && s != f->default_value && s != protobuf_c_empty_string) xfree(a, s);
    *(char **)slot = f->default_value ? (char *)f->default_value : NULL;
  } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
    ProtobufCBinaryData *bd = slot;
    const ProtobufCBinaryData *def = f->default_value;
    if (bd->data && (!def || def->data != bd->data)) xfree(a, bd->data);
    *bd = def ? *def : (ProtobufCBinaryData){0, NULL};
  } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
    ProtobufCMessage *sm = *(ProtobufCMessage **)slot;
    if (sm && sm != f->default_value) protobuf_c_message_free_unpacked(sm, a);
    *(ProtobufCMessage **)slot = NULL;
  }
}

/* Stores v in singular field f of m, releasing the previous value first (also the other
 * member of a oneof that shared the storage). */
static void store_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, pbval *v,
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
  memcpy(base + f->offset, v, elem_size(f->type));
}

/* Appends v to repeated field f of m. -1 on out of memory (v is then still the caller's). */
static int append_repeated(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, pbval *v,
                           ProtobufCAllocator *a) {
  char *base = (char *)m;
  size_t *n = (size_t *)(base + f->quantifier_offset);
  void **arr = (void **)(base + f->offset);
  size_t es = elem_size(f->type);
  char *grown = xalloc(a, (*n + 1) * es);
  if (!grown) return -1;
  if (*n) memcpy(grown, *arr, *n * es);
  memcpy(grown + *n * es, v, es);
  xfree(a, *arr);
  *arr = grown;
  (*n)++;
  return 0;
}

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

/* 0 and *out (allocated with a; NULL when empty), -1 if not base64, -2 on out of memory. */
static int b64_decode(const char *s, size_t n, ProtobufCAllocator *a, ProtobufCBinaryData *out) {
  size_t pad = 0;
  int rc = -1;
  char *buf = NULL;
  unsigned char *tmp = NULL;
  while (n && s[n - 1] == '=' && pad < 2) n--, pad++;
  if (n % 4 == 1 || (pad && (n + pad) % 4)) return -1;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '/' || c == '-' || c == '_'))
      return -1;
  }
  *out = (ProtobufCBinaryData){0, NULL};
  if (n == 0) return 0;
  size_t padded = (n + 3) / 4 * 4, added = padded - n;
  if (padded > INT_MAX) return -1;
  buf = malloc(padded);
  tmp = malloc(padded / 4 * 3);
  if (!buf || !tmp) {
    rc = -2;
    goto out;
  }
  for (size_t i = 0; i < n; i++) buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
  memset(buf + n, '=', added);
  int got = EVP_DecodeBlock(tmp, (unsigned char *)buf, (int)padded);
  if (got < 0 || (size_t)got < added) goto out;
  out->len = (size_t)got - added;
  out->data = xalloc(a, out->len);
  if (!out->data) {
    out->len = 0;
    rc = -2;
    goto out;
  }
  memcpy(out->data, tmp, out->len);
  rc = 0;
out:
  free(buf);
  free(tmp);
  return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* encoding                                                                                    */

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
    return memcmp(p, zero, elem_size(f->type)) == 0;
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
      size_t es = elem_size(f->type);
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

/* ------------------------------------------------------------------------------------------ */
/* decoding                                                                                    */

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

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence: error messages are
 * sent as JSON, which must stay valid text. */
static size_t utf8_cut(const char *s, size_t len, size_t max) {
  if (len <= max) return len;
  size_t n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  return n;
}

static int fail(dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(dctx *c, const char *fmt, ...) {
  if (c->err && c->errlen) {
    int n = snprintf(c->err, c->errlen, "%s: ", c->plen ? c->path : "body");
    if (n >= 0 && (size_t)n < c->errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
    size_t len = strlen(c->err);
    if (len + 1 == c->errlen) c->err[utf8_cut(c->err, len, len - 1)] = 0; /* maybe cut short */
  }
  return -1;
}

static void path_add(dctx *c, const char *text) {
  size_t room = sizeof c->path - 1 - c->plen;
  size_t n = utf8_cut(text, strlen(text), room);
  memcpy(c->path + c->plen, text, n);
  c->plen += n;
  c->path[c->plen] = 0;
}
static size_t push_key(dctx *c, const char *key) {
  size_t old = c->plen;
  if (c->plen) path_add(c, ".");
  path_add(c, key);
  return old;
}
static size_t push_index(dctx *c, size_t i) {
  size_t old = c->plen;
  char buf[32];
  snprintf(buf, sizeof buf, "[%zu]", i);
  path_add(c, buf);
  return old;
}
static void pop(dctx *c, size_t old) {
  c->plen = old;
  c->path[old] = 0;
}

static int decode_message(dctx *c, ProtobufCMessage *m, json_t *obj);

/* -?digits(.digits)?([eE][+-]?digits)? — the JSON number grammar, also for numbers in strings;
 * *integral is set when there is no fraction nor exponent. */
static int number_text(const char *s, int *integral) {
  const char *p = s;
  *integral = 1;
  if (*p == '-') p++;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') p++;
  if (*p == '.') {
    *integral = 0;
    p++;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p == 'e' || *p == 'E') {
    *integral = 0;
    p++;
    if (*p == '+' || *p == '-') p++;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
  }
  return *p == 0;
}

/* An integer field's value from a JSON integer, an integral real, or a string of either.
 * Signed fields get *s, unsigned *u; 0 fine, -1 not an integer, -2 out of range. */
static int json_int(json_t *v, int is_unsigned, int64_t lo, int64_t hi, uint64_t uhi, int64_t *s,
                    uint64_t *u) {
  double d;
  if (json_is_integer(v)) {
    json_int_t x = json_integer_value(v);
    if (is_unsigned) {
      if (x < 0 || (uint64_t)x > uhi) return -2;
      *u = (uint64_t)x;
    } else {
      if (x < lo || x > hi) return -2;
      *s = x;
    }
    return 0;
  }
  if (json_is_real(v)) {
    d = json_real_value(v);
  } else if (json_is_string(v)) {
    const char *t = json_string_value(v);
    int integral;
    if (!number_text(t, &integral)) return -1;
    if (integral) {
      char *end;
      errno = 0;
      if (is_unsigned) {
        if (*t == '-') return strcmp(t, "-0") == 0 ? (*u = 0, 0) : -2;
        unsigned long long x = strtoull(t, &end, 10);
        if (errno == ERANGE || x > uhi) return -2;
        *u = x;
      } else {
        long long x = strtoll(t, &end, 10);
        if (errno == ERANGE || x < lo || x > hi) return -2;
        *s = x;
      }
      return 0;
    }
    d = strtod(t, NULL);
  } else {
    return -1;
  }
  if (!isfinite(d) || d != trunc(d)) return -1;
  if (is_unsigned) {
    if (d < 0 || d >= 18446744073709551616.0 || (uint64_t)d > uhi) return -2;
    *u = (uint64_t)d;
  } else {
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return -2;
    int64_t x = (int64_t)d;
    if (x < lo || x > hi) return -2;
    *s = x;
  }
  return 0;
}

static int json_double(json_t *v, double *out) {
  if (json_is_number(v)) {
    *out = json_number_value(v);
    return 0;
  }
  if (!json_is_string(v)) return -1;
  const char *t = json_string_value(v);
  int integral;
  if (strcmp(t, "NaN") == 0) *out = NAN;
  else if (strcmp(t, "Infinity") == 0) *out = INFINITY;
  else if (strcmp(t, "-Infinity") == 0) *out = -INFINITY;
  else if (number_text(t, &integral)) *out = strtod(t, NULL);
  else return -1;
  return 0;
}

/* A string from the client: valid UTF-8 without NUL, and not carrying the mark of invalid
 * bytes pbjson_decode replaced. */
static int good_text(dctx *c, json_t *v) {
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (!val_utf8(s, n)) return 0;
  return !(c->bad_utf8 && memmem(s, n, BAD_UTF8_MARK, 3));
}

static const char *int_type_name(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32: return "int32";
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: return "uint32";
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: return "uint64";
  default: return "int64";
  }
}

/* Converts one JSON value for field f (a singular value or one element of a list) into *out.
 * 0 done, 1 skip (an unknown enum name under PBJSON_IGNORE_UNKNOWN), -1 failed (err set). */
static int decode_value(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v, pbval *out) {
  int64_t s = 0;
  uint64_t u = 0;
  int rc;
  memset(out, 0, sizeof *out);
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    rc = json_int(v, 0, INT32_MIN, INT32_MAX, 0, &s, &u);
    out->i32 = (int32_t)s;
    break;
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
    rc = json_int(v, 1, 0, 0, UINT32_MAX, &s, &u);
    out->u32 = (uint32_t)u;
    break;
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    rc = json_int(v, 0, INT64_MIN, INT64_MAX, 0, &s, &u);
    out->i64 = s;
    break;
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
    rc = json_int(v, 1, 0, 0, UINT64_MAX, &s, &u);
    out->u64 = u;
    break;
  case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE: {
    double d;
    if (json_double(v, &d)) return fail(c, "not a number");
    if (f->type == PROTOBUF_C_TYPE_FLOAT) {
      if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
        return fail(c, "out of range for float");
      out->f = (float)d;
    } else {
      out->d = d;
    }
    return 0;
  }
  case PROTOBUF_C_TYPE_BOOL:
    if (!json_is_boolean(v)) return fail(c, "expected true or false");
    out->b = json_is_true(v);
    return 0;
  case PROTOBUF_C_TYPE_ENUM: {
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    if (json_is_string(v)) {
      const char *name = json_string_value(v);
      const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
      if (!ev) {
        if (c->flags & PBJSON_IGNORE_UNKNOWN) return 1;
        if (!good_text(c, v)) return fail(c, "unknown enum value (not valid UTF-8) for %s", ed->name);
        return fail(c, "unknown enum value \"%.*s\" for %s", (int)utf8_cut(name, strlen(name), 64), name,
                    ed->name);
      }
      out->e = ev->value;
      return 0;
    }
    if (!json_is_integer(v)) return fail(c, "expected an enum name or number for %s", ed->name);
    /* proto3 enums are open: any int32 number is kept, named or not */
    json_int_t x = json_integer_value(v);
    if (x < INT32_MIN || x > INT32_MAX) return fail(c, "out of range for enum %s", ed->name);
    out->e = (int)x;
    return 0;
  }
  case PROTOBUF_C_TYPE_STRING: {
    if (!json_is_string(v)) return fail(c, "expected a string");
    if (!good_text(c, v)) return fail(c, "not valid UTF-8 text");
    size_t n = json_string_length(v);
    out->s = xalloc(c->a, n + 1);
    if (!out->s) return fail(c, "out of memory");
    memcpy(out->s, json_string_value(v), n + 1);
    return 0;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    if (!json_is_string(v)) return fail(c, "expected a base64 string");
    rc = b64_decode(json_string_value(v), json_string_length(v), c->a, &out->bd);
    if (rc == -2) return fail(c, "out of memory");
    if (rc) return fail(c, "not valid base64");
    return 0;
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    const ProtobufCMessageDescriptor *md = f->descriptor;
    if (!json_is_object(v)) return fail(c, "expected an object");
    if (c->depth >= PBJSON_MAX_DEPTH) return fail(c, "nested too deeply");
    out->m = new_message(md, c->a);
    if (!out->m) return fail(c, "out of memory");
    c->depth++;
    rc = decode_message(c, out->m, v);
    c->depth--;
    if (rc) {
      protobuf_c_message_free_unpacked(out->m, c->a);
      out->m = NULL;
      return -1;
    }
    return 0;
  }
  default:
    return fail(c, "unsupported field type");
  }
  if (rc == -2) return fail(c, "out of range for %s", int_type_name(f->type));
  if (rc) return fail(c, "not an integer");
  return 0;
}

/* Stores a decoded string for a singular field: the empty string as the descriptor's default,
 * which is how protobuf-c itself leaves an unset proto3 string. */
static void tidy_empty_string(const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a) {
  if (f->type == PROTOBUF_C_TYPE_STRING && v->s && !*v->s && f->default_value &&
      !*(const char *)f->default_value) {
    xfree(a, v->s);
    v->s = (char *)f->default_value;
  }
}

static void drop_value(const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a) {
  if (f->type == PROTOBUF_C_TYPE_STRING) xfree(a, v->s);
  else if (f->type == PROTOBUF_C_TYPE_BYTES) xfree(a, v->bd.data);
  else if (f->type == PROTOBUF_C_TYPE_MESSAGE && v->m) protobuf_c_message_free_unpacked(v->m, a);
}

/* Rejects a second member of a oneof: the JSON named two alternatives at once. */
static int oneof_conflict(dctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
  if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) return 0;
  uint32_t cs = *(uint32_t *)((char *)m + f->quantifier_offset);
  if (!cs || cs == f->id) return 0;
  const ProtobufCFieldDescriptor *other = protobuf_c_message_descriptor_get_field(m->descriptor, cs);
  char name[128];
  pbjson_json_name(other ? other->name : "?", name, sizeof name);
  return fail(c, "only one field of a oneof may be set, and %s is set already", name);
}

/* A JSON object into map field f: one entry message per key. */
static int decode_map(dctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, json_t *v) {
  const ProtobufCMessageDescriptor *ed = f->descriptor;
  const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
  const char *key;
  json_t *jv;
  if (!json_is_object(v)) return fail(c, "expected an object (a map)");
  json_object_foreach(v, key, jv) {
    size_t old = push_key(c, key);
    pbval kv, vv, ev;
    json_t *jk;
    int rc;
    if (json_is_null(jv)) return fail(c, "null is not allowed in a map");
    if (kf->type == PROTOBUF_C_TYPE_BOOL) {
      if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0) return fail(c, "a map key must be true or false");
      jk = json_boolean(key[0] == 't');
    } else {
      jk = json_string_nocheck(key);
    }
    if (!jk) return fail(c, "out of memory");
    rc = decode_value(c, kf, jk, &kv);
    json_decref(jk);
    if (rc) return -1;
    if (!(ev.m = new_message(ed, c->a))) {
      drop_value(kf, &kv, c->a);
      return fail(c, "out of memory");
    }
    tidy_empty_string(kf, &kv, c->a);
    store_singular(ev.m, kf, &kv, c->a);
    rc = decode_value(c, vf, jv, &vv);
    if (rc == 0) {
      tidy_empty_string(vf, &vv, c->a);
      store_singular(ev.m, vf, &vv, c->a);
    }
    if (rc < 0 || rc == 1 || append_repeated(m, f, &ev, c->a)) {
      protobuf_c_message_free_unpacked(ev.m, c->a);
      if (rc < 0) return -1;
      if (rc == 1) { /* an unknown enum value under PBJSON_IGNORE_UNKNOWN: the entry is dropped */
        pop(c, old);
        continue;
      }
      return fail(c, "out of memory");
    }
    pop(c, old);
  }
  return 0;
}

static int decode_field(dctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, json_t *v) {
  pbval val;
  if (json_is_null(v)) return 0; /* null: the field keeps its default */
  if (pbjson_is_map(m->descriptor, f)) return decode_map(c, m, f, v);
  if (f->label == PROTOBUF_C_LABEL_REPEATED) {
    char *base = (char *)m;
    size_t *n = (size_t *)(base + f->quantifier_offset);
    char **arr = (char **)(base + f->offset);
    size_t es = elem_size(f->type), len;
    if (!json_is_array(v)) return fail(c, "expected an array");
    len = json_array_size(v);
    if (len == 0) return 0;
    /* decode_message refuses a field given twice, so the list is still empty here */
    if (*n) return fail(c, "given twice");
    /* free_unpacked frees *n elements: the count grows with each element actually stored */
    *arr = xalloc(c->a, len * es);
    if (!*arr) return fail(c, "out of memory");
    for (size_t i = 0; i < len; i++) {
      json_t *e = json_array_get(v, i);
      size_t old = push_index(c, i);
      if (json_is_null(e)) return fail(c, "null is not allowed in a list");
      int rc = decode_value(c, f, e, &val);
      pop(c, old);
      if (rc < 0) return -1;
      if (rc == 1) continue;
      memcpy(*arr + *n * es, &val, es);
      (*n)++;
    }
    if (*n == 0) {
      xfree(c->a, *arr);
      *arr = NULL;
    }
    return 0;
  }
  if (oneof_conflict(c, m, f)) return -1;
  int rc = decode_value(c, f, v, &val);
  if (rc < 0) return -1;
  if (rc == 1) return 0;
  tidy_empty_string(f, &val, c->a);
  store_singular(m, f, &val, c->a);
  return 0;
}

static int decode_message(dctx *c, ProtobufCMessage *m, json_t *obj) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  const char *key;
  json_t *v;
  uint8_t seen_small[32];
  uint8_t *seen = seen_small;
  size_t nbytes = (d->n_fields + 7) / 8;
  int rc = -1;
  if (nbytes > sizeof seen_small && !(seen = calloc(1, nbytes))) return fail(c, "out of memory");
  if (seen == seen_small) memset(seen_small, 0, sizeof seen_small);
  json_object_foreach(obj, key, v) {
    const ProtobufCFieldDescriptor *f = find_field(d, key);
    size_t old = push_key(c, key);
    if (c->bad_utf8 && strstr(key, BAD_UTF8_MARK)) {
      fail(c, "field name is not valid UTF-8");
      goto out;
    }
    if (!f) {
      if (c->flags & PBJSON_IGNORE_UNKNOWN) {
        pop(c, old);
        continue;
      }
      fail(c, "unknown field");
      goto out;
    }
    size_t idx = (size_t)(f - d->fields);
    if (seen[idx / 8] & (1u << (idx % 8))) {
      char jn[128];
      pbjson_json_name(f->name, jn, sizeof jn);
      fail(c, "given twice (as %s and %s)", jn, f->name);
      goto out;
    }
    seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
    if (decode_field(c, m, f, v)) goto out;
    pop(c, old);
  }
  rc = 0;
out:
  if (seen != seen_small) free(seen);
  return rc;
}

static ProtobufCMessage *from_json(dctx *c, const ProtobufCMessageDescriptor *d, json_t *v) {
  ProtobufCMessage *m;
  if (!v || !json_is_object(v)) {
    fail(c, "expected a JSON object");
    return NULL;
  }
  m = new_message(d, c->a);
  if (!m) {
    fail(c, "out of memory");
    return NULL;
  }
  if (decode_message(c, m, v)) {
    protobuf_c_message_free_unpacked(m, c->a);
    return NULL;
  }
  return m;
}

ProtobufCMessage *pbjson_from_json(const ProtobufCMessageDescriptor *d, json_t *v, unsigned flags,
                                   ProtobufCAllocator *a, char *err, size_t errlen) {
  dctx c = {.a = a ? a : &sys_allocator, .flags = flags, .err = err, .errlen = errlen};
  if (err && errlen) err[0] = 0;
  return from_json(&c, d, v);
}

/* A copy of text with every byte that is not part of well-formed UTF-8 replaced by
 * BAD_UTF8_MARK (NUL bytes are kept: jansson reports them itself). malloc'd. */
static char *mark_bad_utf8(const char *text, size_t len, size_t *outlen) {
  char *out = malloc(3 * len + 1);
  size_t o = 0;
  if (!out) return NULL;
  for (size_t i = 0; i < len;) {
    unsigned char ch = (unsigned char)text[i];
    size_t n = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
    if (ch == 0 || (i + n <= len && val_utf8(text + i, n))) {
      memcpy(out + o, text + i, n);
      o += n;
      i += n;
    } else {
      memcpy(out + o, BAD_UTF8_MARK, 3);
      o += 3;
      i++;
    }
  }
  *outlen = o;
  return out;
}

ProtobufCMessage *pbjson_decode(const ProtobufCMessageDescriptor *d, const char *text, size_t len,
                                unsigned flags, ProtobufCAllocator *a, char *err, size_t errlen) {
  dctx c = {.a = a ? a : &sys_allocator, .flags = flags, .err = err, .errlen = errlen};
  json_error_t je;
  char *fixed = NULL;
  ProtobufCMessage *m = NULL;
  json_t *v;
  if (err && errlen) err[0] = 0;
  if (!text) text = "", len = 0;
  if (!val_utf8(text, len) && !memchr(text, 0, len)) {
    fixed = mark_bad_utf8(text, len, &len);
    if (!fixed) {
      fail(&c, "out of memory");
      return NULL;
    }
    text = fixed;
    c.bad_utf8 = 1;
  }
  v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!v) {
    /* jansson names its own flag for this one; say what the client can change instead */
    if (strstr(je.text, "JSON_ALLOW_NUL")) snprintf(je.text, sizeof je.text, "\\u0000 is not allowed in text");
    fail(&c, "malformed JSON at line %d column %d (%s)", je.line, je.column, je.text);
    goto out;
  }
  m = from_json(&c, d, v);
  json_decref(v);
  /* bad bytes in a part of the text no field took (an ignored unknown field) */
  if (m && c.bad_utf8) {
    protobuf_c_message_free_unpacked(m, c.a);
    m = NULL;
    fail(&c, "not valid UTF-8 text");
  }
out:
  free(fixed);
  return m;
}

/* ------------------------------------------------------------------------------------------ */
/* dotted paths (URL path and query parameters)                                                */

int pbjson_resolve_path(const ProtobufCMessageDescriptor *d, const char *path, char *canon,
                        size_t canonlen, const ProtobufCFieldDescriptor **last, char *err,
                        size_t errlen) {
  dctx c = {.err = err, .errlen = errlen};
  size_t co = 0;
  const char *p = path;
  const ProtobufCFieldDescriptor *f = NULL;
  if (err && errlen) err[0] = 0;
  if (canon && canonlen) canon[0] = 0;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    char seg[128];
    if (n == 0 || n >= sizeof seg) {
      pop(&c, 0);
      push_key(&c, path);
      return fail(&c, "not a field path");
    }
    memcpy(seg, p, n);
    seg[n] = 0;
    push_key(&c, seg);
    f = find_field(d, seg);
    if (!f) return fail(&c, "unknown field");
    if (canon && canonlen) {
      int w = snprintf(canon + co, canonlen - co, "%s%s", co ? "." : "", f->name);
      if (w < 0 || (size_t)w >= canonlen - co) return fail(&c, "path too long");
      co += (size_t)w;
    }
    if (!dot) break;
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) return fail(&c, "not a message field, so it has no fields");
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return fail(&c, "a list of messages cannot be bound to a parameter");
    d = f->descriptor;
    p = dot + 1;
  }
  if (last) *last = f;
  return 0;
}

int pbjson_set_path(ProtobufCMessage *m, const char *path, const char *value, ProtobufCAllocator *a,
                    char *err, size_t errlen) {
  dctx c = {.a = a ? a : &sys_allocator, .err = err, .errlen = errlen};
  const ProtobufCFieldDescriptor *f;
  char canon[512];
  json_t *jv = NULL;
  pbval val;
  int rc = -1;
  if (pbjson_resolve_path(m->descriptor, path, canon, sizeof canon, &f, err, errlen)) return -1;
  push_key(&c, path);
  /* down the canonical path, creating the sub-messages on the way */
  for (char *seg = canon, *dot; (dot = strchr(seg, '.')); seg = dot + 1) {
    *dot = 0;
    const ProtobufCFieldDescriptor *mf = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, seg);
    ProtobufCMessage **slot = (ProtobufCMessage **)((char *)m + mf->offset);
    int selected = !(mf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
                   *(uint32_t *)((char *)m + mf->quantifier_offset) == mf->id;
    if (!selected || !*slot) {
      if (oneof_conflict(&c, m, mf)) return -1;
      val.m = new_message(mf->descriptor, c.a);
      if (!val.m) return fail(&c, "out of memory");
      store_singular(m, mf, &val, c.a);
    }
    m = *slot;
  }
  if (f->type == PROTOBUF_C_TYPE_MESSAGE) return fail(&c, "is a message: give its fields, e.g. %s.<field>", path);
  if (!value) value = "";
  /* the text goes through the same conversions as JSON values: numbers, enums and bytes
   * accept their string forms there */
  if (f->type == PROTOBUF_C_TYPE_BOOL) {
    if (strcmp(value, "true") == 0) jv = json_true();
    else if (strcmp(value, "false") == 0) jv = json_false();
    else return fail(&c, "expected true or false");
  } else if (f->type == PROTOBUF_C_TYPE_ENUM && value[0] && strspn(value, "-0123456789") == strlen(value)) {
    int integral;
    if (!number_text(value, &integral)) return fail(&c, "expected an enum name or number for %s",
                                                    ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
    errno = 0;
    long long x = strtoll(value, NULL, 10);
    if (errno == ERANGE) return fail(&c, "out of range for enum");
    jv = json_integer(x);
  } else {
    jv = json_stringn_nocheck(value, strlen(value));
  }
  if (!jv) return fail(&c, "out of memory");
  if (f->label != PROTOBUF_C_LABEL_REPEATED && oneof_conflict(&c, m, f)) goto out;
  int r = decode_value(&c, f, jv, &val);
  if (r < 0) goto out;
  if (f->label == PROTOBUF_C_LABEL_REPEATED) {
    if (append_repeated(m, f, &val, c.a)) {
      drop_value(f, &val, c.a);
      fail(&c, "out of memory");
      goto out;
    }
  } else {
    tidy_empty_string(f, &val, c.a);
    store_singular(m, f, &val, c.a);
  }
  rc = 0;
out:
  json_decref(jv);
  return rc;
}
