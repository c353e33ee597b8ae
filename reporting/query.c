/* What every report shares: the day and knowledge it is about, the unit it covers (within the
 * caller's scope), SearchRecords' criteria as filters, and the FROM ... WHERE over the facts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "db.h"
#include "identity.pb-c.h"
#include "log.h"
#include "reporting.h"
#include "rules.h"
#include "svc_client.h"
#include "scope.h"
#include "val.h"
#include "workdays.h"

/* ------------------------------------------------------------ when ---------------------- */

rdate rp_today(void) {
  rdate d;
  wd_ymd(wd_vietnam_day((int64_t)time(NULL)), &d.y, &d.m, &d.d);
  return d;
}

static int check_day(srv_ctx *ctx, const char *field, const char *v, rdate *out) {
  if (rdate_parse(v, out) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: must be a date YYYY-MM-DD (got \"%.20s\")", field, v);
  rdate first = {1945, 1, 1};
  if (rdate_cmp(*out, first) < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s is before 1945; the records start in 1945", field, v);
  if (rdate_cmp(*out, rp_today()) > 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s is in the future; report on today or a past day",
                    field, v);
  return 0;
}

/* The snapshot's month (YYYY-MM-01) into w->as_of and w->day, on reporting's own connection. */
static int snapshot_tx(srv_ctx *ctx, void *p) {
  rp_when *w = p;
  char id[24];
  snprintf(id, sizeof id, "%lld", w->snapshot);
  PGresult *r = db_q(ctx->db, "SELECT to_char(month, 'YYYY-MM-DD') FROM snapshots WHERE id = $1::bigint", 1, id);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (found) snprintf(w->as_of, sizeof w->as_of, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  if (!found)
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "when.snapshot_id: there is no snapshot %s; ListSnapshots shows "
                    "the months taken",
                    id);
  if (rdate_parse(w->as_of, &w->day) != 0) {
    log_error("reporting: snapshot %s has the month \"%s\"", id, w->as_of);
    return srv_fail_internal(ctx), DB_TX_ROLLBACK;
  }
  return 0;
}

int rp_when_check(srv_ctx *ctx, const Hoso__Reporting__V1__When *when, rp_when *out) {
  memset(out, 0, sizeof *out);
  out->day = rp_today();
  const char *as_of = when && when->as_of ? when->as_of : "";
  const char *known = when && when->known_on ? when->known_on : "";
  const char *snap = when && when->snapshot_id ? when->snapshot_id : "";
  if (*snap) {
    if (*as_of || *known)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "when.snapshot_id: a snapshot has its own day; leave as_of and known_on empty");
    if (srv_check_id(ctx, "when.snapshot_id", snap)) return -1;
    out->snapshot = strtoll(snap, NULL, 10);
    /* the report is of the snapshot's day: its ages, its date line, its file's name, its audit */
    return srv_tx(ctx, DB_READ_COMMITTED, snapshot_tx, out);
  }
  if (*as_of && check_day(ctx, "when.as_of", as_of, &out->day)) return -1;
  rdate k;
  if (*known) {
    if (check_day(ctx, "when.known_on", known, &k)) return -1;
    rdate_fmt(k, out->known_on);
  }
  rdate_fmt(out->day, out->as_of);
  return 0;
}

/* ------------------------------------------------------------ the unit ------------------ */

int rp_unit_resolve(srv_ctx *ctx, const char *unit_id, rp_unit *out) {
  memset(out, 0, sizeof *out);
  const tok_claims *a = ctx->auth;
  if (!a) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "a token is needed");
  const char *id = unit_id && *unit_id ? unit_id : a->unit_id;
  if (srv_check_id(ctx, "unit_id", id)) return -1;
  Hoso__Identity__V1__Unit *u = NULL;
  cli_status st;
  grpc_status_code c = unit_tree_get(ctx, id, &u, &st);
  if (c == GRPC_STATUS_NOT_FOUND || c == GRPC_STATUS_INVALID_ARGUMENT)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unit_id: no unit %s", id);
  if (c == GRPC_STATUS_PERMISSION_DENIED)
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope", id);
  if (c != GRPC_STATUS_OK)
    return svc_fail_downstream(ctx, &st, SVC_AS_CALLER, "identity", "/hoso.identity.v1.Identity/GetUnit");
  if (!scope_allows(a, u->path, RIGHT_READ))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: reading the people of unit %s needs a role there "
                    "or above", id);
  out->id = u->id;
  out->path = u->path;
  out->name = u->name;
  out->code = u->code;
  out->quota = u->staffing_quota;
  return 0;
}

static int levels(const char *path) {
  int n = 1;
  for (; *path; path++) n += *path == '.';
  return n;
}

