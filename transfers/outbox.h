/* The outbox's delivery (outbox.c) and its SQL (store_outbox.c): moves committed with a
 * transfer's state change, delivered to records until records confirms, in order per record. */
#ifndef HOSO_TRANSFERS_OUTBOX_H
#define HOSO_TRANSFERS_OUTBOX_H

#include <stdint.h>
#include "transfers.h"

typedef struct {
  const char *id, *transfer_id, *record_id, *method;
  const char *rev; /* the row's version as read: a rewrite since makes its mark a no-op */
  uint8_t *request;
  size_t len;
  int attempts;
} outbox_row;

/* Every undelivered row, locked until commit (the merge that rewrites them), oldest first. */
int store_outbox_undelivered(srv_ctx *ctx, outbox_row **out, int *n);
/* The row's request replaced by `req` (a new rev). */
int store_outbox_rewrite(srv_ctx *ctx, const outbox_row *o, const ProtobufCMessage *req);
/* The position in identity's unit-change feed from which a step naming successor_id may go to
 * records: the merge that dissolved unit_id (applied here already, or being applied now). */
int store_outbox_merge_seq(srv_ctx *ctx, const char *unit_id, long long *seq);

/* A merge (the follower's give, store_follow_units.c): each undelivered step that names the
 * dissolved unit `unit_id` names `successor_id` instead, and waits in records until records has
 * followed the merge; `counts` gets how many. 0, or -1 after a failed db call. */
int outbox_give_unit(srv_ctx *ctx, const char *unit_id, const char *successor_id, json_t *counts);

/* Up to max rows due now (of transfer_id only when not NULL), each with no earlier undelivered
 * row of its record, oldest first. */
int store_outbox_due(srv_ctx *ctx, const char *transfer_id, int max, outbox_row **out, int *n);
/* Delivered (or refused for good, with records' message: the transfer keeps it as its
 * delivery_error and the sending unit gets a notice). A row another deliverer marked first is
 * left as it is. */
int store_outbox_done(srv_ctx *ctx, const outbox_row *o, int refused, const char *error);
/* Not delivered this time: tried again after delay_ms. */
int store_outbox_retry(srv_ctx *ctx, const outbox_row *o, const char *error, long delay_ms);
/* Milliseconds until the next undelivered row is due (0: now), -1 when none waits, -2 on a
 * database error. */
long store_outbox_next_ms(srv_ctx *ctx);

/* The round's lock of the background work (jobs.c): 1 when this process holds it now. */
int jobs_lock_take(srv_ctx *ctx);
void jobs_lock_drop(srv_ctx *ctx);

#endif
