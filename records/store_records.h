/* Record-store functions beyond the shared contract of records.h, used by the record handlers:
 * the versions of a record, a page at a time. */
#ifndef HOSO_RECORDS_STORE_RECORDS_H
#define HOSO_RECORDS_STORE_RECORDS_H

#include "records.h"

/* Versions of record_id, newest first, below version `before` (NULL: from the newest), at most
 * limit of them, under the transaction's scope (a SELF caller's own record: every version);
 * unpacked in the arena. *more is set when further versions exist. Decide first with
 * record_fetch whether the caller may read the record. 0, or -1 (database error, or status set). */
int record_versions_page(srv_ctx *ctx, const char *record_id, const char *before, int limit,
                      Hoso__Records__V1__RecordVersion ***out, size_t *n, int *more);

/* A bytea column (hex output) unpacked as a message of type d in the arena; NULL (logged) when
 * the stored bytes are not one. */
ProtobufCMessage *rec_unpack_col(srv_ctx *ctx, const ProtobufCMessageDescriptor *d,
                                 const PGresult *r, int row, int col);

/* The reporting facts' periods of record_id (facts.h, timeline.h) made again from all its
 * versions, after rec_store appended one: the periods that changed are closed (known_to) and
 * their successors added. Reads and writes every unit's rows (the timeline spans the units
 * the record was managed by), then sets the caller's scope back. Inside the transaction. 0/-1. */
int rec_facts_refresh(srv_ctx *ctx, const char *record_id);

/* The first periods of new records (one version each, effective date eff[i]): one statement
 * for the batch. 0 / -1. */
int rec_facts_insert_new(srv_ctx *ctx, rec_t *const *recs, const char *const *eff, size_t n);

#endif
