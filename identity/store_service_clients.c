/* The SQL behind the service-client RPCs: service_clients rows and the units their grants
 * name. Rules (who may, what is valid) live in rpc_service_clients.c. */
#include "store_service_clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns client_from_row reads, then the secret's hash and the token generation. */
#define COLS                                                                                     \
  "c.client_id, c.name, array_to_string(c.unit_ids, ','), c.approval_reference, "                \
  "c.revoked_at IS NOT NULL, " DB_RFC3339("c.created_at") ", c.secret_phc, c.token_gen"

static service_client *client_from_row(srv_ctx *ctx, const PGresult *r, int row) {
  service_client *c = srv_new(ctx, &hoso__identity__v1__service_client__descriptor);
  c->client_id = srv_strdup(ctx, PQgetvalue(r, row, 0));
  c->name = srv_strdup(ctx, PQgetvalue(r, row, 1));
  char *ids = srv_strdup(ctx, PQgetvalue(r, row, 2));
  size_t n = *ids ? 1 : 0;
  for (const char *p = ids; *p; p++) n += *p == ',';
  c->unit_ids = srv_alloc(ctx, (n + 1) * sizeof *c->unit_ids);
  c->n_unit_ids = 0;
  for (char *save = NULL, *t = strtok_r(ids, ",", &save); t; t = strtok_r(NULL, ",", &save))
    c->unit_ids[c->n_unit_ids++] = t;
  c->approval_reference = srv_strdup(ctx, PQgetvalue(r, row, 3));
  c->revoked = PQgetvalue(r, row, 4)[0] == 't';
  c->created_at = srv_strdup(ctx, PQgetvalue(r, row, 5));
  return c;
}

/* The one client of r: 1 with *out, 0 when r has none, -1. r is cleared. */
static int one_client(srv_ctx *ctx, PGresult *r, service_client **out) {
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (found) *out = client_from_row(ctx, r, 0);
  PQclear(r);
  return found;
}

int service_clients_get(srv_ctx *ctx, const char *client_id, int lock, service_client_row *out) {
  PGresult *r = db_q(ctx->db,
                     lock ? "SELECT " COLS " FROM service_clients c WHERE c.client_id = $1 FOR UPDATE"
                          : "SELECT " COLS " FROM service_clients c WHERE c.client_id = $1",
                     1, client_id);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  memset(out, 0, sizeof *out);
  if (found) {
    out->client = client_from_row(ctx, r, 0);
    out->ids_array = srv_printf(ctx, "{%s}", PQgetvalue(r, 0, 2));
    out->secret_phc = srv_strdup(ctx, PQgetvalue(r, 0, 6));
    out->token_gen = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
  }
  PQclear(r);
  return found;
}

int service_clients_units(srv_ctx *ctx, const char *ids_array, int active_only, service_client_unit **out, size_t *n) {
  PGresult *r = db_q(ctx->db,
                     "SELECT u.id::text, u.path::text, u.status FROM units u "
                     "JOIN unnest($1::bigint[]) WITH ORDINALITY AS g(id, n) ON g.id = u.id "
                     "WHERE NOT $2::boolean OR u.status = 1 ORDER BY g.n",
                     2, ids_array, active_only ? "true" : "false");
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++)
    (*out)[i] = (service_client_unit){srv_strdup(ctx, PQgetvalue(r, (int)i, 0)),
                                      srv_strdup(ctx, PQgetvalue(r, (int)i, 1)), atoi(PQgetvalue(r, (int)i, 2)) == 1};
  PQclear(r);
  return 0;
}

int service_clients_insert(srv_ctx *ctx, const char *client_id, const char *name, const char *secret_phc,
                           const char *ids_array, const char *approval_reference, const char *created_by,
                           service_client **out) {
  const char *p[] = {client_id, name, secret_phc, ids_array, approval_reference, created_by};
  return one_client(ctx,
                    db_exec(ctx->db,
                            "INSERT INTO service_clients AS c (client_id, name, secret_phc, unit_ids, "
                            "approval_reference, created_by) VALUES ($1, $2, $3, $4::bigint[], $5, $6) "
                            "RETURNING " COLS,
                            6, p),
                    out) == 1
             ? 0
             : -1;
}

int service_clients_list(srv_ctx *ctx, const char *after, int limit, service_client ***out, size_t *n) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  PGresult *r = db_q(ctx->db,
                     "SELECT " COLS " FROM service_clients c WHERE c.client_id > $1 ORDER BY c.client_id LIMIT $2::int",
                     2, after, lim);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n + 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) (*out)[i] = client_from_row(ctx, r, (int)i);
  PQclear(r);
  return 0;
}

int service_clients_revoke(srv_ctx *ctx, const char *client_id, const char *reason, service_client **out) {
  return one_client(ctx,
                    db_q(ctx->db,
                         "UPDATE service_clients AS c SET revoked_at = now(), revoke_reason = $2 "
                         "WHERE c.client_id = $1 AND c.revoked_at IS NULL RETURNING " COLS,
                         2, client_id, reason),
                    out);
}
