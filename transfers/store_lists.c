/* The SQL of the lists: a unit's notices newest first and the deadlines of a subtree, each one
 * keyset page under the caller's scope (the transfers' own list is in store_transfers.c, beside
 * the row it reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lists.h"

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static char *col(srv_ctx *ctx, const PGresult *r, int row, int c) { return srv_strdup(ctx, PQgetvalue(r, row, c)); }
static const char *nul(const char *s) { return s && *s ? s : NULL; }

const char *store_int_array(srv_ctx *ctx, const int *v, size_t n) {
  char *s = srv_alloc(ctx, n * 12 + 3);
  size_t l = 0;
  s[l++] = '{';
  for (size_t i = 0; i < n; i++) l += (size_t)sprintf(s + l, "%s%d", i ? "," : "", v[i]);
  s[l++] = '}';
  s[l] = 0;
  return s;
}

int store_notice_list(srv_ctx *ctx, const char *unit_path, const char *before, int limit,
                      Hoso__Transfers__V1__Notice ***out, size_t *n, int *more) {
  PGresult *r = db_q(ctx->db,
                     "SELECT id::text, unit_id::text, transfer_id::text, record_id::text, kind, text, " UTC("created_at")
                     " FROM notices WHERE unit_path OPERATOR(public.<@) $1::public.ltree "
                     "AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY notices.id DESC LIMIT $3::int",
                     3, unit_path, before, srv_printf(ctx, "%d", limit + 1));
  if (!r) return -1;
  size_t take = srv_page_cut((size_t)PQntuples(r), limit, more);
  *out = srv_alloc(ctx, (take ? take : 1) * sizeof **out);
  *n = 0;
  for (int i = 0; i < (int)take; i++) {
    Hoso__Transfers__V1__Notice *x = srv_new(ctx, &hoso__transfers__v1__notice__descriptor);
    x->id = col(ctx, r, i, 0);
    x->unit_id = col(ctx, r, i, 1);
    x->transfer_id = col(ctx, r, i, 2);
    x->record_id = col(ctx, r, i, 3);
    x->kind = col(ctx, r, i, 4);
    x->text = col(ctx, r, i, 5);
    x->created_at = col(ctx, r, i, 6);
    (*out)[(*n)++] = x;
  }
  PQclear(r);
  return 0;
}

/* The statement names only the filters given (4 optional ones: 16 texts per page size, each
 * prepared once per session): with "$1 IS NULL OR ..." in the text PostgreSQL planned every call
 * again (a custom plan, 0.1-0.3 ms against 0.05 ms to run it); a text without them runs on the
 * plan cached at its first use. */
