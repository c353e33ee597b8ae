/* Account RPCs: CreateAccount (a person's link proved at records first), GetAccount,
 * ListAccounts, Disable/Enable/RevokeAccount, each validate → authorize → one transaction →
 * reply; and the helpers the account RPC files share (accounts.h). */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "log.h"
#include "accounts.h"
#include "pw.h"
#include "scope.h"
#include "store_sessions.h"
#include "store_units.h"
#include "val.h"

#define MAX_NAME_CHARS 255
#define MAX_REASON_CHARS 1000
#define MAX_EMAIL_BYTES 254

static const char *OUT_OF_SCOPE =
    "account_id: the account belongs to a unit outside yours; you manage accounts only in "
    "your own unit and the units below it";

/* ------------------------------------------------------------- input checks ------------- */

/* A loose check: something@domain.tld, no spaces. Mail servers are the real judge; this only
 * catches the field being used for something else. */
static int check_email(srv_ctx *ctx, const char *e) {
  size_t n = strlen(e);
  if (n == 0) return 0;
  const char *at = strchr(e, '@');
  int ok = n <= MAX_EMAIL_BYTES && at && at != e && !strchr(at + 1, '@') && at[1] &&
           strchr(at + 1, '.') && e[n - 1] != '.' && at[1] != '.';
  for (size_t i = 0; ok && i < n; i++)
    if ((unsigned char)e[i] <= ' ' || e[i] == 0x7f) ok = 0;
  return ok ? 0
            : srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                       "email: must look like name@example.gov.vn (at most %d characters)",
                       MAX_EMAIL_BYTES);
}

/* "READER, UPDATER" for a set of role bits, in the arena. */
static const char *role_names(srv_ctx *ctx, unsigned bits) {
  char buf[128] = "";
  for (int v = 1; v <= 6; v++) {
    unsigned b = tok_role_bit(v);
    if (!(bits & b)) continue;
    if (buf[0]) strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
    strncat(buf, tok_role_name(b), sizeof buf - strlen(buf) - 1);
  }
  return srv_strdup(ctx, buf);
}

/* The role set a request asks for: not empty, every value known, no SERVICE (service
 * accounts are service clients, with a written approval: 004 Đ3.3). 0 with *bits, or -1. */
int account_check_roles(srv_ctx *ctx, const Hoso__Common__V1__Role *roles, size_t n,
                       unsigned *bits) {
  if (n == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "roles: at least one role is required");
  for (size_t i = 0; i < n; i++)
    if (!tok_role_bit((int)roles[i]))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "roles: unknown role value %d (known: SYSTEM_ADMIN, UNIT_ADMIN, UPDATER, "
                      "READER, SELF)",
                      (int)roles[i]);
  *bits = roles_from_enums(roles, n);
  if (*bits & ROLE_SERVICE)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "roles: SERVICE is not a role for person accounts; use CreateServiceClient");
  return 0;
}

/* ------------------------------------------------------------- rights ------------------- */

int account_need_manage(srv_ctx *ctx) {
  return srv_need_right(ctx, RIGHT_MANAGE_ACCOUNTS, 0, "managing accounts needs the UNIT_ADMIN or SYSTEM_ADMIN role");
}

static int is_system_admin(const srv_ctx *ctx) { return (ctx->auth->roles & ROLE_SYSTEM_ADMIN) != 0; }

/* 003 Đ4.1: nobody hands out a right they do not have. A SYSTEM_ADMIN holds every right. */
int account_may_grant(srv_ctx *ctx, unsigned wanted) {
  unsigned extra = wanted & ~ctx->auth->roles;
  if (is_system_admin(ctx) || !extra) return 0;
  return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                  "roles: you cannot grant %s, a role you do not hold (003 Đ4.1)",
                  role_names(ctx, extra));
}

/* An account holding a role the caller lacks is managed by someone who holds it; otherwise a
 * UNIT_ADMIN could disable or take over (by resetting the password) a SYSTEM_ADMIN. */
static int may_manage_holder(srv_ctx *ctx, unsigned target_roles) {
  unsigned extra = target_roles & ~ctx->auth->roles;
  if (is_system_admin(ctx) || !extra) return 0;
  return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                  "the account holds %s, a role you do not hold; only an administrator holding "
                  "it may manage this account (003 Đ4.1)",
                  role_names(ctx, extra));
}

