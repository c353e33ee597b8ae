/* Internal interface of the reporting service: the read connection to records' published
 * views, the query pieces every RPC shares (when, where, filters, dimensions), the units of a
 * report, and the handlers. The contract is proto/reporting.proto. */
#ifndef HOSO_REPORTING_H
#define HOSO_REPORTING_H

#include "identity.pb-c.h"
#include "qb.h"
#include "rdate.h"
#include "records.pb-c.h"
#include "reporting.pb-c.h"
#include "srv.h"
#include "transfers.pb-c.h"
#include "unit_tree.h"

typedef Hoso__Records__V1__SearchRecordsRequest rp_filters;

/* --- the read connection (readdb.c) --------------------------------------------------------- */

/* Runs fn in one read-only REPEATABLE READ transaction on this worker's connection to the
 * published views (HOSO_REPORTING_PG_DSN: a replica may serve it; HOSO_PG_DSN when unset), with
 * the caller's scope set for row-level security; inside fn, ctx->db is that connection. Same
 * returns as srv_tx. */
int rp_read_tx(srv_ctx *ctx, srv_tx_fn fn, void *arg);
/* At start: -1 (logged) when the read connection's role could see past row-level security or
 * change records' schema; an unreachable read database is only logged. */
int rp_read_role_check(void);

/* --- what a report is about (query.c) ------------------------------------------------------- */

/* The report's day and knowledge, checked: as_of (today when empty), known_on (now when empty),
 * or a snapshot. */
typedef struct {
  rdate day;
  char as_of[11];
  char known_on[11];    /* "" for now */
  long long snapshot;   /* 0: the live facts */
} rp_when;

/* The unit a report covers: its id, path, name, code (from identity, with the caller's token). */
typedef struct {
  const char *id, *path, *name, *parent_name, *code;
  int quota;
} rp_unit;

/* Today in Vietnam (UTC+7), the day reports are judged on. */
rdate rp_today(void);

/* Checks `when` (field names "when.as_of", ...): dates real, not before 1945, not after today;
 * a snapshot must exist (its month then is the day: day and as_of "YYYY-MM-01"). 0 / -1
 * (INVALID_ARGUMENT; a failed lookup of the snapshot as srv_tx). */
int rp_when_check(srv_ctx *ctx, const Hoso__Reporting__V1__When *when, rp_when *out);

/* The unit named by unit_id (the caller's own unit when empty), which the caller may read:
 * INVALID_ARGUMENT / PERMISSION_DENIED / UNAVAILABLE named "unit_id". Before any transaction. */
int rp_unit_resolve(srv_ctx *ctx, const char *unit_id, rp_unit *out);

/* Checks SearchRecords' criteria used as filters (field names "<field>.<criterion>"); unit_id,
 * page_size, page_token, order must be unset. 0 / -1. */
int rp_filters_check(srv_ctx *ctx, const char *field, const rp_filters *f);

/* Appends "FROM <facts> f<join> WHERE <when> AND f.unit_path <@ <unit> AND <filters>" (join:
 * fixed SQL such as " LEFT JOIN ... ON ...", or NULL). With at_work and no statuses in the
 * filters, only the people at work (ACTIVE, PENDING_TRANSFER). */
void rp_from_where(qb *q, const rp_when *w, const rp_unit *u, const rp_filters *f, int at_work, const char *join);
/* The key of the unit directly below u that holds f's unit (u's own id for its own people). */
void rp_unit_key_sql(qb *q, const rp_unit *u);

/* A statistics dimension: its name, the SQL of its key (text) over f, and its label for a key. */
typedef struct rp_dim rp_dim;
const rp_dim *rp_dim_find(const char *name);
/* Appends the key expression of d (parameters for the report's day). */
void rp_dim_sql(qb *q, const rp_dim *d, const rp_when *w, const rp_unit *u);
/* The label of key k of d (codes: the catalogue's name, looked up on ctx->db inside a read
 * transaction; units: from `children`). In the arena. */
const char *rp_dim_label(srv_ctx *ctx, const rp_dim *d, const char *k);
/* Dimensions whose labels come from a catalogue name it (else NULL). */
const char *rp_dim_catalog(const rp_dim *d);
const char *rp_dim_name(const rp_dim *d);
int rp_dim_is_unit(const rp_dim *d);

/* u and the units below it down to `depth` levels (2: u and its children; 0: the whole
 * subtree), in tree order, from identity's GetUnitSubtree with the caller's token: ids, names,
 * paths, quotas in the arena. 0 / -1 (status set). */
int rp_unit_children(srv_ctx *ctx, const rp_unit *u, int depth, rp_unit **out, size_t *n);

/* --- asked of the other services as reporting itself (peers.c) ------------------------------- */

/* Each for a unit the caller was found to read; 0 with *out in the arena, 1 when the service
 * cannot answer (*note says which columns are missing and why, in the arena), -1 (status set).
 * *note may also be set with 0 (a partial answer). */
/* Transfers' open transfer steps of the subtree due on or before `horizon`, overdue first. */
int rp_peer_deadlines(srv_ctx *ctx, const char *unit_id, const char *horizon, Hoso__Transfers__V1__Deadline ***out,
                      size_t *n, const char **note);
/* Transfer steps of the period on time and overdue, by the unit directly below unit_id. */
int rp_peer_step_counts(srv_ctx *ctx, const char *unit_id, const char *from, const char *to,
                        Hoso__Transfers__V1__CountStepsResponse **out, const char **note);
/* Officers' accounts logged in during the period, by the unit directly below unit_id. */
int rp_peer_account_use(srv_ctx *ctx, const char *unit_id, const char *from, const char *to,
                        Hoso__Identity__V1__CountAccountUseResponse **out, const char **note);

/* --- handlers ------------------------------------------------------------------------------- */
#define RP_HANDLER(name) int name(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp)
RP_HANDLER(rpc_get_statistics);
RP_HANDLER(rpc_drill_down);
RP_HANDLER(rpc_list_report_templates);
RP_HANDLER(rpc_get_report_template);
RP_HANDLER(rpc_upsert_report_template);
RP_HANDLER(rpc_run_report);
RP_HANDLER(rpc_list_alerts);
RP_HANDLER(rpc_list_snapshots);
RP_HANDLER(rpc_create_snapshot);
RP_HANDLER(rpc_export_search);
RP_HANDLER(rpc_get_compliance_report);

/* Snapshots' unit paths follow identity's moves and merges (store_follow_units.c). */
extern const unit_tree_follower rp_follow_units;

/* The monthly snapshot job (snapshots.c): srv_config's on_serving / on_stopping. */
int rp_snapshots_start(void);
void rp_snapshots_stop(void);

/* The template `code` (version 0: the current one) into *out, refusals naming `field`. */
int rp_template_get(srv_ctx *ctx, const char *field, const char *code, long long version,
                    Hoso__Reporting__V1__ReportTemplate **out);

/* Sends the file at path as FileChunk messages (name and type in the first), then removes it.
 * 0 / -1 (status set). */
int rp_send_file(srv_ctx *ctx, const char *path, const char *file_name, const char *content_type,
                 ProtobufCMessage *(*wrap)(srv_ctx *, Hoso__Reporting__V1__FileChunk *));

/* The shipped templates, upserted at start when missing (templates.c). */
int rp_templates_install(db_conn *db);
/* The code of the i-th shipped template, NULL past the last. */
const char *rp_template_shipped(size_t i);

#endif
