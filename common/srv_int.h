/* Internals shared by the server runtime's files (srv_loop.c, srv_ctx.c, srv_auth.c, srv_tls.c):
 * the per-call state behind srv_ctx.priv and the helpers one file offers the others. */
#ifndef HOSO_SRV_INT_H
#define HOSO_SRV_INT_H

#include <stddef.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include "cli.h"
#include "srv.h"

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
};

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
 * the right past the proxies in trusted, fwd.h) only from the gateway, known over TLS by its
 * client certificate, in plaintext by its address in trusted (comma separated IPs, may be
 * NULL). */
const char *srv_pick_client_addr(srv_ctx *ctx, const char *peer, const grpc_auth_context *ac,
                                 const char *trusted);
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

/* --- cli.c --- */
/* grpc_init with the process-wide settings the runtime and the client want. */
void srv_grpc_init(void);
/* A call on the channel, bound to cq (cli_call_raw, cli_stream_open). */
grpc_call *cli_create_call(cli_chan *c, grpc_completion_queue *cq, grpc_slice method,
                           gpr_timespec deadline);

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
/* Whole file as a NUL-terminated malloc'd string, or NULL (errno set). */
char *srv_read_file(const char *path);

#endif
