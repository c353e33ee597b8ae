/* The SQL of the token revocation list: pages of identity.token_revocations after a sequence
 * number, and identity's own reading of them for its token check. */
#include "store_revocations.h"

#include <stdio.h>
#include <stdlib.h>

#define SR_PAGE 1000

PGresult *sr_list(db_conn *db, long long after, int limit) {
  char a[32], l[16], w[16];
  snprintf(a, sizeof a, "%lld", after);
  snprintf(l, sizeof l, "%d", limit);
  snprintf(w, sizeof w, "%d", TOK_REVOCATION_WINDOW);
  /* From the counter row outwards, so that `last` comes even with no revocation, from the same
   * snapshot as the rows: a revocation committed after it would otherwise be skipped. */
  return db_q(db,
              "SELECT s.last::text, r.seq::text, r.subject, r.min_gen::text, "
              "to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
              "FROM token_revocation_seq s LEFT JOIN LATERAL ("
              "  SELECT t.seq, t.subject, t.min_gen, t.at FROM token_revocations t "
              "  WHERE t.seq > $1::bigint AND t.at > now() - make_interval(secs => $3::int) "
              "  ORDER BY t.seq LIMIT $2::int) r ON true "
              "ORDER BY r.seq",
              3, a, l, w);
}

int sr_rows(const PGresult *r) {
  int n = PQntuples(r);
  return n == 1 && PQgetisnull(r, 0, 1) ? 0 : n;
}

int sr_fetch(db_conn *db, long long after, rev_list *into, long long now, long long *last, int *more) {
  PGresult *r = sr_list(db, after, SR_PAGE);
  if (!r) return -1;
  int n = sr_rows(r), rc = PQntuples(r) >= 1 ? 0 : -1;
  for (int i = 0; i < n && rc == 0; i++)
    rc = rev_add(into, PQgetvalue(r, i, 2), strtoll(PQgetvalue(r, i, 3), NULL, 10), now);
  *more = n == SR_PAGE;
  if (rc == 0) *last = strtoll(PQgetvalue(r, *more ? n - 1 : 0, *more ? 1 : 0), NULL, 10);
  PQclear(r);
  return rc;
}
