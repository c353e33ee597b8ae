/* ImportRecords: a CSV, JSON or binary batch of new dossiers for one unit, every row validated,
 * all of it stored in one transaction or none of it, with one audit row for the batch. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "import_gate.h"
#include "import_parse.h"
#include "log.h"
#include "records.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_batch.h"

/* The gRPC message limit of the runtime is 4 MiB; content says so by itself when a client
 * builds a message that just fits. */
#define CONTENT_MAX (4u << 20)
#define VALIDATE_PREFIX "record"

typedef Hoso__Records__V1__ImportRecordsRequest import_req;
typedef Hoso__Records__V1__ImportRecordsResponse import_resp;
typedef Hoso__Records__V1__ImportError import_err;

typedef struct {
  const import_req *in;
  char path[UNIT_TREE_PATH_MAX];
  import_result res;
  size_t parse_errors, parse_dropped; /* what the parser found, before validation adds to it */
  rec_t **recs; /* the parsed rows, ready to store */
  import_resp *out;
} import_st;

/* "record.personal.ethnicity_code: unknown code ..." → field "personal.ethnicity_code" and the
 * message after the colon; a message without that shape is kept whole. */
static void report_invalid(import_result *res, int line, const char *msg) {
  const char *p = msg, *colon = strstr(msg, ": ");
  size_t pre = strlen(VALIDATE_PREFIX);
  if (strncmp(p, VALIDATE_PREFIX, pre) == 0 && (p[pre] == '.' || p[pre] == ':')) p += pre + (p[pre] == '.');
  if (!colon || colon < p) {
    import_error(res, line, "", "%s", msg);
    return;
  }
  char field[512];
  snprintf(field, sizeof field, "%.*s", (int)(colon - p), p);
  import_error(res, line, field, "%s", colon + 2);
}

/* Errors in file order: the parser's come first, then validation's, each in order. */
static int by_line(const void *a, const void *b) {
  const import_err *x = *(import_err *const *)a, *y = *(import_err *const *)b;
  return (x->line > y->line) - (x->line < y->line);
}

/* The rows as records of the unit, validated. A row that fails becomes an ImportError; any
 * other failure (database, deadline) fails the call. 0 / DB_TX_ROLLBACK. */
static int validate_rows(srv_ctx *ctx, import_st *st) {
  import_result *res = &st->res;
  /* In the arena, like every field of a message: st lives on the handler's stack. */
  char *path = srv_strdup(ctx, st->path);
  for (size_t i = 0; i < res->n_rows; i++) {
    if (i % IMPORT_STOP_EVERY == 0 && i > 0 && srv_client_gone(ctx)) {
      log_info("ImportRecords: stopped validating at row %zu of %zu: the client has gone", i, res->n_rows);
      srv_fail(ctx, GRPC_STATUS_CANCELLED, "the client gave up; nothing was imported");
      return DB_TX_ROLLBACK;
    }
    /* The parsed record itself (in the call's arena): everything done to it here, and the
     * NFC normalization of rec_validate, gives the same result when the body runs again after
     * a serialization failure. The workflow fields are the service's, whatever the file said
     * (004 Đ10). */
    rec_t *r = res->rows[i].record;
    r->id = "";
    r->version = 0;
    r->managing_unit_id = st->in->unit_id;
    r->workflow_state = HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT;
    r->verified = 0;
    r->approved_by = r->approved_at = r->created_at = r->updated_at = "";
    if (r->status == HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_UNSPECIFIED)
      r->status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
    if (rec_validate(ctx, r, VALIDATE_PREFIX) != 0) {
      grpc_status_code code = GRPC_STATUS_UNKNOWN;
      const char *msg = srv_fail_take(ctx, &code);
      if (code != GRPC_STATUS_INVALID_ARGUMENT) {
        srv_fail(ctx, code, "%s", msg ? msg : "");
        return DB_TX_ROLLBACK;
      }
      report_invalid(res, res->rows[i].line, msg ? msg : "");
      continue;
    }
    r->managing_unit_path = path;
    st->recs[i] = r;
  }
  return 0;
}

