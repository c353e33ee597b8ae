/* Record-store functions beyond the shared contract of records.h, used by the record handlers:
 * the versions of a record, a page at a time, and stored messages unpacked. */
#ifndef HOSO_RECORDS_STORE_RECORDS_H
#define HOSO_RECORDS_STORE_RECORDS_H

#include "records.h"

/* Versions of record_id, newest first, below version `before` (NULL: from the newest), at most
 * limit of them, under the transaction's scope (a SELF caller's own record: every version);
 * unpacked in the arena, with_records: each with the whole record it left. *more is set when
 * further versions exist. Decide first with record_fetch whether the caller may read the record.
 * 0, or -1 (database error, or status set). */
int record_versions_page(srv_ctx *ctx, const char *record_id, const char *before, int limit, int with_records,
                      Hoso__Records__V1__RecordVersion ***out, size_t *n, int *more);

/* Version `version` of record_id as it was written (its record, with the unit path it was filed
 * at), under the transaction's scope: decide first with record_fetch whether the caller may read
 * the record. NOT_FOUND when there is no such version. 0 / -1. */
int record_version_get(srv_ctx *ctx, const char *record_id, const char *version, rec_t **out);

/* A bytea column (PostgreSQL's hex output) of row `row` unpacked as a message of d in the arena;
 * NULL (logged) when the bytes are not one. */
ProtobufCMessage *record_unpack_col(srv_ctx *ctx, const ProtobufCMessageDescriptor *d, const PGresult *r, int row,
                                 int col);

/* A transfer package's past (rpc_import_history.c), in the transaction: one version of
 * record_id as it was (meta with its version number and action, data the record it left;
 * queued), and one attachment with its content (len bytes: written at once, nothing of it kept
 * in the arena), both filed at unit_path. 0 / -1. */
int record_store_past_version(srv_ctx *ctx, const char *record_id, const char *unit_path,
                           const Hoso__Records__V1__RecordVersion *meta, const rec_t *data);
int record_store_past_attachment(srv_ctx *ctx, const char *record_id, const char *unit_path,
                                 const Hoso__Records__V1__AttachmentMeta *meta, const uint8_t *content, size_t len);

/* The reporting facts' periods of record_id (facts.h, timeline.h) made again from all its
 * versions, after record_store appended one: the periods that changed are closed (known_to)
 * and their successors added. Reads and writes every unit's rows (the timeline spans the units
 * the record was managed by), then sets the caller's scope back. Inside the transaction. 0/-1. */
int record_facts_refresh(srv_ctx *ctx, const char *record_id);
/* Prunes reporting's change marks (051_report_mark_log.sql: report_marks_prune) below the horizon
 * taken by the previous prune once it is keep_hours old; inside a transaction of scope "*".
 * The marks deleted, -1 on error. */
long record_marks_prune(srv_ctx *ctx, int keep_hours);

/* The first periods of new records (one version each, effective date eff[i]): one statement
 * for the batch. 0 / -1. */
int record_facts_insert_new(srv_ctx *ctx, rec_t *const *recs, const char *const *eff, size_t n);

/* Whether actor is an author of what an approval of record_id would approve: 1 when actor
 * created the record, 2 when actor changed its content since its last approval (a version of
 * its own: not a submission, approval or rejection, nor a person's change request the actor
 * verified, nor a transfer's move), with *version the newest such version; 0 when
 * neither. In the approval's transaction. -1 on a database error. */
int record_authored_by(srv_ctx *ctx, const char *record_id, const char *actor, long long *version);

#endif
