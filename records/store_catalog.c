/* The SQL of the catalogues (danh mục): reads, keyset pages with a diacritics-insensitive
 * prefix, and versioned writes whose history the table's trigger keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_catalog.h"

#define COLS                                                                                  \
  "catalog, code, name, parent_code, active, version, rank_group, "                           \
  "array_to_string(step_coefficients, ','), step_years, sort_order, "                         \
  "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), updated_by"

PGresult *sc_get(db_conn *db, const char *catalog, const char *code, int lock) {
  return db_q(db,
              lock ? "SELECT " COLS " FROM catalog_entries WHERE catalog = $1 AND code = $2 FOR UPDATE"
                   : "SELECT " COLS " FROM catalog_entries WHERE catalog = $1 AND code = $2",
              2, catalog, code);
}

int sc_exists(db_conn *db, const char *catalog, const char *code) {
  PGresult *r = db_q(db, "SELECT 1 FROM catalog_entries WHERE catalog = $1 AND code = $2", 2,
                     catalog, code);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  PQclear(r);
  return found;
}

/* Words are runs of letters and digits of the folded name ("Gia-rai" → "gia rai"), so a prefix
 * matches "Phó Giám đốc Sở" at "giam doc" as well as at "pho". A prefix with no letter or
 * digit matches codes only. Codes compare bytewise (COLLATE "C") so that the keyset order is
 * the same whatever the database's locale. */
PGresult *sc_list(db_conn *db, const char *catalog, const char *prefix, int include_inactive,
                  int after_sort, const char *after_code, int limit) {
  char sort[16], lim[16];
  snprintf(sort, sizeof sort, "%d", after_sort);
  snprintf(lim, sizeof lim, "%d", limit);
  return db_q(db,
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
}

int sc_catalog_version(db_conn *db, const char *catalog, long long *out) {
  PGresult *r = db_q(db, "SELECT version FROM catalog_meta WHERE catalog = $1", 1, catalog);
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

PGresult *sc_write(db_conn *db, const cat_entry *e, const char *actor, int update) {
  char *steps = array_literal(e);
  if (!steps) return NULL;
  char years[16], sort[16];
  snprintf(years, sizeof years, "%d", e->step_years);
  snprintf(sort, sizeof sort, "%d", e->sort_order);
  const char *p[] = {e->catalog, e->code, e->name, e->parent_code, e->active ? "true" : "false",
                     e->rank_group, steps, years, sort, actor};
  PGresult *r = db_exec(
      db,
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
  return r;
}

cat_entry *sc_entry_from_row(srv_ctx *ctx, const PGresult *r, int row) {
  cat_entry *e = srv_new(ctx, &hoso__records__v1__catalog_entry__descriptor);
  e->catalog = srv_strdup(ctx, PQgetvalue(r, row, SC_CATALOG));
  e->code = srv_strdup(ctx, PQgetvalue(r, row, SC_CODE));
  e->name = srv_strdup(ctx, PQgetvalue(r, row, SC_NAME));
  e->parent_code = srv_strdup(ctx, PQgetvalue(r, row, SC_PARENT));
  e->active = PQgetvalue(r, row, SC_ACTIVE)[0] == 't';
  e->version = atoll(PQgetvalue(r, row, SC_VERSION));
  e->rank_group = srv_strdup(ctx, PQgetvalue(r, row, SC_RANK_GROUP));
  e->step_years = atoi(PQgetvalue(r, row, SC_STEP_YEARS));
  e->sort_order = atoi(PQgetvalue(r, row, SC_SORT));
  e->updated_at = srv_strdup(ctx, PQgetvalue(r, row, SC_UPDATED_AT));

  char *steps = srv_strdup(ctx, PQgetvalue(r, row, SC_STEPS));
  size_t n = *steps ? 1 : 0;
  for (const char *c = steps; *c; c++) n += *c == ',';
  e->step_coefficients = srv_alloc(ctx, (n ? n : 1) * sizeof *e->step_coefficients);
  e->n_step_coefficients = n;
  char *save = NULL, *tok = n ? strtok_r(steps, ",", &save) : NULL;
  for (size_t i = 0; i < n && tok; i++, tok = strtok_r(NULL, ",", &save))
    e->step_coefficients[i] = tok;
  return e;
}
