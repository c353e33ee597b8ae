/* The SQL of login throttling (throttle.c): counters in identity.login_throttle and the
 * addresses names log in from in identity.login_known. Each runs in the caller's transaction. */
#ifndef HOSO_IDENTITY_STORE_THROTTLE_H
#define HOSO_IDENTITY_STORE_THROTTLE_H

#include "identity.h"

/* Without locks: whether name logged in from addr within `days` (*known), and the seconds left
 * of the pair counter's wait and of the longest wait of the name's and the address's people
 * counters ('u', 'a'). 0 / -1. */
int throttle_peek(srv_ctx *ctx, const char *name, const char *addr, const char *pair_kind, const char *pair_key,
                  int days, int *known, long *wait_pair, long *wait_others);

typedef struct {
  long failures; /* counted failures (0 once forgotten) */
  long wait;     /* seconds until the next try may be made, 0 when it may be made now */
} throttle_counter;

/* Makes the n counters exist and locks them FOR UPDATE, in (kind, key) order, until the
 * transaction ends; out[i] describes kinds[i]/keys[i]. Failures older than forget_hours read as
 * 0. 0 / -1. */
int throttle_lock(srv_ctx *ctx, int n, const char *const *kinds, const char *const *keys, int forget_hours,
                  throttle_counter *out);
/* Counts a failure on a locked counter: its new number, and the next try allowed wait_s seconds
 * from now (0: at once). */
int throttle_set(srv_ctx *ctx, const char *kind, const char *key, long failures, long wait_s);
/* Takes one counted try back; the delay ends when fewer than free_tries failures remain. */
int throttle_take_back(srv_ctx *ctx, const char *kind, const char *key, int free_tries);
/* Remembers that name logged in from addr now. */
int throttle_home(srv_ctx *ctx, const char *name, const char *addr);
/* Deletes a person's name counter and every pair counter of the name. */
int throttle_clear_name(srv_ctx *ctx, const char *name);
/* Deletes counters idle for forget_hours and homes unused for known_days. */
int throttle_prune(srv_ctx *ctx, int forget_hours, int known_days);

#endif
