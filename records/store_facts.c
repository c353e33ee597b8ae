/* The SQL of the reporting facts (migrations/030_report_facts.sql): a record's periods made
 * again from its versions after each write, and the first periods of a bulk import. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "facts.h"
#include "log.h"
#include "store_records.h"
#include "timeline.h"

/* "(n.valid_from, n.valid_to, n.<fact>...) IS NOT DISTINCT FROM (f.valid_from, ...)" and the
 * column list, built once from REC_FACTS. */
static char *cols_list(const char *prefix) {
  size_t cap = 64;
  for (int i = 0; i < REC_N_FACTS; i++) cap += strlen(rec_fact_names[i]) + strlen(prefix) + 2;
  char *s = malloc(cap);
  if (!s) return NULL;
  size_t o = (size_t)snprintf(s, cap, "%svalid_from, %svalid_to", prefix, prefix);
  for (int i = 0; i < REC_N_FACTS; i++) o += (size_t)snprintf(s + o, cap - o, ", %s%s", prefix, rec_fact_names[i]);
  return s;
}

static char *refresh_text, *insert_text;
static pthread_once_t texts_once = PTHREAD_ONCE_INIT;

static char *refresh_sql(void);
static void build_texts(void) {
  refresh_text = refresh_sql();
  char *plain = cols_list("");
  if (plain && asprintf(&insert_text,
                        "INSERT INTO fact_periods (record_id, %s) SELECT record_id, %s "
                        "FROM jsonb_populate_recordset(NULL::fact_periods, $1::jsonb)",
                        plain, plain) < 0)
    insert_text = NULL;
  free(plain);
}

static char *refresh_sql(void) {
  char *n = cols_list("n."), *f = cols_list("f."), *plain = cols_list(""), *sql = NULL;
  if (n && f && plain &&
      asprintf(&sql,
               "WITH new AS (SELECT * FROM jsonb_populate_recordset(NULL::fact_periods, $2::jsonb)), "
               /* rows written earlier in this same transaction were never seen: replaced outright */
               "dropped AS (DELETE FROM fact_periods f WHERE f.record_id = $1::bigint AND f.known_to = 'infinity' "
               "  AND f.known_from = now() AND NOT EXISTS (SELECT 1 FROM new n WHERE (%s) IS NOT DISTINCT FROM (%s))), "
               "closed AS (UPDATE fact_periods f SET known_to = now() WHERE f.record_id = $1::bigint "
               "  AND f.known_to = 'infinity' AND f.known_from < now() "
               "  AND NOT EXISTS (SELECT 1 FROM new n WHERE (%s) IS NOT DISTINCT FROM (%s))) "
               "INSERT INTO fact_periods (record_id, %s) SELECT $1::bigint, %s FROM new n "
               "WHERE NOT EXISTS (SELECT 1 FROM fact_periods f WHERE f.record_id = $1::bigint "
               "  AND f.known_to = 'infinity' AND (%s) IS NOT DISTINCT FROM (%s))",
               n, f, n, f, plain, n, n, f) < 0)
    sql = NULL;
  free(n);
  free(f);
  free(plain);
  return sql;
}

/* One period as a JSON object of fact_periods' columns; facts that are JSON documents go in
 * as such (a jsonb column given a string would store the string). */
static json_t *period_json(const char *record_id, const char *from, const char *to, const char *const *facts) {
  json_t *o = json_object();
  if (!o) return NULL;
  if (record_id) json_object_set_new(o, "record_id", json_string(record_id));
  json_object_set_new(o, "valid_from", json_string(from));
  json_object_set_new(o, "valid_to", json_string(to ? to : "infinity"));
  for (int i = 0; i < REC_N_FACTS; i++) {
    json_t *v = !facts[i] ? json_null()
                : rec_fact_is_json[i] ? json_loads(facts[i], 0, NULL)
                                      : json_string(facts[i]);
    json_object_set_new(o, rec_fact_names[i], v ? v : json_null());
  }
  return o;
}

