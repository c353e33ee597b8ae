/* SearchRecords: any combination of criteria over the records in the caller's scope, sorted,
 * in keyset pages with the total count of matches, and one audit row of the criteria. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "records.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_search.h"
#include "val.h"

#define QUERY_MAX_CHARS 200
#define TOKEN_KEY_MAX 2048

typedef Hoso__Records__V1__SearchRecordsRequest search_req;
typedef Hoso__Records__V1__RecordSummary summary;

/* ------------------------------------------------------------ validation ---------------- */

static int check_date(srv_ctx *ctx, const char *field, const char *v) {
  if (!v || !*v) return 0;
  const char *e = val_date(v);
  return e ? srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", field, e) : 0;
}

static int check_range(srv_ctx *ctx, const char *from_field, const char *from, const char *to_field,
                       const char *to) {
  if (check_date(ctx, from_field, from) || check_date(ctx, to_field, to)) return -1;
  if (from && *from && to && *to && strcmp(from, to) > 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: must not be after %s", to_field, from_field);
  return 0;
}

static int check_codes(srv_ctx *ctx, const char *field, char **v, size_t n, search_list *out) {
  if (n > SEARCH_MAX_LIST)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: at most %d codes", field, SEARCH_MAX_LIST);
  for (size_t i = 0; i < n; i++) {
    const char *e = val_code(v[i]);
    if (e) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s[%zu]: %s", field, i, e);
  }
  out->v = (const char *const *)v;
  out->n = n;
  return 0;
}

/* Enum lists arrive as the wire's int values: anything outside [lo, hi] is not one of ours. */
static int check_enums(srv_ctx *ctx, const char *field, const int *v, size_t n, int lo, int hi,
                       const char *names) {
  if (n > SEARCH_MAX_LIST)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: at most %d values", field, SEARCH_MAX_LIST);
  for (size_t i = 0; i < n; i++)
    if (v[i] < lo || v[i] > hi)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s[%zu]: %d is not one of %s", field, i, v[i],
                      names);
  return 0;
}

/* Search words: NFC like the stored names, trimmed and single-spaced, so "Nguyễn  Văn" written
 * with decomposed accents or two spaces folds like the stored "Nguyễn Văn". NULL when empty. */
static int clean_query(srv_ctx *ctx, const char *field, const char *in, const char **out) {
  *out = NULL;
  if (!in || !*in) return 0;
  const char *c;
  if (srv_clean_text(ctx, field, in, 0, QUERY_MAX_CHARS, &c)) return -1;
  if (*c) *out = c;
  return 0;
}

/* ------------------------------------------------------------ page tokens --------------- */

/* A token is the sort order and the last row's key: [order, key parts...] (search_keys(order)
 * of them; the name order: given name, folded name, id). A token of another order, or one this
 * service did not write, is refused rather than guessed at. */
static int token_read(srv_ctx *ctx, const char *token, int order, search_query *q) {
  if (!token || !*token) return 0;
  char key[TOKEN_KEY_MAX];
  json_t *a = NULL;
  size_t parts = (size_t)search_keys(order);
  int ok = val_page_token_decode(token, key, sizeof key) == 0 && (a = json_loads(key, 0, NULL)) &&
           json_is_array(a) && json_array_size(a) == parts + 1 && json_is_integer(json_array_get(a, 0)) &&
           json_integer_value(json_array_get(a, 0)) == order;
  for (size_t i = 1; ok && i <= parts; i++) {
    json_t *v = json_array_get(a, i);
    ok = json_is_string(v);
    if (ok) q->after[i - 1] = srv_strdup(ctx, json_string_value(v));
  }
  /* The id is a number; the other parts are read by PostgreSQL as their types and a bad one
   * fails there, so check the shapes here to answer INVALID_ARGUMENT, not INTERNAL. */
  const char *id = ok ? q->after[parts - 1] : NULL;
  if (ok) ok = id && !val_id(id);
  if (ok && order == SEARCH_BY_BIRTH) ok = !val_date(q->after[0]);
  if (ok && order == SEARCH_BY_UPDATED) ok = strlen(q->after[0]) >= 19 && strlen(q->after[0]) <= 40;
  if (ok && order == SEARCH_BY_RANK)
    ok = strlen(q->after[0]) == 1 && q->after[0][0] >= '0' && q->after[0][0] <= '2' &&
         (!strcmp(q->after[3], "infinity") || !val_date(q->after[3]));
  json_decref(a);
  if (ok) return 0;
  for (int i = 0; i < SEARCH_KEYS; i++) q->after[i] = NULL;
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                  "page_token: not a token of this search and order; start again without one");
}

