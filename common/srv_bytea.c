/* bytea as PostgreSQL's text form ("\x0a1b..."), the one way services pass bytes as text
 * parameters (db_exec sends text) and read bytea columns back (hex output, the default). */
#include <stdlib.h>
#include <string.h>
#include "srv.h"

static void hex_into(char *out, const void *data, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *b = data;
  out[0] = '\\';
  out[1] = 'x';
  for (size_t i = 0; i < n; i++) {
    out[2 + 2 * i] = hex[b[i] >> 4];
    out[3 + 2 * i] = hex[b[i] & 15];
  }
  out[2 * n + 2] = 0;
}

char *srv_bytea_text(srv_ctx *ctx, const void *data, size_t n) {
  char *out = srv_alloc(ctx, 2 * n + 3);
  hex_into(out, data, n);
  return out;
}

char *srv_bytea_text_malloc(const void *data, size_t n) {
  char *out = malloc(2 * n + 3);
  if (out) hex_into(out, data, n);
  return out;
}

char *srv_bytea_msg(srv_ctx *ctx, const ProtobufCMessage *m) {
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *raw = srv_alloc(ctx, n ? n : 1);
  protobuf_c_message_pack(m, raw);
  return srv_bytea_text(ctx, raw, n);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long srv_bytea_decode(const char *s, size_t len, uint8_t *out) {
  if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2) return -1;
  size_t n = (len - 2) / 2;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return (long)n;
}

int srv_bytea_parse(srv_ctx *ctx, const char *s, size_t len, ProtobufCBinaryData *out) {
  out->data = NULL;
  out->len = 0;
  if (len < 2) return -1;
  uint8_t *b = srv_alloc(ctx, len / 2 ? len / 2 : 1);
  long n = srv_bytea_decode(s, len, b);
  if (n < 0) return -1;
  out->data = b;
  out->len = (size_t)n;
  return 0;
}
