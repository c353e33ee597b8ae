/* Internals shared by the bulk import's readers (import_parse.c results and JSON,
 * import_columns.c fields, import_csv.c CSV): memory through the caller's allocator, results,
 * and a column bound to a Record field. */
#ifndef HOSO_RECORDS_IMPORT_INT_H
#define HOSO_RECORDS_IMPORT_INT_H

#include "import_parse.h"

typedef Hoso__Records__V1__Record rec_t;

#define RECORD_DESC (&hoso__records__v1__record__descriptor)
#define MAX_DEPTH 8        /* segments in a column path: the Record is 3 levels deep at most */
#define MAX_INDEX 499      /* work_history[499]: validation allows 500 entries per list */
#define ERR_LEN 512

/* import_parse.c: memory (aborts when there is none, as the call arena does), a new record, and
 * the rule of a pbjson error without the path it starts with ("step: not an integer"). */
void *import_alloc(ProtobufCAllocator *a, size_t n);
void import_free(ProtobufCAllocator *a, void *p);
rec_t *import_new_record(ProtobufCAllocator *a);
/* Drops every row and error read so far (a file found unreadable after all). */
void import_forget(import_result *r);
const char *import_rule_of(const char *err);

/* import_columns.c: one header cell resolved against Record, and one cell's value bound. */
typedef struct {
  const ProtobufCFieldDescriptor *f;
  int index;     /* -1: no [n] */
  int canon_end; /* where this segment ends in column.canon */
  int slot;      /* an indexed segment: the list entry it names (import_slots), else -1 */
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

/* The list entries a header names ("work_history[2]", "training[0]" inside another entry...),
 * one slot each. A row makes an entry when one of its cells names it, and puts the entries into
 * their lists in index order once the row is complete: a row costs memory for the cells it
 * has, never for the size of the indexes they name (work_history[499] alone makes one entry),
 * and no list is copied as it grows. */
typedef struct {
  size_t n, ngroups;                             /* slots; lists (a repeated field at one place) */
  int *group, *index;                            /* slot → its list, its [n] */
  const ProtobufCFieldDescriptor **group_field;  /* list → its repeated field */
  int *order;                                    /* slots by (list, index) */
  ProtobufCMessage **elem;                       /* this row: slot → its entry, or NULL */
  ProtobufCMessage **parent;                     /* this row: list → the message holding it */
} import_slots;
/* Numbers the entries the columns name (sets each indexed segment's slot). 0 / -1 (memory). */
int import_slots_make(column *cols, size_t ncols, import_slots *s);
void import_slots_free(import_slots *s);
/* Binds one non-empty cell to rec. 0, or -1 with err holding the rule broken. */
int import_bind_cell(const column *col, rec_t *rec, const char *value, ProtobufCAllocator *a, import_slots *s,
                     char *err, size_t errlen);
/* The row's entries into their lists, in index order; s ready for the next row. */
void import_slots_finish_row(import_slots *s, ProtobufCAllocator *a);

#endif
