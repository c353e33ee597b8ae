/* Sessions: Login, Refresh, Logout, ChangePassword and WhoAmI. Password hashing (argon2id,
 * tens of ms) always runs between transactions, never while one is open. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pw.h"
#include "scope.h"
#include "session.h"
#include "store_accounts.h"
#include "store_sessions.h"
#include "throttle.h"
#include "val.h"

#define BAD_LOGIN "invalid username or password"
#define BAD_REFRESH "refresh token is invalid or expired; log in again"
#define BUSY "too many logins are being checked right now; try again in a few seconds"

/* A hash to verify against when the username is unknown, so that answer takes as long as a
 * wrong password for a real account. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_phc[PW_PHC_MAX];
static void dummy_init(void) {
  if (pw_hash("no such account: constant-time filler", dummy_phc) != 0) dummy_phc[0] = 0;
}

/* Usernames are matched lowercased; anything else about them is for CreateAccount to judge. */
static int clean_username(srv_ctx *ctx, const char *in, char *out, size_t outlen) {
  const char *e = val_text(in, 1, 128);
  if (e) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "username: %s", e);
  size_t n = strlen(in);
  if (n >= outlen) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "username: too long");
  for (size_t i = 0; i <= n; i++) out[i] = (char)tolower((unsigned char)in[i]);
  return 0;
}

static int check_password_field(srv_ctx *ctx, const char *field, const char *pw) {
  if (!pw || !*pw) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: must not be empty", field);
  if (strlen(pw) > PW_MAX_LEN)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: must be at most %d bytes", field, PW_MAX_LEN);
  if (!val_utf8(pw, strlen(pw))) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: must be valid UTF-8", field);
  return 0;
}

static void audit_login(srv_ctx *ctx, const char *action, const char *account_id, const char *username,
                        const char *unit_path, const char *outcome, audit_entry *e) {
  memset(e, 0, sizeof *e);
  srv_audit_base(ctx, e);
  /* Before login there is no authenticated actor: the account (when known) is the actor. */
  e->actor_id = account_id ? account_id : "";
  e->actor_name = username;
  e->action = action;
  e->target_type = "account";
  e->target_id = account_id ? account_id : "";
  e->unit_path = unit_path ? unit_path : "";
  e->outcome = outcome;
}

/* ---------------------------------------------------------------- Login ---------------- */

typedef struct {
  char username[129];
  const char *password;
  long locked;
  int found, status, must_change, verified, busy;
  thr_try thr;
  session_subject subj;
  char phc[PW_PHC_MAX], rehash[PW_PHC_MAX];
  Hoso__Identity__V1__LoginResponse *out;
} login_st;

/* The account st->username names: found, status, first login, hash, what its token says. */
static int lookup_login(srv_ctx *ctx, login_st *st) {
  session_login l;
  st->found = sessions_by_username(ctx, st->username, &l);
  if (st->found < 0) return -1;
  if (st->found) {
    st->subj = l.subj;
    snprintf(st->phc, sizeof st->phc, "%s", l.phc);
    st->status = l.status;
    st->must_change = l.must_change;
  }
  return 0;
}

static int login_lookup_tx(srv_ctx *ctx, void *p) {
  login_st *st = p;
  st->locked = throttle_begin(ctx, THR_PERSON, st->username, ctx->client_addr, &st->thr);
  if (st->locked < 0) return -1;
  if (st->locked > 0) {
    audit_entry e;
    audit_login(ctx, "LOGIN_FAILED", NULL, st->username, NULL, "locked", &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED,
             "too many failed attempts; try again in %ld s", st->locked);
    return 0; /* keep the audit row */
  }
  return lookup_login(ctx, st);
}

