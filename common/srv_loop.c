/* srv_main: start-up (config, database, keys, listening socket), the worker threads that each
 * serve one call at a time on their own completion queue and connection, and the drain. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include "cfg.h"
#include "cli.h"
#include "grpc/health/v1/health.pb-c.h"
#include "log.h"
#include "srv_int.h"
#include "unit_tree.h"

#define HEALTH_CHECK "/grpc.health.v1.Health/Check"
#define MAX_MSG (4 << 20)
#define DRAIN_SECONDS 10

/* Completion tags: each worker queue carries one call at a time, so constants suffice. */
#define TAG_NEW ((void *)1)
#define TAG_RECV ((void *)2)
#define TAG_SEND ((void *)3)
#define TAG_CLOSE ((void *)4)
#define TAG_SHUTDOWN ((void *)5)

typedef struct {
  pthread_t th;
  int started;
  grpc_completion_queue *cq;
  db_conn *db;
  struct srv_call_priv priv;
} worker;

static struct {
  const srv_config *cfg;
  grpc_server *server;
  worker *w;
  int n_workers;
  const char *trusted;
  int service_mtls;
  srv_method *methods; /* the method table served (build_methods) */
  size_t n_methods;
  atomic_int in_call; /* accepted calls whose last batch has not completed */
  atomic_int draining;
  audit_batch *audit;  /* the read audit rows' writers (srv_audit_read) */
} R;

audit_batch *srv__audit_batch(void) { return R.audit; }

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *slice_str(srv_ctx *ctx, grpc_slice s) {
  size_t n = GRPC_SLICE_LENGTH(s);
  char *r = srv_alloc(ctx, n + 1);
  memcpy(r, GRPC_SLICE_START_PTR(s), n);
  return r; /* zeroed by srv_alloc: NUL-terminated; an embedded NUL only shortens it */
}

/* Waits for `tag` on the worker queue; a RECV_CLOSE_ON_SERVER seen meanwhile is recorded.
 * Returns the batch's success flag. */
static int wait_tag(struct srv_call_priv *p, void *tag) {
  if (tag == TAG_CLOSE && p->close_done) return 1;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(p->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type != GRPC_OP_COMPLETE) return 0;
    if (ev.tag == TAG_CLOSE) p->close_done = 1;
    if (ev.tag == tag) return ev.success;
  }
}

static const srv_method *find_method(const char *path) {
  for (size_t i = 0; i < R.n_methods; i++)
    if (strcmp(R.methods[i].path, path) == 0) return &R.methods[i];
  return NULL;
}

static const srv_method health_method = {HEALTH_CHECK, &grpc__health__v1__health_check_request__descriptor,
                                         &grpc__health__v1__health_check_response__descriptor, NULL,
                                         SRV_NO_TOKEN};

static int health_check(srv_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage **out) {
  const Grpc__Health__V1__HealthCheckRequest *req = (const void *)in;
  const char *svc = req->service ? req->service : "";
  if (*svc && strcmp(svc, R.cfg->api->name) != 0) return srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "unknown service %s", svc);
  Grpc__Health__V1__HealthCheckResponse *r =
      srv_new(ctx, &grpc__health__v1__health_check_response__descriptor);
  r->status = atomic_load(&R.draining) ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                                       : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
  *out = &r->base;
  return 0;
}

/* One RECV_MESSAGE on the call: 0 with *bb set (NULL at the end of the stream), or -1 when
 * the call was cancelled, expired, or the message was over the limit. */
static int recv_bb(struct srv_call_priv *p, grpc_call *call, grpc_byte_buffer **bb) {
  grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
  op.data.recv_message.recv_message = bb;
  if (grpc_call_start_batch(call, &op, 1, TAG_RECV, NULL) != GRPC_CALL_OK || !wait_tag(p, TAG_RECV) ||
      p->cancelled)
    return -1;
  return 0;
}

/* The message in bb, malloc'd (free with protobuf_c_message_free_unpacked(m, NULL)); NULL
 * with INVALID_ARGUMENT set when it cannot be read. */
static ProtobufCMessage *unpack_bb(srv_ctx *ctx, const ProtobufCMessageDescriptor *d,
                                   grpc_byte_buffer *bb) {
  grpc_byte_buffer_reader rd;
  if (!grpc_byte_buffer_reader_init(&rd, bb)) {
    srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "request: cannot decompress the message");
    return NULL;
  }
  grpc_slice body = grpc_byte_buffer_reader_readall(&rd);
  grpc_byte_buffer_reader_destroy(&rd);
  ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(body), GRPC_SLICE_START_PTR(body));
  grpc_slice_unref(body);
  if (!m) srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "request: malformed protobuf message");
  return m;
}

