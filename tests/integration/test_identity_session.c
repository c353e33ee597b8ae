/* Identity sessions over real gRPC against a real PostgreSQL: login, lockout, refresh rotation
 * and reuse detection, logout (throttling: test_identity_throttle.c), first-login password change, key rotation, bad input, and a
 * PostgreSQL restart under the running service. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "b64.h"
#include "identity.pb-c.h"
#include "th.h"

static th_pg pg;
static th_svc svc;
static cli_chan *ch;

#define IDN "/hoso.identity.v1.Identity/"

/* One call with an optional bearer token and a client address the service is told about
 * through x-forwarded-for (the test process is a trusted proxy), so throttling per address can
 * be tested without locking out the other tests, which all come from 127.0.0.1. */
static grpc_status_code call(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                             void **resp, const char *token, const char *client_addr, cli_status *st) {
  cli_md md[2];
  size_t n = 0;
  char bearer[4096];
  if (token) {
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    md[n++] = (cli_md){"authorization", bearer};
  }
  md[n++] = (cli_md){"x-forwarded-for", client_addr ? client_addr : "203.0.113.1"};
  ProtobufCMessage *out = NULL;
  grpc_status_code c = cli_call(ch, method, req, d, &out, md, n, 10000, st);
  if (resp) *resp = out;
  else if (out) protobuf_c_message_free_unpacked(out, NULL);
  return c;
}

static Hoso__Identity__V1__LoginResponse *login_as(const char *user, const char *pw, const char *addr,
                                                   grpc_status_code *code, cli_status *st) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)user;
  req.password = (char *)pw;
  void *out = NULL;
  *code = call(IDN "Login", &req, &hoso__identity__v1__login_response__descriptor, &out, NULL, addr, st);
  return out;
}

static char *admin_token(void) {
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_as("admin", TH_ADMIN_PASSWORD, "198.51.100.1", &c, &st);
  assert_int_equal(c, GRPC_STATUS_OK);
  char *t = strdup(r->access_token);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return t;
}