static int set_scope_back(srv_ctx *ctx, int rc) {
  if (db_set_scope(ctx->db, ctx->auth ? ctx->auth->scope : "") != 0) return -1;
  return rc;
}

int record_facts_refresh(srv_ctx *ctx, const char *record_id) {
  pthread_once(&texts_once, build_texts);
  const char *sql = refresh_text;
  if (db_set_scope(ctx->db, "*") != 0) return -1;
  /* A transfer package's past (versions 0 and below, ImportRecordHistory) was lived in another
   * deployment: here the person counts from the version that took them in. */
  PGresult *r = db_q(ctx->db,
                     "SELECT effective_date::text, unit_path::text, data FROM record_versions "
                     "WHERE record_id = $1::bigint AND version > 0 ORDER BY version",
                     1, record_id);
  if (!r) return set_scope_back(ctx, -1);
  int n = PQntuples(r), rc = 0;
  tl_version *v = srv_alloc(ctx, (size_t)(n ? n : 1) * sizeof *v);
  for (int i = 0; i < n && rc == 0; i++) {
    rec_t *rec = (rec_t *)record_unpack_col(ctx, &hoso__records__v1__record__descriptor, r, i, 2);
    if (!rec) {
      rc = srv_fail_internal(ctx);
      break;
    }
    /* the access path of each version follows the unit tree (unit_sync); data keeps the path
     * of the day it was written */
    rec->managing_unit_path = srv_strdup(ctx, PQgetvalue(r, i, 1));
    const char **facts = srv_alloc(ctx, REC_N_FACTS * sizeof *facts);
    rec_facts(ctx, rec, facts);
    v[i].eff = srv_strdup(ctx, PQgetvalue(r, i, 0));
    v[i].facts = facts;
  }
  PQclear(r);
  if (rc != 0) return set_scope_back(ctx, rc);
  tl_period *p = srv_alloc(ctx, (size_t)(n ? n : 1) * sizeof *p);
  const char **buf = srv_alloc(ctx, (size_t)(n ? n : 1) * REC_N_FACTS * sizeof *buf);
  int np = tl_compose(v, (size_t)n, REC_N_FACTS, p, buf);
  json_t *arr = json_array();
  for (int i = 0; arr && i < np; i++) json_array_append_new(arr, period_json(NULL, p[i].from, p[i].to, p[i].facts));
  char *doc = arr && np >= 0 ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  if (!doc || !sql) {
    free(doc);
    log_error("record_facts_refresh: record %s: no timeline (%d periods)", record_id, np);
    return set_scope_back(ctx, srv_fail_internal(ctx));
  }
  rc = db_cmd(ctx->db, sql, 2, record_id, doc) == 0 ? 0 : -1;
  free(doc);
  return set_scope_back(ctx, rc);
}

int record_facts_insert_new(srv_ctx *ctx, rec_t *const *recs, const char *const *eff, size_t n) {
  if (n == 0) return 0;
  pthread_once(&texts_once, build_texts);
  const char *sql = insert_text;
  if (!sql) return srv_fail_internal(ctx);
  json_t *arr = json_array();
  const char *facts[REC_N_FACTS];
  for (size_t i = 0; arr && i < n; i++) {
    rec_facts(ctx, recs[i], facts);
    json_array_append_new(arr, period_json(recs[i]->id, eff[i], NULL, facts));
  }
  char *doc = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  if (!doc) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; import fewer rows at a time");
  int rc = db_cmd(ctx->db, sql, 1, doc) == 0 ? 0 : -1;
  free(doc);
  return rc;
}

long record_marks_prune(srv_ctx *ctx, int keep_hours) {
  char h[16];
  snprintf(h, sizeof h, "%d", keep_hours);
  PGresult *r = db_q(ctx->db, "SELECT report_marks_prune(make_interval(hours => $1::int))", 1, h);
  if (!r) return -1;
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}
