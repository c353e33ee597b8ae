/* GetAccountNames over real gRPC and PostgreSQL: an account learns the names of the accounts of
 * the units it reads (its subtree: a district's reader names the district's and its school's
 * people, a disabled one too, not the other district's), its own name, and nobody else's (a
 * SELF person: only their own); ids it may not know are left out, not refused; every answer is
 * audited with the ids it named; bad input is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "th_world.h"

#define IDN "/hoso.identity.v1.Identity/"

typedef Hoso__Identity__V1__GetAccountNamesResponse names_resp;

static th_world w;
/* accounts made here, with names of their own: district 1, its school, district 2, and one of
 * district 1 disabled since */
static char acc_d1[32], acc_d1u[32], acc_d2[32], acc_gone[32];
static char *tok_self;
static char self_id[32], d1_reader_id[32];

static void account(const char *username, const char *full_name, const char *unit, char id[32]) {
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  Hoso__Common__V1__Role roles[1] = {HOSO__COMMON__V1__ROLE__READER};
  req.username = (char *)username;
  req.full_name = (char *)full_name;
  req.unit_id = (char *)unit;
  req.roles = roles;
  req.n_roles = 1;
  req.initial_password = "Mat-khau-tam-2026";
  Hoso__Identity__V1__CreateAccountResponse *r;
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "CreateAccount", &req, &hoso__identity__v1__create_account_response__descriptor,
                    (void **)&r, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  snprintf(id, 32, "%s", r->account->id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void whoami(const char *tok, char id[32]) {
  Hoso__Identity__V1__WhoAmIRequest req = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *r;
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "WhoAmI", &req, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&r, tok,
                    &st),
            &st, GRPC_STATUS_OK, NULL);
  snprintf(id, 32, "%s", r->account->id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static grpc_status_code names(const char *tok, char **ids, size_t n, names_resp **out, cli_status *st) {
  Hoso__Identity__V1__GetAccountNamesRequest req = HOSO__IDENTITY__V1__GET_ACCOUNT_NAMES_REQUEST__INIT;
  req.account_ids = ids;
  req.n_account_ids = n;
  *out = NULL;
  memset(st, 0, sizeof *st);
  return th_call(w.id_ch, IDN "GetAccountNames", &req, &hoso__identity__v1__get_account_names_response__descriptor,
                 (void **)out, tok, st);
}

/* The names answered to tok for ids, as "id=name;" in the answer's order. */
static char *named(const char *tok, char **ids, size_t n) {
  names_resp *r;
  cli_status st;
  th_expect(names(tok, ids, n, &r, &st), &st, GRPC_STATUS_OK, NULL);
  size_t len = 1;
  for (size_t i = 0; i < r->n_accounts; i++) len += strlen(r->accounts[i]->id) + strlen(r->accounts[i]->full_name) + 2;
  char *s = calloc(1, len), *p = s;
  for (size_t i = 0; i < r->n_accounts; i++) p += sprintf(p, "%s=%s;", r->accounts[i]->id, r->accounts[i]->full_name);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return s;
}

static void assert_named(const char *tok, char **ids, size_t n, const char *want) {
  char *got = named(tok, ids, n);
  assert_string_equal(got, want);
  free(got);
}

static char *sql_value(const char *sql, const char *p1) {
  PGconn *c = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(c) != CONNECTION_OK) fail_msg("admin connection: %s", PQerrorMessage(c));
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
  char *v = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(c);
  return v;
}

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  account("ten.mot", "Nguyễn Thị Một", w.d1_id, acc_d1);
  account("ten.truong", "Trần Văn Trường", w.d1u_id, acc_d1u);
  account("ten.hai", "Lê Văn Hai", w.d2_id, acc_d2);
  account("ten.cu", "Phạm Văn Cũ", w.d1_id, acc_gone);
  Hoso__Identity__V1__DisableAccountRequest dis = HOSO__IDENTITY__V1__DISABLE_ACCOUNT_REQUEST__INIT;
  dis.account_id = acc_gone;
  dis.reason = "Nghỉ hưu";
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "DisableAccount", &dis, &hoso__identity__v1__disable_account_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  char rec[32];
  if (th_world_record(&w, w.tok_d1_updater, w.d1_id, "Đỗ Thị Tự", rec) != 0) return -1;
  if (!(tok_self = th_world_self_token(&w, w.d1_id, rec))) return -1;
  whoami(tok_self, self_id);
  whoami(w.tok_d1_reader, d1_reader_id);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(tok_self);
  char log[256];
  snprintf(log, sizeof log, "%s", w.identity.log);
  int rc = th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

/* Each caller is named the accounts of its subtree, in id order, whatever order it asks in;
 * the rest (the other district, an id that is nobody's) is left out. */
static void test_subtree_names(void **state) {
  (void)state;
  char *ids[] = {acc_d2, acc_gone, acc_d1u, "999999999", acc_d1, acc_d1};
  char want[512];
  snprintf(want, sizeof want, "%s=Nguyễn Thị Một;%s=Trần Văn Trường;%s=Lê Văn Hai;%s=Phạm Văn Cũ;", acc_d1, acc_d1u,
           acc_d2, acc_gone);
  assert_named(w.tok_admin, ids, 6, want);
  snprintf(want, sizeof want, "%s=Nguyễn Thị Một;%s=Trần Văn Trường;%s=Phạm Văn Cũ;", acc_d1, acc_d1u, acc_gone);
  assert_named(w.tok_d1_reader, ids, 6, want);
  assert_named(w.tok_d1_admin, ids, 6, want);
  snprintf(want, sizeof want, "%s=Trần Văn Trường;", acc_d1u);
  assert_named(w.tok_d1u_updater, ids, 6, want); /* the school's updater: not its district's people */
  snprintf(want, sizeof want, "%s=Lê Văn Hai;", acc_d2);
  assert_named(w.tok_d2_reader, ids, 6, want);
}

/* A person (SELF) is in district 1's scope but reads no unit: only their own name. */
static void test_self_only_own(void **state) {
  (void)state;
  char *ids[] = {acc_d1, self_id, d1_reader_id};
  char want[128];
  snprintf(want, sizeof want, "%s=Người Dùng Thử;", self_id);
  assert_named(tok_self, ids, 3, want);
  char *others[] = {acc_d1, acc_gone};
  assert_named(tok_self, others, 2, "");
}

/* Each answer leaves one row naming the ids it gave, with the caller as actor. */
static void test_audited(void **state) {
  (void)state;
  char *before = sql_value("SELECT count(*) FROM identity.audit_log WHERE action = 'ACCOUNT_NAMES_READ' AND actor_id = $1",
                           d1_reader_id);
  char *ids[] = {acc_d2, acc_d1};
  char *got = named(w.tok_d1_reader, ids, 2);
  free(got);
  char *after = sql_value("SELECT count(*) FROM identity.audit_log WHERE action = 'ACCOUNT_NAMES_READ' AND actor_id = $1",
                          d1_reader_id);
  assert_int_equal(strtol(after, NULL, 10), strtol(before, NULL, 10) + 1);
  char *detail = sql_value("SELECT detail FROM identity.audit_log WHERE action = 'ACCOUNT_NAMES_READ' AND actor_id = $1 "
                           "ORDER BY seq DESC LIMIT 1",
                           d1_reader_id);
  char want[128];
  snprintf(want, sizeof want, "{\"asked\":2,\"named\":[\"%s\"]}", acc_d1);
  assert_string_equal(detail, want);
  free(before);
  free(after);
  free(detail);
}

/* Bad input is named; no token, no names. */
static void test_input(void **state) {
  (void)state;
  names_resp *r;
  cli_status st;
  th_expect(names(w.tok_d1_reader, NULL, 0, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "account_ids");
  char *bad[] = {acc_d1, "12a"};
  th_expect(names(w.tok_d1_reader, bad, 2, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "account_ids[1]");
  char *many[101];
  for (size_t i = 0; i < 101; i++) many[i] = acc_d1;
  th_expect(names(w.tok_d1_reader, many, 101, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "account_ids");
  char want[128];
  snprintf(want, sizeof want, "%s=Nguyễn Thị Một;", acc_d1);
  assert_named(w.tok_d1_reader, many, 100, want); /* a hundred times the same id: named once */
  char *one[] = {acc_d1};
  th_expect(names(NULL, one, 1, &r, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_subtree_names),
      cmocka_unit_test(test_self_only_own),
      cmocka_unit_test(test_audited),
      cmocka_unit_test(test_input),
  };
  return cmocka_run_group_tests_name("identity_account_names", tests, setup, teardown);
}
