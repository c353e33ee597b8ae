/* Sessions of person accounts: the access token built from an account row and the refresh
 * token families behind Login, Refresh, ChangePassword and Logout. */
#ifndef HOSO_IDENTITY_SESSION_H
#define HOSO_IDENTITY_SESSION_H

#include "identity.h"

/* Refresh tokens live a working day without use; a login's family ends after a day. */
#define SESSION_REFRESH_TTL (8 * 3600)
#define SESSION_FAMILY_TTL (24 * 3600)

/* What an access token says about a person account. */
typedef struct {
  char id[32], username[128], unit_id[32], unit_path[512], record_id[64];
  unsigned roles;
  long long gen; /* token generation: tokens below it are revoked (013_token_revocations.sql) */
} session_subject;

/* Signs an access token for s (typ pwchange when pwchange). *jwt in the arena. 0 / -1 (status set). */
int session_access_token(srv_ctx *ctx, const session_subject *s, int pwchange, char **jwt);

/* Inserts a new refresh token for the account: in family_id (rotation) or a new family
 * (family_id NULL). family_expires: SQL timestamptz text, NULL for now + SESSION_FAMILY_TTL.
 * *token (arena) is the opaque token to hand out. Inside a transaction. 0 / -1. */
int session_new_refresh(srv_ctx *ctx, const char *account_id, const char *family_id,
                        const char *family_expires, char **token);

#endif
