/* The SQL behind the change requests (phiếu bổ sung lý lịch, rpc_change_requests.c) and the
 * one statement SetManagingUnit needs to move a record's requests with it. Every function runs
 * inside the caller's transaction and under its hoso.scope (row-level security). */
#ifndef HOSO_RECORDS_STORE_CHANGE_REQUESTS_H
#define HOSO_RECORDS_STORE_CHANGE_REQUESTS_H

#include "records.h"

typedef Hoso__Records__V1__ChangeRequest cr_t;

/* One stored request: the message (proposed record and changes included), the record as it
 * was at base_version, and the unit the request belongs to. All in the call arena. */
typedef struct {
  cr_t *cr;
  rec_t *base;
  const char *unit_path;
} cr_row;

/* Stores cr (record_id, base_version, note, submitted_by, proposed, changes) as a pending
 * request of the unit at unit_path, with base the record at base_version. Sets cr's id, state,
 * submitted_at and due_at (the database's change_request_due: one working day). 0 / -1. */
int change_requests_insert(srv_ctx *ctx, cr_t *cr, const rec_t *base, const char *unit_path);

/* The request `id` visible under the transaction's scope, locked FOR UPDATE when lock is set.
 * 1 found (*out filled), 0 not visible, -1 error (database error, or a stored request that no
 * longer decodes: status set). */
int change_requests_find(srv_ctx *ctx, const char *id, int lock, cr_row *out);

/* Whether request `id` exists at all, looked up with every unit visible (the scope is set
 * back before returning): tells NOT_FOUND from "outside your scope". 1 / 0 / -1. */
int change_requests_exist_anywhere(srv_ctx *ctx, const char *id);

/* Records the unit's decision on a pending request: state (APPROVED or REJECTED), decided_by,
 * decided_at (now), decision_reason, and for an approval the record version it made (0: none).
 * Sets the same fields on row->cr. 0, or -1 (a request no longer pending: FAILED_PRECONDITION
 * set; or a database error). */
int change_requests_decide(srv_ctx *ctx, cr_row *row, int state, const char *reason, int64_t applied_version);

/* A page of requests in id order after `after_id` (NULL: from the start), at most limit,
 * filtered by subtree root (NULL: the scope only), record id (NULL: any) and state (0: any).
 * *more is set when further requests match. 0 / -1. */
typedef struct {
  const char *root_path, *record_id, *after_id;
  int state;
  int limit;
} cr_filter;
int change_requests_list(srv_ctx *ctx, const cr_filter *f, cr_t ***out, size_t *n, int *more);

/* Every request of record_id follows the record to the unit at new_path (SetManagingUnit):
 * the new unit verifies the pending ones and reads the decided ones (003 Đ7.3). 0 / -1. */
int change_requests_follow_record(srv_ctx *ctx, const char *record_id, const char *new_path);

#endif
