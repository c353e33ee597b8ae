/* RunReport: a template filled for a unit and a day — the rows read on the read connection (one
 * row per unit below: kept per-leaf counts with the changed leaves re-counted, kept.c, or one
 * aggregation; or one row per person), written row by row into an XLSX, PDF or CSV file that
 * is then streamed in chunks and removed; audited with the template's version (and the leaves
 * counted, kept in the audit row's transaction). The first chunk says the file's size. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "pred.h"
#include "reporting.h"
#include "scope.h"
#include "kept.h"
#include "tpl.h"

typedef Hoso__Reporting__V1__RunReportRequest run_req;

static const char *const types[] = {"", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                    "application/pdf", "text/csv; charset=utf-8"};
static const char *const exts[] = {"", "xlsx", "pdf", "csv"};

typedef struct {
  tpl *t;
  rp_when w;
  rp_unit u;
  rp_unit *units; /* u and the units directly below (rows: units) or the whole subtree (people) */
  size_t n_units;
  doc_writer *out;
  long long rows;
  db_conn *own;  /* reporting's own connection: the kept counts */
  rp_kept kept;  /* leaves counted by this report, kept with the audit row */
  char err[300];
} run_job;

static const char *unit_name(const run_job *j, const char *id) {
  for (size_t i = 0; i < j->n_units; i++)
    if (!strcmp(j->units[i].id, id)) return j->units[i].name;
  return "";
}

static PGresult *run(srv_ctx *ctx, qb *q) {
  if (q->oom) {
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "the report's query is too large");
    return NULL;
  }
  return db_exec(ctx->db, q->sql, q->n, (const char *const *)q->params);
}

/* The population's WHERE (a list of people). */
static int population(run_job *j, qb *q) {
  rp_from_where(q, &j->w, &j->u, NULL, 0, NULL);
  qb_add(q, " AND ");
  return pred_sql(q, j->t->population, j->w.day, "definition.population", j->err, sizeof j->err);
}

/* The plain aggregation: every person of the day visited, grouped by the unit below. */
static int plain_rows(srv_ctx *ctx, run_job *j, rp_rows *out) {
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT ");
  rp_unit_key_sql(&q, &j->u);
  int bad = rp_counts_sql(&q, j->t, &j->w, &j->u, j->err, sizeof j->err);
  qb_add(&q, " GROUP BY 1");
  if (bad) {
    qb_free(&q);
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "template: %s", j->err);
  }
  PGresult *r = run(ctx, &q);
  qb_free(&q);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  memset(out, 0, sizeof *out);
  for (size_t c = 0; c < j->t->n_cols; c++) out->n_vals += j->t->cols[c].kind == TPL_COUNT || j->t->cols[c].kind == TPL_SUM;
  out->n = (size_t)PQntuples(r);
  out->key = srv_alloc(ctx, (out->n ? out->n : 1) * sizeof *out->key);
  out->v = srv_alloc(ctx, (out->n ? out->n : 1) * (out->n_vals ? out->n_vals : 1) * sizeof *out->v);
  for (size_t i = 0; i < out->n; i++) {
    out->key[i] = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    for (size_t c = 0; c < out->n_vals; c++)
      out->v[i * out->n_vals + c] =
          PQgetisnull(r, (int)i, (int)c + 1) ? 0 : strtod(PQgetvalue(r, (int)i, (int)c + 1), NULL);
  }
  PQclear(r);
  return 0;
}

