/* The SQL of the lists: a unit's transfers (inbox, outbox) by due date, its notices newest
 * first, and the deadlines of a subtree, each one keyset page under the caller's scope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lists.h"

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static char *col(srv_ctx *ctx, const PGresult *r, int row, int c) { return srv_strdup(ctx, PQgetvalue(r, row, c)); }
static const char *nul(const char *s) { return s && *s ? s : NULL; }

/* An int array literal ("{4,5}") of the values. */
static const char *int_array(srv_ctx *ctx, const int *v, size_t n) {
  char *s = srv_alloc(ctx, n * 12 + 3);
  size_t l = 0;
  s[l++] = '{';
  for (size_t i = 0; i < n; i++) l += (size_t)sprintf(s + l, "%s%d", i ? "," : "", v[i]);
  s[l++] = '}';
  s[l] = 0;
  return s;
}

int store_transfer_list(srv_ctx *ctx, list_filter *f, transfer_t ***out, size_t *n, int *more) {
  const char *p[8] = {f->unit_path ? f->unit_path : "", srv_printf(ctx, "%d", f->box),
                      int_array(ctx, f->states, f->n_states), nul(f->record_id), nul(f->after_due),
                      nul(f->after_id), srv_printf(ctx, "%d", f->limit + 1)};
  PGresult *r = db_exec(
      ctx->db,
      "SELECT id::text, record_id::text, record_name, kind, state, from_unit_id::text, coalesce(to_unit_id::text, ''), "
      "coalesce(final_unit_id::text, ''), decision_number, coalesce(effective_date::text, ''), destination, "
      "coalesce(start_date::text, ''), coalesce(end_date::text, ''), version, created_by, " UTC("created_at") ", "
      UTC("updated_at") ", CASE WHEN due_date = 'infinity' THEN '' ELSE due_date::text END, undelivered, "
      "delivery_error, due_date::text AS due_key FROM transfers "
      "WHERE ($3::smallint[] = '{}' OR state = ANY ($3::smallint[])) AND ($4::bigint IS NULL OR record_id = $4::bigint) "
      "AND ($1 = '' OR CASE $2::int "
      "  WHEN 1 THEN to_path OPERATOR(public.<@) $1::public.ltree OR final_path OPERATOR(public.<@) $1::public.ltree "
      "  WHEN 2 THEN from_path OPERATOR(public.<@) $1::public.ltree "
      "  ELSE from_path OPERATOR(public.<@) $1::public.ltree OR to_path OPERATOR(public.<@) $1::public.ltree "
      "    OR final_path OPERATOR(public.<@) $1::public.ltree END) "
      "AND ($5::date IS NULL OR due_date > $5::date OR (due_date = $5::date AND id < $6::bigint)) "
      "ORDER BY transfers.due_date, transfers.id DESC LIMIT $7::int",
      7, p);
  if (!r) return -1;
  int rows = PQntuples(r), take = rows > f->limit ? f->limit : rows;
  *out = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof **out);
  *n = 0;
  for (int i = 0; i < take; i++) {
    transfer_t *t = srv_new(ctx, &hoso__transfers__v1__transfer__descriptor);
    tr_decision_t *d = srv_new(ctx, &hoso__transfers__v1__decision__descriptor);
    t->id = col(ctx, r, i, 0);
    t->record_id = col(ctx, r, i, 1);
    t->record_name = col(ctx, r, i, 2);
    t->kind = atoi(PQgetvalue(r, i, 3));
    t->state = atoi(PQgetvalue(r, i, 4));
    t->from_unit_id = col(ctx, r, i, 5);
    t->to_unit_id = col(ctx, r, i, 6);
    t->final_unit_id = col(ctx, r, i, 7);
    d->number = col(ctx, r, i, 8);
    d->effective_date = col(ctx, r, i, 9);
    t->decision = d;
    t->destination = col(ctx, r, i, 10);
    t->start_date = col(ctx, r, i, 11);
    t->end_date = col(ctx, r, i, 12);
    t->version = atoll(PQgetvalue(r, i, 13));
    t->created_by = col(ctx, r, i, 14);
    t->created_at = col(ctx, r, i, 15);
    t->updated_at = col(ctx, r, i, 16);
    t->due_date = col(ctx, r, i, 17);
    t->delivered = atoi(PQgetvalue(r, i, 18)) == 0;
    t->delivery_error = col(ctx, r, i, 19);
    (*out)[(*n)++] = t;
  }
  *more = rows > f->limit;
  if (*more && take) {
    /* The key of the page's last row: its due date as stored ('infinity' included) and id. */
    f->next_key = srv_printf(ctx, "%s|%s", PQgetvalue(r, take - 1, 20), PQgetvalue(r, take - 1, 0));
  }
  PQclear(r);
  return 0;
}

int store_notice_list(srv_ctx *ctx, const char *unit_path, const char *before, int limit,
                      Hoso__Transfers__V1__Notice ***out, size_t *n, int *more) {
  PGresult *r = db_q(ctx->db,
                     "SELECT id::text, unit_id::text, transfer_id::text, record_id::text, kind, text, " UTC("created_at")
                     " FROM notices WHERE unit_path OPERATOR(public.<@) $1::public.ltree "
                     "AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3::int",
                     3, unit_path, before, srv_printf(ctx, "%d", limit + 1));
  if (!r) return -1;
  int rows = PQntuples(r), take = rows > limit ? limit : rows;
  *out = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof **out);
  *n = 0;
  for (int i = 0; i < take; i++) {
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
  *more = rows > limit;
  PQclear(r);
  return 0;
}

int store_deadline_list(srv_ctx *ctx, const deadline_filter *f, deadline_row **out, int *n, int *more,
                        long long *settings_version) {
  const char *lo = f->unit_path ? srv_printf(ctx, "%s.", f->unit_path) : NULL;
  const char *hi = f->unit_path ? srv_printf(ctx, "%s/", f->unit_path) : NULL;
  const char *p[8] = {lo, hi, int_array(ctx, f->steps, f->n_steps), nul(f->before), nul(f->after_due),
                      nul(f->after_id), srv_printf(ctx, "%d", f->limit + 1)};
  PGresult *r = db_exec(ctx->db,
                        "SELECT id::text, source, step, coalesce(transfer_id::text, ''), record_id::text, record_name, "
                        "ref, unit_id::text, coalesce(effective_date::text, ''), previous_date::text, due_date::text, "
                        "estimated, " SETTINGS_VERSION_SQL " FROM deadlines WHERE due_date IS NOT NULL "
                        "AND ($1::text IS NULL OR (unit_key >= $1::text AND unit_key < $2::text)) "
                        "AND ($3::smallint[] = '{}' OR step = ANY ($3::smallint[])) "
                        "AND ($4::date IS NULL OR due_date < $4::date) "
                        "AND ($5::date IS NULL OR (due_date, id) > ($5::date, $6::bigint)) "
                        "ORDER BY due_date, id LIMIT $7::int",
                        7, p);
  if (!r) return -1;
  int rows = PQntuples(r), take = rows > f->limit ? f->limit : rows;
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
  *more = rows > f->limit;
  PQclear(r);
  return 0;
}
