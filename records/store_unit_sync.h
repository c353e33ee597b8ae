/* The SQL of records' unit sync (unit_sync.c): one change of identity's unit-change feed applied
 * under the locked cursor (migration 008), and late records re-filed. Transaction bodies for srv_tx. */
#ifndef HOSO_RECORDS_STORE_UNIT_SYNC_H
#define HOSO_RECORDS_STORE_UNIT_SYNC_H

#include "identity.pb-c.h"
#include "records.h"

/* One change: locks the cursor row; skips a change already applied (another records process);
 * fails (FAILED_PRECONDITION) unless it is the cursor's next; MERGED gives the unit's own records
 * to the successor (a UNIT_MERGED version and audit row each); then everything under old_path
 * (records, versions' access paths, change requests) gets the new prefix; records the change in
 * unit_changes_applied and advances the cursor. */
typedef struct {
  const Hoso__Identity__V1__UnitChange *c;
  int skipped; /* another records process applied it first */
  long long merged, records, versions, requests;
} us_apply;
int us_apply_tx(srv_ctx *ctx, void *apply);

/* The cursor, and the distinct (managing_unit_id, unit_path) of at most US_LOOK_UNITS records
 * under old_path; found is the caller's to PQclear. */
#define US_LOOK_UNITS 100
typedef struct {
  const char *old_path;
  long long cursor;
  PGresult *found;
} us_look;
int us_look_tx(srv_ctx *ctx, void *look);

/* Re-files the records of `unit` left at `stale`: to `cur`, or with successor set, to the
 * successor at `cur` as a merge does; versions and change requests filed at exactly `stale`
 * follow. Nothing (stale_cursor set) when a change was applied since `cursor` was read. */
typedef struct {
  const char *unit, *stale, *cur, *successor, *reason;
  long long cursor, merged, records, versions, requests;
  int stale_cursor;
} us_refile;
int us_refile_tx(srv_ctx *ctx, void *refile);

#endif