static int units_tx(srv_ctx *ctx, void *p) {
  run_job *j = p;
  rp_rows rows;
  int rc;
  j->kept.n = 0;
  if (rp_kept_applies(j->t, &j->w))
    rc = rp_kept_rows(ctx, j->own, j->t, &j->w, &j->u, &j->kept, &rows, j->err, sizeof j->err);
  else
    rc = plain_rows(ctx, j, &rows);
  if (rc != 0) return rc;
  /* rows in the tree's order: the units below, then the unit's own people when it has any */
  size_t n = j->t->n_cols;
  doc_cell *cells = srv_alloc(ctx, n * sizeof *cells);
  double *total = srv_alloc(ctx, n * sizeof *total);
  memset(total, 0, n * sizeof *total);
  int seq = 0, quota_sum = 0;
  for (size_t pass = 0; pass < 2; pass++)
    for (size_t ui = 0; ui < j->n_units; ui++) {
      const rp_unit *un = &j->units[ui];
      int self = !strcmp(un->id, j->u.id);
      if ((pass == 0) == self) continue;
      int row = -1;
      for (size_t i = 0; i < rows.n && row < 0; i++)
        if (!strcmp(rows.key[i], un->id)) row = (int)i;
      if (self && row < 0) continue;
      char *stt = srv_printf(ctx, "%d", ++seq);
      int k = 1;
      for (size_t c = 0; c < n; c++) {
        const tpl_col *col = &j->t->cols[c];
        doc_cell *x = &cells[c];
        memset(x, 0, sizeof *x);
        switch (col->kind) {
        case TPL_SEQ: *x = (doc_cell){DOC_TEXT, stt, 0}; break;
        case TPL_ROW_NAME: *x = (doc_cell){DOC_TEXT, self ? srv_printf(ctx, "%s (trực thuộc)", un->name) : un->name, 0}; break;
        case TPL_QUOTA:
          if (!self) {
            *x = (doc_cell){DOC_NUM, NULL, un->quota};
            quota_sum += un->quota;
          }
          break;
        case TPL_COUNT:
        case TPL_SUM:
          x->kind = DOC_NUM;
          x->num = row >= 0 ? rows.v[(size_t)row * rows.n_vals + (size_t)(k - 1)] : 0;
          total[c] += x->num;
          k++;
          break;
        default: break;
        }
      }
      if (j->out->row(j->out, cells, DOC_ROW) != 0)
        return SRV_FAIL(ctx, GRPC_STATUS_INTERNAL, "internal error writing the report (request id %s)", ctx->request_id);
      j->rows++;
    }
  for (size_t c = 0; c < n; c++) {
    const tpl_col *col = &j->t->cols[c];
    memset(&cells[c], 0, sizeof cells[c]);
    if (col->kind == TPL_ROW_NAME) cells[c] = (doc_cell){DOC_TEXT, "Tổng cộng", 0};
    if (col->kind == TPL_QUOTA) cells[c] = (doc_cell){DOC_NUM, NULL, j->u.quota > 0 ? j->u.quota : quota_sum};
    if (col->kind == TPL_COUNT || col->kind == TPL_SUM) cells[c] = (doc_cell){DOC_NUM, NULL, total[c]};
  }
  return j->out->row(j->out, cells, DOC_ROW_TOTAL) == 0
             ? 0
             : SRV_FAIL(ctx, GRPC_STATUS_INTERNAL, "internal error writing the report (request id %s)", ctx->request_id);
}

static int people_tx(srv_ctx *ctx, void *p) {
  run_job *j = p;
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT f.managing_unit_id::text");
  for (size_t c = 0; c < j->t->n_cols; c++) {
    const tpl_col *col = &j->t->cols[c];
    if (col->kind != TPL_FIELD) continue;
    const tpl_field *fd = tpl_find_field(col->field);
    const char *sql = !strcmp(col->field, "unit_name") ? "''" : fd->sql;
    if (col->when) {
      qb_add(&q, ", CASE WHEN ");
      if (pred_sql(&q, col->when, j->w.day, "definition.columns", j->err, sizeof j->err) != 0) break;
      qb_add(&q, " THEN (%s)::text END", sql);
    } else {
      qb_add(&q, ", (%s)::text", sql);
    }
  }
  if (!j->err[0] && population(j, &q) != 0) j->err[0] = j->err[0] ? j->err[0] : '?';
  qb_add(&q, " ORDER BY f.unit_path, f.name_folded, f.record_id");
  if (j->err[0]) {
    qb_free(&q);
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "template: %s", j->err);
  }
  PGresult *r = run(ctx, &q);
  qb_free(&q);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  size_t n = j->t->n_cols;
  doc_cell *cells = srv_alloc(ctx, n * sizeof *cells);
  char stt[24];
  for (int i = 0; i < PQntuples(r); i++) {
    snprintf(stt, sizeof stt, "%d", i + 1);
    int k = 1;
    for (size_t c = 0; c < n; c++) {
      const tpl_col *col = &j->t->cols[c];
      memset(&cells[c], 0, sizeof cells[c]);
      if (col->kind == TPL_SEQ) cells[c] = (doc_cell){DOC_TEXT, stt, 0};
      if (col->kind != TPL_FIELD) continue;
      int nul = PQgetisnull(r, i, k);
      const char *v = PQgetvalue(r, i, k++);
      const tpl_field *fd = tpl_find_field(col->field);
      if (!strcmp(col->field, "unit_name") && (!col->when || !nul))
        cells[c] = (doc_cell){DOC_TEXT, unit_name(j, PQgetvalue(r, i, 0)), 0};
      else if (!nul && fd->numeric)
        cells[c] = (doc_cell){DOC_NUM, NULL, strtod(v, NULL)};
      else if (!nul && *v)
        cells[c] = (doc_cell){DOC_TEXT, v, 0};
    }
    if (j->out->row(j->out, cells, DOC_ROW) != 0) {
      PQclear(r);
      return SRV_FAIL(ctx, GRPC_STATUS_INTERNAL, "internal error writing the report (request id %s)", ctx->request_id);
    }
    j->rows++;
  }
  PQclear(r);
  return 0;
}

