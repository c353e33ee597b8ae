/* The gRPC server runtime (common/srv_*.c) and client (common/cli.c) end to end: the echo
 * service (tests/echo) on a real PostgreSQL, driven over real gRPC, plaintext and TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "echo.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "th.h"
#include "tok.h"

#define SVC "/hoso.test.v1.Echo/"
#define KID "test-key-1"
/* The deadline of calls whose deadline is not what the test is about: far above what a call
 * takes even under the sanitizers on a loaded machine (ctest -j), so only a hang reaches it. */
#define CALL_MS 20000

typedef Hoso__Test__V1__EchoRequest echo_req;
typedef Hoso__Test__V1__EchoResponse echo_resp;

static th_pg pg;
static th_svc echo;
static cli_chan *ch;
static char *priv_pem, *pub_pem;
static char env_pub[1024];
static const char *env_kid = "HOSO_TEST_KID=" KID;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A token from the test's own key, which the echo service trusts via HOSO_TEST_PUBKEY_PEM. */
/* A token named `username` (a service client's id for services). */
static char *mint_named(const char *priv, const char *typ, unsigned roles, int ttl, const char *username) {
  tok_claims c;
  memset(&c, 0, sizeof c);
  snprintf(c.sub, sizeof c.sub, "%s", "acct-42");
  snprintf(c.username, sizeof c.username, "%s", username);
  snprintf(c.unit_id, sizeof c.unit_id, "%s", "1");
  snprintf(c.unit_path, sizeof c.unit_path, "%s", "1");
  snprintf(c.scope, sizeof c.scope, "%s", "1");
  snprintf(c.typ, sizeof c.typ, "%s", typ);
  c.roles = roles;
  tok_signer k;
  memset(&k, 0, sizeof k);
  snprintf(k.kid, sizeof k.kid, "%s", KID);
  k.private_pem = priv;
  char *jwt = NULL;
  assert_int_equal(tok_sign(&k, &c, (long long)time(NULL), ttl, &jwt), 0);
  return jwt;
}

static char *mint(const char *priv, const char *typ, unsigned roles, int ttl) {
  return mint_named(priv, typ, roles, ttl, "tester");
}

/* One Echo-service call; *out (may be NULL) gets the response on OK. */
static grpc_status_code call(cli_chan *c, const char *rpc, const char *text, int sleep_ms,
                             const cli_md *md, size_t n_md, int timeout_ms, echo_resp **out,
                             cli_status *st) {
  echo_req req = HOSO__TEST__V1__ECHO_REQUEST__INIT;
  req.text = (char *)(text ? text : "");
  req.sleep_ms = sleep_ms;
  char path[128];
  snprintf(path, sizeof path, SVC "%s", rpc);
  ProtobufCMessage *resp = NULL;
  cli_status local;
  grpc_status_code code = cli_call(c, path, &req.base, &hoso__test__v1__echo_response__descriptor,
                                   &resp, md, n_md, timeout_ms, st ? st : &local);
  if (out)
    *out = (echo_resp *)resp;
  else if (resp)
    protobuf_c_message_free_unpacked(resp, NULL);
  return code;
}

static void free_resp(echo_resp *r) {
  if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
}

static int group_setup(void **state) {
  (void)state;
  if (th_pg_start(&pg) != 0) return -1;
  if (tok_keygen(&priv_pem, &pub_pem) != 0) return -1;
  snprintf(env_pub, sizeof env_pub, "HOSO_TEST_PUBKEY_PEM=%s", pub_pem);
  const char *env[] = {env_pub, env_kid, "HOSO_WORKERS=8", NULL};
  if (th_svc_start(&echo, "hoso-echo", "HOSO_ECHO_ADDR", &pg, env) != 0) return -1;
  ch = cli_open_tls(echo.addr, NULL, NULL, NULL);
  return ch ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  cli_close(ch);
  int rc = echo.pid > 0 ? th_svc_stop(&echo) : 0;
  th_pg_destroy(&pg);
  free(priv_pem);
  free(pub_pem);
  /* The echo service signs with keys of its own, so it has no identity whose revocation list
   * applies: it must not read the list of whatever listens at the default identity address
   * (a parallel test's identity could void its tokens). Any attempt would leave a
   * "revocations:" line (a failed read here: nothing listens there, or a foreign list). */
  if (th_log_count(echo.log, "revocations", "echo read a revocation list") != 0) rc = -1;
  /* A clean drain exits 0: anything else (a crash, a leak report) fails the group. */
  return rc == 0 ? 0 : -1;
}

/* The standard health protocol answers for "" and for the service the method table names. */
static void test_health(void **state) {
  (void)state;
  assert_int_equal(cli_health(ch, CALL_MS), 1);
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  ProtobufCMessage *out = NULL;
  cli_status st;
  req.service = "hoso.test.v1.Echo";
  assert_int_equal(cli_call(ch, "/grpc.health.v1.Health/Check", &req.base,
                            &grpc__health__v1__health_check_response__descriptor, &out, NULL, 0,
                            CALL_MS, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)out)->status,
                   GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  protobuf_c_message_free_unpacked(out, NULL);
  req.service = "hoso.nothing.v1.Nope";
  assert_int_equal(cli_call(ch, "/grpc.health.v1.Health/Check", &req.base,
                            &grpc__health__v1__health_check_response__descriptor, &out, NULL, 0,
                            CALL_MS, &st),
                   GRPC_STATUS_NOT_FOUND);
  assert_null(out);
}

