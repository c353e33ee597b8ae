/* The SQL of sessions (store_sessions.h): account rows as tokens name them, and refresh tokens
 * stored by their SHA-256 only. */
#include "store_sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a token says of an account, then its hash, status and first-login flag. */
#define LOGIN_COLS                                                                                   \
  "a.id::text, a.username, a.unit_id::text, a.unit_path::text, a.person_record_id, a.roles, a.token_gen, " \
  "a.password_phc, a.status, a.must_change_password"

static int login_of(PGresult *r, session_login *out) {
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  memset(out, 0, sizeof *out);
  if (found) {
    session_subject *s = &out->subj;
    snprintf(s->id, sizeof s->id, "%s", PQgetvalue(r, 0, 0));
    snprintf(s->username, sizeof s->username, "%s", PQgetvalue(r, 0, 1));
    snprintf(s->unit_id, sizeof s->unit_id, "%s", PQgetvalue(r, 0, 2));
    snprintf(s->unit_path, sizeof s->unit_path, "%s", PQgetvalue(r, 0, 3));
    snprintf(s->record_id, sizeof s->record_id, "%s", PQgetvalue(r, 0, 4));
    s->roles = (unsigned)strtoul(PQgetvalue(r, 0, 5), NULL, 10);
    s->gen = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
    snprintf(out->phc, sizeof out->phc, "%s", PQgetvalue(r, 0, 7));
    out->status = atoi(PQgetvalue(r, 0, 8));
    out->must_change = PQgetvalue(r, 0, 9)[0] == 't';
  }
  PQclear(r);
  return found;
}

int sessions_by_username(srv_ctx *ctx, const char *username, session_login *out) {
  return login_of(db_q(ctx->db, "SELECT " LOGIN_COLS " FROM accounts a WHERE a.username = $1", 1, username), out);
}

int sessions_by_id(srv_ctx *ctx, const char *account_id, session_login *out) {
  return login_of(db_q(ctx->db, "SELECT " LOGIN_COLS " FROM accounts a WHERE a.id = $1::bigint", 1, account_id), out);
}

int sessions_logged_in(srv_ctx *ctx, const char *account_id, const char *rehash) {
  /* and the month is one the account was used in (030_account_use.sql), in the same statement */
  return db_cmd(ctx->db,
                "WITH a AS (UPDATE accounts SET last_login_at = now(), "
                "password_phc = CASE WHEN $2 = '' THEN password_phc ELSE $2 END WHERE id = $1::bigint RETURNING id) "
                "INSERT INTO account_use (account_id, month) "
                "SELECT id, date_trunc('month', now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date FROM a "
                "ON CONFLICT DO NOTHING",
                2, account_id, rehash);
}

int sessions_set_password(srv_ctx *ctx, const char *account_id, const char *phc) {
  return db_cmd(ctx->db,
                "UPDATE accounts SET password_phc = $2, must_change_password = false, "
                "password_changed_at = now(), updated_at = now(), version = version + 1 WHERE id = $1::bigint",
                2, account_id, phc);
}

int sessions_refresh_find(srv_ctx *ctx, const char *hash, session_refresh *out) {
  PGresult *r = db_q(ctx->db,
                     "SELECT family_id, account_id::text, used_at IS NOT NULL, "
                     "revoked_at IS NOT NULL OR expires_at <= now(), family_expires_at::text "
                     "FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
                     1, hash);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  memset(out, 0, sizeof *out);
  if (found) {
    snprintf(out->family_id, sizeof out->family_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(out->account_id, sizeof out->account_id, "%s", PQgetvalue(r, 0, 1));
    out->used = PQgetvalue(r, 0, 2)[0] == 't';
    out->dead = PQgetvalue(r, 0, 3)[0] == 't';
    snprintf(out->family_expires, sizeof out->family_expires, "%s", PQgetvalue(r, 0, 4));
  }
  PQclear(r);
  return found;
}

int sessions_refresh_used(srv_ctx *ctx, const char *hash) {
  return db_cmd(ctx->db, "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", 1, hash);
}

int sessions_refresh_insert(srv_ctx *ctx, const char *hash, const char *family_id, const char *account_id, int ttl,
                            const char *family_expires, int family_ttl) {
  char t[16], ft[16];
  snprintf(t, sizeof t, "%d", ttl);
  snprintf(ft, sizeof ft, "%d", family_ttl);
  /* A token never outlives its family. */
  return db_cmd(ctx->db,
                "INSERT INTO refresh_tokens (token_hash, family_id, account_id, expires_at, family_expires_at) "
                "SELECT $1, $2, $3::bigint, least(now() + make_interval(secs => $4::int), f), f "
                "FROM (SELECT coalesce($5::timestamptz, now() + make_interval(secs => $6::int)) AS f) x",
                6, hash, family_id, account_id, t, family_expires, ft);
}

int sessions_refresh_owner(srv_ctx *ctx, const char *hash, const char **family, const char **account_id,
                           const char **username, const char **unit_path) {
  PGresult *r = db_q(ctx->db,
                     "SELECT rt.family_id, rt.account_id::text, a.username, a.unit_path::text "
                     "FROM refresh_tokens rt JOIN accounts a ON a.id = rt.account_id "
                     "WHERE rt.token_hash = $1 AND rt.revoked_at IS NULL",
                     1, hash);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    *family = srv_strdup(ctx, PQgetvalue(r, 0, 0));
    *account_id = srv_strdup(ctx, PQgetvalue(r, 0, 1));
    *username = srv_strdup(ctx, PQgetvalue(r, 0, 2));
    *unit_path = srv_strdup(ctx, PQgetvalue(r, 0, 3));
  }
  PQclear(r);
  return found;
}

int sessions_revoke_family(srv_ctx *ctx, const char *family_id, const char *reason) {
  return db_cmd(ctx->db,
                "UPDATE refresh_tokens SET revoked_at = now(), revoke_reason = $2 "
                "WHERE family_id = $1 AND revoked_at IS NULL",
                2, family_id, reason);
}

int sessions_revoke_account(srv_ctx *ctx, const char *account_id, const char *reason) {
  PGresult *r = db_q(ctx->db,
                     "UPDATE refresh_tokens SET revoked_at = now(), revoke_reason = $2 "
                     "WHERE account_id = $1::bigint AND revoked_at IS NULL",
                     2, account_id, reason ? reason : "");
  if (!r) return -1;
  int n = atoi(PQcmdTuples(r));
  PQclear(r);
  return n;
}
