/* Internal interface of the transfers service: the transfer as the handlers hold it, the store
 * (store_*.c, the SQL), the policy and calendar in force (settings.c), the calls to records as
 * the service (records_link.c), the outbox and the service's background jobs, the handlers. */
#ifndef HOSO_TRANSFERS_H
#define HOSO_TRANSFERS_H

#include "flow.h"
#include "records.pb-c.h"
#include "srv.h"
#include "svc_client.h"
#include "transfers.pb-c.h"
#include "unit_tree.h"
#include "workdays.h"

typedef Hoso__Transfers__V1__Transfer transfer_t;
typedef Hoso__Transfers__V1__Step tr_step_t;
typedef Hoso__Transfers__V1__Decision tr_decision_t;
typedef Hoso__Transfers__V1__Document tr_document_t;

#define TR_TEXT_MAX 2000          /* a note, a reason */
#define TR_LINE_MAX 255           /* a decision number, an issuer, a destination, a file name */
#define TR_SCAN_MAX (3 << 20)     /* a scan (below gRPC's 4 MiB message) */

/* A transfer as loaded: the proto view and what the contract does not show. */
typedef struct {
  transfer_t *t;
  const char *from_path, *to_path, *final_path; /* "" when the field names no unit */
  const char *effective_date;                   /* the decision's, "" when none yet */
  int open_seq;                                 /* the open step's seq, 0 when none */
} tr_row;

/* --- settings.c: the policy and the calendar in force ------------------------------------- */

typedef struct {
  int unit;          /* AllowanceUnit */
  int days;
  int count_from;    /* CountFrom */
  int roll;
} tr_rule;

typedef struct tr_settings {
  long long version;  /* settings_version when loaded */
  wd_cal *cal;
  tr_rule rules[12];  /* by StepKind; unit NONE when the policy sets no deadline */
  int alert_days;     /* working days before a secondment's end */
  struct tr_settings *older;
} tr_settings;

/* The settings as the current transaction sees them (one small query; reloaded when the
 * calendar or the policy changed). Never freed: kept while the process runs. 0 / -1. */
int settings_get(srv_ctx *ctx, const tr_settings **out);
/* The same for a version the caller read in its own query (SETTINGS_VERSION_SQL), saving the
 * round trip. */
int settings_at(srv_ctx *ctx, long long version, const tr_settings **out);
#define SETTINGS_VERSION_SQL "(SELECT version FROM settings_version)"
/* The due date of a step of kind `step` opened on `previous` for a decision effective on
 * `effective` ("" or NULL when none: the previous date counts). 0 with due (YYYY-MM-DD) and
 * *estimated, 1 when the policy sets no deadline for it. */
int settings_due(const tr_settings *s, int step, const char *effective, const char *previous, char due[11],
                 int *estimated);
/* Today in Vietnam (UTC+7, no daylight saving): the day deadlines are judged on. */
void settings_today(char out[11]);
/* Every open deadline counted again with s (after a change of the policy or the calendar),
 * in the current transaction; *n the rows whose due date moved. 0 / -1. */
int settings_recompute(srv_ctx *ctx, const tr_settings *s, int *n);

/* --- store_settings.c ------------------------------------------------------------------------ */

/* The policy as stored (Policy message in the arena). */
int store_policy_get(srv_ctx *ctx, Hoso__Transfers__V1__Policy **out);
/* The presets, each a Policy (id, name, rules). */
int store_policy_presets(srv_ctx *ctx, Hoso__Transfers__V1__Policy ***out, size_t *n);
/* Replaces the policy's rules and bumps the settings version. 0 / -1. */
int store_policy_put(srv_ctx *ctx, const Hoso__Transfers__V1__Policy *p);
/* The calendar years in [from, to], with their days. */
int store_calendar_list(srv_ctx *ctx, int from, int to, Hoso__Transfers__V1__CalendarYear ***out, size_t *n);
/* Replaces one year and bumps the settings version. */
int store_calendar_put(srv_ctx *ctx, const Hoso__Transfers__V1__CalendarYear *y);
/* The version of the policy and calendar as the transaction sees them. */
int store_settings_version(srv_ctx *ctx, long long *version);
/* Loads a settings copy of version `version` (called by settings_get). */
int store_settings_load(srv_ctx *ctx, tr_settings *s);

/* --- store_transfers.c ----------------------------------------------------------------------- */

/* Loads transfer `id` with its steps and documents, under the caller's scope (NOT_FOUND,
 * PERMISSION_DENIED named "transfer_id"); lock: FOR UPDATE. */
