/* ListAlerts (004 Đ5.2h): salary steps and beyond-frame seniority falling due (TT 03/2021),
 * retirements (NĐ 135/2020, to the month), secondments ending, records not updated for a year,
 * declared changes and approvals waiting past their deadline, transfer steps due or overdue (the
 * transfers service's ListDeadlines) — one list by unit subtree, soonest first. Each is computed
 * from today's facts by rules.c or asked of transfers; nothing is stored. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "reporting.h"
#include "rules.h"
#include "scope.h"
#include "val.h"

typedef Hoso__Reporting__V1__Alert alert_t;
enum { K_STEP = 1, K_SENIORITY, K_RETIRE, K_SECONDMENT, K_STALE, K_REQUEST, K_APPROVAL, K_TRANSFER, K_MAX = K_TRANSFER };

typedef struct {
  rp_when w;  /* today */
  rp_unit u;
  int want[K_MAX + 1];
  int within;
  rdate today, horizon;
  alert_t **a;
  size_t n, cap;
} job;

static void add(srv_ctx *ctx, job *j, int kind, const char *id, const char *name, const char *unit, const char *path,
                rdate due, const char *detail, const char *subject) {
  if (j->n == j->cap) {
    size_t cap = j->cap ? 2 * j->cap : 64;
    alert_t **g = srv_alloc(ctx, cap * sizeof *g);
    if (j->n) memcpy(g, j->a, j->n * sizeof *g);
    j->a = g;
    j->cap = cap;
  }
  alert_t *a = srv_new(ctx, &hoso__reporting__v1__alert__descriptor);
  char buf[11];
  a->kind = (Hoso__Reporting__V1__AlertKind)kind;
  a->record_id = srv_strdup(ctx, id);
  a->full_name = srv_strdup(ctx, name);
  a->managing_unit_id = srv_strdup(ctx, unit);
  a->managing_unit_path = srv_strdup(ctx, path);
  a->due_date = srv_strdup(ctx, rdate_fmt(due, buf));
  a->days_left = (int32_t)rdate_days_between(j->today, due);
  a->detail = srv_strdup(ctx, detail);
  a->subject_id = srv_strdup(ctx, subject ? subject : "");
  j->a[j->n++] = a;
}

static int in_window(const job *j, rdate d) { return rdate_cmp(d, j->today) >= 0 && rdate_cmp(d, j->horizon) <= 0; }

