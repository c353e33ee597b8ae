/* bytea as PostgreSQL's text form ("\x0a1b..."), the one way services pass bytes as text
 * parameters (db_exec sends text) and read bytea columns back (hex output, the default). */
#include <string.h>
#include "srv.h"

char *srv_bytea_text(srv_ctx *ctx, const void *data, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *b = data;
  char *out = srv_alloc(ctx, 2 * n + 3);
  out[0] = '\\';
  out[1] = 'x';
  for (size_t i = 0; i < n; i++) {
    out[2 + 2 * i] = hex[b[i] >> 4];
    out[3 + 2 * i] = hex[b[i] & 15];
  }
  out[2 * n + 2] = 0;
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

int srv_bytea_parse(srv_ctx *ctx, const char *s, size_t len, ProtobufCBinaryData *out) {
  out->data = NULL;
  out->len = 0;
  if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2) return -1;
  size_t n = (len - 2) / 2;
  uint8_t *b = srv_alloc(ctx, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
    if (hi < 0 || lo < 0) return -1;
    b[i] = (uint8_t)(hi << 4 | lo);
  }
  out->data = b;
  out->len = n;
  return 0;
}