int store_transfer_get(srv_ctx *ctx, const char *id, int lock, tr_row **out);
/* Inserts r (its id, version 1, created_* set). */
int store_transfer_insert(srv_ctx *ctx, tr_row *r);
/* Writes r's changeable fields (state, units, decision, note, due date, version + 1). */
int store_transfer_save(srv_ctx *ctx, tr_row *r);
/* The open transfer of a record, seen with every unit in scope: *id empty when none. */
int store_transfer_open_of(srv_ctx *ctx, const char *record_id, char id[32], int *state);
/* Closes r's open step (done now by the caller, outcome, reason) and its deadline. */
int store_step_close(srv_ctx *ctx, tr_row *r, const char *outcome, const char *reason);
/* Opens a step of kind at unit (id, path), counted per the settings from the decision's
 * effective date or from today; due: when given (a secondment's end date), instead. Sets the
 * transfer's due date. */
int store_step_open(srv_ctx *ctx, tr_row *r, const tr_settings *s, int kind, const char *unit_id, const char *unit_path,
                    const char *due);
/* A scan kept with the transfer; *out its metadata (in the arena). */
int store_document_add(srv_ctx *ctx, const char *transfer_id, const char *kind, const char *file_name,
                       const char *content_type, const uint8_t *data, size_t len, tr_document_t **out);
/* A document's content (NULL data when it is not one of that transfer). */
int store_document_get(srv_ctx *ctx, const char *transfer_id, const char *document_id, tr_document_t **meta,
                       ProtobufCBinaryData *content);
/* A notice in the inbox of unit (id, path). */
int store_notice_add(srv_ctx *ctx, const tr_row *r, const char *unit_id, const char *unit_path, const char *kind,
                     const char *text);
/* --- store_packages.c: the package of an exported transfer, kept to be given again ------- */

/* A package is stored as its bytes in order: pieces (part, seq) of at most TR_CHUNK bytes, part
 * 0 the head, then each part's framing (seq 0, written once its length is known) and content
 * (seq 1...). One piece, written at once (nothing of it kept in the arena). 0 / -1. */
#define TR_CHUNK (1u << 20)
int store_package_chunk_put(srv_ctx *ctx, const char *transfer_id, int part, int seq, const uint8_t *data, size_t len);
/* The package's row (in the transaction that exports it), and read: 0, or -1 (INTERNAL when an
 * EXPORTED transfer has none). */
int store_package_put(srv_ctx *ctx, const char *transfer_id, const char *sha, long long size, const char *key_id);
int store_package_get(srv_ctx *ctx, const char *transfer_id, char sha[65], long long *size);
/* The piece after (*part, *seq) in the package's order ((0, -1) before the first): 1 with its
 * bytes in buf (room for TR_CHUNK) and *part, *seq moved to it, 0 after the last, -1. */
int store_package_chunk_next(srv_ctx *ctx, const char *transfer_id, int *part, int *seq, uint8_t *buf, size_t *len);
/* Secondments (state SECONDED) whose end date has passed (alerting 0), or still on and not
 * alerted yet (alerting 1: rows locked, others skipped), oldest end first. */
int store_secondments_due(srv_ctx *ctx, const char *today, int alerting, int limit, char ***ids, char ***ends, int *n);
/* The end alert of a secondment was posted. */
int store_secondment_alerted(srv_ctx *ctx, const char *id);
/* An outbox row: records' method with the packed request. */
int store_outbox_add(srv_ctx *ctx, const tr_row *r, const char *method, const ProtobufCMessage *req);

/* --- store_deadlines.c ---------------------------------------------------------------------- */

/* Where the copy of records' steps stands in their feed (lock: FOR UPDATE), and its move. */
int deadlines_cursor(srv_ctx *ctx, int lock, const char **position);
int deadlines_cursor_set(srv_ctx *ctx, const char *position);
/* A page of records' steps replaces what the deadlines held of those records; dues[k] and
 * estimated[k] go with the page's k-th step (NULL: no deadline). Queued. 0 / -1. */
int deadlines_replace_records(srv_ctx *ctx, const Hoso__Records__V1__ListRecordStepsResponse *page,
                              const char *const *dues, const int *estimated);
typedef struct {
  const char *id, *effective_date, *previous_date, *due_date; /* "" when none */
  int step, estimated;
} deadline_open;
/* Every open deadline but those of except_step. */
int deadlines_open(srv_ctx *ctx, int except_step, deadline_open **out, int *n);
/* New due dates of rows (with the copies kept by transfer steps and transfers). Queued. */
int deadlines_redate(srv_ctx *ctx, const deadline_open *rows, int n);

/* --- records_link.c: records, asked as the service --------------------------------------- */

/* The process's service client (HOSO_TRANSFERS_CLIENT_ID/_SECRET); NULL when not configured. */
svc_client *tr_client(void);
/* The record as records has it now (GetRecord as the service): NOT_FOUND "record_id: ...",
 * UNAVAILABLE while records cannot answer. *out in the arena. */
