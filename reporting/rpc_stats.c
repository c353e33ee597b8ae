/* GetStatistics (counts of any unit subtree on any day, by zero, one or two dimensions, under
 * SearchRecords' criteria) and DrillDown (the people of one cell, in keyset pages), both on the
 * read connection within the caller's scope, each audited on the service's own database. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "reporting.h"
#include "scope.h"
#include "val.h"

typedef Hoso__Reporting__V1__GetStatisticsRequest stats_req;
typedef Hoso__Reporting__V1__GetStatisticsResponse stats_resp;
typedef Hoso__Reporting__V1__DrillDownRequest drill_req;
typedef Hoso__Reporting__V1__DrillDownResponse drill_resp;

/* What both RPCs check and build alike. */
typedef struct {
  rp_when w;
  rp_unit u;
  const rp_dim *d[2];
  size_t nd;
  const rp_filters *f;
} spec;

static int check_spec(srv_ctx *ctx, const char *unit_id, const Hoso__Reporting__V1__When *when, char **dims,
                      size_t n_dims, const rp_filters *f, spec *s) {
  memset(s, 0, sizeof *s);
  if (srv_need_right(ctx, RIGHT_READ, 0, "statistics need a READER role or above")) return -1;
  if (n_dims > 2) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "dimensions: at most two (one crossed with another)");
  for (size_t i = 0; i < n_dims; i++) {
    if (!(s->d[i] = rp_dim_find(dims[i])))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "dimensions[%zu]: unknown dimension \"%.40s\" (docs/API.md lists them)",
                      i, dims[i]);
    if (i == 1 && s->d[0] == s->d[1])
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "dimensions[1]: the same as dimensions[0]");
  }
  s->nd = n_dims;
  s->f = f;
  if (rp_when_check(ctx, when, &s->w) || rp_filters_check(ctx, "filters", f)) return -1;
  return rp_unit_resolve(ctx, unit_id, &s->u);
}

static void audit_detail(json_t *d, const spec *s) {
  json_object_set_new(d, "unit_id", json_string(s->u.id));
  json_object_set_new(d, "as_of", json_string(s->w.as_of));
  if (s->w.known_on[0]) json_object_set_new(d, "known_on", json_string(s->w.known_on));
  if (s->w.snapshot) json_object_set_new(d, "snapshot_id", json_integer(s->w.snapshot));
  json_t *a = json_array();
  for (size_t i = 0; i < s->nd; i++) json_array_append_new(a, json_string(rp_dim_name(s->d[i])));
  json_object_set_new(d, "dimensions", a);
}

typedef struct {
  const char *action;
  const spec *s;
  json_t *detail;
} audit_arg;

static int audit_tx(srv_ctx *ctx, void *p) {
  audit_arg *a = p;
  audit_entry e = {.action = a->action, .target_type = "unit", .target_id = a->s->u.id, .unit_path = a->s->u.path};
  json_t *d = a->detail;
  a->detail = NULL;
  return srv_audit(ctx, &e, d);
}

/* One audit row, on the service's own database, after the read. */
static int audit(srv_ctx *ctx, const char *action, const spec *s, json_t *detail) {
  audit_detail(detail, s);
  audit_arg a = {action, s, detail};
  int rc = srv_tx(ctx, DB_READ_COMMITTED, audit_tx, &a);
  json_decref(a.detail);
  return rc;
}

static PGresult *run(srv_ctx *ctx, qb *q) {
  if (q->oom) {
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "the query is too large; use fewer criteria");
    return NULL;
  }
  return db_exec(ctx->db, q->sql, q->n, (const char *const *)q->params);
}

/* ------------------------------------------------------------ GetStatistics ------------- */

typedef struct {
  spec s;
  rp_unit *children;
  size_t n_children;
  stats_resp *out;
} stats_job;

static const char *unit_label(const stats_job *j, const char *k) {
  for (size_t i = 0; i < j->n_children; i++)
    if (!strcmp(j->children[i].id, k)) return j->children[i].name;
  return NULL;
}

