/* ExportRecord of hoso.records.v1.Records: one record, now or as of a past day, as its proto3
 * JSON form or as the printable 2C-BNV/2008 résumé (HTML for A4), each export audited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "export_2c.h"
#include "identity.pb-c.h"
#include "log.h"
#include "pbjson.h"
#include "records.h"
#include "store_catalog.h"
#include "rpc_util.h"
#include "scope.h"
#include "val.h"


typedef Hoso__Records__V1__ExportRecordRequest export_req;

/* ------------------------------------------------------------ catalogue names ----------- */

typedef struct {
  srv_ctx *ctx;
  catalog_code_name *v;
  size_t n, cap;
} code_list;

static void add_code(void *arg, const char *catalog, const char *code) {
  code_list *l = arg;
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].catalog, catalog) && !strcmp(l->v[i].code, code)) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    catalog_code_name *v = srv_alloc(l->ctx, cap * sizeof *v);
    if (l->n) memcpy(v, l->v, l->n * sizeof *v);
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (catalog_code_name){catalog, code, NULL};
}

static const char *lookup(void *arg, const char *catalog, const char *code) {
  const code_list *l = arg;
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].catalog, catalog) && !strcmp(l->v[i].code, code)) return l->v[i].name;
  return NULL;
}

/* ------------------------------------------------------------ unit names ---------------- */

/* The unit as the caller may see it (GetUnit with the caller's own token), or NULL. The résumé's
 * header names only help a reader: a unit that cannot be read now leaves its line blank on
 * the form rather than failing an export whose dossier content is complete. */
static Hoso__Identity__V1__Unit *get_unit(srv_ctx *ctx, const char *unit_id) {
  if (!unit_id || !*unit_id) return NULL;
  Hoso__Identity__V1__Unit *u = NULL;
  cli_status st;
  grpc_status_code c = unit_tree_get(ctx, unit_id, &u, &st);
  if (c != GRPC_STATUS_OK && c != GRPC_STATUS_PERMISSION_DENIED && c != GRPC_STATUS_NOT_FOUND)
    log_warn("records: ExportRecord: GetUnit %s at identity: %s %s", unit_id, cli_status_name(c), st.message);
  return u;
}

/* "Có thẩm quyền quản lý": the managing unit, the one unit that holds the dossier; "sử dụng":
 * the department where the person works, within that unit. Whoever exports, the same names. */
static void unit_names(srv_ctx *ctx, const rec_t *r, export_2c_opts *o) {
  Hoso__Identity__V1__Unit *u = get_unit(ctx, r->managing_unit_id);
  if (!u) return;
  const char *dept = r->employment && r->employment->department ? r->employment->department : "";
  o->managing_unit = u->name;
  o->using_unit = *dept ? srv_printf(ctx, "%s, %s", dept, u->name) : u->name;
}

/* ------------------------------------------------------------ ExportRecord -------------- */

typedef struct {
  const export_req *in;
  rec_t *rec;
  code_list names;
} export_st;

static int export_tx(srv_ctx *ctx, void *p) {
  export_st *st = p;
  const char *as_of = st->in->as_of ? st->in->as_of : "";
  int rc = *as_of ? record_fetch_as_of(ctx, st->in->record_id, as_of, RIGHT_READ, &st->rec)
                  : record_fetch(ctx, st->in->record_id, RIGHT_READ, 0, &st->rec);
  if (rc) return rc;
  if (st->in->format == HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_HTML_2C) {
    /* A fresh list each time: the body runs again after a serialization failure. */
    st->names = (code_list){.ctx = ctx};
    export_2c_codes(st->rec, add_code, &st->names);
    /* inactive entries too: an old record keeps the name its code had */
    if (catalog_code_names(ctx, st->names.v, st->names.n)) return -1;
  }
  return 0;
}

/* The content moves into the arena: the runtime frees it with the response. */
static void set_content(srv_ctx *ctx, Hoso__Records__V1__ExportRecordResponse *o, char *text, size_t len) {
  o->content.data = srv_alloc(ctx, len ? len : 1);
  memcpy(o->content.data, text, len);
  o->content.len = len;
  free(text);
}

int rpc_export_record(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const export_req *in = (const void *)req;
  export_st st = {.in = in};
  const char *e;
  if (srv_check_id(ctx, "record_id", in->record_id)) return -1;
  if (in->format != HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON &&
      in->format != HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_HTML_2C)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "format: choose EXPORT_FORMAT_JSON or EXPORT_FORMAT_HTML_2C");
  if (in->as_of && *in->as_of && (e = val_date(in->as_of)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "as_of: %s", e);
  if (srv_need_right(ctx, RIGHT_READ, 1, "exporting records needs a role with read access")) return -1;

  /* Who took a copy of whose dossier is recorded, durable before the copy leaves. */
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, export_tx, &st) != 0 ||
      record_audit_read(ctx, "RECORD_EXPORT", st.rec,
                        json_pack("{s:s, s:s}", "format",
                                  in->format == HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON ? "json" : "html_2c",
                                  "as_of", in->as_of ? in->as_of : "")) != 0)
    return -1;

  Hoso__Records__V1__ExportRecordResponse *o = srv_new(ctx, &hoso__records__v1__export_record_response__descriptor);
  char *text;
  size_t len = 0;
  if (in->format == HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON) {
    text = pbjson_encode(&st.rec->base, PBJSON_PRETTY);
    if (text) len = strlen(text);
    o->content_type = "application/json";
    o->file_name = srv_printf(ctx, "ho-so-%s.json", in->record_id);
  } else {
    export_2c_opts opts = {.name = lookup, .name_arg = &st.names};
    unit_names(ctx, st.rec, &opts);
    text = export_2c_render(st.rec, &opts, &len);
    o->content_type = "text/html; charset=utf-8";
    o->file_name = srv_printf(ctx, "2C-%s.html", in->record_id);
  }
  if (!text) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory while exporting; retry");
  set_content(ctx, o, text, len);
  *resp = &o->base;
  return 0;
}
