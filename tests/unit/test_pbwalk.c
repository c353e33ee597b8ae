/* Unit tests of pbwalk.c: every string of a nested message visited with its field path, NFC
 * normalization in place with either allocator, refusals naming the path, oneof members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbwalk.h"
#include "records.pb-c.h"

typedef Hoso__Records__V1__Record Record;

/* "Nguyễn Văn Đức" with the letters decomposed (NFD), as macOS and some keyboards send it. */
#define NFD_NAME "Nguye\xCC\x82\xCC\x83n Va\xCC\x86n \xC4\x90u\xCC\x9B\xCC\x81" "c"
#define NFC_NAME "Nguyễn Văn Đức"

/* A record built on the stack: strings are literals, so only an allocator that never frees
 * may be used to normalize it. */
typedef struct {
  Record r;
  Hoso__Records__V1__PersonalInfo personal;
  Hoso__Records__V1__Employment emp;
  Hoso__Records__V1__SalaryInfo salary;
  Hoso__Records__V1__Allowance allowance, *allowances[1];
  Hoso__Records__V1__FamilyRelation fam0, fam1, *family[2];
  char *concurrent[2];
} fixture;

static void build(fixture *f) {
  memset(f, 0, sizeof *f);
  hoso__records__v1__record__init(&f->r);
  hoso__records__v1__personal_info__init(&f->personal);
  hoso__records__v1__employment__init(&f->emp);
  hoso__records__v1__salary_info__init(&f->salary);
  hoso__records__v1__allowance__init(&f->allowance);
  hoso__records__v1__family_relation__init(&f->fam0);
  hoso__records__v1__family_relation__init(&f->fam1);
  f->r.full_name = NFD_NAME;
  f->r.birth_date = "1980-02-29";
  f->personal.home_town = "  Xã   Tân Dĩnh,\thuyện Lạng Giang ";
  f->r.personal = &f->personal;
  f->concurrent[0] = "P01";
  f->concurrent[1] = "P02";
  f->emp.concurrent_position_codes = f->concurrent;
  f->emp.n_concurrent_position_codes = 2;
  f->r.employment = &f->emp;
  f->allowance.type_code = "PC-KV";
  f->allowances[0] = &f->allowance;
  f->salary.other_allowances = f->allowances;
  f->salary.n_other_allowances = 1;
  f->r.salary = &f->salary;
  f->fam0.relation_code = "FATHER";
  f->fam1.relation_code = "MOTHER";
  f->fam1.full_name = "Lê Thị Hoa";
  f->family[0] = &f->fam0;
  f->family[1] = &f->fam1;
  f->r.family = f->family;
  f->r.n_family = 2;
}

typedef struct {
  char paths[64][PBWALK_PATH_MAX];
  char values[64][256];
  int n, stop_at;
} seen_t;

static int collect(void *arg, const char *path, const ProtobufCFieldDescriptor *f, char **slot) {
  seen_t *s = arg;
  (void)f;
  if (s->n == s->stop_at) return 7;
  assert_true(s->n < 64);
  snprintf(s->paths[s->n], PBWALK_PATH_MAX, "%s", path);
  snprintf(s->values[s->n], 256, "%s", *slot);
  s->n++;
  return 0;
}

static const char *value_at(const seen_t *s, const char *path) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->paths[i], path) == 0) return s->values[i];
  return NULL;
}

static void test_paths(void **state) {
  (void)state;
  fixture f;
  build(&f);
  seen_t s;
  memset(&s, 0, sizeof s);
  s.stop_at = -1;
  assert_int_equal(pbwalk_strings(&f.r.base, "record", collect, &s), 0);
  /* Nested messages, repeated strings and repeated messages all carry their index. */
  assert_string_equal(value_at(&s, "record.full_name"), NFD_NAME);
  assert_string_equal(value_at(&s, "record.personal.home_town"), f.personal.home_town);
  assert_string_equal(value_at(&s, "record.employment.concurrent_position_codes[1]"), "P02");
  assert_string_equal(value_at(&s, "record.salary.other_allowances[0].type_code"), "PC-KV");
  assert_string_equal(value_at(&s, "record.family[1].relation_code"), "MOTHER");
  assert_string_equal(value_at(&s, "record.family[1].full_name"), "Lê Thị Hoa");
  /* Unset sub-messages are not entered; proto3 empty strings are still visited. */
  assert_null(value_at(&s, "record.qualifications.degree_code"));
  assert_string_equal(value_at(&s, "record.id"), "");
  /* Without a prefix the path starts at the field. */
  memset(&s, 0, sizeof s);
  s.stop_at = -1;
  pbwalk_strings(&f.r.base, "", collect, &s);
  assert_non_null(value_at(&s, "family[0].relation_code"));
}

