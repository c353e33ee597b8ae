/* The change requests' SQL: insert, find (scoped or not), decide, keyset pages and the move
 * that follows a record to its new unit. Messages are kept as their proto3 JSON (pbjson). */
#include "store_change_requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pbjson.h"

#define TS(col) "coalesce(to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"

/* The columns every read takes, in this order (cr_from_row's indexes). */
#define CR_COLS                                                                             \
  "id::text, record_id::text, unit_path::text, state, base_version, note, submitted_by, "   \
  TS("submitted_at") ", " TS("due_at") ", decided_by, " TS("decided_at") ", decision_reason, " \
  "proposal::text"
enum { C_ID, C_RECORD, C_PATH, C_STATE, C_BASE_VERSION, C_NOTE, C_BY, C_AT, C_DUE, C_DEC_BY, C_DEC_AT,
       C_REASON, C_PROPOSAL, C_BASE };

/* Stored JSON back into a message in the arena. Fields a later contract dropped are skipped so
 * old requests stay readable; anything else not decoding is a fault worth the log. */
static ProtobufCMessage *decode(srv_ctx *ctx, const ProtobufCMessageDescriptor *d, const PGresult *r, int row,
                                int col) {
  char err[256];
  ProtobufCMessage *m = pbjson_decode(d, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col),
                                      PBJSON_IGNORE_UNKNOWN, srv_allocator(ctx), err, sizeof err);
  if (!m) log_error("change_requests: a stored %s does not decode: %s", d->name, err);
  return m;
}

/* JSON text of m for a jsonb parameter, in the arena. NULL on out of memory. */
static const char *encode(srv_ctx *ctx, const ProtobufCMessage *m) {
  char *s = pbjson_encode(m, PBJSON_ORIG_NAMES);
  if (!s) return NULL;
  const char *out = srv_strdup(ctx, s);
  free(s);
  return out;
}

static cr_t *cr_from_row(srv_ctx *ctx, const PGresult *r, int row) {
  cr_t *cr = (cr_t *)decode(ctx, &hoso__records__v1__change_request__descriptor, r, row, C_PROPOSAL);
  if (!cr) return NULL;
  cr->id = srv_strdup(ctx, PQgetvalue(r, row, C_ID));
  cr->record_id = srv_strdup(ctx, PQgetvalue(r, row, C_RECORD));
  cr->state = (Hoso__Records__V1__ChangeRequestState)atoi(PQgetvalue(r, row, C_STATE));
  cr->base_version = strtoll(PQgetvalue(r, row, C_BASE_VERSION), NULL, 10);
  cr->note = srv_strdup(ctx, PQgetvalue(r, row, C_NOTE));
  cr->submitted_by = srv_strdup(ctx, PQgetvalue(r, row, C_BY));
  cr->submitted_at = srv_strdup(ctx, PQgetvalue(r, row, C_AT));
  cr->due_at = srv_strdup(ctx, PQgetvalue(r, row, C_DUE));
  cr->decided_by = srv_strdup(ctx, PQgetvalue(r, row, C_DEC_BY));
  cr->decided_at = srv_strdup(ctx, PQgetvalue(r, row, C_DEC_AT));
  cr->decision_reason = srv_strdup(ctx, PQgetvalue(r, row, C_REASON));
  return cr;
}

int change_requests_insert(srv_ctx *ctx, cr_t *cr, const rec_t *base, const char *unit_path) {
  /* Only what the columns do not hold goes into the JSON. */
  cr_t stored = HOSO__RECORDS__V1__CHANGE_REQUEST__INIT;
  stored.proposed = cr->proposed;
  stored.changes = cr->changes;
  stored.n_changes = cr->n_changes;
  const char *proposal = encode(ctx, &stored.base), *base_json = encode(ctx, &base->base);
  if (!proposal || !base_json) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
  char bv[24];
  snprintf(bv, sizeof bv, "%lld", (long long)cr->base_version);
  PGresult *r = db_q(ctx->db,
                     "INSERT INTO change_requests (record_id, unit_path, base_version, note, submitted_by, "
                     "proposal, base) VALUES ($1::bigint, $2::public.ltree, $3::bigint, $4, $5, $6::jsonb, "
                     "$7::jsonb) RETURNING id::text, state, " TS("submitted_at") ", " TS("due_at"),
                     7, cr->record_id, unit_path, bv, cr->note ? cr->note : "", cr->submitted_by, proposal,
                     base_json);
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) != 1) {
    rc = srv_fail_internal(ctx);
  } else {
    cr->id = srv_strdup(ctx, PQgetvalue(r, 0, 0));
    cr->state = (Hoso__Records__V1__ChangeRequestState)atoi(PQgetvalue(r, 0, 1));
    cr->submitted_at = srv_strdup(ctx, PQgetvalue(r, 0, 2));
    cr->due_at = srv_strdup(ctx, PQgetvalue(r, 0, 3));
  }
  PQclear(r);
  return rc;
}

