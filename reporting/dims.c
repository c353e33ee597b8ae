/* The dimensions of GetStatistics: each a key over the facts (text), with its labels — fixed
 * Vietnamese words, a catalogue's names, or the units below the report's unit. */
#include <stdio.h>
#include <string.h>
#include "reporting.h"
#include "rules.h"

typedef struct {
  const char *key, *label;
} kv;

struct rp_dim {
  const char *name;
  const char *sql;      /* NULL: built by rp_dim_sql itself */
  const char *catalog;  /* labels from this catalogue */
  const kv *labels;     /* fixed labels */
};

static const kv categories[] = {{"1", "Cán bộ"}, {"2", "Công chức"}, {"3", "Viên chức"}, {"4", "Hợp đồng"},
                                {"5", "Cán bộ, công chức cấp xã"}, {"0", "Chưa phân loại"}, {NULL, NULL}};
static const kv genders[] = {{"1", "Nam"}, {"2", "Nữ"}, {"0", "Chưa rõ"}, {NULL, NULL}};
static const kv statuses[] = {{"1", "Đang công tác"}, {"2", "Đang điều chuyển"}, {"3", "Đã chuyển ra ngoài hệ thống"},
                              {"4", "Nghỉ hưu"}, {"5", "Thôi việc"}, {"6", "Từ trần"}, {NULL, NULL}};
static const kv workflow[] = {{"1", "Nháp"}, {"2", "Chờ duyệt"}, {"3", "Đã duyệt"}, {"4", "Trả lại"}, {NULL, NULL}};
static const kv ages[] = {{"<=30", "Từ 30 trở xuống"}, {"31-40", "Từ 31 đến 40"}, {"41-50", "Từ 41 đến 50"},
                          {"51-60", "Từ 51 đến 60"}, {">60", "Trên 60"}, {"unknown", "Chưa rõ ngày sinh"}, {NULL, NULL}};
static const kv yes_no[] = {{"yes", "Có"}, {"no", "Không"}, {NULL, NULL}};
static const kv ethnicity[] = {{"kinh", "Kinh"}, {"minority", "Dân tộc thiểu số"}, {"unknown", "Chưa rõ"}, {NULL, NULL}};
static const kv religion[] = {{"none", "Không theo tôn giáo"}, {"religious", "Có tôn giáo"}, {NULL, NULL}};
static const kv it[] = {{"2", "Trung cấp trở lên"}, {"1", "Chứng chỉ"}, {"0", "Chưa có"}, {NULL, NULL}};
static const kv lang[] = {{"2", "Đại học trở lên"}, {"1", "Chứng chỉ"}, {"0", "Chưa có"}, {NULL, NULL}};

