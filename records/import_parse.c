/* The import parsers of import_parse.h: the results they fill, the memory they may take, and the
 * dispatch by format; the CSV reader is import_csv.c (its columns import_columns.c), the JSON
 * reader import_json.c, the binary reader import_parse_pb.c. */
#include "import_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"

typedef Hoso__Records__V1__ImportError imp_err;

/* ------------------------------------------------------------ memory ------------------- */

static void *malloc_alloc(void *d, size_t n) { (void)d; return malloc(n); }
static void malloc_free(void *d, void *p) { (void)d; free(p); }
static ProtobufCAllocator malloc_allocator = {malloc_alloc, malloc_free, NULL};

/* Every allocation of a parse is counted. Past IMPORT_MAX_MEMORY the parse stops at the next
 * cell or record (mem_over); past it by more than one cell or record could take, allocations
 * fail, and protobuf-c and pbjson report them as errors, so no single record can take more. */
#define MEMORY_HARD_LIMIT (IMPORT_MAX_MEMORY + ((size_t)8 << 20))

static void *budget_alloc(void *d, size_t n) {
  import_result *r = d;
  if (n > MEMORY_HARD_LIMIT - r->mem_used) {
    r->mem_over = 1;
    return NULL;
  }
  r->mem_used += n;
  if (r->mem_used > IMPORT_MAX_MEMORY) r->mem_over = 1;
  return r->inner->alloc(r->inner->allocator_data, n);
}

static void budget_free(void *d, void *p) {
  import_result *r = d;
  r->inner->free(r->inner->allocator_data, p);
}

int import_memory_exhausted(import_result *r, const char *what) {
  if (!r->mem_over) return 0;
  if (!r->refused[0])
    snprintf(r->refused, sizeof r->refused,
             "content: %s: the records read up to here already take more than %zu MiB of memory; split the "
             "file into smaller imports",
             what, IMPORT_MAX_MEMORY >> 20);
  return 1;
}

void *import_alloc(ProtobufCAllocator *a, size_t n) {
  void *p = a->alloc(a->allocator_data, n ? n : 1);
  if (!p) abort(); /* the call arena aborts too: a parse cannot go on without memory */
  return p;
}

void import_free(ProtobufCAllocator *a, void *p) {
  if (p) a->free(a->allocator_data, p);
}

static char *xstrdup(ProtobufCAllocator *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = import_alloc(a, n);
  memcpy(p, s, n);
  return p;
}

/* Grows an array allocated with a to hold `need` elements (doubling), copying the old ones. */
static void *grow(ProtobufCAllocator *a, void *arr, size_t elt, size_t n, size_t *cap, size_t need) {
  if (need <= *cap) return arr;
  size_t c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *na = import_alloc(a, c * elt);
  if (n) memcpy(na, arr, n * elt);
  import_free(a, arr);
  *cap = c;
  return na;
}

/* ------------------------------------------------------------ results ------------------ */

void import_error(import_result *r, int line, const char *field, const char *fmt, ...) {
  if (r->n_errors >= IMPORT_MAX_ERRORS) {
    r->errors_dropped++;
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *msg = import_alloc(r->a, (size_t)(n < 0 ? 0 : n) + 1);
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
  va_end(ap);
  imp_err *e = import_alloc(r->a, sizeof *e);
  hoso__records__v1__import_error__init(e);
  e->line = line;
  e->field = xstrdup(r->a, field ? field : "");
  e->message = msg;
  r->errors = grow(r->a, r->errors, sizeof *r->errors, r->n_errors, &r->cap_errors, r->n_errors + 1);
  r->errors[r->n_errors++] = e;
}

void import_add_row(import_result *r, rec_t *rec, int line) {
  r->rows = grow(r->a, r->rows, sizeof *r->rows, r->n_rows, &r->cap_rows, r->n_rows + 1);
  r->rows[r->n_rows].record = rec;
  r->rows[r->n_rows].line = line;
  r->n_rows++;
}

void import_forget(import_result *r) {
  for (size_t i = 0; i < r->n_rows; i++) protobuf_c_message_free_unpacked(&r->rows[i].record->base, r->a);
  for (size_t i = 0; i < r->n_errors; i++) protobuf_c_message_free_unpacked(&r->errors[i]->base, r->a);
  r->n_rows = r->n_errors = r->errors_dropped = r->n_read = 0;
}

void import_result_free(import_result *r) {
  if (!r || !r->a) return;
  for (size_t i = 0; i < r->n_rows; i++)
    protobuf_c_message_free_unpacked(&r->rows[i].record->base, r->a);
  for (size_t i = 0; i < r->n_errors; i++)
    protobuf_c_message_free_unpacked(&r->errors[i]->base, r->a);
  import_free(r->a, r->rows);
  import_free(r->a, r->errors);
  memset(r, 0, sizeof *r);
}

rec_t *import_new_record(ProtobufCAllocator *a) {
  rec_t *rec = import_alloc(a, sizeof *rec);
  hoso__records__v1__record__init(rec);
  return rec;
}

/* Too many rows is the one limit that ends the parse: one error, nothing more read. */
int import_row_cap_reached(import_result *r, int line) {
  if (r->stop && r->n_read % IMPORT_STOP_EVERY == 0 && r->n_read > 0 && r->stop(r->stop_arg)) r->stopped = 1;
  if (r->stopped) return 1;
  if (r->n_read < IMPORT_MAX_ROWS) return 0;
  import_error(r, line, "", "more than %d records in one file: split it into smaller files",
               IMPORT_MAX_ROWS);
  return 1;
}

/* pbjson errors start with the path they were given ("step: not an integer"); the import error
 * names the column or the JSON path in `field`, so the message keeps only the rule. */
const char *import_rule_of(const char *err) {
  const char *c = strstr(err, ": ");
  if (!c) return err;
  for (const char *p = err; p < c; p++)
    if (*p == ' ') return err;
  return c + 2;
}

int import_parse(Hoso__Records__V1__ImportFormat format, const void *content, size_t len,
                 ProtobufCAllocator *a, import_result *out) {
  return import_parse_until(format, content, len, a, NULL, NULL, out);
}

int import_parse_until(Hoso__Records__V1__ImportFormat format, const void *content, size_t len, ProtobufCAllocator *a,
                       int (*stop)(void *), void *stop_arg, import_result *out) {
  memset(out, 0, sizeof *out);
  out->stop = stop;
  out->stop_arg = stop_arg;
  out->inner = a ? a : &malloc_allocator;
  out->budget = (ProtobufCAllocator){budget_alloc, budget_free, out};
  out->a = &out->budget;
  int rc = 0;
  switch (format) {
  case HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV:
    import_parse_csv(content, len, out);
    if (out->n_read == 0 && out->n_errors == 0 && !out->refused[0])
      import_error(out, 2, "", "no records after the header row");
    break;
  case HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON:
    import_parse_json(content, len, out);
    break;
  case HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO:
    import_parse_proto(content, len, out);
    break;
  default:
    rc = -1;
  }
  /* What comes later (validation's errors) is not the parse's: no budget, no failing alloc. */
  out->a = out->inner;
  return rc;
}
