/* Internals shared by the bulk import's readers (import_parse.c results and JSON,
 * import_columns.c fields, import_csv.c CSV): memory through the caller's allocator, results,
 * and a column bound to a Record field. */
#ifndef HOSO_RECORDS_IMPORT_INT_H
#define HOSO_RECORDS_IMPORT_INT_H

#include "import_parse.h"

typedef Hoso__Records__V1__Record rec_t;

#define RECORD_DESC (&hoso__records__v1__record__descriptor)
#define MAX_DEPTH 8        /* segments in a column path: the Record is 3 levels deep at most */
#define MAX_INDEX 999      /* work_history[999]: more entries than any career holds */
#define ERR_LEN 512

/* import_parse.c: memory (aborts when there is none, as the call arena does), a new record, and
 * the rule of a pbjson error without the path it starts with ("step: not an integer"). */
void *import_alloc(ProtobufCAllocator *a, size_t n);
void import_free(ProtobufCAllocator *a, void *p);
rec_t *import_new_record(ProtobufCAllocator *a);
const char *import_rule_of(const char *err);

/* import_columns.c: one header cell resolved against Record, and one cell's value bound. */
typedef struct {
  const ProtobufCFieldDescriptor *f;
  int index; /* -1: no [n] */
} seg_t;

typedef struct {
  char *name;          /* as written in the header, for errors */
  char canon[256];     /* proto names with indexes: finds the same column written twice */
  seg_t segs[MAX_DEPTH];
  int nseg;
  int split;           /* segments [0..split) are walked here; the rest goes to pbjson_set_path */
  char *tail;          /* the dotted path from segment `split` on */
} column;
/* Resolves c->name into the column. 0, or -1 with err saying what is wrong. */
int import_column_parse(column *c, char *err, size_t errlen);
/* Removes the NULL holes indexes left in repeated fields once a row is complete. */
void import_compact(ProtobufCMessage *m, ProtobufCAllocator *a);
/* Binds one non-empty cell to rec. 0, or -1 with err holding the rule broken. */
int import_bind_cell(const column *col, rec_t *rec, const char *value, ProtobufCAllocator *a, char *err, size_t errlen);

#endif
