/* Sessions end when the account changes, in every service: a disabled account, narrowed roles,
 * a reset password or a revoked service client make the tokens already handed out fail at
 * identity and at records within seconds (ListTokenRevocations), while other people's tokens
 * and the tokens of a new login keep working — also after a records restart and while identity
 * cannot be reached. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "common.pb-c.h"
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#define IDN "/hoso.identity.v1.Identity/"
#define REC "/hoso.records.v1.Records/"
#define TEMP_PW "Mat-khau-tam-thoi-thu-hoi-2026"
#define NEW_PW "Mat-khau-moi-sau-thu-hoi-2026"
/* Records reads the list every 200 ms here, identity every 2 s (its default): a revocation must
 * show within WAIT_S at both, generously more for a loaded machine under the sanitizers. */
#define WAIT_S 30

static th_world w;
static char rec_id[32];

static int setup(void **state) {
  (void)state;
  static const char *const env[] = {"HOSO_REVOCATION_POLL_MS=200", NULL};
  if (th_world_start(&w, 1, env) != 0) return -1;
  return th_world_record(&w, w.tok_d1_updater, w.d1_id, "Đặng Thị Thu Hồi", rec_id);
}

static int teardown(void **state) {
  (void)state;
  int rc = th_world_stop(&w);
  /* Records read the list every 200 ms for the whole run: identity logs those successful
   * polls at debug level only (SRV_QUIET), or its log would be mostly them. */
  if (th_log_count(w.identity.log, "ListTokenRevocations OK", "identity logged a revocation poll at info level") != 0)
    rc = -1;
  return rc == 0 && th_log_errors(w.records.log) == 0 && th_log_errors(w.identity.log) == 0 ? 0 : -1;
}

/* A records read with token: GetRecord of the test's dossier (in d1). */
static grpc_status_code at_records(const char *token, cli_status *st) {
  Hoso__Records__V1__GetRecordRequest q = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  q.record_id = rec_id;
  return th_call(w.rec_ch, REC "GetRecord", &q, &hoso__records__v1__get_record_response__descriptor, NULL, token,
                 st);
}

/* An identity call with token: WhoAmI, which any valid token may make. */
static grpc_status_code at_identity(const char *token, cli_status *st) {
  Hoso__Identity__V1__WhoAmIRequest q = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  return th_call(w.id_ch, IDN "WhoAmI", &q, &hoso__identity__v1__who_am_iresponse__descriptor, NULL, token, st);
}

typedef grpc_status_code (*probe)(const char *token, cli_status *st);

/* Polls until the token is refused as revoked (UNAUTHENTICATED naming the revocation) or
 * WAIT_S pass; returns the seconds it took, failing the test on a timeout. Any other status
 * than OK, PERMISSION_DENIED (a service client reading a record) or the awaited refusal fails
 * at once. */
static double until_revoked(probe p, const char *token, const char *where) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    cli_status st;
    grpc_status_code c = p(token, &st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (c == GRPC_STATUS_UNAUTHENTICATED) {
      if (!strstr(st.message, "revoked")) fail_msg("%s: refused, but not as revoked: %s", where, st.message);
      return s;
    }
    if (c != GRPC_STATUS_OK && c != GRPC_STATUS_PERMISSION_DENIED)
      fail_msg("%s: %s %s", where, cli_status_name(c), st.message);
    if (s > WAIT_S) fail_msg("%s: the revoked token still works after %.0f s", where, s);
    usleep(50 * 1000);
  }
}

static void expect_ok(probe p, const char *token, const char *where) {
  cli_status st;
  grpc_status_code c = p(token, &st);
  if (c != GRPC_STATUS_OK) fail_msg("%s: %s %s", where, cli_status_name(c), st.message);
}

static void expect_revoked_now(probe p, const char *token, const char *where) {
  cli_status st;
  grpc_status_code c = p(token, &st);
  if (c != GRPC_STATUS_UNAUTHENTICATED || !strstr(st.message, "revoked"))
    fail_msg("%s: expected the token refused as revoked, got %s %s", where, cli_status_name(c), st.message);
}