int tr_record(srv_ctx *ctx, const char *record_id, Hoso__Records__V1__Record **out);
/* A unit's path asked of identity as the service (a unit the caller may not see). */
int tr_unit_path(srv_ctx *ctx, const char *field, const char *unit_id, char path[UNIT_TREE_PATH_MAX]);
/* The outbox row for a flow move of r (MOVE_NONE: nothing). */
int tr_queue_move(srv_ctx *ctx, const tr_row *r, flow_move m);

/* --- outbox.c: delivery ------------------------------------------------------------------- */

/* Delivers the due outbox rows (of transfer_id only, or any when NULL), each after the rows of
 * its record before it, until none is left or max were tried; called after a handler's commit
 * and by the job. Never fails the caller: what is not delivered stays for the next round.
 * Returns the rows still waiting that could be tried again soon (0 none). */
int outbox_deliver(srv_ctx *ctx, const char *transfer_id, int max);

/* --- jobs.c: background work, once across every process --------------------------------- */

int jobs_start(void);
void jobs_stop(void);
/* record_steps.c: applies records' step feed to the deadlines (one page per call); 1 when more. */
int record_steps_sync(srv_ctx *ctx);
/* secondments.c: ends the secondments past their end date and posts the alerts before it. */
int secondments_tick(srv_ctx *ctx);

/* --- transitions (rpc_flow.c), shared with the packages and the jobs --------------------- */

typedef struct {
  const char *reason;       /* for a rejection, refusal, cancellation */
  const char *note;
  const char *final_unit_id, *final_path; /* FORWARD: when given */
  int64_t expected_version;
  const char *request_id;
  int (*extra)(srv_ctx *ctx, tr_row *r, void *arg); /* the action's own work, in the transaction */
  void *extra_arg;
  int system;               /* the service's own job (a secondment's end), not a person */
} tr_act;

/* Carries out action a on transfer id as the caller (or the service's job with SIDE_SYSTEM):
 * the checks of flow.h, the steps, the outbox row, the notices and the audit row in one
 * transaction; then the delivery. *out: the transfer after it (in the arena). 0 / -1. */
int tr_transition(srv_ctx *ctx, const char *id, flow_action a, const tr_act *act, transfer_t **out);

/* Notices of kind to the sides (flow_side bits) of r (rpc_flow.c). */
int tr_notify(srv_ctx *ctx, const tr_row *r, unsigned sides, const char *kind);
/* The open step's deadline judged on today: overdue, working days left. */
void tr_judge(const tr_settings *s, transfer_t *t, const char *today);
/* The transfer as the reply shows it (reloaded after the delivery). */
int tr_reply(srv_ctx *ctx, const char *id, transfer_t **out);

/* Common checks (rpc_util.c). */
int tr_check_decision(srv_ctx *ctx, const char *field, const tr_decision_t *in, tr_decision_t **out);
int tr_check_scan(srv_ctx *ctx, const char *field, const Hoso__Transfers__V1__Scan *in, const char **type,
                  const char **file_name);
int tr_check_reason(srv_ctx *ctx, const char *in, int required, const char **out);
/* The side's unit id and path in r. */
const char *tr_side_unit(const tr_row *r, flow_side side);
const char *tr_side_path(const tr_row *r, flow_side side);
/* Writes the transfer's audit row. */
int tr_audit(srv_ctx *ctx, const tr_row *r, const char *action, json_t *detail);

/* --- handlers ------------------------------------------------------------------------------ */
SRV_HANDLER(rpc_start_transfer);
SRV_HANDLER(rpc_request_transfer);
SRV_HANDLER(rpc_approve_request);
SRV_HANDLER(rpc_refuse_request);
SRV_HANDLER(rpc_send_transfer);
SRV_HANDLER(rpc_receive_transfer);
SRV_HANDLER(rpc_reject_transfer);
SRV_HANDLER(rpc_forward_transfer);
SRV_HANDLER(rpc_cancel_transfer);
SRV_HANDLER(rpc_get_transfer);
SRV_HANDLER(rpc_list_transfers);
SRV_HANDLER(rpc_get_transfer_document);
SRV_HANDLER(rpc_list_notices);
SRV_HANDLER(rpc_export_transfer_package);
SRV_HANDLER(rpc_import_transfer_package);
SRV_HANDLER(rpc_list_deadlines);
SRV_HANDLER(rpc_count_steps);
SRV_HANDLER(rpc_get_policy);
SRV_HANDLER(rpc_set_policy);
SRV_HANDLER(rpc_list_policy_presets);
SRV_HANDLER(rpc_list_calendar);
SRV_HANDLER(rpc_set_calendar_year);
SRV_HANDLER(rpc_add_working_days);
SRV_HANDLER(rpc_count_working_days);

extern const unit_tree_follower transfers_follow_units;

#endif
