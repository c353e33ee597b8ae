/* Internal interface of the records service: the record store shared by every RPC group
 * (fetch with scope decision, validation, versioned writes with diff and audit), the catalogue
 * check, and the handlers. The contract itself is proto/records.proto. */
#ifndef HOSO_RECORDS_H
#define HOSO_RECORDS_H

#include "records.pb-c.h"
#include "cli.h"
#include "srv.h"
#include "unit_tree.h"

typedef Hoso__Records__V1__Record rec_t;
typedef Hoso__Records__V1__ChangeReason rec_reason;

/* --- record store (store_records.c) ------------------------------------------------------ */

/* How record_fetch loads a record. RECORD_LOCK: for a write, SELECT ... FOR NO KEY UPDATE, and a
 * record in transit (PENDING_TRANSFER) or out of the system (TRANSFERRED_OUT) is refused with
 * FAILED_PRECONDITION when `rights` would change it; RECORD_ANY_STATUS: not refused for its status
 * (the status change and the transfers service's moves have rules of their own). */
enum { RECORD_LOCK = 1, RECORD_ANY_STATUS = 2 };

/* Inside a transaction: loads the current record, deciding NOT_FOUND (no such id) and
 * PERMISSION_DENIED on the record as it is now (store_access.c): RIGHT_READ within its managing
 * unit's subtree or through a live read grant (the receiving unit while in transit, a host unit
 * during a secondment); a record transferred out of the system only by its last unit's
 * administrators (and services within their grant); a SELF caller reads the record named by
 * its token's record id; other rights on the managing unit only. flags: RECORD_LOCK,
 * RECORD_ANY_STATUS. *out lives in the call arena (srv_allocator). 0, or -1 with the status set. */
int record_fetch(srv_ctx *ctx, const char *record_id, unsigned rights, int flags, rec_t **out);

/* The record as it was at the end of day as_of (YYYY-MM-DD, UTC), from record_versions. Who may
 * read it is decided on the record as it is now, exactly as record_fetch decides a read: the unit
 * that managed a past version has no say once the record has moved (003 Đ7.3). NOT_FOUND when
 * it did not exist yet. */
int record_fetch_as_of(srv_ctx *ctx, const char *record_id, const char *as_of, unsigned rights,
                    rec_t **out);

/* The caller is the transfers service (its service client id, HOSO_TRANSFERS_CLIENT_ID): the
 * only one that moves records between units and grants reads (SetManagingUnit, SetReadGrant). */
int record_is_transfers_service(const srv_ctx *ctx);
/* unit_tree_path for a unit named by a step of the transfers service (SetManagingUnit,
 * SetReadGrant): a dissolved unit is ABORTED, not FAILED_PRECONDITION. The transfers service
 * decided the step on the tree before the merge and re-targets its undelivered steps to the
 * successor once it follows the merge; its outbox retries ABORTED, and a refusal for good
 * would leave the record where it was. (rpc_transfer_links.c) */
int record_step_unit_path(srv_ctx *ctx, const char *field, const char *unit_id, char path[UNIT_TREE_PATH_MAX]);

/* Normalizes every text field of r to NFC (trimmed) and validates the whole record: UTF-8,
 * lengths, dates (YYYY-MM-DD, or YYYY-MM / YYYY where the proto says so), enums, and
 * catalogue codes (catalog_check). Errors are INVALID_ARGUMENT naming the field path with the
 * given prefix: "record.personal.ethnicity_code: unknown code \"99\" in catalogue ETHNICITY".
 * Needs the database (catalogues): call inside the transaction. 0 / -1. */
int rec_validate(srv_ctx *ctx, rec_t *r, const char *prefix);
/* The same for a change of old into r. A catalogue code retired since it was entered stays
 * acceptable where old already holds it at the same place, so an unrelated edit is never
 * refused for it; entries of the dated histories (salary, appointments, rewards, discipline,
 * training) accept retired codes in any record, since they describe the past. New codes of the
 * current state must be active. */
int rec_validate_change(srv_ctx *ctx, rec_t *r, const char *prefix, const rec_t *old);

/* Writes neu as the next version after old (old NULL: a new record; neu->id is assigned and
 * version = 1). Sets neu's version, timestamps, managing_unit_path; updates the search
 * columns and data; appends a record_versions row with the field-level diff, action
 * ("CREATE", "UPDATE", "SUBMIT", "APPROVE", "REJECT", "STATUS", "MANAGING_UNIT",
 * "CHANGE_REQUEST", "IMPORT") and reason; writes the audit row (RECORD_<action>). Inside the
 * transaction. 0 / -1. */
int record_store(srv_ctx *ctx, const rec_t *old, rec_t *neu, const char *action,
              const rec_reason *reason);

/* The columns of a records row copied from the record (001_records.sql, 020_search_index.sql),
 * as text parameters in the arena (NULL = SQL NULL), in the order of REC_COLS_SQL; search_text
 * still to be folded by fold() in SQL. The one place that decides them: record_store and the
 * bulk import use it. */