/* The account id behind a token (WhoAmI). */
static void account_of(const char *token, char id[32]) {
  Hoso__Identity__V1__WhoAmIRequest q = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *r = NULL;
  cli_status st;
  assert_int_equal(th_call(w.id_ch, IDN "WhoAmI", &q, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&r,
                           token, &st),
                   GRPC_STATUS_OK);
  assert_non_null(r->account);
  snprintf(id, 32, "%s", r->account->id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static grpc_status_code admin_call(const char *method, const void *req, const ProtobufCMessageDescriptor *d) {
  cli_status st;
  grpc_status_code c = th_call(w.id_ch, method, req, d, NULL, w.tok_admin, &st);
  if (c != GRPC_STATUS_OK) fprintf(stderr, "%s: %s %s\n", method, cli_status_name(c), st.message);
  return c;
}

/* A full token for username after an administrator's password reset: log in with the
 * temporary password, change it. */
static char *fresh_login(const char *account_id, const char *username) {
  Hoso__Identity__V1__ResetPasswordRequest rp = HOSO__IDENTITY__V1__RESET_PASSWORD_REQUEST__INIT;
  rp.account_id = (char *)account_id;
  rp.new_password = TEMP_PW;
  assert_int_equal(admin_call(IDN "ResetPassword", &rp, &hoso__identity__v1__reset_password_response__descriptor),
                   GRPC_STATUS_OK);
  char *tmp = th_login(w.id_ch, username, TEMP_PW);
  assert_non_null(tmp);
  Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  cp.old_password = TEMP_PW;
  cp.new_password = NEW_PW;
  Hoso__Identity__V1__ChangePasswordResponse *r = NULL;
  cli_status st;
  assert_int_equal(th_call(w.id_ch, IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor,
                           (void **)&r, tmp, &st),
                   GRPC_STATUS_OK);
  free(tmp);
  char *tok = strdup(r->access_token);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return tok;
}

/* Disabling an account ends its sessions at records and identity; a colleague in the same unit
 * is untouched; once enabled again, a new login works everywhere at once, the old token stays
 * refused. */
static void test_disabled_account(void **state) {
  (void)state;
  char *tok = th_world_account_token(&w, "rv.reader", w.d1_id, HOSO__COMMON__V1__ROLE__READER);
  assert_non_null(tok);
  char id[32];
  account_of(tok, id);
  expect_ok(at_records, tok, "records before");
  expect_ok(at_identity, tok, "identity before");

  Hoso__Identity__V1__DisableAccountRequest d = HOSO__IDENTITY__V1__DISABLE_ACCOUNT_REQUEST__INIT;
  d.account_id = id;
  d.reason = "Nghỉ phép dài hạn";
  assert_int_equal(admin_call(IDN "DisableAccount", &d, &hoso__identity__v1__disable_account_response__descriptor),
                   GRPC_STATUS_OK);
  double sr = until_revoked(at_records, tok, "records after disable");
  double si = until_revoked(at_identity, tok, "identity after disable");
  fprintf(stderr, "disabled account refused after %.2f s at records, %.2f s more at identity\n", sr, si);
  expect_ok(at_records, w.tok_d1_reader, "a colleague at records");
  expect_ok(at_identity, w.tok_d1_reader, "a colleague at identity");

  Hoso__Identity__V1__EnableAccountRequest e = HOSO__IDENTITY__V1__ENABLE_ACCOUNT_REQUEST__INIT;
  e.account_id = id;
  e.reason = "Đi làm lại";
  assert_int_equal(admin_call(IDN "EnableAccount", &e, &hoso__identity__v1__enable_account_response__descriptor),
                   GRPC_STATUS_OK);
  char *again = fresh_login(id, "rv.reader");
  /* signed with the raised generation: not void, without waiting for any poll */
  expect_ok(at_records, again, "records, new login");
  expect_ok(at_identity, again, "identity, new login");
  expect_revoked_now(at_records, tok, "records, the old token after enabling");
  free(again);
  free(tok);
}

/* Narrowed roles: the UPDATER token that still says UPDATER stops working; a new login carries
 * the new role. */
static void test_roles_narrowed(void **state) {
  (void)state;
  char *tok = th_world_account_token(&w, "rv.updater", w.d1_id, HOSO__COMMON__V1__ROLE__UPDATER);
  assert_non_null(tok);
  char id[32];
  account_of(tok, id);
  expect_ok(at_records, tok, "records before");
  Hoso__Identity__V1__UpdateAccountRolesRequest u = HOSO__IDENTITY__V1__UPDATE_ACCOUNT_ROLES_REQUEST__INIT;
  Hoso__Common__V1__Role roles[1] = {HOSO__COMMON__V1__ROLE__READER};
  u.account_id = id;
  u.roles = roles;
  u.n_roles = 1;
  u.reason = "Chuyển sang chỉ xem";
  assert_int_equal(admin_call(IDN "UpdateAccountRoles", &u, &hoso__identity__v1__update_account_roles_response__descriptor),
                   GRPC_STATUS_OK);
  until_revoked(at_records, tok, "records after narrowing");
  until_revoked(at_identity, tok, "identity after narrowing");
  char *again = fresh_login(id, "rv.updater");
  Hoso__Identity__V1__WhoAmIRequest q = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *r = NULL;
  cli_status st;
  assert_int_equal(th_call(w.id_ch, IDN "WhoAmI", &q, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&r,
                           again, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(r->n_roles, 1);
  assert_int_equal(r->roles[0], HOSO__COMMON__V1__ROLE__READER);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  expect_ok(at_records, again, "records, new login");
  free(again);
  free(tok);
}

/* A unit moved to another district: the tokens of its people name the old place, so they are
 * void; a client holding a refresh token gets a working token for the new place without a new
 * login (the move ends access tokens, not sessions). */
static void test_unit_moved(void **state) {
  (void)state;
  char unit[32], path[64];
  assert_int_equal(th_world_unit(&w, w.d1_id, "RV-TRUONG", "Trường Tiểu học Thu Hồi",
                                HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_PUBLIC_SERVICE, unit, path), 0);
  char *first = th_world_account_token(&w, "rv.mover", unit, HOSO__COMMON__V1__ROLE__READER);
  assert_non_null(first);
  char id[32];
  account_of(first, id);
  free(first);
  char *tok = fresh_login(id, "rv.mover"); /* its refresh token comes from a Login below */
  free(tok);
  Hoso__Identity__V1__LoginRequest lq = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  lq.username = "rv.mover";
  lq.password = NEW_PW;
  Hoso__Identity__V1__LoginResponse *lr = NULL;
  cli_status st;
  assert_int_equal(th_call(w.id_ch, IDN "Login", &lq, &hoso__identity__v1__login_response__descriptor, (void **)&lr,
                           NULL, &st),
                   GRPC_STATUS_OK);
  expect_ok(at_identity, lr->access_token, "identity before the move");

  Hoso__Identity__V1__MoveUnitRequest mv = HOSO__IDENTITY__V1__MOVE_UNIT_REQUEST__INIT;
  mv.unit_id = unit;
  mv.new_parent_id = w.d2_id;
  mv.reason = "Điều chỉnh địa giới hành chính";
  assert_int_equal(admin_call(IDN "MoveUnit", &mv, &hoso__identity__v1__move_unit_response__descriptor), GRPC_STATUS_OK);
  until_revoked(at_identity, lr->access_token, "identity after the move");

  Hoso__Identity__V1__RefreshRequest rq = HOSO__IDENTITY__V1__REFRESH_REQUEST__INIT;
  rq.refresh_token = lr->refresh_token;
  Hoso__Identity__V1__RefreshResponse *rr = NULL;
  assert_int_equal(th_call(w.id_ch, IDN "Refresh", &rq, &hoso__identity__v1__refresh_response__descriptor, (void **)&rr,
                           NULL, &st),
                   GRPC_STATUS_OK);
  expect_ok(at_identity, rr->access_token, "identity, refreshed token");
  Hoso__Identity__V1__WhoAmIRequest q = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *who = NULL;
  assert_int_equal(th_call(w.id_ch, IDN "WhoAmI", &q, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&who,
                           rr->access_token, &st),
                   GRPC_STATUS_OK);
  /* the refreshed token names the unit's new place, under district 2 */
  assert_int_equal(who->n_scope_unit_paths, 1);
  assert_int_equal(strncmp(who->scope_unit_paths[0], w.d2_path, strlen(w.d2_path)), 0);
  protobuf_c_message_free_unpacked(&who->base, NULL);
  protobuf_c_message_free_unpacked(&rr->base, NULL);
  protobuf_c_message_free_unpacked(&lr->base, NULL);
}

/* A revoked service client's token stops working too. */
static void test_service_client_revoked(void **state) {
  (void)state;
  Hoso__Identity__V1__CreateServiceClientRequest c = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[1] = {w.d1_id};
  c.name = "Hệ thống thử thu hồi";
  c.unit_ids = units;
  c.n_unit_ids = 1;
  c.approval_reference = "Văn bản số 02/SNV-TEST";
  Hoso__Identity__V1__CreateServiceClientResponse *cr = NULL;
  cli_status st;
  assert_int_equal(th_call(w.id_ch, IDN "CreateServiceClient", &c,
                           &hoso__identity__v1__create_service_client_response__descriptor, (void **)&cr, w.tok_admin,
                           &st),
                   GRPC_STATUS_OK);
  Hoso__Identity__V1__ServiceLoginRequest sl = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  sl.client_id = cr->client->client_id;
  sl.client_secret = cr->client_secret;
  Hoso__Identity__V1__ServiceLoginResponse *lr = NULL;
  assert_int_equal(th_call(w.id_ch, IDN "ServiceLogin", &sl, &hoso__identity__v1__service_login_response__descriptor,
                           (void **)&lr, NULL, &st),
                   GRPC_STATUS_OK);
  expect_ok(at_identity, lr->access_token, "identity before");
  Hoso__Identity__V1__RevokeServiceClientRequest rv = HOSO__IDENTITY__V1__REVOKE_SERVICE_CLIENT_REQUEST__INIT;
  rv.client_id = cr->client->client_id;
  rv.reason = "Hết thời hạn thỏa thuận";
  assert_int_equal(admin_call(IDN "RevokeServiceClient", &rv, &hoso__identity__v1__revoke_service_client_response__descriptor),
                   GRPC_STATUS_OK);
  until_revoked(at_records, lr->access_token, "records after revoking the client");
  until_revoked(at_identity, lr->access_token, "identity after revoking the client");
  protobuf_c_message_free_unpacked(&lr->base, NULL);
  protobuf_c_message_free_unpacked(&cr->base, NULL);
}

/* The list itself: public, numbered without gaps, every revocation above in it with its
 * subject, paged, bad arguments named. */
static void test_the_list(void **state) {
  (void)state;
  Hoso__Identity__V1__ListTokenRevocationsRequest q = HOSO__IDENTITY__V1__LIST_TOKEN_REVOCATIONS_REQUEST__INIT;
  Hoso__Identity__V1__ListTokenRevocationsResponse *r = NULL;
  cli_status st;
  assert_int_equal(th_call(w.id_ch, IDN "ListTokenRevocations", &q,
                           &hoso__identity__v1__list_token_revocations_response__descriptor, (void **)&r, NULL, &st),
                   GRPC_STATUS_OK);
  /* the world's first-login password changes and the tests above made several */
  assert_true(r->n_revocations >= 6);
  assert_int_equal(r->last_seq, r->revocations[r->n_revocations - 1]->seq);
  assert_true(r->window_seconds >= 900);
  int svc = 0;
  for (size_t i = 0; i < r->n_revocations; i++) {
    if (i) assert_int_equal(r->revocations[i]->seq, r->revocations[i - 1]->seq + 1);
    assert_true(r->revocations[i]->min_generation >= 1);
    assert_int_equal(strlen(r->revocations[i]->revoked_at), 20);
    if (!strncmp(r->revocations[i]->subject, "svc:", 4)) svc++;
  }
  assert_int_equal(svc, 1);
  long long last = r->last_seq;
  protobuf_c_message_free_unpacked(&r->base, NULL);

  q.after_seq = last - 2;
  q.page_size = 1;
  assert_int_equal(th_call(w.id_ch, IDN "ListTokenRevocations", &q,
                           &hoso__identity__v1__list_token_revocations_response__descriptor, (void **)&r, NULL, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(r->n_revocations, 1);
  assert_int_equal(r->revocations[0]->seq, last - 1);
  assert_int_equal(r->last_seq, last);
  protobuf_c_message_free_unpacked(&r->base, NULL);

  q.after_seq = last;
  q.page_size = 0;
  assert_int_equal(th_call(w.id_ch, IDN "ListTokenRevocations", &q,
                           &hoso__identity__v1__list_token_revocations_response__descriptor, (void **)&r, NULL, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(r->n_revocations, 0);
  assert_int_equal(r->last_seq, last);
  protobuf_c_message_free_unpacked(&r->base, NULL);

  q.page_size = 1001;
  th_expect(th_call(w.id_ch, IDN "ListTokenRevocations", &q,
                    &hoso__identity__v1__list_token_revocations_response__descriptor, NULL, NULL, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  q.page_size = 0;
  q.after_seq = -1;
  th_expect(th_call(w.id_ch, IDN "ListTokenRevocations", &q,
                    &hoso__identity__v1__list_token_revocations_response__descriptor, NULL, NULL, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "after_seq");
}

/* A records process started after the revocation refuses the token from its first call (it
 * reads the list before serving), and one that cannot reach identity keeps refusing what it
 * knows while valid tokens still work. */
static void test_restart_and_outage(void **state) {
  (void)state;
  char *tok = th_world_account_token(&w, "rv.restart", w.d1_id, HOSO__COMMON__V1__ROLE__READER);
  assert_non_null(tok);
  char id[32];
  account_of(tok, id);
  Hoso__Identity__V1__DisableAccountRequest d = HOSO__IDENTITY__V1__DISABLE_ACCOUNT_REQUEST__INIT;
  d.account_id = id;
  d.reason = "Thôi việc";
  assert_int_equal(admin_call(IDN "DisableAccount", &d, &hoso__identity__v1__disable_account_response__descriptor),
                   GRPC_STATUS_OK);
  assert_int_equal(th_svc_stop(&w.records), 0);
  assert_int_equal(th_world_records_start(&w, &w.records), 0);
  cli_close(w.rec_ch); /* the new process listens on a port of its own */
  w.rec_ch = cli_open_tls(w.records.addr, NULL, NULL, NULL);
  assert_non_null(w.rec_ch);
  expect_revoked_now(at_records, tok, "records, first call after its restart");

  assert_int_equal(th_svc_pause(&w.identity), 0);
  usleep(600 * 1000); /* several failed polls of records */
  expect_revoked_now(at_records, tok, "records while identity is unreachable");
  expect_ok(at_records, w.tok_d1_reader, "a valid token while identity is unreachable");
  assert_int_equal(th_svc_resume(&w.identity), 0);
  free(tok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_disabled_account),
      cmocka_unit_test(test_roles_narrowed),
      cmocka_unit_test(test_unit_moved),
      cmocka_unit_test(test_service_client_revoked),
      cmocka_unit_test(test_the_list),
      cmocka_unit_test(test_restart_and_outage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
