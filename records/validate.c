/* rec_validate: a record as the law's forms allow it (2C-BNV/2008, TT 07/2019): NFC text,
 * required identity fields, dates, salary figures, enum values and catalogue codes, each
 * refusal naming the field path ("record.family[1].relation_code"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pbwalk.h"
#include "records.h"
#include "rpc_util.h"
#include "val.h"

#define TEXT_MAX_CHARS 2000
#define NAME_MAX_CHARS 255
#define LIST_MAX 500 /* entries in one history list: a long career has dozens */

typedef struct {
  srv_ctx *ctx;
  const char *prefix;
  const rec_t *old; /* the content being changed, or NULL */
} vctx;

/* A field's path in parts, "head[idx].sub.leaf", made into text only for a message or a
 * catalogue lookup: formatting the path of every field checked, not only of the one refused,
 * was a quarter of the service's CPU in bulk imports. */
typedef struct {
  const char *head; /* "personal.ethnicity_code", "salary_history" */
  long idx;         /* the list entry, or -1 */
  const char *sub, *leaf;
} vpath;

#define P(s) ((vpath){(s), -1, NULL, NULL})

/* "family[1]": one list entry. */
static vpath at(const char *list, size_t i) { return (vpath){list, (long)i, NULL, NULL}; }

/* "family[1].relation_code": a field below p. */
static vpath dot(vpath p, const char *name) {
  if (!p.sub)
    p.sub = name;
  else
    p.leaf = name;
  return p;
}

/* p as text in buf (PBWALK_PATH_MAX bytes), below prefix unless it is NULL. */
static const char *path_text(const char *prefix, vpath p, char *buf) {
  size_t l = 0;
  buf[0] = '\0';
  if (prefix) l = pbwalk_path_push(buf, l, prefix, -1);
  l = pbwalk_path_push(buf, l, p.head, p.idx);
  if (p.sub) l = pbwalk_path_push(buf, l, p.sub, -1);
  if (p.leaf) pbwalk_path_push(buf, l, p.leaf, -1);
  return buf;
}

static int bad(vctx *v, vpath path, const char *msg) {
  char buf[PBWALK_PATH_MAX];
  return srv_fail(v->ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", path_text(v->prefix, path, buf), msg);
}

static int empty(const char *s) { return !s || !*s; }

/* YYYY-MM-DD, optional. */
static int date_f(vctx *v, vpath path, const char *s) {
  if (empty(s)) return 0;
  const char *e = val_date(s);
  return e ? bad(v, path, e) : 0;
}

/* Dates of a history entry: a month is often all the paper dossier knows. */
static int period_f(vctx *v, vpath path, const char *s) {
  if (empty(s)) return 0;
  char full[16];
  if (strlen(s) == 7) {
    memcpy(full, s, 7);
    memcpy(full + 7, "-01", 4);
    if (!val_date(full)) return 0;
  } else if (!val_date(s)) {
    return 0;
  }
  return bad(v, path, "must be a date written YYYY-MM or YYYY-MM-DD");
}

/* from and to of one entry, and to not before from (compared on the part both give). */
static int range_f(vctx *v, vpath base, const char *from, const char *to) {
  vpath pf = dot(base, "from"), pt = dot(base, "to");
  if (period_f(v, pf, from) || period_f(v, pt, to)) return -1;
  if (!empty(from) && !empty(to)) {
    size_t n = strlen(from) < strlen(to) ? strlen(from) : strlen(to);
    if (strncmp(to, from, n) < 0) return bad(v, pt, "must not be before from");
  }
  return 0;
}

static int year_f(vctx *v, vpath path, const char *s) {
  if (empty(s)) return 0;
  char full[16];
  if (strlen(s) == 4) {
    memcpy(full, s, 4);
    memcpy(full + 4, "-01-01", 7);
    if (!val_date(full)) return 0;
  }
  return bad(v, path, "must be a year written YYYY (1900 or later)");
}

/* The string at path ("salary.rank_code", "family[1].relation_code") of m, or NULL when the
 * path leads nowhere in m. */
static const char *string_at(const ProtobufCMessage *m, const char *path) {
  char name[64];
  while (m && *path) {
    size_t n = strcspn(path, ".[");
    if (n >= sizeof name) return NULL;
    memcpy(name, path, n);
    name[n] = '\0';
    path += n;
    long idx = 0;
    if (*path == '[') {
      char *end;
      idx = strtol(path + 1, &end, 10);
      if (*end != ']' || idx < 0) return NULL;
      path = end + 1;
    }
    if (*path == '.') path++;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f || (size_t)idx >= pbwalk_count(m, f)) return NULL;
    void *slot = pbwalk_slot(m, f, (size_t)idx);
    if (f->type == PROTOBUF_C_TYPE_STRING) return *path ? NULL : *(const char **)slot;
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) return NULL;
    m = *(const ProtobufCMessage **)slot;
  }
  return NULL;
}

