/* SearchRecords' SQL: the WHERE clause of every criterion as btree ranges and equalities (the
 * only conditions row-level security lets PostgreSQL serve from an index, see 003_search.sql),
 * a name or free-text query through the word indexes of search_match (020_search_index.sql),
 * the keyset order of each sort, the page query and the count (exact up to a cap). */
#include "store_search.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of a page's rows, in order (select_cols, then the sort key, then the count). */
enum {
  SS_ID, SS_FULL_NAME, SS_BIRTH_DATE, SS_GENDER, SS_UNIT_ID, SS_UNIT_PATH, SS_STATUS,
  SS_WORKFLOW, SS_RANK, SS_POSITION, SS_CATEGORY, SS_ETHNICITY, SS_DEGREE, SS_HOME_TOWN,
  SS_VERSION, SS_UPDATED_AT, SS_KEY1, SS_NCOLS = SS_KEY1 + SEARCH_KEYS
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

int search_keys(int order) {
  return order == SEARCH_BY_RANK ? 5 : order == SEARCH_BY_NAME ? 3 : 2;
}

/* The scope paths as the strings of their unit_key range: "1.4." <= key < "1.4/" holds the
 * unit 1.4 and every unit below it, never 1.41 ('/' follows '.' in byte order). */
typedef struct {
  char lo[SEARCH_MAX_PATHS][520], hi[SEARCH_MAX_PATHS][520];
} ranges;

/* The service's own scope rule (the caller's units, or the unit asked for) on column key_col,
 * and the SELF caller's one record on id_col. */
static void where_scope(sqlb *b, const search_query *q, ranges *rg, const char *key_col, const char *id_col) {
  if (q->n_scope) {
    add(b, " AND (");
    for (size_t i = 0; i < q->n_scope && i < SEARCH_MAX_PATHS; i++) {
      snprintf(rg->lo[i], sizeof rg->lo[i], "%s.", q->scope[i]);
      snprintf(rg->hi[i], sizeof rg->hi[i], "%s/", q->scope[i]);
      int lo = param(b, rg->lo[i]), hi = param(b, rg->hi[i]);
      add(b, "%s(%s >= $%d AND %s < $%d)", i ? " OR " : "", key_col, lo, key_col, hi);
    }
    add(b, ")");
  }
  if (set(q->record_id)) add(b, " AND %s = $%d::bigint", id_col, param(b, q->record_id));
}

/* Every other criterion, on the records row r. */
static void where_record(sqlb *b, const search_query *q) {
  if (set(q->unit_id)) add(b, " AND r.managing_unit_id = $%d::bigint", param(b, q->unit_id));
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

/* Any criterion where_record writes: the matches of a word query must then be joined to their
 * records rows. */
static int has_record_criteria(const search_query *q) {
  return set(q->unit_id) || set(q->birth_from) || set(q->birth_to) || set(q->recruited_from) ||
         set(q->recruited_to) || q->gender || q->party || q->ethnicity.n || q->religion.n || q->rank.n ||
         q->position.n || q->degree.n || q->political.n || q->n_categories || q->n_statuses || q->n_workflow_states;
}

/* The page's SELECT list and ORDER BY for the sort asked over records r, and the keyset
 * condition after the previous page's last row. */
static void order_parts(int order, const char **keys, const char **keyset, const char **by) {
  switch (order) {
    case SEARCH_BY_BIRTH:
      /* Plain birth_date: an expression such as COALESCE is not leakproof, so under row-level
       * security an index on it is never used. Every record the service writes has a birth
       * date (rec_validate), and this order lists only records that have one. */
      *keys = "r.birth_date::text AS k1, r.id::text AS k2";
      *keyset = " AND r.birth_date IS NOT NULL AND (r.birth_date, r.id) > ($%d::date, $%d::bigint)";
      *by = "r.birth_date, r.id";
      break;
    case SEARCH_BY_UPDATED:
      /* timestamptz text carries its offset and microseconds: it reads back to the same instant */
      *keys = "r.updated_at::text AS k1, r.id::text AS k2";
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

/* The keyset condition `keyset` (printf with one %d per part) after q->after. */
static void keyset_cond(sqlb *b, const search_query *q, const char *keyset) {
  if (!q->after[0]) return;
  int k[SEARCH_KEYS];
  for (int i = 0; i < search_keys(q->order); i++) k[i] = param(b, q->after[i] ? q->after[i] : "");
  switch (search_keys(q->order)) {
    case 2: add(b, keyset, k[0], k[1]); break;
    case 3: add(b, keyset, k[0], k[1], k[2]); break;
    default: add(b, keyset, k[0], k[1], k[2], k[3], k[4]); break;
  }
}

/* A name or free-text query: search_match gives the matches the transaction's scope may see
 * (the database's scope rule, as row-level security would apply it) with their sort keys, from
 * the word indexes; the service's own unit ranges and every other criterion are applied to
 * them, each match read once for both the count and the choice of the page, and only the
 * page's rows are read from records. One statement whatever the page: the count comes on a
 * row of its own when the page is empty (past the last page). */
static PGresult *word_rows(db_conn *db, const search_query *q) {
  sqlb *b = calloc(1, sizeof *b);
  ranges *rg = malloc(sizeof *rg);
  PGresult *r = NULL;
  if (!b || !rg) goto out;
  int join = has_record_criteria(q) || q->order == SEARCH_BY_UPDATED;
  int n = param(b, set(q->name) ? q->name : ""), t = param(b, set(q->text) ? q->text : "");
  add(b, "WITH m AS MATERIALIZED (SELECT s.record_id AS id, s.rank AS rk, s.given_folded AS g, "
         "s.name_folded AS nf, s.birth_date AS bd%s FROM search_match($%d, $%d) s%s WHERE true",
      join ? ", r.updated_at AS up" : "", n, t, join ? " JOIN records r ON r.id = s.record_id" : "");
  where_scope(b, q, rg, "s.unit_key", "s.record_id");
  if (join) where_record(b, q);
  if (q->order == SEARCH_BY_BIRTH) add(b, " AND s.birth_date IS NOT NULL");
  /* the matches' keys: text in the function's output, so "C" is named for byte order */
  const char *keys, *keyset, *by;
  switch (q->order) {
    case SEARCH_BY_RANK:
      keys = "p.rk::text, p.g, p.nf, coalesce(p.bd, 'infinity')::text, p.id::text";
      keyset = " AND (m.rk, m.g COLLATE \"C\", m.nf COLLATE \"C\", coalesce(m.bd, 'infinity'), m.id) > "
               "($%d::smallint, $%d, $%d, $%d::date, $%d::bigint)";
      by = "rk, g COLLATE \"C\", nf COLLATE \"C\", coalesce(bd, 'infinity'), id";
      break;
    case SEARCH_BY_BIRTH:
      keys = "p.bd::text, p.id::text, '', '', ''";
      keyset = " AND (m.bd, m.id) > ($%d::date, $%d::bigint)";
      by = "bd, id";
      break;
    case SEARCH_BY_UPDATED:
      keys = "p.up::text, p.id::text, '', '', ''";
      keyset = " AND (m.up, m.id) < ($%d::timestamptz, $%d::bigint)";
      by = "up DESC, id DESC";
      break;
    default:
      keys = "p.g, p.nf, p.id::text, '', ''";
      keyset = " AND (m.g COLLATE \"C\", m.nf COLLATE \"C\", m.id) > ($%d, $%d, $%d::bigint)";
      by = "g COLLATE \"C\", nf COLLATE \"C\", id";
      break;
  }
  char lim[16];
  snprintf(lim, sizeof lim, "%d", q->limit > 0 ? q->limit : 1);
  add(b, "), p AS (SELECT * FROM m WHERE true");
  keyset_cond(b, q, keyset);
  add(b, " ORDER BY %s LIMIT $%d) ", by, param(b, lim));
  /* counted up to one past the cap: search_page reports more than that as "more than cap" */
  char cap1[24];
  snprintf(cap1, sizeof cap1, "%d", search_count_cap() + 1);
  add(b, "SELECT %s, %s, c.n FROM (SELECT count(*) AS n FROM (SELECT 1 FROM m LIMIT $%d) x) c "
         "LEFT JOIN (p JOIN records r ON r.id = p.id) ON true ORDER BY ",
      select_cols, keys, param(b, cap1));
  /* the same order, on p's columns */
  const char *pby = q->order == SEARCH_BY_RANK ? "p.rk, p.g COLLATE \"C\", p.nf COLLATE \"C\", coalesce(p.bd, 'infinity'), p.id"
                    : q->order == SEARCH_BY_BIRTH   ? "p.bd, p.id"
                    : q->order == SEARCH_BY_UPDATED ? "p.up DESC, p.id DESC"
                                                    : "p.g COLLATE \"C\", p.nf COLLATE \"C\", p.id";
  add(b, "%s", pby);
  db_commit_with_next(db); /* the only statement: it and its COMMIT in one round trip */
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
  /* stops at one past the cap: a province's whole list is not counted row by row */
  char cap1[24];
  snprintf(cap1, sizeof cap1, "%d", search_count_cap() + 1);
  add(b, "SELECT count(*) FROM (SELECT 1 FROM records r WHERE true");
  where_scope(b, q, rg, "r.unit_key", "r.id");
  where_record(b, q);
  add(b, " LIMIT $%d) x", param(b, cap1));
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

/* Every record in scope that meets the criteria, in an order an index gives (003, 005): the
 * count, then the page. */
static PGresult *list_rows(db_conn *db, const search_query *q, long long *total) {
  sqlb *b = calloc(1, sizeof *b);
  ranges *rg = malloc(sizeof *rg);
  PGresult *r = NULL;
  if (!b || !rg) goto out;
  const char *keys, *keyset, *by;
  order_parts(q->order, &keys, &keyset, &by);
  char lim[16];
  snprintf(lim, sizeof lim, "%d", q->limit > 0 ? q->limit : 1);
  if (count_all(db, q, total) != 0) goto out;
  add(b, "SELECT %s, %s%s FROM records r WHERE true", select_cols, keys,
      q->order == SEARCH_BY_NAME ? ", '', ''" : ", '', '', ''");
  where_scope(b, q, rg, "r.unit_key", "r.id");
  where_record(b, q);
  if (q->order == SEARCH_BY_BIRTH) add(b, " AND r.birth_date IS NOT NULL");
  keyset_cond(b, q, keyset);
  add(b, " ORDER BY %s LIMIT $%d", by, param(b, lim));
  db_commit_with_next(db); /* the transaction's last statement: it and its COMMIT in one round trip */
  if (!b->overflow) r = db_exec(db, b->sql, b->n, b->params);
out:
  if (b) sqlb_free(b);
  free(b);
  free(rg);
  return r;
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

int search_count_cap(void) {
  static atomic_int cap;
  int c = atomic_load(&cap);
  if (!c) {
    const char *e = getenv("HOSO_SEARCH_COUNT_CAP");
    long v = e && *e ? strtol(e, NULL, 10) : 0;
    c = v >= 1 && v <= 1000000 ? (int)v : SEARCH_COUNT_CAP;
    atomic_store(&cap, c);
  }
  return c;
}

int search_page(srv_ctx *ctx, const search_query *q, search_row **rows, size_t *n, long long *total, int *more) {
  int words = set(q->name) || set(q->text);
  PGresult *r = words ? word_rows(ctx->db, q) : list_rows(ctx->db, q, total);
  if (!r) return -1;
  size_t got = (size_t)PQntuples(r);
  if (words) {
    /* one row at least, which carries the count; an empty page is that row with no record */
    *total = got ? strtoll(PQgetvalue(r, 0, SS_NCOLS), NULL, 10) : 0;
    if (got == 1 && PQgetisnull(r, 0, SS_ID)) got = 0;
  }
  *n = got;
  *rows = srv_alloc(ctx, (*n ? *n : 1) * sizeof **rows);
  for (size_t i = 0; i < *n; i++) {
    search_row *x = &(*rows)[i];
    x->summary = row_summary(ctx, r, (int)i);
    for (int k = 0; k < SEARCH_KEYS; k++) x->key[k] = srv_strdup(ctx, PQgetvalue(r, (int)i, SS_KEY1 + k));
  }
  PQclear(r);
  *more = *total > search_count_cap();
  if (*more) *total = search_count_cap();
  return 0;
}