static int stats_tx(srv_ctx *ctx, void *p) {
  stats_job *j = p;
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT ");
  for (size_t i = 0; i < j->s.nd; i++) {
    rp_dim_sql(&q, j->s.d[i], &j->s.w, &j->s.u);
    qb_add(&q, " AS k%zu, ", i);
  }
  qb_add(&q, "count(*)");
  rp_from_where(&q, &j->s.w, &j->s.u, j->s.f, 1, NULL);
  if (j->s.nd) qb_add(&q, " GROUP BY %s ORDER BY %s", j->s.nd == 2 ? "1, 2" : "1", j->s.nd == 2 ? "1, 2" : "1");
  PGresult *r = run(ctx, &q);
  qb_free(&q);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  stats_resp *o = j->out;
  int n = PQntuples(r);
  o->cells = srv_alloc(ctx, (size_t)(n ? n : 1) * sizeof *o->cells);
  o->dimensions = srv_alloc(ctx, 2 * sizeof *o->dimensions);
  /* each dimension's values, in first-seen (sorted) order */
  Hoso__Reporting__V1__DimensionValue **vals[2] = {NULL, NULL};
  size_t nv[2] = {0, 0};
  for (size_t i = 0; i < j->s.nd; i++) vals[i] = srv_alloc(ctx, (size_t)(n ? n : 1) * sizeof **vals);
  for (int row = 0; row < n; row++) {
    Hoso__Reporting__V1__Cell *c = srv_new(ctx, &hoso__reporting__v1__cell__descriptor);
    c->count = strtoll(PQgetvalue(r, row, (int)j->s.nd), NULL, 10);
    o->total += c->count;
    c->keys = srv_alloc(ctx, 2 * sizeof *c->keys);
    for (size_t i = 0; i < j->s.nd; i++) {
      const char *k = srv_strdup(ctx, PQgetvalue(r, row, (int)i));
      c->keys[c->n_keys++] = (char *)k;
      size_t v = 0;
      while (v < nv[i] && strcmp(vals[i][v]->key, k)) v++;
      if (v == nv[i]) {
        Hoso__Reporting__V1__DimensionValue *dv = srv_new(ctx, &hoso__reporting__v1__dimension_value__descriptor);
        dv->key = (char *)k;
        const char *label = rp_dim_is_unit(j->s.d[i]) ? unit_label(j, k) : NULL;
        dv->label = (char *)(label ? label : rp_dim_label(ctx, j->s.d[i], k));
        vals[i][nv[i]++] = dv;
      }
    }
    o->cells[o->n_cells++] = c;
  }
  PQclear(r);
  for (size_t i = 0; i < j->s.nd; i++) {
    Hoso__Reporting__V1__Dimension *d = srv_new(ctx, &hoso__reporting__v1__dimension__descriptor);
    d->name = (char *)rp_dim_name(j->s.d[i]);
    d->values = vals[i];
    d->n_values = nv[i];
    o->dimensions[o->n_dimensions++] = d;
  }
  return 0;
}

RP_HANDLER(rpc_get_statistics) {
  const stats_req *in = (const stats_req *)req;
  stats_job j = {0};
  if (check_spec(ctx, in->unit_id, in->when, in->dimensions, in->n_dimensions, in->filters, &j.s)) return -1;
  for (size_t i = 0; i < j.s.nd; i++)
    if (rp_dim_is_unit(j.s.d[i]) && rp_unit_children(ctx, &j.s.u, 2, &j.children, &j.n_children)) return -1;
  j.out = srv_new(ctx, &hoso__reporting__v1__get_statistics_response__descriptor);
  if (rp_read_tx(ctx, stats_tx, &j) != 0) return -1;
  j.out->unit_id = (char *)j.s.u.id;
  j.out->unit_name = (char *)j.s.u.name;
  j.out->as_of = srv_strdup(ctx, j.s.w.as_of);
  j.out->known_on = srv_strdup(ctx, j.s.w.known_on);
  json_t *d = json_object();
  json_object_set_new(d, "total", json_integer(j.out->total));
  if (audit(ctx, "REPORT_STATISTICS", &j.s, d) != 0) return -1;
  *resp = &j.out->base;
  return 0;
}

/* ------------------------------------------------------------ DrillDown ----------------- */

typedef struct {
  spec s;
  char **cell;
  const char *after_name, *after_id;
  int limit;
  drill_resp *out;
} drill_job;

static void cell_where(qb *q, const drill_job *j) {
  for (size_t i = 0; i < j->s.nd; i++) {
    qb_add(q, " AND (");
    rp_dim_sql(q, j->s.d[i], &j->s.w, &j->s.u);
    qb_add(q, ") = ");
    qb_param(q, j->cell[i], "::text");
  }
}

