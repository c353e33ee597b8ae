/* The unit subtree rule for accounts over real gRPC and PostgreSQL: what a UNIT_ADMIN of one
 * district may and may not do, what an UPDATER may not, and row-level security behind both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "th.h"

#define IDN "/hoso.identity.v1.Identity/"

typedef Hoso__Common__V1__Role role_t;
#define R_SYSTEM_ADMIN HOSO__COMMON__V1__ROLE__SYSTEM_ADMIN
#define R_UNIT_ADMIN HOSO__COMMON__V1__ROLE__UNIT_ADMIN
#define R_UPDATER HOSO__COMMON__V1__ROLE__UPDATER
#define R_READER HOSO__COMMON__V1__ROLE__READER
#define R_SELF HOSO__COMMON__V1__ROLE__SELF

static th_pg pg;
static th_svc svc;
static cli_chan *ch;
static char *admin_tok, admin_id[32], root_id[32];
/* District 1 with a commune below it, and its sibling district 2. */
static char d1_id[32], d1_path[64], c1_id[32], c1_path[64], d2_id[32], d2_path[64];
/* ua1: UNIT_ADMIN (with UPDATER and READER) of district 1; upd1: UPDATER of district 1;
 * r2: READER of district 2; sa1: a SYSTEM_ADMIN placed in district 1. */
static char *ua1_id, *ua1_tok, *upd1_id, *upd1_tok, *r2_id, *sa1_id;

/* ------------------------------------------------------------- helpers ------------------ */

static grpc_status_code call(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                             void **resp, const char *token, cli_status *st) {
  cli_md md[2];
  size_t n = 0;
  static char bearer[8192];
  if (token) {
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    md[n++] = (cli_md){"authorization", bearer};
  }
  md[n++] = (cli_md){"x-forwarded-for", "203.0.113.77"};
  ProtobufCMessage *out = NULL;
  cli_status local;
  grpc_status_code c = cli_call(ch, method, req, d, &out, md, n, 20000, st ? st : &local);
  if (resp) *resp = out;
  else if (out) protobuf_c_message_free_unpacked(out, NULL);
  return c;
}

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static void check_status(grpc_status_code got, grpc_status_code want, const cli_status *st, const char *part,
                         int line) {
  if (got != want || (part && !strstr(st->message, part)))
    fail_msg("line %d: expected %s containing \"%s\", got %s: %s", line, cli_status_name(want), part ? part : "",
             cli_status_name(got), st->message);
}
#define assert_status(got, want, st, part) check_status((got), (want), &(st), (part), __LINE__)

static Hoso__Identity__V1__LoginResponse *login(const char *user, const char *pw) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)user;
  req.password = (char *)pw;
  Hoso__Identity__V1__LoginResponse *r = NULL;
  cli_status st;
  grpc_status_code c = call(IDN "Login", &req, &hoso__identity__v1__login_response__descriptor, (void **)&r, NULL, &st);
  if (c != GRPC_STATUS_OK) fail_msg("login %s: %s %s", user, cli_status_name(c), st.message);
  return r;
}

#define INITIAL_PW "Mat-khau-ban-dau-1"

/* First login and the forced change: a full access token (malloc'd). */
static char *activate(const char *user, const char *final_pw) {
  Hoso__Identity__V1__LoginResponse *r = login(user, INITIAL_PW);
  Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  cp.old_password = INITIAL_PW;
  cp.new_password = (char *)final_pw;
  Hoso__Identity__V1__ChangePasswordResponse *cr = NULL;
  cli_status st;
  grpc_status_code c = call(IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor,
                            (void **)&cr, r->access_token, &st);
  if (c != GRPC_STATUS_OK) fail_msg("ChangePassword %s: %s %s", user, cli_status_name(c), st.message);
  char *t = strdup(cr->access_token);
  free_msg(cr);
  free_msg(r);
  return t;
}

