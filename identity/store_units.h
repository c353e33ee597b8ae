/* The SQL behind the units RPCs (rpc_units.c): lookups, keyset lists, subtree moves and the
 * unit history. Every function runs inside the caller's transaction and its hoso.scope. */
#ifndef HOSO_IDENTITY_STORE_UNITS_H
#define HOSO_IDENTITY_STORE_UNITS_H

#include <libpq-fe.h>
#include "db.h"

/* What a handler needs to decide about one unit (status, scope, tree position). */
typedef struct {
  char id[24];
  char parent_id[24]; /* "" for the root */
  char path[2048];    /* ltree of ids from the root */
  char code[72];
  char name[1280];    /* at most 255 characters of up to 4 bytes each */
  int type, level, status, staffing_quota;
  long long version;
} su_unit;

enum { SU_ACTIVE = 1, SU_DISSOLVED = 2 };
enum { SU_LOCK_NONE = 0, SU_LOCK_SHARE = 1, SU_LOCK_UPDATE = 2 };

/* Serializes changes to the tree's shape. Creators take it shared (they only add leaves under
 * a parent whose path must not change meanwhile); MoveUnit and MergeUnits take it exclusive,
 * because their path rewrite must see every unit and account already inside the subtree.
 * Whoever else copies a unit's path into a row must either take it shared or read the unit
 * FOR SHARE, as CreateAccount does: a move's UPDATE of that unit then waits for the copy to
 * commit, and its next statement (su_sync_account_paths) sees and fixes the copy. Held until
 * the transaction ends. 0 / -1. */
int su_lock_tree(db_conn *db, int exclusive);

/* The unit `id` as visible under the transaction's hoso.scope, optionally locked. 1 found,
 * 0 not visible (absent or outside the scope), -1 database error. */
int su_find(db_conn *db, const char *id, int lock, su_unit *out);

/* The unit as UNIT_COLS (identity.h), 0 or 1 rows; NULL on database error. */
PGresult *su_get_row(db_conn *db, const char *id);

/* A new active unit under `parent` with an id from units_id_seq, path parent.path || id and
 * level parent.level + 1. id_out gets the id. 0 / -1 (a duplicate code fails on
 * units_code_key). */
int su_insert(db_conn *db, const su_unit *parent, const char *code, const char *name, int type,
              int staffing_quota, char id_out[24]);

/* Changes the fields given (NULL / 0 for type / -1 for the quota: unchanged), bumps version.
 * 0 / -1. */
int su_update(db_conn *db, const char *id, const char *name, const char *code, int type,
              int staffing_quota);

/* Moves the unit whose path is old_path under new_parent_id, its new path being new_path:
 * rewrites path and level of the whole subtree, sets parent_id and bumps the version of the
 * unit itself. *n_units gets the number of units rewritten (the unit included). 0 / -1.
 * Account paths follow with su_sync_account_paths. */
int su_move(db_conn *db, const char *old_path, const char *new_path, const char *new_parent_id,
            long long *n_units);

/* Copies the units' current paths into accounts.unit_path for every account whose stored
 * path lies within old_root and no longer matches its unit. *n gets the count. 0 / -1. */
int su_sync_account_paths(db_conn *db, const char *old_root, long long *n);

/* Appends a history entry with the unit's current name, code and parent. 0 / -1. */
int su_history_add(db_conn *db, const char *unit_id, const char *action, const char *actor_id,
                   const char *reason, const char *related_unit_id);

/* Children of parent_id ordered by (name COLLATE "C", id), after the key (after_name,
 * after_id) when after_name is not NULL; at most limit rows of UNIT_COLS. */
PGresult *su_list_children(db_conn *db, const char *parent_id, int include_dissolved,
                           const char *after_name, const char *after_id, int limit);

/* Units at or below root_path in path order, after after_path when not NULL, down to level
 * max_level (0: any); at most limit rows of UNIT_COLS. */
PGresult *su_list_subtree(db_conn *db, const char *root_path, const char *after_path,
                          int max_level, int include_dissolved, int limit);

/* History of a unit in time order: at, action, name, code, parent_id, actor_id, reason,
 * related_unit_id (text; "" for NULL). */
PGresult *su_list_history(db_conn *db, const char *unit_id);

/* Active direct children: id, path. */
PGresult *su_active_children(db_conn *db, const char *unit_id);

/* Revokes the active and disabled accounts of the unit itself (status 3 with status_reason).
 * Rows: id, username. NULL on database error. */
PGresult *su_revoke_unit_accounts(db_conn *db, const char *unit_id, const char *status_reason);

/* Marks the unit dissolved, merged into into_id; bumps version. 0 / -1. */
int su_dissolve(db_conn *db, const char *id, const char *into_id);

/* The unit-change feed (migration 012, ListUnitChanges). Kinds as UnitChangeKind. */
enum { SU_CHANGE_MOVED = 1, SU_CHANGE_MERGED = 2 };

/* Appends one change numbered max(seq) + 1. Call it only while holding su_lock_tree(db, 1):
 * the exclusive lock, held to commit, is what makes the numbers gap-free and commit-ordered.
 * successor_id: B of a merge, NULL for a move. *seq_out (may be NULL) gets the number. 0 / -1. */
int su_change_add(db_conn *db, int kind, const char *unit_id, const char *old_path,
                  const char *new_path, const char *successor_id, const char *reason,
                  const char *actor_id, long long *seq_out);

/* Changes numbered above after_seq in order, at most limit: seq, kind, unit_id, old_path,
 * new_path, successor_id ("" for none), reason, actor_id, at (RFC 3339 UTC). */
PGresult *su_changes_list(db_conn *db, long long after_seq, int limit);
/* The highest number written so far (0 when none): rows. NULL on database error. */
PGresult *su_changes_last(db_conn *db);

#endif
