/* Accounts and service clients over real gRPC against a real PostgreSQL: the whole account
 * lifecycle with its audit trail, bad input, idempotent retries, paging, and service logins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "th.h"

#define IDN "/hoso.identity.v1.Identity/"
#define BAD_LOGIN_CLIENT "invalid client credentials"

typedef Hoso__Common__V1__Role role_t;
#define R_SYSTEM_ADMIN HOSO__COMMON__V1__ROLE__SYSTEM_ADMIN
#define R_UNIT_ADMIN HOSO__COMMON__V1__ROLE__UNIT_ADMIN
#define R_UPDATER HOSO__COMMON__V1__ROLE__UPDATER
#define R_READER HOSO__COMMON__V1__ROLE__READER
#define R_SELF HOSO__COMMON__V1__ROLE__SELF
#define R_SERVICE HOSO__COMMON__V1__ROLE__SERVICE

static th_pg pg;
static th_svc svc;
static cli_chan *ch;
static char *admin_tok;     /* the bootstrap SYSTEM_ADMIN's access token */
static char admin_id[32];   /* its account id */
static char root_id[32];    /* the root unit (the admin's) */
static char d1_id[32], d1_path[64], d2_id[32], d2_path[64]; /* two districts under the root */

/* ------------------------------------------------------------- helpers ------------------ */

/* One call, with an optional bearer token. The service trusts 127.0.0.1 as a proxy, so each
 * call names a client address: login failures here never lock out the test's other logins. */
static grpc_status_code call_from(const char *addr, const char *method, const void *req,
                                  const ProtobufCMessageDescriptor *d, void **resp, const char *token,
                                  cli_status *st) {
  cli_md md[2];
  size_t n = 0;
  static __thread char bearer[8192];
  if (token) {
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    md[n++] = (cli_md){"authorization", bearer};
  }
  md[n++] = (cli_md){"x-forwarded-for", addr};
  ProtobufCMessage *out = NULL;
  cli_status local;
  grpc_status_code c = cli_call(ch, method, req, d, &out, md, n, 20000, st ? st : &local);
  if (resp) *resp = out;
  else if (out) protobuf_c_message_free_unpacked(out, NULL);
  return c;
}

static grpc_status_code call(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                             void **resp, const char *token, cli_status *st) {
  return call_from("203.0.113.7", method, req, d, resp, token, st);
}

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* The status must be `want` and the message must contain `part` (the field or the rule). */
static void check_status(grpc_status_code got, grpc_status_code want, const cli_status *st, const char *part,
                         int line) {
  if (got != want || (part && !strstr(st->message, part)))
    fail_msg("line %d: expected %s containing \"%s\", got %s: %s", line, cli_status_name(want), part ? part : "",
             cli_status_name(got), st->message);
}
#define assert_status(got, want, st, part) check_status((got), (want), &(st), (part), __LINE__)

static Hoso__Identity__V1__LoginResponse *login_from(const char *addr, const char *user, const char *pw,
                                                     grpc_status_code *code, cli_status *st) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)user;
  req.password = (char *)pw;
  void *out = NULL;
  *code = call_from(addr, IDN "Login", &req, &hoso__identity__v1__login_response__descriptor, &out, NULL, st);
  return out;
}

/* First login of a new account, then the forced password change: the full token (malloc'd),
 * and the new session's refresh token in *refresh when asked. */
static char *activate(const char *user, const char *initial, const char *final_pw, char **refresh) {
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_from("198.51.100.20", user, initial, &c, &st);
  if (c != GRPC_STATUS_OK) fail_msg("first login of %s: %s %s", user, cli_status_name(c), st.message);
  assert_true(r->must_change_password);
  Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  cp.old_password = (char *)initial;
  cp.new_password = (char *)final_pw;
  Hoso__Identity__V1__ChangePasswordResponse *cr = NULL;
  c = call(IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor, (void **)&cr,
           r->access_token, &st);
  if (c != GRPC_STATUS_OK) fail_msg("ChangePassword of %s: %s %s", user, cli_status_name(c), st.message);
  char *tok = strdup(cr->access_token);
  if (refresh) *refresh = strdup(cr->refresh_token);
  free_msg(cr);
  free_msg(r);
  return tok;
}

/* A full access token for an account whose password is pw (no change pending); the
 * session's refresh token in *refresh when asked. */
static char *login_token(const char *user, const char *pw, char **refresh) {
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_from("198.51.100.21", user, pw, &c, &st);
  if (c != GRPC_STATUS_OK) fail_msg("login of %s: %s %s", user, cli_status_name(c), st.message);
  assert_false(r->must_change_password);
  char *t = strdup(r->access_token);
  if (refresh) *refresh = strdup(r->refresh_token);
  free_msg(r);
  return t;
}

typedef struct {
  const char *username, *full_name, *unit_id, *password, *person_record_id, *request_id;
  const role_t *roles;
  size_t n_roles;
} new_account;

static grpc_status_code create_account(const char *tok, const new_account *a,
                                       Hoso__Identity__V1__Account **out, cli_status *st) {
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  req.username = (char *)a->username;
  req.full_name = (char *)(a->full_name ? a->full_name : "Nguyễn Thị Thử");
  req.unit_id = (char *)a->unit_id;
  req.roles = (role_t *)a->roles;
  req.n_roles = a->n_roles;
  req.initial_password = (char *)(a->password ? a->password : "Mat-khau-ban-dau-1");
  req.person_record_id = (char *)(a->person_record_id ? a->person_record_id : "");
  req.request_id = (char *)(a->request_id ? a->request_id : "");
  Hoso__Identity__V1__CreateAccountResponse *r = NULL;
  grpc_status_code c =
      call(IDN "CreateAccount", &req, &hoso__identity__v1__create_account_response__descriptor, (void **)&r, tok, st);
  if (out) {
    *out = NULL;
    if (r) {
      *out = r->account;
      r->account = NULL;
    }
  }
  free_msg(r);
  return c;
}

