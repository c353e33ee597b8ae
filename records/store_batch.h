/* The bulk write path of the records service: many new records and their first versions in
 * one statement per batch (ImportRecords), instead of a round trip per record. */
#ifndef HOSO_RECORDS_STORE_BATCH_H
#define HOSO_RECORDS_STORE_BATCH_H

#include <stddef.h>
#include "records.h"

/* Rows per INSERT statement: large enough that the round trip and the statement's planning are
 * lost in the per-row work, small enough that the arrays of one statement stay a few MiB. */
enum { BATCH_ROWS = 1000 };

/* Inside the transaction: stores recs[0..n) as new records, version 1, in BATCH_ROWS-row
 * statements. Each record must be validated and carry its managing unit and its path; its id,
 * version and timestamps are assigned here (the transaction's now(), the time record_store uses).
 * Each first version is written with `action` and no field list: the whole record is the
 * change. No audit row: the caller writes one for the batch. 0, or -1 (database error). */
int batch_insert(srv_ctx *ctx, rec_t **recs, size_t n, const char *action);

#endif
