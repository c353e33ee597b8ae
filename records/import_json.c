/* The bulk import's JSON reader (import_parse.h): an array of records, JSON Lines, or one record
 * written over several lines, each record the proto3 JSON form of a Record. Every record is
 * handed to the JSON library alone, after a scan has counted its values, so the library's
 * memory is bounded by one record, never by the file. Pure. */
#include "import_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "pbjson.h"

static void field_of(const char *err, char *out, size_t n) {
  const char *rule = import_rule_of(err);
  size_t len = rule == err ? 0 : (size_t)(rule - 2 - err);
  if (len == 4 && memcmp(err, "body", 4) == 0) len = 0; /* pbjson's name for the whole value */
  if (len >= n) len = n - 1;
  memcpy(out, err, len);
  out[len] = 0;
}

/* The end of the JSON value starting at p (just past it; for a bare number or word, where it
 * stops), or NULL when the text ends inside a string or a bracket. *values counts the objects
 * and arrays in it and the members and elements they hold. A malformed value is the JSON
 * library's to describe: this only finds where a record ends. */
static const char *scan_value(const char *p, const char *end, size_t *values) {
  int depth = 0, in_str = 0;
  *values = 1;
  for (; p < end; p++) {
    char ch = *p;
    if (in_str) {
      if (ch == '\\') p++;
      else if (ch == '"' && (in_str = 0, depth == 0)) return p + 1;
      continue;
    }
    switch (ch) {
    case '"':
      in_str = 1;
      break;
    case '{':
    case '[':
      depth++;
      (*values)++;
      break;
    case '}':
    case ']':
      if (depth == 0) return p;
      if (--depth == 0) return p + 1;
      break;
    case ',':
      if (depth == 0) return p;
      (*values)++;
      break;
    default:
      if (depth == 0 && isspace((unsigned char)ch)) return p;
    }
  }
  return depth == 0 && !in_str ? p : NULL;
}

static int line_of(const char *start, const char *p) {
  int line = 1;
  for (; start < p; start++) line += *start == '\n';
  return line;
}

/* One record's text [p, e): its errors are reported at `line`; a syntax error at the physical
 * line phys (where the text starts) plus its line within, and then (in a list: syntax) the
 * whole file is unreadable: 0 from here means stop. values: what scan_value counted. */
static int json_record(import_result *r, const char *p, const char *e, size_t values, int line, int phys) {
  char err[ERR_LEN], field[256], where[64];
  r->n_read++;
  if (values > IMPORT_MAX_JSON_VALUES) {
    import_error(r, line, "", "the record holds more than %d values (objects, lists and their entries): no "
                              "dossier has that many; is it the right file?",
                 IMPORT_MAX_JSON_VALUES);
    return 1;
  }
  json_error_t je;
  json_t *v = json_loadb(p, (size_t)(e - p), JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
  if (!v) {
    import_error(r, phys + (je.line > 0 ? je.line - 1 : 0), "", "malformed JSON at column %d: %s", je.column,
                 je.text);
    return 0;
  }
  if (!json_is_object(v)) {
    import_error(r, line, "", "expected a JSON object (one record)");
    json_decref(v);
    return 1;
  }
  ProtobufCMessage *m = pbjson_from_json(RECORD_DESC, v, 0, r->a, err, sizeof err);
  json_decref(v);
  snprintf(where, sizeof where, "line %d", line);
  if (import_memory_exhausted(r, where)) {
    if (m) protobuf_c_message_free_unpacked(m, r->a);
    return 0;
  }
  if (!m) {
    field_of(err, field, sizeof field);
    import_error(r, line, field, "%s", import_rule_of(err));
    return 1;
  }
  import_add_row(r, (rec_t *)m, line);
  return 1;
}

/* A list that turns out malformed is not read at all (as when the library reads it whole):
 * what its first records gave is dropped, and its one error says where it breaks. */
static void unreadable(import_result *r, int line, const char *what) {
  import_forget(r);
  import_error(r, line, "", "%s", what);
}

static const char *skip_space(const char *p, const char *end) {
  while (p < end && isspace((unsigned char)*p)) p++;
  return p;
}

/* [ record, record, ... ]: each element alone, reported at its index + 1. */
static void read_array(import_result *r, const char *text, const char *p, const char *end) {
  p = skip_space(p + 1, end);
  if (p < end && *p == ']') {
    p = skip_space(p + 1, end);
    if (p < end) unreadable(r, line_of(text, p), "malformed JSON: text after the list of records");
    return;
  }
  for (int i = 1;; i++) {
    if (import_row_cap_reached(r, i) || r->refused[0]) return;
    size_t values;
    const char *e = scan_value(p, end, &values);
    if (!e || e == p) {
      unreadable(r, line_of(text, p), e ? "malformed JSON: a record is missing in the list"
                                        : "malformed JSON: the list of records is not closed");
      return;
    }
    if (!json_record(r, p, e, values, i, line_of(text, p))) {
      if (!r->refused[0]) {
        /* keep the syntax error, drop the rest */
        Hoso__Records__V1__ImportError *syn = r->errors[r->n_errors - 1];
        char msg[ERR_LEN];
        snprintf(msg, sizeof msg, "%s", syn->message);
        unreadable(r, syn->line, msg);
      }
      return;
    }
    p = skip_space(e, end);
    if (p < end && *p == ',') {
      p = skip_space(p + 1, end);
      continue;
    }
    if (p < end && *p == ']') {
      p = skip_space(p + 1, end);
      if (p < end) unreadable(r, line_of(text, p), "malformed JSON: text after the list of records");
      return;
    }
    unreadable(r, line_of(text, p), "malformed JSON: expected , or ] after a record");
    return;
  }
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

void import_parse_json(const char *p, size_t len, import_result *r) {
  const char *end = p + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  const char *text = p, *q = skip_space(p, end);
  if (q == end) {
    import_error(r, 1, "", "the file holds no records");
    return;
  }
  if (*q == '[') {
    read_array(r, text, q, end);
  } else if (looks_like_lines(q, end)) {
    int line = 1;
    for (const char *s = p; s < end; line++) {
      const char *nl = memchr(s, '\n', (size_t)(end - s));
      const char *e = nl ? nl : end;
      if (skip_space(s, e) < e) {
        if (import_row_cap_reached(r, line) || r->refused[0]) break;
        size_t values;
        scan_value(skip_space(s, e), e, &values);
        json_record(r, s, e, values, line, line);
      }
      s = nl ? nl + 1 : end;
    }
  } else {
    /* One record written over several lines, as ExportRecord's JSON pretty-printed. */
    size_t values;
    scan_value(q, end, &values);
    json_record(r, p, end, values, line_of(text, q), 1);
  }
  if (r->n_read == 0 && r->n_errors == 0 && !r->refused[0]) import_error(r, 1, "", "the file holds no records");
}
