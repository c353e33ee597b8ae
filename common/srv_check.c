/* The checks every handler makes before its transaction (srv.h): ids, request ids, text as
 * stored, the role half of the scope rule, and arena copies of messages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "scope.h"
#include "srv.h"
#include "val.h"

int srv_check_id(srv_ctx *ctx, const char *field, const char *v) {
  const char *e = val_id(v);
  return e ? srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", field, e) : 0;
}

int srv_check_request_id(srv_ctx *ctx, const char *request_id) {
  const char *e = val_request_id(request_id);
  return e ? srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "request_id: %s", e) : 0;
}

int srv_check_period(srv_ctx *ctx, const char *from, const char *to) {
  const char *e;
  if ((e = val_date(from ? from : ""))) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "from: %s", e);
  if ((e = val_date(to ? to : ""))) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to: %s", e);
  /* dates are YYYY-MM-DD: text order is date order */
  if (strcmp(from, to) > 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "to: %s is before from (%s)", to, from);
  return 0;
}

static int clean(srv_ctx *ctx, const char *field, const char *in, int lines, int required, size_t max,
                 const char **out) {
  char *c = NULL;
  const char *e = val_text_clean(in, lines, required, max, &c);
  if (e) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", field, e);
  *out = srv_strdup(ctx, c ? c : "");
  if (c != in) free(c); /* val_text_clean hands back the input itself when it was clean */
  return 0;
}

int srv_clean_text(srv_ctx *ctx, const char *field, const char *in, int required, size_t max_chars,
                   const char **out) {
  return clean(ctx, field, in, 0, required, max_chars, out);
}

int srv_clean_prose(srv_ctx *ctx, const char *field, const char *in, int required, size_t max_chars,
                    const char **out) {
  return clean(ctx, field, in, 1, required, max_chars, out);
}

int srv_need_right(srv_ctx *ctx, unsigned rights, int self_ok, const char *what) {
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if ((scope_rights(ctx->auth->roles) & rights) == rights) return 0;
  if (self_ok && (ctx->auth->roles & ROLE_SELF) && ctx->auth->record_id[0]) return 0;
  return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "%s", what);
}

int srv_need_service(srv_ctx *ctx, const char *what) {
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (ctx->auth->roles & ROLE_SERVICE) return 0;
  return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "%s", what);
}

void *srv_msg_copy(srv_ctx *ctx, const ProtobufCMessage *m) {
  if (!m) return NULL;
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *b = srv_alloc(ctx, n ? n : 1);
  protobuf_c_message_pack(m, b);
  ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, srv_allocator(ctx), n, b);
  if (!c) abort(); /* bytes protobuf-c just packed always unpack; the arena never fails */
  return c;
}