static void test_stop(void **state) {
  (void)state;
  fixture f;
  build(&f);
  seen_t s;
  memset(&s, 0, sizeof s);
  s.stop_at = 3;
  /* The callback's non-zero result ends the walk and comes back unchanged. */
  assert_int_equal(pbwalk_strings(&f.r.base, "record", collect, &s), 7);
  assert_int_equal(s.n, 3);
}

/* An allocator that counts and never frees, like the call arena; keep_release() frees what
 * it gave out at the end of a test. */
static int n_alloc;
static void *kept[64];
static int n_kept;
static void *keep_alloc(void *d, size_t n) {
  (void)d;
  assert_true(n_kept < 64);
  n_alloc++;
  return kept[n_kept++] = calloc(1, n);
}
static void keep_free(void *d, void *p) {
  (void)d;
  (void)p;
}
static void keep_release(void) {
  while (n_kept > 0) free(kept[--n_kept]);
}

static void test_nfc_in_place(void **state) {
  (void)state;
  fixture f;
  build(&f);
  ProtobufCAllocator a = {keep_alloc, keep_free, NULL};
  char err[256] = "";
  n_alloc = 0;
  assert_int_equal(pbwalk_nfc(&f.r.base, "record", 2000, NULL, &a, err, sizeof err), 0);
  assert_string_equal(f.r.full_name, NFC_NAME);
  assert_string_equal(f.personal.home_town, "Xã Tân Dĩnh, huyện Lạng Giang");
  /* Strings already clean are not copied: only the two that changed were allocated. */
  assert_int_equal(n_alloc, 2);
  assert_string_equal(f.fam1.full_name, "Lê Thị Hoa");
  keep_release();
}

/* With the default allocator on an unpacked message, replaced strings are freed and the
 * message still frees cleanly (AddressSanitizer would report a double free or a leak). */
static void test_nfc_malloc(void **state) {
  (void)state;
  fixture f;
  build(&f);
  size_t n = protobuf_c_message_get_packed_size(&f.r.base);
  uint8_t *buf = malloc(n);
  protobuf_c_message_pack(&f.r.base, buf);
  Record *r = hoso__records__v1__record__unpack(NULL, n, buf);
  free(buf);
  assert_non_null(r);
  char err[256];
  assert_int_equal(pbwalk_nfc(&r->base, "record", 2000, NULL, NULL, err, sizeof err), 0);
  assert_string_equal(r->full_name, NFC_NAME);
  assert_string_equal(r->personal->home_town, "Xã Tân Dĩnh, huyện Lạng Giang");
  hoso__records__v1__record__free_unpacked(r, NULL);
}

/* Fields named as prose keep their line breaks; every other field folds them. */
static void test_nfc_prose(void **state) {
  (void)state;
  fixture f;
  build(&f);
  f.r.full_name = "Lê\nThị  Hoa";
  Hoso__Records__V1__WorkHistoryEntry w = HOSO__RECORDS__V1__WORK_HISTORY_ENTRY__INIT, *wp = &w;
  w.unit = "Sở Nội vụ\r\ntỉnh Bắc Giang";
  w.description = "Phụ trách  tổ chức.\r\n\r\n\r\nKiêm nhiệm thi đua. ";
  f.r.n_work_history = 1;
  f.r.work_history = &wp;
  const ProtobufCFieldDescriptor *prose[] = {
      protobuf_c_message_descriptor_get_field_by_name(&hoso__records__v1__work_history_entry__descriptor,
                                                      "description"),
      NULL};
  assert_non_null(prose[0]);
  ProtobufCAllocator a = {keep_alloc, keep_free, NULL};
  char err[256] = "";
  assert_int_equal(pbwalk_nfc(&f.r.base, "record", 2000, prose, &a, err, sizeof err), 0);
  assert_string_equal(f.r.full_name, "Lê Thị Hoa");
  assert_string_equal(w.unit, "Sở Nội vụ tỉnh Bắc Giang");
  assert_string_equal(w.description, "Phụ trách tổ chức.\n\nKiêm nhiệm thi đua.");
  /* the length rule counts the kept breaks of prose */
  w.unit = "";
  w.description = "ab\n\ncd"; /* 6 characters kept, 5 if it were folded */
  assert_int_equal(pbwalk_nfc(&w.base, "work", 5, prose, &a, err, sizeof err), -1);
  assert_string_equal(err, "work.description: must be at most 5 characters");
  assert_int_equal(pbwalk_nfc(&w.base, "work", 6, prose, &a, err, sizeof err), 0);
  f.r.n_work_history = 0;
  keep_release();
}

