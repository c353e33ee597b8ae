/* The outbox's delivery (outbox.c) and its SQL (store_outbox.c): moves committed with a
 * transfer's state change, delivered to records until records confirms, in order per record. */
#ifndef HOSO_TRANSFERS_OUTBOX_H
#define HOSO_TRANSFERS_OUTBOX_H

#include <stdint.h>
#include "transfers.h"

typedef struct {
  const char *id, *transfer_id, *record_id, *method;
  uint8_t *request;
  size_t len;
  int attempts;
} outbox_row;

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
