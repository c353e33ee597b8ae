/* tpl_parse: a template definition checked key by key (an unknown key is a fault: a typo must
 * not silently drop a column), its predicates compiled once to prove them; tpl_form fills the
 * placeholders. */
#include "tpl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pred.h"

static const tpl_field fields[] = {
    {"full_name", 0, "f.full_name"},
    {"birth_date", 0, "to_char(f.birth_date, 'DD/MM/YYYY')"},
    {"gender", 0, "CASE f.gender WHEN 1 THEN 'Nam' WHEN 2 THEN 'Nữ' ELSE '' END"},
    {"unit_name", 0, "u.name"},
    {"position_name", 0, "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'POSITION' AND c.code = f.position_code)"},
    {"position_date", 0, "to_char(f.position_date, 'DD/MM/YYYY')"},
    {"rank_code", 0, "f.rank_code"},
    {"rank_name", 0, "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'RANK' AND c.code = f.rank_code)"},
    {"professional_title", 0, "f.professional_title"},
    {"degree_name", 0, "(SELECT c.name FROM records.report_catalog c WHERE c.catalog = 'DEGREE' AND c.code = f.degree_code)"},
    {"recruitment_date", 0, "to_char(f.recruitment_date, 'DD/MM/YYYY')"},
    {"salary_date", 0, "to_char(f.salary_date, 'DD/MM/YYYY')"},
    {"salary_step", 1, "f.salary_step"},
    {"salary_coefficient", 1, "f.salary_coefficient"},
    {"position_allowance", 1, "f.position_allowance"},
    {"seniority_percent", 1, "f.seniority_percent"},
    {"responsibility_allowance", 1, "f.responsibility_allowance"},
    {"regional_allowance", 1, "f.regional_allowance"},
    {"other_allowances", 1, "f.other_allowances"},
    {NULL, 0, NULL},
};

const tpl_field *tpl_find_field(const char *name) {
  for (const tpl_field *f = fields; name && f->name; f++)
    if (!strcmp(f->name, name)) return f;
  return NULL;
}

static const char *const placeholders[] = {"unit_name",    "parent_name", "as_of",     "as_of_day", "as_of_month",
                                           "as_of_year",   "signer_name", "prepared_by", "place",   "today_day",
                                           "today_month",  "today_year",  NULL};

typedef struct {
  char *err;
  size_t errlen;
} chk;

static int bad(chk *c, const char *path, const char *why) {
  snprintf(c->err, c->errlen, "%s: %s", path, why);
  return -1;
}

/* Every {name} in s is a known placeholder. */
static int check_placeholders(chk *c, const char *s, const char *path) {
  for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
    const char *e = strchr(p, '}');
    if (!e) return bad(c, path, "a '{' without its '}'");
    int known = 0;
    for (const char *const *n = placeholders; *n && !known; n++)
      known = strlen(*n) == (size_t)(e - p - 1) && !strncmp(p + 1, *n, (size_t)(e - p - 1));
    if (!known) {
      char why[160];
      snprintf(why, sizeof why, "unknown placeholder {%.*s}", (int)(e - p - 1 > 60 ? 60 : e - p - 1), p + 1);
      return bad(c, path, why);
    }
  }
  return 0;
}

/* An optional string member: NULL when absent; -1 when present but not a string of at most
 * max characters. */
static int str_member(chk *c, const json_t *o, const char *key, const char *path, int required, size_t max,
                      const char **out) {
  char p[300];
  snprintf(p, sizeof p, "%.250s.%s", path, key);
  json_t *v = json_object_get(o, key);
  *out = NULL;
  if (!v) return required ? bad(c, p, "required") : 0;
  if (!json_is_string(v)) return bad(c, p, "must be text");
  if (json_string_length(v) > max) return bad(c, p, "too long");
  if (required && json_string_length(v) == 0) return bad(c, p, "required");
  *out = json_string_value(v);
  return check_placeholders(c, *out, p);
}

static int only_keys(chk *c, const json_t *o, const char *path, const char *const *keys) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    int ok = 0;
    for (const char *const *x = keys; *x && !ok; x++) ok = !strcmp(*x, k);
    if (!ok) {
      char p[300];
      snprintf(p, sizeof p, "%.250s.%s", path, k);
      return bad(c, p, "unknown key");
    }
  }
  return 0;
}

