/* IMPORT_FORMAT_PROTO: Record messages in the binary wire form, each preceded by its length as a
 * varint (protobuf's writeDelimitedTo framing), unpacked with the call's allocator. */
#include <stdio.h>
#include <string.h>

#include "import_parse.h"
#include "pbwalk.h"

#define RECORD_DESC (&hoso__records__v1__record__descriptor)
#define STR_(x) #x
#define STR(x) STR_(x)

/* A varint of at most `max` bytes at p[0..n): its value and length, or 0 when it does not end
 * within n bytes or max bytes. */
static size_t varint(const uint8_t *p, size_t n, size_t max, uint64_t *v) {
  *v = 0;
  for (size_t i = 0; i < n && i < max; i++) {
    *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) return i + 1;
  }
  return 0;
}

/* Entries of one repeated field read from the wire: validation allows far fewer (500), and an
 * entry of a few bytes unpacks into a struct of a hundred, so a file of empty entries must be
 * refused before protobuf-c allocates them. */
#define WIRE_MAX_ENTRIES 1000

/* Walks the wire form of a message before protobuf-c unpacks it, for what unpacking would let
 * through silently or at a cost out of proportion: a field number the Record does not have
 * (kept aside by protobuf-c, then lost when the record is stored), a NUL byte inside a string
 * (the C string would end there, cutting the value), and a repeated field of more than
 * WIRE_MAX_ENTRIES entries. Writes the field's path to path and the rule to why; 0 when none is
 * found, and also when the framing is broken (unpacking then reports the record). */
static int wire_check(const uint8_t *p, size_t n, const ProtobufCMessageDescriptor *d, char *path, size_t plen,
                      const char **why) {
  /* Occurrences per field so far: the index of a repeated entry (Record has 33 fields). */
  enum { MAX_FIELDS = 128 };
  unsigned seen[MAX_FIELDS] = {0};
  while (n > 0) {
    uint64_t tag, len = 0;
    size_t k = varint(p, n, 10, &tag);
    if (!k) return 0;
    p += k, n -= k;
    unsigned num = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, num);
    size_t fi = f ? (size_t)(f - d->fields) : 0;
    long idx = f && f->label == PROTOBUF_C_LABEL_REPEATED && fi < MAX_FIELDS ? (long)seen[fi] : -1;
    if (f && fi < MAX_FIELDS && ++seen[fi] > WIRE_MAX_ENTRIES && f->label == PROTOBUF_C_LABEL_REPEATED) {
      pbwalk_path_push(path, plen, f->name, -1);
      *why = "more than " STR(WIRE_MAX_ENTRIES) " entries";
      return -1;
    }
    if (!f) {
      char name[32];
      snprintf(name, sizeof name, "#%u", num);
      pbwalk_path_push(path, plen, name, -1);
      *why = "unknown field: this service's Record has no field with that number (a newer or other "
             "proto?)";
      return -1;
    }
    switch (wt) {
    case 0:
      k = varint(p, n, 10, &len);
      break;
    case 1:
      k = 8;
      break;
    case 5:
      k = 4;
      break;
    case 2: {
      size_t h = varint(p, n, 10, &len);
      if (!h || len > n - h) return 0;
      const uint8_t *v = p + h;
      if (f->type == PROTOBUF_C_TYPE_STRING && memchr(v, 0, (size_t)len)) {
        pbwalk_path_push(path, plen, f->name, idx);
        *why = "must not contain a NUL character";
        return -1;
      }
      if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        size_t l2 = pbwalk_path_push(path, plen, f->name, idx);
        if (wire_check(v, (size_t)len, f->descriptor, path, l2, why)) return -1;
        path[plen] = '\0';
      }
      k = h + (size_t)len;
      break;
    }
    default:
      return 0; /* groups: unpacking refused them already */
    }
    if (!k || k > n) return 0;
    p += k, n -= k;
  }
  return 0;
}

void import_parse_proto(const uint8_t *p, size_t len, import_result *r) {
  const uint8_t *end = p + len;
  for (int line = 1; p < end; line++) {
    char where[64];
    snprintf(where, sizeof where, "record %d", line);
    if (import_row_cap_reached(r, line) || import_memory_exhausted(r, where)) return;
    r->n_read++;
    uint64_t n;
    size_t k = varint(p, (size_t)(end - p), 5, &n);
    if (!k) {
      /* The framing is lost: nothing after this point can be found again. */
      import_error(r, line, "",
                   "the length prefix of record %d is cut off at the end of the content (%zu bytes "
                   "left): the file is truncated",
                   line, (size_t)(end - p));
      return;
    }
    p += k;
    size_t left = (size_t)(end - p);
    if (n > IMPORT_MAX_RECORD_BYTES) {
      import_error(r, line, "", "record %d is %llu bytes; at most %d bytes per record (is this a file of "
                                "length-prefixed Record messages?)",
                   line, (unsigned long long)n, IMPORT_MAX_RECORD_BYTES);
      if (n > left) return;
      p += n;
      continue;
    }
    if (n > left) {
      import_error(r, line, "", "record %d should be %llu bytes but only %zu are left: the file is truncated",
                   line, (unsigned long long)n, left);
      return;
    }
    char path[PBWALK_PATH_MAX] = "";
    const char *why = NULL;
    ProtobufCMessage *m = NULL;
    if (wire_check(p, (size_t)n, RECORD_DESC, path, 0, &why))
      import_error(r, line, path, "%s", why);
    else if (!(m = protobuf_c_message_unpack(RECORD_DESC, r->a, (size_t)n, p)))
      import_error(r, line, "", "record %d (%llu bytes) is not a valid hoso.records.v1.Record message", line,
                   (unsigned long long)n);
    else
      import_add_row(r, (Hoso__Records__V1__Record *)m, line);
    p += n;
  }
  char where[64];
  snprintf(where, sizeof where, "record %zu", r->n_read);
  if (!import_memory_exhausted(r, where) && r->n_read == 0) import_error(r, 1, "", "the file holds no records");
}
