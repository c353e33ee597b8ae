/* Monthly snapshots (001 Đ11.5): the reporting facts in force on a month's first day, copied
 * into snapshot_facts. Taken by a background job for the current month and any month missed
 * since the first snapshot (a missed month as the system knew it at the end of its first day,
 * which the facts' transaction time reproduces), once across any number of instances (an
 * advisory lock, and the month's unique key); ListSnapshots and CreateSnapshot. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "idem.h"
#include "log.h"
#include "reporting.h"
#include "scope.h"
#include "val.h"

#define SNAPSHOT_LOCK "7525360424773576600" /* "one snapshot writer at a time", any instance */
#define COLS                                                                                                        \
  "record_id, managing_unit_id, unit_path, status, workflow_state, category, full_name, name_folded, birth_date, "  \
  "gender, ethnicity_code, religion_code, party_member, party_join_date, rank_code, salary_step, salary_coefficient, " \
  "salary_date, position_allowance, seniority_percent, responsibility_allowance, regional_allowance, "              \
  "other_allowances, position_code, position_date, degree_code, political_theory_code, state_management_code, "     \
  "it_class, english_class, other_language_class, ethnic_language, general_education, staffing_code, "              \
  "recruitment_date, official_date, home_town, professional_title, secondment_until, disciplines, missing_2c"

typedef Hoso__Reporting__V1__Snapshot snap_t;

static snap_t *snap_from(srv_ctx *ctx, PGresult *r, int i) {
  snap_t *s = srv_new(ctx, &hoso__reporting__v1__snapshot__descriptor);
  s->id = srv_strdup(ctx, PQgetvalue(r, i, 0));
  s->month = srv_strdup(ctx, PQgetvalue(r, i, 1));
  s->taken_at = srv_strdup(ctx, PQgetvalue(r, i, 2));
  s->records = strtoll(PQgetvalue(r, i, 3), NULL, 10);
  s->automatic = PQgetvalue(r, i, 4)[0] == 't';
  return s;
}

#define SNAP_SELECT                                                                                         \
  "SELECT id::text, to_char(month, 'YYYY-MM'), to_char(taken_at AT TIME ZONE 'UTC', "                       \
  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), records::text, automatic FROM snapshots "
/* The same columns for a caller who sees only part of the tree: the records of the snapshot in
 * the units row-level security shows it, never the whole
 * system's count (a district's reader learns nothing of the other districts' sizes). */
#define SNAP_SELECT_SCOPED                                                                                  \
  "SELECT id::text, to_char(month, 'YYYY-MM'), to_char(taken_at AT TIME ZONE 'UTC', "                       \
  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), (SELECT COALESCE(sum(c.records), 0) FROM snapshot_unit_counts c "      \
  "WHERE c.snapshot_id = snapshots.id)::text, automatic FROM snapshots "

/* Inside a transaction on the service's database with every unit in scope: the snapshot of
 * month (YYYY-MM-01), as known at the end of known_on (NULL: now). *out: the new snapshot, or
 * NULL when the month already has one. 0 / -1. */
