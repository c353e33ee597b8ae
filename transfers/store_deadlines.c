/* The SQL of the deadlines' own bookkeeping: where the copy of records' steps stands in their
 * feed, the replacement of a page of records' steps, and the open deadlines counted again
 * after a change of the policy or the calendar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "transfers.h"

/* A PostgreSQL array literal of texts, built in the arena; NULL elements where v is NULL. */
typedef struct {
  char *buf;
  size_t len, cap;
} arr;

static void arr_reserve(srv_ctx *ctx, arr *a, size_t extra) {
  if (a->len + extra <= a->cap) return;
  size_t cap = a->cap ? 2 * a->cap : 256;
  while (cap < a->len + extra) cap *= 2;
  char *b = srv_alloc(ctx, cap);
  if (a->len) memcpy(b, a->buf, a->len);
  a->buf = b;
  a->cap = cap;
}

static void arr_add(srv_ctx *ctx, arr *a, const char *v) {
  arr_reserve(ctx, a, (v ? 2 * strlen(v) : 4) + 4);
  a->buf[a->len] = a->len == 0 ? '{' : ',';
  a->len++;
  if (!v) {
    memcpy(a->buf + a->len, "NULL", 4);
    a->len += 4;
    return;
  }
  a->buf[a->len++] = '"';
  for (const char *c = v; *c; c++) {
    if (*c == '"' || *c == '\\') a->buf[a->len++] = '\\';
    a->buf[a->len++] = *c;
  }
  a->buf[a->len++] = '"';
}

static const char *arr_end(srv_ctx *ctx, arr *a) {
  if (!a->len) return "{}";
  arr_reserve(ctx, a, 2);
  a->buf[a->len++] = '}';
  a->buf[a->len] = 0;
  return a->buf;
}

int deadlines_cursor(srv_ctx *ctx, int lock, const char **position) {
  PGresult *r = db_q(ctx->db, lock ? "SELECT position FROM record_steps_cursor FOR UPDATE"
                                   : "SELECT position FROM record_steps_cursor",
                     0);
  if (!r) return -1;
  *position = srv_strdup(ctx, PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  return 0;
}

int deadlines_cursor_set(srv_ctx *ctx, const char *position) {
  return db_cmd(ctx->db, "UPDATE record_steps_cursor SET position = $1, updated_at = now()", 1, position);
}

int deadlines_replace_records(srv_ctx *ctx, const Hoso__Records__V1__ListRecordStepsResponse *page,
                              const char *const *dues, const int *estimated) {
  arr ids = {0}, steps = {0}, names = {0}, refs = {0}, units = {0}, paths = {0}, effs = {0}, prevs = {0}, due = {0},
      ests = {0}, recs = {0};
  size_t k = 0;
  for (size_t i = 0; i < page->n_records; i++) {
    const Hoso__Records__V1__RecordSteps *rs = page->records[i];
    arr_add(ctx, &ids, rs->record_id);
    for (size_t j = 0; j < rs->n_steps; j++, k++) {
      const Hoso__Records__V1__RecordStep *x = rs->steps[j];
      arr_add(ctx, &steps, srv_printf(ctx, "%d", x->kind));
      arr_add(ctx, &recs, rs->record_id);
      arr_add(ctx, &names, rs->full_name);
      arr_add(ctx, &refs, x->ref);
      arr_add(ctx, &units, rs->unit_id);
      arr_add(ctx, &paths, rs->unit_path);
      arr_add(ctx, &effs, *x->effective_date ? x->effective_date : NULL);
      arr_add(ctx, &prevs, x->previous_date);
      arr_add(ctx, &due, dues[k]);
      arr_add(ctx, &ests, estimated[k] ? "t" : "f");
    }
  }
  const char *gone[1] = {arr_end(ctx, &ids)};
  const char *rows[10] = {arr_end(ctx, &steps), arr_end(ctx, &recs),  arr_end(ctx, &names), arr_end(ctx, &refs),
                          arr_end(ctx, &units), arr_end(ctx, &paths), arr_end(ctx, &effs),  arr_end(ctx, &prevs),
                          arr_end(ctx, &due),   arr_end(ctx, &ests)};
  /* Each record given is the whole truth of its open steps: what was there goes. */
  if (db_cmd_later(ctx->db, "DELETE FROM deadlines WHERE source = 2 AND record_id = ANY ($1::bigint[])", 1, gone) != 0)
    return -1;
  return db_cmd_later(ctx->db,
                      "INSERT INTO deadlines (source, step, record_id, record_name, ref, unit_id, unit_path, "
                      "effective_date, previous_date, due_date, estimated) SELECT 2, * FROM unnest($1::smallint[], "
                      "$2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::public.ltree[], $7::date[], $8::date[], "
                      "$9::date[], $10::boolean[])",
                      10, rows);
}

int deadlines_open(srv_ctx *ctx, int except_step, deadline_open **out, int *n) {
  PGresult *r = db_q(ctx->db,
                     "SELECT id, step, coalesce(effective_date::text, ''), previous_date::text, "
                     "coalesce(due_date::text, ''), estimated FROM deadlines WHERE step <> $1::smallint",
                     1, srv_printf(ctx, "%d", except_step));
  if (!r) return -1;
  *n = PQntuples(r);
  *out = srv_alloc(ctx, (size_t)(*n ? *n : 1) * sizeof **out);
  for (int i = 0; i < *n; i++)
    (*out)[i] = (deadline_open){.id = srv_strdup(ctx, PQgetvalue(r, i, 0)),
                                .step = atoi(PQgetvalue(r, i, 1)),
                                .effective_date = srv_strdup(ctx, PQgetvalue(r, i, 2)),
                                .previous_date = srv_strdup(ctx, PQgetvalue(r, i, 3)),
                                .due_date = srv_strdup(ctx, PQgetvalue(r, i, 4)),
                                .estimated = PQgetvalue(r, i, 5)[0] == 't'};
  PQclear(r);
  return 0;
}

int deadlines_redate(srv_ctx *ctx, const deadline_open *rows, int n) {
  if (n == 0) return 0;
  arr ids = {0}, dues = {0}, ests = {0};
  for (int i = 0; i < n; i++) {
    arr_add(ctx, &ids, rows[i].id);
    arr_add(ctx, &dues, *rows[i].due_date ? rows[i].due_date : NULL);
    arr_add(ctx, &ests, rows[i].estimated ? "t" : "f");
  }
  /* The deadlines, then the copies kept with the transfer steps and the transfers' lists. */
  const char *p[3] = {arr_end(ctx, &ids), arr_end(ctx, &dues), arr_end(ctx, &ests)};
  return db_cmd_later(ctx->db,
                      "WITH u AS (SELECT * FROM unnest($1::bigint[], $2::date[], $3::boolean[]) AS u(id, due, est)), "
                      "d AS (UPDATE deadlines SET due_date = u.due, estimated = u.est FROM u WHERE deadlines.id = u.id "
                      "  RETURNING deadlines.transfer_id, u.due, u.est), "
                      "s AS (UPDATE transfer_steps ts SET due_date = d.due, due_estimated = d.est FROM d "
                      "  WHERE ts.transfer_id = d.transfer_id AND ts.done_at IS NULL RETURNING ts.transfer_id) "
                      "UPDATE transfers t SET due_date = coalesce(d.due, 'infinity') FROM d WHERE t.id = d.transfer_id",
                      3, p);
}
