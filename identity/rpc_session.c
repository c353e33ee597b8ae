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

static int login_lookup_tx(srv_ctx *ctx, void *p) {
  login_st *st = p;
  st->locked = throttle_begin(ctx->db, THR_PERSON, st->username, ctx->client_addr, &st->thr);
  if (st->locked < 0) return -1;
  if (st->locked > 0) {
    audit_entry e;
    audit_login(ctx, "LOGIN_FAILED", NULL, st->username, NULL, "locked", &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED,
             "too many failed attempts; try again in %ld s", st->locked);
    return 0; /* keep the audit row */
  }
  PGresult *r = db_q(ctx->db,
                     "SELECT " SESSION_SUBJECT_COLS ", a.password_phc, a.status, a.must_change_password "
                     "FROM accounts a WHERE a.username = $1",
                     1, st->username);
  if (!r) return -1;
  st->found = PQntuples(r) == 1;
  if (st->found) {
    session_subject_from_row(&st->subj, r, 0, 0);
    snprintf(st->phc, sizeof st->phc, "%s", PQgetvalue(r, 0, SESSION_SUBJECT_NCOLS));
    st->status = atoi(PQgetvalue(r, 0, SESSION_SUBJECT_NCOLS + 1));
    st->must_change = PQgetvalue(r, 0, SESSION_SUBJECT_NCOLS + 2)[0] == 't';
  }
  PQclear(r);
  return 0;
}

