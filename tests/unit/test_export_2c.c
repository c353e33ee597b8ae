/* Unit tests of records/export_2c.c: the 2C-BNV/2008 résumé has the form's labels and tables,
 * escapes every value, prints dates dd/mm/yyyy and catalogue names, and stays self-contained. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_2c.h"

typedef Hoso__Records__V1__Record rec_t;

/* A small catalogue: what the handler reads from catalog_entries. */
static const char *names(void *arg, const char *catalog, const char *code) {
  (void)arg;
  static const char *const tab[][3] = {
      {"ETHNICITY", "01", "Kinh"},          {"RELIGION", "00", "Không"},
      {"RANK", "01.003", "Chuyên viên"},    {"DEGREE", "DH", "Đại học"},
      {"POSITION", "TP", "Trưởng phòng"},   {"POSITION", "BTCB", "Bí thư chi bộ"},
      {"RELATION", "FATHER", "Cha đẻ"},     {"RELATION", "SPOUSE_MOTHER", "Mẹ vợ"},
      {"POLITICAL_THEORY", "TC", "Trung cấp"},
  };
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (!strcmp(tab[i][0], catalog) && !strcmp(tab[i][1], code)) return tab[i][2];
  return NULL;
}

static char *render(const rec_t *r, const export_2c_opts *o) {
  size_t len = 0;
  char *html = export_2c_render(r, o, &len);
  assert_non_null(html);
  assert_int_equal(strlen(html), len);
  return html;
}

static void has(const char *html, const char *needle) {
  if (!strstr(html, needle)) fail_msg("the résumé lacks \"%s\"", needle);
}

/* The form's labels, in order: every numbered item 1–32 and the fixed texts around them. */
static const char *const labels[] = {
    "Cơ quan, đơn vị có thẩm quyền quản lý CBCC",
    "Cơ quan, đơn vị sử dụng CBCC",
    "Mẫu 2C-BNV/2008",
    "Số hiệu cán bộ, công chức",
    "Ảnh màu<br>(4 x 6 cm)",
    "SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC",
    "1) Họ và tên khai sinh (viết chữ in hoa)",
    "2) Tên gọi khác",
    "3) Sinh ngày",
    "Giới tính",
    "4) Nơi sinh",
    "5) Quê quán",
    "6) Dân tộc",
    "7) Tôn giáo",
    "8) Nơi đăng ký hộ khẩu thường trú",
    "9) Nơi ở hiện nay",
    "10) Nghề nghiệp khi được tuyển dụng",
    "11) Ngày tuyển dụng",
    "Cơ quan tuyển dụng",
    "12) Chức vụ (chức danh) hiện tại",
    "13) Công việc chính được giao",
    "14) Ngạch công chức (chức danh nghề nghiệp)",
    "Mã ngạch",
    "Bậc lương",
    "Hệ số",
    "Ngày hưởng",
    "Phụ cấp chức vụ",
    "Phụ cấp khác",
    "15.1- Trình độ giáo dục phổ thông",
    "15.2- Trình độ chuyên môn cao nhất",
    "15.3- Lý luận chính trị",
    "15.4- Quản lý nhà nước",
    "15.5- Ngoại ngữ",
    "15.6- Tin học",
    "16) Ngày vào Đảng Cộng sản Việt Nam",
    "Ngày chính thức",
    "17) Ngày tham gia tổ chức chính trị - xã hội",
    "18) Ngày nhập ngũ",
    "Ngày xuất ngũ",
    "Quân hàm cao nhất",
    "19) Danh hiệu được phong tặng cao nhất",
    "20) Sở trường công tác",
    "21) Khen thưởng",
    "22) Kỷ luật",
    "23) Tình trạng sức khỏe",
    "Chiều cao",
    "Cân nặng",
    "Nhóm máu",
    "24) Là thương binh hạng",
    "Là con gia đình chính sách",
    "25) Số chứng minh nhân dân",
    "Ngày cấp",
    "26) Số sổ BHXH",
    "27) ĐÀO TẠO, BỒI DƯỠNG VỀ CHUYÊN MÔN, NGHIỆP VỤ, LÝ LUẬN CHÍNH TRỊ, NGOẠI NGỮ, TIN HỌC",
    "<th>Tên trường</th>",
    "<th>Chuyên ngành đào tạo, bồi dưỡng</th>",
    "<th>Từ tháng, năm - đến tháng, năm</th>",
    "<th>Hình thức đào tạo</th>",
    "<th>Văn bằng, chứng chỉ, trình độ gì</th>",
    "28) TÓM TẮT QUÁ TRÌNH CÔNG TÁC",
    "<th>Từ tháng, năm đến tháng, năm</th>",
    "<th>Chức danh, chức vụ, đơn vị công tác",
    "29) ĐẶC ĐIỂM LỊCH SỬ BẢN THÂN",
    "a) Khai rõ: bị bắt, bị tù",
    "b) Tham gia hoặc có quan hệ với các tổ chức chính trị, kinh tế, xã hội nào ở nước ngoài",
    "c) Có thân nhân",
    "30) QUAN HỆ GIA ĐÌNH",
    "a) Về bản thân: Cha, Mẹ, Vợ (hoặc chồng), các con, anh chị em ruột",
    "b) Về bên vợ (hoặc chồng)",
    "<th>Mối quan hệ</th>",
    "<th>Họ và tên</th>",
    "<th>Năm sinh</th>",
    "31) DIỄN BIẾN QUÁ TRÌNH LƯƠNG CỦA CÁN BỘ, CÔNG CHỨC",
    "Tháng/năm",
    "Mã ngạch/bậc",
    "Hệ số lương",
    "32) NHẬN XÉT, ĐÁNH GIÁ CỦA CƠ QUAN, ĐƠN VỊ QUẢN LÝ VÀ SỬ DỤNG CÁN BỘ, CÔNG CHỨC",
    "Người khai",
    "Ngày …… tháng …… năm 20……",
    "Thủ trưởng cơ quan, đơn vị quản lý và sử dụng CBCC",
};

