/* The import parsers of import_parse.h: an RFC 4180 CSV reader whose header names Record field
 * paths (bound with pbjson_set_path), and the JSON reader (array, JSON Lines, one object); the
 * binary reader is import_parse_pb.c. */
#include "import_parse.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

#include "pbjson.h"
#include "val.h"

typedef Hoso__Records__V1__Record rec_t;
typedef Hoso__Records__V1__ImportError imp_err;

#define RECORD_DESC (&hoso__records__v1__record__descriptor)
#define MAX_DEPTH 8        /* segments in a column path: the Record is 3 levels deep at most */
#define MAX_INDEX 999      /* work_history[999]: more entries than any career holds */
#define ERR_LEN 512

/* ------------------------------------------------------------ memory ------------------- */

static void *malloc_alloc(void *d, size_t n) { (void)d; return malloc(n); }
static void malloc_free(void *d, void *p) { (void)d; free(p); }
static ProtobufCAllocator malloc_allocator = {malloc_alloc, malloc_free, NULL};

static void *xalloc(ProtobufCAllocator *a, size_t n) {
  void *p = a->alloc(a->allocator_data, n ? n : 1);
  if (!p) abort(); /* the call arena aborts too: a parse cannot go on without memory */
  return p;
}

static void xfree(ProtobufCAllocator *a, void *p) {
  if (p) a->free(a->allocator_data, p);
}

static char *xstrdup(ProtobufCAllocator *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = xalloc(a, n);
  memcpy(p, s, n);
  return p;
}

/* Grows an array allocated with a to hold `need` elements (doubling), copying the old ones. */
static void *grow(ProtobufCAllocator *a, void *arr, size_t elt, size_t n, size_t *cap, size_t need) {
  if (need <= *cap) return arr;
  size_t c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *na = xalloc(a, c * elt);
  if (n) memcpy(na, arr, n * elt);
  xfree(a, arr);
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
  char *msg = xalloc(r->a, (size_t)(n < 0 ? 0 : n) + 1);
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
  va_end(ap);
  imp_err *e = xalloc(r->a, sizeof *e);
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
  xfree(r->a, r->rows);
  xfree(r->a, r->errors);
  memset(r, 0, sizeof *r);
}

