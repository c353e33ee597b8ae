/* ListTokenRevocations: the sessions ended early, read by every service's token check
 * (srv_revocations.c). Public like GetPublicKeys: it names account ids and numbers only. */
#include <stdlib.h>
#include "identity.h"
#include "store_revocations.h"

typedef struct {
  long long after;
  int limit;
  Hoso__Identity__V1__ListTokenRevocationsResponse *out;
} list_st;

static int list_tx(srv_ctx *ctx, void *p) {
  list_st *st = p;
  PGresult *r = sr_list(ctx->db, st->after, st->limit);
  if (!r) return -1;
  int n = sr_rows(r);
  st->out->last_seq = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  st->out->revocations = srv_alloc(ctx, ((size_t)n + 1) * sizeof *st->out->revocations);
  for (int i = 0; i < n; i++) {
    Hoso__Identity__V1__TokenRevocation *v = srv_new(ctx, &hoso__identity__v1__token_revocation__descriptor);
    v->seq = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    v->subject = srv_strdup(ctx, PQgetvalue(r, i, 2));
    v->min_generation = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    v->revoked_at = srv_strdup(ctx, PQgetvalue(r, i, 4));
    st->out->revocations[st->out->n_revocations++] = v;
  }
  PQclear(r);
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