/* The ids a first call stored, as idempotency keeps them: "<rows>:<id>,<id>,...". */
static char *ids_text(const import_st *st, size_t n) {
  size_t cap = 24;
  for (size_t i = 0; i < n; i++) cap += strlen(st->recs[i]->id) + 1;
  char *s = malloc(cap);
  if (!s) return NULL;
  size_t o = (size_t)snprintf(s, cap, "%zu:", st->res.n_read);
  for (size_t i = 0; i < n; i++) o += (size_t)snprintf(s + o, cap - o, i ? ",%s" : "%s", st->recs[i]->id);
  return s;
}

static int replay(srv_ctx *ctx, import_st *st, const char *prev) {
  import_resp *o = st->out;
  char *end = NULL;
  o->rows = (int32_t)strtol(prev, &end, 10);
  if (!end || *end != ':') {
    log_error("ImportRecords: unreadable idempotency result \"%.40s\"", prev);
    srv_fail_internal(ctx);
    return DB_TX_ROLLBACK;
  }
  size_t n = 0;
  for (const char *p = end + 1; *p; p++) n += *p == ',';
  if (end[1]) n++;
  o->record_ids = srv_alloc(ctx, (n ? n : 1) * sizeof *o->record_ids);
  char *s = srv_strdup(ctx, end + 1), *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) o->record_ids[o->n_record_ids++] = t;
  o->imported = (int32_t)o->n_record_ids;
  return 0;
}

static int audit_batch(srv_ctx *ctx, const import_st *st, size_t n) {
  json_t *ids = json_array();
  for (size_t i = 0; ids && i < n; i++) json_array_append_new(ids, json_string(st->recs[i]->id));
  /* The ids themselves, not only their range: another writer's records may lie between the
   * first and the last, and who created whom must be answerable from the log alone. */
  json_t *d = json_pack("{s:s, s:I, s:s, s:s, s:o}", "unit_id", st->in->unit_id, "count", (json_int_t)n,
                        "first_id", st->recs[0]->id, "last_id", st->recs[n - 1]->id, "ids", ids);
  audit_entry e = {.action = "RECORD_IMPORT", .target_type = "unit", .target_id = st->in->unit_id,
                   .unit_path = st->path};
  return srv_audit(ctx, &e, d) != 0 ? -1 : 0;
}

static int import_tx(srv_ctx *ctx, void *p) {
  import_st *st = p;
  import_resp *o = st->out;
  /* A retried body starts again from what the parser found. */
  st->res.n_errors = st->parse_errors;
  st->res.errors_dropped = st->parse_dropped;
  o->n_record_ids = 0;
  o->imported = 0;

  SRV_TRY(validate_rows(ctx, st));
  if (st->res.n_errors || st->res.errors_dropped || st->in->dry_run) return 0;

  /* After validation: a claimed key must only be kept by a batch that is stored. */
  if (*st->in->request_id) {
    /* Room for the ids of the largest batch the parser lets through. */
    size_t cap = (size_t)IMPORT_MAX_ROWS * 21 + 32;
    char *prev = malloc(cap);
    if (!prev) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry"), DB_TX_ROLLBACK;
    int seen = idem_begin(ctx, st->in->request_id, prev, cap);
    int rc = seen < 0 ? -1 : seen == 1 ? replay(ctx, st, prev) : 0;
    free(prev);
    if (rc != 0 || seen == 1) return rc;
  }

  size_t n = st->res.n_rows;
  if (n == 0) return 0;
  SRV_TRY(batch_insert(ctx, st->recs, n, "IMPORT"));
  SRV_TRY(audit_batch(ctx, st, n));
  char *ids = ids_text(st, n);
  if (!ids) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry"), DB_TX_ROLLBACK;
  int rc = idem_done(ctx, st->in->request_id, ids) != 0 ? -1 : 0;
  free(ids);
  if (rc) return rc;
  o->record_ids = srv_alloc(ctx, n * sizeof *o->record_ids);
  for (size_t i = 0; i < n; i++) o->record_ids[o->n_record_ids++] = st->recs[i]->id;
  o->imported = (int32_t)n;
  return 0;
}

