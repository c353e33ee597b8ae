/* The SQL of the token revocation list (013_token_revocations.sql): the page ListTokenRevocations
 * returns, also read directly by identity's own token check. */
#ifndef HOSO_IDENTITY_STORE_REVOCATIONS_H
#define HOSO_IDENTITY_STORE_REVOCATIONS_H

#include "identity.h"

/* Rows of last (the highest seq committed), seq, subject, min_gen, revoked_at (RFC 3339) for
 * seq > after within the last TOK_REVOCATION_WINDOW seconds, at most limit, in order; with no
 * such revocation one row of last and NULLs (sr_rows says how many revocations there are).
 * One statement, so `last` and the rows come from one snapshot. NULL on a database error. */
PGresult *sr_list(db_conn *db, long long after, int limit);
int sr_rows(const PGresult *r);

/* identity's srv_revocations_fn: the same page, read from its own table. */
int sr_fetch(db_conn *db, long long after, rev_list *into, long long now, long long *last, int *more);

#endif