static void test_refusals(void **state) {
  (void)state;
  fixture f;
  ProtobufCAllocator a = {keep_alloc, keep_free, NULL};
  char err[256];

  build(&f);
  f.fam1.full_name = "L\xC3\xAA Th\xE1\xBB"; /* cut in the middle of "ị" */
  assert_int_equal(pbwalk_nfc(&f.r.base, "record", 2000, NULL, &a, err, sizeof err), -1);
  assert_string_equal(err, "record.family[1].full_name: must be valid UTF-8");

  build(&f);
  f.concurrent[1] = "P\x01";
  assert_int_equal(pbwalk_nfc(&f.r.base, "record", 2000, NULL, &a, err, sizeof err), -1);
  assert_string_equal(err, "record.employment.concurrent_position_codes[1]: must not contain control characters");

  /* Short everything else, so the one long string is the first refusal. */
  build(&f);
  f.r.full_name = "An";
  f.personal.home_town = "Hà Nội";
  f.allowance.type_code = "ABCDEFGHIJK";
  assert_int_equal(pbwalk_nfc(&f.r.base, "record", 10, NULL, &a, err, sizeof err), -1);
  assert_string_equal(err, "record.salary.other_allowances[0].type_code: must be at most 10 characters");
  /* Ten characters of two bytes each are ten characters, not twenty. */
  build(&f);
  f.r.full_name = "An";
  f.personal.home_town = "Hà Nội";
  f.allowance.type_code = "ĐĐĐĐĐĐĐĐĐĐ";
  assert_int_equal(pbwalk_nfc(&f.r.base, "record", 10, NULL, &a, err, sizeof err), 0);
  keep_release();
}

/* A hand-made message with a oneof {a, b} and a proto2-style optional int: only the chosen
 * member is a value of the message. */
typedef struct {
  ProtobufCMessage base;
  uint32_t which;
  char *a;
  char *b;
  protobuf_c_boolean has_n;
  int32_t n;
} oneof_msg;

static const ProtobufCFieldDescriptor oneof_fields[3] = {
    {"a", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, offsetof(oneof_msg, which), offsetof(oneof_msg, a),
     NULL, NULL, PROTOBUF_C_FIELD_FLAG_ONEOF, 0, NULL, NULL},
    {"b", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, offsetof(oneof_msg, which), offsetof(oneof_msg, b),
     NULL, NULL, PROTOBUF_C_FIELD_FLAG_ONEOF, 0, NULL, NULL},
    {"n", 3, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT32, offsetof(oneof_msg, has_n), offsetof(oneof_msg, n),
     NULL, NULL, 0, 0, NULL, NULL},
};
static const ProtobufCMessageDescriptor oneof_desc = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.O", "O", "O", "t", sizeof(oneof_msg), 3, oneof_fields,
    NULL, 0, NULL, NULL, NULL, NULL, NULL};

static void test_oneof(void **state) {
  (void)state;
  oneof_msg m;
  memset(&m, 0, sizeof m);
  m.base.descriptor = &oneof_desc;
  m.which = 2;
  m.a = "stale";  /* memory of the member not chosen: never a value */
  m.b = "chosen";
  seen_t s;
  memset(&s, 0, sizeof s);
  s.stop_at = -1;
  pbwalk_strings(&m.base, "o", collect, &s);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.paths[0], "o.b");
  assert_int_equal(pbwalk_count(&m.base, &oneof_fields[0]), 0);
  assert_int_equal(pbwalk_count(&m.base, &oneof_fields[1]), 1);
  /* An optional scalar counts only when has_n says it is set. */
  m.n = 5;
  assert_int_equal(pbwalk_count(&m.base, &oneof_fields[2]), 0);
  m.has_n = 1;
  assert_int_equal(pbwalk_count(&m.base, &oneof_fields[2]), 1);
  assert_int_equal(*(int32_t *)pbwalk_slot(&m.base, &oneof_fields[2], 0), 5);
}

