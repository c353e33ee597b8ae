/* The bulk import's CSV reader (import_parse.h): RFC 4180 rows with quoted cells over several
 * lines, the header row of field paths, each data row bound into a Record. Pure. */
#include "import_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "val.h"

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
    if (import_column_parse(&cols[i], err, sizeof err) < 0) {
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

void import_parse_csv(const char *p, size_t len, import_result *r) {
  csv_t c = {.p = p, .end = p + len, .line = 1};
  csv_t h = c;
  column *cols = NULL;
  size_t ncols = 0;
  import_slots slots;
  memset(&slots, 0, sizeof slots);
  char err[ERR_LEN];
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) h.p += 3;
  /* The header's cells point into its own buffer, kept until the end. */
  if (csv_header(&h, r, &cols, &ncols) < 0) goto out;
  if (import_slots_make(cols, ncols, &slots) != 0) abort();
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
    rec_t *rec = import_new_record(r->a);
    int bad = 0, stop = 0;
    for (size_t i = 0; i < ncols && !stop; i++) {
      char where[320];
      snprintf(where, sizeof where, "line %d, column %s", line, cols[i].name);
      if ((stop = import_memory_exhausted(r, where))) break;
      char *raw = c.buf + c.cells[i].off;
      int bl = bad_utf8_line(raw, c.cells[i].len, c.cells[i].line);
      if (bl) {
        import_error(r, bl, cols[i].name, "not valid UTF-8 text (save the file as UTF-8)");
        bad = 1;
        continue;
      }
      char *v = trim(raw);
      if (!*v) continue;
      if (import_bind_cell(&cols[i], rec, v, r->a, &slots, err, sizeof err) < 0) {
        import_error(r, line, cols[i].name, "%s", import_rule_of(err));
        bad = 1;
      }
    }
    import_slots_finish_row(&slots, r->a);
    if (bad || stop)
      protobuf_c_message_free_unpacked(&rec->base, r->a);
    else
      import_add_row(r, rec, line);
    if (stop) break;
  }
  {
    char where[64];
    snprintf(where, sizeof where, "line %d", c.line);
    import_memory_exhausted(r, where); /* the last row may have crossed the line */
  }
out:
  import_slots_free(&slots);
  free(cols);
  free(h.buf);
  free(h.cells);
  free(c.buf);
  free(c.cells);
}
