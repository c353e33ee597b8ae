/* The import parsers of import_parse.h: the results they fill, the JSON reader (array, JSON
 * Lines, one object) and the dispatch by format; the CSV reader is import_csv.c (its columns
 * import_columns.c), the binary reader import_parse_pb.c. */
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

static void field_of(const char *err, char *out, size_t n) {
  const char *rule = import_rule_of(err);
  size_t len = rule == err ? 0 : (size_t)(rule - 2 - err);
  if (len == 4 && memcmp(err, "body", 4) == 0) len = 0; /* pbjson's name for the whole value */
  if (len >= n) len = n - 1;
  memcpy(out, err, len);
  out[len] = 0;
}

/* ------------------------------------------------------------ JSON --------------------- */

/* One JSON value to a record, reported at `line`. */
static void json_record(import_result *r, json_t *v, int line) {
  char err[ERR_LEN], field[256];
  r->n_read++;
  if (!json_is_object(v)) {
    import_error(r, line, "", "expected a JSON object (one record)");
    return;
  }
  ProtobufCMessage *m = pbjson_from_json(RECORD_DESC, v, 0, r->a, err, sizeof err);
  if (!m) {
    field_of(err, field, sizeof field);
    import_error(r, line, field, "%s", import_rule_of(err));
    return;
  }
  import_add_row(r, (rec_t *)m, line);
}

static void json_syntax_error(import_result *r, const json_error_t *je, int line_base) {
  import_error(r, line_base + (je->line > 0 ? je->line - 1 : 0), "",
               "malformed JSON at column %d: %s", je->column, je->text);
}

/* Every non-blank line starts with '{': one record per line (JSON Lines). */
static int looks_like_lines(const char *p, const char *end) {
  while (p < end) {
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p == end) break;
    if (*p != '{') return 0;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
  }
  return 1;
}

static void json_parse(const char *p, size_t len, import_result *r) {
  const char *end = p + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  const char *q = p;
  int line = 1;
  while (q < end && isspace((unsigned char)*q)) line += *q++ == '\n';
  json_error_t je;
  if (q == end) {
    import_error(r, 1, "", "the file holds no records");
    return;
  }
  if (*q == '[') {
    json_t *arr = json_loadb(p, (size_t)(end - p), JSON_REJECT_DUPLICATES, &je);
    if (!arr) {
      json_syntax_error(r, &je, 1);
      return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
      if (import_row_cap_reached(r, (int)i + 1)) break;
      json_record(r, v, (int)i + 1);
    }
    json_decref(arr);
  } else if (looks_like_lines(q, end)) {
    line = 1;
    for (const char *s = p; s < end; line++) {
      const char *nl = memchr(s, '\n', (size_t)(end - s));
      const char *e = nl ? nl : end;
      const char *t = s;
      while (t < e && isspace((unsigned char)*t)) t++;
      if (t < e) {
        if (import_row_cap_reached(r, line)) break;
        json_t *v = json_loadb(s, (size_t)(e - s), JSON_REJECT_DUPLICATES, &je);
        if (!v) {
          r->n_read++;
          json_syntax_error(r, &je, line);
        } else {
          json_record(r, v, line);
          json_decref(v);
        }
      }
      s = nl ? nl + 1 : end;
    }
  } else {
    /* One record written over several lines, as ExportRecord's JSON pretty-printed. */
    json_t *v = json_loadb(p, (size_t)(end - p), JSON_REJECT_DUPLICATES, &je);
    if (!v) {
      json_syntax_error(r, &je, 1);
      return;
    }
    json_record(r, v, line);
    json_decref(v);
  }
  if (r->n_read == 0 && r->n_errors == 0) import_error(r, 1, "", "the file holds no records");
}

int import_parse(Hoso__Records__V1__ImportFormat format, const void *content, size_t len,
                 ProtobufCAllocator *a, import_result *out) {
  memset(out, 0, sizeof *out);
  out->a = a ? a : &malloc_allocator;
  switch (format) {
  case HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV:
    import_parse_csv(content, len, out);
    if (out->n_read == 0 && out->n_errors == 0)
      import_error(out, 2, "", "no records after the header row");
    return 0;
  case HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON:
    json_parse(content, len, out);
    return 0;
  case HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO:
    import_parse_proto(content, len, out);
    return 0;
  default:
    return -1;
  }
}