static int client_gone(void *ctx) { return srv_client_gone(ctx); }

/* The parse and the transaction, inside the gate. 0 / -1 (status set). */
static int parse_and_store(srv_ctx *ctx, import_st *st) {
  const import_req *in = st->in;
  if (import_parse_until(in->format, in->content.data, in->content.len, srv_allocator(ctx), client_gone, ctx,
                         &st->res) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "format: not a format this service reads");
  if (st->res.stopped) {
    log_info("ImportRecords: stopped reading at row %zu: the client has gone", st->res.n_read);
    return srv_fail(ctx, GRPC_STATUS_CANCELLED, "the client gave up; nothing was imported");
  }
  /* A file whose records would take more memory than one import may is refused whole. */
  if (st->res.refused[0]) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", st->res.refused);
  st->parse_errors = st->res.n_errors;
  st->parse_dropped = st->res.errors_dropped;
  st->recs = srv_alloc(ctx, (st->res.n_rows ? st->res.n_rows : 1) * sizeof *st->recs);
  st->out = srv_new(ctx, &hoso__records__v1__import_records_response__descriptor);
  return srv_tx(ctx, DB_READ_COMMITTED, import_tx, st) != 0 ? -1 : 0;
}

int rpc_import_records(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const import_req *in = (const void *)req;
  import_st st = {.in = in};
  if (srv_check_id(ctx, "unit_id", in->unit_id) || srv_check_request_id(ctx, in->request_id)) return -1;
  if (in->format != HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV &&
      in->format != HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON &&
      in->format != HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "format: must be IMPORT_FORMAT_CSV, IMPORT_FORMAT_JSON or IMPORT_FORMAT_PROTO");
  if (in->content.len == 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "content: must not be empty");
  if (in->content.len > CONTENT_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "content: %zu bytes is more than 4 MiB; split the file into several imports",
                    (size_t)in->content.len);
  if (srv_need_right(ctx, RIGHT_UPDATE, 0, "importing records needs the UPDATER role")) return -1;
  /* Asked of identity before the transaction, so no lock waits on another service. */
  if (unit_tree_path(ctx, "unit_id", in->unit_id, st.path)) return -1;
  if (!scope_allows(ctx->auth, st.path, RIGHT_UPDATE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "unit_id: unit %s is outside your scope; records are imported by the updaters of "
                    "their own unit or a unit above it",
                    in->unit_id);

  /* One import may take IMPORT_MAX_MEMORY; the gate bounds how many do at once in this process. */
  if (import_gate_enter(ctx) != 0) return -1;
  int rc = parse_and_store(ctx, &st);
  import_gate_leave();
  if (rc != 0) return -1;

  import_resp *o = st.out;
  if (!o->rows) o->rows = (int32_t)st.res.n_read;
  size_t ne = st.res.n_errors, extra = st.res.errors_dropped ? 1 : 0;
  o->errors = srv_alloc(ctx, (ne + extra ? ne + extra : 1) * sizeof *o->errors);
  if (ne) memcpy(o->errors, st.res.errors, ne * sizeof *o->errors);
  qsort(o->errors, ne, sizeof *o->errors, by_line);
  if (extra) {
    import_err *e = srv_new(ctx, &hoso__records__v1__import_error__descriptor);
    e->field = "";
    e->message = srv_printf(ctx, "%zu more errors not listed (the first %d are); fix these and import again",
                            st.res.errors_dropped, IMPORT_MAX_ERRORS);
    o->errors[ne++] = e;
  }
  o->n_errors = ne;
  *resp = &o->base;
  return 0;
}