int account_is_self(const srv_ctx *ctx, const char *account_id) {
  return strcmp(ctx->auth->sub, account_id) == 0;
}

/* ------------------------------------------------------------- transaction helpers ------ */

unsigned account_roles(const id_account *a) { return roles_from_enums(a->roles, a->n_roles); }

/* Loads the target across every scope (row-level security would make an account outside the
 * caller's units look missing), tells NOT_FOUND from PERMISSION_DENIED in C, and puts the
 * caller's scope back so the writes that follow stay under row-level security.
 * allow_self: the caller's own account passes the scope check (GetAccount).
 * Returns 0 with *out, DB_TX_ROLLBACK with the status set, or -1 on a database error. */
typedef struct {
  const char *id;
  int lock;
  id_account *out;
} get_any_st;

static int get_any(srv_ctx *ctx, void *p) {
  get_any_st *g = p;
  return accounts_get(ctx, g->id, g->lock, &g->out) < 0 ? -1 : 0;
}

/* The account with this id, looked up with every unit visible; NULL when there is none. */
static int account_anywhere(srv_ctx *ctx, const char *id, int lock, id_account **out) {
  get_any_st g = {.id = id, .lock = lock};
  SRV_TRY(srv_all_units(ctx, get_any, &g));
  *out = g.out;
  return 0;
}

static int load_target(srv_ctx *ctx, const char *id, int lock, int allow_self, id_account **out) {
  id_account *a;
  SRV_TRY(account_anywhere(ctx, id, lock, &a));
  if (!a) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s", ACCOUNT_NOT_FOUND);
  if (!(allow_self && account_is_self(ctx, a->id)) &&
      !scope_allows(ctx->auth, a->unit_path, RIGHT_MANAGE_ACCOUNTS))
    return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED, "%s", OUT_OF_SCOPE);
  *out = a;
  return 0;
}

/* A changed account: the target of a management RPC after every rule about it held. */
int account_load_managed(srv_ctx *ctx, const char *id, id_account **out) {
  int rc = load_target(ctx, id, 1, 0, out);
  if (rc != 0) return rc;
  if (may_manage_holder(ctx, account_roles(*out)) != 0) return DB_TX_ROLLBACK;
  return 0;
}

/* A failed write: a unique violation gets a message naming the field, anything else goes
 * back to srv_tx, which maps it (and retries serialization failures). */
int account_write_failed(srv_ctx *ctx) {
  if (db_err_kind(ctx->db) != DB_UNIQUE) return -1;
  const char *c = db_err_constraint(ctx->db);
  if (strcmp(c, "accounts_username_key") == 0) srv_fail_db(ctx, "username: already taken");
  else if (strcmp(c, "accounts_person_record_key") == 0)
    srv_fail_db(ctx, "person_record_id: this person already has an account (one person, one account)");
  else srv_fail_db(ctx, NULL);
  return DB_TX_ROLLBACK;
}

json_t *account_roles_json(unsigned bits) {
  json_t *a = json_array();
  for (int v = 1; v <= 6; v++)
    if (bits & tok_role_bit(v)) json_array_append_new(a, json_string(tok_role_name(tok_role_bit(v))));
  return a;
}

/* One audit row about an account, in the current transaction. Takes detail (may be NULL).
 * Never put a password or a hash in detail. */
int account_audit(srv_ctx *ctx, const char *action, const id_account *a, json_t *detail) {
  audit_entry e = {.action = action, .target_type = "account", .target_id = a->id, .unit_path = a->unit_path};
  return srv_audit(ctx, &e, detail);
}

/* ------------------------------------------------------------- CreateAccount ------------ */

typedef struct {
  const char *username, *full_name, *unit_id, *person_record_id, *email, *request_id;
  unsigned roles;
  char phc[PW_PHC_MAX];
  char id[32]; /* taken before the transaction when a person is linked, else "" */
  id_account *out;
} create_st;

typedef struct {
  create_st *st;
  const char **unit_path;
} create_check_st;

/* The unit (in the caller's scope and active), a free username and a person without another
 * account, each looked up with every unit visible. */
