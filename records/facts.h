/* The reporting facts of one version of a record (records publishes them for reporting,
 * migrations/030_report_facts.sql): which facts, how each is read from the dossier, and the
 * version's effective date. Pure but for the call arena. */
#ifndef HOSO_RECORDS_FACTS_H
#define HOSO_RECORDS_FACTS_H

#include "records.h"

/* The facts in column order of fact_periods: X(column, json) where json is 1 when the text is
 * a JSON document (jsonb column) rather than a value. */
#define REC_FACTS(X)                                                                            \
  X(managing_unit_id, 0) X(unit_path, 0) X(status, 0) X(workflow_state, 0) X(category, 0)         \
  X(full_name, 0) X(birth_date, 0) X(gender, 0) X(ethnicity_code, 0) X(religion_code, 0)          \
  X(party_member, 0) X(party_join_date, 0) X(rank_code, 0) X(salary_step, 0)                      \
  X(salary_coefficient, 0) X(salary_date, 0) X(position_allowance, 0) X(seniority_percent, 0)     \
  X(responsibility_allowance, 0) X(regional_allowance, 0) X(other_allowances, 0)                  \
  X(position_code, 0) X(position_date, 0) X(degree_code, 0) X(political_theory_code, 0)           \
  X(state_management_code, 0) X(it_class, 0) X(english_class, 0) X(other_language_class, 0)       \
  X(ethnic_language, 0) X(general_education, 0) X(staffing_code, 0) X(recruitment_date, 0)        \
  X(official_date, 0) X(home_town, 0) X(professional_title, 0) X(secondment_until, 0)             \
  X(disciplines, 1) X(missing_2c, 0)

#define REC_FACT_ENUM(name, json) FACT_##name,
enum { REC_FACTS(REC_FACT_ENUM) REC_N_FACTS };
#undef REC_FACT_ENUM

extern const char *const rec_fact_names[REC_N_FACTS];
extern const unsigned char rec_fact_is_json[REC_N_FACTS];

/* r's facts as text in the arena (NULL = SQL NULL). r->managing_unit_path must be set. */
void rec_facts(srv_ctx *ctx, const rec_t *r, const char *out[REC_N_FACTS]);

/* The effective date (YYYY-MM-DD) of a version written by `action` on `today` (the write's
 * UTC date): the decision's effective date when the reason carries one; for a new record its
 * recruitment date when not later than today; otherwise today. Points into r, reason or today. */
const char *record_effective_date(const rec_t *r, const char *action, const rec_reason *reason,
                               const char *today);

/* Classification of free text (pure): a foreign language entry ("Tiếng Anh B1", "Cử nhân
 * tiếng Pháp") as English or not and its level (1 certificate, 2 university or higher); an IT
 * level ("Chứng chỉ B", "Trung cấp CNTT") as 1 certificate / basic or 2 intermediate or higher;
 * 0 for empty text. */
int rec_language_class(const char *entry, int *english);
int rec_it_class(const char *level);

/* The number of the required fields of form 2C-BNV/2008 left empty in r. */
int rec_missing_2c(const rec_t *r);

#endif
