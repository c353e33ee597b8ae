/* CountAccountUse: how many officers' accounts a unit subtree has and how many logged in during a
 * period, by the unit directly below it — the "accounts in use" of the semi-annual report on
 * record management (000 Đ13, 001 Đ13), asked for by the reporting service as itself. */
#include "identity.h"
#include "scope.h"
#include "store_accounts.h"
#include "units.h"

typedef struct {
  const Hoso__Identity__V1__CountAccountUseRequest *in;
  Hoso__Identity__V1__CountAccountUseResponse *out;
} use_st;

static int use_tx(srv_ctx *ctx, void *p) {
  use_st *st = p;
  unit_row u;
  SRV_TRY(unit_in_scope(ctx, "unit_id", st->in->unit_id, UNIT_LOCK_NONE, RIGHT_READ, &u));
  return accounts_use_count(ctx, u.id, u.path, st->in->from, st->in->to, &st->out->units, &st->out->n_units);
}

int rpc_count_account_use(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__CountAccountUseRequest *in = (const void *)req;
  if (srv_check_id(ctx, "unit_id", in->unit_id) || srv_check_period(ctx, in->from, in->to)) return -1;
  /* Logins per unit are the reporting service's column, not a person's question: a READER of a
   * unit has no business learning who of its officers logs in. */
  if (srv_need_service(ctx, "CountAccountUse is asked by the reporting service; people see accounts in use "
                            "through reporting's compliance report") != 0)
    return -1;
  use_st st = {.in = in, .out = srv_new(ctx, &hoso__identity__v1__count_account_use_response__descriptor)};
  if (srv_tx(ctx, DB_READ_COMMITTED, use_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
