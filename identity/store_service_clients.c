/* The SQL behind the service-client RPCs: service_clients rows and the units their grants
 * name. Rules (who may, what is valid) live in rpc_service_clients.c. */
#include <stdio.h>
#include <string.h>
#include "store_service_clients.h"

Hoso__Identity__V1__ServiceClient *sc_from_row(srv_ctx *ctx, const PGresult *r, int row) {
  Hoso__Identity__V1__ServiceClient *c = srv_new(ctx, &hoso__identity__v1__service_client__descriptor);
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

PGresult *sc_get(db_conn *db, const char *client_id, int lock) {
  if (lock)
    return db_q(db, "SELECT " SC_COLS " FROM service_clients c WHERE c.client_id = $1 FOR UPDATE", 1,
                client_id);
  return db_q(db, "SELECT " SC_COLS " FROM service_clients c WHERE c.client_id = $1", 1, client_id);
}

PGresult *sc_units(db_conn *db, const char *ids_array, int active_only) {
  return db_q(db,
              "SELECT u.id::text, u.path::text, u.status FROM units u "
              "JOIN unnest($1::bigint[]) WITH ORDINALITY AS g(id, n) ON g.id = u.id "
              "WHERE NOT $2::boolean OR u.status = 1 ORDER BY g.n",
              2, ids_array, active_only ? "true" : "false");
}

PGresult *sc_insert(db_conn *db, const char *client_id, const char *name, const char *secret_phc,
                    const char *ids_array, const char *approval_reference, const char *created_by) {
  const char *p[] = {client_id, name, secret_phc, ids_array, approval_reference, created_by};
  return db_exec(db,
                 "INSERT INTO service_clients AS c (client_id, name, secret_phc, unit_ids, "
                 "approval_reference, created_by) VALUES ($1, $2, $3, $4::bigint[], $5, $6) "
                 "RETURNING " SC_COLS,
                 6, p);
}

PGresult *sc_list(db_conn *db, const char *after, int limit) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  return db_q(db,
              "SELECT " SC_COLS " FROM service_clients c WHERE c.client_id > $1 "
              "ORDER BY c.client_id LIMIT $2::int",
              2, after, lim);
}

PGresult *sc_revoke(db_conn *db, const char *client_id, const char *reason) {
  return db_q(db,
              "UPDATE service_clients AS c SET revoked_at = now(), revoke_reason = $2 "
              "WHERE c.client_id = $1 AND c.revoked_at IS NULL RETURNING " SC_COLS,
              2, client_id, reason);
}
