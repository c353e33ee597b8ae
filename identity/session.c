/* Access tokens and refresh-token families of person accounts (see session.h). Refresh tokens
 * are random 32-byte strings; only their SHA-256 is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pw.h"
#include "session.h"

void session_subject_from_row(session_subject *s, const PGresult *r, int row, int c) {
  memset(s, 0, sizeof *s);
  snprintf(s->id, sizeof s->id, "%s", PQgetvalue(r, row, c + 0));
  snprintf(s->username, sizeof s->username, "%s", PQgetvalue(r, row, c + 1));
  snprintf(s->unit_id, sizeof s->unit_id, "%s", PQgetvalue(r, row, c + 2));
  snprintf(s->unit_path, sizeof s->unit_path, "%s", PQgetvalue(r, row, c + 3));
  snprintf(s->record_id, sizeof s->record_id, "%s", PQgetvalue(r, row, c + 4));
  s->roles = (unsigned)strtoul(PQgetvalue(r, row, c + 5), NULL, 10);
  s->gen = strtoll(PQgetvalue(r, row, c + 6), NULL, 10);
}

int session_access_token(srv_ctx *ctx, const session_subject *s, int pwchange, char **jwt) {
  tok_claims c;
  memset(&c, 0, sizeof c);
  snprintf(c.sub, sizeof c.sub, "%s", s->id);
  snprintf(c.username, sizeof c.username, "%s", s->username);
  snprintf(c.unit_id, sizeof c.unit_id, "%s", s->unit_id);
  snprintf(c.unit_path, sizeof c.unit_path, "%s", s->unit_path);
  snprintf(c.record_id, sizeof c.record_id, "%s", s->record_id);
  c.roles = s->roles;
  c.gen = s->gen;
  /* The whole deployment for the system administrator, otherwise the own subtree. */
  snprintf(c.scope, sizeof c.scope, "%s", (s->roles & ROLE_SYSTEM_ADMIN) ? "*" : s->unit_path);
  snprintf(c.typ, sizeof c.typ, "%s", pwchange ? TOK_TYP_PWCHANGE : TOK_TYP_ACCESS);
  char *out = NULL;
  if (keys_sign(ctx, &c, TOK_ACCESS_TTL, &out) != 0) return -1;
  *jwt = srv_strdup(ctx, out);
  free(out);
  return 0;
}

int session_new_refresh(srv_ctx *ctx, const char *account_id, const char *family_id,
                        const char *family_expires, char **token) {
  char tok[64], hash[65], fam[40], ttl[16], fttl[16];
  if (pw_random_secret(32, tok, sizeof tok) != 0) return srv_fail(ctx, GRPC_STATUS_INTERNAL, "no randomness");
  if (!family_id) {
    if (pw_random_secret(18, fam, sizeof fam) != 0) return srv_fail(ctx, GRPC_STATUS_INTERNAL, "no randomness");
    family_id = fam;
  }
  pw_sha256_hex(tok, hash);
  snprintf(ttl, sizeof ttl, "%d", SESSION_REFRESH_TTL);
  snprintf(fttl, sizeof fttl, "%d", SESSION_FAMILY_TTL);
  /* A token never outlives its family. */
  if (db_cmd(ctx->db,
             "INSERT INTO refresh_tokens (token_hash, family_id, account_id, expires_at, family_expires_at) "
             "SELECT $1, $2, $3::bigint, least(now() + make_interval(secs => $4::int), f), f "
             "FROM (SELECT coalesce($5::timestamptz, now() + make_interval(secs => $6::int)) AS f) x",
             6, hash, family_id, account_id, ttl, family_expires, fttl) != 0)
    return -1;
  *token = srv_strdup(ctx, tok);
  return 0;
}

int session_revoke_family(db_conn *db, const char *family_id, const char *reason) {
  return db_cmd(db,
                "UPDATE refresh_tokens SET revoked_at = now(), revoke_reason = $2 "
                "WHERE family_id = $1 AND revoked_at IS NULL",
                2, family_id, reason);
}

int session_revoke_account(db_conn *db, const char *account_id, const char *reason) {
  PGresult *r = db_q(db,
                     "UPDATE refresh_tokens SET revoked_at = now(), revoke_reason = $2 "
                     "WHERE account_id = $1::bigint AND revoked_at IS NULL",
                     2, account_id, reason ? reason : "");
  if (!r) return -1;
  int n = atoi(PQcmdTuples(r));
  PQclear(r);
  return n;
}