/* Creates an account that must succeed; returns its id (malloc'd). */
static char *must_create(const char *tok, const char *user, const char *unit, role_t role) {
  role_t roles[1] = {role};
  new_account a = {.username = user, .unit_id = unit, .roles = roles, .n_roles = 1};
  Hoso__Identity__V1__Account *acc = NULL;
  cli_status st;
  grpc_status_code c = create_account(tok, &a, &acc, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateAccount %s: %s %s", user, cli_status_name(c), st.message);
  char *id = strdup(acc->id);
  free_msg(acc);
  return id;
}

static Hoso__Identity__V1__WhoAmIResponse *whoami(const char *tok) {
  Hoso__Identity__V1__WhoAmIRequest req = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *r = NULL;
  cli_status st;
  grpc_status_code c = call(IDN "WhoAmI", &req, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&r, tok, &st);
  if (c != GRPC_STATUS_OK) fail_msg("WhoAmI: %s %s", cli_status_name(c), st.message);
  return r;
}

static grpc_status_code get_account(const char *tok, const char *id, Hoso__Identity__V1__Account **out,
                                    cli_status *st) {
  Hoso__Identity__V1__GetAccountRequest req = HOSO__IDENTITY__V1__GET_ACCOUNT_REQUEST__INIT;
  req.account_id = (char *)id;
  Hoso__Identity__V1__GetAccountResponse *r = NULL;
  grpc_status_code c = call(IDN "GetAccount", &req, &hoso__identity__v1__get_account_response__descriptor, (void **)&r, tok, st);
  if (out) {
    *out = r ? r->account : NULL;
    if (r) r->account = NULL;
  }
  free_msg(r);
  return c;
}

/* Disable / Enable / Revoke share a request shape: account_id, reason. */
static grpc_status_code set_status(const char *tok, const char *rpc, const char *id, const char *reason,
                                   Hoso__Identity__V1__Account **out, cli_status *st) {
  Hoso__Identity__V1__DisableAccountRequest req = HOSO__IDENTITY__V1__DISABLE_ACCOUNT_REQUEST__INIT;
  req.account_id = (char *)id;
  req.reason = (char *)reason;
  char method[128];
  snprintf(method, sizeof method, IDN "%s", rpc);
  /* The three requests and responses are wire-identical (1: account_id, 2: reason → 1: account). */
  Hoso__Identity__V1__DisableAccountResponse *r = NULL;
  grpc_status_code c = call(method, &req, &hoso__identity__v1__disable_account_response__descriptor, (void **)&r, tok, st);
  if (out) {
    *out = r ? r->account : NULL;
    if (r) r->account = NULL;
  }
  free_msg(r);
  return c;
}

static grpc_status_code update_roles(const char *tok, const char *id, const role_t *roles, size_t n,
                                     long long expected_version, Hoso__Identity__V1__Account **out,
                                     cli_status *st) {
  Hoso__Identity__V1__UpdateAccountRolesRequest req = HOSO__IDENTITY__V1__UPDATE_ACCOUNT_ROLES_REQUEST__INIT;
  req.account_id = (char *)id;
  req.roles = (role_t *)roles;
  req.n_roles = n;
  req.reason = "chuyển sang vị trí chỉ xem";
  req.expected_version = expected_version;
  Hoso__Identity__V1__UpdateAccountRolesResponse *r = NULL;
  grpc_status_code c = call(IDN "UpdateAccountRoles", &req, &hoso__identity__v1__update_account_roles_response__descriptor,
                            (void **)&r, tok, st);
  if (out) {
    *out = r ? r->account : NULL;
    if (r) r->account = NULL;
  }
  free_msg(r);
  return c;
}

static grpc_status_code reset_password(const char *tok, const char *id, const char *pw, cli_status *st) {
  Hoso__Identity__V1__ResetPasswordRequest req = HOSO__IDENTITY__V1__RESET_PASSWORD_REQUEST__INIT;
  req.account_id = (char *)id;
  req.new_password = (char *)pw;
  return call(IDN "ResetPassword", &req, &hoso__identity__v1__reset_password_response__descriptor, NULL, tok, st);
}

static grpc_status_code refresh(const char *rt, cli_status *st) {
  Hoso__Identity__V1__RefreshRequest req = HOSO__IDENTITY__V1__REFRESH_REQUEST__INIT;
  req.refresh_token = (char *)rt;
  return call(IDN "Refresh", &req, &hoso__identity__v1__refresh_response__descriptor, NULL, NULL, st);
}

/* A unit made by the admin below parent: id and path. */
static void make_unit(const char *code, const char *name, const char *parent, Hoso__Identity__V1__UnitType type,
                      char *id, char *path) {
  Hoso__Identity__V1__CreateUnitRequest req = HOSO__IDENTITY__V1__CREATE_UNIT_REQUEST__INIT;
  req.parent_id = (char *)parent;
  req.code = (char *)code;
  req.name = (char *)name;
  req.type = type;
  Hoso__Identity__V1__CreateUnitResponse *r = NULL;
  cli_status st;
  grpc_status_code c =
      call(IDN "CreateUnit", &req, &hoso__identity__v1__create_unit_response__descriptor, (void **)&r, admin_tok, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateUnit %s: %s %s", code, cli_status_name(c), st.message);
  snprintf(id, 32, "%s", r->unit->id);
  snprintf(path, 64, "%s", r->unit->path);
  free_msg(r);
}

/* --- the database, read as the superuser (inspection only) --- */

static PGconn *admin_db(void) {
  PGconn *c = PQconnectdb(pg.admin_dsn);
  if (PQstatus(c) != CONNECTION_OK) fail_msg("admin connection: %s", PQerrorMessage(c));
  return c;
}

/* One value of a query with up to two parameters, malloc'd ("" when no row). */
static char *sql_value(const char *sql, const char *p1, const char *p2) {
  PGconn *c = admin_db();
  const char *params[2] = {p1, p2};
  int n = p2 ? 2 : p1 ? 1 : 0;
  PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
  char *v = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(c);
  return v;
}

static long sql_long(const char *sql, const char *p1, const char *p2) {
  char *v = sql_value(sql, p1, p2);
  long n = strtol(v, NULL, 10);
  free(v);
  return n;
}

/* Live refresh tokens of an account, and those ended for `reason`. */
static long live_sessions(const char *account_id) {
  return sql_long("SELECT count(*) FROM identity.refresh_tokens WHERE account_id = $1::bigint AND revoked_at IS NULL",
                  account_id, NULL);
}
static long sessions_ended_for(const char *account_id, const char *reason) {
  return sql_long("SELECT count(*) FROM identity.refresh_tokens WHERE account_id = $1::bigint AND revoke_reason = $2",
                  account_id, reason);
}

static long audit_count(const char *action, const char *target_id) {
  return sql_long("SELECT count(*) FROM identity.audit_log WHERE action = $1 AND target_id = $2", action,
                  target_id);
}

/* No audit row anywhere may carry this text (a password or a secret). */
static void assert_not_in_audit(const char *secret) {
  long n = sql_long("SELECT count(*) FROM identity.audit_log WHERE strpos(detail || actor_name || target_id, $1) > 0",
                    secret, NULL);
  assert_int_equal(n, 0);
}

/* ------------------------------------------------------------- set-up ------------------- */

static int setup(void **state) {
  (void)state;
  if (th_pg_start(&pg) != 0) return -1;
  const char *env[] = {"HOSO_ADMIN_PASSWORD=" TH_ADMIN_PASSWORD, "HOSO_TRUSTED_PROXIES=127.0.0.1",
                       "HOSO_WORKERS=2", NULL};
  if (th_svc_start(&svc, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, env) != 0) return -1;
  ch = cli_open_tls(svc.addr, NULL, NULL, NULL);
  if (!ch) return -1;
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_from("198.51.100.1", "admin", TH_ADMIN_PASSWORD, &c, &st);
  if (c != GRPC_STATUS_OK || !r->account) {
    fprintf(stderr, "admin login: %s %s\n", cli_status_name(c), st.message);
    return -1;
  }
  admin_tok = strdup(r->access_token);
  snprintf(root_id, sizeof root_id, "%s", r->account->unit_id);
  snprintf(admin_id, sizeof admin_id, "%s", r->account->id);
  free_msg(r);
  make_unit("H-TA-01", "Huyện Thử Một", root_id, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, d1_id, d1_path);
  make_unit("H-TA-02", "Huyện Thử Hai", root_id, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, d2_id, d2_path);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin_tok);
  if (ch) cli_close(ch);
  int rc = th_svc_stop(&svc);
  /* every refusal must be a chosen status, never an internal fault */
  int errors = th_log_errors(svc.log);
  th_pg_destroy(&pg);
  return rc == 0 && errors == 0 ? 0 : -1;
}

/* ------------------------------------------------------------- tests -------------------- */

/* The life of one account, each step with the rule that makes its answer right. */
static void test_lifecycle(void **state) {
  (void)state;
  cli_status st;
  grpc_status_code c;
  const char *user = "tran.van.binh";
  const char *initial = "Ban-dau-Binh-2026", *mine = "Cua-toi-Binh-2026", *temp = "Cap-lai-Binh-2026";

  /* Create: active, must change its password at first login, in district 1. */
  role_t updater[1] = {R_UPDATER};
  new_account na = {.username = "Tran.Van.Binh", .full_name = "  Trần   Văn Bình ", .unit_id = d1_id,
                    .password = initial, .roles = updater, .n_roles = 1};
  Hoso__Identity__V1__Account *a = NULL;
  assert_status(create_account(admin_tok, &na, &a, &st), GRPC_STATUS_OK, st, NULL);
  char *id = strdup(a->id);
  /* Usernames are stored lowercased; names trimmed with inner spaces folded (NFC text). */
  assert_string_equal(a->username, user);
  assert_string_equal(a->full_name, "Trần Văn Bình");
  assert_int_equal(a->status, HOSO__IDENTITY__V1__ACCOUNT_STATUS__ACCOUNT_STATUS_ACTIVE);
  assert_true(a->must_change_password);
  assert_string_equal(a->unit_id, d1_id);
  assert_string_equal(a->unit_path, d1_path);
  assert_int_equal(a->n_roles, 1);
  assert_int_equal(a->roles[0], R_UPDATER);
  long long v = a->version;
  free_msg(a);
  assert_int_equal(audit_count("ACCOUNT_CREATE", id), 1);
  /* created_by is the administrator who made it (the token's subject). */
  char *created_by = sql_value("SELECT created_by FROM identity.accounts WHERE id = $1::bigint", id, NULL);
  assert_string_equal(created_by, admin_id);
  free(created_by);

  /* First login: the token only allows ChangePassword, so even reading one's own account is
   * refused until the password is changed. */
  Hoso__Identity__V1__LoginResponse *lr = login_from("198.51.100.30", user, initial, &c, &st);
  assert_status(c, GRPC_STATUS_OK, st, NULL);
  assert_true(lr->must_change_password);
  assert_status(get_account(lr->access_token, id, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st, "ChangePassword");
  free_msg(lr);

  /* ChangePassword: a full token; anyone may read their own account (no manage right). */
  char *rt = NULL;
  char *tok = activate(user, initial, mine, &rt);
  assert_status(get_account(tok, id, &a, &st), GRPC_STATUS_OK, st, NULL);
  assert_false(a->must_change_password);
  free_msg(a);
  /* …but an UPDATER may not read the admin's account: reading others is managing them. */
  assert_status(get_account(tok, admin_id, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  free(tok);

  /* Disable: needs a reason; the account's sessions end (its refresh token is dead). */
  assert_status(set_status(admin_tok, "DisableAccount", id, "", NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st,
                "reason:");
  assert_status(set_status(admin_tok, "DisableAccount", id, "Nghỉ không lương 6 tháng", &a, &st), GRPC_STATUS_OK,
                st, NULL);
  assert_int_equal(a->status, HOSO__IDENTITY__V1__ACCOUNT_STATUS__ACCOUNT_STATUS_DISABLED);
  assert_string_equal(a->status_reason, "Nghỉ không lương 6 tháng");
  assert_true(a->version > v);
  v = a->version;
  free_msg(a);
  assert_status(refresh(rt, &st), GRPC_STATUS_UNAUTHENTICATED, st, NULL);
  free(rt);
  assert_int_equal(live_sessions(id), 0);
  assert_true(sessions_ended_for(id, "account disabled") >= 1);

  /* A disabled account and a wrong password: the same answer as for a name that does not
   * exist, so guessing learns nothing. With the right password the person is told the account
   * is disabled: they have proved who they are, and the words send them to their administrator
   * instead of retrying into a lockout. */
  cli_status s_unknown;
  assert_null(login_from("198.51.100.31", "khong.co.ai", "Sai-mat-khau-9", &c, &s_unknown));
  assert_int_equal(c, GRPC_STATUS_UNAUTHENTICATED);
  assert_null(login_from("198.51.100.31", user, "Sai-mat-khau-9", &c, &st));
  assert_int_equal(c, GRPC_STATUS_UNAUTHENTICATED);
  assert_string_equal(st.message, s_unknown.message);
  assert_null(login_from("198.51.100.31", user, mine, &c, &st));
  assert_status(c, GRPC_STATUS_UNAUTHENTICATED, st, "disabled");

  /* Enable: only from disabled; then the same password works again. */
  assert_status(set_status(admin_tok, "EnableAccount", id, "Đi làm lại", &a, &st), GRPC_STATUS_OK, st, NULL);
  assert_int_equal(a->status, HOSO__IDENTITY__V1__ACCOUNT_STATUS__ACCOUNT_STATUS_ACTIVE);
  v = a->version;
  free_msg(a);
  tok = login_token(user, mine, &rt);
  free(tok);

  /* Narrow the roles UPDATER → READER. A stale expected_version is refused (someone else
   * changed the account since it was read); the right one passes. */
  role_t reader[1] = {R_READER};
  assert_status(update_roles(admin_tok, id, reader, 1, v - 1, NULL, &st), GRPC_STATUS_ABORTED, st, "reload");
  assert_status(update_roles(admin_tok, id, reader, 1, v, &a, &st), GRPC_STATUS_OK, st, NULL);
  assert_int_equal(a->n_roles, 1);
  assert_int_equal(a->roles[0], R_READER);
  free_msg(a);
  /* The session opened with the old roles is over: the account is active, so only the role
   * change can have ended it. */
  assert_status(refresh(rt, &st), GRPC_STATUS_UNAUTHENTICATED, st, NULL);
  free(rt);
  assert_true(sessions_ended_for(id, "roles changed") >= 1);
  /* The next login's token carries the new set, and only it. */
  tok = login_token(user, mine, &rt);
  Hoso__Identity__V1__WhoAmIResponse *w = whoami(tok);
  assert_int_equal(w->n_roles, 1);
  assert_int_equal(w->roles[0], R_READER);
  assert_int_equal(w->n_scope_unit_paths, 1);
  assert_string_equal(w->scope_unit_paths[0], d1_path);
  free_msg(w);
  free(tok);
  char *detail = sql_value("SELECT detail FROM identity.audit_log WHERE action = 'ACCOUNT_ROLES' AND target_id = $1",
                           id, NULL);
  assert_non_null(strstr(detail, "\"old_roles\":[\"UPDATER\"]"));
  assert_non_null(strstr(detail, "\"new_roles\":[\"READER\"]"));
  free(detail);

  /* ResetPassword: the temporary password must be changed at the next login, and the old
   * one no longer works. The policy applies to it too. */
  assert_status(reset_password(admin_tok, id, "ngan", &st), GRPC_STATUS_INVALID_ARGUMENT, st,
                "new_password: must be at least 10 characters");
  assert_status(reset_password(admin_tok, id, "xx-tran.van.binh-xx", &st), GRPC_STATUS_INVALID_ARGUMENT, st,
                "username");
  assert_status(reset_password(admin_tok, id, temp, &st), GRPC_STATUS_OK, st, NULL);
  /* Whoever holds a session made with the old password loses it. */
  assert_int_equal(live_sessions(id), 0);
  assert_true(sessions_ended_for(id, "password reset by an administrator") >= 1);
  free(rt);
  assert_null(login_from("198.51.100.32", user, mine, &c, &st));
  assert_int_equal(c, GRPC_STATUS_UNAUTHENTICATED);
  lr = login_from("198.51.100.32", user, temp, &c, &st);
  assert_status(c, GRPC_STATUS_OK, st, NULL);
  assert_true(lr->must_change_password);
  free_msg(lr);

  /* Revoke: permanent. Enabling is refused, and even the right password does not log in. */
  assert_status(set_status(admin_tok, "RevokeAccount", id, "", NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st,
                "reason:");
  assert_status(set_status(admin_tok, "RevokeAccount", id, "Chuyển công tác sang tỉnh khác", &a, &st),
                GRPC_STATUS_OK, st, NULL);
  assert_int_equal(a->status, HOSO__IDENTITY__V1__ACCOUNT_STATUS__ACCOUNT_STATUS_REVOKED);
  free_msg(a);
  assert_status(set_status(admin_tok, "EnableAccount", id, "", NULL, &st), GRPC_STATUS_FAILED_PRECONDITION, st,
                "revocation is permanent");
  assert_status(set_status(admin_tok, "DisableAccount", id, "thử", NULL, &st), GRPC_STATUS_FAILED_PRECONDITION, st,
                "revocation is permanent");
  assert_status(update_roles(admin_tok, id, reader, 1, 0, NULL, &st), GRPC_STATUS_FAILED_PRECONDITION, st,
                "revoked");
  assert_null(login_from("198.51.100.33", user, temp, &c, &st));
  assert_int_equal(c, GRPC_STATUS_UNAUTHENTICATED);

  /* One audit row per change, written with the change; no password in any of them. */
  assert_int_equal(audit_count("ACCOUNT_CREATE", id), 1);
  assert_int_equal(audit_count("ACCOUNT_DISABLE", id), 1);
  assert_int_equal(audit_count("ACCOUNT_ENABLE", id), 1);
  assert_int_equal(audit_count("ACCOUNT_ROLES", id), 1);
  assert_int_equal(audit_count("PASSWORD_RESET", id), 1);
  assert_int_equal(audit_count("ACCOUNT_REVOKE", id), 1);
  /* The refused calls (stale version, changes to a revoked account) rolled back: no rows
   * beyond the five accepted account changes. */
  assert_int_equal(sql_long("SELECT count(*) FROM identity.audit_log WHERE target_id = $1 AND action LIKE 'ACCOUNT_%'",
                            id, NULL),
                   5);
  char *path = sql_value("SELECT unit_path FROM identity.audit_log WHERE action = 'ACCOUNT_REVOKE' AND target_id = $1",
                         id, NULL);
  assert_string_equal(path, d1_path);
  free(path);
  assert_not_in_audit(initial);
  assert_not_in_audit(mine);
  assert_not_in_audit(temp);
  free(id);
}

/* Bad input gets the status and the field's name; nothing is stored; the service stays up. */
static void test_bad_input(void **state) {
  (void)state;
  cli_status st;
  role_t reader[1] = {R_READER};
  long before = sql_long("SELECT count(*) FROM identity.accounts", NULL, NULL);
  new_account a = {.username = "", .unit_id = d1_id, .roles = reader, .n_roles = 1};
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "username:");
  a.username = "co dau cach";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "username:");

  /* 10 MB in one field: the transport refuses it (4 MiB limit) before any handler runs. */
  size_t big = 10u << 20;
  char *huge = malloc(big + 1);
  memset(huge, 'a', big);
  huge[big] = 0;
  a.username = "ten.qua.dai";
  a.full_name = huge;
  assert_int_equal(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_RESOURCE_EXHAUSTED);
  free(huge);
  assert_true(cli_health(ch, 5000));
  /* Long but under the transport limit: the field's own rule answers. */
  char longname[400];
  memset(longname, 'b', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  a.full_name = longname;
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "full_name:");

  /* Bytes that are not UTF-8: protobuf-c passes them through, so the service must check. */
  a.full_name = "Nguy\xe1\xbb\x85n \xff\xfe";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "full_name: must be valid UTF-8");
  a.full_name = "   ";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "full_name:");
  a.full_name = NULL;

  a.unit_id = "987654";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_NOT_FOUND, st, "unit_id:");
  a.unit_id = "mot";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "unit_id:");
  a.unit_id = d1_id;

  role_t none[1] = {(role_t)42};
  a.roles = none;
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "roles: unknown role value 42");
  a.n_roles = 0;
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "roles:");
  role_t svc_role[1] = {R_SERVICE};
  a.roles = svc_role;
  a.n_roles = 1;
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "CreateServiceClient");
  role_t self[1] = {R_SELF};
  a.roles = self;
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "person_record_id:");
  a.roles = reader;

  Hoso__Identity__V1__CreateAccountRequest er = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  er.username = "co.email.sai";
  er.full_name = "Đặng Thư Điện";
  er.unit_id = d1_id;
  er.roles = reader;
  er.n_roles = 1;
  er.initial_password = "Mat-khau-ban-dau-1";
  er.email = "khong-phai-email";
  assert_status(call(IDN "CreateAccount", &er, &hoso__identity__v1__create_account_response__descriptor, NULL,
                     admin_tok, &st),
                GRPC_STATUS_INVALID_ARGUMENT, st, "email:");

  a.password = "ngan-qua";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st,
                "initial_password: must be at least 10 characters");
  a.password = NULL;

  /* Duplicate username, whatever its case: the first succeeds, the second names the field. */
  a.username = "trung.ten";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_OK, st, NULL);
  a.username = "TRUNG.TEN";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_ALREADY_EXISTS, st, "username");
  assert_int_equal(sql_long("SELECT count(*) FROM identity.accounts", NULL, NULL), before + 1);

  /* Unknown and malformed ids elsewhere. */
  assert_status(get_account(admin_tok, "987654", NULL, &st), GRPC_STATUS_NOT_FOUND, st, "account_id:");
  assert_status(get_account(admin_tok, "-1", NULL, &st), GRPC_STATUS_INVALID_ARGUMENT, st, "account_id:");
  assert_status(set_status(admin_tok, "DisableAccount", "987654", "lý do", NULL, &st), GRPC_STATUS_NOT_FOUND, st,
                "account_id:");
  assert_status(reset_password(admin_tok, "987654", "Mot-mat-khau-dai", &st), GRPC_STATUS_NOT_FOUND, st,
                "account_id:");
  Hoso__Identity__V1__ListAccountsRequest lq = HOSO__IDENTITY__V1__LIST_ACCOUNTS_REQUEST__INIT;
  lq.page_token = "@@not-a-token@@";
  assert_status(call(IDN "ListAccounts", &lq, &hoso__identity__v1__list_accounts_response__descriptor, NULL, admin_tok, &st),
                GRPC_STATUS_INVALID_ARGUMENT, st, "page_token:");
  lq.page_token = "";
  lq.page_size = 501;
  assert_status(call(IDN "ListAccounts", &lq, &hoso__identity__v1__list_accounts_response__descriptor, NULL, admin_tok, &st),
                GRPC_STATUS_INVALID_ARGUMENT, st, "page_size:");
  /* Still serving. */
  assert_true(th_svc_alive(&svc));
  Hoso__Identity__V1__WhoAmIResponse *w = whoami(admin_tok);
  free_msg(w);
}