int rp_unit_children(srv_ctx *ctx, const rp_unit *u, int depth, rp_unit **out, size_t *n) {
  Hoso__Identity__V1__GetUnitSubtreeRequest req = HOSO__IDENTITY__V1__GET_UNIT_SUBTREE_REQUEST__INIT;
  req.unit_id = (char *)u->id;
  req.max_depth = depth;
  req.page_size = 500;
  size_t cap = 16;
  *out = srv_alloc(ctx, cap * sizeof **out);
  *n = 0;
  for (;;) {
    ProtobufCMessage *resp = NULL;
    cli_status st;
    const char *method = "/hoso.identity.v1.Identity/GetUnitSubtree";
    if (svc_call_as_caller(ctx, "identity", method, &req.base, &hoso__identity__v1__get_unit_subtree_response__descriptor,
                           &resp, &st) != GRPC_STATUS_OK)
      return svc_fail_downstream(ctx, &st, SVC_AS_CALLER, "identity", method);
    Hoso__Identity__V1__GetUnitSubtreeResponse *r = (Hoso__Identity__V1__GetUnitSubtreeResponse *)resp;
    for (size_t i = 0; i < r->n_units; i++) {
      /* max_depth counts from the unit's children: keep what `depth` levels allow */
      if (depth > 0 && levels(r->units[i]->path) > levels(u->path) + depth - 1) continue;
      if (*n == cap) {
        rp_unit *g = srv_alloc(ctx, 2 * cap * sizeof *g);
        memcpy(g, *out, cap * sizeof *g);
        *out = g;
        cap *= 2;
      }
      rp_unit *x = &(*out)[(*n)++];
      memset(x, 0, sizeof *x);
      x->id = r->units[i]->id;
      x->path = r->units[i]->path;
      x->name = r->units[i]->name;
      x->quota = r->units[i]->staffing_quota;
    }
    char *next = r->next_page_token && *r->next_page_token ? r->next_page_token : NULL; /* in the arena */
    if (!next) break;
    req.page_token = next;
  }
  return 0;
}

/* ------------------------------------------------------------ filters ------------------- */

static int bad(srv_ctx *ctx, const char *field, const char *crit, const char *why) {
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.%s: %s", field, crit, why);
}

static int codes_ok(srv_ctx *ctx, const char *field, const char *crit, char **v, size_t n) {
  if (n > 200) return bad(ctx, field, crit, "at most 200 codes");
  for (size_t i = 0; i < n; i++) {
    const char *e = val_code(v[i]);
    if (e) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.%s[%zu]: %s", field, crit, i, e);
  }
  return 0;
}

static int enums_ok(srv_ctx *ctx, const char *field, const char *crit, const int *v, size_t n, int hi) {
  if (n > 20) return bad(ctx, field, crit, "at most 20 values");
  for (size_t i = 0; i < n; i++)
    if (v[i] < 1 || v[i] > hi)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.%s[%zu]: %d is not a value of the enum", field, crit, i, v[i]);
  return 0;
}

static int date_ok(srv_ctx *ctx, const char *field, const char *crit, const char *v) {
  if (!v || !*v) return 0;
  const char *e = val_date(v);
  return e ? bad(ctx, field, crit, e) : 0;
}

int rp_filters_check(srv_ctx *ctx, const char *field, const rp_filters *f) {
  if (!f) return 0;
  if (f->unit_id && *f->unit_id) return bad(ctx, field, "unit_id", "give the unit as the request's unit_id");
  if (f->page_size || (f->page_token && *f->page_token) || f->order)
    return bad(ctx, field, "page_size", "paging and order are not filters; leave them unset");
  if ((f->name && strlen(f->name) > 200) || (f->text && strlen(f->text) > 200))
    return bad(ctx, field, f->name && strlen(f->name) > 200 ? "name" : "text", "at most 200 characters");
  if (date_ok(ctx, field, "birth_date_from", f->birth_date_from) || date_ok(ctx, field, "birth_date_to", f->birth_date_to) ||
      date_ok(ctx, field, "recruited_from", f->recruited_from) || date_ok(ctx, field, "recruited_to", f->recruited_to))
    return -1;
  if (f->gender < 0 || f->gender > 2) return bad(ctx, field, "gender", "must be 1 (male) or 2 (female)");
  if (f->party_member < 0 || f->party_member > 2) return bad(ctx, field, "party_member", "must be 0 (any), 1 (yes) or 2 (no)");
  return codes_ok(ctx, field, "ethnicity_codes", f->ethnicity_codes, f->n_ethnicity_codes) ||
                 codes_ok(ctx, field, "religion_codes", f->religion_codes, f->n_religion_codes) ||
                 codes_ok(ctx, field, "rank_codes", f->rank_codes, f->n_rank_codes) ||
                 codes_ok(ctx, field, "position_codes", f->position_codes, f->n_position_codes) ||
                 codes_ok(ctx, field, "degree_codes", f->degree_codes, f->n_degree_codes) ||
                 codes_ok(ctx, field, "political_theory_codes", f->political_theory_codes, f->n_political_theory_codes) ||
                 enums_ok(ctx, field, "categories", (const int *)f->categories, f->n_categories, 5) ||
                 enums_ok(ctx, field, "statuses", (const int *)f->statuses, f->n_statuses, 6) ||
                 enums_ok(ctx, field, "workflow_states", (const int *)f->workflow_states, f->n_workflow_states, 4)
             ? -1
             : 0;
}

