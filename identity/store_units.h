/* The SQL behind the units RPCs (rpc_units.c, rpc_unit_changes.c, bootstrap.c): lookups,
 * keyset lists, subtree moves, the unit history and the unit-change feed. Every function runs
 * inside the caller's transaction and its row-level scope, and returns what it read in the
 * call's arena: 0 (1 / 0 when it says found or not), -1 on a database error. */
#ifndef HOSO_IDENTITY_STORE_UNITS_H
#define HOSO_IDENTITY_STORE_UNITS_H

#include <stddef.h>
#include "identity.h"

/* What a handler needs to decide about one unit (status, scope, tree position). */
typedef struct {
  char id[24];
  char parent_id[24]; /* "" for the root */
  char path[2048];    /* ltree of ids from the root */
  char code[72];
  char name[1280];    /* at most 255 characters of up to 4 bytes each */
  int type, level, status, staffing_quota;
  long long version;
} unit_row;

enum { UNIT_ACTIVE = 1, UNIT_DISSOLVED = 2 };
enum { UNIT_LOCK_NONE = 0, UNIT_LOCK_SHARE = 1, UNIT_LOCK_UPDATE = 2 };

/* Serializes changes to the tree's shape. Creators take it shared (they only add leaves under
 * a parent whose path must not change meanwhile); MoveUnit and MergeUnits take it exclusive,
 * because their path rewrite must see every unit and account already inside the subtree.
 * Whoever else copies a unit's path into a row must either take it shared or read the unit
 * FOR SHARE, as CreateAccount does: a move's UPDATE of that unit then waits for the copy to
 * commit, and its next statement (units_sync_account_paths) sees and fixes the copy. Held until
 * the transaction ends. */
int units_lock_tree(srv_ctx *ctx, int exclusive);

/* The unit `id` as visible under the transaction's scope, optionally locked (UNIT_LOCK_*):
 * 1 with *out, 0 when not visible (absent or outside the scope). */
int units_find(srv_ctx *ctx, const char *id, int lock, unit_row *out);

/* The unit as the contract shows it: 1 with *out, 0 when not visible. */
int units_get(srv_ctx *ctx, const char *id, id_unit **out);

/* The root unit (the one without a parent), as units_find: 1 / 0. */
int units_root(srv_ctx *ctx, unit_row *out);

/* A new active unit under `parent` with an id from units_id_seq, path parent.path || id and
 * level parent.level + 1 (parent NULL: the root, path its own id). id_out gets the id. -1 also
 * for a duplicate code (units_code_key). */
int units_insert(srv_ctx *ctx, const unit_row *parent, const char *code, const char *name, int type,
                 int staffing_quota, char id_out[24]);

/* Changes the fields given (NULL / 0 for type / -1 for the quota: unchanged), bumps version. */
int units_update(srv_ctx *ctx, const char *id, const char *name, const char *code, int type, int staffing_quota);

/* Moves the unit whose path is old_path under new_parent_id, its new path being new_path:
 * rewrites path and level of the whole subtree, sets parent_id and bumps the version of the
 * unit itself. *n_units gets the number of units rewritten (the unit included). Account paths
 * follow with units_sync_account_paths. */
int units_move(srv_ctx *ctx, const char *old_path, const char *new_path, const char *new_parent_id,
               long long *n_units);

/* Copies the units' current paths into accounts.unit_path for every account whose stored
 * path lies within old_root and no longer matches its unit. *n (may be NULL) gets the count. */
int units_sync_account_paths(srv_ctx *ctx, const char *old_root, long long *n);

/* Appends a history entry with the unit's current name, code and parent. */
int units_history_add(srv_ctx *ctx, const char *unit_id, const char *action, const char *actor_id,
                      const char *reason, const char *related_unit_id);

/* Children of parent_id ordered by (name COLLATE "C", id), after the key (after_name,
 * after_id) when after_name is not NULL; at most limit of them. */
int units_children(srv_ctx *ctx, const char *parent_id, int include_dissolved, const char *after_name,
                   const char *after_id, int limit, id_unit ***out, size_t *n);

/* Units at or below root_path in path order, after after_path when not NULL, down to level
 * max_level (0: any); at most limit of them. */
int units_subtree(srv_ctx *ctx, const char *root_path, const char *after_path, int max_level,
                  int include_dissolved, int limit, id_unit ***out, size_t *n);

/* The unit directory, read with every unit visible (the names of the state's agencies are
 * public): active units whose folded name contains the folded query or whose code contains it
 * (query "" matches all), by name then id, after (after_name, after_id) when after_name is not
 * NULL; or, when ids is not NULL (a PostgreSQL bigint[] literal), exactly those units, dissolved
 * ones too. At most limit entries in the call's arena. 0 / -1. */
typedef Hoso__Identity__V1__UnitDirectoryEntry id_dir_entry;
int units_directory(srv_ctx *ctx, const char *query, const char *ids, const char *after_name, const char *after_id,
                    int limit, id_dir_entry ***out, size_t *n);

/* The history of a unit in time order. */
int units_history(srv_ctx *ctx, const char *unit_id, Hoso__Identity__V1__UnitHistoryEntry ***out, size_t *n);

/* A unit or an account named by id and one more column (a path, a username). */
typedef struct {
  const char *id, *value;
} unit_pair;

/* The active direct children of a unit: id and path, in id order. */
int units_active_children(srv_ctx *ctx, const char *unit_id, unit_pair **out, size_t *n);

/* Revokes the active and disabled accounts of the unit itself (status 3 with status_reason):
 * their id and username. */
int units_revoke_accounts(srv_ctx *ctx, const char *unit_id, const char *status_reason, unit_pair **out, size_t *n);

/* Marks the unit dissolved, merged into into_id; bumps version. */
int units_dissolve(srv_ctx *ctx, const char *id, const char *into_id);

/* The unit-change feed (migration 012, ListUnitChanges). Kinds as UnitChangeKind. */
enum { UNIT_CHANGE_MOVED = 1, UNIT_CHANGE_MERGED = 2 };

/* Appends one change numbered max(seq) + 1. Call it only while holding units_lock_tree(ctx, 1):
 * the exclusive lock, held to commit, is what makes the numbers gap-free and commit-ordered.
 * successor_id: B of a merge, NULL for a move. *seq_out (may be NULL) gets the number. */
int units_change_add(srv_ctx *ctx, int kind, const char *unit_id, const char *old_path, const char *new_path,
                     const char *successor_id, const char *reason, const char *actor_id, long long *seq_out);

/* Changes numbered above after_seq in order, at most limit; and the highest number written so
 * far (0 when none). */
int units_changes(srv_ctx *ctx, long long after_seq, int limit, Hoso__Identity__V1__UnitChange ***out, size_t *n);
int units_changes_last(srv_ctx *ctx, long long *last);

#endif
