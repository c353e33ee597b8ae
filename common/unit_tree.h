/* The unit tree as a service other than identity sees it: where a unit sits now (asked of
 * identity, cached briefly), and the follower that applies identity's unit-change feed (MoveUnit,
 * MergeUnits) to the rows a service files by unit path, exactly once, in feed order. */
#ifndef HOSO_UNIT_TREE_H
#define HOSO_UNIT_TREE_H

#include <stddef.h>
#include <jansson.h>
#include "cli.h"
#include "srv.h"

struct Hoso__Identity__V1__Unit;

/* --- where a unit is (unit_tree.c) ---------------------------------------------------------- */

/* Longest unit path kept (an ltree of ids). */
#define UNIT_TREE_PATH_MAX 512

/* The ltree path of the active unit `unit_id`, asked of identity with the caller's own token
 * (GetUnit: identity applies the caller's scope) and remembered for 30 s. Refusals name `field`:
 * INVALID_ARGUMENT for a malformed id or no such unit, PERMISSION_DENIED outside the caller's
 * scope, FAILED_PRECONDITION for a dissolved unit (its successor takes what it had, 001 Đ5.5),
 * UNAVAILABLE while identity cannot answer. Ask before the transaction, so that no row lock
 * waits on another service. The service still decides the caller's rights on the path itself
 * (scope_allows): a path cached for one caller never widens what another may do. 0 / -1. */
int unit_tree_path(srv_ctx *ctx, const char *field, const char *unit_id, char path[UNIT_TREE_PATH_MAX]);

/* The same asked as the service itself (its client `as`, granted the units it works with), for a
 * unit the caller may name without seeing it (a transfer's receiving unit in another district):
 * NOT_FOUND "<field>: no such unit" for an unknown unit, PERMISSION_DENIED outside the service's
 * grant. The caller's rights are still the service's to decide on the path. */
struct svc_client;
int unit_tree_path_as(srv_ctx *ctx, struct svc_client *as, const char *field, const char *unit_id,
                      char path[UNIT_TREE_PATH_MAX]);

/* identity's GetUnit with the caller's own token: the status, and on OK *unit copied into the
 * call's arena. st gets identity's message. */
grpc_status_code unit_tree_get(srv_ctx *ctx, const char *unit_id, struct Hoso__Identity__V1__Unit **unit,
                               cli_status *st);

/* Forgets every cached path: after a change of the tree is applied, a path copied from identity
 * before it must not be written again. The follower calls it; nothing else needs to. */
void unit_tree_forget(void);

/* --- following the tree (unit_tree_follow.c) ------------------------------------------------ */

/* What a service does when the tree changes. Each callback runs inside the change's transaction
 * (with every unit in scope), adds what it did to `counts` (unit_tree_count: kept with the
 * change in unit_tree_applied and logged), and returns 0, DB_TX_ROLLBACK (status set) or -1
 * after a failed db call; the change is then tried again in the next round. */
typedef struct unit_tree_follower {
  /* MERGED, first: the rows the dissolved unit itself managed become the successor's (at
   * successor_path); reason is the merge's decision. NULL when the service files nothing a unit
   * "owns" beyond its path. */
  int (*give)(srv_ctx *ctx, const char *unit_id, const char *successor_id, const char *successor_path,
              const char *reason, json_t *counts);
  /* MOVED and MERGED: everything filed under old_path (the unit and below) now lies under
   * new_path, with the same suffix. */
  int (*reprefix)(srv_ctx *ctx, const char *old_path, const char *new_path, json_t *counts);
  /* Late writers (a row written with a path read just before a change was applied): the
   * distinct (unit id, path) pairs of at most `max` rows filed under old_path, into the arena
   * arrays *units and *paths, *n of them. */
  int (*look)(srv_ctx *ctx, const char *old_path, int max, char ***units, char ***paths, size_t *n);
  /* ... and what of `unit_id` is filed at exactly `stale` goes to `cur` (its path now, or its
   * successor's after give). */
  int (*refile)(srv_ctx *ctx, const char *unit_id, const char *stale, const char *cur, json_t *counts);
} unit_tree_follower;

/* SQL: the path in column `col` moved from under $1 (old_path) to under $2 (new_path), with the
 * same suffix; for a reprefix callback's UPDATE ... WHERE col <@ $1. subpath(p, nlevel(p)) is an
 * error rather than the empty path, hence the CASE for the unit itself. */
#define UNIT_TREE_REPREFIX(col)                                                            \
  "CASE WHEN " col " = $1::public.ltree THEN $2::public.ltree "                          \
  "ELSE $2::public.ltree || subpath(" col ", nlevel($1::public.ltree)) END"

/* Adds n to counts[name]. */
void unit_tree_count(json_t *counts, const char *name, long long n);

/* The migrations the follower needs in the service's schema (common/migrations/unit_tree): the
 * runtime applies them, as series "unit_tree", to a service whose srv_config names a follower. */
extern const db_migration unit_tree_migrations[];

/* Starts the thread that applies the feed to `schema` as the service client of `service`
 * (HOSO_<SERVICE>_CLIENT_ID / _SECRET, granted the root unit) every HOSO_UNIT_SYNC_MS (2000);
 * off, with a warning, without those credentials. The runtime calls it once the service serves
 * (srv_config.follow_units). 0 / -1. */
int unit_tree_follow_start(const char *service, const char *schema, const unit_tree_follower *f);
/* Stops it; a change being applied is finished (or rolled back) first. */
void unit_tree_follow_stop(void);

#endif
