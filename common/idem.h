/* Idempotency of mutating RPCs: a request_id repeated by the same actor for the same method
 * returns the first result and changes nothing (GUIDE: the contract). */
#ifndef HOSO_IDEM_H
#define HOSO_IDEM_H

#include <stddef.h>
#include "db.h"

/* Inside the handler's transaction, before changing anything. An empty request_id is not
 * tracked (returns 0). Returns 0 when this is the first use (proceed, then idem_done), 1 when
 * the id was seen before (target_out gets the id of the object the first call made: load and
 * return it), -1 on database error. */
int idem_begin(db_conn *c, const char *actor_id, const char *method, const char *request_id,
               char *target_out, size_t target_len);
/* Records the id of the object the call made, in the same transaction. 0 / -1. */
int idem_done(db_conn *c, const char *actor_id, const char *method, const char *request_id,
              const char *target_id);

#endif