static char *root_unit_id(const char *token) {
  Hoso__Identity__V1__WhoAmIRequest req = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *r = NULL;
  cli_status st;
  assert_int_equal(call(IDN "WhoAmI", &req, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&r,
                        token, NULL, &st),
                   GRPC_STATUS_OK);
  assert_non_null(r->account);
  char *id = strdup(r->account->unit_id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return id;
}

/* Creates an account (by the admin) and returns its id; password must be changed at first login. */
static void create_account(const char *user, const char *password, Hoso__Common__V1__Role role) {
  char *tok = admin_token(), *root = root_unit_id(tok);
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  Hoso__Common__V1__Role roles[1] = {role};
  req.username = (char *)user;
  req.full_name = "Nguyễn Văn Thử";
  req.unit_id = root;
  req.roles = roles;
  req.n_roles = 1;
  req.initial_password = (char *)password;
  cli_status st;
  grpc_status_code c = call(IDN "CreateAccount", &req, &hoso__identity__v1__create_account_response__descriptor,
                            NULL, tok, NULL, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateAccount %s: %s %s", user, cli_status_name(c), st.message);
  free(tok);
  free(root);
}

static int setup(void **state) {
  (void)state;
  if (th_pg_start(&pg) != 0) return -1;
  /* the signing key's age is checked every second here (an hour by default) */
  const char *env[] = {"HOSO_ADMIN_PASSWORD=" TH_ADMIN_PASSWORD, "HOSO_TRUSTED_PROXIES=127.0.0.1", "HOSO_WORKERS=4",
                       "HOSO_KEY_CHECK_SECONDS=1", NULL};
  if (th_svc_start(&svc, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, env) != 0) return -1;
  ch = cli_open_tls(svc.addr, NULL, NULL, NULL);
  return ch ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  if (ch) cli_close(ch);
  int rc = th_svc_stop(&svc);
  th_pg_destroy(&pg);
  /* The service must drain and exit cleanly (0) on SIGTERM. */
  return rc == 0 ? 0 : -1;
}

/* The bootstrap admin was given HOSO_ADMIN_PASSWORD, so it is exempt from the first-login
 * change and gets a full session. */
static void test_admin_login(void **state) {
  (void)state;
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_as("admin", TH_ADMIN_PASSWORD, NULL, &c, &st);
  assert_int_equal(c, GRPC_STATUS_OK);
  assert_false(r->must_change_password);
  assert_true(strlen(r->access_token) > 100);
  assert_true(strlen(r->refresh_token) >= 40);
  assert_int_equal(r->expires_in, 900);
  assert_string_equal(r->token_type, "Bearer");
  assert_non_null(r->account);
  assert_string_equal(r->account->username, "admin");
  assert_int_equal(r->account->n_roles, 1);
  assert_int_equal(r->account->roles[0], HOSO__COMMON__V1__ROLE__SYSTEM_ADMIN);
  /* The token works on a protected RPC and names the whole deployment as scope. */
  Hoso__Identity__V1__WhoAmIRequest w = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *who = NULL;
  assert_int_equal(call(IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&who,
                        r->access_token, NULL, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(who->n_scope_unit_paths, 1);
  assert_string_equal(who->scope_unit_paths[0], "*");
  protobuf_c_message_free_unpacked(&who->base, NULL);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* A wrong password and an unknown username get the same code and words: the answer must not
 * tell whether the username exists. */
static void test_wrong_password_and_unknown_user_look_alike(void **state) {
  (void)state;
  grpc_status_code c1, c2;
  cli_status s1, s2;
  void *r1 = login_as("admin", "not-the-password", "192.0.2.10", &c1, &s1);
  void *r2 = login_as("khong-ton-tai", "not-the-password", "192.0.2.10", &c2, &s2);
  assert_null(r1);
  assert_null(r2);
  assert_int_equal(c1, GRPC_STATUS_UNAUTHENTICATED);
  assert_int_equal(c2, GRPC_STATUS_UNAUTHENTICATED);
  assert_string_equal(s1.message, s2.message);
}

static grpc_status_code refresh(const char *rt, char **new_rt, char **new_at, cli_status *st) {
  Hoso__Identity__V1__RefreshRequest req = HOSO__IDENTITY__V1__REFRESH_REQUEST__INIT;
  req.refresh_token = (char *)rt;
  Hoso__Identity__V1__RefreshResponse *r = NULL;
  grpc_status_code c =
      call(IDN "Refresh", &req, &hoso__identity__v1__refresh_response__descriptor, (void **)&r, NULL, NULL, st);
  if (r) {
    if (new_rt) *new_rt = strdup(r->refresh_token);
    if (new_at) *new_at = strdup(r->access_token);
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  return c;
}

/* Each refresh hands out a new refresh token and retires the old one; presenting a retired
 * one again means it was copied, so the whole family dies, the thief's and the owner's. */
static void test_refresh_rotation_and_reuse(void **state) {
  (void)state;
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_as("admin", TH_ADMIN_PASSWORD, NULL, &c, &st);
  assert_int_equal(c, GRPC_STATUS_OK);
  char *rt1 = strdup(r->refresh_token), *rt2 = NULL, *rt3 = NULL, *at2 = NULL;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  assert_int_equal(refresh(rt1, &rt2, &at2, &st), GRPC_STATUS_OK);
  assert_string_not_equal(rt1, rt2);
  assert_true(strlen(at2) > 100);
  assert_int_equal(refresh(rt2, &rt3, NULL, &st), GRPC_STATUS_OK);
  /* rt1 again: reuse. */
  assert_int_equal(refresh(rt1, NULL, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_non_null(strstr(st.message, "already used"));
  /* The newest token of the family is dead too. */
  assert_int_equal(refresh(rt3, NULL, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_int_equal(refresh("nonsense-token", NULL, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_int_equal(refresh("", NULL, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "refresh_token"));
  free(rt1);
  free(rt2);
  free(rt3);
  free(at2);
}

/* Logout ends the login's refresh family; a second logout is harmless. */
static void test_logout(void **state) {
  (void)state;
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_as("admin", TH_ADMIN_PASSWORD, NULL, &c, &st);
  assert_int_equal(c, GRPC_STATUS_OK);
  Hoso__Identity__V1__LogoutRequest lo = HOSO__IDENTITY__V1__LOGOUT_REQUEST__INIT;
  lo.refresh_token = r->refresh_token;
  assert_int_equal(call(IDN "Logout", &lo, &hoso__identity__v1__logout_response__descriptor, NULL, NULL, NULL, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(call(IDN "Logout", &lo, &hoso__identity__v1__logout_response__descriptor, NULL, NULL, NULL, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(refresh(r->refresh_token, NULL, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* A new account's first token allows ChangePassword only; the new password must follow the
 * policy; afterwards a normal session starts. */
static void test_first_login_must_change_password(void **state) {
  (void)state;
  create_account("tran.thi.moi", "Mat-khau-ban-dau-5", HOSO__COMMON__V1__ROLE__READER);
  grpc_status_code c;
  cli_status st;
  Hoso__Identity__V1__LoginResponse *r = login_as("tran.thi.moi", "Mat-khau-ban-dau-5", NULL, &c, &st);
  assert_int_equal(c, GRPC_STATUS_OK);
  assert_true(r->must_change_password);
  assert_string_equal(r->refresh_token, "");
  Hoso__Identity__V1__GetUnitRequest gu = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  gu.unit_id = r->account->unit_id;
  assert_int_equal(call(IDN "GetUnit", &gu, &hoso__identity__v1__get_unit_response__descriptor, NULL,
                        r->access_token, NULL, &st),
                   GRPC_STATUS_PERMISSION_DENIED);
  assert_non_null(strstr(st.message, "ChangePassword"));
  Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  cp.old_password = "Mat-khau-ban-dau-5";
  cp.new_password = "ngan";
  assert_int_equal(call(IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor,
                        NULL, r->access_token, NULL, &st),
                   GRPC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "new_password"));
  cp.new_password = "xx-tran.thi.moi-xx";
  assert_int_equal(call(IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor,
                        NULL, r->access_token, NULL, &st),
                   GRPC_STATUS_INVALID_ARGUMENT);
  cp.old_password = "sai-mat-khau-cu";
  cp.new_password = "Mật khẩu mới rất dài";
  assert_int_equal(call(IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor,
                        NULL, r->access_token, NULL, &st),
                   GRPC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "old_password"));
  cp.old_password = "Mat-khau-ban-dau-5";
  Hoso__Identity__V1__ChangePasswordResponse *ok = NULL;
  assert_int_equal(call(IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor,
                        (void **)&ok, r->access_token, NULL, &st),
                   GRPC_STATUS_OK);
  assert_true(strlen(ok->refresh_token) > 0);
  /* The fresh token is a full one (a READER of the root unit may read it). */
  assert_int_equal(call(IDN "GetUnit", &gu, &hoso__identity__v1__get_unit_response__descriptor, NULL,
                        ok->access_token, NULL, &st),
                   GRPC_STATUS_OK);
  protobuf_c_message_free_unpacked(&ok->base, NULL);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  Hoso__Identity__V1__LoginResponse *r2 = login_as("tran.thi.moi", "Mật khẩu mới rất dài", NULL, &c, &st);
  assert_int_equal(c, GRPC_STATUS_OK);
  assert_false(r2->must_change_password);
  protobuf_c_message_free_unpacked(&r2->base, NULL);
}

/* Rotating the signing key logs nobody out: tokens of the old key still verify, the old key
 * stays published beside the new one, and new tokens use the new key. */
static void test_key_rotation(void **state) {
  (void)state;
  char *old_tok = admin_token();
  cli_status st;
  Hoso__Identity__V1__GetPublicKeysRequest gk = HOSO__IDENTITY__V1__GET_PUBLIC_KEYS_REQUEST__INIT;
  Hoso__Identity__V1__GetPublicKeysResponse *k1 = NULL, *k2 = NULL;
  assert_int_equal(call(IDN "GetPublicKeys", &gk, &hoso__identity__v1__get_public_keys_response__descriptor,
                        (void **)&k1, NULL, NULL, &st),
                   GRPC_STATUS_OK);
  assert_true(k1->n_keys >= 1);
  assert_string_equal(k1->keys[0]->alg, "ES256");
  assert_non_null(strstr(k1->keys[0]->public_key_pem, "BEGIN PUBLIC KEY"));
  Hoso__Identity__V1__RotateSigningKeyRequest rk = HOSO__IDENTITY__V1__ROTATE_SIGNING_KEY_REQUEST__INIT;
  Hoso__Identity__V1__RotateSigningKeyResponse *rr = NULL;
  assert_int_equal(call(IDN "RotateSigningKey", &rk, &hoso__identity__v1__rotate_signing_key_response__descriptor,
                        (void **)&rr, old_tok, NULL, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(call(IDN "GetPublicKeys", &gk, &hoso__identity__v1__get_public_keys_response__descriptor,
                        (void **)&k2, NULL, NULL, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(k2->n_keys, k1->n_keys + 1);
  int found = 0;
  for (size_t i = 0; i < k2->n_keys; i++) found |= strcmp(k2->keys[i]->kid, rr->kid) == 0;
  assert_true(found);
  Hoso__Identity__V1__WhoAmIRequest w = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  assert_int_equal(call(IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, NULL, old_tok, NULL,
                        &st),
                   GRPC_STATUS_OK);
  char *new_tok = admin_token();
  assert_int_equal(call(IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, NULL, new_tok, NULL,
                        &st),
                   GRPC_STATUS_OK);
  protobuf_c_message_free_unpacked(&k1->base, NULL);
  protobuf_c_message_free_unpacked(&k2->base, NULL);
  protobuf_c_message_free_unpacked(&rr->base, NULL);
  free(old_tok);
  free(new_tok);
}

/* A running identity rotates its signing key by age, not only at start-up: once the signing
 * key is older than HOSO_KEY_ROTATE_DAYS (30; made so here by dating it back as the database
 * superuser), the next check (every second in this test) puts a new key in its place, audited
 * as the system's act, and tokens of the old key keep working. */
static void test_key_rotation_by_age(void **state) {
  (void)state;
  char *old_tok = admin_token();
  PGconn *db = PQconnectdb(pg.admin_dsn);
  assert_int_equal(PQstatus(db), CONNECTION_OK);
  PGresult *r = PQexec(db, "UPDATE identity.signing_keys SET created_at = now() - interval '31 days' "
                           "WHERE retired_at IS NULL RETURNING kid");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_int_equal(PQntuples(r), 1);
  char aged[64];
  snprintf(aged, sizeof aged, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  char fresh[64] = "";
  for (int i = 0; i < 300 && !fresh[0]; i++) { /* up to 30 s: the check runs every second */
    usleep(100 * 1000);
    r = PQexec(db, "SELECT kid FROM identity.signing_keys WHERE retired_at IS NULL");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), aged) != 0)
      snprintf(fresh, sizeof fresh, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  if (!fresh[0]) fail_msg("the key dated 31 days back was not rotated within 30 s");
  const char *p1[1] = {fresh};
  r = PQexecParams(db,
                   "SELECT count(*) FROM identity.audit_log WHERE action = 'KEY_ROTATE' AND target_id = $1 "
                   "AND actor_name = 'system' AND detail::json->>'why' = 'age'",
                   1, NULL, p1, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_string_equal(PQgetvalue(r, 0, 0), "1");
  PQclear(r);
  PQfinish(db);
  /* Nobody is logged out, and new logins are signed by the new key: not by the signer's
   * one-minute recheck but because this process rotated. The rotating thread drops its cached
   * signer just after its commit, which this test may see first, so a login in between may
   * still use the old key: logins are tried for 10 s, well inside the minute. */
  Hoso__Identity__V1__WhoAmIRequest w = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  cli_status st;
  assert_int_equal(call(IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, NULL, old_tok, NULL,
                        &st),
                   GRPC_STATUS_OK);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    char *new_tok = admin_token();
    char header[512];
    const char *dot = strchr(new_tok, '.');
    assert_non_null(dot);
    size_t hl = (size_t)(dot - new_tok);
    assert_true(hl < sizeof header);
    memcpy(header, new_tok, hl);
    header[hl] = 0;
    char json[512];
    size_t jl = 0;
    assert_int_equal(b64url_decode(header, hl, json, sizeof json - 1, &jl), 0);
    json[jl] = 0;
    free(new_tok);
    if (strstr(json, fresh)) break; /* its kid */
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec > 10) fail_msg("logins 10 s after the rotation are still signed as %s", json);
    usleep(50 * 1000);
  }
  free(old_tok);
}

/* Bad input gets INVALID_ARGUMENT naming the field (or RESOURCE_EXHAUSTED from the transport
 * for 10 MB), and the service keeps answering. */
static void test_bad_input(void **state) {
  (void)state;
  grpc_status_code c;
  cli_status st;
  assert_null(login_as("", "x", NULL, &c, &st));
  assert_int_equal(c, GRPC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "username"));
  assert_null(login_as("admin", "", NULL, &c, &st));
  assert_int_equal(c, GRPC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "password"));
  assert_null(login_as("ad\xC3\x28min", "whatever-password", NULL, &c, &st));
  assert_int_equal(c, GRPC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "username"));
  size_t big = 10u << 20;
  char *huge = malloc(big + 1);
  memset(huge, 'a', big);
  huge[big] = 0;
  assert_null(login_as("admin", huge, NULL, &c, &st));
  assert_int_equal(c, GRPC_STATUS_RESOURCE_EXHAUSTED);
  free(huge);
  /* Garbage that is not a LoginRequest. */
  static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
  ProtobufCMessage *out = NULL;
  c = cli_call_raw(ch, IDN "Login", junk, sizeof junk, &hoso__identity__v1__login_response__descriptor, &out, NULL,
                   0, 5000, &st);
  assert_int_equal(c, GRPC_STATUS_INVALID_ARGUMENT);
  /* No token on a protected RPC; a forged token. */
  Hoso__Identity__V1__WhoAmIRequest w = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  assert_int_equal(call(IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, NULL, NULL, NULL, &st),
                   GRPC_STATUS_UNAUTHENTICATED);
  assert_int_equal(call(IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, NULL,
                        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", NULL, &st),
                   GRPC_STATUS_UNAUTHENTICATED);
  assert_int_equal(call(IDN "NoSuchMethod", &w, &hoso__identity__v1__who_am_iresponse__descriptor, NULL, NULL,
                        NULL, &st),
                   GRPC_STATUS_UNIMPLEMENTED);
  assert_true(th_svc_alive(&svc));
  Hoso__Identity__V1__LoginResponse *ok = login_as("admin", TH_ADMIN_PASSWORD, NULL, &c, &st);
  assert_int_equal(c, GRPC_STATUS_OK);
  protobuf_c_message_free_unpacked(&ok->base, NULL);
}

/* PostgreSQL restarted under the running service: a call during the outage gets UNAVAILABLE
 * (never a hang or a crash), and the first call after the restart works. */
static void test_postgres_restart(void **state) {
  (void)state;
  grpc_status_code c;
  cli_status st;
  assert_int_equal(th_pg_stop(&pg), 0);
  assert_null(login_as("admin", TH_ADMIN_PASSWORD, NULL, &c, &st));
  assert_int_equal(c, GRPC_STATUS_UNAVAILABLE);
  assert_true(th_svc_alive(&svc));
  assert_int_equal(th_pg_restart_server(&pg), 0);
  Hoso__Identity__V1__LoginResponse *ok = login_as("admin", TH_ADMIN_PASSWORD, NULL, &c, &st);
  if (c != GRPC_STATUS_OK) fail_msg("after restart: %s %s", cli_status_name(c), st.message);
  protobuf_c_message_free_unpacked(&ok->base, NULL);
}

/* Every login, failure, refresh and logout above left an audit row, and the chain is intact. */
static void test_audit_trail(void **state) {
  (void)state;
  PGconn *db = PQconnectdb(pg.admin_dsn);
  assert_int_equal(PQstatus(db), CONNECTION_OK);
  PGresult *r = PQexec(db, "SELECT action, count(*) FROM identity.audit_log GROUP BY action ORDER BY action");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  int login = 0, failed = 0, refresh_reuse = 0, logout = 0, pwchange = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *a = PQgetvalue(r, i, 0);
    int n = atoi(PQgetvalue(r, i, 1));
    if (!strcmp(a, "LOGIN")) login = n;
    if (!strcmp(a, "LOGIN_FAILED")) failed = n;
    if (!strcmp(a, "REFRESH_REUSE")) refresh_reuse = n;
    if (!strcmp(a, "LOGOUT")) logout = n;
    if (!strcmp(a, "PASSWORD_CHANGE")) pwchange = n;
  }
  PQclear(r);
  PQfinish(db);
  assert_true(login >= 10);
  assert_true(failed >= 2); /* the wrong password and the unknown name */
  assert_int_equal(refresh_reuse, 1);
  assert_int_equal(logout, 1);
  assert_true(pwchange >= 1);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "HOSO_PG_DSN='%s' %s/hoso-audit-verify --schema identity >/dev/null", pg.dsn,
           HOSO_BIN_DIR);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_admin_login),
      cmocka_unit_test(test_wrong_password_and_unknown_user_look_alike),
      cmocka_unit_test(test_refresh_rotation_and_reuse),
      cmocka_unit_test(test_logout),
      cmocka_unit_test(test_first_login_must_change_password),
      cmocka_unit_test(test_key_rotation),
      cmocka_unit_test(test_key_rotation_by_age),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_postgres_restart),
      cmocka_unit_test(test_audit_trail),
  };
  return cmocka_run_group_tests_name("identity_session", tests, setup, teardown);
}