static int login_finish_tx(srv_ctx *ctx, void *p) {
  login_st *st = p;
  audit_entry e;
  const char *id = st->found ? st->subj.id : NULL, *path = st->found ? st->subj.unit_path : NULL;
  if (st->busy) {
    /* never checked: the try is not held against anyone */
    if (throttle_end(ctx->db, &st->thr, THR_NOT_TRIED) != 0) return -1;
    audit_login(ctx, "LOGIN_FAILED", id, st->username, path, "busy", &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, BUSY);
    return 0;
  }
  /* The right password ends the count, whatever the account's state; a wrong one stays counted
   * (throttle_begin counted it before the check). */
  if (throttle_end(ctx->db, &st->thr, st->verified ? THR_OK : THR_FAILED) != 0) return -1;
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
  if (db_cmd(ctx->db,
             "UPDATE accounts SET last_login_at = now(), "
             "password_phc = CASE WHEN $2 = '' THEN password_phc ELSE $2 END WHERE id = $1::bigint",
             2, st->subj.id, st->rehash) != 0)
    return -1;
  Hoso__Identity__V1__LoginResponse *o = st->out;
  if (session_access_token(ctx, &st->subj, st->must_change, &o->access_token) != 0) return -1;
  /* A first-login token only lets the person set a password: no long-lived session for it. */
  if (!st->must_change && session_new_refresh(ctx, st->subj.id, NULL, NULL, &o->refresh_token) != 0) return -1;
  PGresult *r = db_q(ctx->db, "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = $1::bigint", 1, st->subj.id);
  if (!r) return -1;
  if (PQntuples(r) == 1) o->account = account_from_row(ctx, r, 0, 0);
  PQclear(r);
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
  PGresult *r = db_q(ctx->db,
                     "SELECT family_id, account_id::text, used_at IS NOT NULL, "
                     "revoked_at IS NOT NULL OR expires_at <= now(), family_expires_at::text "
                     "FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
                     1, st->hash);
  if (!r) return -1;
  if (PQntuples(r) != 1) {
    PQclear(r);
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, BAD_REFRESH);
    return 0;
  }
  char fam[64], acct[32], fexp[64];
  snprintf(fam, sizeof fam, "%s", PQgetvalue(r, 0, 0));
  snprintf(acct, sizeof acct, "%s", PQgetvalue(r, 0, 1));
  snprintf(fexp, sizeof fexp, "%s", PQgetvalue(r, 0, 4));
  int used = PQgetvalue(r, 0, 2)[0] == 't', dead = PQgetvalue(r, 0, 3)[0] == 't';
  PQclear(r);

  r = db_q(ctx->db,
           "SELECT " SESSION_SUBJECT_COLS ", a.status, a.must_change_password FROM accounts a WHERE a.id = $1::bigint",
           1, acct);
  if (!r) return -1;
  session_subject s;
  int active = 0;
  if (PQntuples(r) == 1) {
    session_subject_from_row(&s, r, 0, 0);
    active = atoi(PQgetvalue(r, 0, SESSION_SUBJECT_NCOLS)) == 1 &&
             PQgetvalue(r, 0, SESSION_SUBJECT_NCOLS + 1)[0] != 't';
  } else {
    memset(&s, 0, sizeof s);
  }
  PQclear(r);

  if (used && !dead) {
    /* A used token presented again means it was copied: end the whole family (RFC 6819 5.2.2.3). */
    if (session_revoke_family(ctx->db, fam, "refresh token reuse detected") != 0) return -1;
    audit_login(ctx, "REFRESH_REUSE", acct, s.username, s.unit_path, "family_revoked", &e);
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED,
             "refresh token was already used: every session of this login has been ended; log in again");
    return 0;
  }
  if (used || dead || !active) {
    if (!active && session_revoke_family(ctx->db, fam, "account not active") != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, BAD_REFRESH);
    return 0;
  }
  if (db_cmd(ctx->db, "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", 1, st->hash) != 0) return -1;
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
  const char *hash = p;
  PGresult *r = db_q(ctx->db,
                     "SELECT rt.family_id, rt.account_id::text, a.username, a.unit_path::text "
                     "FROM refresh_tokens rt JOIN accounts a ON a.id = rt.account_id "
                     "WHERE rt.token_hash = $1 AND rt.revoked_at IS NULL",
                     1, hash);
  if (!r) return -1;
  int rc = 0;
  /* Logging out twice, or with a token that is gone, is not an error (and records nothing):
   * the session is over. */
  if (PQntuples(r) == 1) {
    audit_entry e;
    if (session_revoke_family(ctx->db, PQgetvalue(r, 0, 0), "logout") != 0) rc = -1;
    audit_login(ctx, "LOGOUT", PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), "ok", &e);
    if (rc == 0 && audit_write(ctx->db, &e) != 0) rc = -1;
  }
  PQclear(r);
  return rc;
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
  st->locked = throttle_begin(ctx->db, THR_PERSON, st->username, ctx->client_addr, &st->thr);
  if (st->locked < 0) return -1;
  if (st->locked > 0) {
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many failed attempts; try again in %ld s", st->locked);
    return DB_TX_ROLLBACK;
  }
  PGresult *r = db_q(ctx->db, "SELECT password_phc, status FROM accounts WHERE id = $1::bigint", 1, st->id);
  if (!r) return -1;
  st->found = PQntuples(r) == 1;
  if (st->found) {
    snprintf(st->phc, sizeof st->phc, "%s", PQgetvalue(r, 0, 0));
    st->status = atoi(PQgetvalue(r, 0, 1));
  }
  PQclear(r);
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
    if (throttle_end(ctx->db, &st->thr, THR_NOT_TRIED) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, BUSY);
    return 0; /* commit: the try is taken back */
  }
  if (throttle_end(ctx->db, &st->thr, st->verified ? THR_OK : THR_FAILED) != 0) return -1;
  if (!st->verified) {
    /* A stolen first-login or access token must not become a password-guessing oracle. */
    e.action = "PASSWORD_CHANGE_FAILED";
    e.outcome = "bad_password";
    if (audit_write(ctx->db, &e) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "old_password: does not match the current password");
    return 0;
  }
  if (db_cmd(ctx->db,
             "UPDATE accounts SET password_phc = $2, must_change_password = false, "
             "password_changed_at = now(), updated_at = now(), version = version + 1 WHERE id = $1::bigint",
             2, st->id, st->new_phc) != 0)
    return -1;
  if (session_revoke_account(ctx->db, st->id, "password changed") < 0) return -1;
  PGresult *r = db_q(ctx->db, "SELECT " SESSION_SUBJECT_COLS " FROM accounts a WHERE a.id = $1::bigint", 1, st->id);
  if (!r) return -1;
  session_subject s;
  session_subject_from_row(&s, r, 0, 0);
  PQclear(r);
  if (session_access_token(ctx, &s, 0, &st->out->access_token) != 0) return -1;
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
  PGresult *r = db_q(ctx->db, "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = $1::bigint", 1, ctx->auth->sub);
  if (!r) return -1;
  if (PQntuples(r) == 1) o->account = account_from_row(ctx, r, 0, 0);
  PQclear(r);
  return 0;
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