/* Generic dispatch answers unknown methods itself instead of leaving them to time out: left
 * alone they would end with DEADLINE_EXCEEDED after CALL_MS, so half of it is a bound that a
 * loaded machine does not reach and a hang does. */
static void test_unknown_method(void **state) {
  (void)state;
  cli_status st;
  double t0 = now_ms();
  assert_int_equal(cli_call_raw(ch, "/hoso.test.v1.Echo/NoSuchMethod", "", 0, NULL, NULL, NULL, 0,
                                CALL_MS, &st),
                   GRPC_STATUS_UNIMPLEMENTED);
  assert_true(now_ms() - t0 < CALL_MS / 2);
  assert_int_equal(cli_call_raw(ch, "/other.Service/Echo", "", 0, NULL, NULL, NULL, 0, CALL_MS, &st),
                   GRPC_STATUS_UNIMPLEMENTED);
}

/* A valid EchoRequest of n bytes (2 MiB < n < 256 MiB): field 1, length-delimited, all 'a'.
 * malloc'd. */
static unsigned char *big_request(size_t n) {
  unsigned char *big = malloc(n);
  assert_non_null(big);
  size_t body = n - 5;
  big[0] = 0x0a;
  big[1] = (unsigned char)(0x80 | (body & 0x7f));
  big[2] = (unsigned char)(0x80 | ((body >> 7) & 0x7f));
  big[3] = (unsigned char)(0x80 | ((body >> 14) & 0x7f));
  big[4] = (unsigned char)((body >> 21) & 0x7f);
  memset(big + 5, 'a', body);
  return big;
}

/* Over 4 MiB is refused by gRPC itself with RESOURCE_EXHAUSTED; the worker survives it. */
static void test_oversized_message(void **state) {
  (void)state;
  size_t n = 10u << 20;
  unsigned char *big = big_request(n);
  cli_status st;
  for (int i = 0; i < 3; i++)
    assert_int_equal(cli_call_raw(ch, SVC "Echo", big, n, NULL, NULL, NULL, 0, CALL_MS, &st),
                     GRPC_STATUS_RESOURCE_EXHAUSTED);
  free(big);
  echo_resp *r = NULL;
  assert_int_equal(call(ch, "Echo", "still here", 0, NULL, 0, CALL_MS, &r, NULL), GRPC_STATUS_OK);
  assert_string_equal(r->text, "still here");
  free_resp(r);
}

/* Bytes that are not an EchoRequest are the client's error, and say so. */
static void test_malformed_message(void **state) {
  (void)state;
  cli_status st;
  static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99};
  assert_int_equal(cli_call_raw(ch, SVC "Echo", junk, sizeof junk, NULL, NULL, NULL, 0, CALL_MS, &st),
                   GRPC_STATUS_INVALID_ARGUMENT);
  assert_string_equal(st.message, "request: malformed protobuf message");
  /* A length prefix pointing past the end. */
  static const unsigned char cut[] = {0x0a, 0x40, 'a', 'b'};
  assert_int_equal(cli_call_raw(ch, SVC "Whoami", cut, sizeof cut, NULL, NULL, NULL, 0, CALL_MS, &st),
                   GRPC_STATUS_INVALID_ARGUMENT);
  assert_int_equal(call(ch, "Echo", "ok", 0, NULL, 0, CALL_MS, NULL, NULL), GRPC_STATUS_OK);
}

