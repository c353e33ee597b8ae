/* The SQL of SearchRecords: one query for a keyset page of record summaries and one for the
 * count of every match, built from fixed fragments with every value a parameter. */
#ifndef HOSO_RECORDS_STORE_SEARCH_H
#define HOSO_RECORDS_STORE_SEARCH_H

#include <stddef.h>
#include "db.h"

enum { SS_ORDER_NAME = 1, SS_ORDER_BIRTH = 2, SS_ORDER_UPDATED = 3 };
enum { SS_MAX_PATHS = 64, SS_MAX_LIST = 100 };

typedef struct {
  const char *const *v;
  size_t n;
} ss_list;

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
  const char *scope[SS_MAX_PATHS];
  size_t n_scope;
  const char *unit_id;   /* direct_only: records managed by this unit itself */
  const char *record_id; /* SELF: this record only */
  const char *name, *text;
  const char *birth_from, *birth_to, *recruited_from, *recruited_to;
  int gender;            /* 0 any */
  int party;             /* 0 any, 1 members, 2 non-members */
  ss_list ethnicity, religion, rank, position, degree, political;
  const int *categories, *statuses, *workflow_states;
  size_t n_categories, n_statuses, n_workflow_states;
  int order;             /* SS_ORDER_* */
  /* Keyset: the sort key of the last row of the previous page (NULL: the first page). NAME:
   * given name, folded name, id; BIRTH: date, id (records without a birth date, which the
   * service never writes, are left out of this order); UPDATED: timestamptz text, id. */
  const char *after[3];
  int limit;
} ss_query;

/* Columns of ss_page's rows, in order. */
enum {
  SS_ID, SS_FULL_NAME, SS_BIRTH_DATE, SS_GENDER, SS_UNIT_ID, SS_UNIT_PATH, SS_STATUS,
  SS_WORKFLOW, SS_RANK, SS_POSITION, SS_CATEGORY, SS_ETHNICITY, SS_DEGREE, SS_HOME_TOWN,
  SS_VERSION, SS_UPDATED_AT, SS_KEY1, SS_KEY2, SS_KEY3, SS_NCOLS
};

/* At most q->limit matching rows after q->after in the order asked, under the transaction's
 * row-level security, and in *total the number of every match (the keyset ignored). NULL on a
 * database error. */
PGresult *ss_page(db_conn *db, const ss_query *q, long long *total);

/* The number of every match (the keyset ignored). 0 / -1. */
int ss_count(db_conn *db, const ss_query *q, long long *total);

#endif