static rec_t *new_record(ProtobufCAllocator *a) {
  rec_t *rec = xalloc(a, sizeof *rec);
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
static const char *rule_of(const char *err) {
  const char *c = strstr(err, ": ");
  if (!c) return err;
  for (const char *p = err; p < c; p++)
    if (*p == ' ') return err;
  return c + 2;
}

static void field_of(const char *err, char *out, size_t n) {
  const char *rule = rule_of(err);
  size_t len = rule == err ? 0 : (size_t)(rule - 2 - err);
  if (len == 4 && memcmp(err, "body", 4) == 0) len = 0; /* pbjson's name for the whole value */
  if (len >= n) len = n - 1;
  memcpy(out, err, len);
  out[len] = 0;
}

/* ------------------------------------------------------------ column paths ------------- */

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

/* Resolves one header cell against Record. 0, or -1 with err saying what is wrong. */
static int column_parse(column *c, char *err, size_t errlen) {
  const ProtobufCMessageDescriptor *d = RECORD_DESC;
  const char *p = c->name;
  size_t canon_len = 0;
  int last_indexed = -1;
  c->nseg = 0;
  if (!*p) return snprintf(err, errlen, "empty column name"), -1;
  for (;;) {
    char name[64];
    size_t n = 0;
    while (*p && (isalnum((unsigned char)*p) || *p == '_')) {
      if (n + 1 >= sizeof name) return snprintf(err, errlen, "name too long"), -1;
      name[n++] = *p++;
    }
    name[n] = 0;
    if (!n) return snprintf(err, errlen, "not a field path (expected names like personal.ethnicity_code)"), -1;
    if (!d) return snprintf(err, errlen, "%s: the field before it is not a group", name), -1;
    if (c->nseg == MAX_DEPTH) return snprintf(err, errlen, "path too deep"), -1;
    /* One segment at a time: pbjson's resolver knows both spellings but not indexes. */
    const ProtobufCFieldDescriptor *f = NULL;
    char perr[128];
    if (pbjson_resolve_path(d, name, NULL, 0, &f, perr, sizeof perr) < 0)
      return snprintf(err, errlen, "unknown column: %s has no field \"%s\"", d->short_name, name), -1;
    int index = -1;
    if (*p == '[') {
      char *end;
      long v = strtol(p + 1, &end, 10);
      if (end == p + 1 || *end != ']' || v < 0 || v > MAX_INDEX || !isdigit((unsigned char)p[1]))
        return snprintf(err, errlen, "%s: index must be a number from 0 to %d", name, MAX_INDEX), -1;
      if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return snprintf(err, errlen, "%s: not a list of entries, so it takes no index", name), -1;
      index = (int)v;
      p = end + 1;
      last_indexed = c->nseg;
    }
    int more = *p == '.';
    if (*p && !more) return snprintf(err, errlen, "unexpected \"%c\" in the path", *p), -1;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
      if (f->label == PROTOBUF_C_LABEL_REPEATED && index < 0)
        return snprintf(err, errlen, "%s: a list of entries needs an index, e.g. %s[0].%s", name,
                        name, ((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0].name), -1;
      if (!more)
        return snprintf(err, errlen, "%s: names a group of fields, not one field", name), -1;
    }
    int w = snprintf(c->canon + canon_len, sizeof c->canon - canon_len, index >= 0 ? "%s%s[%d]" : "%s%s",
                     canon_len ? "." : "", f->name, index);
    if (w < 0 || (size_t)w >= sizeof c->canon - canon_len) return snprintf(err, errlen, "path too long"), -1;
    canon_len += (size_t)w;
    c->segs[c->nseg].f = f;
    c->segs[c->nseg].index = index;
    c->nseg++;
    d = f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
    if (!more) break;
    p++;
  }
  c->split = last_indexed + 1;
  /* The tail starts after the segment with the last index: find it in the name as written. */
  const char *t = c->name;
  for (int i = 0; i < c->split; i++) t = strchr(t, '.') + 1;
  c->tail = (char *)t;
  return 0;
}

/* The sub-message held by singular field f of m, created when absent. */
static ProtobufCMessage *sub_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                     ProtobufCAllocator *a) {
  ProtobufCMessage **slot = (ProtobufCMessage **)((char *)m + f->offset);
  if (!*slot) {
    const ProtobufCMessageDescriptor *d = f->descriptor;
    *slot = xalloc(a, d->sizeof_message);
    d->message_init(*slot);
  }
  return *slot;
}

/* Element `index` of repeated message field f of m, created when absent; the array grows with
 * NULL holes, which compact() removes once the row is complete (so work_history[0] and [2]
 * without [1] give two entries, in index order). */
static ProtobufCMessage *element(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int index,
                                 ProtobufCAllocator *a) {
  size_t *n = (size_t *)((char *)m + f->quantifier_offset);
  ProtobufCMessage ***arr = (ProtobufCMessage ***)((char *)m + f->offset);
  if ((size_t)index >= *n) {
    ProtobufCMessage **na = xalloc(a, ((size_t)index + 1) * sizeof *na);
    for (size_t i = 0; i <= (size_t)index; i++) na[i] = i < *n ? (*arr)[i] : NULL;
    xfree(a, *arr);
    *arr = na;
    *n = (size_t)index + 1;
  }
  if (!(*arr)[index]) {
    const ProtobufCMessageDescriptor *d = f->descriptor;
    (*arr)[index] = xalloc(a, d->sizeof_message);
    d->message_init((*arr)[index]);
  }
  return (*arr)[index];
}

/* Removes the NULL holes element() left in every repeated message field, at any depth. */
static void compact(ProtobufCMessage *m, ProtobufCAllocator *a) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t *n = (size_t *)((char *)m + f->quantifier_offset);
      ProtobufCMessage **arr = *(ProtobufCMessage ***)((char *)m + f->offset);
      size_t k = 0;
      for (size_t j = 0; j < *n; j++)
        if (arr[j]) {
          compact(arr[j], a);
          arr[k++] = arr[j];
        }
      *n = k;
    } else {
      ProtobufCMessage *s = *(ProtobufCMessage **)((char *)m + f->offset);
      if (s) compact(s, a);
    }
  }
}

/* ------------------------------------------------------------ friendly values ---------- */

