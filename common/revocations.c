/* The token revocation list of a process: a chained hash of subject → lowest valid generation,
 * read on every authenticated call (shared lock) and written by the poller (exclusive). */
#include "revocations.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define REV_BUCKETS 1024
#define REV_SUB_MAX 64 /* as tok_claims.sub */

typedef struct rev_entry {
  struct rev_entry *next;
  long long min_gen, learnt;
  char sub[REV_SUB_MAX];
} rev_entry;

struct rev_list {
  pthread_rwlock_t lock;
  rev_entry *b[REV_BUCKETS];
  size_t n;
};

static size_t bucket(const char *s) {
  unsigned long h = 14695981039346656037UL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211UL;
  return (size_t)(h % REV_BUCKETS);
}

rev_list *rev_new(void) {
  rev_list *l = calloc(1, sizeof *l);
  if (l && pthread_rwlock_init(&l->lock, NULL) != 0) {
    free(l);
    l = NULL;
  }
  return l;
}

void rev_free(rev_list *l) {
  if (!l) return;
  for (size_t i = 0; i < REV_BUCKETS; i++)
    for (rev_entry *e = l->b[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  pthread_rwlock_destroy(&l->lock);
  free(l);
}

int rev_add(rev_list *l, const char *sub, long long min_gen, long long now) {
  size_t len = sub ? strlen(sub) : 0;
  if (len == 0 || len >= REV_SUB_MAX) return -1;
  size_t h = bucket(sub);
  int rc = 0;
  pthread_rwlock_wrlock(&l->lock);
  rev_entry *e = l->b[h];
  while (e && strcmp(e->sub, sub) != 0) e = e->next;
  if (e) {
    if (min_gen > e->min_gen) e->min_gen = min_gen;
    e->learnt = now;
  } else if ((e = calloc(1, sizeof *e))) {
    memcpy(e->sub, sub, len + 1);
    e->min_gen = min_gen;
    e->learnt = now;
    e->next = l->b[h];
    l->b[h] = e;
    l->n++;
  } else {
    rc = -1;
  }
  pthread_rwlock_unlock(&l->lock);
  return rc;
}

int rev_revoked(rev_list *l, const char *sub, long long gen) {
  if (!sub || !*sub) return 0;
  size_t h = bucket(sub);
  int r = 0;
  pthread_rwlock_rdlock(&l->lock);
  for (const rev_entry *e = l->b[h]; e; e = e->next)
    if (strcmp(e->sub, sub) == 0) {
      r = gen < e->min_gen;
      break;
    }
  pthread_rwlock_unlock(&l->lock);
  return r;
}

size_t rev_prune(rev_list *l, long long before) {
  pthread_rwlock_wrlock(&l->lock);
  for (size_t i = 0; i < REV_BUCKETS; i++)
    for (rev_entry **pp = &l->b[i]; *pp;) {
      rev_entry *e = *pp;
      if (e->learnt < before) {
        *pp = e->next;
        free(e);
        l->n--;
      } else {
        pp = &e->next;
      }
    }
  size_t n = l->n;
  pthread_rwlock_unlock(&l->lock);
  return n;
}

size_t rev_count(rev_list *l) {
  pthread_rwlock_rdlock(&l->lock);
  size_t n = l->n;
  pthread_rwlock_unlock(&l->lock);
  return n;
}
