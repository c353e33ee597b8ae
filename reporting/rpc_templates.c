/* ListReportTemplates, GetReportTemplate (any version) and UpsertReportTemplate (a system
 * administrator's new template or new version, checked whole before anything is stored: a bad
 * definition is refused with the path of its bad part and the stored template is unchanged). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "reporting.h"
#include "scope.h"
#include "tpl.h"
#include "val.h"

typedef Hoso__Reporting__V1__ReportTemplate tmpl;

static tmpl *from_row(srv_ctx *ctx, PGresult *r, int i, int with_definition) {
  tmpl *t = srv_new(ctx, &hoso__reporting__v1__report_template__descriptor);
  t->code = srv_strdup(ctx, PQgetvalue(r, i, 0));
  t->name = srv_strdup(ctx, PQgetvalue(r, i, 1));
  t->version = strtoll(PQgetvalue(r, i, 2), NULL, 10);
  t->builtin = PQgetvalue(r, i, 3)[0] == 't';
  t->updated_at = srv_strdup(ctx, PQgetvalue(r, i, 4));
  t->updated_by = srv_strdup(ctx, PQgetvalue(r, i, 5));
  if (with_definition) t->definition = srv_strdup(ctx, PQgetvalue(r, i, 6));
  return t;
}

#define COLS "code, name, version::text, builtin, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), updated_by, definition::text"

static int check_code(srv_ctx *ctx, const char *field, const char *code) {
  if (!code || !*code) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: required", field);
  if (strlen(code) > 40) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: at most 40 characters", field);
  for (const char *c = code; *c; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("/-_.", *c)))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: letters, digits and / - _ . only (like \"BM01/BNV\")", field);
  return 0;
}

/* ------------------------------------------------------------ list ---------------------- */

typedef struct {
  const char *after;
  int limit;
  Hoso__Reporting__V1__ListReportTemplatesResponse *out;
} list_job;

static int list_tx(srv_ctx *ctx, void *p) {
  list_job *j = p;
  char lim[16];
  snprintf(lim, sizeof lim, "%d", j->limit + 1);
  PGresult *r = db_q(ctx->db, "SELECT " COLS " FROM templates WHERE ($1::text IS NULL OR code > $1) ORDER BY code LIMIT $2::int",
                     2, j->after, lim);
  if (!r) return -1;
  int n = PQntuples(r), take = n > j->limit ? j->limit : n;
  j->out->templates = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof *j->out->templates);
  for (int i = 0; i < take; i++) j->out->templates[j->out->n_templates++] = from_row(ctx, r, i, 0);
  if (n > j->limit) j->out->next_page_token = srv_page_token(ctx, PQgetvalue(r, take - 1, 0));
  PQclear(r);
  return 0;
}

RP_HANDLER(rpc_list_report_templates) {
  const Hoso__Reporting__V1__ListReportTemplatesRequest *in = (const void *)req;
  if (srv_need_right(ctx, RIGHT_READ, 0, "report templates need a READER role or above")) return -1;
  list_job j = {NULL, val_page_size(in->page_size), NULL};
  if (in->page_token && *in->page_token) {
    char key[64];
    if (val_page_token_decode(in->page_token, key, sizeof key) != 0)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    j.after = srv_strdup(ctx, key);
  }
  j.out = srv_new(ctx, &hoso__reporting__v1__list_report_templates_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, list_tx, &j) != 0) return -1;
  *resp = &j.out->base;
  return 0;
}

/* ------------------------------------------------------------ get ----------------------- */

typedef struct {
  const char *field, *code;
  long long version;
  tmpl *out;
} get_job;

static int get_tx(srv_ctx *ctx, void *p) {
  get_job *j = p;
  PGresult *r;
  if (j->version == 0) {
    r = db_q(ctx->db, "SELECT " COLS " FROM templates WHERE code = $1", 1, j->code);
  } else {
    char v[24];
    snprintf(v, sizeof v, "%lld", j->version);
    r = db_q(ctx->db,
             "SELECT v.code, v.name, v.version::text, t.builtin, "
             "to_char(v.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), v.changed_by, v.definition::text "
             "FROM template_versions v JOIN templates t USING (code) WHERE v.code = $1 AND v.version = $2::bigint",
             2, j->code, v);
  }
  if (!r) return -1;
  if (PQntuples(r) == 1) j->out = from_row(ctx, r, 0, 1);
  PQclear(r);
  /* GetReportTemplate asks for a thing that is not there; a report naming an unknown form
   * is a bad request */
  if (!j->out && strcmp(j->field, "code") != 0)
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: unknown template %s (ListReportTemplates lists them)", j->field,
                    j->code);
  if (!j->out)
    return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s: no template %s%s", j->version ? "version" : "code", j->code,
                    j->version ? " of that version" : "");
  return 0;
}