/* The whole subtree's units (names of the people's units), or u and the units directly below. */
static int units_of(srv_ctx *ctx, run_job *j) {
  return rp_unit_children(ctx, &j->u, j->t->people ? 0 : 2, &j->units, &j->n_units);
}

static ProtobufCMessage *as_is(srv_ctx *ctx, Hoso__Reporting__V1__FileChunk *c) {
  (void)ctx;
  return &c->base;
}

int rp_send_file(srv_ctx *ctx, const char *path, const char *file_name, const char *content_type,
                 ProtobufCMessage *(*wrap)(srv_ctx *, Hoso__Reporting__V1__FileChunk *)) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    log_error("reporting: cannot read back %s", path);
    unlink(path);
    return srv_fail_internal(ctx);
  }
  /* the file is whole before its first byte goes: its length travels with the first chunk */
  struct stat sb;
  int64_t size = fstat(fileno(f), &sb) == 0 && sb.st_size > 0 ? (int64_t)sb.st_size : 0;
  enum { CHUNK = 256 * 1024 };
  uint8_t *buf = srv_alloc(ctx, CHUNK);
  int first = 1, rc = 0;
  for (;;) {
    size_t got = fread(buf, 1, CHUNK, f);
    if (got == 0 && !first) break;
    Hoso__Reporting__V1__FileChunk c = HOSO__REPORTING__V1__FILE_CHUNK__INIT;
    if (first) {
      c.file_name = (char *)file_name;
      c.content_type = (char *)content_type;
      c.size = size;
    }
    c.chunk.data = buf;
    c.chunk.len = got;
    if ((rc = srv_send(ctx, wrap(ctx, &c))) != 0) break;
    first = 0;
    if (got < CHUNK) break;
  }
  fclose(f);
  unlink(path);
  return rc;
}

