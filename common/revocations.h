/* The token revocations a service knows of (identity's ListTokenRevocations): for a subject,
 * the lowest token generation still valid. Pure logic, thread-safe; see srv_revocations.c. */
#ifndef HOSO_REVOCATIONS_H
#define HOSO_REVOCATIONS_H

#include <stddef.h>

typedef struct rev_list rev_list;

rev_list *rev_new(void);
void rev_free(rev_list *l);

/* Tokens of sub with a generation below min_gen are void, as learnt at `now` (unix seconds).
 * A lower min_gen than one already known changes nothing (revocations only ever tighten).
 * 0, or -1 when sub is empty or too long, or memory runs out. */
int rev_add(rev_list *l, const char *sub, long long min_gen, long long now);

/* 1 when a token of sub signed with generation gen is void, else 0. */
int rev_revoked(rev_list *l, const char *sub, long long gen);

/* Forgets what was learnt before `before`: the tokens it voided have expired by then. Returns
 * how many entries remain. */
size_t rev_prune(rev_list *l, long long before);

size_t rev_count(rev_list *l);

#endif