int change_requests_find(srv_ctx *ctx, const char *id, int lock, cr_row *out) {
  static const char *const sql[2] = {
      "SELECT " CR_COLS ", base::text FROM change_requests WHERE id = $1::bigint",
      "SELECT " CR_COLS ", base::text FROM change_requests WHERE id = $1::bigint FOR UPDATE",
  };
  memset(out, 0, sizeof *out);
  PGresult *r = db_q(ctx->db, sql[lock ? 1 : 0], 1, id);
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) == 1) {
    out->cr = cr_from_row(ctx, r, 0);
    out->base = (rec_t *)decode(ctx, &hoso__records__v1__record__descriptor, r, 0, C_BASE);
    out->unit_path = srv_strdup(ctx, PQgetvalue(r, 0, C_PATH));
    rc = out->cr && out->base ? 1 : srv_fail_internal(ctx);
  }
  PQclear(r);
  return rc;
}

typedef struct {
  const char *id;
  int exists;
} exists_st;

static int exists_tx(srv_ctx *ctx, void *p) {
  exists_st *e = p;
  PGresult *r = db_q(ctx->db, "SELECT 1 FROM change_requests WHERE id = $1::bigint", 1, e->id);
  if (!r) return -1;
  e->exists = PQntuples(r) == 1;
  PQclear(r);
  return 0;
}

int change_requests_exist_anywhere(srv_ctx *ctx, const char *id) {
  exists_st e = {.id = id};
  return srv_all_units(ctx, exists_tx, &e) != 0 ? -1 : e.exists;
}

int change_requests_decide(srv_ctx *ctx, cr_row *row, int state, const char *reason, int64_t applied_version) {
  char st[8], av[24];
  snprintf(st, sizeof st, "%d", state);
  snprintf(av, sizeof av, "%lld", (long long)applied_version);
  PGresult *r = db_q(ctx->db,
                     "UPDATE change_requests SET state = $2::smallint, decided_by = $3, decided_at = now(), "
                     "decision_reason = $4, applied_version = nullif($5::bigint, 0) "
                     "WHERE id = $1::bigint AND state = 1 RETURNING " TS("decided_at"),
                     5, row->cr->id, st, ctx->auth->sub, reason ? reason : "", av);
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) != 1) {
    rc = srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                  "change_request_id: change request %s was decided by someone else meanwhile; reload it",
                  row->cr->id);
  } else {
    row->cr->state = (Hoso__Records__V1__ChangeRequestState)state;
    row->cr->decided_by = (char *)ctx->auth->sub;
    row->cr->decided_at = srv_strdup(ctx, PQgetvalue(r, 0, 0));
    row->cr->decision_reason = (char *)(reason ? reason : "");
  }
  PQclear(r);
  return rc;
}

int change_requests_list(srv_ctx *ctx, const cr_filter *f, cr_t ***out, size_t *n, int *more) {
  char st[8], lim[16];
  snprintf(st, sizeof st, "%d", f->state);
  snprintf(lim, sizeof lim, "%d", f->limit + 1);
  *out = NULL;
  *n = 0;
  *more = 0;
  PGresult *r = db_q(ctx->db,
                     "SELECT " CR_COLS " FROM change_requests "
                     "WHERE ($1::public.ltree IS NULL OR unit_path OPERATOR(public.<@) $1::public.ltree) "
                     "AND ($2::bigint IS NULL OR record_id = $2::bigint) "
                     "AND ($3::smallint = 0 OR state = $3::smallint) "
                     "AND ($4::bigint IS NULL OR id > $4::bigint) ORDER BY id LIMIT $5::int",
                     5, f->root_path, f->record_id, st, f->after_id, lim);
  if (!r) return -1;
  int rows = PQntuples(r), take = rows > f->limit ? f->limit : rows, rc = 0;
  *out = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof **out);
  for (int i = 0; i < take && rc == 0; i++) {
    cr_t *cr = cr_from_row(ctx, r, i);
    if (cr)
      (*out)[(*n)++] = cr;
    else
      rc = srv_fail_internal(ctx);
  }
  *more = rows > f->limit;
  PQclear(r);
  return rc;
}

int change_requests_follow_record(srv_ctx *ctx, const char *record_id, const char *new_path) {
  return db_cmd(ctx->db,
                "UPDATE change_requests SET unit_path = $2::public.ltree WHERE record_id = $1::bigint "
                "AND unit_path <> $2::public.ltree",
                2, record_id, new_path);
}