static const struct rp_dim dims[] = {
    {"category", "f.category::text", NULL, categories},
    {"gender", "f.gender::text", NULL, genders},
    {"age_band", NULL, NULL, ages},
    {"over_retirement_age", NULL, NULL, yes_no},
    {"ethnicity", "CASE WHEN f.ethnicity_code = '' THEN 'unknown' WHEN f.ethnicity_code = '01' THEN 'kinh' "
                  "ELSE 'minority' END", NULL, ethnicity},
    {"ethnicity_code", "f.ethnicity_code", "ETHNICITY", NULL},
    {"religion", "CASE WHEN f.religion_code IN ('', '00') THEN 'none' ELSE 'religious' END", NULL, religion},
    {"religion_code", "f.religion_code", "RELIGION", NULL},
    {"party", "CASE WHEN f.party_member THEN 'yes' ELSE 'no' END", NULL, yes_no},
    {"rank_group", "COALESCE((SELECT c.rank_group FROM records.report_catalog c WHERE c.catalog = 'RANK' "
                   "AND c.code = f.rank_code), '')", NULL, NULL},
    {"rank_code", "f.rank_code", "RANK", NULL},
    {"degree", "f.degree_code", "DEGREE", NULL},
    {"political_theory", "f.political_theory_code", "POLITICAL_THEORY", NULL},
    {"state_management", "f.state_management_code", "STATE_MANAGEMENT", NULL},
    {"it", "f.it_class::text", NULL, it},
    {"english", "f.english_class::text", NULL, lang},
    {"other_language", "f.other_language_class::text", NULL, lang},
    {"ethnic_language", "CASE WHEN f.ethnic_language THEN 'yes' ELSE 'no' END", NULL, yes_no},
    {"status", "f.status::text", NULL, statuses},
    {"workflow_state", "f.workflow_state::text", NULL, workflow},
    {"position", "f.position_code", "POSITION", NULL},
    {"staffing", "f.staffing_code", "STAFFING", NULL},
    {"unit", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

const rp_dim *rp_dim_find(const char *name) {
  for (const rp_dim *d = dims; name && d->name; d++)
    if (!strcmp(d->name, name)) return d;
  return NULL;
}

const char *rp_dim_catalog(const rp_dim *d) { return d->catalog; }
const char *rp_dim_name(const rp_dim *d) { return d->name; }
int rp_dim_is_unit(const rp_dim *d) { return !strcmp(d->name, "unit"); }

static void bound(qb *q, rdate day, int years) {
  char buf[11];
  qb_param(q, rdate_fmt(rp_born_by_age(day, years), buf), "::date");
}

void rp_dim_sql(qb *q, const rp_dim *d, const rp_when *w, const rp_unit *u) {
  if (d->sql) {
    qb_add(q, "%s", d->sql);
  } else if (!strcmp(d->name, "age_band")) {
    /* the bands of BM01/BNV, by birth-date bounds on the report's day */
    qb_add(q, "CASE WHEN f.birth_date IS NULL THEN 'unknown' WHEN f.birth_date > ");
    bound(q, w->day, 31);
    qb_add(q, " THEN '<=30' WHEN f.birth_date > ");
    bound(q, w->day, 41);
    qb_add(q, " THEN '31-40' WHEN f.birth_date > ");
    bound(q, w->day, 51);
    qb_add(q, " THEN '41-50' WHEN f.birth_date > ");
    bound(q, w->day, 61);
    qb_add(q, " THEN '51-60' ELSE '>60' END");
  } else if (!strcmp(d->name, "over_retirement_age")) {
    rdate m, fm;
    char a[11], b[11];
    rp_over_retirement_born_before(w->day, RP_MALE, &m);
    rp_over_retirement_born_before(w->day, RP_FEMALE, &fm);
    qb_add(q, "CASE WHEN (f.gender = 1 AND f.birth_date < ");
    qb_param(q, rdate_fmt(m, a), "::date");
    qb_add(q, ") OR (f.gender = 2 AND f.birth_date < ");
    qb_param(q, rdate_fmt(fm, b), "::date");
    qb_add(q, ") THEN 'yes' ELSE 'no' END");
  } else {
    rp_unit_key_sql(q, u);
  }
}

void rp_unit_key_sql(qb *q, const rp_unit *u) {
  {
    qb_add(q, "CASE WHEN nlevel(f.unit_path) > nlevel(");
    qb_param(q, u->path, "::public.ltree");
    qb_add(q, ") THEN subpath(f.unit_path, nlevel(");
    qb_param(q, u->path, "::public.ltree");
    qb_add(q, "), 1)::text ELSE ");
    qb_param(q, u->id, "::text");
    qb_add(q, " END");
  }
}

const char *rp_dim_label(srv_ctx *ctx, const rp_dim *d, const char *k) {
  for (const kv *x = d->labels; x && x->key; x++)
    if (!strcmp(x->key, k)) return x->label;
  if (d->catalog && *k) {
    PGresult *r = db_q(ctx->db, "SELECT name FROM records.report_catalog WHERE catalog = $1 AND code = $2", 2,
                       d->catalog, k);
    const char *name = r && PQntuples(r) == 1 ? srv_strdup(ctx, PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    if (name) return name;
  }
  if (!*k) return "Chưa có";
  return srv_strdup(ctx, k);
}
