/* The proto3 JSON mapping, dotted paths ("record.salary.step"): resolved against a descriptor
 * and set from URL path and query parameters with the decoder's conversions. */
#include "pbjson_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
      pbjson__pop(&c, 0);
      pbjson__push_key(&c, path);
      return pbjson__fail(&c, "not a field path");
    }
    memcpy(seg, p, n);
    seg[n] = 0;
    pbjson__push_key(&c, seg);
    f = pbjson__find_field(d, seg);
    if (!f) return pbjson__fail(&c, "unknown field");
    if (canon && canonlen) {
      int w = snprintf(canon + co, canonlen - co, "%s%s", co ? "." : "", f->name);
      if (w < 0 || (size_t)w >= canonlen - co) return pbjson__fail(&c, "path too long");
      co += (size_t)w;
    }
    if (!dot) break;
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) return pbjson__fail(&c, "not a message field, so it has no fields");
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return pbjson__fail(&c, "a list of messages cannot be bound to a parameter");
    d = f->descriptor;
    p = dot + 1;
  }
  if (last) *last = f;
  return 0;
}

int pbjson_set_path(ProtobufCMessage *m, const char *path, const char *value, ProtobufCAllocator *a,
                    char *err, size_t errlen) {
  dctx c = {.a = a ? a : &pbjson__sys_allocator, .err = err, .errlen = errlen};
  const ProtobufCFieldDescriptor *f;
  char canon[512];
  json_t *jv = NULL;
  pbval val;
  int rc = -1;
  if (pbjson_resolve_path(m->descriptor, path, canon, sizeof canon, &f, err, errlen)) return -1;
  pbjson__push_key(&c, path);
  /* down the canonical path, creating the sub-messages on the way */
  for (char *seg = canon, *dot; (dot = strchr(seg, '.')); seg = dot + 1) {
    *dot = 0;
    const ProtobufCFieldDescriptor *mf = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, seg);
    ProtobufCMessage **slot = (ProtobufCMessage **)((char *)m + mf->offset);
    int selected = !(mf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
                   *(uint32_t *)((char *)m + mf->quantifier_offset) == mf->id;
    if (!selected || !*slot) {
      if (pbjson__oneof_conflict(&c, m, mf)) return -1;
      val.m = pbjson__new_message(mf->descriptor, c.a);
      if (!val.m) return pbjson__fail(&c, "out of memory");
      pbjson__store_singular(m, mf, &val, c.a);
    }
    m = *slot;
  }
  if (f->type == PROTOBUF_C_TYPE_MESSAGE) return pbjson__fail(&c, "is a message: give its fields, e.g. %s.<field>", path);
  if (!value) value = "";
  /* the text goes through the same conversions as JSON values: numbers, enums and bytes
   * accept their string forms there */
  if (f->type == PROTOBUF_C_TYPE_BOOL) {
    if (strcmp(value, "true") == 0) jv = json_true();
    else if (strcmp(value, "false") == 0) jv = json_false();
    else return pbjson__fail(&c, "expected true or false");
  } else if (f->type == PROTOBUF_C_TYPE_ENUM && value[0] && strspn(value, "-0123456789") == strlen(value)) {
    int integral;
    if (!pbjson__number_text(value, &integral)) return pbjson__fail(&c, "expected an enum name or number for %s",
                                                    ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
    errno = 0;
    long long x = strtoll(value, NULL, 10);
    if (errno == ERANGE) return pbjson__fail(&c, "out of range for enum");
    jv = json_integer(x);
  } else {
    jv = json_stringn_nocheck(value, strlen(value));
  }
  if (!jv) return pbjson__fail(&c, "out of memory");
  if (f->label != PROTOBUF_C_LABEL_REPEATED && pbjson__oneof_conflict(&c, m, f)) goto out;
  int r = pbjson__decode_value(&c, f, jv, &val);
  if (r < 0) goto out;
  if (f->label == PROTOBUF_C_LABEL_REPEATED) {
    if (pbjson__append_repeated(m, f, &val, c.a)) {
      pbjson__drop_value(f, &val, c.a);
      pbjson__fail(&c, "out of memory");
      goto out;
    }
  } else {
    pbjson__tidy_empty_string(f, &val, c.a);
    pbjson__store_singular(m, f, &val, c.a);
  }
  rc = 0;
out:
  json_decref(jv);
  return rc;
}
