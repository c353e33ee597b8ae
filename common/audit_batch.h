/* Durable audit rows of reads, appended in batches: the rows of calls that arrive together go
 * to PostgreSQL in one statement (audit_append_batch, common migration 005), one head update and
 * one commit flush, and each caller waits only until the batch that holds its row is durable. */
#ifndef HOSO_AUDIT_BATCH_H
#define HOSO_AUDIT_BATCH_H

#include <stddef.h>
#include "audit.h"

typedef struct audit_batch audit_batch;

/* Starts `writers` threads (1..8), each with its own connection (dsn, schema) and so its own
 * audit chain, taking whatever rows wait when it is free. sync: 0 commits a batch without
 * waiting for the WAL flush (HOSO_READ_AUDIT_SYNC=0; a server crash may then lose the last
 * batches). timeout_ms bounds one batch's statement (0: none): a stuck batch fails its callers
 * instead of holding them. NULL on out of memory or threads (logged). */
audit_batch *audit_batch_start(const char *dsn, const char *schema, int writers, int sync, long timeout_ms);

/* Ends the writers once the rows already given are written (their callers get their answer). */
void audit_batch_stop(audit_batch *b);

/* Appends e (at: stamped now, as audit_write does; detail_json as given, NULL "{}") and waits
 * until the batch that holds it has committed. 0 when the row is durable; -1 when that batch
 * failed (nothing of it was written; the reason is logged once per batch) or the batcher is
 * stopping. Thread-safe; never returns before its batch has an outcome. */
int audit_batch_write(audit_batch *b, const audit_entry *e);

/* Rows written and batches committed since the start (for tests and logs). */
void audit_batch_counts(audit_batch *b, long long *rows, long long *batches);

#endif