/* A retried CreateAccount (same request_id) returns the first call's account and creates
 * nothing, even when the retry's body differs: the id names the intent, not the content. */
static void test_request_id_is_idempotent(void **state) {
  (void)state;
  cli_status st;
  role_t reader[1] = {R_READER};
  new_account a = {.username = "lap.lai", .unit_id = d2_id, .roles = reader, .n_roles = 1,
                   .request_id = "tao-tk-lap-lai-0001"};
  long before = sql_long("SELECT count(*) FROM identity.accounts", NULL, NULL);
  Hoso__Identity__V1__Account *first = NULL, *again = NULL;
  assert_status(create_account(admin_tok, &a, &first, &st), GRPC_STATUS_OK, st, NULL);
  assert_status(create_account(admin_tok, &a, &again, &st), GRPC_STATUS_OK, st, NULL);
  assert_string_equal(first->id, again->id);
  free_msg(again);
  a.username = "lap.lai.khac";
  assert_status(create_account(admin_tok, &a, &again, &st), GRPC_STATUS_OK, st, NULL);
  assert_string_equal(first->id, again->id);
  assert_string_equal(again->username, "lap.lai");
  assert_int_equal(sql_long("SELECT count(*) FROM identity.accounts", NULL, NULL), before + 1);
  assert_int_equal(audit_count("ACCOUNT_CREATE", first->id), 1);
  /* A new request_id is a new intent: the username rule applies again. */
  a.username = "lap.lai";
  a.request_id = "tao-tk-lap-lai-0002";
  assert_status(create_account(admin_tok, &a, NULL, &st), GRPC_STATUS_ALREADY_EXISTS, st, "username");
  free_msg(again);
  free_msg(first);
}