static char *token_write(srv_ctx *ctx, int order, const char *const *key) {
  json_t *a = json_pack("[i]", order);
  for (int i = 0; a && i < search_keys(order); i++) json_array_append_new(a, json_string(key[i]));
  char *k = a ? json_dumps(a, JSON_COMPACT) : NULL;
  json_decref(a);
  char *out = srv_page_token(ctx, k);
  free(k);
  return out;
}

/* ------------------------------------------------------------ audit ----------------------- */

static void put_s(json_t *o, const char *k, const char *v) {
  if (v && *v) json_object_set_new(o, k, json_string(v));
}

static void put_list(json_t *o, const char *k, const search_list *l) {
  if (!l->n) return;
  json_t *a = json_array();
  for (size_t i = 0; i < l->n; i++) json_array_append_new(a, json_string(l->v[i]));
  json_object_set_new(o, k, a);
}

static void put_ints(json_t *o, const char *k, const int *v, size_t n) {
  if (!n) return;
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer(v[i]));
  json_object_set_new(o, k, a);
}

/* What was asked and which records were shown (their ids, not their content): who looked for
 * whom, and whom they saw. */
static json_t *criteria_json(const search_req *in, const search_query *q, const char *unit_path,
                             const Hoso__Records__V1__SearchRecordsResponse *out) {
  json_t *o = json_object();
  if (!o) return NULL;
  put_s(o, "unit_id", in->unit_id);
  put_s(o, "unit_path", unit_path);
  if (in->direct_only) json_object_set_new(o, "direct_only", json_true());
  put_s(o, "name", q->name);
  put_s(o, "text", q->text);
  put_s(o, "birth_date_from", q->birth_from);
  put_s(o, "birth_date_to", q->birth_to);
  put_s(o, "recruited_from", q->recruited_from);
  put_s(o, "recruited_to", q->recruited_to);
  if (q->gender) json_object_set_new(o, "gender", json_integer(q->gender));
  if (q->party) json_object_set_new(o, "party_member", json_integer(q->party));
  put_list(o, "ethnicity_codes", &q->ethnicity);
  put_list(o, "religion_codes", &q->religion);
  put_list(o, "rank_codes", &q->rank);
  put_list(o, "position_codes", &q->position);
  put_list(o, "degree_codes", &q->degree);
  put_list(o, "political_theory_codes", &q->political);
  put_ints(o, "categories", q->categories, q->n_categories);
  put_ints(o, "statuses", q->statuses, q->n_statuses);
  put_ints(o, "workflow_states", q->workflow_states, q->n_workflow_states);
  json_object_set_new(o, "order", json_integer(q->order));
  json_object_set_new(o, "page_size", json_integer(q->limit - 1));
  if (q->after[0]) json_object_set_new(o, "next_page", json_true());
  json_t *ids = json_array();
  for (size_t i = 0; ids && i < out->n_records; i++) json_array_append_new(ids, json_string(out->records[i]->id));
  json_object_set_new(o, "ids", ids);
  json_object_set_new(o, "total", json_integer(out->total));
  if (out->total_is_lower_bound) json_object_set_new(o, "total_is_lower_bound", json_true());
  return o;
}