/* People at work today with what the person alerts need. */
static int people_alerts(srv_ctx *ctx, job *j) {
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT f.record_id::text, f.full_name, f.managing_unit_id::text, f.unit_path::text, f.gender, "
             "f.birth_date::text, f.category, f.salary_step, f.salary_date::text, COALESCE(f.seniority_percent, 0)::int, "
             "f.disciplines::text, f.secondment_until::text, COALESCE(c.step_years, 0), "
             "COALESCE(array_length(c.step_coefficients, 1), 0), f.salary_coefficient::text, "
             "c.step_coefficients[f.salary_step + 1]");
  /* the rank's salary table: one hashed join, not a lookup per row */
  rp_from_where(&q, &j->w, &j->u, NULL, 1,
                " LEFT JOIN records.report_catalog c ON c.catalog = 'RANK' AND c.code = f.rank_code");
  qb_add(&q, " ORDER BY f.record_id");
  if (q.oom) return qb_free(&q), srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  PGresult *r = db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
  qb_free(&q);
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *id = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1), *unit = PQgetvalue(r, i, 2),
               *path = PQgetvalue(r, i, 3);
    int gender = atoi(PQgetvalue(r, i, 4));
    rdate birth, since, until;
    if (j->want[K_RETIRE] && rdate_parse(PQgetvalue(r, i, 5), &birth) == 0) {
      rdate ret;
      if (rp_retirement_date(birth, gender, &ret) == 0 && in_window(j, ret))
        add(ctx, j, K_RETIRE, id, name, unit, path, ret,
            srv_printf(ctx, "Đến tuổi nghỉ hưu (NĐ 135/2020): nghỉ hưu từ %02d/%02d/%04d, hưởng lương hưu từ tháng %02d/%04d",
                       ret.d, ret.m, ret.y, ret.m % 12 + 1, ret.y + (ret.m == 12)),
            NULL);
    }
    if (j->want[K_SECONDMENT] && rdate_parse(PQgetvalue(r, i, 11), &until) == 0 && in_window(j, until))
      add(ctx, j, K_SECONDMENT, id, name, unit, path, until,
          srv_printf(ctx, "Hết thời hạn biệt phái ngày %02d/%02d/%04d", until.d, until.m, until.y), NULL);
    int step = atoi(PQgetvalue(r, i, 7)), years = atoi(PQgetvalue(r, i, 12)), last = atoi(PQgetvalue(r, i, 13));
    if ((j->want[K_STEP] || j->want[K_SENIORITY]) && step > 0 && years > 0 &&
        rdate_parse(PQgetvalue(r, i, 8), &since) == 0) {
      rp_discipline disc[16];
      size_t nd = 0;
      json_t *dj = PQgetisnull(r, i, 10) ? NULL : json_loads(PQgetvalue(r, i, 10), 0, NULL);
      size_t k;
      json_t *e;
      json_array_foreach(dj, k, e) {
        if (nd == 16) break;
        const char *from = json_string_value(json_object_get(e, "from"));
        char d10[11];
        snprintf(d10, sizeof d10, "%s", from ? from : "");
        if (strlen(d10) == 7) snprintf(d10, sizeof d10, "%.7s-01", from);
        if (rdate_parse(d10, &disc[nd].from) == 0) {
          disc[nd].form = srv_strdup(ctx, json_string_value(json_object_get(e, "form")));
          nd++;
        }
      }
      json_decref(dj);
      rp_step_in in = {.step_years = years, .step = step, .last_step = last, .since = since,
                       .seniority_percent = atoi(PQgetvalue(r, i, 9)), .public_employee = atoi(PQgetvalue(r, i, 6)) == 3,
                       .disciplines = disc, .n_disciplines = nd};
      rp_raise x;
      if (rp_next_raise(&in, &x) == 0 && in_window(j, x.due)) {
        const char *ext = x.extension_months ? srv_printf(ctx, "; kéo dài %d tháng do kỷ luật", x.extension_months) : "";
        if (x.kind == RP_RAISE_STEP && j->want[K_STEP])
          add(ctx, j, K_STEP, id, name, unit, path, x.due,
              srv_printf(ctx, "Nâng bậc lương thường xuyên: bậc %d → %d (hệ số %s → %s)%s", step, x.next_step,
                         PQgetvalue(r, i, 14), PQgetisnull(r, i, 15) ? "?" : PQgetvalue(r, i, 15), ext),
              NULL);
        if (x.kind == RP_RAISE_SENIORITY && j->want[K_SENIORITY])
          add(ctx, j, K_SENIORITY, id, name, unit, path, x.due,
              srv_printf(ctx, "Phụ cấp thâm niên vượt khung: %d%% → %d%%%s", in.seniority_percent, x.next_percent, ext), NULL);
      }
    }
  }
  PQclear(r);
  return 0;
}

/* Records whose last change was entered more than a year ago: due a year after it. */
static int stale_alerts(srv_ctx *ctx, job *j) {
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT f.record_id::text, f.full_name, f.managing_unit_id::text, f.unit_path::text, "
             "(max(v.changed_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date::text");
  rp_from_where(&q, &j->w, &j->u, NULL, 1, " JOIN records.report_versions v ON v.record_id = f.record_id");
  qb_add(&q, " GROUP BY 1, 2, 3, 4 HAVING max(v.changed_at) < (");
  qb_param(&q, j->w.as_of, "::date");
  qb_add(&q, " + ");
  char days[16];
  snprintf(days, sizeof days, "%d", j->within);
  qb_param(&q, days, "::int");
  qb_add(&q, " - 365)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'");
  if (q.oom) return qb_free(&q), srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  PGresult *r = db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
  qb_free(&q);
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    rdate last;
    if (rdate_parse(PQgetvalue(r, i, 4), &last) != 0) continue;
    rdate due = rdate_add_months(last, 12);
    add(ctx, j, K_STALE, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), due,
        srv_printf(ctx, "Hồ sơ chưa được cập nhật từ %02d/%02d/%04d", last.d, last.m, last.y), NULL);
  }
  PQclear(r);
  return 0;
}

/* Declared changes (due_at: 001 Đ9.2a) and submitted records waiting for approval (the policy's
 * HOSO_APPROVAL_DEADLINE_DAYS after the submission) that are due within the window or late. */
