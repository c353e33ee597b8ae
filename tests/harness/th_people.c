/* th_people: the generator, the import and the test's own keys (th_people.h). */
#include "th_people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "records.pb-c.h"

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (*s >> 8) & 0xffffff;
}

static const char *pick(unsigned *s, const char *const *v, int n) { return v[rnd(s) % (unsigned)n]; }

void th_people_generate(th_person *P, int n, int n_units, unsigned seed) {
  unsigned s = seed;
  static const char *const eths[] = {"01", "01", "01", "01", "01", "01", "02", "07", "09"};
  static const char *const rels[] = {"00", "00", "00", "00", "00", "00", "01", "02", ""};
  static const char *const degrees[] = {"TS", "THS", "THS", "DH", "DH", "DH", "DH", "CD", "TC", "SC", ""};
  static const char *const pols[] = {"CN", "CC", "TC", "TC", "SC", "", ""};
  static const char *const sms[] = {"CVCC", "CVC", "CV", "CV", "", ""};
  static const char *const ranks[] = {"01.001", "01.002", "01.003", "01.003", "01.004", "01.005", "V.07.04.32", ""};
  static const char *const langs[] = {"Tiếng Anh B1", "Cử nhân tiếng Anh", "Tiếng Pháp B", "Đại học tiếng Trung", "", ""};
  static const char *const its[] = {"Chứng chỉ B", "Trung cấp tin học", "Ứng dụng CNTT nâng cao", "", ""};
  static const int cats[] = {2, 2, 2, 2, 2, 2, 2, 3, 3, 5, 1};
  for (int i = 0; i < n; i++) {
    th_person *p = &P[i];
    memset(p, 0, sizeof *p);
    p->unit = i % n_units;
    p->gender = 1 + (int)(rnd(&s) % 2);
    p->category = cats[rnd(&s) % 11];
    p->party = rnd(&s) % 3 == 0;
    p->by = 1958 + (int)(rnd(&s) % 46);
    p->bm = 1 + (int)(rnd(&s) % 12);
    p->bd = 1 + (int)(rnd(&s) % 28);
    p->eth = pick(&s, eths, 9);
    p->rel = pick(&s, rels, 9);
    p->degree = pick(&s, degrees, 11);
    p->pol = pick(&s, pols, 7);
    p->sm = pick(&s, sms, 6);
    p->rank = pick(&s, ranks, 8);
    p->lang = pick(&s, langs, 6);
    p->it = pick(&s, its, 5);
    p->ethlang = rnd(&s) % 10 == 0 ? "Tiếng Tày" : "";
  }
}

int th_people_age(const th_person *p, const char *day) {
  int y, m, d;
  sscanf(day, "%d-%d-%d", &y, &m, &d);
  int a = y - p->by;
  if (m < p->bm || (m == p->bm && d < p->bd)) a--;
  return a;
}

