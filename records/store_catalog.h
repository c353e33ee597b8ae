/* The SQL behind the catalogues (rpc_catalog.c, catalog.c): one entry, a keyset page of a
 * catalogue, its version, versioned writes, and what the code cache loads. Every function runs
 * inside the caller's transaction and returns what it read in the call's arena: 0 (or 1 / 0
 * found or not), -1 on a database error. */
#ifndef HOSO_RECORDS_STORE_CATALOG_H
#define HOSO_RECORDS_STORE_CATALOG_H

#include <stddef.h>
#include "records.h"

typedef Hoso__Records__V1__CatalogEntry cat_entry;

/* The entry (catalog, code): 1 with *out, 0 when there is none; lock: FOR UPDATE. */
int catalog_entry_get(srv_ctx *ctx, const char *catalog, const char *code, int lock, cat_entry **out);

/* 2 when (catalog, code) is an active entry, 1 when it exists but is no longer in use, 0 when
 * it does not exist, -1 on database error. */
int catalog_entry_state(srv_ctx *ctx, const char *catalog, const char *code);

/* Entries of catalog in (sort_order, code) order after the key (after_sort, after_code) when
 * after_code is not NULL; only active ones unless include_inactive; prefix ("" for all)
 * matches, diacritics and case folded, the start of the code, of the name or of any word of the
 * name. At most limit of them. */
int catalog_list(srv_ctx *ctx, const char *catalog, const char *prefix, int include_inactive, int after_sort,
                 const char *after_code, int limit, cat_entry ***out, size_t *n);

/* The catalogue's version (catalog_meta; 0 while it has no entry). */
int catalog_version(srv_ctx *ctx, const char *catalog, long long *out);

/* Inserts e as version 1 (or, when `update`, overwrites the existing entry and bumps its
 * version) with updated_by = actor; the trigger of 002_catalog.sql keeps the version row and
 * bumps the catalogue's version. *out: the entry as stored. -1 on database error (a second
 * insert of the same code fails on catalog_entries_pkey). */
int catalog_entry_write(srv_ctx *ctx, const cat_entry *e, const char *actor, int update, cat_entry **out);

/* Every catalogue's version, and one catalogue's codes with whether each is in use. */
typedef struct {
  const char *catalog;
  long long version;
} catalog_version_row;
int catalog_versions(srv_ctx *ctx, catalog_version_row **out, size_t *n);
typedef struct {
  const char *code;
  int active;
} catalog_code_row;
int catalog_codes(srv_ctx *ctx, const char *catalog, catalog_code_row **out, size_t *n);

/* The name of each (catalog, code) of v, in one read (inactive entries too); a pair with no
 * entry keeps name NULL. 0 / -1. */
typedef struct {
  const char *catalog, *code, *name;
} catalog_code_name;
int catalog_code_names(srv_ctx *ctx, catalog_code_name *v, size_t n);

#endif