static int create_checks(srv_ctx *ctx, void *p) {
  create_st *st = ((create_check_st *)p)->st;
  unit_row u;
  int found = units_find(ctx, st->unit_id, UNIT_LOCK_SHARE, &u);
  if (found < 0) return -1;
  if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "unit_id: no such unit");
  char *unit_path = srv_strdup(ctx, u.path);
  int unit_status = u.status;
  if (!scope_allows(ctx->auth, unit_path, RIGHT_MANAGE_ACCOUNTS))
    return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED,
                   "unit_id: the unit is outside yours; you create accounts only in your own "
                   "unit and the units below it");
  if (unit_status != 1)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                   "unit_id: the unit is dissolved; create the account in its successor");
  int taken = accounts_username_taken(ctx, st->username);
  if (taken < 0) return -1;
  if (taken) return SRV_FAIL(ctx, GRPC_STATUS_ALREADY_EXISTS, "username: already taken");
  if (*st->person_record_id) {
    taken = accounts_person_taken(ctx, st->person_record_id, NULL);
    if (taken < 0) return -1;
    if (taken)
      return SRV_FAIL(ctx, GRPC_STATUS_ALREADY_EXISTS,
                     "person_record_id: this person already has an account (one person, one "
                     "account); revoke it first if the person changed jobs");
  }
  *((create_check_st *)p)->unit_path = unit_path;
  return 0;
}

static int create_tx(srv_ctx *ctx, void *p) {
  create_st *st = p;
  char first[64];
  int seen = idem_begin(ctx, st->request_id, first, sizeof first);
  if (seen < 0) return -1;
  if (seen == 1) {
    /* A retry of a call that already succeeded: its account, nothing new. */
    SRV_TRY(account_anywhere(ctx, first, 0, &st->out));
    if (!st->out) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s", ACCOUNT_NOT_FOUND);
    return 0;
  }

  /* The unit, the username and the person are looked up across every scope: a UNIT_ADMIN
   * must get "already taken" for a name used in another district, not a constraint error. */
  const char *unit_path = NULL;
  SRV_TRY(srv_all_units(ctx, create_checks, &(create_check_st){st, &unit_path}));

  account_new n = {.id = *st->id ? st->id : NULL,
                    .username = st->username,
                    .full_name = st->full_name,
                    .unit_id = st->unit_id,
                    .unit_path = unit_path,
                    .person_record_id = st->person_record_id,
                    .email = st->email,
                    .password_phc = st->phc,
                    .created_by = ctx->auth->sub,
                    .roles = st->roles,
                    .must_change_password = 1};
  if (accounts_insert(ctx, &n, &st->out) < 0) return account_write_failed(ctx);
  if (idem_done(ctx, st->request_id, st->out->id) != 0) return -1;

  json_t *d = json_object();
  json_object_set_new(d, "username", json_string(st->username));
  json_object_set_new(d, "unit_id", json_string(st->unit_id));
  json_object_set_new(d, "roles", account_roles_json(st->roles));
  if (*st->person_record_id) json_object_set_new(d, "person_record_id", json_string(st->person_record_id));
  return account_audit(ctx, "ACCOUNT_CREATE", st->out, d);
}

int rpc_create_account(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__CreateAccountRequest *in = (const void *)req;
  create_st st;
  memset(&st, 0, sizeof st);

  /* Usernames are case-insensitive for people: store them lowercased, then judge. */
  const char *raw = in->username ? in->username : "";
  char *user = srv_strdup(ctx, raw);
  for (char *c = user; *c; c++) *c = (char)tolower((unsigned char)*c);
  const char *why = val_username(user);
  if (why) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "username: %s", why);
  st.username = user;
  if (srv_clean_text(ctx, "full_name", in->full_name, 1, MAX_NAME_CHARS, &st.full_name) != 0) return -1;
  if (srv_check_id(ctx, "unit_id", in->unit_id) != 0) return -1;
  st.unit_id = in->unit_id;
  if (account_check_roles(ctx, in->roles, in->n_roles, &st.roles) != 0) return -1;
  st.person_record_id = in->person_record_id ? in->person_record_id : "";
  if (*st.person_record_id && srv_check_id(ctx, "person_record_id", st.person_record_id) != 0) return -1;
  if ((st.roles & ROLE_SELF) && !*st.person_record_id)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "person_record_id: required with the SELF role (the record the person may read)");
  if (srv_clean_text(ctx, "email", in->email, 0, MAX_EMAIL_BYTES, &st.email) != 0) return -1;
  if (check_email(ctx, st.email) != 0) return -1;
  why = pw_policy_check(in->initial_password, st.username);
  if (why) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "initial_password: %s", why);
  if (srv_check_request_id(ctx, in->request_id) != 0) return -1;
  st.request_id = in->request_id ? in->request_id : "";

  if (account_need_manage(ctx) != 0 || account_may_grant(ctx, st.roles) != 0) return -1;
  /* The person's record must lie in the caller's units: records says so, under the id the
   * account will have, before any lock is held here. */
  if (*st.person_record_id) {
    if (accounts_next_id(ctx, st.id, sizeof st.id) != 0) return srv_fail_db(ctx, "a new account id");
    if (person_link(ctx, st.person_record_id, st.id, st.request_id) != 0) return -1;
  }

  /* argon2id takes tens of milliseconds: never while a transaction holds locks. */
  if (pw_hash(in->initial_password, st.phc) != 0)
    return srv_fail(ctx, GRPC_STATUS_INTERNAL, "could not hash the password");
  if (srv_tx(ctx, DB_READ_COMMITTED, create_tx, &st) != 0) return -1;

  Hoso__Identity__V1__CreateAccountResponse *o =
      srv_new(ctx, &hoso__identity__v1__create_account_response__descriptor);
  o->account = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------- GetAccount --------------- */

