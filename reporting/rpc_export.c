/* ExportSearch (001 Đ7.2–7.3): the people SearchRecords' criteria find, on any day, with the
 * columns asked for, as XLSX or CSV — read through a cursor a batch at a time and written row
 * by row (memory does not grow with the export), progress sent while reading, then the file in
 * chunks; audited with its criteria and row count. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "doc.h"
#include "log.h"
#include "pbjson.h"
#include "reporting.h"
#include "scope.h"

typedef Hoso__Reporting__V1__ExportSearchRequest export_req;

typedef struct {
  const char *name, *label, *sql;
  int numeric;
  double width;
} column;

static const column columns[] = {
    {"record_id", "Mã hồ sơ", "f.record_id::text", 0, 10},
    {"full_name", "Họ và tên", "f.full_name", 0, 24},
    {"birth_date", "Ngày sinh", "to_char(f.birth_date, 'DD/MM/YYYY')", 0, 11},
    {"gender", "Giới tính", "CASE f.gender WHEN 1 THEN 'Nam' WHEN 2 THEN 'Nữ' ELSE '' END", 0, 8},
    {"unit", "Đơn vị", "f.managing_unit_id::text", 0, 26},
    {"category", "Loại", "f.category::text", 0, 14},
    {"status", "Tình trạng", "f.status::text", 0, 14},
    {"ethnicity", "Dân tộc", "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'ETHNICITY' AND c.code = f.ethnicity_code)", 0, 10},
    {"religion", "Tôn giáo", "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'RELIGION' AND c.code = f.religion_code)", 0, 12},
    {"party_member", "Đảng viên", "CASE WHEN f.party_member THEN 'x' ELSE '' END", 0, 8},
    {"rank_code", "Mã ngạch", "f.rank_code", 0, 10},
    {"rank_name", "Ngạch", "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'RANK' AND c.code = f.rank_code)", 0, 20},
    {"salary_step", "Bậc", "f.salary_step", 1, 6},
    {"salary_coefficient", "Hệ số lương", "f.salary_coefficient", 1, 8},
    {"position_code", "Mã chức vụ", "f.position_code", 0, 12},
    {"position_name", "Chức vụ", "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'POSITION' AND c.code = f.position_code)", 0, 20},
    {"degree_code", "Mã trình độ", "f.degree_code", 0, 8},
    {"degree_name", "Trình độ chuyên môn", "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'DEGREE' AND c.code = f.degree_code)", 0, 14},
    {"political_theory", "Lý luận chính trị", "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'POLITICAL_THEORY' AND c.code = f.political_theory_code)", 0, 12},
    {"state_management", "Quản lý nhà nước", "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'STATE_MANAGEMENT' AND c.code = f.state_management_code)", 0, 14},
    {"recruitment_date", "Ngày tuyển dụng", "to_char(f.recruitment_date, 'DD/MM/YYYY')", 0, 11},
    {"home_town", "Quê quán", "f.home_town", 0, 20},
    {NULL, NULL, NULL, 0, 0},
};
static const char *const default_columns[] = {"full_name", "birth_date", "gender", "unit", "rank_code",
                                              "position_code", "degree_code", "status"};
static const char *const category_names[] = {"", "Cán bộ", "Công chức", "Viên chức", "Hợp đồng", "Cán bộ, công chức cấp xã"};
static const char *const status_names[] = {"", "Đang công tác", "Đang điều chuyển", "Đã chuyển ra ngoài", "Nghỉ hưu",
                                           "Thôi việc", "Từ trần"};

enum { MAX_COLS = 40, FETCH = 2000, PROGRESS_EVERY = 10000 };

typedef struct {
  rp_when w;
  rp_unit u;
  const rp_filters *f;
  const column *cols[MAX_COLS];
  size_t n;
  rp_unit *units;
  size_t n_units;
  doc_writer *out;
  long long rows, total;
} job;

static const char *unit_name(const job *j, const char *id) {
  for (size_t i = 0; i < j->n_units; i++)
    if (!strcmp(j->units[i].id, id)) return j->units[i].name;
  return id;
}

static int progress(srv_ctx *ctx, const job *j) {
  Hoso__Reporting__V1__ExportProgress p = HOSO__REPORTING__V1__EXPORT_PROGRESS__INIT;
  Hoso__Reporting__V1__ExportSearchResponse m = HOSO__REPORTING__V1__EXPORT_SEARCH_RESPONSE__INIT;
  p.rows_done = j->rows;
  p.rows_total = j->total;
  m.progress = &p;
  return srv_send(ctx, &m.base);
}

static int export_tx(srv_ctx *ctx, void *arg) {
  job *j = arg;
  j->rows = 0;
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT count(*)");
  rp_from_where(&q, &j->w, &j->u, j->f, 1, NULL);
  PGresult *r = q.oom ? NULL : db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
  qb_free(&q);
  if (!r) return -1;
  j->total = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  if (progress(ctx, j) != 0) return DB_TX_ROLLBACK;
  qb_init(&q);
  qb_add(&q, "DECLARE export_rows NO SCROLL CURSOR FOR SELECT ");
  for (size_t c = 0; c < j->n; c++) qb_add(&q, "%s(%s)::text", c ? ", " : "", j->cols[c]->sql);
  rp_from_where(&q, &j->w, &j->u, j->f, 1, NULL);
  qb_add(&q, " ORDER BY f.unit_path, f.name_folded, f.record_id");
  r = q.oom ? NULL : db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
  qb_free(&q);
  if (!r) return -1;
  PQclear(r);
  doc_cell *cells = srv_alloc(ctx, j->n * sizeof *cells);
  for (;;) {
    /* FETCH FORWARD n FROM cursor: no parameters */
    r = db_q(ctx->db, "FETCH FORWARD 2000 FROM export_rows", 0);
    if (!r) return -1;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      for (size_t c = 0; c < j->n; c++) {
        const char *v = PQgetvalue(r, i, (int)c);
        const column *col = j->cols[c];
        cells[c] = (doc_cell){DOC_EMPTY, NULL, 0};
        if (PQgetisnull(r, i, (int)c) || !*v) continue;
        if (col->numeric)
          cells[c] = (doc_cell){DOC_NUM, NULL, strtod(v, NULL)};
        else if (!strcmp(col->name, "unit"))
          cells[c] = (doc_cell){DOC_TEXT, unit_name(j, v), 0};
        else if (!strcmp(col->name, "category"))
          cells[c] = (doc_cell){DOC_TEXT, category_names[atoi(v) % 6], 0};
        else if (!strcmp(col->name, "status"))
          cells[c] = (doc_cell){DOC_TEXT, status_names[atoi(v) % 7], 0};
        else
          cells[c] = (doc_cell){DOC_TEXT, v, 0};
      }
      if (j->out->row(j->out, cells, DOC_ROW) != 0) {
        PQclear(r);
        return SRV_FAIL(ctx, GRPC_STATUS_INTERNAL, "internal error writing the export (request id %s)", ctx->request_id);
      }
      if (++j->rows % PROGRESS_EVERY == 0 && progress(ctx, j) != 0) {
        PQclear(r);
        return DB_TX_ROLLBACK;
      }
    }
    PQclear(r);
    if (n < FETCH) break;
  }
  return progress(ctx, j) == 0 ? 0 : DB_TX_ROLLBACK;
}