static int login_finish_tx(srv_ctx *ctx, void *p) {
  login_st *st = p;
  audit_entry e;
  const char *id = st->found ? st->subj.id : NULL, *path = st->found ? st->subj.unit_path : NULL;
  if (st->busy) {
    /* never checked: the try is not held against anyone */
    if (throttle_end(ctx, &st->thr, THR_NOT_TRIED) != 0) return -1;
    audit_login(ctx, "LOGIN_FAILED", id, st->username, path, "busy", &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, BUSY);
    return 0;
  }
  /* The right password ends the count, whatever the account's state; a wrong one stays counted
   * (throttle_begin counted it before the check). */
  if (throttle_end(ctx, &st->thr, st->verified ? THR_OK : THR_FAILED) != 0) return -1;
  if (!st->verified) {
    audit_login(ctx, "LOGIN_FAILED", id, st->username, path, st->found ? "bad_password" : "unknown_user", &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, BAD_LOGIN);
    return 0;
  }
  if (st->status != 1) {
    /* Only someone who knows the password learns the account's state. */
    const char *why = st->status == 2 ? "disabled" : "revoked";
    audit_login(ctx, "LOGIN_FAILED", id, st->username, path, why, &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "account is %s; contact your administrator", why);
    return 0;
  }
  if (sessions_logged_in(ctx, st->subj.id, st->rehash) != 0) return -1;
  Hoso__Identity__V1__LoginResponse *o = st->out;
  if (session_access_token(ctx, &st->subj, st->must_change, &o->access_token) != 0) return -1;
  /* A first-login token only lets the person set a password: no long-lived session for it. */
  if (!st->must_change && session_new_refresh(ctx, st->subj.id, NULL, NULL, &o->refresh_token) != 0) return -1;
  if (accounts_get(ctx, st->subj.id, 0, &o->account) < 0) return -1;
  o->expires_in = TOK_ACCESS_TTL;
  o->must_change_password = st->must_change;
  o->token_type = "Bearer";
  audit_login(ctx, "LOGIN", id, st->username, path, st->must_change ? "ok_must_change_password" : "ok", &e);
  return audit_write(ctx->db, &e) != 0 ? -1 : 0;
}

int rpc_login(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__LoginRequest *in = (const void *)req;
  login_st st;
  memset(&st, 0, sizeof st);
  if (clean_username(ctx, in->username, st.username, sizeof st.username) != 0) return -1;
  if (check_password_field(ctx, "password", in->password) != 0) return -1;
  st.password = in->password;

  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", login_lookup_tx, &st) != 0 || srv_failed(ctx)) return -1;
  pthread_once(&dummy_once, dummy_init);
  /* From an unfamiliar place the check runs at the gate (throttle.h), so a flood of guesses
   * cannot take the CPU from people logging in where they usually do. */
  const char *phc = st.found ? st.phc : dummy_phc;
  int ok = 0;
  if (!throttle_check_password(&st.thr, phc, st.password, &ok)) st.busy = 1;
  st.verified = st.found && ok;
  if (st.verified && pw_needs_rehash(st.phc) && pw_hash(st.password, st.rehash) != 0) st.rehash[0] = 0;
  st.out = srv_new(ctx, &hoso__identity__v1__login_response__descriptor);
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", login_finish_tx, &st) != 0 || srv_failed(ctx)) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ---------------------------------------------------------------- Refresh -------------- */

typedef struct {
  char hash[65];
  Hoso__Identity__V1__RefreshResponse *out;
} refresh_st;

static int refresh_tx(srv_ctx *ctx, void *p) {
  refresh_st *st = p;
  audit_entry e;
  session_refresh t;
  int found = sessions_refresh_find(ctx, st->hash, &t);
  if (found < 0) return -1;
  if (!found) {
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, BAD_REFRESH);
    return 0;
  }
  const char *fam = t.family_id, *acct = t.account_id, *fexp = t.family_expires;
  int used = t.used, dead = t.dead;
  session_login l;
  found = sessions_by_id(ctx, acct, &l); /* memset: an unknown account is an empty subject */
  if (found < 0) return -1;
  const session_subject s = l.subj;
  int active = found && l.status == 1 && !l.must_change;

  if (used && !dead) {
    /* A used token presented again means it was copied: end the whole family (RFC 6819 5.2.2.3). */
    if (sessions_revoke_family(ctx, fam, "refresh token reuse detected") != 0) return -1;
    audit_login(ctx, "REFRESH_REUSE", acct, s.username, s.unit_path, "family_revoked", &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED,
             "refresh token was already used: every session of this login has been ended; log in again");
    return 0;
  }
  if (used || dead || !active) {
    if (!active && sessions_revoke_family(ctx, fam, "account not active") != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, BAD_REFRESH);
    return 0;
  }
  if (sessions_refresh_used(ctx, st->hash) != 0) return -1;
  if (session_new_refresh(ctx, acct, fam, fexp, &st->out->refresh_token) != 0) return -1;
  if (session_access_token(ctx, &s, 0, &st->out->access_token) != 0) return -1;
  st->out->expires_in = TOK_ACCESS_TTL;
  st->out->token_type = "Bearer";
  audit_login(ctx, "TOKEN_REFRESH", acct, s.username, s.unit_path, "ok", &e);
  return audit_write(ctx->db, &e) != 0 ? -1 : 0;
}