enum { REC_COLS = 21 };
#define REC_COLS_SQL                                                                         \
  "managing_unit_id, unit_path, version, status, workflow_state, verified, full_name, "     \
  "birth_date, gender, ethnicity_code, religion_code, rank_code, position_code, degree_code, " \
  "political_theory_code, party_member, category, recruitment_date, home_town, search_text, "  \
  "other_names"
void record_columns(srv_ctx *ctx, const rec_t *r, const char *cols[REC_COLS]);

/* --- following the unit tree (follow_units.c) ---------------------------------------------- */

/* What records do when identity moves or merges units (srv_config.follow_units). */
extern const unit_tree_follower rec_follow_units;

/* The background job giving records written before migration 030 their reporting facts
 * (facts_backfill.c): srv_config's on_serving / on_stopping. */
int rec_facts_backfill_start(void);
void rec_facts_backfill_stop(void);

/* Audit of a read or an export of a record (who read whom is recorded), made durable before the
 * record leaves the service: after the read's own (read-only) transaction, through the batched
 * read audit (srv_audit_read). detail: {"version", "updated_at"} of what was read, plus the keys
 * of `more` (consumed; may be NULL). 0, or -1 with the status set (UNAVAILABLE: send nothing). */
int record_audit_read(srv_ctx *ctx, const char *action, const rec_t *r, json_t *more);

/* --- separation of duties (duties.c) ------------------------------------------------------ */

/* Reads HOSO_SEPARATION_OF_DUTIES (on, the default, or off) and
 * HOSO_SEPARATION_OF_DUTIES_EXEMPT_UNITS (unit ids) at start-up; -1 (logged) on a bad value. */
int rec_duties_init(void);
/* In an approval's transaction, before anything is written: the approver (ctx->auth) is not an
 * author of what is approved (duties.c says who counts). 0 to go on (a SOD_OVERRIDE row written
 * where the deployment lets it through), DB_TX_ROLLBACK with PERMISSION_DENIED, or -1. */
int rec_duties_record(srv_ctx *ctx, const rec_t *r);
int rec_duties_change_request(srv_ctx *ctx, const Hoso__Records__V1__ChangeRequest *cr, const rec_t *r);

/* --- field-level diff (diff.c, pure) ------------------------------------------------------ */

/* Every leaf that differs between a and b (same descriptor; either may be NULL = empty), as
 * FieldChange messages in the arena: path "salary.step", "work_history[2].to", values as JSON
 * text. */
int rec_diff(srv_ctx *ctx, const ProtobufCMessage *a, const ProtobufCMessage *b,
             Hoso__Records__V1__FieldChange ***out, size_t *n);

/* --- catalogues (catalog.c) --------------------------------------------------------------- */

/* 0 when code is an active entry of catalog (cached per process, refreshed when the catalogue
 * version changes), or with retired_ok an entry no longer in use; otherwise -1 with
 * INVALID_ARGUMENT "<field>: unknown code \"X\" in catalogue C" (or "... is no longer in
 * use"). An empty code is accepted (the field is optional). */
int catalog_check(srv_ctx *ctx, const char *catalog, const char *code, const char *field,
                  int retired_ok);

/* --- handlers ----------------------------------------------------------------------------- */

/* rpc_record.c */
SRV_HANDLER(rpc_create_record);
SRV_HANDLER(rpc_get_record);
SRV_HANDLER(rpc_update_record);
SRV_HANDLER(rpc_list_record_versions);
/* rpc_workflow.c */
SRV_HANDLER(rpc_submit_record);
SRV_HANDLER(rpc_approve_record);
SRV_HANDLER(rpc_reject_record);
/* rpc_status.c */
SRV_HANDLER(rpc_change_record_status);
SRV_HANDLER(rpc_set_managing_unit);
/* rpc_transfer_links.c */
SRV_HANDLER(rpc_set_read_grant);
SRV_HANDLER(rpc_list_record_steps);
/* rpc_import_history.c */
SRV_HANDLER(rpc_import_record_history);
/* rpc_person_links.c: LinkPerson, and the check before every call (srv_config.check_caller)
 * that takes SELF back from a token whose link to its record LinkPerson never made */
SRV_HANDLER(rpc_link_person);
int rec_check_caller(srv_ctx *ctx, tok_claims *claims);
/* rpc_change_requests.c */
SRV_HANDLER(rpc_create_change_request);
SRV_HANDLER(rpc_list_change_requests);
SRV_HANDLER(rpc_approve_change_request);
SRV_HANDLER(rpc_reject_change_request);
/* rpc_search.c */
SRV_HANDLER(rpc_search_records);
/* rpc_export.c, rpc_import.c */
SRV_HANDLER(rpc_export_record);
SRV_HANDLER(rpc_import_records);
/* rpc_catalog.c */
SRV_HANDLER(rpc_list_catalog);
SRV_HANDLER(rpc_upsert_catalog_entry);
/* rpc_attachments.c: UploadAttachment (SRV_CLIENT_STREAM: req is NULL), DownloadAttachment
 * (SRV_SERVER_STREAM: responses through srv_send), ListAttachments */
SRV_HANDLER(rpc_upload_attachment);
SRV_HANDLER(rpc_download_attachment);
SRV_HANDLER(rpc_list_attachments);

#endif
