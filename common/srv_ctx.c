/* What a handler uses inside a call: the per-call arena, the status it sets (srv_fail,
 * srv_fail_db), request metadata, audit fields and transactions bounded by the call's deadline. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grpc/support/time.h>
#include "log.h"
#include "srv_int.h"
#include "val.h"

/* Most calls fit in one block, which the worker keeps from call to call. */
#define SRV_BLOCK_MIN 16384

static srv_block *block_new(size_t n) {
  size_t size = n > SRV_BLOCK_MIN ? n : SRV_BLOCK_MIN;
  srv_block *b = malloc(sizeof *b + size);
  if (!b) {
    log_error("out of memory (%zu bytes for a call arena)", size);
    abort();
  }
  b->next = NULL;
  b->size = size;
  b->used = 0;
  return b;
}

void *srv_alloc(srv_ctx *ctx, size_t n) {
  struct srv_call_priv *p = ctx->priv;
  size_t need = (n + 15) & ~(size_t)15;
  if (need < n) abort(); /* size overflow: a caller bug, not an input */
  srv_block *b = p->arena;
  if (!b || b->size - b->used < need) {
    srv_block *nb = block_new(need);
    if (b && need > SRV_BLOCK_MIN) {
      /* A large one-off goes behind the current block so its free space stays usable. */
      nb->next = b->next;
      b->next = nb;
      b = nb;
    } else {
      nb->next = b;
      p->arena = b = nb;
    }
  }
  void *r = b->data + b->used;
  b->used += need;
  memset(r, 0, n);
  return r;
}

void srv_arena_reset(struct srv_call_priv *p) {
  srv_block *b = p->arena;
  p->scope = NULL; /* it lived in the arena */
  p->all_units_depth = 0;
  if (!b) return;
  /* Keep one standard-sized block (the oldest) for the next call, free the rest. */
  srv_block *keep = NULL, *next;
  for (; b; b = next) {
    next = b->next;
    if (!keep && !next && b->size == SRV_BLOCK_MIN) {
      keep = b;
      continue;
    }
    free(b);
  }
  if (keep) {
    keep->used = 0;
    keep->next = NULL;
  }
  p->arena = keep;
}

char *srv_strdup(srv_ctx *ctx, const char *s) {
  if (!s) s = "";
  size_t n = strlen(s);
  char *r = srv_alloc(ctx, n + 1);
  memcpy(r, s, n);
  return r;
}

static char *vprintf_arena(srv_ctx *ctx, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return srv_strdup(ctx, "");
  char *r = srv_alloc(ctx, (size_t)n + 1);
  vsnprintf(r, (size_t)n + 1, fmt, ap);
  return r;
}

char *srv_printf(srv_ctx *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *r = vprintf_arena(ctx, fmt, ap);
  va_end(ap);
  return r;
}

void *srv_new(srv_ctx *ctx, const ProtobufCMessageDescriptor *d) {
  void *m = srv_alloc(ctx, d->sizeof_message);
  protobuf_c_message_init(d, m);
  return m;
}

static void *arena_pb_alloc(void *data, size_t n) { return srv_alloc(data, n); }
/* Arena memory goes away with the call. */
static void arena_pb_free(void *data, void *p) {
  (void)data;
  (void)p;
}

ProtobufCAllocator *srv_allocator(srv_ctx *ctx) {
  ProtobufCAllocator *a = &ctx->priv->alloc;
  a->alloc = arena_pb_alloc;
  a->free = arena_pb_free;
  a->allocator_data = ctx;
  return a;
}

char *srv_page_token(srv_ctx *ctx, const char *key) {
  char *t = key ? val_page_token_encode(key) : NULL;
  if (!t) return NULL;
  char *out = srv_strdup(ctx, t);
  free(t);
  return out;
}

size_t srv_page_cut(size_t n, int size, int *more) {
  size_t shown = size > 0 && n > (size_t)size ? (size_t)size : n;
  *more = n > shown && shown > 0;
  return shown;
}

