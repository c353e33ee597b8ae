/* Linking an account to a person (SELF, 004 Đ12.2) over real identity, records and PostgreSQL:
 * identity asks records, with the linking administrator's own token, whether the record lies in
 * that administrator's units (LinkPerson), so nobody links an account to a dossier elsewhere by
 * its sequential id; and records serves a SELF token only through a link it made that way, so a
 * link written into identity's database around it reads nothing. One person, one account. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#define IDN "/hoso.identity.v1.Identity/"
#define REC "/hoso.records.v1.Records/"
#define R(x) HOSO__COMMON__V1__ROLE__##x

static th_world w;
static char rec_d1[32], rec_d1b[32], rec_d2[32], rec_d2b[32], rec_d2c[32], rec_d2d[32], rec_d2e[32], rec_d2f[32];

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  return th_world_record(&w, w.tok_d1_updater, w.d1_id, "Nguyễn Văn Lục", rec_d1) ||
         th_world_record(&w, w.tok_d1_updater, w.d1_id, "Nguyễn Thị Nam", rec_d1b) ||
         th_world_record(&w, w.tok_d2_updater, w.d2_id, "Trần Thị Yên", rec_d2) ||
         th_world_record(&w, w.tok_d2_updater, w.d2_id, "Lê Văn Thế", rec_d2b) ||
         th_world_record(&w, w.tok_d2_updater, w.d2_id, "Phạm Thị Bốn", rec_d2c) ||
         th_world_record(&w, w.tok_d2_updater, w.d2_id, "Hoàng Văn Năm", rec_d2d) ||
         th_world_record(&w, w.tok_d2_updater, w.d2_id, "Vũ Thị Sáu", rec_d2e) ||
         th_world_record(&w, w.tok_d2_updater, w.d2_id, "Đỗ Văn Bảy", rec_d2f);
}

static int teardown(void **state) {
  (void)state;
  return th_world_stop(&w);
}

static grpc_status_code create_account(const char *tok, const char *username, const char *unit, int role,
                                       const char *record_id, char *id_out, cli_status *st) {
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  Hoso__Common__V1__Role roles[1] = {(Hoso__Common__V1__Role)role};
  req.username = (char *)username;
  req.full_name = "Người Được Liên Kết";
  req.unit_id = (char *)unit;
  req.roles = roles;
  req.n_roles = 1;
  req.initial_password = "Mat-khau-tam-2026";
  req.person_record_id = (char *)(record_id ? record_id : "");
  Hoso__Identity__V1__CreateAccountResponse *r = NULL;
  grpc_status_code c = th_call(w.id_ch, IDN "CreateAccount", &req, &hoso__identity__v1__create_account_response__descriptor,
                               (void **)&r, tok, st);
  if (r && id_out) snprintf(id_out, 32, "%s", r->account->id);
  if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
  return c;
}

static grpc_status_code link_roles(const char *tok, const char *account_id, int role, const char *record_id,
                                   cli_status *st) {
  Hoso__Identity__V1__UpdateAccountRolesRequest req = HOSO__IDENTITY__V1__UPDATE_ACCOUNT_ROLES_REQUEST__INIT;
  Hoso__Common__V1__Role roles[1] = {(Hoso__Common__V1__Role)role};
  req.account_id = (char *)account_id;
  req.roles = roles;
  req.n_roles = 1;
  req.person_record_id = (char *)record_id;
  req.reason = "liên kết tài khoản với hồ sơ";
  return th_call(w.id_ch, IDN "UpdateAccountRoles", &req, &hoso__identity__v1__update_account_roles_response__descriptor,
                 NULL, tok, st);
}

static grpc_status_code get_record(const char *tok, const char *id, cli_status *st) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  return th_call(w.rec_ch, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor, NULL, tok, st);
}

/* The hole: a district head who also holds SELF (so may hand SELF out) linked a new account to
 * a dossier of the other district by its id, and records then served it. Now records is asked,
 * with the head's token, and the record lies outside the head's units. */
