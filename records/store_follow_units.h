/* The SQL of records' part in following the unit tree (store_follow_units.c), for follow_units.c.
 * Each runs inside the change's transaction: 0, or -1 after a failed db call. Counts are added
 * to the change's counts under "moved_records", "moved_versions", "moved_requests". */
#ifndef HOSO_RECORDS_STORE_FOLLOW_UNITS_H
#define HOSO_RECORDS_STORE_FOLLOW_UNITS_H

#include <stddef.h>
#include "unit_tree.h"

/* Everything filed under old_path (records, the versions' access paths, change requests) now
 * lies under new_path. */
int follow_reprefix(srv_ctx *ctx, const char *old_path, const char *new_path, json_t *counts);
/* The distinct (managing unit, path) of at most max records under old_path, in the arena. */
int follow_look(srv_ctx *ctx, const char *old_path, int max, char ***units, char ***paths, size_t *n);
/* The records of unit_id filed at exactly `stale`, and every version and change request filed
 * there, go to `cur`. */
int follow_refile(srv_ctx *ctx, const char *unit_id, const char *stale, const char *cur, json_t *counts);
/* The ids of the records unit_id manages, in id order, in the arena. */
int follow_unit_records(srv_ctx *ctx, const char *unit_id, char ***ids, size_t *n);

#endif
