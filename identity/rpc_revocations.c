/* ListTokenRevocations: the sessions ended early, read by every service's token check
 * (srv_revocations.c). Public like GetPublicKeys: it names account ids and numbers only. */
#include "identity.h"
#include "store_revocations.h"

typedef struct {
  long long after;
  int limit;
  Hoso__Identity__V1__ListTokenRevocationsResponse *out;
} list_st;

static int list_tx(srv_ctx *ctx, void *p) {
  list_st *st = p;
  long long last;
  SRV_TRY(token_revocations_page(ctx, st->after, st->limit, &st->out->revocations, &st->out->n_revocations, &last));
  st->out->last_seq = last;
  return 0;
}

int rpc_list_token_revocations(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ListTokenRevocationsRequest *in = (const void *)req;
  if (in->after_seq < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "after_seq: must not be negative");
  if (in->page_size < 0 || in->page_size > 1000)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 1 and 1000 (0 for 500)");
  list_st st = {in->after_seq, in->page_size ? in->page_size : 500,
                srv_new(ctx, &hoso__identity__v1__list_token_revocations_response__descriptor)};
  st.out->window_seconds = TOK_REVOCATION_WINDOW;
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", list_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