typedef struct {
  const char *id;
  id_account *out;
} get_st;

static int get_tx(srv_ctx *ctx, void *p) {
  get_st *st = p;
  return load_target(ctx, st->id, 0, 1, &st->out);
}

int rpc_get_account(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__GetAccountRequest *in = (const void *)req;
  if (srv_check_id(ctx, "account_id", in->account_id) != 0) return -1;
  /* Anyone may read their own account; reading others' is part of managing them. */
  if (!account_is_self(ctx, in->account_id) && account_need_manage(ctx) != 0) return -1;
  get_st st = {in->account_id, NULL};
  if (srv_tx(ctx, DB_READ_COMMITTED, get_tx, &st) != 0) return -1;
  Hoso__Identity__V1__GetAccountResponse *o =
      srv_new(ctx, &hoso__identity__v1__get_account_response__descriptor);
  o->account = st.out;
  *resp = &o->base;
  return 0;
}

/* Whether another live account belongs to the person, looked up with every unit visible. */
int account_person_taken(srv_ctx *ctx, void *p) {
  account_person_st *ps = p;
  ps->taken = accounts_person_taken(ctx, ps->prid, ps->exclude);
  return ps->taken < 0 ? -1 : 0;
}

/* ------------------------------------------------------------- ListAccounts ------------- */

typedef struct {
  account_query q;
  int page_size;
  Hoso__Identity__V1__ListAccountsResponse *out;
} list_st;

/* The unit of the list, looked up with every unit visible, and in the caller's scope. */
static int list_unit(srv_ctx *ctx, void *p) {
  list_st *st = p;
  unit_row u;
  int found = units_find(ctx, st->q.unit_id, UNIT_LOCK_NONE, &u);
  if (found < 0) return -1;
  if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "unit_id: no such unit");
  st->q.unit_path = srv_strdup(ctx, u.path);
  if (!scope_allows(ctx->auth, st->q.unit_path, RIGHT_MANAGE_ACCOUNTS))
    return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED,
                   "unit_id: the unit is outside yours; you list accounts only of your own unit "
                   "and the units below it");
  return 0;
}

static int list_tx(srv_ctx *ctx, void *p) {
  list_st *st = p;
  /* Then back in the caller's scope: row-level security filters the list a second time. */
  SRV_TRY(srv_all_units(ctx, list_unit, st));
  st->q.limit = st->page_size + 1; /* one more tells whether another page exists */
  Hoso__Identity__V1__ListAccountsResponse *o = st->out;
  size_t n;
  SRV_TRY(accounts_list(ctx, &st->q, &o->accounts, &n));
  int more;
  o->n_accounts = srv_page_cut(n, st->page_size, &more);
  if (!more) return 0;
  return srv_page_next(ctx, &o->next_page_token, "%s", o->accounts[o->n_accounts - 1]->username);
}