/* ------------------------------------------------------------ the search ---------------- */

typedef struct {
  const search_req *in;
  search_query q;
  const char *unit_path; /* the subtree searched, for the audit row */
  Hoso__Records__V1__SearchRecordsResponse *out;
} search_st;

static int search_tx(srv_ctx *ctx, void *p) {
  search_st *st = p;
  search_query *q = &st->q;
  Hoso__Records__V1__SearchRecordsResponse *o = st->out;
  o->n_records = 0;
  o->next_page_token = "";

  long long total = 0;
  int more = 0;
  search_row *rows;
  size_t n;
  SRV_TRY(search_page(ctx, q, &rows, &n, &total, &more));
  o->total = total;
  o->total_is_lower_bound = more != 0;
  size_t size = (size_t)q->limit - 1, shown = n > size ? size : n;
  o->records = srv_alloc(ctx, (shown ? shown : 1) * sizeof *o->records);
  for (size_t i = 0; i < shown; i++) o->records[o->n_records++] = rows[i].summary;
  /* One row more than the page was asked for: only then is there a next page. */
  if (n > size) {
    const search_row *last = &rows[shown - 1];
    o->next_page_token = token_write(ctx, q->order, last->key);
    if (!o->next_page_token) return (srv_fail_internal(ctx), DB_TX_ROLLBACK);
  }
  return 0;
}

/* Where the caller may look: the unit asked for (within the scope), else the whole scope; a
 * caller whose only role is SELF sees its own record and nothing else. */
static int decide_scope(srv_ctx *ctx, const search_req *in, search_st *st, char path[UNIT_TREE_PATH_MAX]) {
  const tok_claims *a = ctx->auth;
  search_query *q = &st->q;
  if (!(scope_rights(a->roles) & RIGHT_READ)) {
    /* SELF: the search runs over the one record the token names; unit criteria cannot widen it. */
    if (!(a->roles & ROLE_SELF) || !*a->record_id)
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "searching records needs the READER role");
    q->record_id = a->record_id;
    st->unit_path = a->unit_path;
    return 0;
  }
  if (in->unit_id && *in->unit_id) {
    if (unit_tree_path(ctx, "unit_id", in->unit_id, path)) return -1;
    if (!scope_allows(a, path, RIGHT_READ))
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope",
                      in->unit_id);
    st->unit_path = path;
    if (in->direct_only) {
      q->unit_id = in->unit_id;
    } else {
      q->scope[0] = path;
      q->n_scope = 1;
    }
    return 0;
  }
  if (in->direct_only)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "direct_only: needs unit_id");
  st->unit_path = a->unit_path;
  if (strcmp(a->scope, "*") == 0) return 0;
  /* The token's scope: comma separated paths (a service account may hold several). */
  char *s = srv_strdup(ctx, a->scope), *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!*t) continue;
    if (q->n_scope == SEARCH_MAX_PATHS)
      return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                      "your account's scope names more than %d units; search one unit_id at a time",
                      SEARCH_MAX_PATHS);
    q->scope[q->n_scope++] = t;
  }
  /* An empty scope sees nothing: make the filter say so rather than drop it. */
  if (!q->n_scope) q->scope[q->n_scope++] = "-";
  return 0;
}

