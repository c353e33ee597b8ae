/* Internals shared by the server runtime's files (srv_loop.c, srv_ctx.c, srv_auth.c, srv_tls.c):
 * the per-call state behind srv_ctx.priv and the helpers one file offers the others. */
#ifndef HOSO_SRV_INT_H
#define HOSO_SRV_INT_H

#include <stddef.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include "audit_batch.h"
#include "cli.h"
#include "srv.h"

/* A method as the runtime serves it: srv_config's table joined with the proto's types and what
 * the descriptor set says (srv_loop.c). The flags are srv.h's plus these. */
enum {
  SRV_NO_TOKEN = 1u << 0,      /* ACCESS_PUBLIC or ACCESS_INTERNAL_PUBLIC: no token needed */
  SRV_CLIENT_STREAM = 1u << 2, /* `stream` request */
  SRV_SERVER_STREAM = 1u << 3, /* `stream` response */
};
typedef struct {
  char *path; /* "/hoso.identity.v1.Identity/Login" */
  const ProtobufCMessageDescriptor *in, *out;
  srv_handler fn;
  unsigned flags;
} srv_method;

/* --- srv_methods.c --- */
/* The method table served: every method of cfg->api (types from protobuf-c) with its handler
 * from the table (by name), who may call it and whether it streams from the descriptor set; a
 * method without a handler is left out (UNIMPLEMENTED, logged). 0, or -1 (logged) when the
 * table and the proto disagree. */
int srv_methods_build(const srv_config *cfg, srv_method **out, size_t *n);
void srv_methods_free(srv_method *m, size_t n);

/* One arena block; allocations are carved from the front, the list is freed after the reply. */
typedef struct srv_block {
  struct srv_block *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
} srv_block;

typedef struct {
  const char *key;
  const char *value;
} srv_md;

struct srv_call_priv {
  srv_block *arena;          /* newest block first */
  srv_md *md;                /* request metadata, copied into the arena */
  size_t n_md;
  gpr_timespec deadline;     /* monotonic clock; tv_sec == INT64_MAX when none */
  grpc_completion_queue *cq; /* the worker's queue: polled to notice a cancelled call */
  int close_done, cancelled; /* RECV_CLOSE_ON_SERVER has completed / said cancelled */
  int failed;
  grpc_status_code code;
  const char *message;       /* in the arena */
  tok_claims claims;         /* backing store of ctx->auth */
  ProtobufCAllocator alloc;  /* srv_allocator: protobuf-c allocations from the arena */
  /* Streaming (srv_recv / srv_send): */
  grpc_call *call;
  unsigned flags;            /* the method's SRV_* flags */
  const ProtobufCMessageDescriptor *m_in; /* the method's request type */
  ProtobufCMessage *in_msg;  /* the last srv_recv message (malloc'd), freed by the next one */
  int in_done;               /* srv_recv has seen the end of the stream */
  int md_sent;               /* srv_send has sent the initial metadata */
  /* Row-level security inside the current transaction (srv_tx_scoped, srv_set_scope): the
   * scope srv_all_units sets back, in the arena (NULL: the caller's token's), and how deep in
   * srv_all_units the code runs. */
  const char *scope;
  int all_units_depth;
  /* The names a verified client certificate gives (common names and subject alternative
   * names, in the arena): a service account's token must come with one naming its client. */
  const char **cert_names;
  size_t n_cert_names;
};

/* --- srv_loop.c --- */
/* The process's read audit batcher (NULL outside srv_main). */
audit_batch *srv__audit_batch(void);

/* --- srv_ctx.c --- */
void srv_arena_reset(struct srv_call_priv *p);
/* Milliseconds left before the call's deadline; LLONG_MAX when it has none. */
long long srv_remaining_ms(const srv_ctx *ctx);
/* Non-blocking look at the worker queue: 1 if the client has cancelled (or the deadline hit). */
int srv_call_cancelled(srv_ctx *ctx);

/* --- srv_auth.c --- */
/* Request id from x-request-id when acceptable, else a fresh random one (arena). */
const char *srv_pick_request_id(srv_ctx *ctx);
/* Client address from the peer string and the call's auth context: x-forwarded-for (read from
 * the right past the proxies in trusted, peer.h) only from the gateway, known over TLS by its
 * client certificate, in plaintext by its address in trusted (comma separated IPs, may be
 * NULL). */
const char *srv_pick_client_addr(srv_ctx *ctx, const char *peer, const grpc_auth_context *ac,
                                 const char *trusted);
/* The names of the verified client certificate of the call's connection (none without one),
 * kept for srv_authenticate. */
void srv_pick_cert_names(srv_ctx *ctx, const grpc_auth_context *ac);
/* Token check before the handler; 0 to go on, -1 with the status set. */
int srv_authenticate(srv_ctx *ctx, unsigned flags, int service_mtls);
/* Keyring of the process; refresh goes through load (NULL: identity's GetPublicKeys). */
int srv_keyring_init(srv_keys_fn load);
void srv_keyring_free(void);
/* The calling worker's connection, passed to srv_keys_fn as its arg (NULL elsewhere). */
void srv_set_thread_db(db_conn *db);
/* Loads the keys once now; failure is logged, not fatal. */
void srv_keyring_load_now(db_conn *db);

/* --- srv_revocations.c --- */
/* The token revocation list of the process: init (fetch NULL = identity over gRPC), one read
 * now (before serving; failure logged, not fatal), the job that reads it every
 * HOSO_REVOCATION_POLL_MS, and the check: 1 when the verified token c is revoked. */
int srv_revocations_init(srv_revocations_fn fetch);
void srv_revocations_load_now(db_conn *db);
int srv_revocations_start(const char *schema);
void srv_revocations_stop(void);
void srv_revocations_free(void);
int srv_revoked(const tok_claims *c);


/* --- srv_schema.c --- */
/* Before serving, on a connection of the services' role (HOSO_PG_DSN): waits for PostgreSQL,
 * applies the migrations as the owner when HOSO_PG_MIGRATE_DSN is set (then forgets it), and
 * refuses (-1, logged) a schema missing a migration or a role that could rewrite the audit log. */
int srv_schema_ready(db_conn *app, const srv_config *cfg);

/* --- srv_anchor.c --- */
/* Signed checkpoints of the service's audit chains: init reads HOSO_AUDIT_CHECKPOINT_KEY/_FILE/
 * _SECONDS at start-up (without them -1, logged: not starting, unless HOSO_INSECURE_DEV=1);
 * start runs the job once serving; stop ends it. */
int srv_anchor_init(const char *schema);
int srv_anchor_start(void);
void srv_anchor_stop(void);

/* --- srv_tls.c --- */
/* Server credentials from HOSO_TLS_*; *mode names them for the log. NULL on a bad setup. */
grpc_server_credentials *srv_tls_credentials(const char **mode);

#endif
