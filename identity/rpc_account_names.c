/* GetAccountNames of hoso.identity.v1.Identity: the full names of accounts, for naming who
 * acted on what the caller reads (a version's approver, a report template's last editor)
 * instead of an account id. Of the ids asked, the caller learns the name of its own account and
 * of the accounts of units it reads (its unit subtree, with a role that reads there); any other
 * id is left out, not refused, and the page shows the id (docs/SECURITY.md, "Names of
 * accounts"). Row-level security keeps the lookup inside the caller's scope; the role check
 * then takes a SELF person's colleagues out. Each answer's names are audited (the batched
 * read audit, durable before the answer leaves). */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "identity.h"
#include "scope.h"
#include "store_accounts.h"

#define IDS_MAX 100

typedef struct {
  const char *ids;
  account_name_row *rows;
  size_t n;
} names_st;

static int names_tx(srv_ctx *ctx, void *p) {
  names_st *st = p;
  return accounts_names(ctx, st->ids, &st->rows, &st->n);
}

/* The caller's own account (a person's, not a service client's id that happens to match). */
static int is_own(const srv_ctx *ctx, const account_name_row *a) {
  return !(ctx->auth->roles & ROLE_SERVICE) && account_is_self(ctx, a->id);
}

int rpc_get_account_names(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__GetAccountNamesRequest *in = (const void *)req;
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (in->n_account_ids == 0 || in->n_account_ids > IDS_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "account_ids: give 1 to %d account ids", IDS_MAX);
  /* each id checked (digits only) before it joins the array literal */
  char *ids = srv_alloc(ctx, in->n_account_ids * 24 + 3), *w = ids;
  *w++ = '{';
  for (size_t i = 0; i < in->n_account_ids; i++) {
    if (srv_check_id(ctx, srv_printf(ctx, "account_ids[%zu]", i), in->account_ids[i])) return -1;
    w += sprintf(w, "%s%s", i ? "," : "", in->account_ids[i]);
  }
  strcpy(w, "}");
  names_st st = {ids, NULL, 0};
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, names_tx, &st) != 0) return -1;

  Hoso__Identity__V1__GetAccountNamesResponse *o =
      srv_new(ctx, &hoso__identity__v1__get_account_names_response__descriptor);
  o->accounts = srv_alloc(ctx, (st.n ? st.n : 1) * sizeof *o->accounts);
  json_t *named = json_array();
  if (!named) return srv_fail_internal(ctx);
  for (size_t i = 0; i < st.n; i++) {
    const account_name_row *a = &st.rows[i];
    if (!is_own(ctx, a) && !scope_allows(ctx->auth, a->unit_path, RIGHT_READ)) continue;
    Hoso__Identity__V1__AccountName *n = srv_new(ctx, &hoso__identity__v1__account_name__descriptor);
    n->id = (char *)a->id;
    n->full_name = (char *)a->full_name;
    o->accounts[o->n_accounts++] = n;
    json_array_append_new(named, json_string(a->id));
  }
  json_t *d = json_pack("{s:o, s:I}", "named", named, "asked", (json_int_t)in->n_account_ids);
  if (!d) return srv_fail_internal(ctx);
  audit_entry e = {.action = "ACCOUNT_NAMES_READ", .target_type = "account", .target_id = "", .unit_path = ""};
  if (srv_audit_read(ctx, &e, d) != 0) return -1;
  *resp = &o->base;
  return 0;
}