/* Vietnamese words a spreadsheet holds for enum values (compared case- and form-insensitively). */
static const struct {
  const char *enum_name, *word, *value;
} enum_words[] = {
    {"hoso.records.v1.Gender", "Nam", "GENDER_MALE"},
    {"hoso.records.v1.Gender", "Nữ", "GENDER_FEMALE"},
    {"hoso.records.v1.Category", "Cán bộ", "CATEGORY_CADRE"},
    {"hoso.records.v1.Category", "Công chức", "CATEGORY_CIVIL_SERVANT"},
    {"hoso.records.v1.Category", "Viên chức", "CATEGORY_PUBLIC_EMPLOYEE"},
    {"hoso.records.v1.Category", "Hợp đồng", "CATEGORY_CONTRACT"},
    {"hoso.records.v1.Category", "Cán bộ, công chức cấp xã", "CATEGORY_COMMUNE_OFFICIAL"},
};

static int same_words(const char *a, const char *b) {
  int r = 1;
  if (u8_casecmp((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b), NULL, UNINORM_NFC, &r) != 0)
    return 0;
  return r == 0;
}

/* The enum value name for v: the proto name as is ("GENDER_MALE"), without its prefix in any
 * case ("male" → "GENDER_MALE"), or a Vietnamese word ("Nữ"). Else v itself, for pbjson to
 * reject with its own message. buf holds a built name. */
static const char *enum_value(const ProtobufCEnumDescriptor *e, const char *v, char *buf, size_t n) {
  if (protobuf_c_enum_descriptor_get_value_by_name(e, v)) return v;
  for (size_t i = 0; i < sizeof enum_words / sizeof enum_words[0]; i++)
    if (strcmp(enum_words[i].enum_name, e->name) == 0 && same_words(v, enum_words[i].word))
      return enum_words[i].value;
  /* The prefix is the zero value's name without UNSPECIFIED: "GENDER_". */
  const char *zero = e->n_values ? e->values[0].name : "";
  const char *u = strstr(zero, "UNSPECIFIED");
  size_t plen = u ? (size_t)(u - zero) : 0;
  size_t vlen = strlen(v);
  if (plen + vlen + 1 > n) return v;
  memcpy(buf, zero, plen);
  for (size_t i = 0; i < vlen; i++) buf[plen + i] = (char)toupper((unsigned char)v[i]);
  buf[plen + vlen] = 0;
  if (protobuf_c_enum_descriptor_get_value_by_name(e, buf + plen)) return buf + plen;
  if (protobuf_c_enum_descriptor_get_value_by_name(e, buf)) return buf;
  return v;
}

/* Appends the accepted values to an enum error: the person sees what to write instead. */
static void enum_hint(const ProtobufCEnumDescriptor *e, char *err, size_t errlen) {
  size_t o = strlen(err);
  const char *sep = "; write one of ";
  for (unsigned i = 1; i < e->n_values && o < errlen; i++) {
    int w = snprintf(err + o, errlen - o, "%s%s", sep, e->values[i].name);
    if (w < 0) return;
    o += (size_t)w;
    sep = ", ";
  }
  for (size_t i = 0; i < sizeof enum_words / sizeof enum_words[0] && o < errlen; i++)
    if (strcmp(enum_words[i].enum_name, e->name) == 0) {
      int w = snprintf(err + o, errlen - o, ", %s", enum_words[i].word);
      if (w < 0) return;
      o += (size_t)w;
    }
}

