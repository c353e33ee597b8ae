/* Secondments (biệt phái, 001 Đ7.10) end by themselves: the day after the end date the transfer
 * is ENDED (the host unit's read grant in records ends with that date anyway) and both units are
 * told; some working days before it (the policy's secondment_alert_days) both get an alert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "transfers.h"

#define BATCH 50

typedef struct {
  char **ids, **ends;
  int n;
  const char *today;
} due_st;

static int ended_tx(srv_ctx *ctx, void *p) {
  due_st *st = p;
  PGresult *r = db_q(ctx->db,
                     "SELECT id::text, end_date::text FROM transfers WHERE state = 10 AND end_date < $1::date "
                     "ORDER BY end_date, id LIMIT $2::int",
                     2, st->today, srv_printf(ctx, "%d", BATCH));
  if (!r) return -1;
  st->n = PQntuples(r);
  st->ids = srv_alloc(ctx, (size_t)(st->n + 1) * sizeof *st->ids);
  for (int i = 0; i < st->n; i++) st->ids[i] = srv_strdup(ctx, PQgetvalue(r, i, 0));
  PQclear(r);
  return 0;
}

/* The secondments still on whose alert is due, each alerted once: the notices and the mark in
 * one transaction. */
static int alert_tx(srv_ctx *ctx, void *p) {
  due_st *st = p;
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  PGresult *r = db_q(ctx->db,
                     "SELECT id::text, end_date::text FROM transfers WHERE state = 10 AND NOT alerted "
                     "AND end_date >= $1::date ORDER BY end_date, id LIMIT $2::int FOR UPDATE SKIP LOCKED",
                     2, st->today, srv_printf(ctx, "%d", BATCH));
  if (!r) return -1;
  wd_day today, end;
  wd_parse(st->today, &today);
  int rc = 0;
  for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
    if (wd_parse(PQgetvalue(r, i, 1), &end) != 0) continue;
    if (today < wd_add(s->cal, end, -s->alert_days, NULL)) continue;
    tr_row *row;
    if ((rc = store_transfer_get(ctx, PQgetvalue(r, i, 0), 0, &row)) != 0) break;
    if ((rc = tr_notify(ctx, row, SIDE_FROM | SIDE_TO, "SECONDMENT_ENDING")) != 0) break;
    rc = db_cmd(ctx->db, "UPDATE transfers SET alerted = true WHERE id = $1::bigint", 1, row->t->id);
    if (rc == 0) st->n++;
  }
  PQclear(r);
  return rc;
}

int secondments_tick(srv_ctx *ctx) {
  char today[11];
  settings_today(today);
  due_st st = {.today = today};
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", ended_tx, &st) != 0) return -1;
  tr_act act = {.system = 1, .reason = "the secondment's end date has passed"};
  for (int i = 0; i < st.n; i++) {
    if (tr_transition(ctx, st.ids[i], FLOW_END, &act, NULL) != 0) {
      grpc_status_code code;
      const char *msg = srv_fail_take(ctx, &code);
      log_warn("transfers: secondment %s not ended yet: %s", st.ids[i], msg ? msg : "");
    } else {
      log_info("transfers: secondment %s ended on its end date", st.ids[i]);
    }
  }
  st.n = 0;
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", alert_tx, &st) != 0) return -1;
  if (st.n) log_info("transfers: %d secondments' end alerts posted", st.n);
  return 0;
}
