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

size_t pbwalk_path_push(char *path, size_t len, const char *name, long idx) {
  if (len >= PBWALK_PATH_MAX - 4) return len;
  int n = idx < 0 ? snprintf(path + len, PBWALK_PATH_MAX - len, "%s%s", len ? "." : "", name)
                  : snprintf(path + len, PBWALK_PATH_MAX - len, "%s%s[%ld]", len ? "." : "", name, idx);
  if (n < 0 || (size_t)n >= PBWALK_PATH_MAX - len - 4) {
    memcpy(path + PBWALK_PATH_MAX - 4, "...", 4);
    return PBWALK_PATH_MAX - 1;
  }
  return len + (size_t)n;
}

static int walk(ProtobufCMessage *m, char *path, size_t len, pbwalk_fn fn, void *arg) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned k = 0; k < d->n_fields; k++) {
    const ProtobufCFieldDescriptor *f = &d->fields[k];
    if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    size_t n = pbwalk_count(m, f);
    int rep = f->label == PROTOBUF_C_LABEL_REPEATED;
    for (size_t i = 0; i < n; i++) {
      size_t l = pbwalk_path_push(path, len, f->name, rep ? (long)i : -1);
      void *slot = pbwalk_slot(m, f, i);
      int rc = 0;
      if (f->type == PROTOBUF_C_TYPE_STRING) {
        if (*(char **)slot) rc = fn(arg, path, f, (char **)slot);
      } else if (*(ProtobufCMessage **)slot) {
        rc = walk(*(ProtobufCMessage **)slot, path, l, fn, arg);
      }
      path[len] = '\0';
      if (rc) return rc;
    }
  }
  return 0;
}

int pbwalk_strings(ProtobufCMessage *m, const char *prefix, pbwalk_fn fn, void *arg) {
  char path[PBWALK_PATH_MAX];
  if (!m) return 0;
  int n = snprintf(path, sizeof path, "%s", prefix ? prefix : "");
  size_t len = n < 0 ? 0 : (size_t)n >= sizeof path - 4 ? sizeof path - 4 : (size_t)n;
  path[len] = '\0';
  return walk(m, path, len, fn, arg);
}

typedef struct {
  size_t max_chars;
  const ProtobufCFieldDescriptor *const *prose;
  ProtobufCAllocator *a;
  char *err;
  size_t errlen;
} nfc_st;

static int nfc_one(void *arg, const char *path, const ProtobufCFieldDescriptor *f, char **slot) {
  nfc_st *st = arg;
  int lines = 0;
  for (size_t i = 0; st->prose && st->prose[i] && !lines; i++) lines = st->prose[i] == f;
  const char *e = lines ? val_prose(*slot, 0, st->max_chars) : val_text(*slot, 0, st->max_chars);
  if (e) {
    snprintf(st->err, st->errlen, "%s: %s", path, e);
    return -1;
  }
  char *c = lines ? val_nfc_clean_lines(*slot) : val_nfc_clean(*slot);
  if (!c) {
    snprintf(st->err, st->errlen, "%s: could not be normalized (out of memory); retry", path);
    return -1;
  }
  /* Most stored text is already clean: keep it and spare the copy. */
  if (strcmp(c, *slot) == 0) {
    free(c);
    return 0;
  }
  char *repl = c;
  if (st->a) {
    size_t n = strlen(c) + 1;
    repl = st->a->alloc(st->a->allocator_data, n);
    if (!repl) {
      free(c);
      snprintf(st->err, st->errlen, "%s: could not be normalized (out of memory); retry", path);
      return -1;
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
  return pbwalk_strings(m, prefix, nfc_one, &st) ? -1 : 0;
}