/* ListAccounts pages by username with opaque tokens: every account once, in order; subtree
 * by default, one unit with direct_only, and a status filter. */
static void test_list_accounts(void **state) {
  (void)state;
  cli_status st;
  char pid[32], ppath[64], cid[32], cpath[64];
  make_unit("H-TA-PG", "Huyện Phân Trang", root_id, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, pid, ppath);
  make_unit("X-TA-PG", "Xã Phân Trang", pid, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_COMMUNE, cid, cpath);
  const char *names[] = {"pt.e", "pt.a", "pt.d", "pt.b", "pt.c"};
  char *ids[5];
  for (int i = 0; i < 5; i++) ids[i] = must_create(admin_tok, names[i], pid, R_READER);
  char *child = must_create(admin_tok, "pt.con", cid, R_READER);
  const char *want[] = {"pt.a", "pt.b", "pt.c", "pt.con", "pt.d", "pt.e"};

  Hoso__Identity__V1__ListAccountsRequest q = HOSO__IDENTITY__V1__LIST_ACCOUNTS_REQUEST__INIT;
  q.unit_id = pid;
  q.page_size = 2;
  char token[512] = "";
  size_t seen = 0;
  int pages = 0;
  do {
    q.page_token = token;
    Hoso__Identity__V1__ListAccountsResponse *r = NULL;
    assert_status(call(IDN "ListAccounts", &q, &hoso__identity__v1__list_accounts_response__descriptor, (void **)&r,
                       admin_tok, &st),
                  GRPC_STATUS_OK, st, NULL);
    assert_true(r->n_accounts <= 2);
    for (size_t i = 0; i < r->n_accounts; i++) {
      assert_true(seen < 6);
      assert_string_equal(r->accounts[i]->username, want[seen++]);
    }
    snprintf(token, sizeof token, "%s", r->next_page_token);
    free_msg(r);
    pages++;
  } while (token[0] && pages < 10);
  assert_int_equal(seen, 6);
  assert_int_equal(pages, 3);

  /* direct_only leaves out the commune below. */
  q.page_token = "";
  q.page_size = 0;
  q.direct_only = 1;
  Hoso__Identity__V1__ListAccountsResponse *r = NULL;
  assert_status(call(IDN "ListAccounts", &q, &hoso__identity__v1__list_accounts_response__descriptor, (void **)&r,
                     admin_tok, &st),
                GRPC_STATUS_OK, st, NULL);
  assert_int_equal(r->n_accounts, 5);
  assert_string_equal(r->next_page_token, "");
  free_msg(r);

  /* Status filter: only the one disabled. */
  assert_status(set_status(admin_tok, "DisableAccount", ids[2], "nghỉ phép", NULL, &st), GRPC_STATUS_OK, st, NULL);
  q.direct_only = 0;
  q.status = HOSO__IDENTITY__V1__ACCOUNT_STATUS__ACCOUNT_STATUS_DISABLED;
  assert_status(call(IDN "ListAccounts", &q, &hoso__identity__v1__list_accounts_response__descriptor, (void **)&r,
                     admin_tok, &st),
                GRPC_STATUS_OK, st, NULL);
  assert_int_equal(r->n_accounts, 1);
  assert_string_equal(r->accounts[0]->username, "pt.d");
  free_msg(r);
  for (int i = 0; i < 5; i++) free(ids[i]);
  free(child);
}