/* The template `code` (version 0: current) into *out; NOT_FOUND / INVALID_ARGUMENT named. */
int rp_template_get(srv_ctx *ctx, const char *field, const char *code, long long version, tmpl **out) {
  if (check_code(ctx, field, code)) return -1;
  if (version < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "version: must not be negative");
  get_job j = {field, code, version, NULL};
  if (srv_tx(ctx, DB_READ_COMMITTED, get_tx, &j) != 0) return -1;
  *out = j.out;
  return 0;
}

RP_HANDLER(rpc_get_report_template) {
  const Hoso__Reporting__V1__GetReportTemplateRequest *in = (const void *)req;
  if (srv_need_right(ctx, RIGHT_READ, 0, "report templates need a READER role or above")) return -1;
  Hoso__Reporting__V1__GetReportTemplateResponse *out =
      srv_new(ctx, &hoso__reporting__v1__get_report_template_response__descriptor);
  if (rp_template_get(ctx, "code", in->code, in->version, &out->template_)) return -1;
  *resp = &out->base;
  return 0;
}

/* ------------------------------------------------------------ upsert -------------------- */

typedef struct {
  const char *code, *name, *definition, *request_id;
  long long expected;
  tmpl *out;
} upsert_job;

static int upsert_tx(srv_ctx *ctx, void *p) {
  upsert_job *j = p;
  char prev[64];
  int seen = j->request_id && *j->request_id ? idem_begin(ctx, j->request_id, prev, sizeof prev) : 0;
  if (seen < 0) return -1;
  if (seen == 0) {
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", j->expected);
    PGresult *r =
        j->expected == 0
            ? db_q(ctx->db,
                   "INSERT INTO templates (code, name, version, definition, updated_by) VALUES ($1, $2, 1, $3::jsonb, $4) "
                   "ON CONFLICT (code) DO NOTHING RETURNING version",
                   4, j->code, j->name, j->definition, ctx->auth->sub)
            : db_q(ctx->db,
                   "UPDATE templates SET name = $2, definition = $3::jsonb, version = version + 1, updated_at = now(), "
                   "updated_by = $4 WHERE code = $1 AND version = $5::bigint RETURNING version",
                   5, j->code, j->name, j->definition, ctx->auth->sub, exp);
    if (!r) return -1;
    int wrote = PQntuples(r) == 1;
    PQclear(r);
    if (!wrote) {
      PGresult *c = db_q(ctx->db, "SELECT version::text FROM templates WHERE code = $1", 1, j->code);
      if (!c) return -1;
      const char *now = PQntuples(c) ? srv_strdup(ctx, PQgetvalue(c, 0, 0)) : NULL;
      PQclear(c);
      if (j->expected == 0)
        return SRV_FAIL(ctx, GRPC_STATUS_ALREADY_EXISTS, "template.code: %s exists (version %s); give expected_version to change it",
                        j->code, now);
      if (!now) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "template.code: no template %s; use expected_version 0 to add it", j->code);
      return SRV_FAIL(ctx, GRPC_STATUS_ABORTED, "expected_version: the template was changed by someone else (now version %s); reload and retry", now);
    }
    audit_entry e = {.action = "TEMPLATE_UPSERT", .target_type = "template", .target_id = j->code};
    SRV_TRY(srv_audit(ctx, &e, json_pack("{s:I}", "expected_version", (json_int_t)j->expected)));
    if (j->request_id && *j->request_id) SRV_TRY(idem_done(ctx, j->request_id, j->code));
  }
  PGresult *r = db_q(ctx->db, "SELECT " COLS " FROM templates WHERE code = $1", 1, j->code);
  if (!r) return -1;
  if (PQntuples(r) == 1) j->out = from_row(ctx, r, 0, 1);
  PQclear(r);
  return 0;
}

RP_HANDLER(rpc_upsert_report_template) {
  const Hoso__Reporting__V1__UpsertReportTemplateRequest *in = (const void *)req;
  if (!ctx->auth || !(ctx->auth->roles & ROLE_SYSTEM_ADMIN))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "changing report templates needs the SYSTEM_ADMIN role");
  if (!in->template_) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "template: required");
  upsert_job j = {0};
  if (check_code(ctx, "template.code", in->template_->code) ||
      srv_clean_text(ctx, "template.name", in->template_->name, 1, 200, &j.name) ||
      srv_check_request_id(ctx, in->request_id))
    return -1;
  if (in->expected_version < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "expected_version: must not be negative");
  if (!in->template_->definition || strlen(in->template_->definition) > 256 * 1024)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "template.definition: required, at most 256 KiB of JSON");
  tpl *t = NULL;
  char err[512];
  if (tpl_parse(in->template_->definition, "template.definition", &t, err, sizeof err) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
  tpl_free(t);
  j.code = in->template_->code;
  j.definition = in->template_->definition;
  j.request_id = in->request_id;
  j.expected = in->expected_version;
  if (srv_tx(ctx, DB_READ_COMMITTED, upsert_tx, &j) != 0) return -1;
  Hoso__Reporting__V1__UpsertReportTemplateResponse *out =
      srv_new(ctx, &hoso__reporting__v1__upsert_report_template_response__descriptor);
  out->template_ = j.out;
  *resp = &out->base;
  return 0;
}