static grpc_status_code create(const char *tok, const char *user, const char *unit, const role_t *roles, size_t n,
                               const char *person_record_id, Hoso__Identity__V1__Account **out, cli_status *st) {
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  req.username = (char *)user;
  req.full_name = "Lê Thị Phạm Vi";
  req.unit_id = (char *)unit;
  req.roles = (role_t *)roles;
  req.n_roles = n;
  req.initial_password = INITIAL_PW;
  req.person_record_id = (char *)(person_record_id ? person_record_id : "");
  Hoso__Identity__V1__CreateAccountResponse *r = NULL;
  grpc_status_code c =
      call(IDN "CreateAccount", &req, &hoso__identity__v1__create_account_response__descriptor, (void **)&r, tok, st);
  if (out) {
    *out = r ? r->account : NULL;
    if (r) r->account = NULL;
  }
  free_msg(r);
  return c;
}

static char *must_create(const char *tok, const char *user, const char *unit, const role_t *roles, size_t n) {
  Hoso__Identity__V1__Account *a = NULL;
  cli_status st;
  grpc_status_code c = create(tok, user, unit, roles, n, NULL, &a, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateAccount %s: %s %s", user, cli_status_name(c), st.message);
  char *id = strdup(a->id);
  free_msg(a);
  return id;
}

static grpc_status_code get_account(const char *tok, const char *id, cli_status *st) {
  Hoso__Identity__V1__GetAccountRequest req = HOSO__IDENTITY__V1__GET_ACCOUNT_REQUEST__INIT;
  req.account_id = (char *)id;
  return call(IDN "GetAccount", &req, &hoso__identity__v1__get_account_response__descriptor, NULL, tok, st);
}

static grpc_status_code list_accounts(const char *tok, const char *unit, Hoso__Identity__V1__ListAccountsResponse **out,
                                      cli_status *st) {
  Hoso__Identity__V1__ListAccountsRequest req = HOSO__IDENTITY__V1__LIST_ACCOUNTS_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.page_size = 500;
  return call(IDN "ListAccounts", &req, &hoso__identity__v1__list_accounts_response__descriptor, (void **)out, tok, st);
}

static grpc_status_code disable(const char *tok, const char *id, cli_status *st) {
  Hoso__Identity__V1__DisableAccountRequest req = HOSO__IDENTITY__V1__DISABLE_ACCOUNT_REQUEST__INIT;
  req.account_id = (char *)id;
  req.reason = "kiểm tra phạm vi";
  return call(IDN "DisableAccount", &req, &hoso__identity__v1__disable_account_response__descriptor, NULL, tok, st);
}

static grpc_status_code update_roles(const char *tok, const char *id, const role_t *roles, size_t n, cli_status *st) {
  Hoso__Identity__V1__UpdateAccountRolesRequest req = HOSO__IDENTITY__V1__UPDATE_ACCOUNT_ROLES_REQUEST__INIT;
  req.account_id = (char *)id;
  req.roles = (role_t *)roles;
  req.n_roles = n;
  return call(IDN "UpdateAccountRoles", &req, &hoso__identity__v1__update_account_roles_response__descriptor, NULL, tok,
              st);
}

static grpc_status_code reset_password(const char *tok, const char *id, cli_status *st) {
  Hoso__Identity__V1__ResetPasswordRequest req = HOSO__IDENTITY__V1__RESET_PASSWORD_REQUEST__INIT;
  req.account_id = (char *)id;
  req.new_password = "Tam-thoi-cap-lai-5";
  return call(IDN "ResetPassword", &req, &hoso__identity__v1__reset_password_response__descriptor, NULL, tok, st);
}

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

/* 1 when path is root or below it, as ltree's <@ says ("1.4" holds "1.4.17", not "1.41"). */
static int within(const char *path, const char *root) {
  size_t n = strlen(root);
  return strncmp(path, root, n) == 0 && (path[n] == 0 || path[n] == '.');
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
  Hoso__Identity__V1__LoginResponse *r = login("admin", TH_ADMIN_PASSWORD);
  admin_tok = strdup(r->access_token);
  snprintf(admin_id, sizeof admin_id, "%s", r->account->id);
  snprintf(root_id, sizeof root_id, "%s", r->account->unit_id);
  free_msg(r);

  make_unit("H-PV-01", "Huyện Phạm Vi Một", root_id, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, d1_id, d1_path);
  make_unit("X-PV-11", "Xã Dưới Huyện Một", d1_id, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_COMMUNE, c1_id, c1_path);
  make_unit("H-PV-02", "Huyện Phạm Vi Hai", root_id, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, d2_id, d2_path);

  role_t ua[3] = {R_UNIT_ADMIN, R_UPDATER, R_READER}, upd[1] = {R_UPDATER}, rd[1] = {R_READER},
         sa[1] = {R_SYSTEM_ADMIN};
  ua1_id = must_create(admin_tok, "thu.truong.mot", d1_id, ua, 3);
  upd1_id = must_create(admin_tok, "cap.nhat.mot", d1_id, upd, 1);
  r2_id = must_create(admin_tok, "chi.xem.hai", d2_id, rd, 1);
  sa1_id = must_create(admin_tok, "quan.tri.huyen", d1_id, sa, 1);
  free(must_create(admin_tok, "doc.xa.mot", c1_id, rd, 1));
  ua1_tok = activate("thu.truong.mot", "Thu-truong-mot-2026");
  upd1_tok = activate("cap.nhat.mot", "Cap-nhat-mot-2026");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin_tok);
  free(ua1_id);
  free(ua1_tok);
  free(upd1_id);
  free(upd1_tok);
  free(r2_id);
  free(sa1_id);
  if (ch) cli_close(ch);
  int rc = th_svc_stop(&svc);
  /* every refusal must be a chosen status, never an internal fault */
  int errors = th_log_errors(svc.log);
  th_pg_destroy(&pg);
  return rc == 0 && errors == 0 ? 0 : -1;
}