static void test_link_outside_scope_refused(void **state) {
  (void)state;
  int roles[2] = {R(UNIT_ADMIN), R(SELF)};
  char *head = th_world_account(&w, "yt.truongphong", w.d2_id, roles, 2, rec_d2);
  assert_non_null(head);
  cli_status st;
  th_expect(create_account(head, "yt.gian", w.d2_id, R(SELF), rec_d1, NULL, &st), &st,
            GRPC_STATUS_PERMISSION_DENIED, "person_record_id");
  assert_non_null(strstr(st.message, "outside yours"));
  th_expect(create_account(head, "yt.gian", w.d2_id, R(SELF), "999999", NULL, &st), &st, GRPC_STATUS_NOT_FOUND,
            "person_record_id");
  /* The same head links a dossier of its own district: records confirms it. */
  char acc[32];
  th_expect(create_account(head, "yt.canhan", w.d2_id, R(SELF), rec_d2b, acc, &st), &st, GRPC_STATUS_OK, NULL);
  /* UpdateAccountRoles is a way to link too: refused for the other district's dossier. */
  th_expect(link_roles(head, acc, R(SELF), rec_d1, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "person_record_id");
  th_expect(link_roles(head, acc, R(SELF), rec_d2c, &st), &st, GRPC_STATUS_OK, NULL);
  /* Nor is records asked to confirm a link for another district's account: the head may not
   * touch it, and no link is left behind at records for it. */
  char other[32];
  th_expect(create_account(w.tok_d1_admin, "ln.mot.nguoi", w.d1_id, R(UNIT_ADMIN), NULL, other, &st), &st,
            GRPC_STATUS_OK, NULL);
  th_expect(link_roles(head, other, R(SELF), rec_d2d, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "account_id");
  PGconn *db = PQconnectdb(w.pg.admin_dsn);
  assert_int_equal(PQstatus(db), CONNECTION_OK);
  const char *p[1] = {other};
  PGresult *r = PQexecParams(db, "SELECT count(*) FROM records.person_links WHERE account_id = $1", 1, NULL, p, NULL,
                             NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_string_equal(PQgetvalue(r, 0, 0), "0");
  PQclear(r);
  PQfinish(db);
  free(head);
}

/* A person reads their own dossier when the link was made through records. */
static void test_self_reads_own_record(void **state) {
  (void)state;
  char *self = th_world_self_token(&w, w.d2_id, rec_d2e);
  assert_non_null(self);
  cli_status st;
  th_expect(get_record(self, rec_d2e, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(get_record(self, rec_d2b, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  free(self);
}

/* A link written into identity's database around records (as an identity that did not ask, or
 * anyone who can change that row, would make it): identity signs tokens naming the record, and
 * records refuses every SELF path with a message that says what to do. */
static void test_link_records_never_made_reads_nothing(void **state) {
  (void)state;
  int role = R(SELF);
  char *first = th_world_account(&w, "yt.lienket", w.d2_id, &role, 1, rec_d2f);
  assert_non_null(first);
  free(first);
  PGconn *db = PQconnectdb(w.pg.admin_dsn);
  assert_int_equal(PQstatus(db), CONNECTION_OK);
  PQclear(PQexec(db, "SET search_path = identity, public")); /* identity's triggers name their functions so */
  const char *p[1] = {rec_d1};
  PGresult *r = PQexecParams(db, "UPDATE identity.accounts SET person_record_id = $1 WHERE username = 'yt.lienket'", 1,
                             NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s", PQresultErrorMessage(r));
  assert_string_equal(PQcmdTuples(r), "1");
  PQclear(r);
  PQfinish(db);
  /* a new login: its token names the record identity now has */
  char *tok = th_login(w.id_ch, "yt.lienket", TH_WORLD_PASSWORD);
  assert_non_null(tok);
  cli_status st;
  th_expect(get_record(tok, rec_d1, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_non_null(strstr(st.message, "link it again"));
  Hoso__Records__V1__SearchRecordsRequest sq = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  th_expect(th_call(w.rec_ch, REC "SearchRecords", &sq, &hoso__records__v1__search_records_response__descriptor, NULL,
                    tok, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  Hoso__Records__V1__ListChangeRequestsRequest lq = HOSO__RECORDS__V1__LIST_CHANGE_REQUESTS_REQUEST__INIT;
  th_expect(th_call(w.rec_ch, REC "ListChangeRequests", &lq,
                    &hoso__records__v1__list_change_requests_response__descriptor, NULL, tok, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  /* and a change request in the person's name */
  Hoso__Records__V1__Record proposed = HOSO__RECORDS__V1__RECORD__INIT;
  proposed.id = rec_d1;
  Hoso__Records__V1__CreateChangeRequestRequest cq = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  cq.proposed = &proposed;
  cq.base_version = 1;
  th_expect(th_call(w.rec_ch, REC "CreateChangeRequest", &cq,
                    &hoso__records__v1__create_change_request_response__descriptor, NULL, tok, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  free(tok);
}

/* One person, one account (003 Đ5.3): a second live account for the same record is refused;
 * after the first is revoked (the person changed jobs) the new one may be made. */
static void test_one_person_one_account(void **state) {
  (void)state;
  cli_status st;
  char id[32];
  th_expect(create_account(w.tok_admin, "ca.nhan.mot", w.d1_id, R(SELF), rec_d1b, id, &st), &st, GRPC_STATUS_OK, NULL);
  /* Another unit, another role: still the same person. */
  th_expect(create_account(w.tok_admin, "ca.nhan.hai", w.d2_id, R(READER), rec_d1b, NULL, &st), &st,
            GRPC_STATUS_ALREADY_EXISTS, "person_record_id");
  Hoso__Identity__V1__RevokeAccountRequest rv = HOSO__IDENTITY__V1__REVOKE_ACCOUNT_REQUEST__INIT;
  rv.account_id = id;
  rv.reason = "chuyển công tác";
  th_expect(th_call(w.id_ch, IDN "RevokeAccount", &rv, &hoso__identity__v1__revoke_account_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  th_expect(create_account(w.tok_admin, "ca.nhan.hai", w.d2_id, R(READER), rec_d1b, NULL, &st), &st, GRPC_STATUS_OK,
            NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_link_outside_scope_refused),
      cmocka_unit_test(test_self_reads_own_record),
      cmocka_unit_test(test_link_records_never_made_reads_nothing),
      cmocka_unit_test(test_one_person_one_account),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