static int check_pred(chk *c, const json_t *p, const char *path) {
  qb q;
  qb_init(&q);
  rdate day = {2025, 12, 31};
  int rc = pred_sql(&q, p, day, path, c->err, c->errlen);
  qb_free(&q);
  return rc;
}

static int lines(chk *c, const json_t *root, const char *key, const char *path, const char **out, int max) {
  char p[300];
  snprintf(p, sizeof p, "%.250s.%s", path, key);
  json_t *a = json_object_get(root, key);
  if (!a) return 0;
  if (!json_is_array(a) || json_array_size(a) > (size_t)max) {
    char why[80];
    snprintf(why, sizeof why, "must be a list of at most %d lines", max);
    return bad(c, p, why);
  }
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    char q[330];
    snprintf(q, sizeof q, "%.250s[%zu]", p, i);
    if (!json_is_string(v) || json_string_length(v) > 300) return bad(c, q, "must be text of at most 300 bytes");
    if (check_placeholders(c, json_string_value(v), q) != 0) return -1;
    out[i] = json_string_value(v);
  }
  return 0;
}

static int column(chk *c, tpl *t, const json_t *o, const char *path, tpl_col *col) {
  static const char *const keys[] = {"label", "number", "groups", "kind", "when", "field", "width", NULL};
  static const char *const kinds[] = {"seq", "row_name", "quota", "count", "sum", "field", "blank", NULL};
  if (!json_is_object(o)) return bad(c, path, "must be an object");
  if (only_keys(c, o, path, keys) || str_member(c, o, "label", path, 1, 300, &col->label) ||
      str_member(c, o, "number", path, 0, 20, &col->number))
    return -1;
  const char *kind;
  if (str_member(c, o, "kind", path, 1, 20, &kind)) return -1;
  int k = -1;
  for (int i = 0; kinds[i]; i++)
    if (!strcmp(kinds[i], kind)) k = i;
  char p[300];
  snprintf(p, sizeof p, "%.250s.kind", path);
  if (k < 0) return bad(c, p, "unknown kind (seq, row_name, quota, count, sum, field, blank)");
  col->kind = (tpl_kind)k;
  if (t->people && (col->kind == TPL_ROW_NAME || col->kind == TPL_QUOTA || col->kind == TPL_COUNT || col->kind == TPL_SUM))
    return bad(c, p, "not in a list of people (rows: people)");
  if (!t->people && col->kind == TPL_FIELD) return bad(c, p, "only in a list of people (rows: people)");
  json_t *g = json_object_get(o, "groups");
  snprintf(p, sizeof p, "%.250s.groups", path);
  if (g) {
    if (!json_is_array(g) || json_array_size(g) > DOC_MAX_GROUPS) return bad(c, p, "must be a list of at most 3 headings");
    size_t i;
    json_t *v;
    json_array_foreach(g, i, v) {
      if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 300) {
        char q[330];
        snprintf(q, sizeof q, "%.250s[%zu]", p, i);
        return bad(c, q, "must be a non-empty heading");
      }
      col->groups[i] = json_string_value(v);
    }
  }
  col->when = json_object_get(o, "when");
  snprintf(p, sizeof p, "%.250s.when", path);
  if (col->when && col->kind != TPL_COUNT && col->kind != TPL_SUM && col->kind != TPL_FIELD)
    return bad(c, p, "only count, sum and field columns have a condition");
  if (col->when && check_pred(c, col->when, p) != 0) return -1;
  if (str_member(c, o, "field", path, col->kind == TPL_SUM || col->kind == TPL_FIELD, 60, &col->field)) return -1;
  snprintf(p, sizeof p, "%.250s.field", path);
  if (col->field) {
    const tpl_field *f = tpl_find_field(col->field);
    if (!f) return bad(c, p, "unknown field");
    if (col->kind == TPL_SUM && !f->numeric) return bad(c, p, "a sum needs a numeric field");
    if (col->kind != TPL_SUM && col->kind != TPL_FIELD) return bad(c, p, "only sum and field columns show a field");
  }
  json_t *w = json_object_get(o, "width");
  snprintf(p, sizeof p, "%.250s.width", path);
  if (w && (!json_is_number(w) || json_number_value(w) < 1 || json_number_value(w) > 100))
    return bad(c, p, "must be a number from 1 to 100");
  col->width = w ? json_number_value(w) : 0;
  return 0;
}