/* true/false as a spreadsheet writes them: 1/0, yes/no, x/empty, có/không. */
static const char *bool_value(const char *v) {
  static const char *const yes[] = {"true", "1", "yes", "x", "có"};
  static const char *const no[] = {"false", "0", "no", "không"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (same_words(v, yes[i])) return "true";
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (same_words(v, no[i])) return "false";
  return v;
}

/* ------------------------------------------------------------ CSV ---------------------- */

typedef struct {
  size_t off;  /* into the row buffer, NUL-terminated there */
  size_t len;  /* its bytes: a NUL byte inside is an error, not the end of the value */
  int line;    /* physical line where the cell starts */
} cell_t;

typedef struct {
  const char *p, *end;
  int line;                 /* physical line of p */
  char *buf;                /* the row's unescaped cells */
  size_t len, cap;
  cell_t *cells;
  size_t n, ncap;
} csv_t;

static int buf_put(csv_t *c, char ch) {
  if (c->len == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 1024;
    char *nb = realloc(c->buf, nc);
    if (!nb) return -1;
    c->buf = nb;
    c->cap = nc;
  }
  c->buf[c->len++] = ch;
  return 0;
}

static int cell_start(csv_t *c) {
  if (c->n == c->ncap) {
    size_t nc = c->ncap ? c->ncap * 2 : 32;
    cell_t *ncells = realloc(c->cells, nc * sizeof *ncells);
    if (!ncells) return -1;
    c->cells = ncells;
    c->ncap = nc;
  }
  c->cells[c->n].off = c->len;
  c->cells[c->n].line = c->line;
  c->n++;
  return 0;
}

/* Consumes a line end (LF, CRLF, or a lone CR) at p, if there is one. */
static int eol(csv_t *c) {
  if (c->p < c->end && *c->p == '\n') {
    c->p++;
    c->line++;
    return 1;
  }
  if (c->p < c->end && *c->p == '\r') {
    c->p++;
    if (c->p < c->end && *c->p == '\n') c->p++;
    c->line++;
    return 1;
  }
  return 0;
}

/* Reads one row into c->cells. 1: a row; 0: end of input; -1: out of memory; -2: a syntax
 * error, described in err, after which the reader has skipped to the next line. */
static int csv_row(csv_t *c, char *err, size_t errlen) {
  c->len = 0;
  c->n = 0;
  if (c->p >= c->end) return 0;
  for (;;) {
    if (cell_start(c) < 0) return -1;
    if (c->p < c->end && *c->p == '"') {
      int qline = c->line;
      c->p++;
      for (;;) {
        if (c->p >= c->end) {
          snprintf(err, errlen, "a quoted field opened on line %d is never closed", qline);
          return -2;
        }
        char ch = *c->p++;
        if (ch == '"') {
          if (c->p < c->end && *c->p == '"') {
            c->p++;
          } else {
            break;
          }
        } else if (ch == '\n') {
          c->line++;
        } else if (ch == '\r') {
          /* CRLF inside quotes is one line break, kept as LF; a lone CR counts as one too. */
          if (c->p < c->end && *c->p == '\n') c->p++;
          c->line++;
          ch = '\n';
        }
        if (buf_put(c, ch) < 0) return -1;
      }
      /* Only blanks may follow the closing quote before the separator. */
      while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
      if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
        snprintf(err, errlen, "text after the closing quote of field %zu (write \"\" for a quote inside a quoted field)", c->n);
        while (c->p < c->end && *c->p != '\n' && *c->p != '\r') c->p++;
        eol(c);
        return -2;
      }
    } else {
      while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
        if (buf_put(c, *c->p++) < 0) return -1;
    }
    c->cells[c->n - 1].len = c->len - c->cells[c->n - 1].off;
    if (buf_put(c, 0) < 0) return -1;
    if (c->p < c->end && *c->p == ',') {
      c->p++;
      continue;
    }
    eol(c);
    return 1;
  }
}

/* Trims ASCII blanks in place; returns the start. */
static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n')) s[--n] = 0;
  return s;
}

/* The physical line of the first malformed byte of cell s (which starts on line `line`), or 0
 * when s is valid UTF-8. Multi-byte sequences never hold a line feed, so line by line works. */
static int bad_utf8_line(const char *s, size_t n, int line) {
  const char *end = s + n;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *e = nl ? nl : end;
    if (!val_utf8(s, (size_t)(e - s)) && e > s) return line;
    if (!nl) break;
    s = nl + 1;
    line++;
  }
  return 0;
}

/* Binds one non-empty cell to rec. 0, or -1 with err holding the rule broken. */
static int bind_cell(const column *col, rec_t *rec, const char *value, ProtobufCAllocator *a,
                     char *err, size_t errlen) {
  ProtobufCMessage *m = &rec->base;
  for (int i = 0; i < col->split; i++) {
    const seg_t *s = &col->segs[i];
    m = s->index >= 0 ? element(m, s->f, s->index, a) : sub_message(m, s->f, a);
  }
  const ProtobufCFieldDescriptor *leaf = col->segs[col->nseg - 1].f;
  char buf[128];
  if (leaf->type == PROTOBUF_C_TYPE_ENUM) value = enum_value(leaf->descriptor, value, buf, sizeof buf);
  if (leaf->type == PROTOBUF_C_TYPE_BOOL) value = bool_value(value);
  if (pbjson_set_path(m, col->tail, value, a, err, errlen) == 0) return 0;
  if (leaf->type == PROTOBUF_C_TYPE_ENUM) enum_hint(leaf->descriptor, err, errlen);
  return -1;
}