static grpc_status_code service_login(const char *addr, const char *id, const char *secret, char **token,
                                      cli_status *st) {
  Hoso__Identity__V1__ServiceLoginRequest req = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  req.client_id = (char *)id;
  req.client_secret = (char *)secret;
  Hoso__Identity__V1__ServiceLoginResponse *r = NULL;
  grpc_status_code c = call_from(addr, IDN "ServiceLogin", &req, &hoso__identity__v1__service_login_response__descriptor,
                                 (void **)&r, NULL, st);
  if (token) *token = r ? strdup(r->access_token) : NULL;
  free_msg(r);
  return c;
}

static Hoso__Identity__V1__ServiceClient *find_client(const char *id) {
  Hoso__Identity__V1__ListServiceClientsRequest q = HOSO__IDENTITY__V1__LIST_SERVICE_CLIENTS_REQUEST__INIT;
  Hoso__Identity__V1__ListServiceClientsResponse *r = NULL;
  cli_status st;
  assert_status(call(IDN "ListServiceClients", &q, &hoso__identity__v1__list_service_clients_response__descriptor,
                     (void **)&r, admin_tok, &st),
                GRPC_STATUS_OK, st, NULL);
  Hoso__Identity__V1__ServiceClient *found = NULL;
  for (size_t i = 0; i < r->n_clients; i++)
    if (strcmp(r->clients[i]->client_id, id) == 0) {
      found = r->clients[i];
      r->clients[i] = r->clients[--r->n_clients];
      break;
    }
  free_msg(r);
  return found;
}