static int waiting_alerts(srv_ctx *ctx, job *j) {
  char days[16], deadline[16];
  snprintf(days, sizeof days, "%d", j->within);
  snprintf(deadline, sizeof deadline, "%ld", cfg_int("HOSO_APPROVAL_DEADLINE_DAYS", 10, 1, 365));
  if (j->want[K_REQUEST]) {
    PGresult *r = db_q(ctx->db,
                       "SELECT c.id::text, c.record_id::text, f.full_name, f.managing_unit_id::text, f.unit_path::text, "
                       "(c.due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date::text FROM records.report_change_requests c "
                       "JOIN records.report_facts f ON f.record_id = c.record_id AND f.known_to = 'infinity' "
                       "AND f.valid_from <= $2::date AND f.valid_to > $2::date "
                       "WHERE c.state = 1 AND c.unit_path OPERATOR(public.<@) $1::public.ltree "
                       "AND c.due_at < (($2::date + $3::int + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') ORDER BY c.due_at",
                       3, j->u.path, j->w.as_of, days);
    if (!r) return -1;
    for (int i = 0; i < PQntuples(r); i++) {
      rdate due;
      if (rdate_parse(PQgetvalue(r, i, 5), &due) != 0) continue;
      add(ctx, j, K_REQUEST, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), due,
          srv_printf(ctx, "Phiếu bổ sung lý lịch số %s chờ xác minh (hạn %02d/%02d/%04d)", PQgetvalue(r, i, 0), due.d, due.m,
                     due.y),
          PQgetvalue(r, i, 0));
    }
    PQclear(r);
  }
  if (j->want[K_APPROVAL]) {
    PGresult *r = db_q(ctx->db,
                       "SELECT f.record_id::text, f.full_name, f.managing_unit_id::text, f.unit_path::text, "
                       "((max(v.changed_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + $4::int)::text FROM records.report_facts f "
                       "JOIN records.report_versions v ON v.record_id = f.record_id AND v.action = 'SUBMIT' "
                       "WHERE f.known_to = 'infinity' AND f.valid_from <= $2::date AND f.valid_to > $2::date "
                       "AND f.workflow_state = 2 AND f.unit_path OPERATOR(public.<@) $1::public.ltree "
                       "GROUP BY 1, 2, 3, 4 HAVING (max(v.changed_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + $4::int <= $2::date + $3::int",
                       4, j->u.path, j->w.as_of, days, deadline);
    if (!r) return -1;
    for (int i = 0; i < PQntuples(r); i++) {
      rdate due;
      if (rdate_parse(PQgetvalue(r, i, 4), &due) != 0) continue;
      add(ctx, j, K_APPROVAL, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), due,
          srv_printf(ctx, "Hồ sơ chờ phê duyệt (hạn %02d/%02d/%04d)", due.d, due.m, due.y), NULL);
    }
    PQclear(r);
  }
  return 0;
}

static int alerts_tx(srv_ctx *ctx, void *p) {
  job *j = p;
  j->n = 0;
  if ((j->want[K_STEP] || j->want[K_SENIORITY] || j->want[K_RETIRE] || j->want[K_SECONDMENT]) && people_alerts(ctx, j))
    return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  if (j->want[K_STALE] && stale_alerts(ctx, j)) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  if ((j->want[K_REQUEST] || j->want[K_APPROVAL]) && waiting_alerts(ctx, j)) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  return 0;
}

/* Transfer steps (transfers' ListDeadlines, asked as reporting for the caller's unit) due within
 * the window or overdue. Before the read transaction: no transaction waits on another service. */
