/* The SQL behind the account RPCs: accounts looked up, inserted and updated inside the
 * handler's transaction, with parameters only. Rules live in rpc_accounts.c, not here. */
#include <stdio.h>
#include <stdlib.h>
#include "store_accounts.h"

PGresult *sa_account_get(db_conn *db, const char *id, int lock) {
  if (lock)
    return db_q(db, "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = $1::bigint FOR UPDATE", 1,
                id);
  return db_q(db, "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = $1::bigint", 1, id);
}

PGresult *sa_unit_get(db_conn *db, const char *unit_id, int lock) {
  if (lock)
    return db_q(db,
                "SELECT u.id::text, u.path::text, u.status FROM units u WHERE u.id = $1::bigint "
                "FOR SHARE",
                1, unit_id);
  return db_q(db, "SELECT u.id::text, u.path::text, u.status FROM units u WHERE u.id = $1::bigint",
              1, unit_id);
}

static int exists(db_conn *db, const char *sql, int n, const char *a, const char *b) {
  PGresult *r = db_q(db, sql, n, a, b);
  if (!r) return -1;
  int found = PQntuples(r) > 0;
  PQclear(r);
  return found;
}

int sa_username_taken(db_conn *db, const char *username) {
  return exists(db, "SELECT 1 FROM accounts WHERE username = $1", 1, username, NULL);
}

int sa_person_taken(db_conn *db, const char *person_record_id, const char *exclude_id) {
  /* The same predicate as the partial unique index accounts_person_record_key. */
  return exists(db,
                "SELECT 1 FROM accounts WHERE person_record_id = $1 AND status IN (1, 2) "
                "AND ($2::bigint IS NULL OR id <> $2::bigint)",
                2, person_record_id, exclude_id);
}

PGresult *sa_account_insert(db_conn *db, const sa_new_account *n) {
  char roles[16];
  snprintf(roles, sizeof roles, "%u", n->roles);
  const char *p[] = {n->username,  n->full_name,        n->unit_id, n->unit_path,
                     roles,        n->person_record_id, n->email,   n->password_phc,
                     n->created_by};
  return db_exec(db,
                 "INSERT INTO accounts AS a (username, full_name, unit_id, unit_path, roles, "
                 "person_record_id, email, password_phc, must_change_password, created_by) "
                 "VALUES ($1, $2, $3::bigint, $4::ltree, $5::int, $6, $7, $8, true, $9) "
                 "RETURNING " ACCOUNT_COLS,
                 9, p);
}

PGresult *sa_account_set_status(db_conn *db, const char *id, int status, const char *reason) {
  char st[8];
  snprintf(st, sizeof st, "%d", status);
  return db_q(db,
              "UPDATE accounts AS a SET status = $2::smallint, status_reason = $3, "
              "version = a.version + 1, updated_at = now() WHERE a.id = $1::bigint "
              "RETURNING " ACCOUNT_COLS,
              3, id, st, reason);
}

PGresult *sa_account_set_roles(db_conn *db, const char *id, unsigned roles,
                               const char *person_record_id) {
  char r[16];
  snprintf(r, sizeof r, "%u", roles);
  return db_q(db,
              "UPDATE accounts AS a SET roles = $2::int, person_record_id = $3, "
              "version = a.version + 1, updated_at = now() WHERE a.id = $1::bigint "
              "RETURNING " ACCOUNT_COLS,
              3, id, r, person_record_id);
}

PGresult *sa_account_set_password(db_conn *db, const char *id, const char *phc) {
  return db_q(db,
              "UPDATE accounts AS a SET password_phc = $2, must_change_password = true, "
              "password_changed_at = now(), version = a.version + 1, updated_at = now() "
              "WHERE a.id = $1::bigint RETURNING " ACCOUNT_COLS,
              2, id, phc);
}

PGresult *sa_account_list(db_conn *db, const sa_list_query *q) {
  char st[8], lim[16];
  snprintf(st, sizeof st, "%d", q->status);
  snprintf(lim, sizeof lim, "%d", q->limit);
  /* Two statements rather than one with an OR, so each can use its own index
   * (accounts_unit for one unit, accounts_unit_path for a subtree). */
  if (q->direct_only)
    return db_q(db,
                "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.unit_id = $1::bigint "
                "AND ($2::int = 0 OR a.status = $2::int) AND a.username > $3 "
                "ORDER BY a.username LIMIT $4::int",
                4, q->unit_id, st, q->after, lim);
  return db_q(db,
              "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.unit_path <@ $1::ltree "
              "AND ($2::int = 0 OR a.status = $2::int) AND a.username > $3 "
              "ORDER BY a.username LIMIT $4::int",
              4, q->unit_path, st, q->after, lim);
}
