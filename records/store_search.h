/* The SQL of SearchRecords: one query for a keyset page of record summaries and one for the
 * count of every match, built from fixed fragments with every value a parameter. */
#ifndef HOSO_RECORDS_STORE_SEARCH_H
#define HOSO_RECORDS_STORE_SEARCH_H

#include <stddef.h>
#include "records.h"

enum { SEARCH_BY_NAME = 1, SEARCH_BY_BIRTH = 2, SEARCH_BY_UPDATED = 3, SEARCH_BY_RANK = 4 };
enum { SEARCH_MAX_PATHS = 64, SEARCH_MAX_LIST = 100 };

typedef struct {
  const char *const *v;
  size_t n;
} search_list;

/* Every criterion, already validated (dates YYYY-MM-DD, codes val_code, enums in range); an
 * empty or NULL one does not filter. Text is NFC and trimmed: name and text are folded in SQL
 * by the same fold() that made the stored words (020_search_index.sql).
 *
 * Name rule: every word typed is the start of a word of the name, in any order, or every one
 * the start of a word of the other names ("dang duc", "duc dang", "van d" find "Đặng Văn
 * Đức"; "dang duc" does not find "Đặng Văn Hùng"). In name order the matches are ranked: the
 * full name itself, then the name's words in the order typed, then the rest; ties by given name,
 * full name, birth date, id. Text rule: every word typed is a word of the record's names, places,
 * addresses, positions or units, the last one perhaps only its start. */
enum { SEARCH_KEYS = 5 };
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
  int order;             /* SEARCH_BY_*; SEARCH_BY_RANK is the name order of a name query */
  /* Keyset: the sort key of the last row of the previous page (NULL: the first page), as many
   * parts as search_keys(order). NAME: given name, folded name, id; RANK: rank, given name,
   * folded name, birth date ('infinity' when none), id; BIRTH: date, id (records without a birth
   * date, which the service never writes, are left out of this order); UPDATED: timestamptz
   * text, id. */
  const char *after[SEARCH_KEYS];
  int limit;
} search_query;

/* How many parts the keyset of an order has. */
int search_keys(int order);

/* One match: its summary and its sort key (for the next page's token), in the call's arena. */
typedef struct {
  Hoso__Records__V1__RecordSummary *summary;
  const char *key[SEARCH_KEYS];
} search_row;

/* The count of a search is exact up to this many matches; beyond it the answer is "more than
 * this many" (counting a province's every match costs as much as the matches, and nobody pages
 * through more). HOSO_SEARCH_COUNT_CAP (1 to 1 000 000) sets another, read once. */
enum { SEARCH_COUNT_CAP = 1000 };
int search_count_cap(void);

/* At most q->limit matching rows after q->after in the order asked, under the transaction's
 * row-level security (a name or text query through search_match, which applies the same scope
 * rule), into *rows (n of them), and in *total the number of every match (the keyset ignored)
 * up to search_count_cap(); past it *total is the cap and *more 1. The transaction's last
 * statement goes out with its COMMIT (db_commit_with_next). 0 / -1 on a database error. */
int search_page(srv_ctx *ctx, const search_query *q, search_row **rows, size_t *n, long long *total, int *more);

#endif
