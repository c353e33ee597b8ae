/* The SQL of login throttling (throttle.h): the counters of identity.login_throttle, locked
 * and counted in the caller's transaction, and the addresses each name logs in from
 * (identity.login_known). */
#include "store_throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int throttle_peek(srv_ctx *ctx, const char *name, const char *addr, const char *pair_kind, const char *pair_key,
                  int days, int *known, long *wait_pair, long *wait_others) {
  char d[16];
  snprintf(d, sizeof d, "%d", days);
  /* Read without locks: most tries of a flood are refused here, at the cost of one query. */
  PGresult *r = db_q(ctx->db,
                     "SELECT EXISTS (SELECT 1 FROM login_known WHERE name = $1 AND addr = $2 "
                     "  AND last_ok_at > now() - make_interval(days => $5::int)), "
                     "coalesce((SELECT ceil(extract(epoch FROM locked_until - now()))::bigint FROM login_throttle "
                     "  WHERE kind = $3 AND key = $4 AND locked_until > now()), 0), "
                     "coalesce((SELECT max(ceil(extract(epoch FROM locked_until - now())))::bigint FROM login_throttle "
                     "  WHERE ((kind = 'u' AND key = $1) OR (kind = 'a' AND key = $2)) AND locked_until > now()), 0)",
                     5, name, addr, pair_kind, pair_key, d);
  if (!r) return -1;
  *known = PQgetvalue(r, 0, 0)[0] == 't';
  *wait_pair = strtol(PQgetvalue(r, 0, 1), NULL, 10);
  *wait_others = strtol(PQgetvalue(r, 0, 2), NULL, 10);
  PQclear(r);
  return 0;
}

int throttle_lock(srv_ctx *ctx, int n, const char *const *kinds, const char *const *keys, int forget_hours,
                  throttle_counter *out) {
  /* Locked in one order that every try shares, (kind, key), so two tries never wait for each
   * other in a circle. */
  int order[8];
  if (n < 1 || n > 8) return -1;
  for (int i = 0; i < n; i++) order[i] = i;
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0; j--) {
      int a = order[j - 1], b = order[j];
      int c = strcmp(kinds[a], kinds[b]);
      if (c < 0 || (c == 0 && strcmp(keys[a], keys[b]) <= 0)) break;
      order[j - 1] = b;
      order[j] = a;
    }
  char fh[16];
  snprintf(fh, sizeof fh, "%d", forget_hours);
  for (int i = 0; i < n; i++) {
    int k = order[i];
    /* The conflict's no-op update is what locks an existing row (a new one is locked by its
     * insert) until the transaction ends. */
    PGresult *r = db_q(ctx->db,
                       "INSERT INTO login_throttle AS t (kind, key) VALUES ($1, $2) "
                       "ON CONFLICT (kind, key) DO UPDATE SET kind = EXCLUDED.kind "
                       "RETURNING CASE WHEN t.last_failure_at < now() - make_interval(hours => $3::int) "
                       "THEN 0 ELSE t.failures END, "
                       "greatest(0, ceil(extract(epoch FROM t.locked_until - now())))::bigint",
                       3, kinds[k], keys[k], fh);
    if (!r) return -1;
    out[k].failures = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    out[k].wait = PQgetisnull(r, 0, 1) ? 0 : strtol(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
  }
  return 0;
}

int throttle_set(srv_ctx *ctx, const char *kind, const char *key, long failures, long wait_s) {
  char f[24], w[24];
  snprintf(f, sizeof f, "%ld", failures);
  snprintf(w, sizeof w, "%ld", wait_s);
  return db_cmd(ctx->db,
                "UPDATE login_throttle SET failures = $3::int, last_failure_at = now(), "
                "locked_until = CASE WHEN $4::int > 0 THEN now() + make_interval(secs => $4::int) END "
                "WHERE kind = $1 AND key = $2",
                4, kind, key, f, w);
}

int throttle_take_back(srv_ctx *ctx, const char *kind, const char *key, int free_tries) {
  char ff[16];
  snprintf(ff, sizeof ff, "%d", free_tries);
  return db_cmd(ctx->db,
                "UPDATE login_throttle SET failures = greatest(failures - 1, 0), "
                "locked_until = CASE WHEN failures - 1 < $3::int THEN NULL ELSE locked_until END "
                "WHERE kind = $1 AND key = $2",
                3, kind, key, ff);
}

int throttle_home(srv_ctx *ctx, const char *name, const char *addr) {
  return db_cmd(ctx->db,
                "INSERT INTO login_known (name, addr) VALUES ($1, $2) "
                "ON CONFLICT (name, addr) DO UPDATE SET last_ok_at = now()",
                2, name, addr);
}

int throttle_clear_name(srv_ctx *ctx, const char *name) {
  /* the name's own counter and its pairs ("<addr>|<name>"): an address holds no '|' */
  return db_cmd(ctx->db,
                "DELETE FROM login_throttle WHERE (kind = 'u' AND key = $1) OR "
                "(kind = 'p' AND substr(key, strpos(key, '|') + 1) = $1)",
                1, name);
}

int throttle_prune(srv_ctx *ctx, int forget_hours, int known_days) {
  char fh[16], kd[16];
  snprintf(fh, sizeof fh, "%d", forget_hours);
  snprintf(kd, sizeof kd, "%d", known_days);
  if (db_cmd(ctx->db,
             "DELETE FROM login_throttle WHERE last_failure_at < now() - make_interval(hours => $1::int) "
             "AND (locked_until IS NULL OR locked_until < now())",
             1, fh) != 0)
    return -1;
  return db_cmd(ctx->db, "DELETE FROM login_known WHERE last_ok_at < now() - make_interval(days => $1::int)", 1, kd);
}