static int check_refresh_field(srv_ctx *ctx, const char *t) {
  if (!t || !*t) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "refresh_token: must not be empty");
  if (strlen(t) > 128 || !val_utf8(t, strlen(t)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "refresh_token: not a refresh token");
  return 0;
}

int rpc_refresh(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__RefreshRequest *in = (const void *)req;
  if (check_refresh_field(ctx, in->refresh_token) != 0) return -1;
  refresh_st st;
  pw_sha256_hex(in->refresh_token, st.hash);
  st.out = srv_new(ctx, &hoso__identity__v1__refresh_response__descriptor);
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", refresh_tx, &st) != 0 || srv_failed(ctx)) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ---------------------------------------------------------------- Logout --------------- */

static int logout_tx(srv_ctx *ctx, void *p) {
  const char *hash = p, *family, *account_id, *username, *unit_path;
  int found = sessions_refresh_owner(ctx, hash, &family, &account_id, &username, &unit_path);
  if (found < 0) return -1;
  /* Logging out twice, or with a token that is gone, is not an error (and records nothing):
   * the session is over. */
  if (!found) return 0;
  audit_entry e;
  if (sessions_revoke_family(ctx, family, "logout") != 0) return -1;
  audit_login(ctx, "LOGOUT", account_id, username, unit_path, "ok", &e);
  return audit_write(ctx->db, &e) != 0 ? -1 : 0;
}

int rpc_logout(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__LogoutRequest *in = (const void *)req;
  if (check_refresh_field(ctx, in->refresh_token) != 0) return -1;
  char hash[65];
  pw_sha256_hex(in->refresh_token, hash);
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", logout_tx, hash) != 0 || srv_failed(ctx)) return -1;
  *resp = srv_new(ctx, &hoso__identity__v1__logout_response__descriptor);
  return 0;
}

/* ---------------------------------------------------------------- ChangePassword ------- */

typedef struct {
  const char *id, *username;
  long locked;
  int found, status, verified, busy;
  thr_try thr;
  char phc[PW_PHC_MAX], new_phc[PW_PHC_MAX];
  Hoso__Identity__V1__ChangePasswordResponse *out;
} chpw_st;

static int chpw_lookup_tx(srv_ctx *ctx, void *p) {
  chpw_st *st = p;
  /* Counted like a login and in the same counters: a stolen token must not become a way
   * around the login's limits. */
  st->locked = throttle_begin(ctx, THR_PERSON, st->username, ctx->client_addr, &st->thr);
  if (st->locked < 0) return -1;
  if (st->locked > 0) {
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many failed attempts; try again in %ld s", st->locked);
    return DB_TX_ROLLBACK;
  }
  session_login l;
  st->found = sessions_by_id(ctx, st->id, &l);
  if (st->found < 0) return -1;
  if (st->found) {
    snprintf(st->phc, sizeof st->phc, "%s", l.phc);
    st->status = l.status;
  }
  return 0;
}

static int chpw_finish_tx(srv_ctx *ctx, void *p) {
  chpw_st *st = p;
  audit_entry e;
  memset(&e, 0, sizeof e);
  srv_audit_base(ctx, &e);
  e.target_type = "account";
  e.target_id = st->id;
  e.unit_path = ctx->auth->unit_path;
  if (st->busy) {
    if (throttle_end(ctx, &st->thr, THR_NOT_TRIED) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, BUSY);
    return 0; /* commit: the try is taken back */
  }
  if (throttle_end(ctx, &st->thr, st->verified ? THR_OK : THR_FAILED) != 0) return -1;
  if (!st->verified) {
    /* A stolen first-login or access token must not become a password-guessing oracle. */
    e.action = "PASSWORD_CHANGE_FAILED";
    e.outcome = "bad_password";
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "old_password: does not match the current password");
    return 0;
  }
  if (sessions_set_password(ctx, st->id, st->new_phc) != 0) return -1;
  if (sessions_revoke_account(ctx, st->id, "password changed") < 0) return -1;
  session_login l;
  if (sessions_by_id(ctx, st->id, &l) < 0) return -1;
  if (session_access_token(ctx, &l.subj, 0, &st->out->access_token) != 0) return -1;
  if (session_new_refresh(ctx, st->id, NULL, NULL, &st->out->refresh_token) != 0) return -1;
  st->out->expires_in = TOK_ACCESS_TTL;
  e.action = "PASSWORD_CHANGE";
  e.outcome = "ok";
  return audit_write(ctx->db, &e) != 0 ? -1 : 0;
}