int rpc_search_records(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const search_req *in = (const void *)req;
  search_st st = {.in = in};
  search_query *q = &st.q;
  char path[UNIT_TREE_PATH_MAX];

  int size = val_page_size(in->page_size);
  if (size < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 (default 50) and 500");
  q->limit = size + 1;
  if (in->order < 0 || in->order > HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_UPDATED)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "order: %d is not one of SEARCH_ORDER_NAME, SEARCH_ORDER_BIRTH_DATE, SEARCH_ORDER_UPDATED",
                    (int)in->order);
  q->order = in->order == HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_BIRTH_DATE ? SEARCH_BY_BIRTH
             : in->order == HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_UPDATED  ? SEARCH_BY_UPDATED
                                                                                    : SEARCH_BY_NAME;
  if (in->unit_id && *in->unit_id && srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  if (clean_query(ctx, "name", in->name, &q->name) || clean_query(ctx, "text", in->text, &q->text) ||
      check_range(ctx, "birth_date_from", in->birth_date_from, "birth_date_to", in->birth_date_to) ||
      check_range(ctx, "recruited_from", in->recruited_from, "recruited_to", in->recruited_to))
    return -1;
  q->birth_from = in->birth_date_from;
  q->birth_to = in->birth_date_to;
  q->recruited_from = in->recruited_from;
  q->recruited_to = in->recruited_to;
  if (in->gender < 0 || in->gender > HOSO__RECORDS__V1__GENDER__GENDER_FEMALE)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "gender: %d is not one of GENDER_MALE, GENDER_FEMALE",
                    (int)in->gender);
  q->gender = in->gender;
  if (in->party_member < 0 || in->party_member > 2)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "party_member: must be 0 (any), 1 (members) or 2 (non-members)");
  q->party = in->party_member;
  if (check_codes(ctx, "ethnicity_codes", in->ethnicity_codes, in->n_ethnicity_codes, &q->ethnicity) ||
      check_codes(ctx, "religion_codes", in->religion_codes, in->n_religion_codes, &q->religion) ||
      check_codes(ctx, "rank_codes", in->rank_codes, in->n_rank_codes, &q->rank) ||
      check_codes(ctx, "position_codes", in->position_codes, in->n_position_codes, &q->position) ||
      check_codes(ctx, "degree_codes", in->degree_codes, in->n_degree_codes, &q->degree) ||
      check_codes(ctx, "political_theory_codes", in->political_theory_codes, in->n_political_theory_codes,
                  &q->political))
    return -1;
  /* protobuf-c keeps repeated enums as int arrays of the wire values. */
  if (check_enums(ctx, "categories", (const int *)in->categories, in->n_categories,
                  HOSO__RECORDS__V1__CATEGORY__CATEGORY_CADRE, HOSO__RECORDS__V1__CATEGORY__CATEGORY_COMMUNE_OFFICIAL,
                  "CATEGORY_CADRE .. CATEGORY_COMMUNE_OFFICIAL") ||
      check_enums(ctx, "statuses", (const int *)in->statuses, in->n_statuses,
                  HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE,
                  HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_DECEASED,
                  "RECORD_STATUS_ACTIVE .. RECORD_STATUS_DECEASED") ||
      check_enums(ctx, "workflow_states", (const int *)in->workflow_states, in->n_workflow_states,
                  HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT,
                  HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_REJECTED,
                  "WORKFLOW_STATE_DRAFT .. WORKFLOW_STATE_REJECTED"))
    return -1;
  q->categories = (const int *)in->categories;
  q->n_categories = in->n_categories;
  q->statuses = (const int *)in->statuses;
  q->n_statuses = in->n_statuses;
  q->workflow_states = (const int *)in->workflow_states;
  q->n_workflow_states = in->n_workflow_states;
  /* A name query in name order lists the best matches first (store_search.h). */
  if (q->order == SEARCH_BY_NAME && q->name) q->order = SEARCH_BY_RANK;
  if (token_read(ctx, in->page_token, q->order, q)) return -1;
  if (srv_need_right(ctx, RIGHT_READ, 1, "searching records needs the READER role")) return -1;
  if (decide_scope(ctx, in, &st, path)) return -1;

  st.out = srv_new(ctx, &hoso__records__v1__search_records_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, search_tx, &st) != 0) return -1;
  /* The summaries are personal data: the read is durable before they are sent. */
  audit_entry e = {.action = "RECORD_SEARCH", .target_type = "record", .target_id = "", .unit_path = st.unit_path};
  if (srv_audit_read(ctx, &e, criteria_json(in, q, st.unit_path, st.out)) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
