/* The SQL behind the service-client RPCs (rpc_service_clients.c): the clients of other
 * government systems (004 Đ3.3) and the units of their grants, through parameters only. */
#ifndef HOSO_IDENTITY_STORE_SERVICE_CLIENTS_H
#define HOSO_IDENTITY_STORE_SERVICE_CLIENTS_H

#include "identity.h"

/* Columns read by sc_from_row: client_id, name, unit ids (comma separated), approval
 * reference, revoked, created_at (RFC 3339 UTC), secret PHC. */
#define SC_COLS                                                                         \
  "c.client_id, c.name, array_to_string(c.unit_ids, ','), c.approval_reference, "        \
  "c.revoked_at IS NOT NULL, "                                                          \
  "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), c.secret_phc, " \
  "c.token_gen"
#define SC_COL_SECRET 6
#define SC_COL_TOKEN_GEN 7

/* The message of row `row` (never the secret), in the call's arena. */
Hoso__Identity__V1__ServiceClient *sc_from_row(srv_ctx *ctx, const PGresult *r, int row);

/* The client (0 or 1 row of SC_COLS); lock: FOR UPDATE. NULL on a database error. */
PGresult *sc_get(db_conn *db, const char *client_id, int lock);

/* Units by id: rows of id, path, status for the ids of a PostgreSQL array literal
 * ("{4,17}"), in the order of the array. With active_only, dissolved units are left out. */
PGresult *sc_units(db_conn *db, const char *ids_array, int active_only);

/* Stores a new client; returns its row (SC_COLS). */
PGresult *sc_insert(db_conn *db, const char *client_id, const char *name, const char *secret_phc,
                    const char *ids_array, const char *approval_reference, const char *created_by);

/* Clients ordered by client_id after `after` ("" for the first page), at most limit rows. */
PGresult *sc_list(db_conn *db, const char *after, int limit);

/* Marks the client revoked (if it is not already); returns its row, none if it was already. */
PGresult *sc_revoke(db_conn *db, const char *client_id, const char *reason);

#endif
