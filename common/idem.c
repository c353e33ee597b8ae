/* Idempotency keys of mutating RPCs: the first use of (caller, method, request_id) claims the
 * key inside the handler's transaction; a repeat finds it and returns the first result. */
#include "idem.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* The caller is the account (or service client) the token names. */
static const char *actor_of(const srv_ctx *ctx) { return ctx->auth ? ctx->auth->sub : ""; }

int idem_begin(srv_ctx *ctx, const char *request_id, char *target_out, size_t target_len) {
  if (target_out && target_len) target_out[0] = 0;
  if (!request_id || !*request_id) return 0;
  db_conn *c = ctx->db;
  const char *actor = actor_of(ctx);
  const char *meth = ctx->method ? ctx->method : "";
  /* A concurrent first call still in flight holds the unique index entry: this insert waits
   * for it and then sees its outcome (claimed if it rolled back, a conflict if it committed). */
  PGresult *r = db_q(c,
                     "INSERT INTO idempotency (actor_id, method, request_id) VALUES ($1, $2, $3) "
                     "ON CONFLICT DO NOTHING RETURNING 1",
                     3, actor, meth, request_id);
  if (!r) return -1;
  int claimed = PQntuples(r) == 1;
  PQclear(r);
  if (claimed) return 0;
  r = db_q(c,
           "SELECT target_id FROM idempotency WHERE actor_id = $1 AND method = $2 "
           "AND request_id = $3",
           3, actor, meth, request_id);
  if (!r) return -1;
  int rc = 1;
  if (PQntuples(r) == 1 && target_out && target_len &&
      (size_t)snprintf(target_out, target_len, "%s", PQgetvalue(r, 0, 0)) >= target_len) {
    /* a cut id would name another object: fail instead */
    log_error("idem_begin: target id of %s does not fit in %zu bytes", meth, target_len);
    target_out[0] = 0;
    rc = -1;
  }
  PQclear(r);
  return rc;
}

int idem_done(srv_ctx *ctx, const char *request_id, const char *target_id) {
  if (!request_id || !*request_id) return 0;
  return db_cmd(ctx->db,
                "UPDATE idempotency SET target_id = $4 WHERE actor_id = $1 AND method = $2 "
                "AND request_id = $3",
                4, actor_of(ctx), ctx->method ? ctx->method : "", request_id,
                target_id ? target_id : "");
}