static void check_labels_in_order(const char *html) {
  const char *p = html;
  for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
    const char *q = strstr(p, labels[i]);
    if (!q) fail_msg("label %zu \"%s\" missing or out of order", i, labels[i]);
    p = q + strlen(labels[i]);
  }
}

/* Nothing runs and nothing is fetched: the file prints the same on any machine, offline. */
static void check_self_contained(const char *html) {
  assert_null(strstr(html, "<script"));
  assert_null(strstr(html, "<link"));
  assert_null(strstr(html, "<img"));
  assert_null(strstr(html, "http:"));
  assert_null(strstr(html, "https:"));
  assert_null(strstr(html, "url("));
  has(html, "@page{size:A4;margin:20mm 15mm 20mm 25mm}");
  has(html, "Times New Roman");
  has(html, "page-break-inside:avoid");
}

static void test_empty_record_renders_every_section(void **state) {
  (void)state;
  /* No group and no history at all: every label and every table is still there, the tables
   * with blank rows to fill in by hand, and the values as dotted lines. */
  rec_t r = HOSO__RECORDS__V1__RECORD__INIT;
  char *html = render(&r, NULL);
  check_labels_in_order(html);
  check_self_contained(html);
  has(html, "<td class=\"blank\"></td>");
  has(html, "……………………");
  assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
  has(html, "</html>");
  free(html);
}