static ProtobufCMessage *as_file(srv_ctx *ctx, Hoso__Reporting__V1__FileChunk *c) {
  Hoso__Reporting__V1__ExportSearchResponse *m = srv_new(ctx, &hoso__reporting__v1__export_search_response__descriptor);
  m->file = c;
  return &m->base;
}

typedef struct {
  const job *j;
  const export_req *in;
  int format;
} audit_arg;

static int audit_tx(srv_ctx *ctx, void *p) {
  audit_arg *a = p;
  audit_entry e = {.action = "REPORT_EXPORT", .target_type = "unit", .target_id = a->j->u.id, .unit_path = a->j->u.path};
  json_t *d = json_pack("{s:I, s:s, s:s}", "rows", (json_int_t)a->j->rows, "as_of", a->j->w.as_of, "format",
                        a->format == DOC_XLSX ? "xlsx" : "csv");
  json_t *cols = json_array();
  for (size_t c = 0; c < a->j->n; c++) json_array_append_new(cols, json_string(a->j->cols[c]->name));
  json_object_set_new(d, "columns", cols);
  /* the criteria as SearchRecords' JSON: what was asked for, as asked */
  json_t *cj = a->in->criteria ? pbjson_to_json(&a->in->criteria->base, 0) : NULL;
  json_object_set_new(d, "criteria", cj ? cj : json_object());
  if (a->j->w.known_on[0]) json_object_set_new(d, "known_on", json_string(a->j->w.known_on));
  return srv_audit(ctx, &e, d);
}