static int code_check(vctx *v, const char *catalog, vpath path, const char *code, int past) {
  char field[PBWALK_PATH_MAX], rel[PBWALK_PATH_MAX];
  if (empty(code)) return 0;
  const char *kept = past || !v->old ? NULL : string_at(&v->old->base, path_text(NULL, path, rel));
  int retired_ok = past || (kept && strcmp(kept, code) == 0);
  return catalog_check(v->ctx, catalog, code, path_text(v->prefix, path, field), retired_ok);
}

/* A code of the current state: active, unless the record already held it there. */
static int code_f(vctx *v, const char *catalog, vpath path, const char *code) {
  return code_check(v, catalog, path, code, 0);
}

/* A code of a dated history entry: any the catalogue has known. */
static int past_code_f(vctx *v, const char *catalog, vpath path, const char *code) {
  return code_check(v, catalog, path, code, 1);
}

/* Decimal text with at most two decimals in (0, limit): coefficients ("2.34") are exact
 * figures of the salary tables, never binary floating point. */
static int decimal_f(vctx *v, vpath path, const char *s, int limit) {
  if (empty(s)) return 0;
  const char *p = s;
  long whole = 0;
  int digits = 0, decimals = 0, nonzero = 0;
  for (; *p >= '0' && *p <= '9'; p++, digits++) {
    if (digits < 6) whole = whole * 10 + (*p - '0');
    nonzero |= *p != '0';
  }
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++, decimals++) nonzero |= *p != '0';
    if (decimals == 0) digits = 0;
  }
  if (*p || digits == 0 || digits > 6 || decimals > 2)
    return bad(v, path, "must be a decimal number written like 2.34 (at most two decimals)");
  if (!nonzero || whole >= limit)
    return bad(v, path, srv_printf(v->ctx, "must be greater than 0 and less than %d", limit));
  return 0;
}

static int step_f(vctx *v, vpath path, int step) {
  if (step != 0 && (step < 1 || step > 20)) return bad(v, path, "must be a salary step from 1 to 20");
  return 0;
}

static int list_f(vctx *v, vpath path, size_t n) {
  return n > LIST_MAX ? bad(v, path, srv_printf(v->ctx, "must have at most %d entries", LIST_MAX)) : 0;
}

static int one_of(vctx *v, vpath path, const char *s, const char *const *allowed,
                  const char *list) {
  if (empty(s)) return 0;
  for (; *allowed; allowed++)
    if (strcmp(s, *allowed) == 0) return 0;
  return bad(v, path, srv_printf(v->ctx, "must be one of %s", list));
}

static int decision_f(vctx *v, vpath base, const Hoso__Records__V1__Decision *d) {
  if (!d) return 0;
  return date_f(v, dot(base, "date"), d->date) || date_f(v, dot(base, "effective_date"), d->effective_date) ? -1 : 0;
}

/* ------------------------------------------------------------ groups -------------------- */

