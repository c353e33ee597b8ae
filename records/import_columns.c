/* The bulk import's columns (import_parse.h): a CSV header cell ("work_history[2].from") bound
 * to a Record field, the list entries a row makes (import_slots), the Vietnamese words a
 * spreadsheet holds for enums and booleans, and one cell's value set into the record. Pure. */
#include "import_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

#include "pbjson.h"

/* ------------------------------------------------------------ column paths ------------- */

/* Resolves one header cell against Record. 0, or -1 with err saying what is wrong. */
int import_column_parse(column *c, char *err, size_t errlen) {
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
    c->segs[c->nseg].canon_end = (int)canon_len;
    c->segs[c->nseg].slot = -1;
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
    *slot = import_alloc(a, d->sizeof_message);
    d->message_init(*slot);
  }
  return *slot;
}

/* ------------------------------------------------------------ list entries ------------ */

static int find_or_add(char **keys, size_t *n, const char *key, size_t len) {
  for (size_t i = 0; i < *n; i++)
    if (strlen(keys[i]) == len && memcmp(keys[i], key, len) == 0) return (int)i;
  if (!(keys[*n] = strndup(key, len))) return -1;
  return (int)(*n)++;
}

static const import_slots *sort_slots;
static int by_list_then_index(const void *x, const void *y) {
  int a = *(const int *)x, b = *(const int *)y;
  int ga = sort_slots->group[a], gb = sort_slots->group[b];
  if (ga != gb) return (ga > gb) - (ga < gb);
  return (sort_slots->index[a] > sort_slots->index[b]) - (sort_slots->index[a] < sort_slots->index[b]);
}

int import_slots_make(column *cols, size_t ncols, import_slots *s) {
  memset(s, 0, sizeof *s);
  size_t max = ncols * MAX_DEPTH + 1;
  char **keys = calloc(max, sizeof *keys), **gkeys = calloc(max, sizeof *gkeys);
  s->group = calloc(max, sizeof *s->group);
  s->index = calloc(max, sizeof *s->index);
  s->group_field = calloc(max, sizeof *s->group_field);
  int rc = -1;
  if (!keys || !gkeys || !s->group || !s->index || !s->group_field) goto out;
  for (size_t c = 0; c < ncols; c++)
    for (int i = 0; i < cols[c].split; i++) {
      seg_t *g = &cols[c].segs[i];
      if (g->index < 0) continue;
      /* The entry: the canonical path up to and with its index; its list: without the index. */
      size_t before = s->n;
      int slot = find_or_add(keys, &s->n, cols[c].canon, (size_t)g->canon_end);
      if (slot < 0) goto out;
      g->slot = slot;
      if (s->n == before) continue;
      const char *open = memrchr(cols[c].canon, '[', (size_t)g->canon_end);
      int grp = find_or_add(gkeys, &s->ngroups, cols[c].canon, (size_t)(open - cols[c].canon));
      if (grp < 0) goto out;
      s->group[slot] = grp;
      s->index[slot] = g->index;
      s->group_field[grp] = g->f;
    }
  s->order = malloc((s->n + 1) * sizeof *s->order);
  s->elem = calloc(s->n + 1, sizeof *s->elem);
  s->parent = calloc(s->ngroups + 1, sizeof *s->parent);
  if (!s->order || !s->elem || !s->parent) goto out;
  for (size_t i = 0; i < s->n; i++) s->order[i] = (int)i;
  sort_slots = s; /* the header is read once per parse, before any row: no other sort runs */
  qsort(s->order, s->n, sizeof *s->order, by_list_then_index);
  rc = 0;
out:
  for (size_t i = 0; keys && i < s->n; i++) free(keys[i]);
  for (size_t i = 0; gkeys && i < s->ngroups; i++) free(gkeys[i]);
  free(keys);
  free(gkeys);
  return rc;
}

void import_slots_free(import_slots *s) {
  free(s->group);
  free(s->index);
  free(s->group_field);
  free(s->order);
  free(s->elem);
  free(s->parent);
  memset(s, 0, sizeof *s);
}

/* The entry of `slot` in this row inside m (whose repeated field it belongs to), made when the
 * row's first cell names it. */
static ProtobufCMessage *entry(import_slots *s, int slot, ProtobufCMessage *m, ProtobufCAllocator *a) {
  if (!s->elem[slot]) {
    const ProtobufCMessageDescriptor *d = s->group_field[s->group[slot]]->descriptor;
    s->elem[slot] = import_alloc(a, d->sizeof_message);
    d->message_init(s->elem[slot]);
    s->parent[s->group[slot]] = m;
  }
  return s->elem[slot];
}

void import_slots_finish_row(import_slots *s, ProtobufCAllocator *a) {
  for (size_t i = 0; i < s->n;) {
    int g = s->group[s->order[i]];
    size_t j = i, made = 0;
    for (; j < s->n && s->group[s->order[j]] == g; j++) made += s->elem[s->order[j]] != NULL;
    if (made && s->parent[g]) {
      const ProtobufCFieldDescriptor *f = s->group_field[g];
      ProtobufCMessage **arr = import_alloc(a, made * sizeof *arr);
      size_t k = 0;
      for (size_t q = i; q < j; q++)
        if (s->elem[s->order[q]]) arr[k++] = s->elem[s->order[q]];
      *(size_t *)((char *)s->parent[g] + f->quantifier_offset) = k;
      *(ProtobufCMessage ***)((char *)s->parent[g] + f->offset) = arr;
    }
    i = j;
  }
  memset(s->elem, 0, s->n * sizeof *s->elem);
  memset(s->parent, 0, s->ngroups * sizeof *s->parent);
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

/* Binds one non-empty cell to rec. 0, or -1 with err holding the rule broken. */
int import_bind_cell(const column *col, rec_t *rec, const char *value, ProtobufCAllocator *a, import_slots *s,
                     char *err, size_t errlen) {
  ProtobufCMessage *m = &rec->base;
  for (int i = 0; i < col->split; i++) {
    const seg_t *g = &col->segs[i];
    m = g->index >= 0 ? entry(s, g->slot, m, a) : sub_message(m, g->f, a);
  }
  const ProtobufCFieldDescriptor *leaf = col->segs[col->nseg - 1].f;
  char buf[128];
  if (leaf->type == PROTOBUF_C_TYPE_ENUM) value = enum_value(leaf->descriptor, value, buf, sizeof buf);
  if (leaf->type == PROTOBUF_C_TYPE_BOOL) value = bool_value(value);
  if (pbjson_set_path(m, col->tail, value, a, err, errlen) == 0) return 0;
  if (leaf->type == PROTOBUF_C_TYPE_ENUM) enum_hint(leaf->descriptor, err, errlen);
  return -1;
}
