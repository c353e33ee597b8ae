/* The catalogues' shared pieces inside the records service: the known catalogue names and the
 * per-process cache behind catalog_check (records.h), which UpsertCatalogEntry invalidates. */
#ifndef HOSO_RECORDS_CATALOG_H
#define HOSO_RECORDS_CATALOG_H

#include <stddef.h>

/* The catalogue names of the contract (proto/records.proto, CatalogEntry.catalog), in a fixed
 * order; CATALOG_COUNT of them. */
enum { CATALOG_COUNT = 18 };
extern const char *const catalog_names[CATALOG_COUNT];

/* Index of name in catalog_names, or -1 when it is not a catalogue. */
int catalog_index(const char *name);

/* "ETHNICITY, RELIGION, ..." for messages that list the choices. */
const char *catalog_names_list(void);

/* Makes the next catalog_check of this process compare the catalogue versions at once instead
 * of waiting for its once-a-second turn: called after a committed change to a catalogue. */
void catalog_cache_invalidate(void);

#endif