int srv_page_next(srv_ctx *ctx, char **token, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *key = vprintf_arena(ctx, fmt, ap);
  va_end(ap);
  *token = srv_page_token(ctx, key);
  if (!*token) return (srv_fail_internal(ctx), DB_TX_ROLLBACK);
  return 0;
}

int srv_fail(srv_ctx *ctx, grpc_status_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = vprintf_arena(ctx, fmt, ap);
  va_end(ap);
  ctx->priv->failed = 1;
  /* OK is not a failure: a handler that passes it still gets an error to the client. */
  ctx->priv->code = code == GRPC_STATUS_OK ? GRPC_STATUS_UNKNOWN : code;
  ctx->priv->message = msg;
  return -1;
}

int srv_fail_internal(srv_ctx *ctx) {
  return srv_fail(ctx, GRPC_STATUS_INTERNAL, "internal error (request id %s)", ctx->request_id ? ctx->request_id : "");
}

int srv_failed(const srv_ctx *ctx) { return ctx->priv->failed; }

const char *srv_fail_take(srv_ctx *ctx, grpc_status_code *code) {
  struct srv_call_priv *p = ctx->priv;
  if (!p->failed) return NULL;
  if (code) *code = p->code;
  p->failed = 0;
  const char *m = p->message;
  p->message = NULL;
  return m ? m : "";
}

int srv_fail_db(srv_ctx *ctx, const char *what) {
  db_errkind k = ctx->db ? db_err_kind(ctx->db) : DB_UNAVAILABLE;
  const char *state = ctx->db ? db_err_sqlstate(ctx->db) : "";
  const char *cons = ctx->db ? db_err_constraint(ctx->db) : "";
  const char *dmsg = ctx->db ? db_err_message(ctx->db) : "no connection";
  /* The SQL error never reaches the client: it may name tables, columns or values of other
   * rows. The log line carries the request id, which the client gets, so support can match. */
  switch (k) {
  case DB_UNAVAILABLE:
    log_warn("database unavailable in %s: %s", ctx->method, dmsg);
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "database unavailable; retry shortly");
  case DB_SERIALIZATION:
    log_warn("serialization failure in %s (%s): %s", ctx->method, state, dmsg);
    return srv_fail(ctx, GRPC_STATUS_ABORTED,
                    "the data changed concurrently; retry the request");
  case DB_UNIQUE:
    log_info("unique violation in %s on %s: %s", ctx->method, cons, dmsg);
    return srv_fail(ctx, GRPC_STATUS_ALREADY_EXISTS, "%s",
                    what && *what ? what : "already exists");
  case DB_FOREIGN_KEY:
    log_info("foreign key violation in %s on %s: %s", ctx->method, cons, dmsg);
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "a referenced item does not exist or is still in use");
  case DB_CHECK:
    log_info("check violation in %s on %s (%s): %s", ctx->method, cons, state, dmsg);
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "a value is not acceptable for this field");
  case DB_TIMEOUT:
    log_warn("statement timeout in %s: %s", ctx->method, dmsg);
    return srv_fail(ctx, GRPC_STATUS_DEADLINE_EXCEEDED,
                    "deadline exceeded while waiting for the database");
  case DB_RLS:
    log_warn("row-level security refused in %s: %s", ctx->method, dmsg);
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "outside your scope");
  case DB_OK:
  case DB_OTHER:
  default:
    break;
  }
  log_error("database error in %s (%s): %s", ctx->method, state, dmsg);
  return srv_fail_internal(ctx);
}

const char *srv_metadata(srv_ctx *ctx, const char *key) {
  struct srv_call_priv *p = ctx->priv;
  for (size_t i = 0; i < p->n_md; i++)
    if (strcmp(p->md[i].key, key) == 0) return p->md[i].value;
  return NULL;
}

void srv_audit_base(srv_ctx *ctx, audit_entry *e) {
  e->actor_id = ctx->auth ? ctx->auth->sub : "";
  e->actor_name = ctx->auth ? ctx->auth->username : "";
  e->client_addr = ctx->client_addr ? ctx->client_addr : "";
  e->request_id = ctx->request_id ? ctx->request_id : "";
}

