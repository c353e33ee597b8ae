/* The SQL of the catalogues (danh mục): reads, keyset pages with a diacritics-insensitive
 * prefix, versioned writes whose history the table's trigger keeps, and what the process's
 * code cache (catalog.c) loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_catalog.h"

/* The columns of COLS, in order (entry_from_row reads them). */
enum {
  C_CATALOG, C_CODE, C_NAME, C_PARENT, C_ACTIVE, C_VERSION, C_RANK_GROUP, C_STEPS, C_STEP_YEARS, C_SORT,
  C_UPDATED_AT, C_UPDATED_BY
};

#define COLS                                                                                  \
  "catalog, code, name, parent_code, active, version, rank_group, "                           \
  "array_to_string(step_coefficients, ','), step_years, sort_order, "                         \
  "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), updated_by"

static cat_entry *entry_from_row(srv_ctx *ctx, const PGresult *r, int row) {
  cat_entry *e = srv_new(ctx, &hoso__records__v1__catalog_entry__descriptor);
  e->catalog = srv_strdup(ctx, PQgetvalue(r, row, C_CATALOG));
  e->code = srv_strdup(ctx, PQgetvalue(r, row, C_CODE));
  e->name = srv_strdup(ctx, PQgetvalue(r, row, C_NAME));
  e->parent_code = srv_strdup(ctx, PQgetvalue(r, row, C_PARENT));
  e->active = PQgetvalue(r, row, C_ACTIVE)[0] == 't';
  e->version = atoll(PQgetvalue(r, row, C_VERSION));
  e->rank_group = srv_strdup(ctx, PQgetvalue(r, row, C_RANK_GROUP));
  e->step_years = atoi(PQgetvalue(r, row, C_STEP_YEARS));
  e->sort_order = atoi(PQgetvalue(r, row, C_SORT));
  e->updated_at = srv_strdup(ctx, PQgetvalue(r, row, C_UPDATED_AT));

  char *steps = srv_strdup(ctx, PQgetvalue(r, row, C_STEPS));
  size_t n = *steps ? 1 : 0;
  for (const char *c = steps; *c; c++) n += *c == ',';
  e->step_coefficients = srv_alloc(ctx, (n ? n : 1) * sizeof *e->step_coefficients);
  e->n_step_coefficients = n;
  char *save = NULL, *tok = n ? strtok_r(steps, ",", &save) : NULL;
  for (size_t i = 0; i < n && tok; i++, tok = strtok_r(NULL, ",", &save))
    e->step_coefficients[i] = tok;
  return e;
}

/* The one entry of a 0-or-1-row result into *out: 1, or 0 (none); the result is cleared. */
static int one_entry(srv_ctx *ctx, PGresult *r, cat_entry **out) {
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (out) *out = found ? entry_from_row(ctx, r, 0) : NULL;
  PQclear(r);
  return found;
}

int catalog_entry_get(srv_ctx *ctx, const char *catalog, const char *code, int lock, cat_entry **out) {
  return one_entry(ctx,
                   db_q(ctx->db,
                        lock ? "SELECT " COLS " FROM catalog_entries WHERE catalog = $1 AND code = $2 FOR UPDATE"
                             : "SELECT " COLS " FROM catalog_entries WHERE catalog = $1 AND code = $2",
                        2, catalog, code),
                   out);
}

int catalog_entry_state(srv_ctx *ctx, const char *catalog, const char *code) {
  PGresult *r = db_q(ctx->db, "SELECT active FROM catalog_entries WHERE catalog = $1 AND code = $2", 2, catalog,
                     code);
  if (!r) return -1;
  int state = PQntuples(r) != 1 ? 0 : PQgetvalue(r, 0, 0)[0] == 't' ? 2 : 1;
  PQclear(r);
  return state;
}

/* Words are runs of letters and digits of the folded name ("Gia-rai" → "gia rai"), so a prefix
 * matches "Phó Giám đốc Sở" at "giam doc" as well as at "pho". A prefix with no letter or
 * digit matches codes only. Codes compare bytewise (COLLATE "C") so that the keyset order is
 * the same whatever the database's locale. */
int catalog_list(srv_ctx *ctx, const char *catalog, const char *prefix, int include_inactive, int after_sort,
                 const char *after_code, int limit, cat_entry ***out, size_t *n) {
  char sort[16], lim[16];
  snprintf(sort, sizeof sort, "%d", after_sort);
  snprintf(lim, sizeof lim, "%d", limit);
  PGresult *r = db_q(ctx->db,
              "SELECT " COLS " FROM catalog_entries, "
              "  (SELECT btrim(regexp_replace(fold($3), '[^a-z0-9]+', ' ', 'g')) AS p) q "
              "WHERE catalog = $1 AND ($2::boolean OR active) "
              "  AND ($3 = '' OR starts_with(lower(code), lower($3)) "
              "       OR (q.p <> '' AND position(' ' || q.p IN "
              "           ' ' || regexp_replace(name_folded, '[^a-z0-9]+', ' ', 'g')) > 0)) "
              "  AND ($5::text IS NULL OR sort_order > $4::int "
              "       OR (sort_order = $4::int AND code COLLATE \"C\" > $5)) "
              "ORDER BY sort_order, code COLLATE \"C\" LIMIT $6::int",
              6, catalog, include_inactive ? "true" : "false", prefix, sort, after_code, lim);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) (*out)[i] = entry_from_row(ctx, r, (int)i);
  PQclear(r);
  return 0;
}

