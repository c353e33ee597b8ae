/* The SQL of the token revocation list: pages of identity.token_revocations after a sequence
 * number, and identity's own reading of them for its token check. */
#include "store_revocations.h"

#include <stdio.h>
#include <stdlib.h>

#define PAGE 1000

int token_revocations_page(srv_ctx *ctx, long long after, int limit, Hoso__Identity__V1__TokenRevocation ***out,
                           size_t *n, long long *last) {
  char a[32], l[16], w[16];
  snprintf(a, sizeof a, "%lld", after);
  snprintf(l, sizeof l, "%d", limit);
  snprintf(w, sizeof w, "%d", TOK_REVOCATION_WINDOW);
  /* From the counter row outwards, so that `last` comes even with no revocation, from the same
   * snapshot as the rows. */
  PGresult *r = db_q(ctx->db,
                     "SELECT s.last::text, r.seq::text, r.subject, r.min_gen::text, " DB_RFC3339("r.at") " "
                     "FROM token_revocation_seq s LEFT JOIN LATERAL ("
                     "  SELECT t.seq, t.subject, t.min_gen, t.at FROM token_revocations t "
                     "  WHERE t.seq > $1::bigint AND t.at > now() - make_interval(secs => $3::int) "
                     "  ORDER BY t.seq LIMIT $2::int) r ON true "
                     "ORDER BY r.seq",
                     3, a, l, w);
  if (!r) return -1;
  int rows = PQntuples(r);
  /* One row of the counter and NULLs: no revocation. */
  *n = rows == 1 && PQgetisnull(r, 0, 1) ? 0 : (size_t)rows;
  *last = rows ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  *out = srv_alloc(ctx, (*n + 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    Hoso__Identity__V1__TokenRevocation *v = srv_new(ctx, &hoso__identity__v1__token_revocation__descriptor);
    v->seq = strtoll(PQgetvalue(r, (int)i, 1), NULL, 10);
    v->subject = srv_strdup(ctx, PQgetvalue(r, (int)i, 2));
    v->min_generation = strtoll(PQgetvalue(r, (int)i, 3), NULL, 10);
    v->revoked_at = srv_strdup(ctx, PQgetvalue(r, (int)i, 4));
    (*out)[i] = v;
  }
  PQclear(r);
  return rows >= 1 ? 0 : -1;
}

int token_revocations_fetch(db_conn *db, long long after, rev_list *into, long long now, long long *last, int *more) {
  srv_ctx *ctx = srv_job_new(db, "token-revocations");
  Hoso__Identity__V1__TokenRevocation **v = NULL;
  size_t n = 0;
  long long top = 0;
  int rc = ctx ? token_revocations_page(ctx, after, PAGE, &v, &n, &top) : -1;
  for (size_t i = 0; i < n && rc == 0; i++) rc = rev_add(into, v[i]->subject, v[i]->min_generation, now);
  if (rc == 0) {
    *more = n == PAGE;
    *last = *more ? v[n - 1]->seq : top;
  }
  srv_job_free(ctx);
  return rc;
}