int rpc_change_password(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ChangePasswordRequest *in = (const void *)req;
  if (check_password_field(ctx, "old_password", in->old_password) != 0) return -1;
  const char *why = pw_policy_check(in->new_password, ctx->auth->username);
  if (why) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "new_password: %s", why);
  if (strcmp(in->old_password, in->new_password) == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "new_password: must differ from the old password");
  if (ctx->auth->roles & ROLE_SERVICE)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "service accounts have no password to change");

  chpw_st st;
  memset(&st, 0, sizeof st);
  st.id = ctx->auth->sub;
  st.username = ctx->auth->username;
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", chpw_lookup_tx, &st) != 0 || srv_failed(ctx)) return -1;
  if (!st.found || st.status != 1)
    return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "account is not active; contact your administrator");
  int ok = 0;
  if (!throttle_check_password(&st.thr, st.phc, in->old_password, &ok)) st.busy = 1;
  st.verified = ok;
  if (st.verified && pw_hash(in->new_password, st.new_phc) != 0)
    return srv_fail(ctx, GRPC_STATUS_INTERNAL, "could not hash the new password");
  st.out = srv_new(ctx, &hoso__identity__v1__change_password_response__descriptor);
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", chpw_finish_tx, &st) != 0 || srv_failed(ctx)) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ---------------------------------------------------------------- WhoAmI --------------- */

static int whoami_tx(srv_ctx *ctx, void *p) {
  Hoso__Identity__V1__WhoAmIResponse *o = p;
  return accounts_get(ctx, ctx->auth->sub, 0, &o->account) < 0 ? -1 : 0;
}

int rpc_whoami(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)req;
  Hoso__Identity__V1__WhoAmIResponse *o = srv_new(ctx, &hoso__identity__v1__who_am_iresponse__descriptor);
  const tok_claims *a = ctx->auth;
  o->subject = srv_strdup(ctx, a->sub);
  roles_to_enums(ctx, a->roles, &o->roles, &o->n_roles);
  /* The scope as the token states it: "*" or comma separated unit paths. */
  char *scope = srv_strdup(ctx, a->scope);
  size_t n = 1;
  for (const char *c = scope; *c; c++) n += *c == ',';
  o->scope_unit_paths = srv_alloc(ctx, n * sizeof *o->scope_unit_paths);
  for (char *save = NULL, *t = strtok_r(scope, ",", &save); t; t = strtok_r(NULL, ",", &save))
    o->scope_unit_paths[o->n_scope_unit_paths++] = t;
  if (!(a->roles & ROLE_SERVICE) && srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", whoami_tx, o) != 0) return -1;
  *resp = &o->base;
  return 0;
}
