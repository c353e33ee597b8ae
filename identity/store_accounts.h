/* The SQL behind the account RPCs (rpc_accounts.c): lookups, inserts and updates of
 * identity.accounts and the unit rows they depend on, all through parameters. */
#ifndef HOSO_IDENTITY_STORE_ACCOUNTS_H
#define HOSO_IDENTITY_STORE_ACCOUNTS_H

#include "identity.h"

/* Every function runs inside the caller's transaction and sees what hoso.scope lets it see.
 * Functions returning PGresult give rows of ACCOUNT_COLS (freed by the caller with PQclear)
 * or NULL on a database error (db_err_* tells why). */

/* The account with this id (0 or 1 row); lock: SELECT ... FOR UPDATE, so a concurrent change
 * of the same account waits instead of being lost. */
PGresult *sa_account_get(db_conn *db, const char *id, int lock);

/* A unit as accounts need it, one row of: id, path, status (1 active, 2 dissolved), or no row.
 * lock: FOR SHARE, so a merge or move cannot change the path being copied into an account. */
PGresult *sa_unit_get(db_conn *db, const char *unit_id, int lock);

/* 1 when the username is taken (any status: usernames are never reused, so old audit rows
 * keep naming one person), 0 when free, -1 on error. Run it with hoso.scope "*": row-level
 * security would hide the accounts of other units. */
int sa_username_taken(db_conn *db, const char *username);

/* 1 when another account that is not revoked belongs to this person record (exclude_id: the
 * account being changed, or NULL), 0 when not, -1 on error. Also with hoso.scope "*". */
int sa_person_taken(db_conn *db, const char *person_record_id, const char *exclude_id);

typedef struct {
  const char *username, *full_name, *unit_id, *unit_path, *person_record_id, *email;
  const char *password_phc, *created_by;
  unsigned roles;
} sa_new_account;

/* Inserts an active account that must change its password at first login. */
PGresult *sa_account_insert(db_conn *db, const sa_new_account *n);

/* Sets status (1, 2, 3) and its reason; bumps version. */
PGresult *sa_account_set_status(db_conn *db, const char *id, int status, const char *reason);

/* Replaces roles and person_record_id; bumps version. */
PGresult *sa_account_set_roles(db_conn *db, const char *id, unsigned roles,
                               const char *person_record_id);

/* Stores a new password hash set by an administrator: the person must change it at next
 * login. Bumps version. */
PGresult *sa_account_set_password(db_conn *db, const char *id, const char *phc);

typedef struct {
  const char *unit_id;   /* with direct_only: accounts of this unit only */
  const char *unit_path; /* otherwise: the subtree at this path */
  int direct_only;
  int status;            /* 0: any */
  const char *after;     /* keyset: usernames after this one ("" for the first page) */
  int limit;
} sa_list_query;

/* Accounts ordered by username. */
PGresult *sa_account_list(db_conn *db, const sa_list_query *q);

#endif
