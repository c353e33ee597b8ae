/* The SQL behind the catalogue RPCs (rpc_catalog.c): one entry, a keyset page of a catalogue,
 * its version, and versioned writes. Every function runs inside the caller's transaction. */
#ifndef HOSO_RECORDS_STORE_CATALOG_H
#define HOSO_RECORDS_STORE_CATALOG_H

#include <libpq-fe.h>
#include "records.h"

typedef Hoso__Records__V1__CatalogEntry cat_entry;

/* The columns every query below returns, in this order (sc_entry_from_row reads them). */
enum {
  SC_CATALOG, SC_CODE, SC_NAME, SC_PARENT, SC_ACTIVE, SC_VERSION, SC_RANK_GROUP, SC_STEPS,
  SC_STEP_YEARS, SC_SORT, SC_UPDATED_AT, SC_UPDATED_BY, SC_NCOLS
};

/* The entry (catalog, code), 0 or 1 rows; lock: FOR UPDATE. NULL on database error. */
PGresult *sc_get(db_conn *db, const char *catalog, const char *code, int lock);

/* 1 when (catalog, code) exists (active or not), 0 when not, -1 on database error. */
int sc_exists(db_conn *db, const char *catalog, const char *code);

/* Entries of catalog in (sort_order, code) order after the key (after_sort, after_code) when
 * after_code is not NULL; only active ones unless include_inactive; prefix ("" for all)
 * matches, diacritics and case folded, the start of the code, of the name or of any word of the
 * name. At most limit rows. NULL on database error. */
PGresult *sc_list(db_conn *db, const char *catalog, const char *prefix, int include_inactive,
                  int after_sort, const char *after_code, int limit);

/* The catalogue's version (catalog_meta; 0 while it has no entry). 0 / -1. */
int sc_catalog_version(db_conn *db, const char *catalog, long long *out);

/* Inserts e as version 1 (or, when `update`, overwrites the existing entry and bumps its
 * version) with updated_by = actor; the trigger of 002_catalog.sql keeps the version row and
 * bumps the catalogue's version. Returns the row as stored; NULL on database error (a second
 * insert of the same code fails on catalog_entries_pkey). */
PGresult *sc_write(db_conn *db, const cat_entry *e, const char *actor, int update);

/* The row as a CatalogEntry in the call's arena. */
cat_entry *sc_entry_from_row(srv_ctx *ctx, const PGresult *r, int row);

#endif