/* Another government system (004 Đ3.3): created with a written approval and a grant of units,
 * it logs in with its secret and gets a token limited to the grant; wrong, unknown and
 * revoked credentials all get the same answer, and every attempt is audited. */
static void test_service_client(void **state) {
  (void)state;
  cli_status st;
  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[2] = {d1_id, d2_id};
  req.name = "Cơ sở dữ liệu quốc gia về CBCCVC";
  req.unit_ids = units;
  req.n_unit_ids = 2;
  const ProtobufCMessageDescriptor *out_d = &hoso__identity__v1__create_service_client_response__descriptor;

  /* The written approval is what makes the connection lawful: no approval, no client. */
  req.approval_reference = "  ";
  assert_status(call(IDN "CreateServiceClient", &req, out_d, NULL, admin_tok, &st), GRPC_STATUS_INVALID_ARGUMENT, st,
                "approval_reference:");
  req.approval_reference = "Công văn 123/SNV-CCVC ngày 02/03/2026";
  req.n_unit_ids = 0;
  assert_status(call(IDN "CreateServiceClient", &req, out_d, NULL, admin_tok, &st), GRPC_STATUS_INVALID_ARGUMENT, st,
                "unit_ids:");
  char *bad_units[1] = {"987654"};
  req.unit_ids = bad_units;
  req.n_unit_ids = 1;
  assert_status(call(IDN "CreateServiceClient", &req, out_d, NULL, admin_tok, &st), GRPC_STATUS_NOT_FOUND, st,
                "unit_ids:");
  req.unit_ids = units;
  req.n_unit_ids = 2;
  /* Only a SYSTEM_ADMIN connects outside systems. */
  char *reader_id = must_create(admin_tok, "chi.doc.svc", d1_id, R_READER);
  char *reader_tok = activate("chi.doc.svc", "Mat-khau-ban-dau-1", "Chi-doc-thoi-2026", NULL);
  assert_status(call(IDN "CreateServiceClient", &req, out_d, NULL, reader_tok, &st), GRPC_STATUS_PERMISSION_DENIED, st,
                "SYSTEM_ADMIN");
  free(reader_tok);
  free(reader_id);

  Hoso__Identity__V1__CreateServiceClientResponse *cr = NULL;
  assert_status(call(IDN "CreateServiceClient", &req, out_d, (void **)&cr, admin_tok, &st), GRPC_STATUS_OK, st, NULL);
  char *cid = strdup(cr->client->client_id), *secret = strdup(cr->client_secret);
  assert_int_equal(strlen(cid), 20);
  assert_memory_equal(cid, "svc-", 4);
  assert_true(strlen(secret) >= 40);
  assert_int_equal(cr->client->n_unit_ids, 2);
  assert_false(cr->client->revoked);
  free_msg(cr);
  /* Only the hash is kept. */
  char *stored = sql_value("SELECT secret_phc FROM identity.service_clients WHERE client_id = $1", cid, NULL);
  assert_memory_equal(stored, "$argon2id$", 10);
  assert_null(strstr(stored, secret));
  free(stored);

  /* The token's scope is exactly the grant. */
  char *tok = NULL;
  assert_status(service_login("198.51.100.40", cid, secret, &tok, &st), GRPC_STATUS_OK, st, NULL);
  Hoso__Identity__V1__WhoAmIResponse *w = whoami(tok);
  char subject[64];
  snprintf(subject, sizeof subject, "svc:%s", cid);
  assert_string_equal(w->subject, subject);
  assert_int_equal(w->n_roles, 1);
  assert_int_equal(w->roles[0], R_SERVICE);
  assert_int_equal(w->n_scope_unit_paths, 2);
  assert_string_equal(w->scope_unit_paths[0], d1_path);
  assert_string_equal(w->scope_unit_paths[1], d2_path);
  free_msg(w);
  /* A service token manages nothing. */
  assert_status(create_account(tok, &(new_account){.username = "tu.dich.vu", .unit_id = d1_id,
                                                   .roles = (role_t[]){R_READER}, .n_roles = 1},
                               NULL, &st),
                GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  free(tok);

  /* Wrong secret and unknown client: one answer, so the reply tells nothing about ids. */
  cli_status s_wrong, s_unknown;
  assert_int_equal(service_login("198.51.100.41", cid, "sai-bi-mat-hoan-toan", NULL, &s_wrong), GRPC_STATUS_UNAUTHENTICATED);
  assert_int_equal(service_login("198.51.100.41", "svc-0000000000000000", secret, NULL, &s_unknown),
                   GRPC_STATUS_UNAUTHENTICATED);
  assert_string_equal(s_wrong.message, BAD_LOGIN_CLIENT);
  assert_string_equal(s_unknown.message, BAD_LOGIN_CLIENT);

  /* Revoked: the right secret is refused with the same words. */
  Hoso__Identity__V1__RevokeServiceClientRequest rv = HOSO__IDENTITY__V1__REVOKE_SERVICE_CLIENT_REQUEST__INIT;
  rv.client_id = cid;
  rv.reason = "";
  assert_status(call(IDN "RevokeServiceClient", &rv, &hoso__identity__v1__revoke_service_client_response__descriptor, NULL,
                     admin_tok, &st),
                GRPC_STATUS_INVALID_ARGUMENT, st, "reason:");
  rv.reason = "Hết hạn thỏa thuận kết nối";
  assert_status(call(IDN "RevokeServiceClient", &rv, &hoso__identity__v1__revoke_service_client_response__descriptor, NULL,
                     admin_tok, &st),
                GRPC_STATUS_OK, st, NULL);
  cli_status s_revoked;
  assert_int_equal(service_login("198.51.100.42", cid, secret, NULL, &s_revoked), GRPC_STATUS_UNAUTHENTICATED);
  assert_string_equal(s_revoked.message, BAD_LOGIN_CLIENT);
  Hoso__Identity__V1__ServiceClient *listed = find_client(cid);
  assert_non_null(listed);
  assert_true(listed->revoked);
  assert_string_equal(listed->approval_reference, "Công văn 123/SNV-CCVC ngày 02/03/2026");
  free_msg(listed);
  rv.client_id = "svc-ffffffffffffffff";
  assert_status(call(IDN "RevokeServiceClient", &rv, &hoso__identity__v1__revoke_service_client_response__descriptor, NULL,
                     admin_tok, &st),
                GRPC_STATUS_NOT_FOUND, st, "client_id:");

  /* Every attempt left a row, the failed ones too (they commit while the error is sent). */
  assert_int_equal(audit_count("SERVICE_CLIENT_CREATE", cid), 1);
  assert_int_equal(audit_count("SERVICE_LOGIN", cid), 1);
  assert_int_equal(audit_count("SERVICE_LOGIN_FAILED", cid), 2); /* wrong secret, revoked */
  assert_int_equal(audit_count("SERVICE_CLIENT_REVOKE", cid), 1);
  assert_int_equal(sql_long("SELECT count(*) FROM identity.audit_log WHERE action = 'SERVICE_LOGIN_FAILED' "
                            "AND actor_name = 'svc-0000000000000000' AND outcome = 'unknown_client'",
                            NULL, NULL),
                   1);
  assert_not_in_audit(secret);
  free(cid);
  free(secret);
}

/* A retried CreateServiceClient (same request_id) returns the first client and makes no
 * second one. The secret was shown once and only its hash kept, so the retry cannot show it
 * again: it comes back empty, and a lost secret means revoke and create anew. */
static void test_service_client_request_id(void **state) {
  (void)state;
  cli_status st;
  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[1] = {d2_id};
  req.name = "Hệ thống bảo hiểm xã hội";
  req.unit_ids = units;
  req.n_unit_ids = 1;
  req.approval_reference = "Văn bản thỏa thuận 45/TT-BHXH";
  req.request_id = "ket-noi-bhxh-0001";
  const ProtobufCMessageDescriptor *out_d = &hoso__identity__v1__create_service_client_response__descriptor;
  long before = sql_long("SELECT count(*) FROM identity.service_clients", NULL, NULL);
  Hoso__Identity__V1__CreateServiceClientResponse *a = NULL, *b = NULL;
  assert_status(call(IDN "CreateServiceClient", &req, out_d, (void **)&a, admin_tok, &st), GRPC_STATUS_OK, st, NULL);
  assert_status(call(IDN "CreateServiceClient", &req, out_d, (void **)&b, admin_tok, &st), GRPC_STATUS_OK, st, NULL);
  assert_string_equal(a->client->client_id, b->client->client_id);
  assert_true(strlen(a->client_secret) >= 40);
  assert_string_equal(b->client_secret, "");
  assert_int_equal(sql_long("SELECT count(*) FROM identity.service_clients", NULL, NULL), before + 1);
  assert_int_equal(audit_count("SERVICE_CLIENT_CREATE", a->client->client_id), 1);
  free_msg(a);
  free_msg(b);
}

/* CPU time the identity process has used so far (all its threads), in clock ticks. */
static long svc_cpu_ticks(void) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)svc.pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  unsigned long ut = 0, st = 0;
  /* after the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
   * utime stime */
  if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    fail_msg("cannot read %s", path);
  return (long)(ut + st);
}