static int parse(chk *c, tpl *t, const char *path) {
  static const char *const keys[] = {"format", "title", "subtitle", "header_left", "header_right", "population",
                                     "rows", "numbered", "columns", "signers", "place_date", NULL};
  json_t *root = t->root;
  if (!json_is_object(root)) return bad(c, path, "must be a JSON object");
  if (only_keys(c, root, path, keys)) return -1;
  char p[300];
  snprintf(p, sizeof p, "%.250s.format", path);
  json_t *fmt = json_object_get(root, "format");
  if (!json_is_integer(fmt) || json_integer_value(fmt) != TPL_FORMAT) return bad(c, p, "must be 1");
  if (str_member(c, root, "title", path, 1, 300, &t->title) || str_member(c, root, "subtitle", path, 0, 300, &t->subtitle) ||
      str_member(c, root, "place_date", path, 0, 300, &t->place_date) ||
      lines(c, root, "header_left", path, t->left, DOC_MAX_LINES) || lines(c, root, "header_right", path, t->right, DOC_MAX_LINES))
    return -1;
  const char *rows;
  if (str_member(c, root, "rows", path, 1, 20, &rows)) return -1;
  snprintf(p, sizeof p, "%.250s.rows", path);
  if (strcmp(rows, "units") && strcmp(rows, "people")) return bad(c, p, "must be \"units\" or \"people\"");
  t->people = !strcmp(rows, "people");
  json_t *num = json_object_get(root, "numbered");
  snprintf(p, sizeof p, "%.250s.numbered", path);
  if (num && !json_is_boolean(num)) return bad(c, p, "must be true or false");
  t->numbered = json_is_true(num);
  t->population = json_object_get(root, "population");
  snprintf(p, sizeof p, "%.250s.population", path);
  if (!t->population) return bad(c, p, "required (who the report counts or lists)");
  if (check_pred(c, t->population, p) != 0) return -1;
  json_t *cols = json_object_get(root, "columns");
  snprintf(p, sizeof p, "%.250s.columns", path);
  if (!json_is_array(cols) || json_array_size(cols) == 0 || json_array_size(cols) > TPL_MAX_COLS)
    return bad(c, p, "must be a list of 1 to 80 columns");
  size_t i;
  json_t *v;
  json_array_foreach(cols, i, v) {
    char q[330];
    snprintf(q, sizeof q, "%.250s[%zu]", p, i);
    if (column(c, t, v, q, &t->cols[i]) != 0) return -1;
  }
  t->n_cols = json_array_size(cols);
  json_t *s = json_object_get(root, "signers");
  snprintf(p, sizeof p, "%.250s.signers", path);
  if (s && (!json_is_array(s) || json_array_size(s) > DOC_MAX_SIGNERS)) return bad(c, p, "must be a list of at most 3 signers");
  json_array_foreach(s, i, v) {
    static const char *const skeys[] = {"title", "hint", "name", NULL};
    char q[330];
    snprintf(q, sizeof q, "%.250s[%zu]", p, i);
    if (!json_is_object(v)) return bad(c, q, "must be an object");
    if (only_keys(c, v, q, skeys) || str_member(c, v, "title", q, 1, 200, &t->signers[i]) ||
        str_member(c, v, "hint", q, 0, 200, &t->hints[i]) || str_member(c, v, "name", q, 0, 200, &t->names[i]))
      return -1;
  }
  return 0;
}

