/* SearchRecords' SQL: the WHERE clause of every criterion as btree ranges and equalities (the
 * only conditions row-level security lets PostgreSQL serve from an index, see 003_search.sql),
 * the keyset order of each sort, the page query and the count. */
#include "store_search.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of a page's rows, in order (select_cols, then the sort key, then the count). */
enum {
  SS_ID, SS_FULL_NAME, SS_BIRTH_DATE, SS_GENDER, SS_UNIT_ID, SS_UNIT_PATH, SS_STATUS,
  SS_WORKFLOW, SS_RANK, SS_POSITION, SS_CATEGORY, SS_ETHNICITY, SS_DEGREE, SS_HOME_TOWN,
  SS_VERSION, SS_UPDATED_AT, SS_KEY1, SS_KEY2, SS_KEY3, SS_NCOLS
};

/* Enough for every criterion at once with SEARCH_MAX_PATHS scope paths. */
#define SQL_MAX 65536
#define PARAMS_MAX (2 * SEARCH_MAX_PATHS + 40)

typedef struct {
  char sql[SQL_MAX];
  size_t len;
  const char *params[PARAMS_MAX];
  char *owned[PARAMS_MAX]; /* array literals made here */
  int n, n_owned, overflow;
} sqlb;

/* Appends SQL text. Only fixed fragments and parameter numbers ever go through here. */
static void add(sqlb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(sqlb *b, const char *fmt, ...) {
  if (b->overflow) return;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(b->sql + b->len, SQL_MAX - b->len, fmt, ap);
  va_end(ap);
  if (w < 0 || (size_t)w >= SQL_MAX - b->len)
    b->overflow = 1;
  else
    b->len += (size_t)w;
}

/* A value as the next parameter; its number. */
static int param(sqlb *b, const char *v) {
  if (b->n >= PARAMS_MAX) {
    b->overflow = 1;
    return 1;
  }
  b->params[b->n++] = v;
  return b->n;
}

/* Room for a parameter built here, freed with the builder; NULL (and the builder spoilt) when
 * there is none. */
static char *owned_buf(sqlb *b, size_t n) {
  char *s = b->n_owned < PARAMS_MAX ? malloc(n) : NULL;
  if (!s) {
    b->overflow = 1;
    return NULL;
  }
  b->owned[b->n_owned++] = s;
  return s;
}

/* A text[] literal of codes. Codes are [A-Za-z0-9._-] (val_code), but each is quoted and
 * escaped anyway so that the literal never depends on the caller's checks. */
static int param_text_array(sqlb *b, const search_list *l) {
  size_t cap = 3;
  for (size_t i = 0; i < l->n; i++) cap += 2 * strlen(l->v[i]) + 3;
  char *s = owned_buf(b, cap);
  if (!s) return 1;
  size_t o = 0;
  s[o++] = '{';
  for (size_t i = 0; i < l->n; i++) {
    if (i) s[o++] = ',';
    s[o++] = '"';
    for (const char *p = l->v[i]; *p; p++) {
      if (*p == '"' || *p == '\\') s[o++] = '\\';
      s[o++] = *p;
    }
    s[o++] = '"';
  }
  s[o++] = '}';
  s[o] = '\0';
  return param(b, s);
}

static int param_int_array(sqlb *b, const int *v, size_t n) {
  char *s = owned_buf(b, n * 12 + 3);
  if (!s) return 1;
  size_t o = 0;
  s[o++] = '{';
  for (size_t i = 0; i < n; i++) o += (size_t)sprintf(s + o, i ? ",%d" : "%d", v[i]);
  s[o++] = '}';
  s[o] = '\0';
  return param(b, s);
}

static void sqlb_free(sqlb *b) {
  for (int i = 0; i < b->n_owned; i++) free(b->owned[i]);
  b->n_owned = 0;
}

static int set(const char *s) { return s && *s; }

static void codes(sqlb *b, const char *col, const search_list *l) {
  if (l->n) add(b, " AND r.%s = ANY($%d::text[])", col, param_text_array(b, l));
}

static void enums(sqlb *b, const char *col, const int *v, size_t n) {
  if (n) add(b, " AND r.%s = ANY($%d::smallint[])", col, param_int_array(b, v, n));
}

/* The scope paths as the strings of their unit_key range: "1.4." <= key < "1.4/" holds the
 * unit 1.4 and every unit below it, never 1.41 ('/' follows '.' in byte order). */
typedef struct {
  char lo[SEARCH_MAX_PATHS][520], hi[SEARCH_MAX_PATHS][520];
} ranges;

static void where(sqlb *b, const search_query *q, ranges *rg, int with_name) {
  add(b, " WHERE true");
  if (q->n_scope) {
    add(b, " AND (");
    for (size_t i = 0; i < q->n_scope && i < SEARCH_MAX_PATHS; i++) {
      snprintf(rg->lo[i], sizeof rg->lo[i], "%s.", q->scope[i]);
      snprintf(rg->hi[i], sizeof rg->hi[i], "%s/", q->scope[i]);
      int lo = param(b, rg->lo[i]), hi = param(b, rg->hi[i]);
      add(b, "%s(r.unit_key >= $%d AND r.unit_key < $%d)", i ? " OR " : "", lo, hi);
    }
    add(b, ")");
  }
  if (set(q->unit_id)) add(b, " AND r.managing_unit_id = $%d::bigint", param(b, q->unit_id));
  if (set(q->record_id)) add(b, " AND r.id = $%d::bigint", param(b, q->record_id));
  if (with_name && set(q->name)) {
    /* fold($n) of a bound parameter is computed once, when the statement is planned, so each
     * arm is a plain btree range; chr(1114111) (U+10FFFF) sorts after every other character,
     * so [q, q || U+10FFFF) holds exactly the strings that start with q. */
    int n = param(b, q->name);
    add(b,
        " AND ((r.name_folded COLLATE \"C\" >= fold($%d) AND r.name_folded COLLATE \"C\" < fold($%d) || chr(1114111))"
        " OR (r.name_w2 >= fold($%d) AND r.name_w2 < fold($%d) || chr(1114111))"
        " OR (r.name_w3 >= fold($%d) AND r.name_w3 < fold($%d) || chr(1114111))"
        " OR (r.given_folded >= fold($%d) AND r.given_folded < fold($%d) || chr(1114111)))",
        n, n, n, n, n, n, n, n);
  }
  if (set(q->text)) {
    /* No index can serve a free-text condition under row-level security (003_search.sql): it
     * filters the rows the other criteria and the scope leave, at the start of any word. */
    add(b, " AND strpos(' ' || r.search_text, ' ' || fold($%d)) > 0", param(b, q->text));
  }
  if (set(q->birth_from)) add(b, " AND r.birth_date >= $%d::date", param(b, q->birth_from));
  if (set(q->birth_to)) add(b, " AND r.birth_date <= $%d::date", param(b, q->birth_to));
  if (set(q->recruited_from)) add(b, " AND r.recruitment_date >= $%d::date", param(b, q->recruited_from));
  if (set(q->recruited_to)) add(b, " AND r.recruitment_date <= $%d::date", param(b, q->recruited_to));
  if (q->gender) add(b, " AND r.gender = %d", q->gender == 2 ? 2 : 1);
  if (q->party) add(b, " AND r.party_member = %s", q->party == 1 ? "true" : "false");
  codes(b, "ethnicity_code", &q->ethnicity);
  codes(b, "religion_code", &q->religion);
  codes(b, "rank_code", &q->rank);
  codes(b, "position_code", &q->position);
  codes(b, "degree_code", &q->degree);
  codes(b, "political_theory_code", &q->political);
  enums(b, "category", q->categories, q->n_categories);
  enums(b, "status", q->statuses, q->n_statuses);
  enums(b, "workflow_state", q->workflow_states, q->n_workflow_states);
}

/* The page's SELECT list and ORDER BY for the sort asked, and the keyset condition after the
 * previous page's last row. */
static void order_parts(int order, const char **keys, const char **keyset, const char **by) {
  switch (order) {
    case SEARCH_BY_BIRTH:
      /* Plain birth_date: an expression such as COALESCE is not leakproof, so under row-level
       * security an index on it is never used. Every record the service writes has a birth
       * date (rec_validate), and this order lists only records that have one. */
      *keys = "r.birth_date::text AS k1, r.id::text AS k2, ''::text AS k3";
      *keyset = " AND r.birth_date IS NOT NULL AND (r.birth_date, r.id) > ($%d::date, $%d::bigint)";
      *by = "r.birth_date, r.id";
      break;
    case SEARCH_BY_UPDATED:
      /* timestamptz text carries its offset and microseconds: it reads back to the same instant */
      *keys = "r.updated_at::text AS k1, r.id::text AS k2, ''::text AS k3";
      *keyset = " AND (r.updated_at, r.id) < ($%d::timestamptz, $%d::bigint)";
      *by = "r.updated_at DESC, r.id DESC";
      break;
    default:
      *keys = "r.given_folded AS k1, r.name_folded AS k2, r.id::text AS k3";
      *keyset = " AND (r.given_folded, r.name_folded COLLATE \"C\", r.id) > ($%d, $%d, $%d::bigint)";
      *by = "r.given_folded, r.name_folded COLLATE \"C\", r.id";
      break;
  }
}

static const char select_cols[] =
    "r.id::text, r.full_name, COALESCE(r.birth_date::text, ''), r.gender, "
    "r.managing_unit_id::text, r.unit_path::text, r.status, r.workflow_state, r.rank_code, "
    "r.position_code, r.category, r.ethnicity_code, r.degree_code, r.home_town, r.version, "
    "to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

static void keyset_cond(sqlb *b, const search_query *q, const char *keyset) {
  if (!q->after[0]) return;
  int k1 = param(b, q->after[0]), k2 = param(b, q->after[1] ? q->after[1] : "");
  if (q->order == SEARCH_BY_BIRTH || q->order == SEARCH_BY_UPDATED)
    add(b, keyset, k1, k2);
  else
    add(b, keyset, k1, k2, param(b, q->after[2] ? q->after[2] : ""));
}

static int count_all(db_conn *db, const search_query *q, long long *total);

/* The count rides on every row of a page that has rows; past the last page there is no row
 * to carry it, so it is asked for alone and an empty result of the page's shape returned. */
static PGresult *total_or_count(db_conn *db, const search_query *q, PGresult *r, long long *total, sqlb *b,
                                const char *keys) {
  if (PQntuples(r) > 0) {
    *total = strtoll(PQgetvalue(r, 0, SS_NCOLS), NULL, 10);
    return r;
  }
  PQclear(r);
  sqlb_free(b);
  memset(b, 0, sizeof *b);
  if (count_all(db, q, total) != 0) return NULL;
  add(b, "SELECT %s, %s FROM records r WHERE false", select_cols, keys);
  return db_exec(db, b->sql, 0, NULL);
}

static PGresult *page_rows(db_conn *db, const search_query *q, long long *total) {
  sqlb *b = calloc(1, sizeof *b);
  ranges *rg = malloc(sizeof *rg);
  PGresult *r = NULL;
  if (!b || !rg) goto out;
  const char *keys, *keyset, *by;
  order_parts(q->order, &keys, &keyset, &by);
  char lim[16];
  snprintf(lim, sizeof lim, "%d", q->limit > 0 ? q->limit : 1);
  if (set(q->name) && q->order == SEARCH_BY_NAME) {
    /* A name in name order: each place a match may start (005) is its own index range, read
     * index-only (the indexes carry the sort key and the unit path row-level security checks),
     * so neither the count nor the choice of the page visits the table; only the page's rows
     * are read. UNION drops a record found twice (a 3-word name's third word is its given name). */
    static const char *const arm[4] = {"r.name_folded COLLATE \"C\"", "r.name_w2", "r.name_w3", "r.given_folded"};
    int n = param(b, q->name);
    size_t mark = b->len;
    where(b, q, rg, 0);
    char *rest = b->overflow ? NULL : strdup(b->sql + mark + strlen(" WHERE true"));
    b->len = mark;
    b->sql[mark] = '\0';
    if (!rest) goto out;
    add(b, "WITH m AS MATERIALIZED (");
    for (int i = 0; i < 4; i++)
      add(b, "%sSELECT r.id, r.given_folded, r.name_folded FROM records r WHERE %s >= fold($%d) AND %s < fold($%d) || chr(1114111)%s",
          i ? " UNION " : "", arm[i], n, arm[i], n, rest);
    free(rest);
    add(b, "), p AS (SELECT m.id FROM m WHERE true");
    keyset_cond(b, q, " AND (m.given_folded, m.name_folded COLLATE \"C\", m.id) > ($%d, $%d, $%d::bigint)");
    add(b, " ORDER BY m.given_folded, m.name_folded COLLATE \"C\", m.id LIMIT $%d) ", param(b, lim));
    add(b, "SELECT %s, %s, (SELECT count(*) FROM m) FROM records r JOIN p ON p.id = r.id ORDER BY %s", select_cols,
        keys, by);
    if (b->overflow) goto out;
    r = db_exec(db, b->sql, b->n, b->params);
    if (r) r = total_or_count(db, q, r, total, b, keys);
    goto out;
  }
  if (set(q->name)) {
    /* A name finds few people (a full name hundreds of a million, a given name tens of
     * thousands): reading them once for both the count and the page beats walking an order
     * index with a filter, which the planner may pick when it misjudges the name's rarity. */
    add(b, "WITH m AS MATERIALIZED (SELECT %s, %s FROM records r", select_cols, keys);
    where(b, q, rg, 1);
    if (q->order == SEARCH_BY_BIRTH) add(b, " AND r.birth_date IS NOT NULL");
    add(b, ") SELECT r.*, (SELECT count(*) FROM m) FROM m r WHERE true");
    /* The outer query names the CTE's columns as r.*: the keyset fragments are the same. */
    const char *k = q->order == SEARCH_BY_BIRTH     ? " AND (r.k1::date, r.k2::bigint) > ($%d::date, $%d::bigint)"
                    : q->order == SEARCH_BY_UPDATED ? " AND (r.k1::timestamptz, r.k2::bigint) < ($%d::timestamptz, $%d::bigint)"
                                                   : " AND (r.k1, r.k2 COLLATE \"C\", r.k3::bigint) > ($%d, $%d, $%d::bigint)";
    keyset_cond(b, q, k);
    const char *o = q->order == SEARCH_BY_BIRTH     ? "r.k1::date, r.k2::bigint"
                    : q->order == SEARCH_BY_UPDATED ? "r.k1::timestamptz DESC, r.k2::bigint DESC"
                                                   : "r.k1, r.k2 COLLATE \"C\", r.k3::bigint";
    add(b, " ORDER BY %s LIMIT $%d", o, param(b, lim));
    if (b->overflow) goto out;
    r = db_exec(db, b->sql, b->n, b->params);
    if (r) r = total_or_count(db, q, r, total, b, keys);
    goto out;
  }
  if (count_all(db, q, total) != 0) goto out;
  add(b, "SELECT %s, %s FROM records r", select_cols, keys);
  where(b, q, rg, 1);
  if (q->order == SEARCH_BY_BIRTH) add(b, " AND r.birth_date IS NOT NULL");
  keyset_cond(b, q, keyset);
  add(b, " ORDER BY %s LIMIT $%d", by, param(b, lim));
  if (!b->overflow) r = db_exec(db, b->sql, b->n, b->params);
out:
  if (b) sqlb_free(b);
  free(b);
  free(rg);
  return r;
}

static int count_all(db_conn *db, const search_query *q, long long *total) {
  sqlb *b = calloc(1, sizeof *b);
  ranges *rg = malloc(sizeof *rg);
  int rc = -1;
  if (!b || !rg) goto out;
  add(b, "SELECT count(*) FROM records r");
  where(b, q, rg, 1);
  if (b->overflow) goto out;
  PGresult *r = db_exec(db, b->sql, b->n, b->params);
  if (!r) goto out;
  *total = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  rc = 0;
out:
  if (b) sqlb_free(b);
  free(b);
  free(rg);
  return rc;
}

static Hoso__Records__V1__RecordSummary *row_summary(srv_ctx *ctx, const PGresult *r, int i) {
  Hoso__Records__V1__RecordSummary *s = srv_new(ctx, &hoso__records__v1__record_summary__descriptor);
  s->id = srv_strdup(ctx, PQgetvalue(r, i, SS_ID));
  s->full_name = srv_strdup(ctx, PQgetvalue(r, i, SS_FULL_NAME));
  s->birth_date = srv_strdup(ctx, PQgetvalue(r, i, SS_BIRTH_DATE));
  s->gender = atoi(PQgetvalue(r, i, SS_GENDER));
  s->managing_unit_id = srv_strdup(ctx, PQgetvalue(r, i, SS_UNIT_ID));
  s->managing_unit_path = srv_strdup(ctx, PQgetvalue(r, i, SS_UNIT_PATH));
  s->status = atoi(PQgetvalue(r, i, SS_STATUS));
  s->workflow_state = atoi(PQgetvalue(r, i, SS_WORKFLOW));
  s->rank_code = srv_strdup(ctx, PQgetvalue(r, i, SS_RANK));
  s->position_code = srv_strdup(ctx, PQgetvalue(r, i, SS_POSITION));
  s->category = atoi(PQgetvalue(r, i, SS_CATEGORY));
  s->ethnicity_code = srv_strdup(ctx, PQgetvalue(r, i, SS_ETHNICITY));
  s->degree_code = srv_strdup(ctx, PQgetvalue(r, i, SS_DEGREE));
  s->home_town = srv_strdup(ctx, PQgetvalue(r, i, SS_HOME_TOWN));
  s->version = strtoll(PQgetvalue(r, i, SS_VERSION), NULL, 10);
  s->updated_at = srv_strdup(ctx, PQgetvalue(r, i, SS_UPDATED_AT));
  return s;
}

int search_page(srv_ctx *ctx, const search_query *q, search_row **rows, size_t *n, long long *total) {
  PGresult *r = page_rows(ctx->db, q, total);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *rows = srv_alloc(ctx, (*n ? *n : 1) * sizeof **rows);
  for (size_t i = 0; i < *n; i++) {
    search_row *x = &(*rows)[i];
    x->summary = row_summary(ctx, r, (int)i);
    for (int k = 0; k < 3; k++) x->key[k] = srv_strdup(ctx, PQgetvalue(r, (int)i, SS_KEY1 + k));
  }
  PQclear(r);
  return 0;
}
