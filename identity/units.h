/* What the unit RPC files share (rpc_units.c, rpc_units_read.c). */
#ifndef HOSO_IDENTITY_UNITS_H
#define HOSO_IDENTITY_UNITS_H

#include "identity.h"
#include "store_units.h"

/* The unit `id` as the caller may use it: visible under the caller's scope (row-level
 * security) and allowed `rights` there by the service's own check. When row-level security
 * hides it, one more look with every unit visible tells NOT_FOUND (no such unit) from
 * PERMISSION_DENIED (a sibling's or a parent's unit), and the scope is set back before
 * anything else runs. 0, DB_TX_ROLLBACK (status set) or -1 (database error). `field` names
 * the request field in the messages. */
int unit_in_scope(srv_ctx *ctx, const char *field, const char *id, int lock, unsigned rights, unit_row *u);

/* The unit as a message, read under the caller's scope; NOT_FOUND names `field`. */
int unit_read(srv_ctx *ctx, const char *field, const char *id, id_unit **out);

#endif
