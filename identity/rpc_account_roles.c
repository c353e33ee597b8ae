/* Account RPCs that change what an account may do: UpdateAccountRoles (roles and the link to a
 * person, proved at records first) and ResetPassword, each validate → authorize → one
 * transaction → reply. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include "accounts.h"
#include "pw.h"
#include "store_sessions.h"
#include "throttle.h"
#include "val.h"

#define MAX_REASON_CHARS 1000

/* ------------------------------------------------------------- UpdateAccountRoles ------- */

typedef struct {
  const char *id, *person_record_id, *reason;
  unsigned roles;
  long long expected_version;
  id_account *out;
} roles_st;

static int roles_tx(srv_ctx *ctx, void *p) {
  roles_st *st = p;
  id_account *a;
  int rc = account_load_managed(ctx, st->id, &a);
  if (rc != 0) return rc;
  if (st->expected_version && a->version != st->expected_version)
    return SRV_FAIL(ctx, GRPC_STATUS_ABORTED,
                   "account_id: the account was changed meanwhile (version %lld, you had %lld); "
                   "reload it and retry",
                   (long long)a->version, st->expected_version);
  if ((int)a->status == ST_REVOKED)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "account is revoked; revocation is permanent");
  /* An empty person_record_id keeps the account's link to its record. */
  const char *prid = *st->person_record_id ? st->person_record_id : a->person_record_id;
  if ((st->roles & ROLE_SELF) && !*prid)
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                   "person_record_id: required with the SELF role (the record the person may read)");
  unsigned old = account_roles(a);
  int prid_changed = strcmp(prid, a->person_record_id) != 0;
  if (old == st->roles && !prid_changed) {
    st->out = a;
    return 0;
  }
  if (prid_changed && *prid) {
    account_person_st ps = {.prid = prid, .exclude = a->id};
    SRV_TRY(srv_all_units(ctx, account_person_taken, &ps));
    if (ps.taken)
      return SRV_FAIL(ctx, GRPC_STATUS_ALREADY_EXISTS,
                     "person_record_id: this person already has an account (one person, one account)");
  }
  int found = accounts_set_roles(ctx, a->id, st->roles, prid, &st->out);
  if (found < 0) return account_write_failed(ctx);
  if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s", ACCOUNT_NOT_FOUND);
  /* Sessions carry the old roles: the person logs in again and gets tokens with the new set. */
  if (sessions_revoke_account(ctx, a->id, "roles changed") < 0) return -1;

  json_t *d = json_object();
  json_object_set_new(d, "old_roles", account_roles_json(old));
  json_object_set_new(d, "new_roles", account_roles_json(st->roles));
  json_object_set_new(d, "reason", json_string(st->reason));
  if (prid_changed) {
    json_object_set_new(d, "old_person_record_id", json_string(a->person_record_id));
    json_object_set_new(d, "new_person_record_id", json_string(prid));
  }
  return account_audit(ctx, "ACCOUNT_ROLES", st->out, d);
}

static int roles_precheck_tx(srv_ctx *ctx, void *p) {
  roles_st *st = p;
  id_account *a;
  return account_load_managed(ctx, st->id, &a);
}

int rpc_update_account_roles(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__UpdateAccountRolesRequest *in = (const void *)req;
  roles_st st;
  memset(&st, 0, sizeof st);
  if (srv_check_id(ctx, "account_id", in->account_id) != 0) return -1;
  st.id = in->account_id;
  if (account_check_roles(ctx, in->roles, in->n_roles, &st.roles) != 0) return -1;
  st.person_record_id = in->person_record_id ? in->person_record_id : "";
  if (*st.person_record_id && srv_check_id(ctx, "person_record_id", st.person_record_id) != 0) return -1;
  if (srv_clean_text(ctx, "reason", in->reason, 0, MAX_REASON_CHARS, &st.reason) != 0) return -1;
  if (in->expected_version < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "expected_version: must not be negative");
  st.expected_version = (long long)in->expected_version;

  if (account_need_manage(ctx) != 0) return -1;
  if (account_is_self(ctx, st.id))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "you cannot change your own roles (003 Đ4.1)");
  if (account_may_grant(ctx, st.roles) != 0) return -1;
  /* A person named: the account must be the caller's to manage before records is asked (no
   * link proved for an account the caller cannot touch), then records proves the record lies in
   * the caller's units. roles_tx checks the account again. */
  if (*st.person_record_id) {
    if (srv_tx(ctx, DB_READ_COMMITTED, roles_precheck_tx, &st) != 0) return -1;
    if (person_link(ctx, st.person_record_id, st.id, NULL) != 0) return -1;
  }
  if (srv_tx(ctx, DB_READ_COMMITTED, roles_tx, &st) != 0) return -1;
  Hoso__Identity__V1__UpdateAccountRolesResponse *o =
      srv_new(ctx, &hoso__identity__v1__update_account_roles_response__descriptor);
  o->account = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------- ResetPassword ------------ */

typedef struct {
  const char *id, *password;
  char phc[PW_PHC_MAX];
  id_account *out;
} reset_st;

static int reset_tx(srv_ctx *ctx, void *p) {
  reset_st *st = p;
  id_account *a;
  int rc = account_load_managed(ctx, st->id, &a);
  if (rc != 0) return rc;
  if ((int)a->status == ST_REVOKED)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "account is revoked; revocation is permanent");
  /* The one rule that needs the account: the password must not contain its username. */
  const char *why = pw_policy_check(st->password, a->username);
  if (why) return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "new_password: %s", why);
  int found = accounts_set_password(ctx, a->id, st->phc, &st->out);
  if (found < 0) return -1;
  if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s", ACCOUNT_NOT_FOUND);
  /* The person asked for a reset because they are locked out or forgot: let them in again,
   * and end whatever sessions someone else may hold with the old password. */
  if (throttle_clear(ctx, a->username) != 0) return -1;
  if (sessions_revoke_account(ctx, a->id, "password reset by an administrator") < 0) return -1;
  json_t *d = json_object();
  json_object_set_new(d, "must_change_password", json_true());
  return account_audit(ctx, "PASSWORD_RESET", st->out, d);
}

int rpc_reset_password(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ResetPasswordRequest *in = (const void *)req;
  reset_st st;
  memset(&st, 0, sizeof st);
  if (srv_check_id(ctx, "account_id", in->account_id) != 0) return -1;
  st.id = in->account_id;
  /* Every rule but "not the username" here; that one waits for the account (reset_tx). */
  const char *why = pw_policy_check(in->new_password, NULL);
  if (why) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "new_password: %s", why);
  st.password = in->new_password;

  /* Only an administrator resets a lost password (000 Đ17.4); a person who knows theirs uses
   * ChangePassword, which asks for the old one. */
  if (account_need_manage(ctx) != 0) return -1;
  if (account_is_self(ctx, st.id))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "you cannot reset your own password; use ChangePassword (000 Đ17.4)");
  if (pw_hash(st.password, st.phc) != 0)
    return srv_fail(ctx, GRPC_STATUS_INTERNAL, "could not hash the password");
  if (srv_tx(ctx, DB_READ_COMMITTED, reset_tx, &st) != 0) return -1;
  Hoso__Identity__V1__ResetPasswordResponse *o =
      srv_new(ctx, &hoso__identity__v1__reset_password_response__descriptor);
  o->account = st.out;
  *resp = &o->base;
  return 0;
}
