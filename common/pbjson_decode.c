/* The proto3 JSON mapping, decoding: jansson values or text into any protobuf-c message, every
 * allocation through the caller's allocator, errors naming the field path as the client wrote
 * it. */
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
  out->data = pbjson__xalloc(a, out->len);
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

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence: error messages are
 * sent as JSON, which must stay valid text. */
static size_t utf8_cut(const char *s, size_t len, size_t max) {
  if (len <= max) return len;
  size_t n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  return n;
}

int pbjson__fail(dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pbjson__fail(dctx *c, const char *fmt, ...) {
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
size_t pbjson__push_key(dctx *c, const char *key) {
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
void pbjson__pop(dctx *c, size_t old) {
  c->plen = old;
  c->path[old] = 0;
}

static int decode_message(dctx *c, ProtobufCMessage *m, json_t *obj);

/* -?digits(.digits)?([eE][+-]?digits)? — the JSON number grammar, also for numbers in strings;
 * *integral is set when there is no fraction nor exponent. */
int pbjson__number_text(const char *s, int *integral) {
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
    if (!pbjson__number_text(t, &integral)) return -1;
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
  else if (pbjson__number_text(t, &integral)) *out = strtod(t, NULL);
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
int pbjson__decode_value(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v, pbval *out) {
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
    if (json_double(v, &d)) return pbjson__fail(c, "not a number");
    if (f->type == PROTOBUF_C_TYPE_FLOAT) {
      if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
        return pbjson__fail(c, "out of range for float");
      out->f = (float)d;
    } else {
      out->d = d;
    }
    return 0;
  }
  case PROTOBUF_C_TYPE_BOOL:
    if (!json_is_boolean(v)) return pbjson__fail(c, "expected true or false");
    out->b = json_is_true(v);
    return 0;
  case PROTOBUF_C_TYPE_ENUM: {
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    if (json_is_string(v)) {
      const char *name = json_string_value(v);
      const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
      if (!ev) {
        if (c->flags & PBJSON_IGNORE_UNKNOWN) return 1;
        if (!good_text(c, v)) return pbjson__fail(c, "unknown enum value (not valid UTF-8) for %s", ed->name);
        return pbjson__fail(c, "unknown enum value \"%.*s\" for %s", (int)utf8_cut(name, strlen(name), 64), name,
                    ed->name);
      }
      out->e = ev->value;
      return 0;
    }
    if (!json_is_integer(v)) return pbjson__fail(c, "expected an enum name or number for %s", ed->name);
    /* proto3 enums are open: any int32 number is kept, named or not */
    json_int_t x = json_integer_value(v);
    if (x < INT32_MIN || x > INT32_MAX) return pbjson__fail(c, "out of range for enum %s", ed->name);
    out->e = (int)x;
    return 0;
  }
  case PROTOBUF_C_TYPE_STRING: {
    if (!json_is_string(v)) return pbjson__fail(c, "expected a string");
    if (!good_text(c, v)) return pbjson__fail(c, "not valid UTF-8 text");
    size_t n = json_string_length(v);
    out->s = pbjson__xalloc(c->a, n + 1);
    if (!out->s) return pbjson__fail(c, "out of memory");
    memcpy(out->s, json_string_value(v), n + 1);
    return 0;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    if (!json_is_string(v)) return pbjson__fail(c, "expected a base64 string");
    rc = b64_decode(json_string_value(v), json_string_length(v), c->a, &out->bd);
    if (rc == -2) return pbjson__fail(c, "out of memory");
    if (rc) return pbjson__fail(c, "not valid base64");
    return 0;
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    const ProtobufCMessageDescriptor *md = f->descriptor;
    if (!json_is_object(v)) return pbjson__fail(c, "expected an object");
    if (c->depth >= PBJSON_MAX_DEPTH) return pbjson__fail(c, "nested too deeply");
    out->m = pbjson__new_message(md, c->a);
    if (!out->m) return pbjson__fail(c, "out of memory");
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
    return pbjson__fail(c, "unsupported field type");
  }
  if (rc == -2) return pbjson__fail(c, "out of range for %s", int_type_name(f->type));
  if (rc) return pbjson__fail(c, "not an integer");
  return 0;
}

/* Stores a decoded string for a singular field: the empty string as the descriptor's default,
 * which is how protobuf-c itself leaves an unset proto3 string. */
void pbjson__tidy_empty_string(const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a) {
  if (f->type == PROTOBUF_C_TYPE_STRING && v->s && !*v->s && f->default_value &&
      !*(const char *)f->default_value) {
    pbjson__xfree(a, v->s);
    v->s = (char *)f->default_value;
  }
}

void pbjson__drop_value(const ProtobufCFieldDescriptor *f, pbval *v, ProtobufCAllocator *a) {
  if (f->type == PROTOBUF_C_TYPE_STRING) pbjson__xfree(a, v->s);
  else if (f->type == PROTOBUF_C_TYPE_BYTES) pbjson__xfree(a, v->bd.data);
  else if (f->type == PROTOBUF_C_TYPE_MESSAGE && v->m) protobuf_c_message_free_unpacked(v->m, a);
}

/* Rejects a second member of a oneof: the JSON named two alternatives at once. */
int pbjson__oneof_conflict(dctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
  if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) return 0;
  uint32_t cs = *(uint32_t *)((char *)m + f->quantifier_offset);
  if (!cs || cs == f->id) return 0;
  const ProtobufCFieldDescriptor *other = protobuf_c_message_descriptor_get_field(m->descriptor, cs);
  char name[128];
  pbjson_json_name(other ? other->name : "?", name, sizeof name);
  return pbjson__fail(c, "only one field of a oneof may be set, and %s is set already", name);
}

/* A JSON object into map field f: one entry message per key. */
static int decode_map(dctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, json_t *v) {
  const ProtobufCMessageDescriptor *ed = f->descriptor;
  const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
  const char *key;
  json_t *jv;
  if (!json_is_object(v)) return pbjson__fail(c, "expected an object (a map)");
  json_object_foreach(v, key, jv) {
    size_t old = pbjson__push_key(c, key);
    pbval kv, vv, ev;
    json_t *jk;
    int rc;
    if (json_is_null(jv)) return pbjson__fail(c, "null is not allowed in a map");
    if (kf->type == PROTOBUF_C_TYPE_BOOL) {
      if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0) return pbjson__fail(c, "a map key must be true or false");
      jk = json_boolean(key[0] == 't');
    } else {
      jk = json_string_nocheck(key);
    }
    if (!jk) return pbjson__fail(c, "out of memory");
    rc = pbjson__decode_value(c, kf, jk, &kv);
    json_decref(jk);
    if (rc) return -1;
    if (!(ev.m = pbjson__new_message(ed, c->a))) {
      pbjson__drop_value(kf, &kv, c->a);
      return pbjson__fail(c, "out of memory");
    }
    pbjson__tidy_empty_string(kf, &kv, c->a);
    pbjson__store_singular(ev.m, kf, &kv, c->a);
    rc = pbjson__decode_value(c, vf, jv, &vv);
    if (rc == 0) {
      pbjson__tidy_empty_string(vf, &vv, c->a);
      pbjson__store_singular(ev.m, vf, &vv, c->a);
    }
    if (rc < 0 || rc == 1 || pbjson__append_repeated(m, f, &ev, c->a)) {
      protobuf_c_message_free_unpacked(ev.m, c->a);
      if (rc < 0) return -1;
      if (rc == 1) { /* an unknown enum value under PBJSON_IGNORE_UNKNOWN: the entry is dropped */
        pbjson__pop(c, old);
        continue;
      }
      return pbjson__fail(c, "out of memory");
    }
    pbjson__pop(c, old);
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
    size_t es = pbjson__elem_size(f->type), len;
    if (!json_is_array(v)) return pbjson__fail(c, "expected an array");
    len = json_array_size(v);
    if (len == 0) return 0;
    /* decode_message refuses a field given twice, so the list is still empty here */
    if (*n) return pbjson__fail(c, "given twice");
    /* free_unpacked frees *n elements: the count grows with each element actually stored */
    *arr = pbjson__xalloc(c->a, len * es);
    if (!*arr) return pbjson__fail(c, "out of memory");
    for (size_t i = 0; i < len; i++) {
      json_t *e = json_array_get(v, i);
      size_t old = push_index(c, i);
      if (json_is_null(e)) return pbjson__fail(c, "null is not allowed in a list");
      int rc = pbjson__decode_value(c, f, e, &val);
      pbjson__pop(c, old);
      if (rc < 0) return -1;
      if (rc == 1) continue;
      memcpy(*arr + *n * es, &val, es);
      (*n)++;
    }
    if (*n == 0) {
      pbjson__xfree(c->a, *arr);
      *arr = NULL;
    }
    return 0;
  }
  if (pbjson__oneof_conflict(c, m, f)) return -1;
  int rc = pbjson__decode_value(c, f, v, &val);
  if (rc < 0) return -1;
  if (rc == 1) return 0;
  pbjson__tidy_empty_string(f, &val, c->a);
  pbjson__store_singular(m, f, &val, c->a);
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
  if (nbytes > sizeof seen_small && !(seen = calloc(1, nbytes))) return pbjson__fail(c, "out of memory");
  if (seen == seen_small) memset(seen_small, 0, sizeof seen_small);
  json_object_foreach(obj, key, v) {
    const ProtobufCFieldDescriptor *f = pbjson__find_field(d, key);
    size_t old = pbjson__push_key(c, key);
    if (c->bad_utf8 && strstr(key, BAD_UTF8_MARK)) {
      pbjson__fail(c, "field name is not valid UTF-8");
      goto out;
    }
    if (!f) {
      if (c->flags & PBJSON_IGNORE_UNKNOWN) {
        pbjson__pop(c, old);
        continue;
      }
      pbjson__fail(c, "unknown field");
      goto out;
    }
    size_t idx = (size_t)(f - d->fields);
    if (seen[idx / 8] & (1u << (idx % 8))) {
      char jn[128];
      pbjson_json_name(f->name, jn, sizeof jn);
      pbjson__fail(c, "given twice (as %s and %s)", jn, f->name);
      goto out;
    }
    seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
    if (decode_field(c, m, f, v)) goto out;
    pbjson__pop(c, old);
  }
  rc = 0;
out:
  if (seen != seen_small) free(seen);
  return rc;
}

static ProtobufCMessage *from_json(dctx *c, const ProtobufCMessageDescriptor *d, json_t *v) {
  ProtobufCMessage *m;
  if (!v || !json_is_object(v)) {
    pbjson__fail(c, "expected a JSON object");
    return NULL;
  }
  m = pbjson__new_message(d, c->a);
  if (!m) {
    pbjson__fail(c, "out of memory");
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
  dctx c = {.a = a ? a : &pbjson__sys_allocator, .flags = flags, .err = err, .errlen = errlen};
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
  dctx c = {.a = a ? a : &pbjson__sys_allocator, .flags = flags, .err = err, .errlen = errlen};
  json_error_t je;
  char *fixed = NULL;
  ProtobufCMessage *m = NULL;
  json_t *v;
  if (err && errlen) err[0] = 0;
  if (!text) text = "", len = 0;
  if (!val_utf8(text, len) && !memchr(text, 0, len)) {
    fixed = mark_bad_utf8(text, len, &len);
    if (!fixed) {
      pbjson__fail(&c, "out of memory");
      return NULL;
    }
    text = fixed;
    c.bad_utf8 = 1;
  }
  v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!v) {
    /* jansson names its own flag for this one; say what the client can change instead */
    if (strstr(je.text, "JSON_ALLOW_NUL")) snprintf(je.text, sizeof je.text, "\\u0000 is not allowed in text");
    pbjson__fail(&c, "malformed JSON at line %d column %d (%s)", je.line, je.column, je.text);
    goto out;
  }
  m = from_json(&c, d, v);
  json_decref(v);
  /* bad bytes in a part of the text no field took (an ignored unknown field) */
  if (m && c.bad_utf8) {
    protobuf_c_message_free_unpacked(m, c.a);
    m = NULL;
    pbjson__fail(&c, "not valid UTF-8 text");
  }
out:
  free(fixed);
  return m;
}