static int take(srv_ctx *ctx, const char *month, const char *known_on, int automatic, snap_t **out) {
  *out = NULL;
  if (db_cmd(ctx->db, "SELECT pg_advisory_xact_lock($1::bigint)", 1, SNAPSHOT_LOCK) != 0) return -1;
  PGresult *r = db_q(ctx->db,
                     "INSERT INTO snapshots (month, automatic, taken_by) VALUES ($1::date, $2::boolean, $3) "
                     "ON CONFLICT (month) DO NOTHING RETURNING id::text",
                     3, month, automatic ? "t" : "f", ctx->auth ? ctx->auth->sub : "reporting");
  if (!r) return -1;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return 0;
  }
  const char *id = srv_strdup(ctx, PQgetvalue(r, 0, 0));
  PQclear(r);
  /* the published view, read on this connection: a snapshot is written where it is kept */
  r = db_q(ctx->db,
           "INSERT INTO snapshot_facts (snapshot_id, " COLS ") SELECT $1::bigint, " COLS
           " FROM records.report_facts WHERE valid_from <= $2::date AND valid_to > $2::date AND "
           "CASE WHEN $3::date IS NULL THEN known_to = 'infinity' "
           "ELSE known_from <= (($3::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') "
           "AND known_to > (($3::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') END",
           3, id, month, known_on);
  if (!r) return -1;
  const char *n = srv_strdup(ctx, PQcmdTuples(r));
  PQclear(r);
  if (db_cmd(ctx->db, "UPDATE snapshots SET records = $2::bigint WHERE id = $1::bigint", 2, id, n) != 0) return -1;
  if (db_cmd(ctx->db,
             "INSERT INTO snapshot_unit_counts (snapshot_id, unit_path, records) SELECT $1::bigint, unit_path, "
             "count(*) FROM snapshot_facts WHERE snapshot_id = $1::bigint GROUP BY unit_path",
             1, id) != 0)
    return -1;
  audit_entry e = {.action = "SNAPSHOT_TAKE", .target_type = "snapshot", .target_id = id};
  SRV_TRY(srv_audit(ctx, &e, json_pack("{s:s, s:b, s:s}", "month", month, "automatic", automatic, "records", n)));
  r = db_q(ctx->db, SNAP_SELECT "WHERE id = $1::bigint", 1, id);
  if (!r) return -1;
  *out = snap_from(ctx, r, 0);
  PQclear(r);
  log_info("snapshot %s of %.7s taken: %s records%s", id, month, n, automatic ? " (automatic)" : "");
  return 0;
}

/* ------------------------------------------------------------ the monthly job ----------- */

static srv_periodic *job;
static const tok_claims job_claims = {.sub = "reporting", .username = "reporting (monthly snapshot)", .scope = "*"};

typedef struct {
  char month[11], known_on[11];
  int missed;
} round_arg;

static int round_tx(srv_ctx *ctx, void *p) {
  round_arg *a = p;
  snap_t *s;
  return take(ctx, a->month, a->missed ? a->known_on : NULL, 1, &s);
}

/* The months due: the current one, and every month since the first snapshot that has none. */
static long monthly_round(srv_ctx *ctx, void *unused) {
  (void)unused;
  ctx->auth = &job_claims;
  ctx->request_id = "monthly-snapshot";
  rdate now = rp_today();
  char cur[32];
  snprintf(cur, sizeof cur, "%04d-%02d-01", now.y % 10000, now.m % 100);
  PGresult *r = db_q(ctx->db,
                     "SELECT to_char(m, 'YYYY-MM-DD') FROM generate_series("
                     "COALESCE((SELECT min(month) FROM snapshots), $1::date), $1::date, "
                     "interval '1 month') AS m WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.month = m::date) "
                     "ORDER BY m",
                     1, cur);
  if (!r) {
    log_warn("monthly snapshot: %s; trying again in a minute", db_err_message(ctx->db));
    return 60000;
  }
  int n = PQntuples(r);
  for (int i = 0; i < n; i++) {
    round_arg a = {.missed = strcmp(PQgetvalue(r, i, 0), cur) != 0};
    snprintf(a.month, sizeof a.month, "%s", PQgetvalue(r, i, 0));
    snprintf(a.known_on, sizeof a.known_on, "%s", a.month);
    if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", round_tx, &a) != 0) {
      grpc_status_code code;
      const char *msg = srv_fail_take(ctx, &code);
      log_warn("monthly snapshot of %.7s: %s; trying again in a minute", a.month, msg ? msg : "database error");
      PQclear(r);
      return 60000;
    }
  }
  PQclear(r);
  return cfg_int("HOSO_SNAPSHOT_CHECK_MS", 3600000, 100, 86400000);
}

int rp_snapshots_start(void) {
  return (job = srv_periodic_start("monthly-snapshot", "reporting", monthly_round, NULL,
                                   cfg_int("HOSO_SNAPSHOT_FIRST_MS", 1000, 0, 3600000)))
             ? 0
             : -1;
}

void rp_snapshots_stop(void) {
  srv_periodic_stop(job);
  job = NULL;
}

/* ------------------------------------------------------------ RPCs ---------------------- */

typedef struct {
  const char *after;
  int limit;
  Hoso__Reporting__V1__ListSnapshotsResponse *out;
} list_job;

