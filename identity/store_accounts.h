/* The SQL behind the account RPCs (rpc_accounts.c, rpc_session.c's WhoAmI, bootstrap.c):
 * lookups, inserts and updates of identity.accounts, all through parameters. Every function
 * runs inside the caller's transaction and sees what its row-level scope lets it see; what it
 * reads is in the call's arena. 0 (1 / 0 when it says found or not), -1 on a database error. */
#ifndef HOSO_IDENTITY_STORE_ACCOUNTS_H
#define HOSO_IDENTITY_STORE_ACCOUNTS_H

#include <stddef.h>
#include "identity.h"

/* The account with this id: 1 with *out, 0 when not visible; lock: SELECT ... FOR UPDATE, so a
 * concurrent change of the same account waits instead of being lost. */
int accounts_get(srv_ctx *ctx, const char *id, int lock, id_account **out);

/* 1 when the username is taken (any status: usernames are never reused, so old audit rows
 * keep naming one person), 0 when free. Run it with every unit visible (srv_all_units):
 * row-level security would hide the accounts of other units. */
int accounts_username_taken(srv_ctx *ctx, const char *username);

/* 1 when another account that is not revoked belongs to this person record (exclude_id: the
 * account being changed, or NULL), 0 when not. Also with every unit visible. */
int accounts_person_taken(srv_ctx *ctx, const char *person_record_id, const char *exclude_id);

/* A new account id from the accounts' own sequence, taken before the account is inserted (its
 * link to a person is proved at records under that id first). 0 / -1. */
int accounts_next_id(srv_ctx *ctx, char *out, size_t n);

typedef struct {
  const char *id; /* from accounts_next_id; NULL: the next one */
  const char *username, *full_name, *unit_id, *unit_path, *person_record_id, *email;
  const char *password_phc, *created_by;
  unsigned roles;
  int must_change_password; /* the person must choose a password at first login */
} account_new;

/* Inserts an active account: 1 with *out (may be NULL) as stored; -1 also for a taken username
 * or person (accounts_username_key, accounts_person_record_key: db_err_constraint). */
int accounts_insert(srv_ctx *ctx, const account_new *n, id_account **out);

/* The writes below return 1 with *out as stored, 0 when the account is not there (visible). */

/* Sets status (1, 2, 3) and its reason; bumps version. */
int accounts_set_status(srv_ctx *ctx, const char *id, int status, const char *reason, id_account **out);

/* Replaces roles and person_record_id; bumps version. */
int accounts_set_roles(srv_ctx *ctx, const char *id, unsigned roles, const char *person_record_id,
                       id_account **out);

/* Stores a new password hash set by an administrator: the person must change it at next
 * login. Bumps version. */
int accounts_set_password(srv_ctx *ctx, const char *id, const char *phc, id_account **out);

/* An account as GetAccountNames may name it. */
typedef struct {
  const char *id, *full_name, *unit_path;
} account_name_row;

/* The accounts of ids (a PostgreSQL array literal of checked ids, "{12,40}") that row-level
 * security shows, by id, any status (a disabled person still approved what they approved). */
int accounts_names(srv_ctx *ctx, const char *ids, account_name_row **out, size_t *n);

typedef struct {
  const char *unit_id;   /* with direct_only: accounts of this unit only */
  const char *unit_path; /* otherwise: the subtree at this path */
  int direct_only;
  int status;            /* 0: any */
  const char *after;     /* keyset: usernames after this one ("" for the first page) */
  int limit;
} account_query;

/* Accounts ordered by username, at most q->limit. */
int accounts_list(srv_ctx *ctx, const account_query *q, id_account ***out, size_t *n);

/* Officers' accounts (a role beyond SELF) of the subtree at path (unit unit_id), by the unit
 * directly below it that holds them (unit_id itself for its own): active now, and logged in
 * during a month from `from` to `to` (account_use). Rows in the arena. */
int accounts_use_count(srv_ctx *ctx, const char *unit_id, const char *path, const char *from, const char *to,
                       Hoso__Identity__V1__UnitAccountUse ***out, size_t *n);

#endif
