/* Idempotency of mutating RPCs: a request_id repeated by the same caller for the same method
 * returns the first result and changes nothing (the contract's rule for retries). */
#ifndef HOSO_IDEM_H
#define HOSO_IDEM_H

#include <stddef.h>
#include "srv.h"

/* Inside the handler's transaction, before changing anything: claims (caller, method,
 * request_id) for this call. An empty request_id is not tracked (returns 0). Returns 0 when
 * this is the first use (proceed, then idem_done), 1 when the id was seen before (prev gets
 * what idem_done recorded, usually the id of the object the first call made: load it and
 * answer with it), -1 on database error. A first call still in flight holds the key: a repeat
 * waits for it and then sees its outcome. */
int idem_begin(srv_ctx *ctx, const char *request_id, char *prev, size_t prev_len);
/* Records what the call made (target, e.g. the new object's id), in the same transaction.
 * 0 / -1. */
int idem_done(srv_ctx *ctx, const char *request_id, const char *target);

#endif