static int drill_tx(srv_ctx *ctx, void *p) {
  drill_job *j = p;
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT count(*)");
  rp_from_where(&q, &j->s.w, &j->s.u, j->s.f, 1, NULL);
  cell_where(&q, j);
  PGresult *r = run(ctx, &q);
  qb_free(&q);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  j->out->total = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  qb_init(&q);
  qb_add(&q, "SELECT f.record_id::text, f.full_name, f.birth_date::text, f.gender, f.managing_unit_id::text, "
             "f.unit_path::text, f.category, f.status, f.rank_code, f.position_code, f.degree_code, f.name_folded");
  rp_from_where(&q, &j->s.w, &j->s.u, j->s.f, 1, NULL);
  cell_where(&q, j);
  if (j->after_id) {
    qb_add(&q, " AND (f.name_folded, f.record_id) > (");
    qb_param(&q, j->after_name, "::text");
    qb_add(&q, ", ");
    qb_param(&q, j->after_id, "::bigint");
    qb_add(&q, ")");
  }
  qb_add(&q, " ORDER BY f.name_folded, f.record_id LIMIT %d", j->limit + 1);
  r = run(ctx, &q);
  qb_free(&q);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  int n = PQntuples(r), take = n > j->limit ? j->limit : n;
  drill_resp *o = j->out;
  o->people = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof *o->people);
  for (int i = 0; i < take; i++) {
    Hoso__Reporting__V1__Person *pp = srv_new(ctx, &hoso__reporting__v1__person__descriptor);
    pp->record_id = srv_strdup(ctx, PQgetvalue(r, i, 0));
    pp->full_name = srv_strdup(ctx, PQgetvalue(r, i, 1));
    pp->birth_date = srv_strdup(ctx, PQgetvalue(r, i, 2));
    pp->gender = atoi(PQgetvalue(r, i, 3));
    pp->managing_unit_id = srv_strdup(ctx, PQgetvalue(r, i, 4));
    pp->managing_unit_path = srv_strdup(ctx, PQgetvalue(r, i, 5));
    pp->category = atoi(PQgetvalue(r, i, 6));
    pp->status = atoi(PQgetvalue(r, i, 7));
    pp->rank_code = srv_strdup(ctx, PQgetvalue(r, i, 8));
    pp->position_code = srv_strdup(ctx, PQgetvalue(r, i, 9));
    pp->degree_code = srv_strdup(ctx, PQgetvalue(r, i, 10));
    o->people[o->n_people++] = pp;
  }
  if (n > j->limit && take > 0) {
    json_t *k = json_pack("[s, s]", PQgetvalue(r, take - 1, 11), PQgetvalue(r, take - 1, 0));
    char *key = k ? json_dumps(k, JSON_COMPACT) : NULL;
    json_decref(k);
    o->next_page_token = key ? srv_page_token(ctx, key) : NULL;
    free(key);
    if (!o->next_page_token) {
      PQclear(r);
      return SRV_FAIL(ctx, GRPC_STATUS_INTERNAL, "internal error (request id %s)", ctx->request_id);
    }
  }
  PQclear(r);
  return 0;
}

RP_HANDLER(rpc_drill_down) {
  const drill_req *in = (const drill_req *)req;
  drill_job j = {0};
  if (check_spec(ctx, in->unit_id, in->when, in->dimensions, in->n_dimensions, in->filters, &j.s)) return -1;
  if (in->n_cell != j.s.nd)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "cell: give one key per dimension (%zu)", j.s.nd);
  for (size_t i = 0; i < in->n_cell; i++)
    if (strlen(in->cell[i]) > 64) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "cell[%zu]: too long", i);
  j.cell = in->cell;
  j.limit = val_page_size(in->page_size);
  if (in->page_token && *in->page_token) {
    char key[600];
    json_t *k = val_page_token_decode(in->page_token, key, sizeof key) == 0 ? json_loads(key, 0, NULL) : NULL;
    if (!json_is_array(k) || json_array_size(k) != 2 || !json_is_string(json_array_get(k, 0)) ||
        !json_is_string(json_array_get(k, 1)) || val_id(json_string_value(json_array_get(k, 1)))) {
      json_decref(k);
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    }
    j.after_name = srv_strdup(ctx, json_string_value(json_array_get(k, 0)));
    j.after_id = srv_strdup(ctx, json_string_value(json_array_get(k, 1)));
    json_decref(k);
  }
  j.out = srv_new(ctx, &hoso__reporting__v1__drill_down_response__descriptor);
  if (rp_read_tx(ctx, drill_tx, &j) != 0) return -1;
  json_t *d = json_object();
  json_t *cell = json_array();
  for (size_t i = 0; i < in->n_cell; i++) json_array_append_new(cell, json_string(in->cell[i]));
  json_object_set_new(d, "cell", cell);
  json_object_set_new(d, "people", json_integer((json_int_t)j.out->n_people));
  json_object_set_new(d, "total", json_integer(j.out->total));
  if (audit(ctx, "REPORT_DRILL_DOWN", &j.s, d) != 0) return -1;
  *resp = &j.out->base;
  return 0;
}
