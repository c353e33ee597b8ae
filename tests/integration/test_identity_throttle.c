/* Login throttling over real gRPC against a real PostgreSQL (identity/throttle.h): concurrent
 * guesses never get more checks than the limit (Login and ChangePassword), guesses from
 * elsewhere never lock a person out of the address they log in from, an address locked by
 * people's guesses never stops a service client, and delays grow step by step. The test
 * process is the trusted proxy, so each call names its client address (x-forwarded-for). */
#include <pthread.h>
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

static th_pg pg;
static th_svc svc;
static cli_chan *ch;
static char *admin_tok;
static char root_id[32];

#define IDN "/hoso.identity.v1.Identity/"
/* HOSO_LOGIN_DELAY_SECONDS here: far longer than any burst of this test takes on a loaded
 * machine, so "refused" never turns into "allowed again" while a test runs. */
#define DELAY 60
#define PAIR_FREE 5  /* THR_PAIR_FREE */
#define NAME_FREE 10 /* THR_NAME_FREE */
#define ADDR_FREE 20 /* THR_ADDR_FREE */

static grpc_status_code call(const char *addr, const char *method, const void *req,
                             const ProtobufCMessageDescriptor *d, void **resp, const char *token, cli_status *st) {
  return th_call_from(ch, addr, method, req, d, resp, token, st);
}

/* A login from addr; *token (may be NULL) gets the access token on success. */
static grpc_status_code login(const char *addr, const char *user, const char *pw, char **token, cli_status *st) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)user;
  req.password = (char *)pw;
  Hoso__Identity__V1__LoginResponse *r = NULL;
  grpc_status_code c = call(addr, IDN "Login", &req, &hoso__identity__v1__login_response__descriptor, (void **)&r,
                            NULL, st);
  if (token) *token = r ? strdup(r->access_token) : NULL;
  if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
  return c;
}

static grpc_status_code change_password(const char *addr, const char *token, const char *old_pw, const char *new_pw,
                                        cli_status *st) {
  Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  cp.old_password = (char *)old_pw;
  cp.new_password = (char *)new_pw;
  return call(addr, IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor, NULL,
              token, st);
}

/* A READER account at the root whose password is pw, first login done from home (which
 * becomes its usual address). Returns its id (static storage). */
