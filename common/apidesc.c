/* apidesc.h: the methods of a descriptor set with their access option and streaming flags, read
 * with protobuf-c's descriptor.proto code; custom options are its unknown fields. */
#include "apidesc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "google/protobuf/descriptor.pb-c.h"
#include "log.h"

/* common.proto: extend google.protobuf.MethodOptions { Access access = 50411; } */
#define ACCESS_FIELD 50411u

/* A varint at p (at most n bytes): its length, or 0 when malformed. */
static size_t varint(const uint8_t *p, size_t n, uint64_t *v) {
  *v = 0;
  for (size_t k = 0; k < n && k < 10; k++) {
    *v |= (uint64_t)(p[k] & 0x7f) << (7 * k);
    if (!(p[k] & 0x80)) return k + 1;
  }
  return 0;
}

const uint8_t *apidesc_option_bytes(const ProtobufCMessage *o, uint32_t field, size_t *len) {
  for (unsigned i = 0; o && i < o->n_unknown_fields; i++) {
    const ProtobufCMessageUnknownField *u = &o->unknown_fields[i];
    if (u->tag != field || u->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) continue;
    /* protobuf-c keeps the field's bytes after the tag, so the length varint comes first */
    uint64_t n;
    size_t k = varint(u->data, u->len, &n);
    if (!k || n != u->len - k) return NULL;
    *len = (size_t)n;
    return u->data + k;
  }
  return NULL;
}

int apidesc_access(const ProtobufCMessage *o) {
  int access = APIDESC_NORMAL;
  for (unsigned i = 0; o && i < o->n_unknown_fields; i++) {
    const ProtobufCMessageUnknownField *u = &o->unknown_fields[i];
    if (u->tag != ACCESS_FIELD) continue;
    uint64_t v;
    if (u->wire_type != PROTOBUF_C_WIRE_TYPE_VARINT || varint(u->data, u->len, &v) != u->len) return -1;
    access = v <= APIDESC_INTERNAL_PUBLIC ? (int)v : -1; /* the last one wins, as in protobuf */
  }
  return access;
}

void apidesc_free(apidesc_method *m, size_t n) {
  for (size_t i = 0; m && i < n; i++) free(m[i].path);
  free(m);
}

int apidesc_methods(const unsigned char *set, size_t len, apidesc_method **out, size_t *n) {
  *out = NULL;
  *n = 0;
  Google__Protobuf__FileDescriptorSet *fs = google__protobuf__file_descriptor_set__unpack(NULL, len, set);
  if (!fs) {
    log_error("the descriptor set built into this binary does not parse");
    return -1;
  }
  size_t total = 0, k = 0;
  for (size_t f = 0; f < fs->n_file; f++)
    for (size_t s = 0; s < fs->file[f]->n_service; s++) total += fs->file[f]->service[s]->n_method;
  apidesc_method *m = calloc(total ? total : 1, sizeof *m);
  int rc = m ? 0 : -1;
  for (size_t f = 0; rc == 0 && f < fs->n_file; f++) {
    const Google__Protobuf__FileDescriptorProto *fd = fs->file[f];
    for (size_t s = 0; rc == 0 && s < fd->n_service; s++) {
      const Google__Protobuf__ServiceDescriptorProto *sd = fd->service[s];
      for (size_t i = 0; rc == 0 && i < sd->n_method; i++) {
        const Google__Protobuf__MethodDescriptorProto *md = sd->method[i];
        apidesc_method *x = &m[k++];
        if (asprintf(&x->path, "/%s%s%s/%s", fd->package ? fd->package : "", fd->package ? "." : "", sd->name,
                     md->name) < 0) {
          x->path = NULL;
          rc = -1;
          break;
        }
        x->access = apidesc_access(md->options ? &md->options->base : NULL);
        x->client_streaming = md->has_client_streaming && md->client_streaming;
        x->server_streaming = md->has_server_streaming && md->server_streaming;
        if (x->access < 0) {
          log_error("%s: an access option this build does not know", x->path);
          rc = -1;
        }
      }
    }
  }
  google__protobuf__file_descriptor_set__free_unpacked(fs, NULL);
  if (rc != 0) {
    apidesc_free(m, k);
    return -1;
  }
  *out = m;
  *n = k;
  return 0;
}
