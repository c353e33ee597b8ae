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
  return store_secondments_due(ctx, st->today, 0, BATCH, &st->ids, &st->ends, &st->n);
}

/* The secondments still on whose alert is due, each alerted once: the notices and the mark in
 * one transaction. */
static int alert_tx(srv_ctx *ctx, void *p) {
  due_st *st = p;
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  char **ids, **ends;
  int n;
  SRV_TRY(store_secondments_due(ctx, st->today, 1, BATCH, &ids, &ends, &n));
  wd_day today, end;
  wd_parse(st->today, &today);
  for (int i = 0; i < n; i++) {
    if (wd_parse(ends[i], &end) != 0 || today < wd_add(s->cal, end, -s->alert_days, NULL)) continue;
    tr_row *row;
    SRV_TRY(store_transfer_get(ctx, ids[i], 0, &row));
    SRV_TRY(tr_notify(ctx, row, SIDE_FROM | SIDE_TO, "SECONDMENT_ENDING"));
    SRV_TRY(store_secondment_alerted(ctx, row->t->id));
    st->n++;
  }
  return 0;
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
