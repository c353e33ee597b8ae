/* ListDeadlines: every open step of a unit subtree that has a deadline — transfer steps and
 * records' own steps alike — by due date, overdue first, with the working days left counted on
 * the calendar in force. One indexed query per page (the settings version rides along).
 * CountSteps: the steps of a period on time and overdue, for the reporting service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lists.h"
#include "scope.h"
#include "val.h"

#define CF(x) HOSO__TRANSFERS__V1__COUNT_FROM__COUNT_FROM_##x
#define KEY_MAX 64

typedef struct {
  deadline_filter f;
  Hoso__Transfers__V1__ListDeadlinesResponse *out;
} dl_st;

static int deadlines_tx(srv_ctx *ctx, void *p) {
  dl_st *st = p;
  deadline_row *rows;
  int n, more;
  long long version;
  /* Usually the only statement (the settings of its version are cached): it goes out with its
   * COMMIT, one round trip. A settings load after it reads in a transaction begun again, which
   * READ COMMITTED's per-statement snapshot already allowed. */
  db_commit_with_next(ctx->db);
  SRV_TRY(store_deadline_list(ctx, &st->f, &rows, &n, &more, &version));
  const tr_settings *s = NULL;
  if (n) SRV_TRY(settings_at(ctx, version, &s));
  Hoso__Transfers__V1__ListDeadlinesResponse *o = st->out;
  o->deadlines = srv_alloc(ctx, (size_t)(n ? n : 1) * sizeof *o->deadlines);
  wd_day today;
  wd_parse(o->today, &today);
  for (int i = 0; i < n; i++) {
    const deadline_row *r = &rows[i];
    Hoso__Transfers__V1__Deadline *d = srv_new(ctx, &hoso__transfers__v1__deadline__descriptor);
    d->source = r->source;
    d->step = r->step;
    d->transfer_id = (char *)r->transfer_id;
    d->record_id = (char *)r->record_id;
    d->record_name = (char *)r->record_name;
    d->unit_id = (char *)r->unit_id;
    d->ref = (char *)r->ref;
    d->due_date = (char *)r->due_date;
    d->estimated = r->estimated;
    /* What the allowance counts from under the rule in force. */
    int from_effective = r->step >= 1 && r->step < 12 && s->rules[r->step].count_from == CF(EFFECTIVE_DATE);
    d->start_date = (char *)(from_effective && *r->effective_date ? r->effective_date : r->previous_date);
    wd_day due;
    if (wd_parse(r->due_date, &due) == 0) {
      d->overdue = today > due;
      d->working_days_left = wd_left(s->cal, today, due, NULL);
    }
    o->deadlines[o->n_deadlines++] = d;
  }
  return more ? srv_page_next(ctx, &o->next_page_token, "%s|%s", rows[n - 1].due_date, rows[n - 1].id) : 0;
}

int rpc_list_deadlines(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ListDeadlinesRequest *in = (const void *)req;
  dl_st st = {0};
  if (in->n_steps > sizeof st.f.steps / sizeof st.f.steps[0])
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "steps: at most 16");
  for (size_t i = 0; i < in->n_steps; i++) {
    if (in->steps[i] < SK(NEW_RECORD) || in->steps[i] > SK(SECONDMENT_END))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "steps[%zu]: not a step kind", i);
    st.f.steps[st.f.n_steps++] = in->steps[i];
  }
  if ((st.f.limit = val_page_size(in->page_size)) < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token) {
    char key[KEY_MAX], *bar;
    wd_day d;
    if (val_page_token_decode(in->page_token, key, sizeof key) != 0 || !(bar = strchr(key, '|')) || val_id(bar + 1) ||
        (*bar = 0, wd_parse(key, &d) != 0))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    st.f.after_due = srv_strdup(ctx, key);
    st.f.after_id = srv_strdup(ctx, bar + 1);
  }
  if (srv_need_right(ctx, RIGHT_READ, 0, "deadlines are read by the roles with read access of the units concerned"))
    return -1;
  if (in->unit_id && *in->unit_id) {
    char p[UNIT_TREE_PATH_MAX];
    if (unit_tree_path(ctx, "unit_id", in->unit_id, p)) return -1;
    if (!scope_allows(ctx->auth, p, RIGHT_READ))
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope", in->unit_id);
    st.f.unit_path = srv_strdup(ctx, p);
  }
  st.out = srv_new(ctx, &hoso__transfers__v1__list_deadlines_response__descriptor);
  st.out->today = srv_alloc(ctx, 11);
  settings_today(st.out->today);
  if (in->overdue_only) st.f.before = st.out->today;
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, deadlines_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

typedef struct {
  const Hoso__Transfers__V1__CountStepsRequest *in;
  const char *path;
  Hoso__Transfers__V1__CountStepsResponse *out;
} count_st;

static int count_tx(srv_ctx *ctx, void *p) {
  count_st *st = p;
  return store_step_counts(ctx, st->in->unit_id, st->path, st->in->from, st->in->to, &st->out->units,
                           &st->out->n_units);
}

int rpc_count_steps(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__CountStepsRequest *in = (const void *)req;
  if (srv_check_id(ctx, "unit_id", in->unit_id) || srv_check_period(ctx, in->from, in->to)) return -1;
  /* The reporting service's column; people read the same figures through its compliance report. */
  if (srv_need_service(ctx, "CountSteps is asked by the reporting service; people see transfer steps counted "
                            "through reporting's compliance report"))
    return -1;
  char p[UNIT_TREE_PATH_MAX];
  if (unit_tree_path(ctx, "unit_id", in->unit_id, p)) return -1;
  if (!scope_allows(ctx->auth, p, RIGHT_READ))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope", in->unit_id);
  count_st st = {.in = in, .path = p,
                 .out = srv_new(ctx, &hoso__transfers__v1__count_steps_response__descriptor)};
  if (srv_tx(ctx, DB_READ_COMMITTED, count_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