RP_HANDLER(rpc_export_search) {
  const export_req *in = (const export_req *)req;
  job j;
  memset(&j, 0, sizeof j);
  if (srv_need_right(ctx, RIGHT_READ, 0, "exports need a READER role or above")) return -1;
  int format = (int)in->format;
  if (format != DOC_XLSX && format != DOC_CSV)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "format: FORMAT_XLSX or FORMAT_CSV");
  if (in->n_columns > MAX_COLS) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "columns: at most %d", MAX_COLS);
  size_t nc = in->n_columns ? in->n_columns : sizeof default_columns / sizeof *default_columns;
  for (size_t i = 0; i < nc; i++) {
    const char *name = in->n_columns ? in->columns[i] : default_columns[i];
    const column *c = columns;
    while (c->name && strcmp(c->name, name)) c++;
    if (!c->name)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "columns[%zu]: unknown column \"%.40s\" (docs/API.md lists them)", i,
                      name);
    j.cols[j.n++] = c;
  }
  /* the criteria's unit_id is the subtree here; paging and order are the export's own */
  Hoso__Records__V1__SearchRecordsRequest *f = in->criteria ? srv_msg_copy(ctx, &in->criteria->base) : NULL;
  const char *unit = f && f->unit_id && *f->unit_id ? f->unit_id : NULL;
  if (f) {
    f->unit_id = (char *)"";
    f->page_size = 0;
    f->page_token = (char *)"";
    f->order = 0;
  }
  j.f = f;
  if (rp_filters_check(ctx, "criteria", f) || rp_when_check(ctx, in->when, &j.w) || rp_unit_resolve(ctx, unit, &j.u) ||
      rp_unit_children(ctx, &j.u, 0, &j.units, &j.n_units))
    return -1;
  doc_col *cols = srv_alloc(ctx, j.n * sizeof *cols);
  for (size_t c = 0; c < j.n; c++)
    cols[c] = (doc_col){.label = j.cols[c]->label, .width = j.cols[c]->width, .numeric = j.cols[c]->numeric};
  doc_form form = {.title = "DANH SÁCH TRÍCH XUẤT HỒ SƠ", .cols = cols, .n_cols = j.n};
  form.subtitle = srv_printf(ctx, "%s — ngày %.2s/%.2s/%.4s", j.u.name, j.w.as_of + 8, j.w.as_of + 5, j.w.as_of);
  const char *dir = getenv("TMPDIR");
  char *path = srv_printf(ctx, "%s/hoso-export-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) return srv_fail_internal(ctx);
  close(fd);
  char err[300];
  if (!(j.out = doc_open(format, &form, path, err, sizeof err))) {
    unlink(path);
    log_error("reporting: %s", err);
    return srv_fail_internal(ctx);
  }
  if (rp_read_tx(ctx, export_tx, &j) != 0) {
    j.out->abort(j.out);
    unlink(path);
    return -1;
  }
  if (j.out->close(j.out) != 0) {
    unlink(path);
    return srv_fail_internal(ctx);
  }
  audit_arg a = {&j, in, format};
  if (srv_tx(ctx, DB_READ_COMMITTED, audit_tx, &a) != 0) {
    unlink(path);
    return -1;
  }
  const char *name = srv_printf(ctx, "trich-xuat_%s_%s.%s", j.u.id, j.w.as_of, format == DOC_XLSX ? "xlsx" : "csv");
  return rp_send_file(ctx, path, name,
                      format == DOC_XLSX ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                             : "text/csv; charset=utf-8",
                      as_file);
}
