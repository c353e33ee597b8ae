/* The descriptor-driven walk of pbwalk.h: field counts and slots of any protobuf-c message, the
 * string visitor with field paths, and NFC normalization of every string in place. */
#include "pbwalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "val.h"

/* Bytes one element takes in a repeated field's array (protobuf-c keeps them unboxed). */
static size_t elt_size(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_FLOAT:
  case PROTOBUF_C_TYPE_ENUM:
    return 4;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
  case PROTOBUF_C_TYPE_DOUBLE:
    return 8;
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_MESSAGE:
  default:
    return sizeof(void *);
  }
}

static const char *base(const ProtobufCMessage *m) { return (const char *)m; }

size_t pbwalk_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
  if (f->label == PROTOBUF_C_LABEL_REPEATED) return *(const size_t *)(base(m) + f->quantifier_offset);
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
    if (*(const uint32_t *)(base(m) + f->quantifier_offset) != f->id) return 0;
  } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE) {
    /* proto2 optional and proto3 `optional` scalars say whether they are set in has_<name>. */
    if (!*(const protobuf_c_boolean *)(base(m) + f->quantifier_offset)) return 0;
  }
  if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
    return *(void *const *)(base(m) + f->offset) ? 1 : (f->type == PROTOBUF_C_TYPE_STRING);
  return 1;
}

void *pbwalk_slot(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i) {
  char *p = (char *)base(m) + f->offset;
  if (f->label != PROTOBUF_C_LABEL_REPEATED) return p;
  return *(char **)p + i * elt_size(f->type);
}

/* Written out rather than with snprintf, byte by byte since names are short: formatting paths
 * was a quarter of validating a record (measured on bulk imports). */
size_t pbwalk_path_push(char *path, size_t len, const char *name, long idx) {
  const size_t lim = PBWALK_PATH_MAX - 4; /* room for "..." and the NUL */
  char num[24], *q = num + sizeof num, *qe = q; /* "[idx]", written backwards */
  if (len >= lim) return len;
  if (idx >= 0) {
    unsigned long u = (unsigned long)idx;
    *--q = ']';
    do *--q = (char)('0' + u % 10); while ((u /= 10) != 0);
    *--q = '[';
  }
  size_t o = len;
  if (len) path[o++] = '.';
  for (; *name && o < lim; name++) path[o++] = *name;
  for (; q < qe && o < lim; q++) path[o++] = *q;
  if (o >= lim) { /* what did not fit, or only just */
    memcpy(path + lim, "...", 4);
    return PBWALK_PATH_MAX - 1;
  }
  path[o] = '\0';
  return o;
}

/* What the walk calls for each string: path[0..len) is the path of the message holding it, and
 * the visitor pushes the string's own name and index (f->name, idx) only if it needs them, since
 * a check that passes needs no path at all. */
typedef int (*visit_fn)(void *arg, char *path, size_t len, const ProtobufCFieldDescriptor *f, long idx,
                        char **slot);

static int walk(ProtobufCMessage *m, char *path, size_t len, visit_fn visit, void *arg) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned k = 0; k < d->n_fields; k++) {
    const ProtobufCFieldDescriptor *f = &d->fields[k];
    if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    size_t n = pbwalk_count(m, f);
    int rep = f->label == PROTOBUF_C_LABEL_REPEATED;
    for (size_t i = 0; i < n; i++) {
      void *slot = pbwalk_slot(m, f, i);
      int rc = 0;
      if (f->type == PROTOBUF_C_TYPE_STRING) {
        if (*(char **)slot) rc = visit(arg, path, len, f, rep ? (long)i : -1, (char **)slot);
      } else if (*(ProtobufCMessage **)slot) {
        size_t l = pbwalk_path_push(path, len, f->name, rep ? (long)i : -1);
        rc = walk(*(ProtobufCMessage **)slot, path, l, visit, arg);
        path[len] = '\0';
      }
      if (rc) return rc;
    }
  }
  return 0;
}

static int start(ProtobufCMessage *m, const char *prefix, visit_fn visit, void *arg) {
  char path[PBWALK_PATH_MAX];
  if (!m) return 0;
  int n = snprintf(path, sizeof path, "%s", prefix ? prefix : "");
  size_t len = n < 0 ? 0 : (size_t)n >= sizeof path - 4 ? sizeof path - 4 : (size_t)n;
  path[len] = '\0';
  return walk(m, path, len, visit, arg);
}

typedef struct {
  pbwalk_fn fn;
  void *arg;
} strings_st;

static int visit_named(void *arg, char *path, size_t len, const ProtobufCFieldDescriptor *f, long idx, char **slot) {
  strings_st *st = arg;
  pbwalk_path_push(path, len, f->name, idx);
  int rc = st->fn(st->arg, path, f, slot);
  path[len] = '\0';
  return rc;
}

int pbwalk_strings(ProtobufCMessage *m, const char *prefix, pbwalk_fn fn, void *arg) {
  strings_st st = {fn, arg};
  return start(m, prefix, visit_named, &st);
}

typedef struct {
  size_t max_chars;
  const ProtobufCFieldDescriptor *const *prose;
  ProtobufCAllocator *a;
  char *err;
  size_t errlen;
} nfc_st;

/* "<path>: <rule>" in st->err. */
static int nfc_fail(nfc_st *st, char *path, size_t len, const ProtobufCFieldDescriptor *f, long idx,
                    const char *rule) {
  pbwalk_path_push(path, len, f->name, idx);
  snprintf(st->err, st->errlen, "%s: %s", path, rule);
  path[len] = '\0';
  return -1;
}

static int nfc_one(void *arg, char *path, size_t len, const ProtobufCFieldDescriptor *f, long idx, char **slot) {
  nfc_st *st = arg;
  int lines = 0;
  for (size_t i = 0; st->prose && st->prose[i] && !lines; i++) lines = st->prose[i] == f;
  char *c = NULL;
  const char *e = val_text_clean(*slot, lines, 0, st->max_chars, &c);
  if (e) return nfc_fail(st, path, len, f, idx, e);
  /* Most stored text is already clean: kept as it is, nothing copied. */
  if (c == *slot) return 0;
  char *repl = c;
  if (st->a) {
    size_t n = strlen(c) + 1;
    repl = st->a->alloc(st->a->allocator_data, n);
    if (!repl) {
      free(c);
      return nfc_fail(st, path, len, f, idx, "could not be normalized (out of memory); retry");
    }
    memcpy(repl, c, n);
    free(c);
  }
  if (*slot != (const char *)f->default_value && *slot != protobuf_c_empty_string) {
    if (st->a)
      st->a->free(st->a->allocator_data, *slot);
    else
      free(*slot);
  }
  *slot = repl;
  return 0;
}

int pbwalk_nfc(ProtobufCMessage *m, const char *prefix, size_t max_chars,
               const ProtobufCFieldDescriptor *const *prose, ProtobufCAllocator *a, char *err,
               size_t errlen) {
  char dummy[1];
  nfc_st st = {max_chars, prose, a, errlen ? err : dummy, errlen ? errlen : sizeof dummy};
  return start(m, prefix, nfc_one, &st) ? -1 : 0;
}