static void test_auth(void **state) {
  (void)state;
  cli_status st;
  echo_resp *r = NULL;
  assert_int_equal(call(ch, "Whoami", "", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_string_equal(st.message, "missing bearer token");

  cli_md bad[] = {{"authorization", "Bearer not.a.jwt"}};
  assert_int_equal(call(ch, "Whoami", "", 0, bad, 1, CALL_MS, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_memory_equal(st.message, "invalid token: ", 15);

  char *good = mint(priv_pem, TOK_TYP_ACCESS, ROLE_READER, 300);
  assert_int_equal(call(ch, "Whoami", "", 0, th_bearer(good), 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->sub, "acct-42");
  free_resp(r);
  /* A public method sees a valid token, and works without one. */
  assert_int_equal(call(ch, "Echo", "", 0, th_bearer(good), 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->sub, "acct-42");
  free_resp(r);
  assert_int_equal(call(ch, "Echo", "", 0, bad, 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->sub, "");
  free_resp(r);
  free(good);

  /* Same kid, another key: the signature decides, not the kid. */
  char *other_priv = NULL, *other_pub = NULL;
  assert_int_equal(tok_keygen(&other_priv, &other_pub), 0);
  char *forged = mint(other_priv, TOK_TYP_ACCESS, ROLE_SYSTEM_ADMIN, 300);
  assert_int_equal(call(ch, "Whoami", "", 0, th_bearer(forged), 1, CALL_MS, NULL, &st),
                   GRPC_STATUS_UNAUTHENTICATED);
  free(forged);
  free(other_priv);
  free(other_pub);

  /* A first-login token opens only the methods marked for it. */
  char *pw = mint(priv_pem, TOK_TYP_PWCHANGE, ROLE_READER, 300);
  assert_int_equal(call(ch, "Whoami", "", 0, th_bearer(pw), 1, CALL_MS, NULL, &st),
                   GRPC_STATUS_PERMISSION_DENIED);
  assert_string_equal(st.message, "password change required: call ChangePassword first");
  assert_int_equal(call(ch, "WhoamiPw", "", 0, th_bearer(pw), 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->sub, "acct-42");
  free_resp(r);
  free(pw);

  /* Without HOSO_SERVICE_MTLS=require a service token over plaintext is accepted. */
  char *svc = mint(priv_pem, TOK_TYP_ACCESS, ROLE_SERVICE, 300);
  assert_int_equal(call(ch, "Whoami", "", 0, th_bearer(svc), 1, CALL_MS, NULL, &st), GRPC_STATUS_OK);
  free(svc);
}

/* x-request-id is kept when sane, replaced when not; the client address is the peer's. */
static void test_request_id_and_client_addr(void **state) {
  (void)state;
  echo_resp *r = NULL;
  cli_md md[] = {{"x-request-id", "req-abc-123"}, {"x-forwarded-for", "203.0.113.7"}};
  assert_int_equal(call(ch, "Echo", "", 0, md, 2, CALL_MS, &r, NULL), GRPC_STATUS_OK);
  assert_string_equal(r->request_id, "req-abc-123");
  /* 127.0.0.1 is not a trusted proxy of this instance: the header is ignored. */
  assert_string_equal(r->client_addr, "127.0.0.1");
  free_resp(r);

  char longid[100];
  memset(longid, 'x', sizeof longid - 1);
  longid[sizeof longid - 1] = 0;
  cli_md md2[] = {{"x-request-id", longid}};
  assert_int_equal(call(ch, "Echo", "", 0, md2, 1, CALL_MS, &r, NULL), GRPC_STATUS_OK);
  assert_int_equal(strlen(r->request_id), 32);
  assert_int_equal(strspn(r->request_id, "0123456789abcdef"), 32);
  free_resp(r);
  cli_md md3[] = {{"x-request-id", "has space"}};
  assert_int_equal(call(ch, "Echo", "", 0, md3, 1, CALL_MS, &r, NULL), GRPC_STATUS_OK);
  assert_string_not_equal(r->request_id, "has space");
  free_resp(r);
}

/* The id also comes back as response metadata, where a gateway or client can log it. */
static void test_request_id_metadata(void **state) {
  (void)state;
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  grpc_channel *c = grpc_channel_create(echo.addr, grpc_insecure_credentials_create(), NULL);
  grpc_slice m = grpc_slice_from_static_string(SVC "Echo");
  grpc_call *gc = grpc_channel_create_call(
      c, NULL, GRPC_PROPAGATE_DEFAULTS, cq, m, NULL,
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(5, GPR_TIMESPAN)), NULL);
  grpc_metadata sent = {.key = grpc_slice_from_static_string("x-request-id"),
                        .value = grpc_slice_from_static_string("md-check-1")};
  grpc_slice empty = grpc_empty_slice();
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&empty, 1);
  grpc_byte_buffer *in = NULL;
  grpc_metadata_array imd, tmd;
  grpc_metadata_array_init(&imd);
  grpc_metadata_array_init(&tmd);
  grpc_status_code code;
  grpc_slice details;
  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = 1;
  ops[0].data.send_initial_metadata.metadata = &sent;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = bb;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &in;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
  ops[5].data.recv_status_on_client.status = &code;
  ops[5].data.recv_status_on_client.status_details = &details;
  assert_int_equal(grpc_call_start_batch(gc, ops, 6, (void *)1, NULL), GRPC_CALL_OK);
  grpc_completion_queue_pluck(cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  assert_int_equal(code, GRPC_STATUS_OK);
  int found = 0;
  for (size_t i = 0; i < imd.count; i++)
    if (grpc_slice_str_cmp(imd.metadata[i].key, "x-request-id") == 0 &&
        grpc_slice_str_cmp(imd.metadata[i].value, "md-check-1") == 0)
      found = 1;
  assert_true(found);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&imd);
  grpc_metadata_array_destroy(&tmd);
  grpc_byte_buffer_destroy(bb);
  if (in) grpc_byte_buffer_destroy(in);
  grpc_call_unref(gc);
  grpc_channel_destroy(c);
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  grpc_completion_queue_destroy(cq);
}

typedef struct {
  cli_chan *c;
  const char *rpc;
  int sleep_ms, timeout_ms;
  grpc_status_code code;
  double ms;
} call_job;

static void *run_job(void *arg) {
  call_job *j = arg;
  double t0 = now_ms();
  cli_status st;
  j->code = call(j->c, j->rpc, "", j->sleep_ms, NULL, 0, j->timeout_ms, NULL, &st);
  j->ms = now_ms() - t0;
  return NULL;
}

/* Eight workers serve eight slow calls at once. The bound is the time two workers would need
 * (four rounds of 1 s; serial would be 8 s): the sleeps are long so that whatever a loaded
 * machine adds to the calls (3 s of slack) stays small beside them. */
static void test_concurrency(void **state) {
  (void)state;
  call_job jobs[8];
  pthread_t th[8];
  double t0 = now_ms();
  for (int i = 0; i < 8; i++) {
    jobs[i] = (call_job){ch, "Sleep", 1000, CALL_MS, GRPC_STATUS_UNKNOWN, 0};
    assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
  }
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  double total = now_ms() - t0;
  for (int i = 0; i < 8; i++) assert_int_equal(jobs[i].code, GRPC_STATUS_OK);
  printf("# 8 concurrent Sleep(1000 ms): %.0f ms in all\n", total);
  assert_true(total < 4000);
}

/* The client's deadline ends the call for the client at once, whatever the handler does: well
 * before the handler's 3 s sleep (half of it: room for a loaded machine's delays). */
static void test_deadline(void **state) {
  (void)state;
  cli_status st;
  double t0 = now_ms();
  assert_int_equal(call(ch, "Sleep", "", 3000, NULL, 0, 100, NULL, &st), GRPC_STATUS_DEADLINE_EXCEEDED);
  double ms = now_ms() - t0;
  assert_true(ms < 1500);
  /* The other workers still serve. */
  assert_int_equal(call(ch, "Echo", "", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_OK);
}

/* Database errors reach the client as statuses a person can act on, never as SQL. */
static void test_db_error_mapping(void **state) {
  (void)state;
  cli_status st;
  echo_resp *r = NULL;
  assert_int_equal(call(ch, "Db", "", 0, NULL, 0, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_int_equal(r->value, 1);
  free_resp(r);
  assert_int_equal(call(ch, "Fail", "unique", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_ALREADY_EXISTS);
  assert_int_equal(call(ch, "Fail", "sql", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_INTERNAL);
  assert_null(strstr(st.message, "echo_no_such_table"));
  assert_null(strstr(st.message, "secret_column"));
  assert_non_null(strstr(st.message, "request id"));
  /* Committed with an error status: the status still goes out. */
  assert_int_equal(call(ch, "Fail", "commit", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_FAILED_PRECONDITION);
  assert_string_equal(st.message, "recorded, then refused");
  /* Handler bugs become INTERNAL, not a crash or a hang. */
  assert_int_equal(call(ch, "Fail", "noresp", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_INTERNAL);
  assert_int_equal(call(ch, "Fail", "minus", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_INTERNAL);
  assert_int_equal(call(ch, "Fail", "big", 0, NULL, 0, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_int_equal(strlen(r->text), 99999);
  free_resp(r);
  assert_int_equal(call(ch, "Fail", "what", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_INVALID_ARGUMENT);
  assert_string_equal(st.message, "text: unknown failure mode 'what'");
}

/* PostgreSQL going away costs UNAVAILABLE on the calls that need it, nothing else; once it is
 * back the very next call works (each worker reconnects by itself). */
static void test_database_restart(void **state) {
  (void)state;
  cli_status st;
  assert_int_equal(th_pg_stop(&pg), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(call(ch, "Db", "", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_UNAVAILABLE);
    assert_string_equal(st.message, "database unavailable; retry shortly");
  }
  assert_int_equal(call(ch, "Echo", "", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_OK);
  assert_int_equal(cli_health(ch, CALL_MS), 1);
  assert_int_equal(th_pg_restart_server(&pg), 0);
  /* Every worker, not only one: 16 calls over 8 workers. */
  for (int i = 0; i < 16; i++)
    assert_int_equal(call(ch, "Db", "", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_OK);
  assert_true(th_svc_alive(&echo));
}

/* One worker, a query longer than the call's deadline: statement_timeout frees the worker
 * soon after the deadline instead of when the query would have ended. Forwarded client
 * addresses are believed from trusted proxies only. */
static void test_single_worker_instance(void **state) {
  (void)state;
  th_svc s;
  const char *env[] = {env_pub, env_kid, "HOSO_WORKERS=1", "HOSO_TRUSTED_PROXIES=10.9.9.9, 127.0.0.1",
                       NULL};
  assert_int_equal(th_svc_start(&s, "hoso-echo", "HOSO_ECHO_ADDR", &pg, env), 0);
  cli_chan *c = cli_open_tls(s.addr, NULL, NULL, NULL);
  cli_status st;
  echo_resp *r = NULL;
  /* Read from the right: the client may have written "203.0.113.7" itself; the proxy appended
   * what it saw (10.0.0.1, not a proxy of ours), and only a trusted proxy's entry is skipped. */
  cli_md md[] = {{"x-forwarded-for", " 203.0.113.7 , 10.0.0.1"}};
  assert_int_equal(call(c, "Echo", "", 0, md, 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->client_addr, "10.0.0.1");
  free_resp(r);
  cli_md md2[] = {{"x-forwarded-for", " 203.0.113.7 , 10.9.9.9"}};
  assert_int_equal(call(c, "Echo", "", 0, md2, 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->client_addr, "203.0.113.7");
  free_resp(r);
  cli_md junk[] = {{"x-forwarded-for", "not-an-ip"}};
  assert_int_equal(call(c, "Echo", "", 0, junk, 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->client_addr, "127.0.0.1");
  free_resp(r);

  /* A call that waited for the busy worker past its deadline is answered, never run. */
  assert_int_equal(call(c, "Stats", "", 0, NULL, 0, CALL_MS, &r, &st), GRPC_STATUS_OK);
  int before = r->value;
  free_resp(r);
  call_job busy = {c, "Sleep", 4000, CALL_MS, GRPC_STATUS_UNKNOWN, 0};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, run_job, &busy), 0);
  /* The Sleep must hold the only worker before the expiring call is sent; a pause would not
   * make sure of that on a loaded machine. Stats (which no count includes) times out only
   * once the worker is taken, and nothing but the Sleep can take it; it answers, with the
   * count unchanged, while the Sleep has not started (it cannot have ended: 4 s). The Sleep
   * then still runs for over 2 s: longer than the 1 s deadline of the call below. */
  int probes = 0;
  for (;; probes++) {
    assert_true(probes < 200);
    grpc_status_code pc = call(c, "Stats", "", 0, NULL, 0, 1000, &r, &st);
    if (pc == GRPC_STATUS_DEADLINE_EXCEEDED) break;
    assert_int_equal(pc, GRPC_STATUS_OK);
    assert_int_equal(r->value, before);
    free_resp(r);
    usleep(10 * 1000);
  }
  assert_int_equal(call(c, "Sleep", "", 0, NULL, 0, 1000, NULL, &st), GRPC_STATUS_DEADLINE_EXCEEDED);
  pthread_join(th, NULL);
  assert_int_equal(busy.code, GRPC_STATUS_OK);
  assert_int_equal(call(c, "Stats", "", 0, NULL, 0, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_int_equal(r->value, before + 1);
  free_resp(r);

  /* Without the statement timeout the worker would be held for the query's 10 s, so the Echo
   * behind it would miss its 8 s deadline and the bound of 5 s; with it, both calls take a
   * fraction of a second, which leaves seconds for a loaded machine. */
  double t0 = now_ms();
  assert_int_equal(call(c, "Db", "", 10000, NULL, 0, 400, NULL, &st), GRPC_STATUS_DEADLINE_EXCEEDED);
  assert_int_equal(call(c, "Echo", "", 0, NULL, 0, 8000, NULL, &st), GRPC_STATUS_OK);
  double ms = now_ms() - t0;
  printf("# Db(pg_sleep 10 s) with a 400 ms deadline, then Echo on the only worker: %.0f ms\n", ms);
  assert_true(ms < 5000);
  cli_close(c);
  assert_int_equal(th_svc_stop(&s), 0);
}

/* SIGTERM during a call: the call finishes normally, then the process exits 0. */
static void test_drain_on_sigterm(void **state) {
  (void)state;
  th_svc s;
  const char *env[] = {env_pub, env_kid, "HOSO_WORKERS=2", NULL};
  assert_int_equal(th_svc_start(&s, "hoso-echo", "HOSO_ECHO_ADDR", &pg, env), 0);
  cli_chan *c = cli_open_tls(s.addr, NULL, NULL, NULL);
  echo_resp *r = NULL;
  assert_int_equal(call(c, "Stats", "", 0, NULL, 0, CALL_MS, &r, NULL), GRPC_STATUS_OK);
  int before = r->value;
  free_resp(r);
  call_job j = {c, "Sleep", 1500, CALL_MS, GRPC_STATUS_UNKNOWN, 0};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, run_job, &j), 0);
  /* SIGTERM only once the Sleep is in its handler (the other worker answers Stats, which
   * counts the Sleeps that started): sent earlier, it would find no call to drain. */
  for (int i = 0;; i++) {
    assert_true(i < 1000);
    assert_int_equal(call(c, "Stats", "", 0, NULL, 0, CALL_MS, &r, NULL), GRPC_STATUS_OK);
    int started = r->value - before;
    free_resp(r);
    if (started == 1) break;
    assert_int_equal(started, 0);
    usleep(10 * 1000);
  }
  double t0 = now_ms();
  assert_int_equal(th_svc_stop(&s), 0);
  double stop_ms = now_ms() - t0;
  pthread_join(th, NULL);
  assert_int_equal(j.code, GRPC_STATUS_OK);
  assert_true(j.ms >= 1500);
  assert_true(stop_ms < 8000);
  cli_close(c);
}

/* --- TLS ------------------------------------------------------------------------------- */

static char tls_dir[256];
static char ca_pem[300], srv_cert[300], srv_key[300], cli_cert[300], cli_key[300];
static char gw_cert[300], gw_key[300];
static char other_ca[300];

static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return system(cmd);
}

/* A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, made the
 * way ./hoso up makes them; plus an unrelated CA. */
static int make_certs(void) {
  snprintf(tls_dir, sizeof tls_dir, "/tmp/hoso-rt-tls-XXXXXX");
  if (!mkdtemp(tls_dir)) return -1;
  snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", tls_dir);
  snprintf(srv_cert, sizeof srv_cert, "%s/server.pem", tls_dir);
  snprintf(srv_key, sizeof srv_key, "%s/server.key", tls_dir);
  snprintf(cli_cert, sizeof cli_cert, "%s/client.pem", tls_dir);
  snprintf(cli_key, sizeof cli_key, "%s/client.key", tls_dir);
  snprintf(other_ca, sizeof other_ca, "%s/other-ca.pem", tls_dir);
  snprintf(gw_cert, sizeof gw_cert, "%s/gateway.pem", tls_dir);
  snprintf(gw_key, sizeof gw_key, "%s/gateway.key", tls_dir);
  const char *d = tls_dir;
  return sh("cd %s && "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
            " -subj /CN=hoso-test-ca -keyout ca.key -out ca.pem 2>/dev/null && "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
            " -subj /CN=other-ca -keyout other-ca.key -out other-ca.pem 2>/dev/null && "
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
            " -keyout server.key -out server.csr 2>/dev/null && "
            "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext && "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
            " -extfile server.ext -out server.pem 2>/dev/null && "
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=records-service "
            " -keyout client.key -out client.csr 2>/dev/null && "
            "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
            "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
            " -extfile client.ext -out client.pem 2>/dev/null && "
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=hoso-gateway "
            " -keyout gateway.key -out gateway.csr 2>/dev/null && "
            "openssl x509 -req -in gateway.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
            " -extfile client.ext -out gateway.pem 2>/dev/null",
            d) == 0
             ? 0
             : -1;
}

static void test_tls(void **state) {
  (void)state;
  assert_int_equal(make_certs(), 0);
  char e_cert[400], e_key[400], e_ca[400];
  snprintf(e_cert, sizeof e_cert, "HOSO_TLS_CERT=%s", srv_cert);
  snprintf(e_key, sizeof e_key, "HOSO_TLS_KEY=%s", srv_key);
  snprintf(e_ca, sizeof e_ca, "HOSO_TLS_CA=%s", ca_pem);
  /* 127.0.0.1 listed as a proxy: over TLS that is no longer enough to forward an address */
  const char *env[] = {env_pub, env_kid, e_cert, e_key, e_ca, "HOSO_SERVICE_MTLS=require",
                       "HOSO_TRUSTED_PROXIES=127.0.0.1", NULL};
  th_svc s;
  assert_int_equal(th_svc_start(&s, "hoso-echo", "HOSO_ECHO_ADDR", &pg, env), 0);
  cli_status st;
  echo_resp *r = NULL;

  /* Server verified against the CA; by IP and by name, host name checking on. */
  cli_chan *tls = cli_open_tls(s.addr, ca_pem, NULL, NULL);
  assert_int_equal(call(tls, "Echo", "over tls", 0, NULL, 0, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->text, "over tls");
  assert_false(r->peer_has_cert);
  free_resp(r);
  char byname[64];
  snprintf(byname, sizeof byname, "localhost:%s", strchr(s.addr, ':') + 1);
  cli_chan *named = cli_open_tls(byname, ca_pem, NULL, NULL);
  assert_int_equal(call(named, "Echo", "", 0, NULL, 0, CALL_MS, NULL, &st), GRPC_STATUS_OK);
  cli_close(named);

  /* Mutual TLS: the client certificate is seen and verified. */
  cli_chan *mtls = cli_open_tls(s.addr, ca_pem, cli_cert, cli_key);
  assert_int_equal(call(mtls, "Echo", "", 0, NULL, 0, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_true(r->peer_has_cert);
  free_resp(r);

  /* Over TLS only the gateway's certificate may name the client's address: another client
   * certificate, or none, from an address listed as a proxy, is the client itself. */
  cli_md spoof[] = {{"x-forwarded-for", "203.0.113.66"}};
  assert_int_equal(call(mtls, "Echo", "", 0, spoof, 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->client_addr, "127.0.0.1");
  free_resp(r);
  assert_int_equal(call(tls, "Echo", "", 0, spoof, 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->client_addr, "127.0.0.1");
  free_resp(r);
  cli_chan *gw = cli_open_tls(s.addr, ca_pem, gw_cert, gw_key);
  assert_int_equal(call(gw, "Echo", "", 0, spoof, 1, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_string_equal(r->client_addr, "203.0.113.66");
  free_resp(r);
  cli_close(gw);

  /* HOSO_SERVICE_MTLS=require: a service account's token needs the client certificate, and one
   * that names that client (client.pem's common name is records-service). */
  char *svc = mint_named(priv_pem, TOK_TYP_ACCESS, ROLE_SERVICE, 300, "records-service");
  assert_int_equal(call(tls, "Whoami", "", 0, th_bearer(svc), 1, CALL_MS, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_string_equal(st.message, "service accounts must connect with mutual TLS");
  assert_int_equal(call(mtls, "Whoami", "", 0, th_bearer(svc), 1, CALL_MS, NULL, &st), GRPC_STATUS_OK);
  /* the same token over another verified certificate (the gateway's) is somebody else's */
  cli_chan *gw2 = cli_open_tls(s.addr, ca_pem, gw_cert, gw_key);
  assert_int_equal(call(gw2, "Whoami", "", 0, th_bearer(svc), 1, CALL_MS, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_non_null(strstr(st.message, "names it"));
  cli_close(gw2);
  free(svc);
  /* another client's token over records-service's certificate: refused too */
  char *other = mint_named(priv_pem, TOK_TYP_ACCESS, ROLE_SERVICE, 300, "transfers-service");
  assert_int_equal(call(mtls, "Whoami", "", 0, th_bearer(other), 1, CALL_MS, NULL, &st), GRPC_STATUS_UNAUTHENTICATED);
  assert_non_null(strstr(st.message, "transfers-service"));
  free(other);
  char *person = mint(priv_pem, TOK_TYP_ACCESS, ROLE_READER, 300);
  assert_int_equal(call(tls, "Whoami", "", 0, th_bearer(person), 1, CALL_MS, NULL, &st), GRPC_STATUS_OK);
  free(person);

  /* Plaintext to a TLS port, and TLS trusting another CA, both fail. */
  cli_chan *plain = cli_open_tls(s.addr, NULL, NULL, NULL);
  assert_int_not_equal(call(plain, "Echo", "", 0, NULL, 0, 2000, NULL, &st), GRPC_STATUS_OK);
  cli_close(plain);
  cli_chan *wrong = cli_open_tls(s.addr, other_ca, NULL, NULL);
  assert_int_not_equal(call(wrong, "Echo", "", 0, NULL, 0, 2000, NULL, &st), GRPC_STATUS_OK);
  cli_close(wrong);
  cli_close(tls);
  cli_close(mtls);
  assert_int_equal(th_svc_stop(&s), 0);

  /* Client certificates required: without one the handshake fails. */
  char e_ccert[400], e_ckey[400];
  snprintf(e_ccert, sizeof e_ccert, "HOSO_TLS_CLIENT_CERT=%s", cli_cert);
  snprintf(e_ckey, sizeof e_ckey, "HOSO_TLS_CLIENT_KEY=%s", cli_key);
  const char *env2[] = {env_pub, env_kid, e_cert, e_key, e_ca, "HOSO_TLS_CLIENT_AUTH=require",
                        e_ccert, e_ckey, NULL};
  assert_int_equal(th_svc_start(&s, "hoso-echo", "HOSO_ECHO_ADDR", &pg, env2), 0);
  cli_chan *nocert = cli_open_tls(s.addr, ca_pem, NULL, NULL);
  assert_int_not_equal(call(nocert, "Echo", "", 0, NULL, 0, 3000, NULL, &st), GRPC_STATUS_OK);
  cli_close(nocert);
  /* cli_open takes the same settings from the environment. */
  setenv("HOSO_TLS_CA", ca_pem, 1);
  setenv("HOSO_TLS_CLIENT_CERT", cli_cert, 1);
  setenv("HOSO_TLS_CLIENT_KEY", cli_key, 1);
  cli_chan *env_ch = cli_open(s.addr);
  unsetenv("HOSO_TLS_CA");
  unsetenv("HOSO_TLS_CLIENT_CERT");
  unsetenv("HOSO_TLS_CLIENT_KEY");
  assert_int_equal(call(env_ch, "Echo", "", 0, NULL, 0, CALL_MS, &r, &st), GRPC_STATUS_OK);
  assert_true(r->peer_has_cert);
  free_resp(r);
  cli_close(env_ch);
  assert_int_equal(th_svc_stop(&s), 0);
  sh("rm -rf %s", tls_dir);
}

/* A TLS setup missing a piece stops start-up instead of quietly serving plaintext. */
static void test_tls_half_configured(void **state) {
  (void)state;
  const char *env[] = {env_pub, env_kid, "HOSO_TLS_CERT=/nonexistent/cert.pem", NULL};
  th_svc s;
  assert_int_not_equal(th_svc_start(&s, "hoso-echo", "HOSO_ECHO_ADDR", &pg, env), 0);
}

/* Fail closed: no certificate and no HOSO_PLAINTEXT=1 (the harness gives it; taken back here)
 * is a refusal to start that says what to set, not a plaintext service. */
static void test_no_certificate_no_plaintext(void **state) {
  (void)state;
  const char *env[] = {env_pub, env_kid, "HOSO_PLAINTEXT=0", NULL};
  th_svc s;
  assert_int_not_equal(th_svc_start(&s, "hoso-echo", "HOSO_ECHO_ADDR", &pg, env), 0);
  assert_true(th_log_count(s.log, "HOSO_PLAINTEXT=1 to serve without TLS", NULL) >= 1);
  /* a client likewise refuses to call without a CA unless told */
  unsetenv("HOSO_PLAINTEXT");
  unsetenv("HOSO_TLS_CA");
  assert_null(cli_open("127.0.0.1:9"));
}

/* --- streaming (SRV_CLIENT_STREAM / SRV_SERVER_STREAM) --- */

static echo_req stream_req(const char *text, int sleep_ms, int count) {
  echo_req r = HOSO__TEST__V1__ECHO_REQUEST__INIT;
  r.text = (char *)text;
  r.sleep_ms = sleep_ms;
  r.count = count;
  return r;
}

/* A Spray call with its one request sent and the sending side closed. */
static cli_stream *open_spray(const char *text, int sleep_ms, int count, int timeout_ms) {
  cli_stream *s = cli_stream_open(ch, SVC "Spray", NULL, 0, timeout_ms);
  assert_non_null(s);
  echo_req r = stream_req(text, sleep_ms, count);
  assert_int_equal(cli_stream_send(s, &r.base), 0);
  assert_int_equal(cli_stream_close_send(s), 0);
  return s;
}

/* Every request of a long client stream reaches the handler, in one call: it counts 2 000
 * messages of 5 bytes, so anything lost or repeated shows in the two numbers. */
static void test_client_stream_many(void **state) {
  (void)state;
  cli_stream *s = cli_stream_open(ch, SVC "Collect", NULL, 0, CALL_MS);
  assert_non_null(s);
  echo_req r = stream_req("abcde", 0, 0);
  for (int i = 0; i < 2000; i++) assert_int_equal(cli_stream_send(s, &r.base), 0);
  assert_int_equal(cli_stream_close_send(s), 0);
  ProtobufCMessage *m = NULL;
  assert_int_equal(cli_stream_recv(s, &hoso__test__v1__echo_response__descriptor, &m), 1);
  assert_int_equal(((echo_resp *)m)->value, 2000);
  assert_string_equal(((echo_resp *)m)->text, "10000");
  protobuf_c_message_free_unpacked(m, NULL);
  assert_int_equal(cli_stream_recv(s, &hoso__test__v1__echo_response__descriptor, &m), 0);
  cli_status st;
  assert_int_equal(cli_stream_finish(s, &st), GRPC_STATUS_OK);
}

/* A server stream delivers every response in order, then OK; an empty client stream is a valid
 * call with zero messages. */
static void test_server_stream_many(void **state) {
  (void)state;
  cli_stream *s = open_spray("x", 0, 3000, CALL_MS);
  ProtobufCMessage *m = NULL;
  int n = 0;
  while (cli_stream_recv(s, &hoso__test__v1__echo_response__descriptor, &m) == 1) {
    assert_int_equal(((echo_resp *)m)->value, n);
    assert_string_equal(((echo_resp *)m)->text, "x");
    n++;
    protobuf_c_message_free_unpacked(m, NULL);
  }
  assert_int_equal(n, 3000);
  assert_int_equal(cli_stream_finish(s, NULL), GRPC_STATUS_OK);

  s = cli_stream_open(ch, SVC "Collect", NULL, 0, CALL_MS);
  assert_non_null(s);
  assert_int_equal(cli_stream_close_send(s), 0);
  assert_int_equal(cli_stream_recv(s, &hoso__test__v1__echo_response__descriptor, &m), 1);
  assert_int_equal(((echo_resp *)m)->value, 0);
  protobuf_c_message_free_unpacked(m, NULL);
  assert_int_equal(cli_stream_finish(s, NULL), GRPC_STATUS_OK);
}

/* A client that walks away mid-stream frees the worker: 12 abandoned calls of each kind are more
 * than the service's 8 workers, so a worker left waiting would make the last Echo time out. */
static void test_stream_cancel(void **state) {
  (void)state;
  ProtobufCMessage *m = NULL;
  for (int i = 0; i < 12; i++) {
    cli_stream *s = open_spray("y", 0, 1000000, 60000);
    for (int k = 0; k < 10; k++) {
      assert_int_equal(cli_stream_recv(s, &hoso__test__v1__echo_response__descriptor, &m), 1);
      protobuf_c_message_free_unpacked(m, NULL);
    }
    cli_stream_cancel(s);
    assert_int_equal(cli_stream_finish(s, NULL), GRPC_STATUS_CANCELLED);

    s = cli_stream_open(ch, SVC "Collect", NULL, 0, 60000);
    assert_non_null(s);
    echo_req r = stream_req("z", 0, 0);
    for (int k = 0; k < 10; k++) assert_int_equal(cli_stream_send(s, &r.base), 0);
    cli_stream_cancel(s);
    assert_int_equal(cli_stream_finish(s, NULL), GRPC_STATUS_CANCELLED);
  }
  echo_resp *e = NULL;
  assert_int_equal(call(ch, "Echo", "after cancels", 0, NULL, 0, CALL_MS, &e, NULL), GRPC_STATUS_OK);
  free_resp(e);
}

/* A stream is bounded by its deadline in both directions: a slow server stream (20 ms per
 * message, 1 000 messages = 20 s) and a client that never half-closes both end with
 * DEADLINE_EXCEEDED at 1.5 s, far sooner than they would finish. The deadline is long enough
 * for the call to start and the first message to come on a loaded machine, the bound of 8 s
 * short of the stream's 20 s. */
static void test_stream_deadline(void **state) {
  (void)state;
  double t0 = now_ms();
  cli_stream *s = open_spray("slow", 20, 1000, 1500);
  ProtobufCMessage *m = NULL;
  int n = 0;
  while (cli_stream_recv(s, &hoso__test__v1__echo_response__descriptor, &m) == 1) {
    n++;
    protobuf_c_message_free_unpacked(m, NULL);
  }
  assert_int_equal(cli_stream_finish(s, NULL), GRPC_STATUS_DEADLINE_EXCEEDED);
  assert_true(n > 0 && n < 1000);
  assert_true(now_ms() - t0 < 8000);

  t0 = now_ms();
  s = cli_stream_open(ch, SVC "Collect", NULL, 0, 1500);
  assert_non_null(s);
  echo_req r = stream_req("open", 0, 0);
  assert_int_equal(cli_stream_send(s, &r.base), 0);
  assert_int_equal(cli_stream_recv(s, &hoso__test__v1__echo_response__descriptor, &m), 0);
  assert_int_equal(cli_stream_finish(s, NULL), GRPC_STATUS_DEADLINE_EXCEEDED);
  assert_true(now_ms() - t0 < 8000);
}

/* The 4 MiB limit holds per message inside a stream: gRPC refuses the large one with
 * RESOURCE_EXHAUSTED after a good one was read, and the service goes on serving. */
static void test_stream_oversized_message(void **state) {
  (void)state;
  size_t n = 5u << 20;
  unsigned char *big = big_request(n);
  cli_stream *s = cli_stream_open(ch, SVC "Collect", NULL, 0, CALL_MS);
  assert_non_null(s);
  echo_req r = stream_req("fine", 0, 0);
  assert_int_equal(cli_stream_send(s, &r.base), 0);
  double t0 = now_ms();
  (void)cli_stream_send_raw(s, big, n); /* may fail once the server has refused it */
  (void)cli_stream_close_send(s);
  cli_status st;
  grpc_status_code code = cli_stream_finish(s, &st);
  free(big);
  assert_int_equal(code, GRPC_STATUS_RESOURCE_EXHAUSTED);
  assert_true(now_ms() - t0 < CALL_MS / 2); /* the refusal, not the deadline */
  echo_resp *e = NULL;
  assert_int_equal(call(ch, "Echo", "still here", 0, NULL, 0, CALL_MS, &e, NULL), GRPC_STATUS_OK);
  free_resp(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_health),
      cmocka_unit_test(test_unknown_method),
      cmocka_unit_test(test_oversized_message),
      cmocka_unit_test(test_malformed_message),
      cmocka_unit_test(test_auth),
      cmocka_unit_test(test_request_id_and_client_addr),
      cmocka_unit_test(test_request_id_metadata),
      cmocka_unit_test(test_concurrency),
      cmocka_unit_test(test_deadline),
      cmocka_unit_test(test_client_stream_many),
      cmocka_unit_test(test_server_stream_many),
      cmocka_unit_test(test_stream_cancel),
      cmocka_unit_test(test_stream_deadline),
      cmocka_unit_test(test_stream_oversized_message),
      cmocka_unit_test(test_db_error_mapping),
      cmocka_unit_test(test_database_restart),
      cmocka_unit_test(test_single_worker_instance),
      cmocka_unit_test(test_drain_on_sigterm),
      cmocka_unit_test(test_tls),
      cmocka_unit_test(test_tls_half_configured),
      cmocka_unit_test(test_no_certificate_no_plaintext),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