static int transfer_alerts(srv_ctx *ctx, job *j, const char **note) {
  static const char *const what[] = {
      [5] = "Chuyển hồ sơ sang phòng, ban khác", [6] = "Gửi hồ sơ đến đơn vị mới", [7] = "Tiếp nhận hồ sơ",
      [8] = "Chuyển tiếp hồ sơ đến đơn vị sử dụng", [9] = "Chuyển hồ sơ ra ngoài hệ thống",
      [10] = "Trả lời văn bản đề nghị chuyển hồ sơ"};
  char horizon[11];
  Hoso__Transfers__V1__Deadline **d;
  size_t n;
  int rc = rp_peer_deadlines(ctx, j->u.id, rdate_fmt(j->horizon, horizon), &d, &n, note);
  if (rc != 0) return rc < 0 ? -1 : 0;
  for (size_t i = 0; i < n; i++) {
    rdate due;
    if (rdate_parse(d[i]->due_date, &due) != 0) continue;
    int step = (int)d[i]->step;
    char path[UNIT_TREE_PATH_MAX] = "";
    if (unit_tree_path(ctx, "unit_id", d[i]->unit_id, path) != 0) { /* cached; a unit since dissolved: no path */
      srv_fail_take(ctx, NULL);
      path[0] = 0;
    }
    int left = d[i]->working_days_left;
    const char *when = d[i]->overdue ? srv_printf(ctx, "quá hạn %d ngày làm việc", -left)
                       : left == 0   ? "đến hạn hôm nay"
                                     : srv_printf(ctx, "còn %d ngày làm việc", left);
    add(ctx, j, K_TRANSFER, d[i]->record_id, d[i]->record_name, d[i]->unit_id, path, due,
        srv_printf(ctx, "%s (hạn %02d/%02d/%04d): %s%s", step >= 5 && step <= 10 ? what[step] : "Bước chuyển hồ sơ",
                   due.d, due.m, due.y, when, d[i]->estimated ? "; hạn tạm tính, lịch nghỉ năm sau chưa nhập" : ""),
        d[i]->transfer_id);
  }
  return 0;
}

static int by_due(const void *a, const void *b) {
  const alert_t *x = *(alert_t *const *)a, *y = *(alert_t *const *)b;
  int c = strcmp(x->due_date, y->due_date);
  if (c) return c;
  if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
  long long p = strtoll(x->record_id, NULL, 10), q = strtoll(y->record_id, NULL, 10);
  return (p > q) - (p < q);
}

static const char *sort_key(srv_ctx *ctx, const alert_t *a) {
  return srv_printf(ctx, "%s|%02d|%020lld|%s", a->due_date, (int)a->kind, strtoll(a->record_id, NULL, 10), a->subject_id);
}

RP_HANDLER(rpc_list_alerts) {
  const Hoso__Reporting__V1__ListAlertsRequest *in = (const void *)req;
  job j;
  memset(&j, 0, sizeof j);
  if (srv_need_right(ctx, RIGHT_READ, 0, "alerts need a READER role or above")) return -1;
  if (in->n_kinds == 0)
    for (int k = 1; k <= K_MAX; k++) j.want[k] = 1;
  for (size_t i = 0; i < in->n_kinds; i++) {
    if ((int)in->kinds[i] < 1 || (int)in->kinds[i] > K_MAX)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "kinds[%zu]: %d is not an AlertKind", i, (int)in->kinds[i]);
    j.want[in->kinds[i]] = 1;
  }
  if (in->within_days < 0 || in->within_days > 3660)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "within_days: from 0 to 3660 (0: the default, 365)");
  j.within = in->within_days ? in->within_days : 365;
  if (rp_when_check(ctx, NULL, &j.w) || rp_unit_resolve(ctx, in->unit_id, &j.u)) return -1;
  const char *after = NULL;
  if (in->page_token && *in->page_token) {
    char key[128];
    if (val_page_token_decode(in->page_token, key, sizeof key) != 0)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    after = srv_strdup(ctx, key);
  }
  j.today = j.w.day;
  j.horizon = rdate_add_days(j.today, j.within);
  const char *transfer_note = NULL;
  if (rp_read_tx(ctx, alerts_tx, &j) != 0) return -1;
  if (j.want[K_TRANSFER] && transfer_alerts(ctx, &j, &transfer_note) != 0) return -1;
  if (j.n) qsort(j.a, j.n, sizeof *j.a, by_due);
  Hoso__Reporting__V1__ListAlertsResponse *out = srv_new(ctx, &hoso__reporting__v1__list_alerts_response__descriptor);
  int limit = val_page_size(in->page_size);
  size_t first = 0;
  while (after && first < j.n && strcmp(sort_key(ctx, j.a[first]), after) <= 0) first++;
  size_t take = j.n - first > (size_t)limit ? (size_t)limit : j.n - first;
  out->alerts = j.a ? j.a + first : NULL;
  out->n_alerts = take;
  if (first + take < j.n) out->next_page_token = srv_page_token(ctx, sort_key(ctx, j.a[first + take - 1]));
  if (transfer_note) {
    out->notes = srv_alloc(ctx, sizeof *out->notes);
    out->notes[out->n_notes++] = (char *)transfer_note;
  }
  *resp = &out->base;
  return 0;
}
