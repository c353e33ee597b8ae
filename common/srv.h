/* The gRPC server runtime every service runs on (gRPC C core): a method table, a fixed pool of
 * worker threads each owning a PostgreSQL connection, token and scope checks before the
 * handler, deadlines and cancellation, health checks, TLS, and a clean drain on SIGTERM. */
#ifndef HOSO_SRV_H
#define HOSO_SRV_H

#include <stddef.h>
#include <grpc/grpc.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include "audit.h"
#include "db.h"
#include "revocations.h"
#include "tok.h"

typedef struct srv_ctx srv_ctx;

/* A handler: validate → authorize → transaction → reply. On success it sets *resp to a
 * message built in the call's arena (srv_alloc / srv_strdup / srv_new) and returns 0; on
 * failure it returns the value of srv_fail / srv_fail_db. The runtime packs and sends the
 * response and frees the arena, so handlers never free response memory. */
typedef int (*srv_handler)(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp);
/* Declares a handler in a service's header: `SRV_HANDLER(rpc_login);`. */
#define SRV_HANDLER(name) int name(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp)

/* What a method table line may add to what the .proto says of the method. */
enum {
  SRV_PWCHANGE_OK = 1u << 1, /* also accepts a pwchange token (ChangePassword, WhoAmI) */
  /* Polled by other services every few seconds (the revocation list, the unit-change feed): a
   * successful call is logged at debug level, so the log keeps what people did. Failures
   * are logged as usual. */
  SRV_QUIET = 1u << 4,
};

/* One line of a service's method table: the method's name in the service's proto and its
 * handler, in one line each:
 *   SRV_RPC(Login, rpc_login),
 *   SRV_RPC_FLAGS(ListTokenRevocations, rpc_list_token_revocations, SRV_QUIET),
 * The request and response types come from protobuf-c's service descriptor (srv_config.api);
 * who may call it (a token or none) and whether it streams come from the .proto, through the
 * descriptor set (common.proto's access option; `stream`): declared there once, read by the
 * runtime and the gateway alike. A client-streaming handler gets req == NULL and reads the
 * requests with srv_recv, then sets *resp as a unary handler does; a server-streaming handler
 * sends each response with srv_send and leaves *resp NULL. */
typedef struct {
  const char *name; /* "Login" */
  srv_handler fn;
  unsigned flags;   /* SRV_PWCHANGE_OK, SRV_QUIET */
} srv_rpc;
#define SRV_RPC(name, fn) {#name, fn, 0}
#define SRV_RPC_FLAGS(name, fn, flags) {#name, fn, flags}
/* The table and its length, for srv_config: `SRV_RPCS(rpcs),`. */
#define SRV_RPCS(table) .rpcs = (table), .n_rpcs = sizeof(table) / sizeof((table)[0])

/* Loads verification keys into the ring (see tok_refresh_fn). NULL in srv_config means:
 * fetch them from identity's GetPublicKeys at HOSO_IDENTITY_ADDR. */
typedef int (*srv_keys_fn)(tok_keyring *kr, void *arg);

/* Reads one page of token revocations after seq `after` (identity's ListTokenRevocations):
 * rev_add's each into `into` (learnt at `now`), sets *last to the seq to continue after (the
 * highest committed when the page is not full; below `after` when identity's list was reset)
 * and *more when the page was full. 0 / -1. NULL in srv_config means: ask identity over gRPC
 * at HOSO_IDENTITY_ADDR. */
typedef int (*srv_revocations_fn)(db_conn *db, long long after, rev_list *into, long long now,
                                  long long *last, int *more);

typedef struct {
  const char *service;          /* "identity": its line of the service table (cfg.h: where it
                                   listens), its logs */
  const char *schema;           /* PostgreSQL schema the service owns */
  const db_migration *migrations;
  /* The proto service it serves (&hoso__identity__v1__identity__descriptor) and its handlers,
   * by method name (SRV_RPCS). A method of the proto without a handler answers UNIMPLEMENTED
   * (logged at start); a handler naming no method of it stops the start. */
  const ProtobufCServiceDescriptor *api;
  const srv_rpc *rpcs;
  size_t n_rpcs;
  /* The FileDescriptorSet that holds api's proto (options, streaming). NULL: proto/'s, built
   * in (apidesc.h); a service outside proto/ (the runtime tests' echo) gives its own. */
  const unsigned char *descriptor_set;
  size_t descriptor_set_len;
  srv_keys_fn load_keys;        /* NULL: from identity over gRPC */
  srv_revocations_fn load_revocations; /* NULL: from identity over gRPC */
  /* Runs once after migrations, before serving, on a worker connection (bootstrap data).
   * Non-zero aborts start-up. May be NULL. */
  int (*on_start)(db_conn *db);
  /* Work beside the calls (identity's key rotation): on_serving runs once the workers serve
   * (gRPC and the keyring are up; non-zero stops the service), on_stopping when SIGTERM/SIGINT
   * arrives, before the calls are drained. Either may be NULL. */
  int (*on_serving)(void);
  void (*on_stopping)(void);
  /* A service that files rows by unit path follows identity's unit moves and merges with
   * these callbacks (unit_tree.h): its schema gets the "unit_tree" migrations, and the
   * follower runs as its service client while it serves. NULL: it does not follow. */
  const struct unit_tree_follower *follow_units;
  /* The service's own word on a caller whose token verified, before every handler (may be
   * NULL): records takes the SELF role back from a token whose link to its person it never
   * confirmed. It may narrow `claims` (the call's own copy, which ctx->auth points to): never
   * widen them. 0 to go on, -1 with the status set (srv_fail). */
  int (*check_caller)(srv_ctx *ctx, tok_claims *claims);
} srv_config;