int catalog_version(srv_ctx *ctx, const char *catalog, long long *out) {
  PGresult *r = db_q(ctx->db, "SELECT version FROM catalog_meta WHERE catalog = $1", 1, catalog);
  if (!r) return -1;
  *out = PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : 0;
  PQclear(r);
  return 0;
}

/* "{2.34,2.67}": the coefficients are validated decimals, so no element needs quoting. */
static char *array_literal(const cat_entry *e) {
  size_t len = 3;
  for (size_t i = 0; i < e->n_step_coefficients; i++) len += strlen(e->step_coefficients[i]) + 1;
  char *s = malloc(len);
  if (!s) return NULL;
  char *p = s;
  *p++ = '{';
  for (size_t i = 0; i < e->n_step_coefficients; i++) {
    if (i) *p++ = ',';
    size_t n = strlen(e->step_coefficients[i]);
    memcpy(p, e->step_coefficients[i], n);
    p += n;
  }
  *p++ = '}';
  *p = '\0';
  return s;
}

int catalog_entry_write(srv_ctx *ctx, const cat_entry *e, const char *actor, int update, cat_entry **out) {
  char *steps = array_literal(e);
  if (!steps) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
  char years[16], sort[16];
  snprintf(years, sizeof years, "%d", e->step_years);
  snprintf(sort, sizeof sort, "%d", e->sort_order);
  const char *p[] = {e->catalog, e->code, e->name, e->parent_code, e->active ? "true" : "false",
                     e->rank_group, steps, years, sort, actor};
  PGresult *r = db_exec(
      ctx->db,
      update ? "UPDATE catalog_entries SET name = $3, parent_code = $4, active = $5::boolean, "
               "  rank_group = $6, step_coefficients = $7::text[], step_years = $8::int, "
               "  sort_order = $9::int, version = version + 1, updated_at = now(), updated_by = $10 "
               "WHERE catalog = $1 AND code = $2 RETURNING " COLS
             : "INSERT INTO catalog_entries (catalog, code, name, parent_code, active, rank_group, "
               "  step_coefficients, step_years, sort_order, updated_by) "
               "VALUES ($1, $2, $3, $4, $5::boolean, $6, $7::text[], $8::int, $9::int, $10) "
               "RETURNING " COLS,
      10, p);
  free(steps);
  return one_entry(ctx, r, out) == 1 ? 0 : -1;
}

int catalog_versions(srv_ctx *ctx, catalog_version_row **out, size_t *n) {
  PGresult *r = db_q(ctx->db, "SELECT catalog, version FROM catalog_meta", 0);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    (*out)[i].catalog = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    (*out)[i].version = atoll(PQgetvalue(r, (int)i, 1));
  }
  PQclear(r);
  return 0;
}

int catalog_codes(srv_ctx *ctx, const char *catalog, catalog_code_row **out, size_t *n) {
  PGresult *r = db_q(ctx->db, "SELECT code, active FROM catalog_entries WHERE catalog = $1", 1, catalog);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    (*out)[i].code = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    (*out)[i].active = PQgetvalue(r, (int)i, 1)[0] == 't';
  }
  PQclear(r);
  return 0;
}

/* A PostgreSQL text[] literal of the catalogues (codes = 0) or the codes of v: every element
 * quoted, so no code can break out of it. */
static char *text_array(srv_ctx *ctx, const catalog_code_name *v, size_t n, int codes) {
  size_t len = 3;
  for (size_t i = 0; i < n; i++) len += 2 * strlen(codes ? v[i].code : v[i].catalog) + 3;
  char *s = srv_alloc(ctx, len), *o = s;
  *o++ = '{';
  for (size_t i = 0; i < n; i++) {
    if (i) *o++ = ',';
    *o++ = '"';
    for (const char *p = codes ? v[i].code : v[i].catalog; *p; p++) {
      if (*p == '"' || *p == '\\') *o++ = '\\';
      *o++ = *p;
    }
    *o++ = '"';
  }
  *o++ = '}';
  *o = 0;
  return s;
}

int catalog_code_names(srv_ctx *ctx, catalog_code_name *v, size_t n) {
  if (!n) return 0;
  PGresult *r = db_q(ctx->db,
                     "SELECT c.catalog, c.code, c.name FROM catalog_entries c "
                     "JOIN unnest($1::text[], $2::text[]) AS k(catalog, code) "
                     "ON c.catalog = k.catalog AND c.code = k.code",
                     2, text_array(ctx, v, n, 0), text_array(ctx, v, n, 1));
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++)
    for (size_t j = 0; j < n; j++)
      if (!strcmp(v[j].catalog, PQgetvalue(r, i, 0)) && !strcmp(v[j].code, PQgetvalue(r, i, 1)))
        v[j].name = srv_strdup(ctx, PQgetvalue(r, i, 2));
  PQclear(r);
  return 0;
}
