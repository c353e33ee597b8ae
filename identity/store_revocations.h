/* The SQL of the token revocation list (013_token_revocations.sql): the page
 * ListTokenRevocations returns, also read directly by identity's own token check. */
#ifndef HOSO_IDENTITY_STORE_REVOCATIONS_H
#define HOSO_IDENTITY_STORE_REVOCATIONS_H

#include <stddef.h>
#include "identity.h"

/* The revocations numbered above after within the last TOK_REVOCATION_WINDOW seconds, at most
 * limit, in order, in the call's arena, and *last, the highest number committed, from the same
 * snapshot (a revocation committed in between would otherwise be skipped). 0 / -1. */
int token_revocations_page(srv_ctx *ctx, long long after, int limit, Hoso__Identity__V1__TokenRevocation ***out,
                           size_t *n, long long *last);

/* identity's srv_revocations_fn: the same page, read from its own table. */
int token_revocations_fetch(db_conn *db, long long after, rev_list *into, long long now, long long *last, int *more);

#endif