static void codes(qb *q, const char *col, char **v, size_t n) {
  if (!n) return;
  qb_add(q, " AND %s = ANY(", col);
  qb_param_array(q, (const char *const *)v, n, "::text[]");
  qb_add(q, ")");
}

static void enums(qb *q, const char *col, const int *v, size_t n) {
  if (!n) return;
  char nums[20][12];
  const char *p[20];
  for (size_t i = 0; i < n && i < 20; i++) {
    snprintf(nums[i], sizeof nums[i], "%d", v[i]);
    p[i] = nums[i];
  }
  qb_add(q, " AND %s = ANY(", col);
  qb_param_array(q, p, n > 20 ? 20 : n, "::smallint[]");
  qb_add(q, ")");
}

static void range(qb *q, const char *col, const char *from, const char *to) {
  if (from && *from) qb_add(q, " AND %s >= ", col), qb_param(q, from, "::date");
  if (to && *to) qb_add(q, " AND %s <= ", col), qb_param(q, to, "::date");
}

void rp_from_where(qb *q, const rp_when *w, const rp_unit *u, const rp_filters *f, int at_work, const char *join) {
  if (w->snapshot) {
    char id[24];
    snprintf(id, sizeof id, "%lld", w->snapshot);
    qb_add(q, " FROM reporting.snapshot_facts f%s WHERE f.snapshot_id = ", join ? join : "");
    qb_param(q, id, "::bigint");
  } else {
    qb_add(q, " FROM records.report_facts f%s WHERE ", join ? join : "");
    if (w->known_on[0]) {
      /* the end of that day in Vietnam */
      qb_add(q, "f.known_from <= ((");
      qb_param(q, w->known_on, "::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')");
      qb_add(q, " AND f.known_to > ((");
      qb_param(q, w->known_on, "::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')");
    } else {
      qb_add(q, "f.known_to = 'infinity'");
    }
    qb_add(q, " AND f.valid_from <= ");
    qb_param(q, w->as_of, "::date");
    qb_add(q, " AND f.valid_to > ");
    qb_param(q, w->as_of, "::date");
  }
  qb_add(q, " AND f.unit_path OPERATOR(public.<@) ");
  qb_param(q, u->path, "::public.ltree");
  if (f && f->direct_only) qb_add(q, " AND f.unit_path = "), qb_param(q, u->path, "::public.ltree");
  if (f && f->n_statuses)
    enums(q, "f.status", (const int *)f->statuses, f->n_statuses);
  else if (at_work)
    qb_add(q, " AND f.status IN (1, 2)");
  if (!f) return;
  if (f->name && *f->name) {
    /* from the start of any word of the name, with or without diacritics */
    qb_add(q, " AND (' ' || f.name_folded) LIKE '%% ' || records.fold(");
    qb_param(q, f->name, "::text");
    qb_add(q, ") || '%%'");
  }
  range(q, "f.birth_date", f->birth_date_from, f->birth_date_to);
  if (f->gender) qb_add(q, " AND f.gender = %d", (int)f->gender);
  codes(q, "f.ethnicity_code", f->ethnicity_codes, f->n_ethnicity_codes);
  codes(q, "f.religion_code", f->religion_codes, f->n_religion_codes);
  codes(q, "f.rank_code", f->rank_codes, f->n_rank_codes);
  codes(q, "f.position_code", f->position_codes, f->n_position_codes);
  codes(q, "f.degree_code", f->degree_codes, f->n_degree_codes);
  codes(q, "f.political_theory_code", f->political_theory_codes, f->n_political_theory_codes);
  if (f->party_member) qb_add(q, " AND f.party_member = %s", f->party_member == 1 ? "true" : "false");
  enums(q, "f.category", (const int *)f->categories, f->n_categories);
  range(q, "f.recruitment_date", f->recruited_from, f->recruited_to);
  enums(q, "f.workflow_state", (const int *)f->workflow_states, f->n_workflow_states);
  if (f->text && *f->text) {
    qb_add(q, " AND f.record_id IN (SELECT t.record_id FROM records.report_search_text t WHERE t.search_text LIKE "
              "'%%' || records.fold(");
    qb_param(q, f->text, "::text");
    qb_add(q, ") || '%%')");
  }
}
