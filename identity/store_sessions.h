/* The SQL of sessions (rpc_session.c, session.c): an account as a token names it, the password
 * checks of Login and ChangePassword, and the refresh-token families. Each runs inside the
 * caller's transaction; 0 (1 / 0 when it says found or not), -1 on a database error. */
#ifndef HOSO_IDENTITY_STORE_SESSIONS_H
#define HOSO_IDENTITY_STORE_SESSIONS_H

#include "pw.h"
#include "session.h"

/* An account as Login needs it: what its token will say, its hash, status and first login. */
typedef struct {
  session_subject subj;
  char phc[PW_PHC_MAX];
  int status, must_change;
} session_login;

/* The account named username (lowercased): 1 with *out, 0 when there is none. */
int sessions_by_username(srv_ctx *ctx, const char *username, session_login *out);
/* The account with this id, likewise (for a refresh, ChangePassword). */
int sessions_by_id(srv_ctx *ctx, const char *account_id, session_login *out);

/* A login went through: last_login_at now, and the stored hash replaced by rehash when it is
 * not "" (parameters upgraded at login). */
int sessions_logged_in(srv_ctx *ctx, const char *account_id, const char *rehash);
/* The person's own new password: must_change_password off; bumps version. */
int sessions_set_password(srv_ctx *ctx, const char *account_id, const char *phc);

/* A refresh token by its hash, locked: its family, account and the family's end; whether it
 * was used already, and whether it is revoked or expired. 1 / 0 (no such token). */
typedef struct {
  char family_id[64], account_id[32], family_expires[64];
  int used, dead;
} session_refresh;
int sessions_refresh_find(srv_ctx *ctx, const char *hash, session_refresh *out);
/* Marks the token used (rotation). */
int sessions_refresh_used(srv_ctx *ctx, const char *hash);
/* A new token (its hash) in family_id for the account, expiring after ttl seconds and never
 * after the family (family_expires, or now + family_ttl for a new family). */
int sessions_refresh_insert(srv_ctx *ctx, const char *hash, const char *family_id, const char *account_id, int ttl,
                            const char *family_expires, int family_ttl);
/* The live token's family and owner, for Logout: 1 with *family, *account_id, *username,
 * *unit_path (arena), 0 when the token is gone or revoked. */
int sessions_refresh_owner(srv_ctx *ctx, const char *hash, const char **family, const char **account_id,
                           const char **username, const char **unit_path);

/* Revokes every live token of a family. */
int sessions_revoke_family(srv_ctx *ctx, const char *family_id, const char *reason);
/* Revokes every live token of an account: how many, or -1. */
int sessions_revoke_account(srv_ctx *ctx, const char *account_id, const char *reason);

#endif
