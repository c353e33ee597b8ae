/* rec_facts: the reporting facts of one version of a dossier, read once here so that the
 * statistics, the forms and the alerts all count the same thing; and a version's effective date. */
#include "facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>
#include <jansson.h>

#define REC_FACT_NAME(name, json) #name,
const char *const rec_fact_names[REC_N_FACTS] = {REC_FACTS(REC_FACT_NAME)};
#undef REC_FACT_NAME
#define REC_FACT_JSON(name, json) json,
const unsigned char rec_fact_is_json[REC_N_FACTS] = {REC_FACTS(REC_FACT_JSON)};
#undef REC_FACT_JSON

static int empty(const char *s) { return !s || !*s; }
static const char *str(const char *s) { return s ? s : ""; }
static const char *date_or_null(const char *s) { return empty(s) ? NULL : s; }

/* Decimal text ("2.34", "5") as it is, anything else (never expected: validated on write) as
 * NULL, so a stray value can never fail the write of the facts. */
static const char *decimal_or_null(const char *s) {
  if (empty(s) || strlen(s) > 12) return NULL;
  int digits = 0, dot = 0;
  for (const char *c = s; *c; c++) {
    if (*c >= '0' && *c <= '9') digits++;
    else if (*c == '.' && !dot && digits) dot = 1;
    else return NULL;
  }
  return s[strlen(s) - 1] == '.' ? NULL : s;
}

/* ------------------------------------------------------------ free text ------------------- */

/* s folded for matching: NFD, combining marks dropped, đ → d, ASCII lower case. malloc'd. */
static char *fold(const char *s) {
  size_t n = 0;
  uint8_t *d = u8_normalize(UNINORM_NFD, (const uint8_t *)str(s), strlen(str(s)), NULL, &n);
  char *out = malloc(n + 1);
  if (!out) {
    free(d);
    return NULL;
  }
  size_t o = 0;
  for (size_t i = 0; d && i < n; i++) {
    uint8_t c = d[i];
    if (c < 0x80) {
      out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (c == 0xC4 && i + 1 < n && (d[i + 1] == 0x90 || d[i + 1] == 0x91)) {
      out[o++] = 'd';
      i++;
    } else if ((c == 0xCC || c == 0xCD) && i + 1 < n) {
      i++; /* U+0300..U+036F: a combining mark */
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
  free(d);
  return out;
}

static int has_any(const char *folded, const char *const *words) {
  for (; *words; words++)
    if (strstr(folded, *words)) return 1;
  return 0;
}

static const char *const higher_words[] = {"dai hoc", "cu nhan", "thac si", "tien si", "ky su", NULL};

int rec_language_class(const char *entry, int *english) {
  *english = 0;
  if (empty(entry)) return 0;
  char *f = fold(entry);
  if (!f) return 0;
  static const char *const en[] = {"tieng anh", "english", "anh van", "anh ngu", NULL};
  *english = has_any(f, en);
  int level = has_any(f, higher_words) ? 2 : 1;
  free(f);
  return level;
}

int rec_it_class(const char *level) {
  if (empty(level)) return 0;
  char *f = fold(level);
  if (!f) return 0;
  /* "trung cấp" or above, or the advanced IT-use standard (TT 03/2014/TT-BTTTT "nâng cao") */
  static const char *const higher[] = {"trung cap", "cao dang", "dai hoc", "cu nhan", "thac si",
                                       "tien si", "ky su", "nang cao", NULL};
  int c = has_any(f, higher) ? 2 : 1;
  free(f);
  return c;
}

/* ------------------------------------------------------------ the dossier ----------------- */

int rec_missing_2c(const rec_t *r) {
  const Hoso__Records__V1__PersonalInfo *p = r->personal;
  const Hoso__Records__V1__Employment *e = r->employment;
  const Hoso__Records__V1__SalaryInfo *s = r->salary;
  const Hoso__Records__V1__Qualifications *q = r->qualifications;
  const char *const required[] = {
      r->full_name, r->birth_date, p ? p->birth_place : NULL, p ? p->home_town : NULL,
      p ? p->ethnicity_code : NULL, p ? p->religion_code : NULL, p ? p->citizen_id : NULL,
      p ? p->permanent_address : NULL, e ? e->recruitment_date : NULL, s ? s->rank_code : NULL,
      s ? s->coefficient : NULL, q ? q->general_education : NULL, q ? q->degree_code : NULL,
  };
  int missing = r->gender == 0;
  missing += !s || s->step <= 0;
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) missing += empty(required[i]);
  return missing;
}

/* Sum of the allowances of the given types, as decimal text, or NULL when there are none. */
static const char *allowance_sum(srv_ctx *ctx, const Hoso__Records__V1__SalaryInfo *s,
                                 const char *const *types) {
  if (!s) return NULL;
  double sum = 0;
  int any = 0;
  for (size_t i = 0; i < s->n_other_allowances; i++) {
    const Hoso__Records__V1__Allowance *a = s->other_allowances[i];
    int match = 0;
    for (const char *const *t = types; *t && !match; t++) match = !strcmp(str(a->type_code), *t);
    /* "other" (types == NULL list head "") takes what no named column takes */
    if (!*types[0]) {
      static const char *const named[] = {"CHUC_VU", "TN_VUOT_KHUNG", "TRACH_NHIEM_CV",
                                          "TRACH_NHIEM_NGHE", "KHU_VUC", NULL};
      match = 1;
      for (const char *const *t = named; *t; t++)
        if (!strcmp(str(a->type_code), *t)) match = 0;
    }
    if (!match || empty(a->value)) continue;
    char *end;
    double v = strtod(a->value, &end);
    if (*end) continue; /* validated as decimal text on write; anything else is skipped */
    sum += v;
    any = 1;
  }
  return any ? srv_printf(ctx, "%.2f", sum) : NULL;
}

static const char *disciplines_json(srv_ctx *ctx, const rec_t *r) {
  if (r->n_disciplines == 0) return NULL;
  json_t *a = json_array();
  for (size_t i = 0; a && i < r->n_disciplines; i++) {
    const Hoso__Records__V1__DisciplineEntry *d = r->disciplines[i];
    const char *from = !empty(d->from) ? d->from
                       : d->decision && !empty(d->decision->effective_date) ? d->decision->effective_date
                                                                          : "";
    json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "form", str(d->form_code), "from", from,
                                       "to", str(d->to)));
  }
  char *txt = a ? json_dumps(a, JSON_COMPACT) : NULL;
  json_decref(a);
  const char *out = txt ? srv_strdup(ctx, txt) : NULL;
  free(txt);
  return out;
}