/* The status for a stream that broke off: the deadline, or the client leaving. */
static int stream_broken(srv_ctx *ctx, const char *when) {
  if (srv_remaining_ms(ctx) <= 0)
    return srv_fail(ctx, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded while %s", when);
  return srv_fail(ctx, GRPC_STATUS_CANCELLED, "call cancelled while %s", when);
}

int srv_recv(srv_ctx *ctx, ProtobufCMessage **msg) {
  struct srv_call_priv *p = ctx->priv;
  *msg = NULL;
  /* One message at a time: a 20 MiB upload in 1 MiB chunks never holds more than one chunk. */
  if (p->in_msg) protobuf_c_message_free_unpacked(p->in_msg, NULL);
  p->in_msg = NULL;
  if (!(p->flags & SRV_CLIENT_STREAM)) {
    log_error("%s: srv_recv on a method whose request is not a stream", ctx->method);
    return srv_fail_internal(ctx);
  }
  if (p->in_done) return 0;
  grpc_byte_buffer *bb = NULL;
  if (recv_bb(p, p->call, &bb) != 0) {
    if (bb) grpc_byte_buffer_destroy(bb);
    /* Cancelled, expired, or a message over the limit (gRPC has then answered the client with
     * RESOURCE_EXHAUSTED itself, as for a unary request). */
    return stream_broken(ctx, "receiving the request stream");
  }
  if (!bb) {
    p->in_done = 1;
    return 0;
  }
  p->in_msg = unpack_bb(ctx, p->m_in, bb);
  grpc_byte_buffer_destroy(bb);
  if (!p->in_msg) return -1;
  *msg = p->in_msg;
  return 1;
}

int srv_send(srv_ctx *ctx, const ProtobufCMessage *msg) {
  struct srv_call_priv *p = ctx->priv;
  if (!(p->flags & SRV_SERVER_STREAM)) {
    log_error("%s: srv_send on a method whose response is not a stream", ctx->method);
    return srv_fail_internal(ctx);
  }
  if (srv_call_cancelled(ctx)) return stream_broken(ctx, "sending the response stream");
  size_t len = protobuf_c_message_get_packed_size(msg);
  grpc_slice s = grpc_slice_malloc(len);
  protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  grpc_metadata rid_md = {.key = grpc_slice_from_static_string("x-request-id"),
                          .value = grpc_slice_from_copied_string(ctx->request_id)};
  grpc_op ops[2];
  size_t nops = 0;
  memset(ops, 0, sizeof ops);
  if (!p->md_sent) {
    ops[nops].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[nops].data.send_initial_metadata.count = 1;
    ops[nops].data.send_initial_metadata.metadata = &rid_md;
    nops++;
  }
  ops[nops].op = GRPC_OP_SEND_MESSAGE;
  ops[nops].data.send_message.send_message = bb;
  nops++;
  int ok = grpc_call_start_batch(p->call, ops, nops, TAG_SEND, NULL) == GRPC_CALL_OK;
  if (ok) {
    p->md_sent = 1;
    ok = wait_tag(p, TAG_SEND) && !p->cancelled;
  }
  grpc_byte_buffer_destroy(bb);
  grpc_slice_unref(rid_md.value);
  return ok ? 0 : stream_broken(ctx, "sending the response stream");
}

/* Reads, checks and unpacks the request; runs auth and the handler; leaves a packed reply in
 * *reply (or the status in ctx). */
static void run_call(srv_ctx *ctx, grpc_call *call, const srv_method *m, grpc_slice *reply,
                     int *has_reply) {
  struct srv_call_priv *p = ctx->priv;
  grpc_byte_buffer *bb = NULL;
  ProtobufCMessage *req = NULL, *resp = NULL;
  /* A client stream's requests are the handler's to read (srv_recv): it gets req == NULL. */
  if (m->flags & SRV_CLIENT_STREAM) goto run;
  if (recv_bb(p, call, &bb) != 0) {
    /* Too large (gRPC already answered RESOURCE_EXHAUSTED), cancelled, or the peer left. */
    srv_fail(ctx, GRPC_STATUS_CANCELLED, "call cancelled before the request arrived");
    goto out;
  }
  if (!bb) {
    srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "request: missing message");
    goto out;
  }
  if (!(req = unpack_bb(ctx, m->in, bb))) goto out;
run:
  if (srv_remaining_ms(ctx) <= 0) {
    srv_fail(ctx, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded before the call started");
    goto out;
  }
  if (srv_authenticate(ctx, m->flags, R.service_mtls) != 0) goto out;
  if (ctx->auth && R.cfg->check_caller && R.cfg->check_caller(ctx, &p->claims) != 0) goto out;
  srv_handler fn = m->fn ? m->fn : health_check;
  int rc = fn(ctx, req, &resp);
  if (srv_failed(ctx)) goto out; /* the recorded status wins over whatever was returned */
  if (m->flags & SRV_SERVER_STREAM) {
    /* Its responses went out through srv_send; only the status is left to send. */
    if (rc != 0 || resp) {
      log_error("%s: streaming handler returned %d %s without a status", ctx->method, rc,
                resp ? "with a response" : "");
      srv_fail_internal(ctx);
    }
    goto out;
  }
  if (rc != 0 || !resp) {
    log_error("%s: handler returned %d %s without a status", ctx->method, rc,
              resp ? "with a response" : "and no response");
    srv_fail_internal(ctx);
    goto out;
  }
  /* Packed before the request is freed: a response may point into the request's strings. */
  size_t len = protobuf_c_message_get_packed_size(resp);
  *reply = grpc_slice_malloc(len);
  protobuf_c_message_pack(resp, GRPC_SLICE_START_PTR(*reply));
  *has_reply = 1;
out:
  if (req) protobuf_c_message_free_unpacked(req, NULL);
  if (p->in_msg) protobuf_c_message_free_unpacked(p->in_msg, NULL);
  p->in_msg = NULL;
  if (bb) grpc_byte_buffer_destroy(bb);
}

static void serve_call(worker *w, grpc_call *call, grpc_call_details *d, grpc_metadata_array *md) {
  struct srv_call_priv *p = &w->priv;
  double t0 = now_ms();
  p->md = NULL;
  p->n_md = 0;
  p->failed = 0;
  p->code = GRPC_STATUS_OK;
  p->message = NULL;
  p->close_done = p->cancelled = 0;
  p->deadline = d->deadline;
  p->cq = w->cq;
  p->call = call;
  p->flags = 0;
  p->m_in = NULL;
  p->in_msg = NULL;
  p->in_done = p->md_sent = 0;
  p->cert_names = NULL;
  p->n_cert_names = 0;
  srv_ctx ctx = {.db = w->db, .priv = p};
  srv_ctx *c = &ctx;

  ctx.method = slice_str(c, d->method);
  p->md = srv_alloc(c, (md->count ? md->count : 1) * sizeof *p->md);
  for (size_t i = 0; i < md->count; i++) {
    p->md[p->n_md].key = slice_str(c, md->metadata[i].key);
    p->md[p->n_md].value = slice_str(c, md->metadata[i].value);
    p->n_md++;
  }
  char *peer = grpc_call_get_peer(call);
  grpc_auth_context *ac = grpc_call_auth_context(call);
  ctx.client_addr = srv_pick_client_addr(c, peer, ac, R.trusted);
  gpr_free(peer);
  /* With TLS, an authenticated peer means a client certificate that verified against the CA. */
  ctx.peer_has_cert = ac && grpc_auth_context_peer_is_authenticated(ac);
  srv_pick_cert_names(c, ac);
  grpc_auth_context_release(ac);
  ctx.request_id = srv_pick_request_id(c);
  log_set_request_id(ctx.request_id);

  /* Posted first: its completion is how a cancelled or expired call becomes visible. */
  grpc_op close_op = {.op = GRPC_OP_RECV_CLOSE_ON_SERVER};
  close_op.data.recv_close_on_server.cancelled = &p->cancelled;
  int close_started = grpc_call_start_batch(call, &close_op, 1, TAG_CLOSE, NULL) == GRPC_CALL_OK;
  if (!close_started) p->close_done = 1;

  grpc_slice reply = grpc_empty_slice();
  int has_reply = 0;
  const srv_method *m = strcmp(ctx.method, HEALTH_CHECK) == 0 ? &health_method : find_method(ctx.method);
  if (!m)
    srv_fail(c, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s", ctx.method);
  else if (srv_remaining_ms(c) <= 0)
    srv_fail(c, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded before the call started");
  else {
    p->flags = m->flags;
    p->m_in = m->in;
    run_call(c, call, m, &reply, &has_reply);
  }

  grpc_metadata rid_md = {.key = grpc_slice_from_static_string("x-request-id"),
                          .value = grpc_slice_from_copied_string(ctx.request_id)};
  grpc_slice details = grpc_slice_from_copied_string(p->failed && p->message ? p->message : "");
  grpc_byte_buffer *out_bb = has_reply ? grpc_raw_byte_buffer_create(&reply, 1) : NULL;
  grpc_slice_unref(reply);
  grpc_op ops[3];
  size_t nops = 0;
  memset(ops, 0, sizeof ops);
  if (!p->md_sent) { /* a server stream's first srv_send already sent it */
    ops[nops].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[nops].data.send_initial_metadata.count = 1;
    ops[nops].data.send_initial_metadata.metadata = &rid_md;
    nops++;
  }
  if (out_bb) {
    ops[nops].op = GRPC_OP_SEND_MESSAGE;
    ops[nops].data.send_message.send_message = out_bb;
    nops++;
  }
  ops[nops].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[nops].data.send_status_from_server.status = p->failed ? p->code : GRPC_STATUS_OK;
  ops[nops].data.send_status_from_server.status_details = &details;
  nops++;
  if (grpc_call_start_batch(call, ops, nops, TAG_SEND, NULL) == GRPC_CALL_OK)
    wait_tag(p, TAG_SEND);
  else
    grpc_call_cancel(call, NULL); /* else the close below would wait for the client's deadline */
  if (close_started) wait_tag(p, TAG_CLOSE);
  if (out_bb) grpc_byte_buffer_destroy(out_bb);
  grpc_slice_unref(details);
  grpc_slice_unref(rid_md.value);

  grpc_status_code code = p->cancelled ? GRPC_STATUS_CANCELLED : p->failed ? p->code : GRPC_STATUS_OK;
  double ms = now_ms() - t0;
  int lvl = (m == &health_method || (m && (m->flags & SRV_QUIET))) && code == GRPC_STATUS_OK ? LOG_DEBUG_ : LOG_INFO_;
  if (p->failed && !p->cancelled)
    log_msg(lvl, "call %s %s %.1fms client=%s: %s", ctx.method, cli_status_name(code), ms,
            ctx.client_addr, p->message);
  else
    log_msg(lvl, "call %s %s %.1fms client=%s", ctx.method, cli_status_name(code), ms,
            ctx.client_addr);
  log_set_request_id(NULL);
  p->cq = NULL;
  p->call = NULL;
  srv_arena_reset(p);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  srv_set_thread_db(w->db);
  for (;;) {
    grpc_call *call = NULL;
    grpc_call_details d;
    grpc_metadata_array md;
    grpc_call_details_init(&d);
    grpc_metadata_array_init(&md);
    int ok = grpc_server_request_call(R.server, &call, &d, &md, w->cq, w->cq, TAG_NEW) == GRPC_CALL_OK;
    if (ok) {
      grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
      ok = ev.type == GRPC_OP_COMPLETE && ev.success; /* not ok: the server is shutting down */
    }
    if (ok) {
      atomic_fetch_add(&R.in_call, 1);
      serve_call(w, call, &d, &md);
      grpc_call_unref(call);
      atomic_fetch_sub(&R.in_call, 1);
    }
    grpc_call_details_destroy(&d);
    grpc_metadata_array_destroy(&md);
    if (!ok) break;
  }
  return NULL;
}

static void drain_cq(grpc_completion_queue *cq) {
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
}

static void drain(int sig) {
  atomic_store(&R.draining, 1);
  log_info("signal %d: draining (%d call(s) in flight, up to %ds)", sig, atomic_load(&R.in_call),
           DRAIN_SECONDS);
  grpc_completion_queue *scq = grpc_completion_queue_create_for_pluck(NULL);
  grpc_server_shutdown_and_notify(R.server, scq, TAG_SHUTDOWN);
  gpr_timespec limit = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(DRAIN_SECONDS, GPR_TIMESPAN));
  if (grpc_completion_queue_pluck(scq, TAG_SHUTDOWN, limit, NULL).type != GRPC_OP_COMPLETE) {
    log_warn("drain: calls still running after %ds; cancelling them", DRAIN_SECONDS);
    grpc_server_cancel_all_calls(R.server);
    grpc_completion_queue_pluck(scq, TAG_SHUTDOWN, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  }
  /* A handler still inside PostgreSQL would start a batch on its queue when it returns: the
   * queues may only be shut down once every accepted call has finished. */
  while (atomic_load(&R.in_call) > 0) usleep(10000);
  for (int i = 0; i < R.n_workers; i++)
    if (R.w[i].started) pthread_join(R.w[i].th, NULL);
  for (int i = 0; i < R.n_workers; i++)
    if (R.w[i].cq) {
      drain_cq(R.w[i].cq);
      R.w[i].cq = NULL;
    }
  grpc_server_destroy(R.server);
  R.server = NULL;
  grpc_completion_queue_shutdown(scq);
  grpc_completion_queue_pluck(scq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  grpc_completion_queue_destroy(scq);
}

static void release(int grpc_up) {
  /* after the drain: a handler still in a call may be waiting for its batch */
  audit_batch_stop(R.audit);
  R.audit = NULL;
  if (R.server) {
    /* Start-up failed after the server existed but before it started. */
    grpc_server_destroy(R.server);
    R.server = NULL;
  }
  for (int i = 0; R.w && i < R.n_workers; i++) {
    if (R.w[i].cq) drain_cq(R.w[i].cq);
    if (R.w[i].db) db_close(R.w[i].db);
    srv_arena_reset(&R.w[i].priv);
    free(R.w[i].priv.arena);
  }
  free(R.w);
  R.w = NULL;
  srv_methods_free(R.methods, R.n_methods);
  R.methods = NULL;
  R.n_methods = 0;
  srv_keyring_free();
  srv_revocations_stop(); /* a start-up that failed after the job started */
  srv_anchor_stop();
  srv_revocations_free();
  if (grpc_up) grpc_shutdown();
}

/* Settings (environment):
 *   HOSO_<SERVICE>_ADDR    listen address (the service table, cfg.h)
 *   HOSO_PG_DSN            libpq DSN, default CFG_PG_DSN_DEFAULT ("dbname=hoso user=hoso")
 *   HOSO_PG_MIGRATE_DSN    DSN of the owner role: migrations run as it at start-up (or with the
 *                          argument `migrate`, which then exits); else they must be there
 *   HOSO_PG_WAIT           seconds to wait for PostgreSQL at start-up (30)
 *   HOSO_WORKERS           worker threads = concurrent calls = connections (8, 1..256)
 *   HOSO_AUDIT_BATCH_WRITERS  threads (and connections) appending read audit rows in batches (2)
 *   HOSO_AUDIT_BATCH_TIMEOUT_MS  a batch that takes longer fails its reads (10000; 0 none)
 *   HOSO_READ_AUDIT_SYNC   0: a batch commits without waiting for the WAL flush (1)
 *   HOSO_TLS_CERT/KEY      PEM files: serve TLS (both or neither)
 *   HOSO_TLS_CA            PEM file: request client certificates and verify them against it
 *   HOSO_TLS_CLIENT_AUTH   "require": refuse connections without a client certificate
 *   HOSO_SERVICE_MTLS      "require": SERVICE-role tokens only over a verified client cert
 *                          naming the client, or naming one of HOSO_SERVICE_MTLS_RELAYS (the
 *                          deployment's own services passing their caller's token on)
 *   HOSO_TRUSTED_PROXIES   proxies skipped in x-forwarded-for; in plaintext, who may send it
 *   HOSO_GATEWAY_CLIENT_NAME  the gateway's client certificate name (TLS: who may send it)
 *   HOSO_IDENTITY_ADDR     where GetPublicKeys is asked when cfg->load_keys is NULL */
int srv_main(const srv_config *cfg, int argc, char **argv) {
  int rc = 1, grpc_up = 0;
  memset(&R, 0, sizeof R);
  R.cfg = cfg;
  log_init(cfg->service);

  /* Blocked before gRPC or any thread exists, so every thread inherits the mask and only
   * sigwait below sees them (gRPC's threads would otherwise take them). */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  const char *addr = cfg_service_addr(cfg->service);
  const char *dsn = cfg_str("HOSO_PG_DSN", CFG_PG_DSN_DEFAULT);
  R.n_workers = (int)cfg_int("HOSO_WORKERS", 8, 1, 256);
  R.trusted = cfg_str("HOSO_TRUSTED_PROXIES", NULL);
  R.service_mtls = strcasecmp(cfg_str("HOSO_SERVICE_MTLS", ""), "require") == 0;

  if (argc > 1 && !strcmp(argv[1], "migrate") && !cfg_str("HOSO_PG_MIGRATE_DSN", NULL)) {
    log_error("migrate: set HOSO_PG_MIGRATE_DSN to the owner role's connection (and HOSO_PG_DSN to the "
              "services' role, which is granted its rights)");
    goto out;
  }
  if (!addr) {
    log_error("no listen address for %s: it is not in common/services.tsv, so set its HOSO_<NAME>_ADDR",
              cfg->service);
    goto out;
  }
  if (srv_methods_build(cfg, &R.methods, &R.n_methods) != 0) goto out;
  R.w = calloc((size_t)R.n_workers, sizeof *R.w);
  if (!R.w) goto out;
  for (int i = 0; i < R.n_workers; i++)
    if (!(R.w[i].db = db_open(dsn, cfg->schema))) goto out;
  if (srv_schema_ready(R.w[0].db, cfg) != 0) {
    log_error("schema %s is not ready; not starting", cfg->schema);
    goto out;
  }
  if (argc > 1 && !strcmp(argv[1], "migrate")) { /* a deployment's migration step: done */
    log_info("schema %s migrated", cfg->schema);
    rc = 0;
    goto out;
  }
  if (srv_anchor_init(cfg->schema) != 0) goto out;
  /* Before any call: a read waits for its audit row's batch (srv_audit_read). */
  if (!(R.audit = audit_batch_start(dsn, cfg->schema, (int)cfg_int("HOSO_AUDIT_BATCH_WRITERS", 2, 1, 8),
                                    cfg_bool("HOSO_READ_AUDIT_SYNC", 1),
                                    cfg_int("HOSO_AUDIT_BATCH_TIMEOUT_MS", 10000, 0, 3600L * 1000))))
    goto out;
  if (cfg->on_start && cfg->on_start(R.w[0].db) != 0) {
    log_error("start-up step failed; not starting");
    goto out;
  }

  cli_grpc_init();
  grpc_up = 1;
  if (srv_keyring_init(cfg->load_keys) != 0) goto out;
  srv_keyring_load_now(R.w[0].db);
  /* Revocations come from whoever issues the tokens: a service given keys of its own (a test
   * service) has no identity to ask, and must not read the list of whatever listens at the
   * default identity address. */
  int revocations = cfg->load_revocations || !cfg->load_keys;
  if (revocations && srv_revocations_init(cfg->load_revocations) != 0) goto out;
  if (revocations) srv_revocations_load_now(R.w[0].db);

  const char *mode = NULL;
  grpc_server_credentials *creds = srv_tls_credentials(&mode);
  if (!creds) goto out;
  grpc_arg args[2] = {
      {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = MAX_MSG},
      /* Without this a second process on the same port would silently share its traffic. */
      {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0},
  };
  grpc_channel_args cargs = {2, args};
  R.server = grpc_server_create(&cargs, NULL);
  for (int i = 0; i < R.n_workers; i++) {
    R.w[i].cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(R.server, R.w[i].cq, NULL);
  }
  int port = grpc_server_add_http2_port(R.server, addr, creds);
  grpc_server_credentials_release(creds);
  if (port == 0) {
    log_error("cannot listen on %s (address in use or invalid)", addr);
    goto out;
  }
  grpc_server_start(R.server);
  for (int i = 0; i < R.n_workers; i++) {
    if (pthread_create(&R.w[i].th, NULL, worker_main, &R.w[i]) != 0) {
      log_error("cannot start worker thread %d", i);
      drain(0);
      goto out;
    }
    R.w[i].started = 1;
  }
  log_info("listening on %s tls=%s workers=%d schema=%s service_mtls=%s", addr, mode,
           R.n_workers, cfg->schema, R.service_mtls ? "require" : "off");
  if ((revocations && srv_revocations_start(cfg->schema) != 0) || srv_anchor_start() != 0) {
    drain(0);
    goto out;
  }
  if (cfg->follow_units && unit_tree_follow_start(cfg->service, cfg->schema, cfg->follow_units) != 0) {
    drain(0);
    goto out;
  }
  if (cfg->on_serving && cfg->on_serving() != 0) {
    log_error("background start-up step failed; stopping");
    unit_tree_follow_stop();
    drain(0);
    goto out;
  }

  int sig = 0;
  while (sigwait(&sigs, &sig) != 0) {
  }
  if (cfg->on_stopping) cfg->on_stopping();
  unit_tree_follow_stop();
  srv_revocations_stop();
  srv_anchor_stop();
  drain(sig);
  log_info("stopped");
  rc = 0;
out:
  release(grpc_up);
  return rc;
}
