/* pred_sql: the predicate language of templates compiled to SQL over report_facts. Field names
 * come only from the table below, values only as parameters. */
#include "pred.h"

#include <stdio.h>
#include <string.h>
#include "rules.h"

const pf_field pf_fields[] = {
    {"category", PF_INT, "f.category"},
    {"gender", PF_INT, "f.gender"},
    {"status", PF_INT, "f.status"},
    {"workflow_state", PF_INT, "f.workflow_state"},
    {"ethnicity_code", PF_TEXT, "f.ethnicity_code"},
    {"minority", PF_BOOL, "(f.ethnicity_code NOT IN ('', '01'))"},
    {"religion_code", PF_TEXT, "f.religion_code"},
    {"religious", PF_BOOL, "(f.religion_code NOT IN ('', '00'))"},
    {"party_member", PF_BOOL, "f.party_member"},
    {"rank_code", PF_TEXT, "f.rank_code"},
    {"rank_group", PF_RANK_GROUP, "f.rank_code"},
    {"salary_step", PF_INT, "f.salary_step"},
    {"position_code", PF_TEXT, "f.position_code"},
    {"has_position", PF_BOOL, "(f.position_code <> '')"},
    {"degree_code", PF_TEXT, "f.degree_code"},
    {"political_theory_code", PF_TEXT, "f.political_theory_code"},
    {"state_management_code", PF_TEXT, "f.state_management_code"},
    {"it_class", PF_INT, "f.it_class"},
    {"english_class", PF_INT, "f.english_class"},
    {"other_language_class", PF_INT, "f.other_language_class"},
    {"ethnic_language", PF_BOOL, "f.ethnic_language"},
    {"general_education", PF_TEXT, "f.general_education"},
    {"staffing_code", PF_TEXT, "f.staffing_code"},
    {"professional_title", PF_TEXT, "f.professional_title"},
    {"managing_unit_id", PF_INT, "f.managing_unit_id"},
    {"age", PF_AGE, "f.birth_date"},
    {"over_retirement_age", PF_OVER_RETIREMENT, "f.birth_date"},
    {NULL, PF_INT, NULL},
};

const pf_field *pf_find(const char *name) {
  for (const pf_field *f = pf_fields; name && f->name; f++)
    if (!strcmp(f->name, name)) return f;
  return NULL;
}

typedef struct {
  qb *q;
  rdate day;
  char *err;
  size_t errlen;
} ctx;

static int bad(ctx *c, const char *path, const char *why) {
  snprintf(c->err, c->errlen, "%s: %s", path, why);
  return -1;
}

static int pred(ctx *c, const json_t *p, const char *path);

/* A JSON scalar as the text of a parameter of the field's type, or NULL when the type does
 * not fit (err set). */
static const char *scalar(ctx *c, const pf_field *f, const json_t *v, const char *path, char buf[32]) {
  switch (f->kind) {
  case PF_INT:
  case PF_AGE:
    if (!json_is_integer(v)) return bad(c, path, "must be a whole number"), NULL;
    snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
    return buf;
  case PF_TEXT:
  case PF_RANK_GROUP:
    if (!json_is_string(v)) return bad(c, path, "must be a text code"), NULL;
    return json_string_value(v);
  default:
    if (!json_is_boolean(v)) return bad(c, path, "must be true or false"), NULL;
    return json_is_true(v) ? "t" : "f";
  }
}

static const char *cast_of(const pf_field *f) {
  switch (f->kind) {
  case PF_INT: return "::bigint";
  case PF_BOOL: return "::boolean";
  default: return "::text";
  }
}

/* birth_date bounds for an age comparison: age >= years  <=>  birth_date <= born_by_age. */
static void age_cmp(ctx *c, const char *op, long long years) {
  rdate b;
  char buf[11];
  if (!strcmp(op, "gt")) op = "gte", years++;
  if (!strcmp(op, "lt")) op = "lte", years--;
  if (!strcmp(op, "eq")) {
    qb_add(c->q, "(f.birth_date <= ");
    b = rp_born_by_age(c->day, (int)years);
    qb_param(c->q, rdate_fmt(b, buf), "::date");
    qb_add(c->q, " AND f.birth_date > ");
    b = rp_born_by_age(c->day, (int)years + 1);
    qb_param(c->q, rdate_fmt(b, buf), "::date");
    qb_add(c->q, ")");
  } else if (!strcmp(op, "gte")) {
    qb_add(c->q, "f.birth_date <= ");
    b = rp_born_by_age(c->day, (int)years);
    qb_param(c->q, rdate_fmt(b, buf), "::date");
  } else { /* lte */
    qb_add(c->q, "f.birth_date > ");
    b = rp_born_by_age(c->day, (int)years + 1);
    qb_param(c->q, rdate_fmt(b, buf), "::date");
  }
}

static int over_retirement(ctx *c, int want, const char *path) {
  rdate m, w;
  char buf[11];
  if (rp_over_retirement_born_before(c->day, RP_MALE, &m) != 0 ||
      rp_over_retirement_born_before(c->day, RP_FEMALE, &w) != 0)
    return bad(c, path, "no retirement age for the report's day");
  qb_add(c->q, "%s(COALESCE((f.gender = 1 AND f.birth_date < ", want ? "" : "NOT ");
  qb_param(c->q, rdate_fmt(m, buf), "::date");
  qb_add(c->q, ") OR (f.gender = 2 AND f.birth_date < ");
  qb_param(c->q, rdate_fmt(w, buf), "::date");
  qb_add(c->q, "), false))");
  return 0;
}

