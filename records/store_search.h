/* The SQL of SearchRecords: one query for a keyset page of record summaries and one for the
 * count of every match, built from fixed fragments with every value a parameter. */
#ifndef HOSO_RECORDS_STORE_SEARCH_H
#define HOSO_RECORDS_STORE_SEARCH_H

#include <stddef.h>
#include "records.h"

enum { SEARCH_BY_NAME = 1, SEARCH_BY_BIRTH = 2, SEARCH_BY_UPDATED = 3 };
enum { SEARCH_MAX_PATHS = 64, SEARCH_MAX_LIST = 100 };

typedef struct {
  const char *const *v;
  size_t n;
} search_list;

/* Every criterion, already validated (dates YYYY-MM-DD, codes val_code, enums in range); an
 * empty or NULL one does not filter. Text is NFC and trimmed: name and text are folded here,
 * in SQL, by the same fold() that made the stored columns.
 *
 * Name rule: the query's words appear in the name as consecutive words, each word whole
 * except the last, which may be the start of a word ("nguyen van an", "van an", "an" and
 * "ngu" find "Nguyễn Văn An"; "an" does not find "Lan", "ngu van" does not find it either).
 * The match may begin at any of the first three words or at the given name (005). */
typedef struct {
  /* Where: every path in scope (a record qualifies under any of them); n_scope 0 = anywhere. */
  const char *scope[SEARCH_MAX_PATHS];
  size_t n_scope;
  const char *unit_id;   /* direct_only: records managed by this unit itself */
  const char *record_id; /* SELF: this record only */
  const char *name, *text;
  const char *birth_from, *birth_to, *recruited_from, *recruited_to;
  int gender;            /* 0 any */
  int party;             /* 0 any, 1 members, 2 non-members */
  search_list ethnicity, religion, rank, position, degree, political;
  const int *categories, *statuses, *workflow_states;
  size_t n_categories, n_statuses, n_workflow_states;
  int order;             /* SEARCH_BY_* */
  /* Keyset: the sort key of the last row of the previous page (NULL: the first page). NAME:
   * given name, folded name, id; BIRTH: date, id (records without a birth date, which the
   * service never writes, are left out of this order); UPDATED: timestamptz text, id. */
  const char *after[3];
  int limit;
} search_query;

/* One match: its summary and its sort key (for the next page's token), in the call's arena. */
typedef struct {
  Hoso__Records__V1__RecordSummary *summary;
  const char *key[3];
} search_row;

/* At most q->limit matching rows after q->after in the order asked, under the transaction's
 * row-level security, into *rows (n of them), and in *total the number of every match (the
 * keyset ignored). 0 / -1 on a database error. */
int search_page(srv_ctx *ctx, const search_query *q, search_row **rows, size_t *n, long long *total);

#endif