const char *th_people_key(const th_person *p, const char *dim, const char *day, char buf[32]) {
  if (!strcmp(dim, "gender")) return snprintf(buf, 32, "%d", p->gender), buf;
  if (!strcmp(dim, "category")) return snprintf(buf, 32, "%d", p->category), buf;
  if (!strcmp(dim, "age_band")) {
    int a = th_people_age(p, day);
    return a <= 30 ? "<=30" : a <= 40 ? "31-40" : a <= 50 ? "41-50" : a <= 60 ? "51-60" : ">60";
  }
  if (!strcmp(dim, "party")) return p->party ? "yes" : "no";
  if (!strcmp(dim, "ethnicity")) return !strcmp(p->eth, "01") ? "kinh" : "minority";
  if (!strcmp(dim, "religion")) return !strcmp(p->rel, "00") || !*p->rel ? "none" : "religious";
  if (!strcmp(dim, "degree")) return p->degree;
  if (!strcmp(dim, "political_theory")) return p->pol;
  if (!strcmp(dim, "state_management")) return p->sm;
  if (!strcmp(dim, "rank_code")) return p->rank;
  if (!strcmp(dim, "ethnic_language")) return *p->ethlang ? "yes" : "no";
  if (!strcmp(dim, "english"))
    return !strcmp(p->lang, "Cử nhân tiếng Anh") ? "2" : !strcmp(p->lang, "Tiếng Anh B1") ? "1" : "0";
  if (!strcmp(dim, "other_language"))
    return !strcmp(p->lang, "Đại học tiếng Trung") ? "2" : !strcmp(p->lang, "Tiếng Pháp B") ? "1" : "0";
  if (!strcmp(dim, "it")) return !*p->it ? "0" : !strcmp(p->it, "Chứng chỉ B") ? "1" : "2";
  if (!strcmp(dim, "rank_group")) {
    /* the groups of migration 002's RANK catalogue */
    static const char *const codes[] = {"01.001", "01.002", "01.003", "01.004", "01.005", "V.07.04.32"};
    static const char *const groups[] = {"A3.1", "A2.1", "A1", "A0", "B", "A1"};
    for (int i = 0; i < 6; i++)
      if (!strcmp(p->rank, codes[i])) return groups[i];
    return "";
  }
  if (!strcmp(dim, "status")) return p->retired ? "4" : "1";
  return NULL;
}

int th_people_import(th_world *w, th_person *P, int n_people, const char *const *unit_ids, int n_units) {
  static const char *const cat[] = {"", "CATEGORY_CADRE", "CATEGORY_CIVIL_SERVANT", "CATEGORY_PUBLIC_EMPLOYEE", "",
                                    "CATEGORY_COMMUNE_OFFICIAL"};
  size_t cap = 512 + (size_t)n_people * 512;
  char *csv = malloc(cap);
  int *idx = malloc((size_t)n_people * sizeof *idx), rc = 0;
  for (int u = 0; u < n_units && rc == 0; u++) {
    size_t o = (size_t)snprintf(csv, cap,
                                "full_name,birth_date,gender,employment.category,employment.recruitment_date,"
                                "personal.ethnicity_code,personal.religion_code,party.party_member,qualifications.degree_code,"
                                "qualifications.political_theory_code,qualifications.state_management_code,salary.rank_code,"
                                "qualifications.foreign_languages,qualifications.it_level,qualifications.ethnic_language\n");
    int n = 0;
    for (int i = 0; i < n_people; i++) {
      if (P[i].unit != u) continue;
      const th_person *p = &P[i];
      idx[n++] = i;
      o += (size_t)snprintf(csv + o, cap - o, "Người Số %d,%04d-%02d-%02d,%s,%s,2010-01-01,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", i,
                            p->by, p->bm, p->bd, p->gender == 1 ? "GENDER_MALE" : "GENDER_FEMALE", cat[p->category],
                            p->eth, p->rel, p->party ? "true" : "false", p->degree, p->pol, p->sm, p->rank, p->lang, p->it,
                            p->ethlang);
    }
    Hoso__Records__V1__ImportRecordsRequest req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
    req.unit_id = (char *)unit_ids[u];
    req.format = HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV;
    req.content.data = (uint8_t *)csv;
    req.content.len = o;
    Hoso__Records__V1__ImportRecordsResponse *out = NULL;
    cli_status st;
    grpc_status_code c = th_call(w->rec_ch, "/hoso.records.v1.Records/ImportRecords", &req,
                                 &hoso__records__v1__import_records_response__descriptor, (void **)&out, w->tok_admin, &st);
    if (c != GRPC_STATUS_OK || out->n_errors || out->n_record_ids != (size_t)n) {
      fprintf(stderr, "th_people_import: %s %s %s\n", cli_status_name(c), st.message,
              c == GRPC_STATUS_OK && out->n_errors ? out->errors[0]->message : "");
      rc = -1;
    } else {
      for (int k = 0; k < n; k++) snprintf(P[idx[k]].id, sizeof P[idx[k]].id, "%s", out->record_ids[k]);
    }
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
  }
  free(csv);
  free(idx);
  return rc;
}
