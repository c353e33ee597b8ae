/* catalog_check: is a code an active entry of a catalogue? Answered from a per-process cache
 * of every catalogue's codes, kept fresh by comparing catalog_meta versions once a second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "catalog.h"
#include "log.h"
#include "records.h"
#include "store_catalog.h"
#include "val.h"

const char *const catalog_names[CATALOG_COUNT] = {
    "ETHNICITY", "RELIGION", "RANK",     "SALARY_STEP", "ALLOWANCE",       "DEGREE",
    "POLITICAL_THEORY",     "STATE_MANAGEMENT",     "SCHOOL",          "MAJOR",
    "POSITION",  "UNIT_TYPE", "TITLE",   "REWARD_FORM", "DISCIPLINE_FORM", "RELATION",
    "RECORD_STATUS",        "STAFFING",
};

int catalog_index(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < CATALOG_COUNT; i++)
    if (strcmp(catalog_names[i], name) == 0) return i;
  return -1;
}

const char *catalog_names_list(void) {
  return "ETHNICITY, RELIGION, RANK, SALARY_STEP, ALLOWANCE, DEGREE, POLITICAL_THEORY, "
         "STATE_MANAGEMENT, SCHOOL, MAJOR, POSITION, UNIT_TYPE, TITLE, REWARD_FORM, "
         "DISCIPLINE_FORM, RELATION, RECORD_STATUS, STAFFING";
}

/* ------------------------------------------------------------ the cache ----------------- */

typedef struct {
  char *code;
  int active;
} cat_code;

typedef struct {
  long long version; /* catalog_meta.version the codes were loaded at; 0: never loaded */
  cat_code *codes;   /* sorted by strcmp */
  size_t n;
} cat_slot;

/* Readers (every validating worker) share `lock`; one refresher at a time holds `refresh`
 * while it queries, and takes `lock` exclusively only to swap a loaded catalogue in, so a
 * slow query never stalls the validations of the other workers. */
static struct {
  pthread_rwlock_t lock;
  pthread_mutex_t refresh;
  cat_slot slots[CATALOG_COUNT];
  atomic_llong checked_ms; /* monotonic time of the last version comparison */
} cache = {PTHREAD_RWLOCK_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, {{0, NULL, 0}}, 0};

enum { CHECK_EVERY_MS = 1000 };

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void catalog_cache_invalidate(void) { atomic_store(&cache.checked_ms, 0); }

static int code_cmp(const void *a, const void *b) {
  return strcmp(((const cat_code *)a)->code, ((const cat_code *)b)->code);
}

static void free_codes(cat_code *codes, size_t n) {
  for (size_t i = 0; i < n; i++) free(codes[i].code);
  free(codes);
}

/* Loads one catalogue's codes and swaps them in. The caller holds cache.refresh. 0 / -1. */
static int load_catalog(srv_ctx *ctx, int idx, long long version) {
  catalog_code_row *rows;
  size_t n;
  if (catalog_codes(ctx, catalog_names[idx], &rows, &n) != 0) return -1;
  int rc = -1;
  cat_code *codes = calloc(n ? n : 1, sizeof *codes);
  if (!codes) goto out;
  for (size_t i = 0; i < n; i++) {
    codes[i].code = strdup(rows[i].code);
    codes[i].active = rows[i].active;
    if (!codes[i].code) {
      free_codes(codes, i);
      goto out;
    }
  }
  qsort(codes, n, sizeof *codes, code_cmp);
  pthread_rwlock_wrlock(&cache.lock);
  cat_code *old = cache.slots[idx].codes;
  size_t old_n = cache.slots[idx].n;
  cache.slots[idx] = (cat_slot){version, codes, n};
  pthread_rwlock_unlock(&cache.lock);
  free_codes(old, old_n);
  rc = 0;
out:
  if (rc != 0) log_error("catalogues: out of memory loading %s", catalog_names[idx]);
  return rc;
}

/* At most once a second per process: one query for the catalogue versions, then a reload of
 * each catalogue that moved forward. A caller whose transaction has an older snapshot sees
 * older versions and reloads nothing, so the cache never goes back in time. When another
 * thread is already refreshing, the current cache is used. 0 / -1 (database error). */
static int maybe_refresh(srv_ctx *ctx) {
  long long t = now_ms();
  if (t - atomic_load(&cache.checked_ms) < CHECK_EVERY_MS) return 0;
  if (pthread_mutex_trylock(&cache.refresh) != 0) return 0;
  int rc = 0;
  if (t - atomic_load(&cache.checked_ms) < CHECK_EVERY_MS) goto out;
  catalog_version_row *vs;
  size_t n;
  if (catalog_versions(ctx, &vs, &n) != 0) {
    rc = -1;
    goto out;
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    int idx = catalog_index(vs[i].catalog);
    /* Only this thread writes slots (it holds cache.refresh), so reading version is safe. */
    if (idx >= 0 && vs[i].version > cache.slots[idx].version) rc = load_catalog(ctx, idx, vs[i].version);
  }
  if (rc == 0) atomic_store(&cache.checked_ms, t);
out:
  pthread_mutex_unlock(&cache.refresh);
  return rc;
}

/* 1 active, 0 inactive, -1 absent from the cache. */
static int cached(int idx, const char *code) {
  int v = -1;
  pthread_rwlock_rdlock(&cache.lock);
  const cat_slot *s = &cache.slots[idx];
  cat_code key = {(char *)code, 0};
  const cat_code *hit = s->n ? bsearch(&key, s->codes, s->n, sizeof key, code_cmp) : NULL;
  if (hit) v = hit->active;
  pthread_rwlock_unlock(&cache.lock);
  return v;
}

int catalog_check(srv_ctx *ctx, const char *catalog, const char *code, const char *field,
                  int retired_ok) {
  if (!code || !*code) return 0;
  int idx = catalog_index(catalog);
  if (idx < 0) {
    log_error("catalog_check: %s names no catalogue (field %s)", catalog ? catalog : "(null)",
              field);
    return srv_fail_internal(ctx);
  }
  /* Only text that is a well-formed code is echoed back, so the message stays printable. */
  if (val_code(code) != NULL)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s: not a code of catalogue %s (codes are 1..64 of A-Z a-z 0-9 . _ -)",
                    field, catalog);
  if (maybe_refresh(ctx) != 0) return srv_fail_db(ctx, NULL);
  if (cached(idx, code) == 1) return 0;

  /* A miss may be an entry created less than a second ago: ask the table itself before
   * refusing, so an administrator's new code is usable at once. */
  int state = catalog_entry_state(ctx, catalog, code);
  if (state < 0) return srv_fail_db(ctx, NULL);
  if (state == 2 || (state == 1 && retired_ok)) return 0;
  if (state == 1)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s: code \"%s\" in catalogue %s is no longer in use; choose a current one",
                    field, code, catalog);
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: unknown code \"%s\" in catalogue %s",
                  field, code, catalog);
}