static const char *person(const char *user, const char *pw, const char *home) {
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  Hoso__Common__V1__Role roles[1] = {HOSO__COMMON__V1__ROLE__READER};
  req.username = (char *)user;
  req.full_name = "Trần Thị Thử";
  req.unit_id = root_id;
  req.roles = roles;
  req.n_roles = 1;
  req.initial_password = "Mat-khau-tam-thoi-1";
  Hoso__Identity__V1__CreateAccountResponse *r = NULL;
  cli_status st;
  grpc_status_code c = call("198.51.100.1", IDN "CreateAccount", &req,
                            &hoso__identity__v1__create_account_response__descriptor, (void **)&r, admin_tok, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateAccount %s: %s %s", user, cli_status_name(c), st.message);
  static char id[32];
  snprintf(id, sizeof id, "%s", r->account->id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  char *tok = NULL;
  assert_int_equal(login(home, user, "Mat-khau-tam-thoi-1", &tok, &st), GRPC_STATUS_OK);
  assert_int_equal(change_password(home, tok, "Mat-khau-tam-thoi-1", pw, &st), GRPC_STATUS_OK);
  free(tok);
  return id;
}

static long sql_long(const char *sql, const char *p1) {
  PGconn *c = PQconnectdb(pg.admin_dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(c, sql, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? atol(PQgetvalue(r, 0, 0)) : atol(PQcmdTuples(r));
  PQclear(r);
  PQfinish(c);
  return v;
}

/* The seconds a refusal says to wait ("... try again in N s"), or -1. */
static long wait_of(const cli_status *st) {
  const char *p = strstr(st->message, "try again in ");
  return p ? atol(p + strlen("try again in ")) : -1;
}

static int setup(void **state) {
  (void)state;
  if (th_pg_start(&pg) != 0) return -1;
  /* Every password check may run at once: the gate (one at a time by default) is not what the
   * concurrency tests are about, the count is. */
  const char *env[] = {"HOSO_TRUSTED_PROXIES=127.0.0.1", "HOSO_LOGIN_DELAY_SECONDS=60", "HOSO_LOGIN_UNFAMILIAR_SLOTS=16",
                       "HOSO_LOGIN_UNFAMILIAR_RATE=100000", "HOSO_WORKERS=16", NULL};
  if (th_svc_start(&svc, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, env) != 0) return -1;
  ch = cli_open_tls(svc.addr, NULL, NULL, NULL);
  cli_status st;
  if (!ch || login("198.51.100.1", "admin", TH_ADMIN_PASSWORD, &admin_tok, &st) != GRPC_STATUS_OK) return -1;
  Hoso__Identity__V1__WhoAmIRequest w = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *who = NULL;
  if (call("198.51.100.1", IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&who,
           admin_tok, &st) != GRPC_STATUS_OK)
    return -1;
  snprintf(root_id, sizeof root_id, "%s", who->account->unit_id);
  protobuf_c_message_free_unpacked(&who->base, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin_tok);
  if (ch) cli_close(ch);
  int rc = th_svc_stop(&svc);
  int errors = th_log_errors(svc.log);
  th_pg_destroy(&pg);
  return rc == 0 && errors == 0 ? 0 : -1;
}

/* ---- concurrent guesses ------------------------------------------------------------------ */

typedef struct {
  pthread_barrier_t *go;
  const char *addr, *user, *pw, *token; /* token: ChangePassword with it, else Login */
  grpc_status_code code;
  cli_status st;
} guess;

static void *guess_main(void *arg) {
  guess *g = arg;
  pthread_barrier_wait(g->go);
  if (g->token)
    g->code = change_password(g->addr, g->token, g->pw, "Mat-khau-moi-khong-dung-1", &g->st);
  else
    g->code = login(g->addr, g->user, g->pw, NULL, &g->st);
  return NULL;
}

/* 16 wrong guesses sent at once; how many reached the password check (wrong_code), the others
 * must all have been refused for waiting (RESOURCE_EXHAUSTED). addrs: one address each, or
 * NULL for all from `addr`. */
static int burst(const char *addr, const char *const *addrs, const char *user, const char *pw, const char *token,
                 grpc_status_code wrong_code) {
  enum { N = 16 };
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, N);
  guess g[N];
  pthread_t th[N];
  for (int i = 0; i < N; i++) {
    g[i] = (guess){.go = &go, .addr = addrs ? addrs[i] : addr, .user = user, .pw = pw, .token = token};
    assert_int_equal(pthread_create(&th[i], NULL, guess_main, &g[i]), 0);
  }
  int checked = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    if (g[i].code == wrong_code) checked++;
    else if (g[i].code != GRPC_STATUS_RESOURCE_EXHAUSTED)
      fail_msg("guess %d: %s %s", i, cli_status_name(g[i].code), g[i].st.message);
  }
  pthread_barrier_destroy(&go);
  return checked;
}

/* Sixteen wrong passwords at once for one account from one address: the check and the count
 * are one step, so no more than the free tries reach the password check (before: 12 of 16). */
static void test_concurrent_logins_one_address(void **state) {
  (void)state;
  person("dong.thoi.mot", "Mat-khau-dung-dong-thoi-1", "192.0.2.10");
  int checked = burst("192.0.2.11", NULL, "dong.thoi.mot", "sai-mat-khau-dong-thoi", NULL, GRPC_STATUS_UNAUTHENTICATED);
  printf("# 16 concurrent wrong logins from one address: %d checked (limit %d)\n", checked, PAIR_FREE);
  assert_true(checked >= 1 && checked <= PAIR_FREE);
  /* the audit says the same: the refusals are written as "locked", not "bad_password" */
  assert_true(sql_long("SELECT count(*) FROM identity.audit_log WHERE action = 'LOGIN_FAILED' AND "
                       "actor_name = $1 AND outcome = 'bad_password'",
                       "dong.thoi.mot") == checked);
  /* and the person, at the usual address, is not locked out */
  cli_status st;
  assert_int_equal(login("192.0.2.10", "dong.thoi.mot", "Mat-khau-dung-dong-thoi-1", NULL, &st), GRPC_STATUS_OK);
}

/* The same from sixteen addresses at once: the name's own counter holds them to its limit. */
static void test_concurrent_logins_many_addresses(void **state) {
  (void)state;
  person("dong.thoi.hai", "Mat-khau-dung-dong-thoi-2", "192.0.2.20");
  char a[16][32];
  const char *addrs[16];
  for (int i = 0; i < 16; i++) {
    snprintf(a[i], sizeof a[i], "203.0.113.%d", 100 + i);
    addrs[i] = a[i];
  }
  int checked = burst(NULL, addrs, "dong.thoi.hai", "sai-mat-khau-dong-thoi", NULL, GRPC_STATUS_UNAUTHENTICATED);
  printf("# 16 concurrent wrong logins from 16 addresses: %d checked (limit %d)\n", checked, NAME_FREE);
  assert_true(checked >= 1 && checked <= NAME_FREE);
}

/* ChangePassword guesses (a stolen token guessing the old password) are counted the same way. */
static void test_concurrent_change_password(void **state) {
  (void)state;
  person("dong.thoi.ba", "Mat-khau-dung-dong-thoi-3", "192.0.2.30");
  char *tok = NULL;
  cli_status st;
  assert_int_equal(login("192.0.2.30", "dong.thoi.ba", "Mat-khau-dung-dong-thoi-3", &tok, &st), GRPC_STATUS_OK);
  int checked = burst("192.0.2.31", NULL, NULL, "sai-mat-khau-cu-dong-thoi", tok, GRPC_STATUS_INVALID_ARGUMENT);
  printf("# 16 concurrent wrong ChangePassword from one address: %d checked (limit %d)\n", checked, PAIR_FREE);
  assert_true(checked >= 1 && checked <= PAIR_FREE);
  free(tok);
}

/* ---- nobody locked out ------------------------------------------------------------------- */

/* 300 wrong guesses at one account from 30 other addresses, while its owner logs in 30 times
 * from the usual address: every one of the owner's logins works (before: 23 of 30 refused),
 * and the guessers are held to the name's limit. */
static void test_guesses_elsewhere_spare_the_owner(void **state) {
  (void)state;
  person("chu.tai.khoan", "Mat-khau-cua-chu-99", "192.0.2.40");
  int guessed = 0, refused = 0, owner_ok = 0;
  cli_status st;
  for (int round = 0; round < 30; round++) {
    for (int k = 0; k < 10; k++) {
      char addr[32];
      snprintf(addr, sizeof addr, "198.18.%d.%d", round, k + 1);
      grpc_status_code c = login(addr, "chu.tai.khoan", "doan-mat-khau-xx", NULL, &st);
      if (c == GRPC_STATUS_UNAUTHENTICATED) guessed++;
      else if (c == GRPC_STATUS_RESOURCE_EXHAUSTED) refused++;
      else fail_msg("guess: %s %s", cli_status_name(c), st.message);
    }
    if (login("192.0.2.40", "chu.tai.khoan", "Mat-khau-cua-chu-99", NULL, &st) == GRPC_STATUS_OK) owner_ok++;
    else printf("# owner refused: %s\n", st.message);
  }
  printf("# 300 guesses from 30 addresses: %d checked, %d refused; owner %d/30\n", guessed, refused, owner_ok);
  assert_int_equal(owner_ok, 30);
  assert_true(guessed <= NAME_FREE);
  assert_int_equal(guessed + refused, 300);
}

/* Wrong guesses at many names from one address lock that address for people, step by step;
 * a service client's correct secret from that address still logs in (service clients are
 * counted apart), and so does a person at their usual address. */
static void test_locked_address_spares_services(void **state) {
  (void)state;
  person("o.dia.chi.chung", "Mat-khau-dia-chi-chung-1", "192.0.2.50");
  cli_status st;
  char name[32];
  for (int i = 0; i < ADDR_FREE; i++) {
    snprintf(name, sizeof name, "ai.do.%d", i);
    assert_int_equal(login("192.0.2.50", name, "doan-bua-xyz", NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  }
  assert_int_equal(login("192.0.2.50", "ai.do.moi", "doan-bua-xyz", NULL, &st), GRPC_STATUS_RESOURCE_EXHAUSTED);
  long w = wait_of(&st);
  assert_true(w > 0 && w <= DELAY); /* the first step, not an hour */
  /* at home there */
  assert_int_equal(login("192.0.2.50", "o.dia.chi.chung", "Mat-khau-dia-chi-chung-1", NULL, &st), GRPC_STATUS_OK);

  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[1] = {root_id};
  req.name = "Hệ thống thử khóa địa chỉ";
  req.unit_ids = units;
  req.n_unit_ids = 1;
  req.approval_reference = "Thử nghiệm 2/TN";
  Hoso__Identity__V1__CreateServiceClientResponse *cr = NULL;
  assert_int_equal(call("198.51.100.1", IDN "CreateServiceClient", &req,
                        &hoso__identity__v1__create_service_client_response__descriptor, (void **)&cr, admin_tok, &st),
                   GRPC_STATUS_OK);
  Hoso__Identity__V1__ServiceLoginRequest sl = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  sl.client_id = cr->client->client_id;
  sl.client_secret = cr->client_secret;
  assert_int_equal(call("192.0.2.50", IDN "ServiceLogin", &sl, &hoso__identity__v1__service_login_response__descriptor,
                        NULL, NULL, &st),
                   GRPC_STATUS_OK);
  /* A client's own pair is throttled: five wrong secrets from one address make that address
   * wait, while the right secret from any other address works at once. */
  Hoso__Identity__V1__ServiceLoginRequest bad = sl;
  bad.client_secret = "khong-phai-bi-mat-nay";
  for (int i = 0; i < 5; i++)
    assert_int_equal(call("192.0.2.51", IDN "ServiceLogin", &bad, &hoso__identity__v1__service_login_response__descriptor,
                          NULL, NULL, &st),
                     GRPC_STATUS_UNAUTHENTICATED);
  assert_int_equal(call("192.0.2.51", IDN "ServiceLogin", &sl, &hoso__identity__v1__service_login_response__descriptor,
                        NULL, NULL, &st),
                   GRPC_STATUS_RESOURCE_EXHAUSTED);
  assert_int_equal(call("192.0.2.52", IDN "ServiceLogin", &sl, &hoso__identity__v1__service_login_response__descriptor,
                        NULL, NULL, &st),
                   GRPC_STATUS_OK);
  protobuf_c_message_free_unpacked(&cr->base, NULL);
}

/* After the free tries each further one waits base, 2 base, 4 base...: the lock never jumps
 * to an hour. Unknown names are answered exactly like real ones, so the lock does not tell
 * which names exist. An administrator's reset lifts it (000 Đ17.4). Time is moved forward by
 * ending the current wait in the table, as its passing would. */
static void test_delays_grow_step_by_step(void **state) {
  (void)state;
  const char *id = person("tung.buoc.mot", "Mat-khau-tung-buoc-1", "192.0.2.60");
  const char *names[2] = {"tung.buoc.mot", "khong.ai.ten.nay"};
  long waits[2][3];
  cli_status st;
  for (int n = 0; n < 2; n++) {
    for (int i = 0; i < PAIR_FREE; i++)
      assert_int_equal(login("192.0.2.61", names[n], "sai-tung-buoc-xx", NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
    for (int step = 0; step < 3; step++) {
      assert_int_equal(login("192.0.2.61", names[n], "sai-tung-buoc-xx", NULL, &st), GRPC_STATUS_RESOURCE_EXHAUSTED);
      waits[n][step] = wait_of(&st);
      /* the wait is over: the next guess is checked, and fails */
      sql_long("UPDATE identity.login_throttle SET locked_until = now() WHERE kind = 'p' AND key = $1",
               n ? "192.0.2.61|khong.ai.ten.nay" : "192.0.2.61|tung.buoc.mot");
      assert_int_equal(login("192.0.2.61", names[n], "sai-tung-buoc-xx", NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
    }
  }
  printf("# waits: %ld %ld %ld s (unknown name: %ld %ld %ld s)\n", waits[0][0], waits[0][1], waits[0][2], waits[1][0],
         waits[1][1], waits[1][2]);
  for (int n = 0; n < 2; n++)
    for (int step = 0; step < 3; step++) {
      long want = (long)DELAY << step;
      assert_true(waits[n][step] > want - 10 && waits[n][step] <= want);
    }
  /* the reset */
  Hoso__Identity__V1__ResetPasswordRequest rp = HOSO__IDENTITY__V1__RESET_PASSWORD_REQUEST__INIT;
  rp.account_id = (char *)id;
  rp.new_password = "Mat-khau-cap-lai-77";
  assert_int_equal(call("198.51.100.1", IDN "ResetPassword", &rp, &hoso__identity__v1__reset_password_response__descriptor,
                        NULL, admin_tok, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(login("192.0.2.61", "tung.buoc.mot", "Mat-khau-cap-lai-77", NULL, &st), GRPC_STATUS_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_logins_one_address),
      cmocka_unit_test(test_concurrent_logins_many_addresses),
      cmocka_unit_test(test_concurrent_change_password),
      cmocka_unit_test(test_guesses_elsewhere_spare_the_owner),
      cmocka_unit_test(test_locked_address_spares_services),
      cmocka_unit_test(test_delays_grow_step_by_step),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