/* Runs the service until SIGTERM/SIGINT: config from env (HOSO_PG_DSN, HOSO_WORKERS,
 * HOSO_TLS_CERT/KEY/CA, HOSO_TLS_CLIENT_AUTH, HOSO_TRUSTED_PROXIES, ...), migrations, listen,
 * serve, drain. Returns the process exit code. */
int srv_main(const srv_config *cfg, int argc, char **argv);

/* --- inside a handler ------------------------------------------------------------------ */

struct srv_ctx {
  db_conn *db;                /* this worker's connection */
  const tok_claims *auth;     /* verified caller; NULL for a call without token of a method that needs none */
  const char *request_id;     /* x-request-id from the client, or generated */
  const char *client_addr;    /* peer IP, or the forwarded client address from a trusted proxy */
  const char *method;         /* the method path */
  int peer_has_cert;          /* the TLS peer presented a verified client certificate */
  struct srv_call_priv *priv; /* runtime internals */
};

/* Memory that lives until the response is sent. Never NULL (aborts on out of memory). */
void *srv_alloc(srv_ctx *ctx, size_t n);
char *srv_strdup(srv_ctx *ctx, const char *s);
char *srv_printf(srv_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A zeroed message of the given descriptor, initialised, in the arena. */
void *srv_new(srv_ctx *ctx, const ProtobufCMessageDescriptor *d);

/* A protobuf-c allocator over the call's arena: messages unpacked with it (e.g. a stored record)
 * live until the response is sent and are never freed by hand. */
ProtobufCAllocator *srv_allocator(srv_ctx *ctx);

/* An opaque keyset page token for `key` (val_page_token_encode), in the call's arena; NULL when
 * the key cannot be encoded (too long, out of memory): the caller reports that. */
char *srv_page_token(srv_ctx *ctx, const char *key);
/* Keyset paging reads one row more than the page (limit size + 1): of the n rows read, how many
 * to show; *more is 1 when another page follows (and then at least one row is shown). */
size_t srv_page_cut(size_t n, int size, int *more);
/* The next_page_token of a page with more to come, from the key of the last row shown
 * (printf-style), in the arena. Only when another page follows: the field's default "" marks the
 * last page. In a transaction: 0, or DB_TX_ROLLBACK with INTERNAL set. */
int srv_page_next(srv_ctx *ctx, char **token, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the status to send and returns -1: `return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
 * "username: must not be empty");`. The message must be one a person can act on. */
int srv_fail(srv_ctx *ctx, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* INTERNAL "internal error (request id X)": what went wrong is for the log (the caller writes
 * it), never for the client. Returns -1 like srv_fail. */
int srv_fail_internal(srv_ctx *ctx);
/* Maps the connection's last database error to a status: UNAVAILABLE (database down; retry),
 * ABORTED (concurrent change; retry), ALREADY_EXISTS (with `what`, e.g. "username: already
 * taken"), DEADLINE_EXCEEDED, PERMISSION_DENIED, or INTERNAL (detail logged, not sent). */
int srv_fail_db(srv_ctx *ctx, const char *what);
/* True after srv_fail: a transaction body that decided to fail can tell db_tx to roll back. */
int srv_failed(const srv_ctx *ctx);
/* Takes back a status recorded by srv_fail, for a handler that reports many refusals in its
 * response instead of failing the call (a bulk import validating every row): returns the
 * message (in the arena) and sets *code; the call is no longer failed. NULL when none. */
const char *srv_fail_take(srv_ctx *ctx, grpc_status_code *code);

/* Runs fn in one transaction with the caller's scope set for row-level security
 * (hoso.scope, hoso.actor). Returns 0 if committed; otherwise the status is already set
 * (by fn via srv_fail, or from the database error) and -1 is returned. fn returns 0 to
 * commit, DB_TX_ROLLBACK to roll back, -1 on a failed db call. A failed login that must
 * record its failure commits and sets the status with srv_fail: the status is still sent. */
typedef int (*srv_tx_fn)(srv_ctx *ctx, void *arg);
int srv_tx(srv_ctx *ctx, int isolation, srv_tx_fn fn, void *arg);
/* Same with an explicit scope (e.g. "*" for a login lookup made before anyone is known). */
int srv_tx_scoped(srv_ctx *ctx, int isolation, const char *scope, srv_tx_fn fn, void *arg);

/* In a transaction body (srv_tx_fn): passes a non-zero result (-1 after a failed db call,
 * DB_TX_ROLLBACK with the status set) straight up to srv_tx. */
#define SRV_TRY(x)            \
  do {                        \
    int rc_ = (x);            \
    if (rc_ != 0) return rc_; \
  } while (0)
/* srv_fail in a transaction body: records the status and rolls the transaction back. */
#define SRV_FAIL(ctx, code, ...) (srv_fail((ctx), (code), __VA_ARGS__), DB_TX_ROLLBACK)

/* --- the checks every handler makes before its transaction (srv_check.c) ----------------
 * Each returns 0, or -1 with INVALID_ARGUMENT "<field>: <rule>" (or the status named). */

/* v is an id: the decimal string of a positive 63-bit integer. */
int srv_check_id(srv_ctx *ctx, const char *field, const char *v);
/* A period of days: `from` and `to` real dates (YYYY-MM-DD), `to` not before `from`. */
int srv_check_period(srv_ctx *ctx, const char *from, const char *to);
/* The request_id of a mutating RPC: the contract's one rule (val_request_id). */
int srv_check_request_id(srv_ctx *ctx, const char *request_id);
/* One line of text as stored: valid UTF-8 without control characters, NFC (TCVN 6909:2001,
 * 003 Đ6.5), trimmed, inner white space folded, then not empty when required and at most
 * max_chars characters. *out is a copy in the call's arena. */
int srv_clean_text(srv_ctx *ctx, const char *field, const char *in, int required, size_t max_chars,
                   const char **out);
/* The same for prose that keeps its line breaks (notes, reasons, descriptions). */
int srv_clean_prose(srv_ctx *ctx, const char *field, const char *in, int required, size_t max_chars,
                    const char **out);
/* The role half of the scope rule, before any transaction: UNAUTHENTICATED without a caller,
 * PERMISSION_DENIED with `what` ("creating units needs the SYSTEM_ADMIN role") when the
 * caller's roles do not give every right in `rights` anywhere. With self_ok a SELF caller
 * passes too (a person's reads of their own record are decided per record). The unit half is
 * the handler's, on the unit it touches (scope_allows). */
int srv_need_right(srv_ctx *ctx, unsigned rights, int self_ok, const char *what);
/* For methods that exist for another service (ACCESS_INTERNAL) and answer about a whole unit
 * subtree in ways no person's screen needs: UNAUTHENTICATED without a caller,
 * PERMISSION_DENIED with `what` unless the caller is a service account (role SERVICE). The unit
 * half stays the handler's (the service's grant). */
int srv_need_service(srv_ctx *ctx, const char *what);
/* A deep copy of m in the call's arena (packed, then unpacked with srv_allocator): the request
 * is read-only, the copy may be normalized and changed. NULL for NULL. */
void *srv_msg_copy(srv_ctx *ctx, const ProtobufCMessage *m);

/* Inside a transaction body: runs fn with every unit visible to row-level security — to tell
 * NOT_FOUND from PERMISSION_DENIED, or to read what the service's own check has already
 * allowed outside the caller's units (a person's own record) — and sets the transaction's
 * scope back before returning, whatever fn returned. The one way to widen the scope; nests.
 * fn's result, or -1 when the scope could not be set. */
int srv_all_units(srv_ctx *ctx, srv_tx_fn fn, void *arg);
/* One statement run with every unit visible (db_exec inside srv_all_units): the rows (PQclear
 * them), or NULL after a database error. For store code. */
PGresult *srv_exec_all_units(srv_ctx *ctx, const char *sql, int n, const char *const *params);
/* Inside a transaction body: the transaction's scope from here on (narrowing it to one unit's
 * path, e.g. a person's own record's); srv_all_units sets this one back. 0 / -1. */
int srv_set_scope(srv_ctx *ctx, const char *scope);

/* --- bytes as PostgreSQL text (srv_bytea.c) ---------------------------------------------- */

/* n bytes as bytea input text ("\x0a1b..."), in the arena: a text parameter of db_exec. */
char *srv_bytea_text(srv_ctx *ctx, const void *data, size_t n);
/* A message packed, as bytea input text. */
char *srv_bytea_msg(srv_ctx *ctx, const ProtobufCMessage *m);
/* A bytea column's hex output (s, len: PQgetvalue, PQgetlength) into the arena. 0, or -1 when it
 * is not hex. */
int srv_bytea_parse(srv_ctx *ctx, const char *s, size_t len, ProtobufCBinaryData *out);
/* The same two outside the arena, for bytes that must not stay until the call ends (a stream's
 * chunks, one scan of many): the text malloc'd (free it; NULL on out of memory), and the hex
 * decoded into out (room for (len - 2) / 2 bytes): the byte count, or -1 when it is not hex. */
char *srv_bytea_text_malloc(const void *data, size_t n);
long srv_bytea_decode(const char *s, size_t len, uint8_t *out);

/* The value of a request metadata key (lowercase), or NULL. */
const char *srv_metadata(srv_ctx *ctx, const char *key);

/* Client-streaming methods: the next request message. Returns 1 with *msg set, 0 at the end
 * of the stream, -1 (status set: CANCELLED, DEADLINE_EXCEEDED, INVALID_ARGUMENT for a malformed
 * message) otherwise. *msg lives until the next srv_recv or the end of the call, whichever comes
 * first, so a long stream holds one message at a time: copy what must outlive it. A message over
 * the 4 MiB limit ends the call (gRPC answers RESOURCE_EXHAUSTED) and srv_recv returns -1. */
int srv_recv(srv_ctx *ctx, ProtobufCMessage **msg);
/* Server-streaming methods: sends one response message (packed now; msg may be freed after).
 * 0, or -1 with the status set when the client went away or the deadline passed. Arena memory
 * lives until the call ends: a long stream reuses one message (e.g. on the stack) per send. */
int srv_send(srv_ctx *ctx, const ProtobufCMessage *msg);

/* 1 when the call's client has cancelled it or its deadline has passed (a non-blocking look):
 * long work (an import's parse) asks now and then and stops, freeing the worker, instead of
 * finishing an answer nobody will read. 0 otherwise, and always 0 outside a call. */
int srv_client_gone(srv_ctx *ctx);

/* Fills the common audit fields from the context (actor, client address, request id). */
void srv_audit_base(srv_ctx *ctx, audit_entry *e);

/* Writes one audit row in the current transaction. fields gives action, target and unit (and
 * outcome, "ok" when NULL); the actor, client address and request id come from the call where
 * fields leaves them NULL. detail (a JSON object, consumed; NULL for none) is stored compact
 * with sorted keys. Never put a password, secret or hash in it. 0, or -1 (database error, or
 * INTERNAL set when the detail cannot be serialized). */
int srv_audit(srv_ctx *ctx, const audit_entry *fields, json_t *detail);

/* The audit row of a read of personal data, made durable before the data is sent (the rule for
 * confidential dossiers), at a fraction of a transaction's cost: call it after the read's own
 * transaction (read-only: srv_tx with DB_READ_ONLY) has committed, outside any transaction. The
 * row (fields and detail as srv_audit) joins the rows of concurrent reads in one batch: one
 * statement, one chain-head update, one commit flush (audit_batch.h); the call returns once that
 * batch is durable. 0, or -1 with UNAVAILABLE set when the batch could not be written: the
 * handler then sends no data. */
int srv_audit_read(srv_ctx *ctx, const audit_entry *fields, json_t *detail);

/* A context for work outside any call (a service's background job, e.g. records' unit sync),
 * so that the job uses the same helpers as a handler (srv_tx, srv_fail, srv_audit, the arena):
 * no metadata, no deadline, no client. The job sets ctx->auth (its own claims, which must
 * outlive their use) and ctx->request_id (for audit rows). srv_job_reset frees the arena and
 * clears the status and request id between units of work. NULL on out of memory. */
srv_ctx *srv_job_new(db_conn *db, const char *method);
void srv_job_reset(srv_ctx *ctx);
void srv_job_free(srv_ctx *ctx);

/* Background work on a thread of its own, with its own PostgreSQL connection (schema as the
 * service's) and a srv_job context reset before every run: fn runs after first_delay_ms, then
 * again after the milliseconds it returns (0: at once; it chooses its own pace and back-off).
 * srv_periodic_stop asks the thread to end, waits for a run in progress to finish (its
 * transaction is never cut) and frees everything. NULL when it cannot start (logged). */
typedef struct srv_periodic srv_periodic;
typedef long (*srv_periodic_fn)(srv_ctx *ctx, void *arg);
srv_periodic *srv_periodic_start(const char *name, const char *schema, srv_periodic_fn fn, void *arg,
                                 long first_delay_ms);
void srv_periodic_stop(srv_periodic *p);

/* The keyring of this process (identity calls tok_keyring_add after rotating keys). */
tok_keyring *srv_keyring(void);

#endif