/* An unknown client id costs the service a password check too (against a filler hash), so
 * its refusal takes as long as a wrong secret's and timing does not tell which ids exist.
 * Without the filler it would cost a few ms against argon2id's tens. Measured as the CPU the
 * service spends, summed over five of each, interleaved: what a caller's clock would show
 * without the noise of a loaded machine, on which one call's wall time says little. */
static void test_service_login_timing_does_not_tell(void **state) {
  (void)state;
  cli_status st;
  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[1] = {d1_id};
  req.name = "Hệ thống đo thời gian";
  req.unit_ids = units;
  req.n_unit_ids = 1;
  req.approval_reference = "Thử nghiệm 1/TN";
  Hoso__Identity__V1__CreateServiceClientResponse *cr = NULL;
  assert_status(call(IDN "CreateServiceClient", &req, &hoso__identity__v1__create_service_client_response__descriptor,
                     (void **)&cr, admin_tok, &st),
                GRPC_STATUS_OK, st, NULL);
  long wrong = 0, unknown = 0;
  char id[32];
  for (int i = 0; i < 5; i++) {
    long c0 = svc_cpu_ticks();
    assert_int_equal(service_login("198.51.100.60", cr->client->client_id, "khong-dung-bi-mat", NULL, &st),
                     GRPC_STATUS_UNAUTHENTICATED);
    long c1 = svc_cpu_ticks();
    snprintf(id, sizeof id, "svc-00000000000000a%d", i);
    assert_int_equal(service_login("198.51.100.60", id, "khong-dung-bi-mat", NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
    long c2 = svc_cpu_ticks();
    wrong += c1 - c0;
    unknown += c2 - c1;
  }
  free_msg(cr);
  long hz = sysconf(_SC_CLK_TCK);
  printf("# service CPU for 5 refusals: wrong secret %ld ms, unknown client %ld ms\n", wrong * 1000 / hz,
         unknown * 1000 / hz);
  if (unknown * 2 < wrong)
    fail_msg("unknown clients cost the service %ld ticks, wrong secrets %ld", unknown, wrong);
}

/* Failed service logins make the client id wait at the address they came from (a secret of
 * 32 random bytes is not guessed; a lock on the id everywhere would only let anyone stop the
 * client: test_identity_throttle.c). */
static void test_service_login_throttled(void **state) {
  (void)state;
  cli_status st;
  for (int i = 0; i < 5; i++)
    assert_int_equal(service_login("198.51.100.50", "svc-1234567890abcdef", "doan-mo-bi-mat", NULL, &st),
                     GRPC_STATUS_UNAUTHENTICATED);
  assert_status(service_login("198.51.100.50", "svc-1234567890abcdef", "doan-mo-bi-mat", NULL, &st),
                GRPC_STATUS_RESOURCE_EXHAUSTED, st, "try again in");
  assert_int_equal(service_login("198.51.100.51", "svc-1234567890abcdef", "doan-mo-bi-mat", NULL, &st),
                   GRPC_STATUS_UNAUTHENTICATED);
}

/* Last: the audit chain built by every test above is intact, as the verifier recomputes it. */
static void test_audit_chain_intact(void **state) {
  (void)state;
  assert_true(sql_long("SELECT count(*) FROM identity.audit_log", NULL, NULL) > 20);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    setenv("HOSO_PG_DSN", pg.dsn, 1);
    execl(HOSO_BIN_DIR "/hoso-audit-verify", "hoso-audit-verify", "--schema", "identity", (char *)NULL);
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lifecycle),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_request_id_is_idempotent),
      cmocka_unit_test(test_list_accounts),
      cmocka_unit_test(test_service_client),
      cmocka_unit_test(test_service_client_request_id),
      cmocka_unit_test(test_service_login_timing_does_not_tell),
      cmocka_unit_test(test_service_login_throttled),
      cmocka_unit_test(test_audit_chain_intact),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