/* One comparison of field f with operator op and JSON value v. */
static int compare(ctx *c, const pf_field *f, const char *op, const json_t *v, const char *path) {
  char buf[32];
  if (f->kind == PF_OVER_RETIREMENT) {
    if (strcmp(op, "eq") || !json_is_boolean(v)) return bad(c, path, "must be true or false");
    return over_retirement(c, json_is_true(v), path);
  }
  if (!strcmp(op, "in")) {
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 200)
      return bad(c, path, "must be a list of 1 to 200 values");
    const char *vals[200];
    char nums[200][32];
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      char p[320];
      snprintf(p, sizeof p, "%.250s[%zu]", path, i);
      if (!(vals[i] = scalar(c, f, e, p, nums[i]))) return -1;
    }
    if (f->kind == PF_AGE) {
      qb_add(c->q, "(false");
      for (i = 0; i < json_array_size(v); i++) {
        qb_add(c->q, " OR ");
        age_cmp(c, "eq", strtoll(vals[i], NULL, 10));
      }
      qb_add(c->q, ")");
      return 0;
    }
    if (f->kind == PF_RANK_GROUP) {
      qb_add(c->q, "%s IN (SELECT code FROM records.report_catalog WHERE catalog = 'RANK' AND rank_group = ANY(", f->sql);
      qb_param_array(c->q, vals, json_array_size(v), "::text[]");
      qb_add(c->q, "))");
      return 0;
    }
    qb_add(c->q, "%s = ANY(", f->sql);
    char cast[16];
    snprintf(cast, sizeof cast, "%s[]", cast_of(f));
    qb_param_array(c->q, vals, json_array_size(v), cast);
    qb_add(c->q, ")");
    return 0;
  }
  static const char *const ops[][2] = {{"eq", "="}, {"ne", "<>"}, {"gte", ">="}, {"gt", ">"}, {"lte", "<="}, {"lt", "<"}};
  const char *sqlop = NULL;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (!strcmp(op, ops[i][0])) sqlop = ops[i][1];
  if (!sqlop) return bad(c, path, "unknown operator (eq, ne, in, gte, gt, lte, lt)");
  const char *val = scalar(c, f, v, path, buf);
  if (!val) return -1;
  if (f->kind == PF_AGE) {
    if (!strcmp(op, "ne")) {
      qb_add(c->q, "NOT ");
      age_cmp(c, "eq", json_integer_value(v));
    } else {
      age_cmp(c, op, json_integer_value(v));
    }
    return 0;
  }
  if ((f->kind == PF_BOOL || f->kind == PF_TEXT || f->kind == PF_RANK_GROUP) && strcmp(op, "eq") && strcmp(op, "ne"))
    return bad(c, path, "only eq, ne and in apply to this field");
  if (f->kind == PF_RANK_GROUP) {
    qb_add(c->q, "%s%s IN (SELECT code FROM records.report_catalog WHERE catalog = 'RANK' AND rank_group = ",
           strcmp(op, "ne") ? "" : "NOT ", f->sql);
    qb_param(c->q, val, "::text");
    qb_add(c->q, ")");
    return 0;
  }
  qb_add(c->q, "%s %s ", f->sql, sqlop);
  qb_param(c->q, val, cast_of(f));
  return 0;
}

static int field(ctx *c, const pf_field *f, const json_t *v, const char *path) {
  if (json_is_array(v)) return compare(c, f, "in", v, path);
  if (!json_is_object(v)) return compare(c, f, "eq", v, path);
  if (json_object_size(v) == 0) return bad(c, path, "an operator object needs at least one operator");
  const char *op;
  json_t *x;
  int first = 1;
  qb_add(c->q, "(");
  json_object_foreach((json_t *)v, op, x) {
    char p[320];
    snprintf(p, sizeof p, "%.250s.%.40s", path, op);
    if (!first) qb_add(c->q, " AND ");
    first = 0;
    if (compare(c, f, op, x, p) != 0) return -1;
  }
  qb_add(c->q, ")");
  return 0;
}

static int list(ctx *c, const json_t *a, const char *joiner, const char *path) {
  if (!json_is_array(a) || json_array_size(a) == 0) return bad(c, path, "must be a non-empty list of predicates");
  size_t i;
  json_t *e;
  qb_add(c->q, "(");
  json_array_foreach(a, i, e) {
    char p[320];
    snprintf(p, sizeof p, "%.250s[%zu]", path, i);
    if (i) qb_add(c->q, " %s ", joiner);
    if (pred(c, e, p) != 0) return -1;
  }
  qb_add(c->q, ")");
  return 0;
}

static int pred(ctx *c, const json_t *p, const char *path) {
  if (!json_is_object(p)) return bad(c, path, "must be an object of conditions");
  if (json_object_size(p) == 0) {
    qb_add(c->q, "true");
    return 0;
  }
  const char *key;
  json_t *v;
  int first = 1;
  qb_add(c->q, "(");
  json_object_foreach((json_t *)p, key, v) {
    char sub[320];
    snprintf(sub, sizeof sub, "%.250s.%.40s", path, key);
    if (!first) qb_add(c->q, " AND ");
    first = 0;
    int rc;
    if (!strcmp(key, "all")) {
      rc = list(c, v, "AND", sub);
    } else if (!strcmp(key, "any")) {
      rc = list(c, v, "OR", sub);
    } else if (!strcmp(key, "not")) {
      qb_add(c->q, "NOT ");
      rc = pred(c, v, sub);
    } else {
      const pf_field *f = pf_find(key);
      rc = f ? field(c, f, v, sub) : bad(c, sub, "unknown field");
    }
    if (rc != 0) return -1;
  }
  qb_add(c->q, ")");
  return 0;
}

int pred_sql(qb *q, const json_t *p, rdate day, const char *path, char *err, size_t errlen) {
  ctx c = {q, day, err, errlen};
  return pred(&c, p, path);
}