int store_deadline_list(srv_ctx *ctx, const deadline_filter *f, deadline_row **out, int *n, int *more,
                        long long *settings_version) {
  const char *p[8];
  int np = 0;
  char sql[1024];
  size_t l = (size_t)snprintf(sql, sizeof sql, "%s",
                              "SELECT id::text, source, step, coalesce(transfer_id::text, ''), record_id::text, "
                              "record_name, ref, unit_id::text, coalesce(effective_date::text, ''), "
                              "previous_date::text, due_date::text, estimated, " SETTINGS_VERSION_SQL
                              " FROM deadlines WHERE due_date IS NOT NULL");
  if (f->unit_path) {
    p[np++] = srv_printf(ctx, "%s.", f->unit_path);
    p[np++] = srv_printf(ctx, "%s/", f->unit_path);
    l += (size_t)snprintf(sql + l, sizeof sql - l, " AND unit_key >= $%d::text AND unit_key < $%d::text", np - 1, np);
  }
  if (f->n_steps) {
    p[np++] = store_int_array(ctx, f->steps, f->n_steps);
    l += (size_t)snprintf(sql + l, sizeof sql - l, " AND step = ANY ($%d::smallint[])", np);
  }
  if (nul(f->before)) {
    p[np++] = f->before;
    l += (size_t)snprintf(sql + l, sizeof sql - l, " AND due_date < $%d::date", np);
  }
  if (nul(f->after_due)) {
    p[np++] = f->after_due;
    p[np++] = nul(f->after_id) ? f->after_id : "0";
    l += (size_t)snprintf(sql + l, sizeof sql - l, " AND (due_date, id) > ($%d::date, $%d::bigint)", np - 1, np);
  }
  /* The limit as a number in the text (a page size already checked, 1..501): with LIMIT $n the
   * generic plan's cost is guessed for an unknown limit and PostgreSQL keeps planning anew. */
  snprintf(sql + l, sizeof sql - l, " ORDER BY deadlines.due_date, deadlines.id LIMIT %d", f->limit + 1);
  PGresult *r = db_exec(ctx->db, sql, np, p);
  if (!r) return -1;
  int take = (int)srv_page_cut((size_t)PQntuples(r), f->limit, more);
  *out = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof **out);
  *n = take;
  *settings_version = 0;
  for (int i = 0; i < take; i++) {
    deadline_row *d = &(*out)[i];
    d->id = col(ctx, r, i, 0);
    d->source = atoi(PQgetvalue(r, i, 1));
    d->step = atoi(PQgetvalue(r, i, 2));
    d->transfer_id = col(ctx, r, i, 3);
    d->record_id = col(ctx, r, i, 4);
    d->record_name = col(ctx, r, i, 5);
    d->ref = col(ctx, r, i, 6);
    d->unit_id = col(ctx, r, i, 7);
    d->effective_date = col(ctx, r, i, 8);
    d->previous_date = col(ctx, r, i, 9);
    d->due_date = col(ctx, r, i, 10);
    d->estimated = PQgetvalue(r, i, 11)[0] == 't';
    *settings_version = atoll(PQgetvalue(r, i, 12));
  }
  PQclear(r);
  return 0;
}

int store_step_counts(srv_ctx *ctx, const char *unit_id, const char *path, const char *from, const char *to,
                      Hoso__Transfers__V1__UnitStepCount ***out, size_t *n) {
#define DONE_DAY "(s.done_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
  PGresult *r = db_q(ctx->db,
                     "SELECT CASE WHEN nlevel(s.unit_path) > nlevel($2::public.ltree) "
                     "THEN subpath(s.unit_path, nlevel($2::public.ltree), 1)::text ELSE $1 END, "
                     "count(*) FILTER (WHERE s.done_at IS NOT NULL AND " DONE_DAY " BETWEEN $3::date AND $4::date "
                     "AND " DONE_DAY " <= s.due_date), "
                     "count(*) FILTER (WHERE (s.done_at IS NOT NULL AND " DONE_DAY " BETWEEN $3::date AND $4::date "
                     "AND " DONE_DAY " > s.due_date) OR ((s.done_at IS NULL OR " DONE_DAY " > $4::date) "
                     "AND s.due_date < $4::date AND (s.opened_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= $4::date)) "
                     "FROM transfer_steps s WHERE s.unit_path OPERATOR(public.<@) $2::public.ltree "
                     "AND s.kind BETWEEN 5 AND 10 AND s.due_date IS NOT NULL GROUP BY 1 ORDER BY 1",
                     4, unit_id, path, from, to);
#undef DONE_DAY
  if (!r) return -1;
  *n = 0;
  *out = srv_alloc(ctx, (size_t)(PQntuples(r) ? PQntuples(r) : 1) * sizeof **out);
  for (int i = 0; i < PQntuples(r); i++) {
    Hoso__Transfers__V1__UnitStepCount *u = srv_new(ctx, &hoso__transfers__v1__unit_step_count__descriptor);
    u->unit_id = col(ctx, r, i, 0);
    u->on_time = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    u->overdue = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    if (u->on_time || u->overdue) (*out)[(*n)++] = u;
  }
  PQclear(r);
  return 0;
}