/* The row srv_audit and srv_audit_read write: the call's fields where fields leaves them NULL,
 * the detail serialized (consumed) into *d (malloc'd, the caller frees). 0 / -1 (INTERNAL set). */
static int audit_row(srv_ctx *ctx, const audit_entry *fields, json_t *detail, audit_entry *e, char **d) {
  *e = *fields;
  audit_entry base;
  srv_audit_base(ctx, &base);
  if (!e->actor_id) e->actor_id = base.actor_id;
  if (!e->actor_name) e->actor_name = base.actor_name;
  if (!e->client_addr) e->client_addr = base.client_addr;
  if (!e->request_id) e->request_id = base.request_id;
  if (!e->outcome) e->outcome = "ok";
  *d = NULL;
  if (detail) {
    /* Sorted keys: the same change always reads (and hashes) the same way. */
    *d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    if (!*d) {
      log_error("%s: could not serialize the audit detail of %s", ctx->method, e->action);
      return srv_fail_internal(ctx);
    }
  }
  e->detail_json = *d;
  return 0;
}

int srv_audit(srv_ctx *ctx, const audit_entry *fields, json_t *detail) {
  audit_entry e;
  char *d;
  if (audit_row(ctx, fields, detail, &e, &d) != 0) return -1;
  int rc = audit_write(ctx->db, &e);
  free(d);
  return rc != 0 ? -1 : 0;
}

int srv_audit_read(srv_ctx *ctx, const audit_entry *fields, json_t *detail) {
  audit_batch *b = srv__audit_batch();
  audit_entry e;
  char *d;
  if (!b) {
    json_decref(detail);
    log_error("%s: no audit batcher in this process", ctx->method);
    return srv_fail_internal(ctx);
  }
  if (audit_row(ctx, fields, detail, &e, &d) != 0) return -1;
  int rc = audit_batch_write(b, &e);
  free(d);
  if (rc != 0)
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE,
                    "the audit log could not record this read, so nothing is sent; retry shortly");
  return 0;
}