static int digits_only(const char *s) {
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

static int personal(vctx *v, const Hoso__Records__V1__PersonalInfo *p) {
  if (!p) return 0;
  if (code_f(v, "ETHNICITY", P("personal.ethnicity_code"), p->ethnicity_code) ||
      code_f(v, "RELIGION", P("personal.religion_code"), p->religion_code) ||
      date_f(v, P("personal.citizen_id_date"), p->citizen_id_date))
    return -1;
  /* CMND numbers have 9 digits, CCCD numbers 12. */
  size_t n = empty(p->citizen_id) ? 0 : strlen(p->citizen_id);
  if (n && (!digits_only(p->citizen_id) || (n != 9 && n != 12)))
    return bad(v, P("personal.citizen_id"), "must be 9 (CMND) or 12 (CCCD) digits");
  if (!empty(p->email)) {
    const char *a = strchr(p->email, '@');
    if (!a || a == p->email || strchr(a + 1, '@') || !strchr(a + 1, '.') || strchr(p->email, ' '))
      return bad(v, P("personal.email"), "must be an e-mail address like ten@donvi.gov.vn");
  }
  if (!empty(p->phone) && strspn(p->phone, "0123456789 +().-") != strlen(p->phone))
    return bad(v, P("personal.phone"), "may contain only digits, spaces and + ( ) . -");
  return 0;
}

static int employment(vctx *v, const Hoso__Records__V1__Employment *e) {
  if (!e || e->category < HOSO__RECORDS__V1__CATEGORY__CATEGORY_CADRE ||
      e->category > HOSO__RECORDS__V1__CATEGORY__CATEGORY_COMMUNE_OFFICIAL)
    return bad(v, P("employment.category"),
               "must be set (CATEGORY_CADRE, CATEGORY_CIVIL_SERVANT, CATEGORY_PUBLIC_EMPLOYEE, "
               "CATEGORY_CONTRACT or CATEGORY_COMMUNE_OFFICIAL)");
  if (date_f(v, P("employment.recruitment_date"), e->recruitment_date) ||
      date_f(v, P("employment.position_date"), e->position_date) ||
      date_f(v, P("employment.official_date"), e->official_date) ||
      code_f(v, "POSITION", P("employment.position_code"), e->position_code) ||
      code_f(v, "STAFFING", P("employment.staffing_status"), e->staffing_status) ||
      list_f(v, P("employment.concurrent_position_codes"), e->n_concurrent_position_codes))
    return -1;
  for (size_t i = 0; i < e->n_concurrent_position_codes; i++)
    if (code_f(v, "POSITION", at("employment.concurrent_position_codes", i),
               e->concurrent_position_codes[i]))
      return -1;
  return 0;
}

static int salary(vctx *v, const Hoso__Records__V1__SalaryInfo *s) {
  if (!s) return 0;
  if (code_f(v, "RANK", P("salary.rank_code"), s->rank_code) || step_f(v, P("salary.step"), s->step) ||
      decimal_f(v, P("salary.coefficient"), s->coefficient, 20) ||
      date_f(v, P("salary.effective_date"), s->effective_date) ||
      date_f(v, P("salary.next_raise_date"), s->next_raise_date) ||
      decimal_f(v, P("salary.position_allowance"), s->position_allowance, 20) ||
      list_f(v, P("salary.other_allowances"), s->n_other_allowances))
    return -1;
  const char *pct = s->seniority_beyond_frame_percent;
  if (!empty(pct) && (!digits_only(pct) || strlen(pct) > 3 || atoi(pct) < 1 || atoi(pct) > 100))
    return bad(v, P("salary.seniority_beyond_frame_percent"), "must be a whole percentage from 1 to 100");
  if (s->salary_amount < 0) return bad(v, P("salary.salary_amount"), "must not be negative");
  for (size_t i = 0; i < s->n_other_allowances; i++) {
    const Hoso__Records__V1__Allowance *a = s->other_allowances[i];
    vpath b = at("salary.other_allowances", i);
    if (code_f(v, "ALLOWANCE", dot(b, "type_code"), a->type_code) ||
        decimal_f(v, dot(b, "value"), a->value, 1000) ||
        date_f(v, dot(b, "effective_date"), a->effective_date))
      return -1;
  }
  return 0;
}

static int qualifications(vctx *v, const Hoso__Records__V1__Qualifications *q) {
  if (!q) return 0;
  return code_f(v, "DEGREE", P("qualifications.degree_code"), q->degree_code) ||
                 code_f(v, "POLITICAL_THEORY", P("qualifications.political_theory_code"),
                        q->political_theory_code) ||
                 code_f(v, "STATE_MANAGEMENT", P("qualifications.state_management_code"),
                        q->state_management_code) ||
                 list_f(v, P("qualifications.foreign_languages"), q->n_foreign_languages)
             ? -1
             : 0;
}

static int party(vctx *v, const Hoso__Records__V1__PartyAndUnions *p) {
  if (!p) return 0;
  if (date_f(v, P("party.party_join_date"), p->party_join_date) ||
      date_f(v, P("party.party_official_date"), p->party_official_date) ||
      date_f(v, P("party.enlist_date"), p->enlist_date) ||
      date_f(v, P("party.discharge_date"), p->discharge_date) ||
      date_f(v, P("party.union_join_date"), p->union_join_date))
    return -1;
  if (!empty(p->party_join_date) && !empty(p->party_official_date) &&
      strcmp(p->party_official_date, p->party_join_date) < 0)
    return bad(v, P("party.party_official_date"), "must not be before party_join_date");
  if (!empty(p->enlist_date) && !empty(p->discharge_date) && strcmp(p->discharge_date, p->enlist_date) < 0)
    return bad(v, P("party.discharge_date"), "must not be before enlist_date");
  return 0;
}

static int health(vctx *v, const Hoso__Records__V1__HealthAndPolicy *h) {
  if (!h) return 0;
  if (h->height_cm < 0 || h->height_cm > 250) return bad(v, P("health.height_cm"), "must be from 0 to 250");
  if (h->weight_kg < 0 || h->weight_kg > 300) return bad(v, P("health.weight_kg"), "must be from 0 to 300");
  return 0;
}

static const char *const TRAINING_KINDS[] = {"PROFESSIONAL", "POLITICAL_THEORY", "STATE_MANAGEMENT",
                                             "LANGUAGE", "IT", "OTHER", NULL};
static const char *const TRANSFER_KINDS[] = {"TRANSFER", "ROTATION", "SECONDMENT", "MOVE", NULL};

/* The dated histories: each entry's dates, codes and decision. */
static int histories(vctx *v, const rec_t *r) {
  if (list_f(v, P("work_history"), r->n_work_history) || list_f(v, P("salary_history"), r->n_salary_history) ||
      list_f(v, P("appointments"), r->n_appointments) || list_f(v, P("rewards"), r->n_rewards) ||
      list_f(v, P("disciplines"), r->n_disciplines) || list_f(v, P("trainings"), r->n_trainings) ||
      list_f(v, P("transfers"), r->n_transfers) || list_f(v, P("study_leaves"), r->n_study_leaves) ||
      list_f(v, P("missions_abroad"), r->n_missions_abroad) || list_f(v, P("family"), r->n_family))
    return -1;
  for (size_t i = 0; i < r->n_work_history; i++) {
    vpath b = at("work_history", i);
    if (range_f(v, b, r->work_history[i]->from, r->work_history[i]->to)) return -1;
  }
  for (size_t i = 0; i < r->n_salary_history; i++) {
    const Hoso__Records__V1__SalaryHistoryEntry *e = r->salary_history[i];
    vpath b = at("salary_history", i);
    if (period_f(v, dot(b, "date"), e->date) ||
        past_code_f(v, "RANK", dot(b, "rank_code"), e->rank_code) ||
        step_f(v, dot(b, "step"), e->step) ||
        decimal_f(v, dot(b, "coefficient"), e->coefficient, 20) ||
        decision_f(v, dot(b, "decision"), e->decision))
      return -1;
  }
  for (size_t i = 0; i < r->n_appointments; i++) {
    const Hoso__Records__V1__AppointmentEntry *e = r->appointments[i];
    vpath b = at("appointments", i);
    if (past_code_f(v, "POSITION", dot(b, "position_code"), e->position_code) ||
        range_f(v, b, e->from, e->to) || decision_f(v, dot(b, "decision"), e->decision))
      return -1;
  }
  for (size_t i = 0; i < r->n_rewards; i++) {
    const Hoso__Records__V1__RewardEntry *e = r->rewards[i];
    vpath b = at("rewards", i);
    if (past_code_f(v, "REWARD_FORM", dot(b, "form_code"), e->form_code) ||
        year_f(v, dot(b, "year"), e->year) ||
        decision_f(v, dot(b, "decision"), e->decision))
      return -1;
  }
  for (size_t i = 0; i < r->n_disciplines; i++) {
    const Hoso__Records__V1__DisciplineEntry *e = r->disciplines[i];
    vpath b = at("disciplines", i);
    if (past_code_f(v, "DISCIPLINE_FORM", dot(b, "form_code"), e->form_code) ||
        range_f(v, b, e->from, e->to) || decision_f(v, dot(b, "decision"), e->decision))
      return -1;
  }
  for (size_t i = 0; i < r->n_trainings; i++) {
    const Hoso__Records__V1__TrainingEntry *e = r->trainings[i];
    vpath b = at("trainings", i);
    if (past_code_f(v, "DEGREE", dot(b, "degree_code"), e->degree_code) ||
        range_f(v, b, e->from, e->to) ||
        one_of(v, dot(b, "kind"), e->kind, TRAINING_KINDS,
               "PROFESSIONAL, POLITICAL_THEORY, STATE_MANAGEMENT, LANGUAGE, IT, OTHER"))
      return -1;
  }
  for (size_t i = 0; i < r->n_transfers; i++) {
    const Hoso__Records__V1__TransferEntry *e = r->transfers[i];
    vpath b = at("transfers", i);
    if (range_f(v, b, e->from, e->to) ||
        one_of(v, dot(b, "kind"), e->kind, TRANSFER_KINDS, "TRANSFER, ROTATION, SECONDMENT, MOVE") ||
        decision_f(v, dot(b, "decision"), e->decision))
      return -1;
  }
  for (size_t i = 0; i < r->n_study_leaves; i++) {
    vpath b = at("study_leaves", i);
    if (range_f(v, b, r->study_leaves[i]->from, r->study_leaves[i]->to) ||
        decision_f(v, dot(b, "decision"), r->study_leaves[i]->decision))
      return -1;
  }
  for (size_t i = 0; i < r->n_missions_abroad; i++) {
    vpath b = at("missions_abroad", i);
    if (range_f(v, b, r->missions_abroad[i]->from, r->missions_abroad[i]->to) ||
        decision_f(v, dot(b, "decision"), r->missions_abroad[i]->decision))
      return -1;
  }
  for (size_t i = 0; i < r->n_family; i++) {
    const Hoso__Records__V1__FamilyRelation *e = r->family[i];
    vpath b = at("family", i);
    if (code_f(v, "RELATION", dot(b, "relation_code"), e->relation_code) ||
        year_f(v, dot(b, "birth_year"), e->birth_year))
      return -1;
    if (empty(e->full_name)) return bad(v, dot(b, "full_name"), "must not be empty");
  }
  return 0;
}

/* The person's identity: the fields every dossier must have. */
static int identity(vctx *v, const rec_t *r) {
  const char *e = val_text(r->full_name, 1, NAME_MAX_CHARS);
  if (e) return bad(v, P("full_name"), e);
  e = val_date(r->birth_date);
  if (e) return bad(v, P("birth_date"), e);
  char today[16];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  if (strcmp(r->birth_date, today) > 0) return bad(v, P("birth_date"), "must not be in the future");
  if (r->gender != HOSO__RECORDS__V1__GENDER__GENDER_MALE && r->gender != HOSO__RECORDS__V1__GENDER__GENDER_FEMALE)
    return bad(v, P("gender"), "must be set (GENDER_MALE or GENDER_FEMALE)");
  if ((int)r->status < 0 || r->status > HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_DECEASED)
    return bad(v, P("status"), "is not a record status");
  if (date_f(v, P("status_date"), r->status_date) || decision_f(v, P("status_decision"), r->status_decision))
    return -1;
  return 0;
}

int rec_validate(srv_ctx *ctx, rec_t *r, const char *prefix) { return rec_validate_change(ctx, r, prefix, NULL); }

int rec_validate_change(srv_ctx *ctx, rec_t *r, const char *prefix, const rec_t *old) {
  char err[PBWALK_PATH_MAX + 128];
  vctx v = {ctx, prefix && *prefix ? prefix : "record", old};
  if (!r) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: must be given", v.prefix);
  if (pbwalk_nfc(&r->base, v.prefix, TEXT_MAX_CHARS, rec_prose_fields(), srv_allocator(ctx), err, sizeof err) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
  if (identity(&v, r) || personal(&v, r->personal) || employment(&v, r->employment) ||
      salary(&v, r->salary) || qualifications(&v, r->qualifications) || party(&v, r->party) ||
      health(&v, r->health) || histories(&v, r))
    return -1;
  return 0;
}