/* A temporary file for the document: TMPDIR or /tmp. *path in the arena. */
static int temp_file(srv_ctx *ctx, const char *ext, char **path) {
  const char *dir = getenv("TMPDIR");
  char *p = srv_printf(ctx, "%s/hoso-report-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(p);
  if (fd < 0) return -1;
  close(fd);
  unlink(p);
  *path = srv_printf(ctx, "%s.%s", p, ext);
  return 0;
}

typedef struct {
  const run_job *j;
  const Hoso__Reporting__V1__ReportTemplate *t;
  int format;
} audit_arg;

static int audit_tx(srv_ctx *ctx, void *p) {
  audit_arg *a = p;
  audit_entry e = {.action = "REPORT_RUN", .target_type = "unit", .target_id = a->j->u.id, .unit_path = a->j->u.path};
  json_t *d = json_pack("{s:s, s:I, s:s, s:s, s:I, s:I}", "template", a->t->code, "template_version",
                        (json_int_t)a->t->version, "as_of", a->j->w.as_of, "format", exts[a->format], "rows",
                        (json_int_t)a->j->rows, "snapshot_id", (json_int_t)a->j->w.snapshot);
  if (d && a->j->w.known_on[0]) json_object_set_new(d, "known_on", json_string(a->j->w.known_on));
  if (d && a->j->kept.code) {
    json_object_set_new(d, "counted_leaves", json_integer((json_int_t)a->j->kept.counted));
    if (rp_kept_save(ctx, a->j->w.as_of, &a->j->kept) != 0) {
      json_decref(d);
      return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
    }
  }
  return srv_audit(ctx, &e, d);
}

RP_HANDLER(rpc_run_report) {
  const run_req *in = (const run_req *)req;
  run_job j;
  memset(&j, 0, sizeof j);
  const char *signer = NULL, *prepared = NULL;
  if (srv_need_right(ctx, RIGHT_READ, 0, "reports need a READER role or above")) return -1;
  if (in->format < 1 || in->format > 3)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "format: one of FORMAT_XLSX, FORMAT_PDF, FORMAT_CSV");
  if (srv_clean_text(ctx, "signer_name", in->signer_name, 0, 100, &signer) ||
      srv_clean_text(ctx, "prepared_by", in->prepared_by, 0, 100, &prepared) || rp_when_check(ctx, in->when, &j.w))
    return -1;
  Hoso__Reporting__V1__ReportTemplate *t = NULL;
  if (rp_template_get(ctx, "template", in->template_, 0, &t)) return -1;
  char err[512];
  if (tpl_parse(t->definition, "template", &j.t, err, sizeof err) != 0) {
    log_error("reporting: stored template %s does not parse: %s", t->code, err);
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "template: the stored definition is not valid (%s); fix it with "
                    "UpsertReportTemplate", err);
  }
  int rc = -1;
  char *path = NULL;
  if (rp_unit_resolve(ctx, in->unit_id, &j.u) || units_of(ctx, &j)) goto out;
  j.own = ctx->db;
  if (rp_kept_applies(j.t, &j.w)) j.kept = (rp_kept){.code = t->code, .version = t->version};
  char today[11];
  rdate_fmt(rp_today(), today);
  tpl_vars v = {.unit_name = j.u.name, .parent_name = "", .as_of = j.w.as_of, .signer_name = signer,
                .prepared_by = prepared, .place = "", .today = today};
  doc_form form;
  doc_col *cols = srv_alloc(ctx, (j.t->n_cols ? j.t->n_cols : 1) * sizeof *cols);
  char *keep[64];
  size_t n_keep = 0;
  tpl_form(j.t, &v, &form, cols, keep, &n_keep);
  if (temp_file(ctx, exts[in->format], &path) != 0) {
    rc = srv_fail_internal(ctx);
    log_error("reporting: no temporary file for a report");
  } else if (!(j.out = doc_open(in->format, &form, path, err, sizeof err))) {
    log_error("reporting: %s", err);
    rc = srv_fail_internal(ctx);
  } else if (rp_read_tx(ctx, j.t->people ? people_tx : units_tx, &j) != 0) {
    j.out->abort(j.out);
    unlink(path);
  } else if (j.out->close(j.out) != 0) {
    log_error("reporting: writing %s failed", path);
    unlink(path);
    rc = srv_fail_internal(ctx);
  } else {
    audit_arg a = {&j, t, in->format};
    /* BM01-BNV_000.00.01.H06_2026-01-01.xlsx: the form, the unit's code (its id when it has
     * none), the day (a snapshot's month); what a file name cannot hold becomes '-' */
    char *name = srv_printf(ctx, "%s_%s_%s", t->code, j.u.code && *j.u.code ? j.u.code : j.u.id, j.w.as_of);
    for (char *c = name; *c; c++)
      if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-') *c = '-';
    name = srv_printf(ctx, "%s.%s", name, exts[in->format]);
    if (srv_tx(ctx, DB_READ_COMMITTED, audit_tx, &a) != 0)
      unlink(path);
    else
      rc = rp_send_file(ctx, path, name, types[in->format], as_is);
  }
  for (size_t i = 0; i < n_keep; i++) free(keep[i]);
out:
  tpl_free(j.t);
  return rc;
}