/* Reads the header row. 0 with the columns, or -1 after reporting every bad column on line 1
 * (no row can be read against a header that is wrong). */
static int csv_header(csv_t *c, import_result *r, column **cols_out, size_t *ncols) {
  char err[ERR_LEN];
  int hline = c->line;
  int rc = csv_row(c, err, sizeof err);
  if (rc == -1) abort();
  if (rc == 0) {
    import_error(r, hline, "", "the file is empty: the first line must name the columns");
    return -1;
  }
  if (rc == -2) {
    import_error(r, hline, "", "header: %s", err);
    return -1;
  }
  column *cols = calloc(c->n, sizeof *cols);
  if (!cols) abort();
  int bad = 0;
  for (size_t i = 0; i < c->n; i++) {
    char *raw = c->buf + c->cells[i].off;
    char *name = trim(raw);
    cols[i].name = name;
    if (!val_utf8(raw, c->cells[i].len)) {
      import_error(r, hline, "", "column %zu: the name is not valid UTF-8", i + 1);
      bad = 1;
      continue;
    }
    if (column_parse(&cols[i], err, sizeof err) < 0) {
      import_error(r, hline, name, "%s", err);
      bad = 1;
      continue;
    }
    const ProtobufCFieldDescriptor *leaf = cols[i].segs[cols[i].nseg - 1].f;
    if (leaf->label == PROTOBUF_C_LABEL_REPEATED) continue; /* each cell adds one value */
    for (size_t j = 0; j < i; j++)
      if (cols[j].nseg && strcmp(cols[j].canon, cols[i].canon) == 0) {
        import_error(r, hline, name, "the column appears twice (also column %zu)", j + 1);
        bad = 1;
      }
  }
  if (bad) {
    free(cols);
    return -1;
  }
  *cols_out = cols;
  *ncols = c->n;
  return 0;
}

static int row_blank(const csv_t *c) {
  for (size_t i = 0; i < c->n; i++) {
    const char *s = c->buf + c->cells[i].off;
    while (*s == ' ' || *s == '\t') s++;
    if (*s) return 0;
  }
  return 1;
}

static void csv_parse(const char *p, size_t len, import_result *r) {
  csv_t c = {.p = p, .end = p + len, .line = 1};
  csv_t h = c;
  column *cols = NULL;
  size_t ncols = 0;
  char err[ERR_LEN];
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) h.p += 3;
  /* The header's cells point into its own buffer, kept until the end. */
  if (csv_header(&h, r, &cols, &ncols) < 0) goto out;
  c.p = h.p;
  c.line = h.line;
  for (;;) {
    int line = c.line;
    int rc = csv_row(&c, err, sizeof err);
    if (rc == 0) break;
    if (rc == -1) abort();
    if (rc == 1 && row_blank(&c)) continue;
    if (import_row_cap_reached(r, line)) break;
    r->n_read++;
    if (rc == -2) {
      import_error(r, line, "", "%s", err);
      continue;
    }
    if (c.n != ncols) {
      import_error(r, line, "", "the row has %zu fields; the header has %zu", c.n, ncols);
      continue;
    }
    rec_t *rec = new_record(r->a);
    int bad = 0;
    for (size_t i = 0; i < ncols; i++) {
      char *raw = c.buf + c.cells[i].off;
      int bl = bad_utf8_line(raw, c.cells[i].len, c.cells[i].line);
      if (bl) {
        import_error(r, bl, cols[i].name, "not valid UTF-8 text (save the file as UTF-8)");
        bad = 1;
        continue;
      }
      char *v = trim(raw);
      if (!*v) continue;
      if (bind_cell(&cols[i], rec, v, r->a, err, sizeof err) < 0) {
        import_error(r, line, cols[i].name, "%s", rule_of(err));
        bad = 1;
      }
    }
    compact(&rec->base, r->a);
    if (bad)
      protobuf_c_message_free_unpacked(&rec->base, r->a);
    else
      import_add_row(r, rec, line);
  }
out:
  free(cols);
  free(h.buf);
  free(h.cells);
  free(c.buf);
  free(c.cells);
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
    import_error(r, line, field, "%s", rule_of(err));
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
    csv_parse(content, len, out);
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
