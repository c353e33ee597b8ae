/* Login throttling: who may try a password now, counted before the password is checked, and
 * the gate that keeps guesses from unfamiliar places off most of the CPU. */
#ifndef HOSO_IDENTITY_THROTTLE_H
#define HOSO_IDENTITY_THROTTLE_H

#include "identity.h"

/* The counters (login_throttle.kind):
 *   'p' a person's name from one address   5 free, then growing delays
 *   'u' a person's name from any address   10 free  } only for addresses the name has not
 *   'a' one address, any person's name     20 free  } logged in from lately (login_known)
 *   's' a service client from one address  5 free, delays up to a minute
 * After the free ones, each further try waits base, 2 base, 4 base ... (HOSO_LOGIN_DELAY_SECONDS,
 * 5 s) up to the cap: guesses slow down step by step, nothing jumps to an hour. Failures are
 * forgotten a day after the last one. */
#define THR_PAIR_FREE 5
#define THR_NAME_FREE 10
#define THR_ADDR_FREE 20
#define THR_SERVICE_FREE 5
#define THR_CAP_SECONDS 900
#define THR_SERVICE_CAP_SECONDS 60
#define THR_FORGET_HOURS 24
/* A name counts as at home on an address for this long after its last login from there. */
#define THR_KNOWN_DAYS 90

/* Seconds to wait before the next try after `failures` failures in a row: 0 while they are
 * free, then base, 2 base, 4 base ... capped. Pure. */
static inline long thr_delay(long failures, int free_tries, long base, long cap) {
  if (failures < free_tries) return 0;
  long d = base;
  for (long k = failures - free_tries; k > 0 && d < cap; k--) d *= 2;
  return d < cap ? d : cap;
}

typedef enum { THR_PERSON, THR_SERVICE } thr_who;

/* One try, from throttle_begin to throttle_end. */
typedef struct {
  thr_who who;
  char name[160], addr[64];
  int known;          /* the name logged in from this address lately */
  int n;              /* counters this try was counted in */
  char kind[3];
  char key[3][240];
  int free_tries[3];
} thr_try;

/* In the caller's transaction, before the password is checked: locks the counters that apply
 * (the pair only when the name is at home on the address; for a service client, its pair
 * only: an address locked by people's guesses never stops a service), and either refuses
 * (returns the seconds to wait, > 0, nothing counted) or counts this try as a failure now
 * (returns 0). Counting first is what makes concurrent guesses wait their turn: the check and
 * the count are one step under the counters' row locks. -1 on a database error. */
long throttle_begin(srv_ctx *ctx, thr_who who, const char *name, const char *addr, thr_try *t);

/* After the check, in the caller's second transaction: THR_OK (the password was right) clears
 * the pair, takes the try back from the other counters and remembers the address as the
 * name's own; THR_FAILED keeps the count; THR_NOT_TRIED (the try never reached the password,
 * e.g. the gate was full) takes it back everywhere. 0 / -1. */
typedef enum { THR_OK, THR_FAILED, THR_NOT_TRIED } thr_outcome;
int throttle_end(srv_ctx *ctx, const thr_try *t, thr_outcome outcome);

/* Clears a person's counters (an administrator reset the password). 0 / -1. */
int throttle_clear(srv_ctx *ctx, const char *name);

/* The hourly job that forgets counters idle for a day and homes unused for THR_KNOWN_DAYS
 * (an attacker's many addresses would otherwise stay in the table). */
int throttle_prune_start(void);
void throttle_prune_stop(void);

/* The gate: password checks of tries from unfamiliar places (not thr_try.known) run at most
 * HOSO_LOGIN_UNFAMILIAR_SLOTS (1) at a time per process and start at most
 * HOSO_LOGIN_UNFAMILIAR_RATE (20) a second, so a flood of guesses from many addresses gets a
 * bounded share of the CPU while people at their usual addresses log in beside it. Twice as
 * many may wait their turn, up to GATE_WAIT_MS; any other is refused at once: a flood must not
 * hold the workers, or people's calls would queue behind it. */
#define GATE_WAIT_MS 3000

/* The password check of try t: pw_verify(phc, password) at once for a familiar place, through
 * the gate otherwise. 1 with *ok set when checked, 0 when the gate refused (nothing checked). */
int throttle_check_password(const thr_try *t, const char *phc, const char *password, int *ok);

#endif
