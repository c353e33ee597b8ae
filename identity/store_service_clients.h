/* The SQL behind the service-client RPCs (rpc_service_clients.c): the clients of other
 * government systems (004 Đ3.3) and the units of their grants, through parameters only. Each
 * runs inside the caller's transaction; what it reads is in the call's arena. 0 (1 / 0 when it
 * says found or not), -1 on a database error. */
#ifndef HOSO_IDENTITY_STORE_SERVICE_CLIENTS_H
#define HOSO_IDENTITY_STORE_SERVICE_CLIENTS_H

#include <stddef.h>
#include "identity.h"

typedef Hoso__Identity__V1__ServiceClient service_client;

/* A client as ServiceLogin needs it: the message (never the secret), the secret's hash, the
 * token generation and the grant as a PostgreSQL array literal ("{4,17}"). */
typedef struct {
  service_client *client;
  const char *secret_phc, *ids_array;
  long long token_gen;
} service_client_row;

/* The client: 1 with *out, 0 when there is none; lock: FOR UPDATE. */
int service_clients_get(srv_ctx *ctx, const char *client_id, int lock, service_client_row *out);

/* The units of a grant ("{4,17}"), in the order of the array: id, path and whether active; with
 * active_only, dissolved units are left out. */
typedef struct {
  const char *id, *path;
  int active;
} service_client_unit;
int service_clients_units(srv_ctx *ctx, const char *ids_array, int active_only, service_client_unit **out, size_t *n);

/* Stores a new client; *out as stored. -1 also for a client id in use (db_err_kind DB_UNIQUE). */
int service_clients_insert(srv_ctx *ctx, const char *client_id, const char *name, const char *secret_phc,
                           const char *ids_array, const char *approval_reference, const char *created_by,
                           service_client **out);

/* Clients ordered by client_id after `after` ("" for the first page), at most limit. */
int service_clients_list(srv_ctx *ctx, const char *after, int limit, service_client ***out, size_t *n);

/* Marks the client revoked: 1 with *out, 0 when it was revoked already (or is not there). */
int service_clients_revoke(srv_ctx *ctx, const char *client_id, const char *reason, service_client **out);

#endif