static int list_tx(srv_ctx *ctx, void *p) {
  list_job *j = p;
  char lim[16];
  snprintf(lim, sizeof lim, "%d", j->limit + 1);
  /* the stored total is the whole tree's: only a caller whose scope is the whole tree gets it */
  int whole = ctx->auth && strcmp(ctx->auth->scope, "*") == 0;
  PGresult *r = db_q(ctx->db,
                     whole ? SNAP_SELECT "WHERE ($1::date IS NULL OR month < $1::date) ORDER BY month DESC LIMIT $2::int"
                           : SNAP_SELECT_SCOPED
                     "WHERE ($1::date IS NULL OR month < $1::date) ORDER BY month DESC LIMIT $2::int",
                     2, j->after, lim);
  if (!r) return -1;
  int n = PQntuples(r), take_n = n > j->limit ? j->limit : n;
  j->out->snapshots = srv_alloc(ctx, (size_t)(take_n ? take_n : 1) * sizeof *j->out->snapshots);
  for (int i = 0; i < take_n; i++) j->out->snapshots[j->out->n_snapshots++] = snap_from(ctx, r, i);
  if (n > j->limit) j->out->next_page_token = srv_page_token(ctx, srv_printf(ctx, "%s-01", PQgetvalue(r, take_n - 1, 1)));
  PQclear(r);
  return 0;
}

RP_HANDLER(rpc_list_snapshots) {
  const Hoso__Reporting__V1__ListSnapshotsRequest *in = (const void *)req;
  if (srv_need_right(ctx, RIGHT_READ, 0, "snapshots need a READER role or above")) return -1;
  list_job j = {NULL, val_page_size(in->page_size), NULL};
  if (in->page_token && *in->page_token) {
    char key[32];
    if (val_page_token_decode(in->page_token, key, sizeof key) != 0 || val_date(key))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    j.after = srv_strdup(ctx, key);
  }
  j.out = srv_new(ctx, &hoso__reporting__v1__list_snapshots_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, list_tx, &j) != 0) return -1;
  *resp = &j.out->base;
  return 0;
}

typedef struct {
  char month[11];
  const char *request_id;
  snap_t *out;
} create_job;

static int create_tx(srv_ctx *ctx, void *p) {
  create_job *j = p;
  char prev[64];
  int seen = j->request_id && *j->request_id ? idem_begin(ctx, j->request_id, prev, sizeof prev) : 0;
  if (seen < 0) return -1;
  if (seen == 0) {
    SRV_TRY(take(ctx, j->month, NULL, 0, &j->out));
    if (!j->out) return SRV_FAIL(ctx, GRPC_STATUS_ALREADY_EXISTS, "month: %.7s already has its snapshot (ListSnapshots)", j->month);
    if (j->request_id && *j->request_id) SRV_TRY(idem_done(ctx, j->request_id, j->out->id));
    return 0;
  }
  PGresult *r = db_q(ctx->db, SNAP_SELECT "WHERE id = $1::bigint", 1, prev);
  if (!r) return -1;
  if (PQntuples(r) == 1) j->out = snap_from(ctx, r, 0);
  PQclear(r);
  return 0;
}

RP_HANDLER(rpc_create_snapshot) {
  const Hoso__Reporting__V1__CreateSnapshotRequest *in = (const void *)req;
  if (!ctx->auth || !(ctx->auth->roles & ROLE_SYSTEM_ADMIN))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "taking a snapshot needs the SYSTEM_ADMIN role");
  if (srv_check_request_id(ctx, in->request_id)) return -1;
  create_job j = {.request_id = in->request_id};
  rdate now = rp_today();
  char cur[32];
  snprintf(cur, sizeof cur, "%04d-%02d", now.y % 10000, now.m % 100);
  const char *m = in->month && *in->month ? in->month : cur;
  char day[16];
  snprintf(day, sizeof day, "%.7s-01", m);
  if (strlen(m) != 7 || val_date(day))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "month: must be YYYY-MM (got \"%.20s\")", m);
  if (strcmp(m, cur) > 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "month: %s is in the future", m);
  if (strcmp(m, "1945-01") < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "month: before 1945");
  snprintf(j.month, sizeof j.month, "%.10s", day);
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", create_tx, &j) != 0) return -1;
  Hoso__Reporting__V1__CreateSnapshotResponse *out = srv_new(ctx, &hoso__reporting__v1__create_snapshot_response__descriptor);
  out->snapshot = j.out;
  *resp = &out->base;
  return 0;
}