long long srv_remaining_ms(const srv_ctx *ctx) {
  gpr_timespec d = ctx->priv->deadline;
  if (d.tv_sec == INT64_MAX || gpr_time_cmp(d, gpr_inf_future(d.clock_type)) == 0)
    return LLONG_MAX;
  gpr_timespec now = gpr_now(d.clock_type);
  gpr_timespec left = gpr_time_sub(d, now);
  return (long long)left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

int srv_call_cancelled(srv_ctx *ctx) {
  struct srv_call_priv *p = ctx->priv;
  if (!p->cq || p->close_done) return p->cancelled;
  /* Only this call's RECV_CLOSE_ON_SERVER can be pending on the worker's queue here. */
  grpc_event ev = grpc_completion_queue_next(p->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
  if (ev.type == GRPC_OP_COMPLETE) p->close_done = 1;
  return p->cancelled;
}

int srv_client_gone(srv_ctx *ctx) {
  if (!ctx->priv) return 0;
  return srv_call_cancelled(ctx) || srv_remaining_ms(ctx) <= 0;
}

typedef struct {
  srv_ctx *ctx;
  srv_tx_fn fn;
  void *arg;
  const char *scope;
} tx_wrap;

static int tx_body(db_conn *c, void *arg) {
  tx_wrap *w = arg;
  /* Each attempt starts from the transaction's own scope (db_tx set it). */
  w->ctx->priv->scope = w->scope;
  w->ctx->priv->all_units_depth = 0;
  /* Each attempt checks the call's deadline; the statements' timeout (what is left of it: a
   * query must not outlive the call, whose client has given up by then, and the worker is
   * needed for the next one) was given to db_tx by srv_tx_scoped and set with the scope. */
  if (srv_remaining_ms(w->ctx) <= 0) {
    srv_fail(w->ctx, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
    return DB_TX_ROLLBACK;
  }
  return w->fn(w->ctx, w->arg);
}

int srv_tx_scoped(srv_ctx *ctx, int isolation, const char *scope, srv_tx_fn fn, void *arg) {
  if (srv_call_cancelled(ctx))
    return srv_fail(ctx, GRPC_STATUS_CANCELLED, "call cancelled by the client");
  if (!ctx->db || db_ensure(ctx->db) != 0)
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "database unavailable; retry shortly");
  tx_wrap w = {ctx, fn, arg, srv_strdup(ctx, scope ? scope : "")};
  const char *actor = ctx->auth ? ctx->auth->sub : "";
  long long left = srv_remaining_ms(ctx);
  if (left != LLONG_MAX) db_tx_timeout(ctx->db, left);
  int rc = db_tx(ctx->db, isolation, w.scope, actor, tx_body, &w);
  if (rc == 0) return srv_failed(ctx) ? -1 : 0; /* committed, but fn chose an error status */
  if (srv_failed(ctx)) return -1;
  if (rc == DB_TX_ROLLBACK) {
    log_error("%s: transaction rolled back without a status", ctx->method);
    return srv_fail_internal(ctx);
  }
  return srv_fail_db(ctx, NULL);
}

int srv_set_scope(srv_ctx *ctx, const char *scope) {
  if (db_set_scope(ctx->db, scope) != 0) return -1;
  ctx->priv->scope = srv_strdup(ctx, scope ? scope : "");
  return 0;
}

int srv_all_units(srv_ctx *ctx, srv_tx_fn fn, void *arg) {
  struct srv_call_priv *p = ctx->priv;
  if (p->all_units_depth == 0 && db_set_scope(ctx->db, "*") != 0) return -1;
  p->all_units_depth++;
  int rc = fn(ctx, arg);
  p->all_units_depth--;
  /* Set back on every path fn took: a return that skipped this would let the rest of the
   * transaction see every unit. After a failed statement the transaction is aborted and this
   * fails too, which no longer matters: nothing more runs in it. */
  const char *back = p->scope ? p->scope : ctx->auth ? ctx->auth->scope : "";
  if (p->all_units_depth == 0 && db_set_scope(ctx->db, back) != 0) return -1;
  return rc;
}

typedef struct {
  const char *sql;
  int n;
  const char *const *params;
  PGresult *r;
} exec_st;

static int exec_fn(srv_ctx *ctx, void *p) {
  exec_st *e = p;
  e->r = db_exec(ctx->db, e->sql, e->n, e->params);
  return e->r ? 0 : -1;
}

PGresult *srv_exec_all_units(srv_ctx *ctx, const char *sql, int n, const char *const *params) {
  exec_st e = {sql, n, params, NULL};
  if (srv_all_units(ctx, exec_fn, &e) != 0) {
    PQclear(e.r);
    return NULL;
  }
  return e.r;
}

int srv_tx(srv_ctx *ctx, int isolation, srv_tx_fn fn, void *arg) {
  /* No caller known: the empty scope lets row-level security show nothing. */
  return srv_tx_scoped(ctx, isolation, ctx->auth ? ctx->auth->scope : "", fn, arg);
}

srv_ctx *srv_job_new(db_conn *db, const char *method) {
  srv_ctx *c = calloc(1, sizeof *c);
  struct srv_call_priv *p = calloc(1, sizeof *p);
  if (!c || !p) {
    free(c);
    free(p);
    return NULL;
  }
  /* No call behind it: nothing to be cancelled (close_done) and no deadline to bound a query. */
  p->deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC);
  p->close_done = 1;
  c->db = db;
  c->priv = p;
  c->method = method;
  c->client_addr = "";
  return c;
}

void srv_job_reset(srv_ctx *ctx) {
  struct srv_call_priv *p = ctx->priv;
  srv_arena_reset(p); /* the scope too */
  p->failed = 0;
  p->code = GRPC_STATUS_OK;
  p->message = NULL;
  ctx->request_id = NULL;
}

void srv_job_free(srv_ctx *ctx) {
  if (!ctx) return;
  srv_arena_reset(ctx->priv);
  free(ctx->priv->arena);
  free(ctx->priv);
  free(ctx);
}
