/* Access tokens and refresh tokens of person accounts (see session.h). Refresh tokens are
 * random 32-byte strings; only their SHA-256 is stored (store_sessions.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pw.h"
#include "session.h"
#include "store_sessions.h"

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
  char tok[64], hash[65], fam[40];
  if (pw_random_secret(32, tok, sizeof tok) != 0) return srv_fail(ctx, GRPC_STATUS_INTERNAL, "no randomness");
  if (!family_id) {
    if (pw_random_secret(18, fam, sizeof fam) != 0) return srv_fail(ctx, GRPC_STATUS_INTERNAL, "no randomness");
    family_id = fam;
  }
  pw_sha256_hex(tok, hash);
  if (sessions_refresh_insert(ctx, hash, family_id, account_id, SESSION_REFRESH_TTL, family_expires,
                              SESSION_FAMILY_TTL) != 0)
    return -1;
  *token = srv_strdup(ctx, tok);
  return 0;
}