static void test_slots(void **state) {
  (void)state;
  fixture f;
  build(&f);
  const ProtobufCFieldDescriptor *fam = protobuf_c_message_descriptor_get_field_by_name(
      &hoso__records__v1__record__descriptor, "family");
  const ProtobufCFieldDescriptor *sal = protobuf_c_message_descriptor_get_field_by_name(
      &hoso__records__v1__record__descriptor, "qualifications");
  assert_int_equal(pbwalk_count(&f.r.base, fam), 2);
  assert_ptr_equal(*(void **)pbwalk_slot(&f.r.base, fam, 1), &f.fam1);
  /* An unset sub-message holds no value. */
  assert_int_equal(pbwalk_count(&f.r.base, sal), 0);
}

static void test_long_paths(void **state) {
  (void)state;
  fixture f;
  build(&f);
  char prefix[PBWALK_PATH_MAX + 50];
  memset(prefix, 'x', sizeof prefix - 1);
  prefix[sizeof prefix - 1] = '\0';
  seen_t s;
  memset(&s, 0, sizeof s);
  s.stop_at = -1;
  /* A prefix longer than the buffer is cut, never overflowed; the walk still visits all. */
  pbwalk_strings(&f.r.base, prefix, collect, &s);
  assert_true(s.n > 5);
  for (int i = 0; i < s.n; i++) assert_true(strlen(s.paths[i]) < PBWALK_PATH_MAX);
  char path[PBWALK_PATH_MAX];
  memset(path, 'y', 500);
  path[500] = '\0';
  size_t l = pbwalk_path_push(path, 500, "a_rather_long_field_name", 12);
  assert_true(l < PBWALK_PATH_MAX);
  assert_string_equal(path + l - 3, "...");
}

/* pbwalk_path_push as it was written first, with snprintf: the specification the faster one
 * must meet byte for byte, cut paths included. */
static size_t push_reference(char *path, size_t len, const char *name, long idx) {
  if (len >= PBWALK_PATH_MAX - 4) return len;
  int n = idx < 0 ? snprintf(path + len, PBWALK_PATH_MAX - len, "%s%s", len ? "." : "", name)
                  : snprintf(path + len, PBWALK_PATH_MAX - len, "%s%s[%ld]", len ? "." : "", name, idx);
  if (n < 0 || (size_t)n >= PBWALK_PATH_MAX - len - 4) {
    memcpy(path + PBWALK_PATH_MAX - 4, "...", 4);
    return PBWALK_PATH_MAX - 1;
  }
  return len + (size_t)n;
}

static void test_push_same_as_snprintf(void **state) {
  (void)state;
  static const long idxs[] = {-1, -7, 0, 9, 10, 123, 99999, 2147483647L, 9223372036854775807L};
  char name[700];
  srand(777);
  for (int round = 0; round < 50000; round++) {
    char a[PBWALK_PATH_MAX], b[PBWALK_PATH_MAX];
    /* Lengths near the end of the buffer are where cutting happens: favour them. */
    size_t len = rand() % 3 ? (size_t)(rand() % PBWALK_PATH_MAX) : PBWALK_PATH_MAX - 1 - (size_t)(rand() % 40);
    size_t nl = rand() % 4 ? (size_t)(rand() % 30) : (size_t)(rand() % 650);
    for (size_t i = 0; i < nl; i++) name[i] = (char)('a' + rand() % 26);
    name[nl] = '\0';
    long idx = idxs[rand() % (int)(sizeof idxs / sizeof idxs[0])];
    memset(a, 'y', sizeof a);
    a[len] = '\0';
    memcpy(b, a, sizeof a);
    size_t la = pbwalk_path_push(a, len, name, idx), lb = push_reference(b, len, name, idx);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la + 1);
    assert_int_equal(strlen(a), la);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paths),       cmocka_unit_test(test_stop),
      cmocka_unit_test(test_nfc_in_place), cmocka_unit_test(test_nfc_malloc),
      cmocka_unit_test(test_nfc_prose),
      cmocka_unit_test(test_refusals),    cmocka_unit_test(test_oneof),
      cmocka_unit_test(test_slots),       cmocka_unit_test(test_long_paths),
      cmocka_unit_test(test_push_same_as_snprintf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
