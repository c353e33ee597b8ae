/* Token keys: GetPublicKeys (public; every service verifies tokens with these) and
 * RotateSigningKey (system administrator). */
#include <string.h>
#include "identity.h"
#include "scope.h"
#include "store_keys.h"

static int keys_list_tx(srv_ctx *ctx, void *p) {
  Hoso__Identity__V1__GetPublicKeysResponse *o = p;
  return signing_keys_published(ctx, &o->keys, &o->n_keys);
}

int rpc_get_public_keys(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)req;
  Hoso__Identity__V1__GetPublicKeysResponse *o =
      srv_new(ctx, &hoso__identity__v1__get_public_keys_response__descriptor);
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", keys_list_tx, o) != 0) return -1;
  *resp = &o->base;
  return 0;
}

static int rotate_tx(srv_ctx *ctx, void *p) {
  Hoso__Identity__V1__RotateSigningKeyResponse *o = p;
  char kid[64];
  if (keys_rotate(ctx, kid, sizeof kid) != 0) return -1;
  o->kid = srv_strdup(ctx, kid);
  audit_entry e;
  memset(&e, 0, sizeof e);
  srv_audit_base(ctx, &e);
  e.action = "KEY_ROTATE";
  e.target_type = "signing_key";
  e.target_id = o->kid;
  e.outcome = "ok";
  return audit_write(ctx->db, &e) != 0 ? -1 : 0;
}

int rpc_rotate_signing_key(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)req;
  if (srv_need_right(ctx, RIGHT_ADMIN, 0, "only a system administrator may rotate signing keys") != 0) return -1;
  Hoso__Identity__V1__RotateSigningKeyResponse *o =
      srv_new(ctx, &hoso__identity__v1__rotate_signing_key_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, rotate_tx, o) != 0) return -1;
  *resp = &o->base;
  return 0;
}