/* ------------------------------------------------------------- tests -------------------- */

/* A unit administrator creates the accounts of its own people : in its unit and in
 * every unit below it, with roles it holds itself. */
static void test_unit_admin_creates_in_subtree(void **state) {
  (void)state;
  cli_status st;
  role_t rd[1] = {R_READER}, upd[1] = {R_UPDATER};
  Hoso__Identity__V1__Account *a = NULL;
  assert_status(create(ua1_tok, "doc.o.xa", c1_id, rd, 1, NULL, &a, &st), GRPC_STATUS_OK, st, NULL);
  assert_string_equal(a->unit_path, c1_path);
  assert_true(within(a->unit_path, d1_path));
  free_msg(a);
  assert_status(create(ua1_tok, "sua.o.huyen", d1_id, upd, 1, NULL, &a, &st), GRPC_STATUS_OK, st, NULL);
  assert_string_equal(a->unit_path, d1_path);
  free_msg(a);
}

/* A sibling's unit is outside the subtree: no account may be made there, nor in the parent. */
static void test_unit_admin_cannot_create_in_sibling(void **state) {
  (void)state;
  cli_status st;
  role_t rd[1] = {R_READER};
  assert_status(create(ua1_tok, "lan.sang.hai", d2_id, rd, 1, NULL, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st,
                "unit_id:");
  assert_status(create(ua1_tok, "lan.len.tinh", root_id, rd, 1, NULL, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st,
                "unit_id:");
}

/* District 2's accounts are invisible and untouchable from district 1: reading one, listing
 * the district, or changing one is refused; the own list never holds them. */
static void test_unit_admin_cannot_see_sibling(void **state) {
  (void)state;
  cli_status st;
  role_t rd[1] = {R_READER};
  assert_status(get_account(ua1_tok, r2_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, "account_id:");
  assert_status(list_accounts(ua1_tok, d2_id, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st, "unit_id:");
  assert_status(list_accounts(ua1_tok, root_id, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st, "unit_id:");
  assert_status(disable(ua1_tok, r2_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  assert_status(update_roles(ua1_tok, r2_id, rd, 1, &st), GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  assert_status(reset_password(ua1_tok, r2_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  /* A district-1 account is readable: the refusals above are about scope, not the RPC. */
  assert_status(get_account(ua1_tok, upd1_id, &st), GRPC_STATUS_OK, st, NULL);

  /* The default list is the caller's own unit and everything below it. */
  Hoso__Identity__V1__ListAccountsResponse *r = NULL;
  assert_status(list_accounts(ua1_tok, "", &r, &st), GRPC_STATUS_OK, st, NULL);
  int saw_upd1 = 0, saw_commune = 0;
  for (size_t i = 0; i < r->n_accounts; i++) {
    Hoso__Identity__V1__Account *a = r->accounts[i];
    if (!within(a->unit_path, d1_path)) fail_msg("%s of %s listed to district 1", a->username, a->unit_path);
    assert_string_not_equal(a->id, r2_id);
    saw_upd1 |= strcmp(a->id, upd1_id) == 0;
    saw_commune |= strcmp(a->unit_path, c1_path) == 0;
  }
  assert_true(saw_upd1);
  assert_true(saw_commune); /* the subtree, not only the unit itself */
  free_msg(r);
}

/* 003 Đ4.1, as the rule is written: a caller grants only roles it holds. This UNIT_ADMIN holds
 * UNIT_ADMIN, UPDATER and READER, so it may make another UNIT_ADMIN inside its subtree (a head
 * of a commune below the district), but never SYSTEM_ADMIN, nor SELF, which it does not hold. */
static void test_grant_only_held_roles(void **state) {
  (void)state;
  cli_status st;
  role_t sa[1] = {R_SYSTEM_ADMIN}, ua[1] = {R_UNIT_ADMIN}, self[1] = {R_SELF}, rd_sa[2] = {R_READER, R_SYSTEM_ADMIN},
         upd[1] = {R_UPDATER}, rd[1] = {R_READER};
  assert_status(create(ua1_tok, "muon.lam.sa", d1_id, sa, 1, NULL, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st,
                "SYSTEM_ADMIN");
  assert_status(create(ua1_tok, "muon.tu.xem", d1_id, self, 1, "700001", NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st,
                "SELF");
  Hoso__Identity__V1__Account *a = NULL;
  assert_status(create(ua1_tok, "thu.truong.xa", c1_id, ua, 1, NULL, &a, &st), GRPC_STATUS_OK, st, NULL);
  char *head = strdup(a->id);
  free_msg(a);
  /* Extending an account: the same rule on the new set. */
  char *x = must_create(ua1_tok, "se.mo.rong", d1_id, rd, 1);
  assert_status(update_roles(ua1_tok, x, rd_sa, 2, &st), GRPC_STATUS_PERMISSION_DENIED, st, "SYSTEM_ADMIN");
  assert_status(update_roles(ua1_tok, x, upd, 1, &st), GRPC_STATUS_OK, st, NULL);
  free(x);
  free(head);
}

/* Nobody raises (or touches) their own rights (003 Đ4.1), not even an administrator. */
static void test_no_change_of_own_account(void **state) {
  (void)state;
  cli_status st;
  role_t more[4] = {R_UNIT_ADMIN, R_UPDATER, R_READER, R_SYSTEM_ADMIN}, same[3] = {R_UNIT_ADMIN, R_UPDATER, R_READER};
  assert_status(update_roles(ua1_tok, ua1_id, more, 4, &st), GRPC_STATUS_PERMISSION_DENIED, st,
                "you cannot change your own roles (003 Đ4.1)");
  assert_status(update_roles(ua1_tok, ua1_id, same, 3, &st), GRPC_STATUS_PERMISSION_DENIED, st, "your own roles");
  assert_status(disable(ua1_tok, ua1_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, "your own");
  assert_status(reset_password(ua1_tok, ua1_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, "ChangePassword");
  role_t sa[1] = {R_SYSTEM_ADMIN};
  assert_status(update_roles(admin_tok, admin_id, sa, 1, &st), GRPC_STATUS_PERMISSION_DENIED, st, "your own roles");
  /* Reading one's own account is always allowed. */
  assert_status(get_account(ua1_tok, ua1_id, &st), GRPC_STATUS_OK, st, NULL);
}

/* A UNIT_ADMIN cannot reset the password of a SYSTEM_ADMIN: the root admin is outside its
 * units, and an admin placed inside the district holds a role the UNIT_ADMIN does not, so
 * taking it over would raise the UNIT_ADMIN's own rights. The SYSTEM_ADMIN may. */
static void test_cannot_manage_a_system_admin(void **state) {
  (void)state;
  cli_status st;
  assert_status(reset_password(ua1_tok, admin_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, "account_id:");
  assert_status(reset_password(ua1_tok, sa1_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, "holds SYSTEM_ADMIN");
  assert_status(disable(ua1_tok, sa1_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, "holds SYSTEM_ADMIN");
  assert_status(reset_password(admin_tok, sa1_id, &st), GRPC_STATUS_OK, st, NULL);
}

/* An UPDATER edits records; it does not manage accounts: no create, no list, no reading
 * others — but its own account, yes. */
static void test_updater_cannot_manage_accounts(void **state) {
  (void)state;
  cli_status st;
  role_t upd[1] = {R_UPDATER};
  assert_status(create(upd1_tok, "cap.nhat.tao", d1_id, upd, 1, NULL, NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st,
                "UNIT_ADMIN");
  assert_status(list_accounts(upd1_tok, "", NULL, &st), GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  assert_status(get_account(upd1_tok, ua1_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  assert_status(disable(upd1_tok, ua1_id, &st), GRPC_STATUS_PERMISSION_DENIED, st, NULL);
  assert_status(get_account(upd1_tok, upd1_id, &st), GRPC_STATUS_OK, st, NULL);
}

/* Row-level security as a second wall: connected as the application role, inside a
 * transaction whose hoso.scope is district 2, PostgreSQL itself returns no district-1 row and
 * updates none, whatever the SQL asks for. */
static void test_row_level_security(void **state) {
  (void)state;
  PGconn *c = PQconnectdb(pg.dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, "BEGIN");
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  const char *p[1] = {d2_path};
  r = PQexecParams(c, "SELECT set_config('hoso.scope', $1, true)", 1, NULL, p, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  PQclear(r);

  r = PQexec(c, "SELECT id::text, unit_path::text FROM identity.accounts");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  int saw_r2 = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *path = PQgetvalue(r, i, 1);
    if (within(path, d1_path)) fail_msg("district-1 account %s visible in district 2's scope", PQgetvalue(r, i, 0));
    assert_true(within(path, d2_path));
    saw_r2 |= strcmp(PQgetvalue(r, i, 0), r2_id) == 0;
  }
  assert_true(saw_r2); /* the wall hides other districts, not everything */
  PQclear(r);
  /* Asking for district 1 by id, or by path, still finds nothing; an update changes nothing. */
  const char *q[1] = {upd1_id};
  r = PQexecParams(c, "SELECT count(*) FROM identity.accounts WHERE id = $1::bigint", 1, NULL, q, NULL, NULL, 0);
  assert_string_equal(PQgetvalue(r, 0, 0), "0");
  PQclear(r);
  r = PQexecParams(c, "UPDATE identity.accounts SET status = 2 WHERE id = $1::bigint", 1, NULL, q, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  assert_string_equal(PQcmdTuples(r), "0");
  PQclear(r);
  r = PQexec(c, "ROLLBACK");
  PQclear(r);

  /* Without any scope set, nothing at all is visible. */
  r = PQexec(c, "SELECT count(*) FROM identity.accounts");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_string_equal(PQgetvalue(r, 0, 0), "0");
  PQclear(r);
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unit_admin_creates_in_subtree),
      cmocka_unit_test(test_unit_admin_cannot_create_in_sibling),
      cmocka_unit_test(test_unit_admin_cannot_see_sibling),
      cmocka_unit_test(test_grant_only_held_roles),
      cmocka_unit_test(test_no_change_of_own_account),
      cmocka_unit_test(test_cannot_manage_a_system_admin),
      cmocka_unit_test(test_updater_cannot_manage_accounts),
      cmocka_unit_test(test_row_level_security),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
