/* rec_diff: the field-level difference of two messages of one type (a record's versions), as
 * FieldChange entries with paths like "salary.step" and values in their proto3 JSON form. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pbwalk.h"
#include "records.h"

typedef Hoso__Records__V1__FieldChange field_change;

typedef struct {
  ProtobufCAllocator *al;
  field_change **v;
  size_t n, cap;
  char path[PBWALK_PATH_MAX];
} diff_st;

static char *dup_a(ProtobufCAllocator *al, const char *s) {
  size_t n = strlen(s) + 1;
  char *r = al->alloc(al->allocator_data, n);
  memcpy(r, s, n);
  return r;
}

static int is_default(const ProtobufCFieldDescriptor *f, const void *v) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING: {
    const char *s = *(char *const *)v;
    return !s || !*s;
  }
  case PROTOBUF_C_TYPE_BYTES:
    return ((const ProtobufCBinaryData *)v)->len == 0;
  case PROTOBUF_C_TYPE_BOOL:
    return !*(const protobuf_c_boolean *)v;
  case PROTOBUF_C_TYPE_FLOAT:
    return *(const float *)v == 0;
  case PROTOBUF_C_TYPE_DOUBLE:
    return *(const double *)v == 0;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    return *(const uint64_t *)v == 0;
  default:
    return *(const uint32_t *)v == 0;
  }
}

static int same(const ProtobufCFieldDescriptor *f, const void *a, const void *b) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING: {
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return strcmp(x ? x : "", y ? y : "") == 0;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    const ProtobufCBinaryData *x = a, *y = b;
    return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
  }
  case PROTOBUF_C_TYPE_BOOL:
    return !*(const protobuf_c_boolean *)a == !*(const protobuf_c_boolean *)b;
  case PROTOBUF_C_TYPE_FLOAT:
    return *(const float *)a == *(const float *)b;
  case PROTOBUF_C_TYPE_DOUBLE:
    return *(const double *)a == *(const double *)b;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    return *(const uint64_t *)a == *(const uint64_t *)b;
  default:
    return *(const uint32_t *)a == *(const uint32_t *)b;
  }
}

static char *json_text(diff_st *st, json_t *j) {
  char *s = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
  json_decref(j);
  if (!s) return dup_a(st->al, "null");
  char *r = dup_a(st->al, s);
  free(s);
  return r;
}

/* The value at v in its proto3 JSON form: 64-bit integers and bytes (base64) as strings, enums
 * by name, text escaped. v NULL: the field's default. */
static char *leaf_json(diff_st *st, const ProtobufCFieldDescriptor *f, const void *v) {
  static const uint64_t zero[2];
  char buf[64];
  if (!v) v = zero;
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING: {
    const char *s = *(char *const *)v;
    return json_text(st, json_string(s ? s : ""));
  }
  case PROTOBUF_C_TYPE_BYTES: {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const ProtobufCBinaryData *b = v;
    char *out = st->al->alloc(st->al->allocator_data, (b->len + 2) / 3 * 4 + 3);
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < b->len; i += 3) {
      uint32_t x = (uint32_t)b->data[i] << 16;
      if (i + 1 < b->len) x |= (uint32_t)b->data[i + 1] << 8;
      if (i + 2 < b->len) x |= b->data[i + 2];
      out[o++] = b64[(x >> 18) & 63];
      out[o++] = b64[(x >> 12) & 63];
      out[o++] = i + 1 < b->len ? b64[(x >> 6) & 63] : '=';
      out[o++] = i + 2 < b->len ? b64[x & 63] : '=';
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
  }
  case PROTOBUF_C_TYPE_BOOL:
    return dup_a(st->al, *(const protobuf_c_boolean *)v ? "true" : "false");
  case PROTOBUF_C_TYPE_ENUM: {
    int32_t e = *(const int32_t *)v;
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, e);
    if (ev) return json_text(st, json_string(ev->name));
    snprintf(buf, sizeof buf, "%" PRId32, e);
    break;
  }
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
    snprintf(buf, sizeof buf, "%" PRId32, *(const int32_t *)v);
    break;
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
    snprintf(buf, sizeof buf, "%" PRIu32, *(const uint32_t *)v);
    break;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
    snprintf(buf, sizeof buf, "\"%" PRId64 "\"", *(const int64_t *)v);
    break;
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    snprintf(buf, sizeof buf, "\"%" PRIu64 "\"", *(const uint64_t *)v);
    break;
  case PROTOBUF_C_TYPE_FLOAT:
    snprintf(buf, sizeof buf, "%.9g", (double)*(const float *)v);
    break;
  case PROTOBUF_C_TYPE_DOUBLE:
    snprintf(buf, sizeof buf, "%.17g", *(const double *)v);
    break;
  default:
    snprintf(buf, sizeof buf, "null");
    break;
  }
  return dup_a(st->al, buf);
}