int tpl_parse(const char *json, const char *prefix, tpl **out, char *err, size_t errlen) {
  *out = NULL;
  tpl *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, errlen, "%s: out of memory", prefix);
    return -1;
  }
  json_error_t je;
  t->root = json_loads(json ? json : "", JSON_REJECT_DUPLICATES, &je);
  if (!t->root) {
    snprintf(err, errlen, "%s: not JSON (line %d, column %d: %s)", prefix, je.line, je.column, je.text);
    free(t);
    return -1;
  }
  chk c = {err, errlen};
  if (parse(&c, t, prefix) != 0) {
    tpl_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

void tpl_free(tpl *t) {
  if (!t) return;
  json_decref(t->root);
  free(t);
}

/* "YYYY-MM-DD" → its day, month, year, or "dd/mm/yyyy" (what = 0). */
static void date_part(const char *iso, int what, char *buf, size_t len) {
  if (!iso || strlen(iso) < 10) {
    snprintf(buf, len, "...");
    return;
  }
  switch (what) {
  case 1: snprintf(buf, len, "%.2s", iso + 8); break;
  case 2: snprintf(buf, len, "%.2s", iso + 5); break;
  case 3: snprintf(buf, len, "%.4s", iso); break;
  default: snprintf(buf, len, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
  }
}

/* The value of placeholder `name` (len bytes), "" for a known one without a value, NULL for
 * an unknown one. */
static const char *value_of(const char *name, size_t len, const tpl_vars *v, char buf[40]) {
  static const struct {
    const char *name;
    size_t off;
  } text[] = {{"unit_name", offsetof(tpl_vars, unit_name)},     {"parent_name", offsetof(tpl_vars, parent_name)},
              {"signer_name", offsetof(tpl_vars, signer_name)}, {"prepared_by", offsetof(tpl_vars, prepared_by)},
              {"place", offsetof(tpl_vars, place)}};
  for (size_t i = 0; i < sizeof text / sizeof *text; i++)
    if (strlen(text[i].name) == len && !strncmp(name, text[i].name, len)) {
      const char *s = *(const char *const *)((const char *)v + text[i].off);
      return s ? s : "";
    }
  static const struct {
    const char *name;
    int today, what;
  } dates[] = {{"as_of", 0, 0},     {"as_of_day", 0, 1}, {"as_of_month", 0, 2}, {"as_of_year", 0, 3},
               {"today_day", 1, 1}, {"today_month", 1, 2}, {"today_year", 1, 3}};
  for (size_t i = 0; i < sizeof dates / sizeof *dates; i++)
    if (strlen(dates[i].name) == len && !strncmp(name, dates[i].name, len)) {
      date_part(dates[i].today ? v->today : v->as_of, dates[i].what, buf, 40);
      return buf;
    }
  return NULL;
}

char *tpl_fill(const char *text, const tpl_vars *v) {
  if (!text) return NULL;
  size_t cap = strlen(text) + 1, o = 0;
  char *out = malloc(cap);
  for (const char *p = text; out && *p;) {
    const char *e = *p == '{' ? strchr(p, '}') : NULL;
    char buf[40];
    const char *rep = e ? value_of(p + 1, (size_t)(e - p - 1), v, buf) : NULL;
    size_t n = rep ? strlen(rep) : 1;
    if (o + n + 1 > cap) {
      char *g = realloc(out, cap = (o + n + 1) * 2);
      if (!g) free(out);
      out = g;
      if (!out) break;
    }
    if (rep) {
      memcpy(out + o, rep, n);
      o += n;
      p = e + 1;
    } else {
      out[o++] = *p++;
    }
  }
  if (out) out[o] = '\0';
  return out;
}

void tpl_form(const tpl *t, const tpl_vars *v, doc_form *f, doc_col *cols, char **keep, size_t *n_keep) {
  memset(f, 0, sizeof *f);
  size_t k = 0;
#define FILL(dst, src)                     \
  do {                                     \
    if (src && k < 64) {                   \
      keep[k] = tpl_fill(src, v);          \
      (dst) = keep[k++];                   \
    }                                      \
  } while (0)
  FILL(f->title, t->title);
  FILL(f->subtitle, t->subtitle);
  FILL(f->place_date, t->place_date);
  for (int i = 0; i < DOC_MAX_LINES; i++) {
    FILL(f->left[i], t->left[i]);
    FILL(f->right[i], t->right[i]);
  }
  for (int i = 0; i < DOC_MAX_SIGNERS; i++) {
    f->signers[i] = t->signers[i];
    f->signer_hints[i] = t->hints[i];
    FILL(f->signer_names[i], t->names[i]);
  }
#undef FILL
  for (size_t i = 0; i < t->n_cols; i++) {
    memset(&cols[i], 0, sizeof cols[i]);
    cols[i].label = t->cols[i].label;
    cols[i].number = t->cols[i].number;
    memcpy(cols[i].groups, t->cols[i].groups, sizeof cols[i].groups);
    cols[i].width = t->cols[i].width;
    const tpl_field *fd = t->cols[i].field ? tpl_find_field(t->cols[i].field) : NULL;
    cols[i].numeric = t->cols[i].kind == TPL_COUNT || t->cols[i].kind == TPL_QUOTA || t->cols[i].kind == TPL_SUM ||
                      (fd && fd->numeric);
  }
  f->cols = cols;
  f->n_cols = t->n_cols;
  f->numbered = t->numbered;
  *n_keep = k;
}