/* The end of the latest secondment (biệt phái) that has one: when the person comes back. */
static const char *secondment_until(const rec_t *r) {
  const char *best_from = NULL, *until = NULL;
  for (size_t i = 0; i < r->n_transfers; i++) {
    const Hoso__Records__V1__TransferEntry *t = r->transfers[i];
    if (strcmp(str(t->kind), "SECONDMENT") != 0 || empty(t->to)) continue;
    if (!best_from || strcmp(str(t->from), best_from) >= 0) {
      best_from = str(t->from);
      until = t->to;
    }
  }
  /* history dates may be YYYY-MM: the column is a date, the month's first day stands for it */
  return until;
}

static const char *as_date(srv_ctx *ctx, const char *s) {
  if (empty(s)) return NULL;
  if (strlen(s) == 7) return srv_printf(ctx, "%s-01", s);
  if (strlen(s) == 4) return srv_printf(ctx, "%s-01-01", s);
  return s;
}

void rec_facts(srv_ctx *ctx, const rec_t *r, const char *out[REC_N_FACTS]) {
  const Hoso__Records__V1__PersonalInfo *p = r->personal;
  const Hoso__Records__V1__Employment *e = r->employment;
  const Hoso__Records__V1__SalaryInfo *s = r->salary;
  const Hoso__Records__V1__Qualifications *q = r->qualifications;
  const Hoso__Records__V1__PartyAndUnions *pa = r->party;
  int english = 0, en_class = 0, other_class = 0;
  for (size_t i = 0; q && i < q->n_foreign_languages; i++) {
    int c = rec_language_class(q->foreign_languages[i], &english);
    if (english && c > en_class) en_class = c;
    if (!english && c > other_class) other_class = c;
  }
  static const char *const responsibility[] = {"TRACH_NHIEM_CV", "TRACH_NHIEM_NGHE", NULL};
  static const char *const regional[] = {"KHU_VUC", NULL};
  static const char *const other[] = {"", NULL};
  out[FACT_managing_unit_id] = r->managing_unit_id;
  out[FACT_unit_path] = r->managing_unit_path;
  out[FACT_status] = srv_printf(ctx, "%d", (int)r->status);
  out[FACT_workflow_state] = srv_printf(ctx, "%d", (int)r->workflow_state);
  out[FACT_category] = srv_printf(ctx, "%d", e ? (int)e->category : 0);
  out[FACT_full_name] = str(r->full_name);
  out[FACT_birth_date] = date_or_null(r->birth_date);
  out[FACT_gender] = srv_printf(ctx, "%d", (int)r->gender);
  out[FACT_ethnicity_code] = p ? str(p->ethnicity_code) : "";
  out[FACT_religion_code] = p ? str(p->religion_code) : "";
  out[FACT_party_member] = pa && pa->party_member ? "t" : "f";
  out[FACT_party_join_date] = pa ? date_or_null(pa->party_join_date) : NULL;
  out[FACT_rank_code] = s ? str(s->rank_code) : "";
  out[FACT_salary_step] = srv_printf(ctx, "%d", s ? (int)s->step : 0);
  out[FACT_salary_coefficient] = s ? decimal_or_null(s->coefficient) : NULL;
  out[FACT_salary_date] = s ? date_or_null(s->effective_date) : NULL;
  out[FACT_position_allowance] = s ? decimal_or_null(s->position_allowance) : NULL;
  out[FACT_seniority_percent] = s ? decimal_or_null(s->seniority_beyond_frame_percent) : NULL;
  out[FACT_responsibility_allowance] = allowance_sum(ctx, s, responsibility);
  out[FACT_regional_allowance] = allowance_sum(ctx, s, regional);
  out[FACT_other_allowances] = allowance_sum(ctx, s, other);
  out[FACT_position_code] = e ? str(e->position_code) : "";
  out[FACT_position_date] = e ? date_or_null(e->position_date) : NULL;
  out[FACT_degree_code] = q ? str(q->degree_code) : "";
  out[FACT_political_theory_code] = q ? str(q->political_theory_code) : "";
  out[FACT_state_management_code] = q ? str(q->state_management_code) : "";
  out[FACT_it_class] = srv_printf(ctx, "%d", q ? rec_it_class(q->it_level) : 0);
  out[FACT_english_class] = srv_printf(ctx, "%d", en_class);
  out[FACT_other_language_class] = srv_printf(ctx, "%d", other_class);
  out[FACT_ethnic_language] = q && !empty(q->ethnic_language) ? "t" : "f";
  out[FACT_general_education] = q ? str(q->general_education) : "";
  out[FACT_staffing_code] = e ? str(e->staffing_status) : "";
  out[FACT_recruitment_date] = e ? date_or_null(e->recruitment_date) : NULL;
  out[FACT_official_date] = e ? date_or_null(e->official_date) : NULL;
  out[FACT_home_town] = p ? str(p->home_town) : "";
  out[FACT_professional_title] = e ? str(e->professional_title) : "";
  out[FACT_secondment_until] = as_date(ctx, secondment_until(r));
  out[FACT_disciplines] = disciplines_json(ctx, r);
  out[FACT_missing_2c] = srv_printf(ctx, "%d", rec_missing_2c(r));
}

const char *record_effective_date(const rec_t *r, const char *action, const rec_reason *reason,
                               const char *today) {
  if (reason && reason->decision && !empty(reason->decision->effective_date))
    return reason->decision->effective_date;
  if (!strcmp(action, "CREATE") || !strcmp(action, "IMPORT")) {
    const char *rd = r->employment ? r->employment->recruitment_date : NULL;
    /* dates are YYYY-MM-DD: text order is date order */
    if (!empty(rd) && strncmp(rd, today, 10) <= 0) return rd;
  }
  return today;
}