int rpc_list_accounts(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ListAccountsRequest *in = (const void *)req;
  list_st st;
  memset(&st, 0, sizeof st);
  st.q.unit_id = in->unit_id && *in->unit_id ? in->unit_id : ctx->auth->unit_id;
  if (srv_check_id(ctx, "unit_id", st.q.unit_id) != 0) return -1;
  st.q.direct_only = in->direct_only;
  if ((int)in->status < 0 || (int)in->status > ST_REVOKED)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "status: unknown account status %d", (int)in->status);
  st.q.status = (int)in->status;
  st.page_size = val_page_size(in->page_size);
  if (st.page_size < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  char after[256] = "";
  if (in->page_token && *in->page_token &&
      val_page_token_decode(in->page_token, after, sizeof after) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "page_token: not a token from this list; start again without one");
  st.q.after = after;
  if (account_need_manage(ctx) != 0) return -1;

  st.out = srv_new(ctx, &hoso__identity__v1__list_accounts_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, list_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------- status changes ----------- */

typedef struct {
  const char *id, *reason;
  int to; /* ST_DISABLED, ST_ACTIVE or ST_REVOKED */
  id_account *out;
} status_st;

static const char *status_word(int s) {
  return s == ST_ACTIVE ? "ACTIVE" : s == ST_DISABLED ? "DISABLED" : s == ST_REVOKED ? "REVOKED" : "?";
}

static int status_tx(srv_ctx *ctx, void *p) {
  status_st *st = p;
  id_account *a;
  int rc = account_load_managed(ctx, st->id, &a);
  if (rc != 0) return rc;
  int from = (int)a->status;
  /* Revocation is permanent (the person changed jobs, 003 Đ5.3): a new job gets a new account. */
  if (from == ST_REVOKED && st->to != ST_REVOKED)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "account is revoked; revocation is permanent");
  if (from == st->to) {
    /* Already so: a retried call changes nothing and records nothing. */
    st->out = a;
    return 0;
  }
  int found = accounts_set_status(ctx, a->id, st->to, st->reason, &st->out);
  if (found < 0) return -1;
  if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s", ACCOUNT_NOT_FOUND);

  const char *action = st->to == ST_DISABLED ? "ACCOUNT_DISABLE"
                       : st->to == ST_ACTIVE ? "ACCOUNT_ENABLE"
                                             : "ACCOUNT_REVOKE";
  /* A disabled or revoked account keeps no session: its refresh tokens die now, and its
   * access tokens within TOK_ACCESS_TTL. */
  if (st->to != ST_ACTIVE) {
    char why[64];
    snprintf(why, sizeof why, "account %s", st->to == ST_DISABLED ? "disabled" : "revoked");
    if (sessions_revoke_account(ctx, a->id, why) < 0) return -1;
  }
  json_t *d = json_object();
  json_object_set_new(d, "old_status", json_string(status_word(from)));
  json_object_set_new(d, "new_status", json_string(status_word(st->to)));
  json_object_set_new(d, "reason", json_string(st->reason));
  return account_audit(ctx, action, st->out, d);
}

static int change_status(srv_ctx *ctx, const char *id, const char *reason_in, int reason_required,
                         int to, id_account **out) {
  status_st st = {.id = id, .to = to};
  if (srv_check_id(ctx, "account_id", id) != 0) return -1;
  if (srv_clean_text(ctx, "reason", reason_in, reason_required, MAX_REASON_CHARS, &st.reason) != 0)
    return -1;
  if (account_need_manage(ctx) != 0) return -1;
  if (account_is_self(ctx, id))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "you cannot change your own account status (003 Đ4.1)");
  if (srv_tx(ctx, DB_READ_COMMITTED, status_tx, &st) != 0) return -1;
  *out = st.out;
  return 0;
}

int rpc_disable_account(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__DisableAccountRequest *in = (const void *)req;
  Hoso__Identity__V1__DisableAccountResponse *o =
      srv_new(ctx, &hoso__identity__v1__disable_account_response__descriptor);
  if (change_status(ctx, in->account_id, in->reason, 1, ST_DISABLED, &o->account) != 0) return -1;
  *resp = &o->base;
  return 0;
}

int rpc_enable_account(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__EnableAccountRequest *in = (const void *)req;
  Hoso__Identity__V1__EnableAccountResponse *o =
      srv_new(ctx, &hoso__identity__v1__enable_account_response__descriptor);
  if (change_status(ctx, in->account_id, in->reason, 0, ST_ACTIVE, &o->account) != 0) return -1;
  *resp = &o->base;
  return 0;
}

int rpc_revoke_account(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__RevokeAccountRequest *in = (const void *)req;
  Hoso__Identity__V1__RevokeAccountResponse *o =
      srv_new(ctx, &hoso__identity__v1__revoke_account_response__descriptor);
  if (change_status(ctx, in->account_id, in->reason, 1, ST_REVOKED, &o->account) != 0) return -1;
  *resp = &o->base;
  return 0;
}