static void test_escaping(void **state) {
  (void)state;
  /* A record is user data: markup in any value comes out as text, never as markup. */
  rec_t r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__WorkHistoryEntry w = HOSO__RECORDS__V1__WORK_HISTORY_ENTRY__INIT;
  Hoso__Records__V1__WorkHistoryEntry *wp = &w;
  r.full_name = "<script>alert(1)</script>";
  r.personal = &p;
  p.birth_place = "\"><img src=x onerror=alert(2)>";
  p.ethnicity_code = "<b>";  /* an unknown code is printed as it is: escaped too */
  r.work_history = &wp;
  r.n_work_history = 1;
  w.unit = "A & B 'quoted'";
  export_2c_opts o = {.managing_unit = "<i>UBND</i>", .name = names};
  char *html = render(&r, &o);
  check_self_contained(html);
  has(html, "&lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;");
  /* The title carries the name as written (escaped), item 1 in capitals. */
  has(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
  has(html, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
  has(html, "&lt;b&gt;");
  has(html, "A &amp; B &#39;quoted&#39;");
  has(html, "&lt;i&gt;UBND&lt;/i&gt;");
  assert_null(strstr(html, "<i>UBND"));
  free(html);
}

static void test_full_record(void **state) {
  (void)state;
  rec_t r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  Hoso__Records__V1__SalaryInfo s = HOSO__RECORDS__V1__SALARY_INFO__INIT;
  Hoso__Records__V1__Qualifications q = HOSO__RECORDS__V1__QUALIFICATIONS__INIT;
  Hoso__Records__V1__PartyAndUnions pa = HOSO__RECORDS__V1__PARTY_AND_UNIONS__INIT;
  Hoso__Records__V1__HealthAndPolicy h = HOSO__RECORDS__V1__HEALTH_AND_POLICY__INIT;
  Hoso__Records__V1__WorkHistoryEntry w0 = HOSO__RECORDS__V1__WORK_HISTORY_ENTRY__INIT, w1 = w0;
  Hoso__Records__V1__WorkHistoryEntry *wh[2] = {&w0, &w1};
  Hoso__Records__V1__FamilyRelation f0 = HOSO__RECORDS__V1__FAMILY_RELATION__INIT, f1 = f0;
  Hoso__Records__V1__FamilyRelation *fam[2] = {&f0, &f1};
  Hoso__Records__V1__SalaryHistoryEntry sh[8];
  Hoso__Records__V1__SalaryHistoryEntry *shp[8];
  char *concurrent[1] = {"BTCB"};
  char *langs[2] = {"Tiếng Anh B1", "Tiếng Pháp A2"};
  r.id = "100042";
  r.full_name = "Nguyễn Văn Đức";
  r.birth_date = "1980-05-02";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  r.personal = &p;
  p.ethnicity_code = "01";
  p.religion_code = "00";
  p.citizen_id = "024080001234";
  p.citizen_id_date = "2021-07-15";
  r.employment = &e;
  e.recruitment_date = "2005-09-01";
  e.position_code = "TP";
  e.concurrent_position_codes = concurrent;
  e.n_concurrent_position_codes = 1;
  r.salary = &s;
  s.rank_code = "01.003";
  s.step = 4;
  s.coefficient = "3.33";
  r.qualifications = &q;
  q.degree_code = "DH";
  q.major = "Luật";
  q.political_theory_code = "TC";
  q.foreign_languages = langs;
  q.n_foreign_languages = 2;
  r.party = &pa;
  pa.party_join_date = "2008-03-26";
  r.health = &h;
  h.height_cm = 168;
  h.weight_kg = 62;
  r.work_history = wh;
  r.n_work_history = 2;
  w0.from = "2005-09";
  w0.to = "2012-12";
  w0.position = "Chuyên viên";
  w0.unit = "Phòng Nội vụ huyện Lục Nam";
  w1.from = "2013-01";
  w1.position = "Trưởng phòng";
  w1.unit = "Phòng Nội vụ huyện Lục Nam";
  r.family = fam;
  r.n_family = 2;
  f0.relation_code = "FATHER";
  f0.full_name = "Nguyễn Văn Hải";
  f0.birth_year = "1950";
  f1.relation_code = "SPOUSE_MOTHER";
  f1.full_name = "Lê Thị Mai";
  f1.spouse_side = 1;
  for (int i = 0; i < 8; i++) {
    hoso__records__v1__salary_history_entry__init(&sh[i]);
    sh[i].date = i == 7 ? "2023-07" : "2006-01";
    sh[i].rank_code = "01.003";
    sh[i].step = i + 1;
    sh[i].coefficient = "2.34";
    shp[i] = &sh[i];
  }
  r.salary_history = shp;
  r.n_salary_history = 8;
  export_2c_opts o = {.managing_unit = "UBND huyện Lục Nam", .using_unit = "Phòng Nội vụ",
                      .name = names};
  char *html = render(&r, &o);
  check_labels_in_order(html);
  check_self_contained(html);
  has(html, "NGUYỄN VĂN ĐỨC");             /* item 1 in capitals, Vietnamese letters too */
  has(html, "<span class=\"v\">02</span> tháng <span class=\"v\">05</span> năm <span class=\"v\">1980</span>");
  has(html, "01/09/2005");                  /* recruitment date dd/mm/yyyy */
  has(html, "15/07/2021");
  has(html, "26/03/2008");
  has(html, "09/2005 - 12/2012");           /* work history months */
  has(html, "01/2013 - nay");               /* an open entry is held until today */
  has(html, "Kinh");                        /* catalogue names, not codes */
  has(html, "Trưởng phòng, kiêm Bí thư chi bộ");
  has(html, "Chuyên viên</span>, Mã ngạch: <span class=\"v\">01.003</span>");
  has(html, "Đại học, chuyên ngành Luật");
  has(html, "Tiếng Anh B1, Tiếng Pháp A2");
  has(html, "168 cm");
  has(html, "<td>Cha đẻ</td><td>Nguyễn Văn Hải</td><td>1950</td>");
  has(html, "UBND huyện Lục Nam");
  has(html, "100042");
  /* Eight salary changes make two rows of six columns; the last change is there. */
  has(html, "<td>07/2023</td>");
  has(html, "<td>01.003/8</td>");
  const char *a = strstr(html, "31) DIỄN BIẾN");
  assert_non_null(a);
  int tables = 0;
  for (const char *t = a; (t = strstr(t, "<table class=\"grid salary\">")); t++) tables++;
  assert_int_equal(tables, 2);
  /* The mother-in-law is on the spouse's side: after heading b), not in table a). */
  const char *b = strstr(html, "b) Về bên vợ (hoặc chồng)");
  assert_true(strstr(html, "Lê Thị Mai") > b);
  assert_true(strstr(html, "Nguyễn Văn Hải") < b);
  free(html);
}

static void collect(void *arg, const char *catalog, const char *code) {
  char *buf = arg;
  strcat(buf, catalog);
  strcat(buf, ":");
  strcat(buf, code);
  strcat(buf, " ");
}

static void test_codes(void **state) {
  (void)state;
  /* Every printed code is offered to the caller's lookup, empty ones are not. */
  rec_t r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__RewardEntry w = HOSO__RECORDS__V1__REWARD_ENTRY__INIT;
  Hoso__Records__V1__RewardEntry *wp = &w;
  r.personal = &p;
  p.ethnicity_code = "01";
  r.rewards = &wp;
  r.n_rewards = 1;
  w.form_code = "BK";
  char buf[256] = "";
  export_2c_codes(&r, collect, buf);
  assert_string_equal(buf, "ETHNICITY:01 REWARD_FORM:BK ");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_record_renders_every_section),
      cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_full_record),
      cmocka_unit_test(test_codes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
