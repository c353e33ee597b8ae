/* hoso-echo: a srv_main service with no business logic, so the runtime tests can drive every
 * path of common/srv_*.c (auth, deadlines, drain, database outage, error mapping) directly. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "echo.pb-c.h"
#include "srv.h"

typedef Hoso__Test__V1__EchoRequest echo_req;
typedef Hoso__Test__V1__EchoResponse echo_resp;

static echo_resp *reply(srv_ctx *ctx, const echo_req *r) {
  echo_resp *o = srv_new(ctx, &hoso__test__v1__echo_response__descriptor);
  o->text = r->text; /* points into the request: the runtime packs before freeing it */
  o->sub = ctx->auth ? srv_strdup(ctx, ctx->auth->sub) : "";
  o->request_id = (char *)ctx->request_id;
  o->client_addr = (char *)ctx->client_addr;
  o->peer_has_cert = ctx->peer_has_cert;
  return o;
}

static int h_echo(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  *out = &reply(ctx, (const echo_req *)in)->base;
  return 0;
}

/* Sleep handlers that actually ran: tests check that expired calls never reach a handler. */
static atomic_int sleeps_run;

static int h_stats(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  echo_resp *o = reply(ctx, (const echo_req *)in);
  o->value = atomic_load(&sleeps_run);
  *out = &o->base;
  return 0;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static int h_sleep(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  const echo_req *r = (const echo_req *)in;
  atomic_fetch_add(&sleeps_run, 1);
  if (r->sleep_ms < 0 || r->sleep_ms > 60000)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "sleep_ms: must be 0..60000");
  sleep_ms(r->sleep_ms);
  *out = &reply(ctx, r)->base;
  return 0;
}

typedef struct {
  const echo_req *req;
  int value;
} db_arg;

static int tx_select(srv_ctx *ctx, void *arg) {
  db_arg *a = arg;
  char ms[32];
  PGresult *r;
  if (a->req->sleep_ms > 0) {
    snprintf(ms, sizeof ms, "%d", a->req->sleep_ms);
    r = db_q(ctx->db, "SELECT 1 FROM pg_sleep($1::int / 1000.0)", 1, ms);
  } else {
    r = db_q(ctx->db, "SELECT 1", 0);
  }
  if (!r) return -1;
  a->value = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

static int h_db(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  db_arg a = {(const echo_req *)in, 0};
  if (srv_tx(ctx, DB_READ_COMMITTED, tx_select, &a) != 0) return -1;
  echo_resp *o = reply(ctx, a.req);
  o->value = a.value;
  *out = &o->base;
  return 0;
}

static int tx_unique(srv_ctx *ctx, void *arg) {
  (void)arg;
  if (db_cmd(ctx->db, "CREATE TEMP TABLE echo_u (k int PRIMARY KEY) ON COMMIT DROP", 0) != 0 ||
      db_cmd(ctx->db, "INSERT INTO echo_u VALUES (1)", 0) != 0 ||
      db_cmd(ctx->db, "INSERT INTO echo_u VALUES (1)", 0) != 0)
    return -1;
  return 0;
}

static int tx_bad_sql(srv_ctx *ctx, void *arg) {
  (void)arg;
  return db_cmd(ctx->db, "SELECT secret_column FROM echo_no_such_table", 0);
}

/* Fails after writing, as a failed login records its failure: the commit stands and the
 * status still goes out. */
static int tx_fail_commit(srv_ctx *ctx, void *arg) {
  (void)arg;
  srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "recorded, then refused");
  return 0;
}

static int h_fail(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  const echo_req *r = (const echo_req *)in;
  const char *t = r->text ? r->text : "";
  if (strcmp(t, "unique") == 0)
    return srv_tx(ctx, DB_READ_COMMITTED, tx_unique, NULL) ? -1 : srv_fail(ctx, GRPC_STATUS_INTERNAL, "no error");
  if (strcmp(t, "sql") == 0)
    return srv_tx(ctx, DB_READ_COMMITTED, tx_bad_sql, NULL) ? -1 : srv_fail(ctx, GRPC_STATUS_INTERNAL, "no error");
  if (strcmp(t, "commit") == 0) return srv_tx(ctx, DB_READ_COMMITTED, tx_fail_commit, NULL);
  if (strcmp(t, "noresp") == 0) return 0;
  if (strcmp(t, "minus") == 0) return -1;
  if (strcmp(t, "big") == 0) {
    /* Exercises arena blocks larger than the standard one. */
    echo_resp *o = reply(ctx, r);
    char *s = srv_alloc(ctx, 100000);
    memset(s, 'x', 99999);
    o->text = s;
    *out = &o->base;
    return 0;
  }
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "text: unknown failure mode '%s'", t);
}

static int h_collect(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  (void)in; /* NULL: a client stream's requests come from srv_recv */
  ProtobufCMessage *m;
  int n = 0, rc;
  size_t bytes = 0;
  while ((rc = srv_recv(ctx, &m)) == 1) {
    const echo_req *r = (const echo_req *)m;
    n++;
    bytes += r->text ? strlen(r->text) : 0;
    if (r->sleep_ms > 0 && r->sleep_ms <= 60000) sleep_ms(r->sleep_ms);
  }
  if (rc < 0) return -1;
  echo_resp *o = srv_new(ctx, &hoso__test__v1__echo_response__descriptor);
  o->value = n;
  o->text = srv_printf(ctx, "%zu", bytes);
  o->request_id = (char *)ctx->request_id;
  *out = &o->base;
  return 0;
}

static int h_spray(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  const echo_req *r = (const echo_req *)in;
  (void)out; /* stays NULL: the responses go out through srv_send */
  if (r->count < 0 || r->sleep_ms < 0 || r->sleep_ms > 60000)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "count, sleep_ms: out of range");
  for (int i = 0; i < r->count; i++) {
    echo_resp *o = reply(ctx, r);
    o->value = i;
    if (srv_send(ctx, &o->base) != 0) return -1;
    if (r->sleep_ms > 0) sleep_ms(r->sleep_ms);
  }
  return 0;
}

/* Tests mint tokens with their own key and hand its public half over in the environment. */
static int test_keys(tok_keyring *kr, void *arg) {
  (void)arg;
  const char *pem = getenv("HOSO_TEST_PUBKEY_PEM"), *kid = getenv("HOSO_TEST_KID");
  if (!pem || !kid) return -1;
  return tok_keyring_add(kr, kid, pem);
}

static const srv_rpc rpcs[] = {
    SRV_RPC(Echo, h_echo),
    SRV_RPC(Sleep, h_sleep),
    SRV_RPC(Whoami, h_echo),
    SRV_RPC_FLAGS(WhoamiPw, h_echo, SRV_PWCHANGE_OK),
    SRV_RPC(Db, h_db),
    SRV_RPC(Fail, h_fail),
    SRV_RPC(Stats, h_stats),
    SRV_RPC(Collect, h_collect),
    SRV_RPC(Spray, h_spray),
};

/* echo.proto's descriptor set (tests/CMakeLists.txt): the access options of its methods. */
extern const unsigned char echo_descriptor_set[];
extern const size_t echo_descriptor_set_len;

static const db_migration no_migrations[] = {{0, 0, 0}};

int main(int argc, char **argv) {
  const srv_config cfg = {
      .service = "echo",
      .schema = "echo",
      .migrations = no_migrations,
      .api = &hoso__test__v1__echo__descriptor,
      SRV_RPCS(rpcs),
      .descriptor_set = echo_descriptor_set,
      .descriptor_set_len = echo_descriptor_set_len,
      .load_keys = test_keys,
  };
  return srv_main(&cfg, argc, argv);
}
