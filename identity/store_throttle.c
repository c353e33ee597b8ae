/* Failed-login throttling (store_throttle.h): a growing lockout per typed name (whether or not
 * such an account exists, so answers never reveal it) and per client address, stored in
 * login_throttle. */
#include <stdio.h>
#include <stdlib.h>
#include "store_throttle.h"

/* Five wrong guesses for one name, then 30 s, 60 s, 120 s ... up to an hour. An address gets
 * more room (an office behind one NAT) before the same doubling starts. */
#define NAME_FREE_FAILURES 5
#define ADDR_FREE_FAILURES 20
#define BASE_LOCK_SECONDS 30
#define MAX_LOCK_SECONDS 3600
/* A failure older than this no longer counts. */
#define FORGET_AFTER "24 hours"

long throttle_check(srv_ctx *ctx, const char *name, const char *addr) {
  PGresult *r = db_q(ctx->db,
                     "SELECT coalesce(ceil(extract(epoch FROM max(locked_until) - now())), 0)::bigint "
                     "FROM login_throttle WHERE locked_until > now() AND "
                     "((kind = 'u' AND key = $1) OR (kind = 'a' AND key = $2))",
                     2, name, addr ? addr : "");
  if (!r) return -1;
  long s = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return s > 0 ? s : 0;
}

static int bump(srv_ctx *ctx, const char *kind, const char *key, int free_failures) {
  char ff[16], base[16], cap[16];
  snprintf(ff, sizeof ff, "%d", free_failures);
  snprintf(base, sizeof base, "%d", BASE_LOCK_SECONDS);
  snprintf(cap, sizeof cap, "%d", MAX_LOCK_SECONDS);
  return db_cmd(ctx->db,
                "INSERT INTO login_throttle AS t (kind, key, failures, last_failure_at) "
                "VALUES ($1, $2, 1, now()) "
                "ON CONFLICT (kind, key) DO UPDATE SET "
                "  failures = CASE WHEN t.last_failure_at < now() - interval '" FORGET_AFTER "' "
                "             THEN 1 ELSE t.failures + 1 END, "
                "  last_failure_at = now(), "
                "  locked_until = CASE "
                "    WHEN t.last_failure_at < now() - interval '" FORGET_AFTER "' THEN NULL "
                "    WHEN t.failures + 1 >= $3::int THEN now() + make_interval(secs => "
                "      least($5::int, $4::int * power(2, least(t.failures + 1 - $3::int, 20)))) "
                "    ELSE t.locked_until END",
                5, kind, key, ff, base, cap);
}

int throttle_fail(srv_ctx *ctx, const char *name, const char *addr) {
  if (bump(ctx, "u", name, NAME_FREE_FAILURES) != 0) return -1;
  if (addr && *addr && bump(ctx, "a", addr, ADDR_FREE_FAILURES) != 0) return -1;
  return 0;
}

int throttle_success(srv_ctx *ctx, const char *name) {
  return db_cmd(ctx->db, "DELETE FROM login_throttle WHERE kind = 'u' AND key = $1", 1, name);
}

int throttle_clear(srv_ctx *ctx, const char *name) { return throttle_success(ctx, name); }