static void add(diff_st *st, char *old_v, char *new_v) {
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 16;
    field_change **v = st->al->alloc(st->al->allocator_data, cap * sizeof *v);
    if (st->n) memcpy(v, st->v, st->n * sizeof *v);
    st->v = v;
    st->cap = cap;
  }
  field_change *c = st->al->alloc(st->al->allocator_data, sizeof *c);
  hoso__records__v1__field_change__init(c);
  c->path = dup_a(st->al, st->path);
  c->old_value = old_v;
  c->new_value = new_v;
  st->v[st->n++] = c;
}

/* One scalar leaf. a/b NULL with *_gone: the value does not exist on that side (a list entry
 * added or removed, or the whole message absent), shown as JSON null; NULL otherwise means the
 * default. A value that is only absent on one side and default on the other is no change. */
static void leaf(diff_st *st, const ProtobufCFieldDescriptor *f, const void *a, int a_gone,
                 const void *b, int b_gone) {
  if (a_gone && b_gone) return;
  if (a_gone || b_gone) {
    const void *v = a_gone ? b : a;
    if (!v || is_default(f, v)) return;
    char *j = leaf_json(st, f, v);
    add(st, a_gone ? dup_a(st->al, "null") : j, a_gone ? j : dup_a(st->al, "null"));
    return;
  }
  int da = !a || is_default(f, a), db = !b || is_default(f, b);
  if (da && db) return;
  if (!da && !db && same(f, a, b)) return;
  add(st, leaf_json(st, f, a), leaf_json(st, f, b));
}

/* a/b: the two messages of descriptor d; NULL is either "all defaults" (a sub-message not set)
 * or, with *_gone, "not there at all". */
static void diff_msg(diff_st *st, size_t len, const ProtobufCMessageDescriptor *d,
                     const ProtobufCMessage *a, int a_gone, const ProtobufCMessage *b, int b_gone) {
  for (unsigned k = 0; k < d->n_fields; k++) {
    const ProtobufCFieldDescriptor *f = &d->fields[k];
    int rep = f->label == PROTOBUF_C_LABEL_REPEATED;
    size_t na = a ? pbwalk_count(a, f) : 0, nb = b ? pbwalk_count(b, f) : 0;
    size_t n = rep ? (na > nb ? na : nb) : 1;
    for (size_t i = 0; i < n; i++) {
      size_t l = pbwalk_path_push(st->path, len, f->name, rep ? (long)i : -1);
      const void *va = i < na ? pbwalk_slot(a, f, i) : NULL;
      const void *vb = i < nb ? pbwalk_slot(b, f, i) : NULL;
      int ga = a_gone || (rep && i >= na), gb = b_gone || (rep && i >= nb);
      if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *ma = va ? *(ProtobufCMessage *const *)va : NULL;
        const ProtobufCMessage *mb = vb ? *(ProtobufCMessage *const *)vb : NULL;
        if (ma || mb) diff_msg(st, l, f->descriptor, ma, ga, mb, gb);
      } else {
        leaf(st, f, va, ga, vb, gb);
      }
      st->path[len] = '\0';
    }
  }
}

int rec_diff(srv_ctx *ctx, const ProtobufCMessage *a, const ProtobufCMessage *b,
             Hoso__Records__V1__FieldChange ***out, size_t *n) {
  diff_st st = {.al = srv_allocator(ctx)};
  *out = NULL;
  *n = 0;
  if (a && b && a->descriptor != b->descriptor) return -1;
  if (!a && !b) return 0;
  const ProtobufCMessageDescriptor *d = a ? a->descriptor : b->descriptor;
  diff_msg(&st, 0, d, a, a == NULL, b, b == NULL);
  *out = st.v;
  *n = st.n;
  return 0;
}
