/* ListUnitChanges: the feed of tree changes (MoveUnit, MergeUnits) in commit order, read by the
 * services that keep a copy of unit paths (records) and by SYSTEM_ADMIN. */
#include <stdlib.h>
#include <string.h>
#include "identity.h"
#include "scope.h"
#include "store_units.h"
#include "val.h"

/* The feed names units of the whole tree: a SYSTEM_ADMIN may read it, and so may a service
 * client whose grant includes the root (its token's scope then covers every unit, so the feed
 * tells it nothing it could not read unit by unit). A narrower grant would see other units'
 * changes, or gaps if they were hidden; a person's roles never reach it. */
static int may_read_feed(srv_ctx *ctx, const char *root_path) {
  const tok_claims *a = ctx->auth;
  if (scope_rights(a->roles) & RIGHT_MANAGE_UNITS) return 1;
  return (a->roles & ROLE_SERVICE) && scope_allows(a, root_path, RIGHT_READ);
}

typedef struct {
  long long after;
  int size;
  Hoso__Identity__V1__ListUnitChangesResponse *out;
} feed_st;

/* The root is the one unit without a parent; it is read with every unit visible because the
 * decision after it, not row-level security, is what answers a caller outside the rule. */
static int may_read(srv_ctx *ctx, void *ok) {
  unit_row root;
  int found = units_root(ctx, &root);
  if (found < 0) return -1;
  *(int *)ok = found && may_read_feed(ctx, root.path);
  return 0;
}

static int feed_tx(srv_ctx *ctx, void *p) {
  feed_st *st = p;
  int ok = 0;
  SRV_TRY(srv_all_units(ctx, may_read, &ok));
  if (!ok) {
    srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
             "reading the unit-change feed needs the SYSTEM_ADMIN role or a service client granted the "
             "root unit");
    return DB_TX_ROLLBACK;
  }

  /* The last number first: a change committed between the two reads then shows in changes with
   * a seq above last_seq, which is harmless, whereas the other order could promise a seq the
   * page does not hold. */
  long long last;
  SRV_TRY(units_changes_last(ctx, &last));
  st->out->last_seq = last;
  SRV_TRY(units_changes(ctx, st->after, st->size, &st->out->changes, &st->out->n_changes));
  for (size_t i = 0; i < st->out->n_changes; i++)
    if (st->out->changes[i]->seq > st->out->last_seq) st->out->last_seq = st->out->changes[i]->seq;
  return 0;
}

int rpc_list_unit_changes(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ListUnitChangesRequest *in = (const void *)req;
  feed_st st = {.after = in->after_seq};
  if (in->after_seq < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "after_seq: must not be negative");
  st.size = val_page_size(in->page_size);
  if (st.size < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  /* Roles that can never pass are refused before any transaction. */
  if (!(scope_rights(ctx->auth->roles) & RIGHT_MANAGE_UNITS) && !(ctx->auth->roles & ROLE_SERVICE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "reading the unit-change feed needs the SYSTEM_ADMIN role or a service client granted "
                    "the root unit");
  st.out = srv_new(ctx, &hoso__identity__v1__list_unit_changes_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, feed_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
