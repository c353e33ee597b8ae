/* package_stream.h: a package's framing written piece by piece and read back as a stream. The
 * reader is a state machine over the protobuf wire format of TransferPackage, restricted to
 * the order this service writes (head fields, then parts; in a part its name, then its content),
 * which packages made before streaming already followed. */
#include "package_stream.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG(field) ((uint8_t)((field) << 3 | 2)) /* length-delimited */

enum { S_TAG, S_LEN, S_HEADFIELD, S_PTAG, S_PLEN, S_NAME, S_DATA, S_EMPTY_END, S_DONE, S_ERR };

/* ------------------------------------------------------------ writing ------------------- */

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static size_t put_varint(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

static size_t put_field(uint8_t *out, unsigned field, const void *data, size_t len) {
  size_t n = 0;
  out[n++] = TAG(field);
  n += put_varint(out + n, len);
  if (len) memcpy(out + n, data, len);
  return n + len;
}

size_t pkgs_head_size(size_t manifest_len, size_t signature_len, const char *key_id) {
  size_t k = strlen(key_id);
  return 3 + varint_len(manifest_len) + manifest_len + varint_len(signature_len) + signature_len + varint_len(k) + k;
}

size_t pkgs_head(uint8_t *out, const uint8_t *manifest, size_t manifest_len, const uint8_t *signature,
                 size_t signature_len, const char *key_id) {
  size_t n = put_field(out, 1, manifest, manifest_len);
  n += put_field(out + n, 2, signature, signature_len);
  return n + put_field(out + n, 3, key_id, strlen(key_id));
}

size_t pkgs_part_prefix(uint8_t out[PKGS_PREFIX_MAX], const char *name, uint64_t content_len) {
  size_t nl = strlen(name);
  if (nl > PKGS_NAME_MAX) return 0;
  uint64_t inner = 1 + varint_len(nl) + nl + 1 + varint_len(content_len) + content_len;
  size_t n = 0;
  out[n++] = TAG(4);
  n += put_varint(out + n, inner);
  n += put_field(out + n, 1, name, nl);
  out[n++] = TAG(2);
  return n + put_varint(out + n, content_len);
}

/* ------------------------------------------------------------ reading ------------------- */

void pkgs_reader_init(pkgs_reader *r) { memset(r, 0, sizeof *r); }

void pkgs_reader_free(pkgs_reader *r) {
  free(r->manifest);
  free(r->signature);
  r->manifest = r->signature = NULL;
}

static pkgs_event fail(pkgs_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static pkgs_event fail(pkgs_reader *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof r->err, fmt, ap);
  va_end(ap);
  r->state = S_ERR;
  return (pkgs_event){.kind = PKGS_ERROR, .err = r->err};
}

/* The part's name as messages show it: control characters as '?', "?" before it is known. */
static const char *shown(pkgs_reader *r) {
  static _Thread_local char buf[PKGS_NAME_MAX + 1];
  if (!r->name_len) return "?";
  for (size_t i = 0; i <= r->name_len; i++) buf[i] = (unsigned char)r->name[i] < 0x20 && r->name[i] ? '?' : r->name[i];
  return buf;
}

/* A varint from the input, possibly begun in an earlier input: 1 with *v, 0 when the input ran
 * out first, -1 when it is longer than 10 bytes. *used: bytes taken from this input. */
static int varint(pkgs_reader *r, const uint8_t **in, size_t *n, uint64_t *v, size_t *used) {
  *used = 0;
  while (*n) {
    uint8_t b = **in;
    (*in)++;
    (*n)--;
    (*used)++;
    r->pos++;
    if (r->var_n == 10) return -1;
    r->var[r->var_n++] = b;
    if (!(b & 0x80)) {
      *v = 0;
      for (int i = r->var_n - 1; i >= 0; i--) *v = *v << 7 | (r->var[i] & 0x7f);
      r->var_n = 0;
      return 1;
    }
  }
  return 0;
}

static pkgs_event ev_of(pkgs_kind k) { return (pkgs_event){.kind = k}; }

static pkgs_event head_event(pkgs_reader *r) {
  pkgs_event e = ev_of(PKGS_HEAD);
  e.manifest = r->manifest;
  e.manifest_len = r->manifest_len;
  e.signature = r->signature;
  e.signature_len = r->signature_len;
  e.key_id = r->key_id;
  return e;
}

static pkgs_event part_event(pkgs_reader *r, pkgs_kind k) {
  pkgs_event e = ev_of(k);
  e.name = r->name;
  e.size = r->size;
  return e;
}

/* A head field's length read: room for its bytes. */
static int head_field(pkgs_reader *r, uint64_t len, pkgs_event *e) {
  static const char *const names[] = {"", "manifest", "signature", "key_id"};
  static const uint64_t max[] = {0, PKGS_MANIFEST_MAX, PKGS_SIGNATURE_MAX, PKGS_KEY_ID_MAX};
  int twice = r->field == 1 ? r->manifest != NULL : r->field == 2 ? r->signature != NULL : r->key_id_len > 0;
  if (twice) return *e = fail(r, "package.%s: there twice", names[r->field]), -1;
  if (len > max[r->field])
    return *e = fail(r, "package.%s: %" PRIu64 " bytes, more than a package's %s may have", names[r->field], len,
                     names[r->field]), -1;
  if (r->field == 1 && !(r->manifest = malloc(len ? len : 1)))
    return *e = fail(r, "package.manifest: out of memory"), -1;
  if (r->field == 2 && !(r->signature = malloc(len ? len : 1)))
    return *e = fail(r, "package.signature: out of memory"), -1;
  r->left = len;
  r->state = S_HEADFIELD;
  return 0;
}

static void head_bytes(pkgs_reader *r, const uint8_t **in, size_t *n) {
  size_t take = r->left < *n ? (size_t)r->left : *n;
  uint8_t *to = r->field == 1 ? r->manifest + r->manifest_len
                : r->field == 2 ? r->signature + r->signature_len : (uint8_t *)r->key_id + r->key_id_len;
  memcpy(to, *in, take);
  if (r->field == 1) r->manifest_len += take;
  else if (r->field == 2) r->signature_len += take;
  else r->key_id_len += take;
  *in += take;
  *n -= take;
  r->pos += take;
  r->left -= take;
  if (!r->left) r->state = S_TAG;
}

pkgs_event pkgs_next(pkgs_reader *r, const uint8_t **in, size_t *n) {
  for (;;) {
    uint64_t v;
    size_t used;
    int got;
    uint64_t at = r->pos - (uint64_t)r->var_n;
    switch (r->state) {
    case S_ERR: return (pkgs_event){.kind = PKGS_ERROR, .err = r->err};
    case S_DONE: return fail(r, "package: bytes after its end");
    case S_TAG:
      if ((got = varint(r, in, n, &v, &used)) == 0) return ev_of(PKGS_NEED);
      if (got < 0 || (v & 7) != 2 || (v >> 3) < 1 || (v >> 3) > 4 || ((v >> 3) < 4 && r->head_sent))
        return fail(r, "package: not a transfer package (unexpected data at byte %" PRIu64 ")", at);
      r->field = (unsigned)(v >> 3);
      r->state = S_LEN;
      if (r->field == 4 && !r->head_sent) {
        r->head_sent = 1;
        return head_event(r);
      }
      break;
    case S_LEN:
      if ((got = varint(r, in, n, &v, &used)) == 0) return ev_of(PKGS_NEED);
      if (got < 0) return fail(r, "package: not a transfer package (unreadable at byte %" PRIu64 ")", at);
      if (r->field < 4) {
        pkgs_event e;
        if (head_field(r, v, &e)) return e;
        break;
      }
      r->parts++;
      r->part_left = v;
      r->name_len = 0;
      r->name[0] = 0;
      r->state = S_PTAG;
      break;
    case S_HEADFIELD:
      if (!*n) return ev_of(PKGS_NEED);
      head_bytes(r, in, n);
      break;
    case S_PTAG:
      if (!r->part_left) {
        if (!r->name_len) return fail(r, "package.parts[?]: a part without a name (part %d)", r->parts);
        r->size = 0; /* an empty content is not written by protobuf */
        r->state = S_EMPTY_END;
        return part_event(r, PKGS_PART);
      }
      if ((got = varint(r, in, n, &v, &used)) == 0 && r->part_left > used) {
        r->part_left -= used;
        return ev_of(PKGS_NEED);
      }
      if (got <= 0 || used > r->part_left)
        return fail(r, "package.parts[%s]: its framing does not add up (part %d)", shown(r), r->parts);
      r->part_left -= used;
      if (v == TAG(1) && !r->name_len) r->field = 1;
      else if (v == TAG(2) && r->name_len) r->field = 2;
      else if (v == TAG(2)) return fail(r, "package.parts[?]: the part's name must come before its content (part %d)", r->parts);
      else return fail(r, "package.parts[%s]: unexpected data in the part (part %d)", shown(r), r->parts);
      r->state = S_PLEN;
      break;
    case S_PLEN:
      if ((got = varint(r, in, n, &v, &used)) == 0 && r->part_left > used) {
        r->part_left -= used;
        return ev_of(PKGS_NEED);
      }
      if (got <= 0 || used > r->part_left || v > r->part_left - used)
        return fail(r, "package.parts[%s]: its framing does not add up (part %d)", shown(r), r->parts);
      r->part_left -= used;
      r->left = v;
      if (r->field == 1) {
        if (!v || v > PKGS_NAME_MAX) return fail(r, "package.parts[?]: a name of %" PRIu64 " bytes (part %d)", v, r->parts);
        r->state = S_NAME;
        break;
      }
      if (v != r->part_left)
        return fail(r, "package.parts[%s]: unexpected data after its content (part %d)", shown(r), r->parts);
      r->size = v;
      r->state = S_DATA;
      return part_event(r, PKGS_PART);
    case S_NAME: {
      if (!*n) return ev_of(PKGS_NEED);
      size_t take = r->left < *n ? (size_t)r->left : *n;
      memcpy(r->name + r->name_len, *in, take);
      r->name_len += take;
      r->name[r->name_len] = 0;
      *in += take;
      *n -= take;
      r->pos += take;
      r->left -= take;
      r->part_left -= take;
      if (!r->left) {
        if (strlen(r->name) != r->name_len) return fail(r, "package.parts[?]: a name with a NUL byte (part %d)", r->parts);
        r->state = S_PTAG;
      }
      break;
    }
    case S_DATA: {
      if (!r->left) {
        r->state = S_TAG;
        return part_event(r, PKGS_PART_END);
      }
      if (!*n) return ev_of(PKGS_NEED);
      size_t take = r->left < *n ? (size_t)r->left : *n;
      pkgs_event e = part_event(r, PKGS_DATA);
      e.data = *in;
      e.len = take;
      *in += take;
      *n -= take;
      r->pos += take;
      r->left -= take;
      r->part_left -= take;
      return e;
    }
    case S_EMPTY_END:
      r->state = S_TAG;
      return part_event(r, PKGS_PART_END);
    }
  }
}

pkgs_event pkgs_end(pkgs_reader *r) {
  switch (r->state) {
  case S_ERR: return (pkgs_event){.kind = PKGS_ERROR, .err = r->err};
  case S_DONE: return ev_of(PKGS_DONE);
  case S_TAG:
    if (r->var_n) return fail(r, "package: truncated: the package ends inside a field's tag at byte %" PRIu64, r->pos);
    if (!r->head_sent) {
      r->head_sent = 1;
      return head_event(r);
    }
    r->state = S_DONE;
    return ev_of(PKGS_DONE);
  case S_LEN:
  case S_HEADFIELD:
    if (r->field == 4) return fail(r, "package.parts[?]: truncated: the package ends inside it (part %d)", r->parts + 1);
    return fail(r, "package.%s: truncated: the package ends inside it",
                r->field == 1 ? "manifest" : r->field == 2 ? "signature" : "key_id");
  case S_DATA:
    return fail(r, "package.parts[%s]: truncated: the package ends inside it (part %d, %" PRIu64 " of %" PRIu64 " bytes)",
                shown(r), r->parts, r->size - r->left, r->size);
  default:
    return fail(r, "package.parts[%s]: truncated: the package ends inside it (part %d)", shown(r), r->parts);
  }
}
