/* The lists of the transfers service (rpc_read.c, rpc_deadlines.c) and their SQL
 * (store_lists.c): filters and rows of a keyset page. */
#ifndef HOSO_TRANSFERS_LISTS_H
#define HOSO_TRANSFERS_LISTS_H

#include "transfers.h"

typedef struct {
  const char *unit_path;     /* the subtree, NULL or "": the caller's whole scope */
  int box;                   /* Box */
  int states[16];
  size_t n_states;
  const char *record_id;
  const char *after_due, *after_id; /* the page token's key, NULL: first page */
  int limit;
  const char *next_key;      /* out: "due|id" of the last row when more follow */
} list_filter;

/* An int array literal ("{4,5}") of the values, in the arena. */
const char *store_int_array(srv_ctx *ctx, const int *v, size_t n);

/* Transfers by due date (open steps first, overdue ones first of all), then newest first. */
int store_transfer_list(srv_ctx *ctx, list_filter *f, transfer_t ***out, size_t *n, int *more);

/* The notices of a subtree, newest first, below id `before` (NULL: from the newest). */
int store_notice_list(srv_ctx *ctx, const char *unit_path, const char *before, int limit,
                      Hoso__Transfers__V1__Notice ***out, size_t *n, int *more);

typedef struct {
  const char *unit_path;     /* NULL: the caller's whole scope */
  int steps[16];
  size_t n_steps;
  const char *before;        /* overdue only: due before this day (today) */
  const char *after_due, *after_id;
  int limit;
} deadline_filter;

typedef struct {
  const char *id, *transfer_id, *record_id, *record_name, *ref, *unit_id;
  const char *effective_date, *previous_date, *due_date;
  int source, step, estimated;
} deadline_row;

/* Open steps with a deadline, by due date; *settings_version: the version of the policy and
 * calendar in the same snapshot (0 when no row). */
int store_deadline_list(srv_ctx *ctx, const deadline_filter *f, deadline_row **out, int *n, int *more,
                        long long *settings_version);

/* Transfer steps with a deadline of the subtree at path (unit unit_id), by the unit directly
 * below it whose work they were: done from `from` to `to` (Vietnam's days) by their due date, and
 * done then after it or open at `to` past it. Rows in the arena. */
int store_step_counts(srv_ctx *ctx, const char *unit_id, const char *path, const char *from, const char *to,
                      Hoso__Transfers__V1__UnitStepCount ***out, size_t *n);

#endif
