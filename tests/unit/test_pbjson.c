/* pbjson (common/pbjson.c): the proto3 JSON mapping of identity.proto and records.proto
 * messages both ways, every error path with its message, memory through the caller's
 * allocator (counted, and failed on purpose), and random mutations of valid JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.pb-c.h"
#include "pbjson.h"
#include "records.pb-c.h"
#include "val.h"

/* --- a counting allocator that can be told to fail ------------------------------------------ */

typedef struct {
  long live;       /* allocations not yet freed */
  long total;
  long fail_after; /* fail the allocation with this index (0-based); -1 never */
} counter;

static void *c_alloc(void *d, size_t n) {
  counter *c = d;
  if (c->fail_after >= 0 && c->total >= c->fail_after) return NULL;
  c->total++;
  c->live++;
  return malloc(n);
}
static void c_free(void *d, void *p) {
  counter *c = d;
  c->live--;
  free(p);
}

/* --- a hand-written descriptor for the field kinds our protos do not use ---------------------- */
/* message Kinds { uint64 u64 = 1; double d = 2; float f = 3; sint32 s32 = 4; fixed32 u32 = 5;
 *   optional int32 opt = 6; oneof choice { string name = 7; int64 num = 8; Decision dec = 9; }
 *   repeated bytes blobs = 10; repeated double ds = 11; map<string, int64> tags = 12;
 *   map<int32, Decision> by_id = 13; repeated TagsEntry pairs = 14; } (proto2 optional layout
 *   for opt, as protoc-c 1.4 has no proto3 optional; pairs: a list that only looks like a map) */

typedef struct {
  ProtobufCMessage base;
  char *key;
  int64_t value;
} TagsEntry;
typedef struct {
  ProtobufCMessage base;
  int32_t key;
  Hoso__Records__V1__Decision *value;
} ByIdEntry;

static const ProtobufCMessageDescriptor tags_entry_descriptor, by_id_entry_descriptor;
static void tags_entry_init(ProtobufCMessage *m) {
  memset(m, 0, sizeof(TagsEntry));
  m->descriptor = &tags_entry_descriptor;
  ((TagsEntry *)m)->key = (char *)protobuf_c_empty_string;
}
static void by_id_entry_init(ProtobufCMessage *m) {
  memset(m, 0, sizeof(ByIdEntry));
  m->descriptor = &by_id_entry_descriptor;
}
static const ProtobufCFieldDescriptor tags_entry_fields[] = {
    {"key", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0, offsetof(TagsEntry, key), NULL, &protobuf_c_empty_string, 0, 0, NULL, NULL},
    {"value", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT64, 0, offsetof(TagsEntry, value), NULL, NULL, 0, 0, NULL, NULL},
};
static const ProtobufCFieldDescriptor by_id_entry_fields[] = {
    {"key", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32, 0, offsetof(ByIdEntry, key), NULL, NULL, 0, 0, NULL, NULL},
    {"value", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof(ByIdEntry, value),
     &hoso__records__v1__decision__descriptor, NULL, 0, 0, NULL, NULL},
};
static const unsigned entry_by_name[] = {0, 1};
static const ProtobufCIntRange entry_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor tags_entry_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Kinds.TagsEntry", "TagsEntry", "TagsEntry", "test", sizeof(TagsEntry), 2,
    tags_entry_fields, entry_by_name, 1, entry_ranges, tags_entry_init, NULL, NULL, NULL};
static const ProtobufCMessageDescriptor by_id_entry_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Kinds.ByIdEntry", "ByIdEntry", "ByIdEntry", "test", sizeof(ByIdEntry), 2,
    by_id_entry_fields, entry_by_name, 1, entry_ranges, by_id_entry_init, NULL, NULL, NULL};

typedef struct {
  ProtobufCMessage base;
  uint64_t u64;
  double d;
  float f;
  int32_t s32;
  uint32_t u32;
  protobuf_c_boolean has_opt;
  int32_t opt;
  uint32_t choice_case;
  union {
    char *name;
    int64_t num;
    Hoso__Records__V1__Decision *dec;
  };
  size_t n_blobs;
  ProtobufCBinaryData *blobs;
  size_t n_ds;
  double *ds;
  size_t n_tags;
  TagsEntry **tags;
  size_t n_by_id;
  ByIdEntry **by_id;
  size_t n_pairs;
  TagsEntry **pairs;
} Kinds;

static const ProtobufCMessageDescriptor kinds_descriptor;
static void kinds_init(ProtobufCMessage *m) {
  memset(m, 0, sizeof(Kinds));
  m->descriptor = &kinds_descriptor;
}

#define F(nm, id, lab, ty, q, field, desc, flags) \
  {nm, id, PROTOBUF_C_LABEL_##lab, PROTOBUF_C_TYPE_##ty, q, offsetof(Kinds, field), desc, NULL, flags, 0, NULL, NULL}
static const ProtobufCFieldDescriptor kinds_fields[] = {
    F("u64", 1, NONE, UINT64, 0, u64, NULL, 0),
    F("d", 2, NONE, DOUBLE, 0, d, NULL, 0),
    F("f", 3, NONE, FLOAT, 0, f, NULL, 0),
    F("s32", 4, NONE, SINT32, 0, s32, NULL, 0),
    F("u32", 5, NONE, FIXED32, 0, u32, NULL, 0),
    F("opt", 6, OPTIONAL, INT32, offsetof(Kinds, has_opt), opt, NULL, 0),
    F("name", 7, NONE, STRING, offsetof(Kinds, choice_case), name, NULL, PROTOBUF_C_FIELD_FLAG_ONEOF),
    F("num", 8, NONE, INT64, offsetof(Kinds, choice_case), num, NULL, PROTOBUF_C_FIELD_FLAG_ONEOF),
    F("dec", 9, NONE, MESSAGE, offsetof(Kinds, choice_case), dec, &hoso__records__v1__decision__descriptor,
      PROTOBUF_C_FIELD_FLAG_ONEOF),
    F("blobs", 10, REPEATED, BYTES, offsetof(Kinds, n_blobs), blobs, NULL, 0),
    F("ds", 11, REPEATED, DOUBLE, offsetof(Kinds, n_ds), ds, NULL, 0),
    F("tags", 12, REPEATED, MESSAGE, offsetof(Kinds, n_tags), tags, &tags_entry_descriptor, 0),
    F("by_id", 13, REPEATED, MESSAGE, offsetof(Kinds, n_by_id), by_id, &by_id_entry_descriptor, 0),
    F("pairs", 14, REPEATED, MESSAGE, offsetof(Kinds, n_pairs), pairs, &tags_entry_descriptor, 0),
};
/* indexes of kinds_fields in name order: blobs by_id d dec ds f name num opt pairs s32 tags u32 u64 */
static const unsigned kinds_by_name[] = {9, 12, 1, 8, 10, 2, 6, 7, 5, 13, 3, 11, 4, 0};
static const ProtobufCIntRange kinds_ranges[] = {{1, 0}, {0, 14}};
static const ProtobufCMessageDescriptor kinds_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Kinds", "Kinds", "Kinds", "test", sizeof(Kinds), 14,
    kinds_fields, kinds_by_name, 1, kinds_ranges, kinds_init, NULL, NULL, NULL};

/* --- helpers ------------------------------------------------------------------------------------ */

static ProtobufCMessage *dec(const ProtobufCMessageDescriptor *d, const char *text, unsigned flags, char *err) {
  return pbjson_decode(d, text, strlen(text), flags, NULL, err, 256);
}

/* decoding must fail with exactly this message (and leave nothing allocated: ASan checks) */
static void expect_err(const ProtobufCMessageDescriptor *d, const char *text, const char *want) {
  char err[256] = "unset";
  ProtobufCMessage *m = dec(d, text, 0, err);
  if (m) {
    char *j = pbjson_encode(m, 0);
    fail_msg("%s decoded (to %s), wanted error \"%s\"", text, j, want);
  }
  if (strcmp(err, want) != 0) fail_msg("%s: got \"%s\", want \"%s\"", text, err, want);
}

static void expect_same_pack(const ProtobufCMessage *a, const ProtobufCMessage *b) {
  size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
  uint8_t *pa = malloc(na + 1), *pb = malloc(nb + 1);
  protobuf_c_message_pack(a, pa);
  protobuf_c_message_pack(b, pb);
  assert_int_equal(na, nb);
  assert_memory_equal(pa, pb, na);
  free(pa);
  free(pb);
}

/* A whole record in the canonical form pbjson writes: lowerCamelCase, fields in number order,
 * int64 as strings, enums by name, defaults left out. Vietnamese text is NFC. */
static const char RECORD_JSON[] =
    "{\"record\":{\"id\":\"1024\",\"managingUnitId\":\"17\",\"version\":\"9007199254740993\","
    "\"status\":\"RECORD_STATUS_ACTIVE\",\"workflowState\":\"WORKFLOW_STATE_APPROVED\",\"verified\":true,"
    "\"fullName\":\"Nguyễn Thị Ánh Tuyết\",\"birthDate\":\"1985-03-14\",\"gender\":\"GENDER_FEMALE\","
    "\"personal\":{\"otherNames\":\"Tuyết\",\"birthPlace\":\"Xã Ea Tu, TP. Buôn Ma Thuột, Đắk Lắk\","
    "\"homeTown\":\"Hưng Yên\",\"ethnicityCode\":\"KINH\",\"citizenId\":\"066185000123\"},"
    "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\",\"recruitmentDate\":\"2008-09-01\","
    "\"concurrentPositionCodes\":[\"PP\",\"BT-CB\"],\"mainDuties\":\"Quản lý hồ sơ cán bộ, công chức\"},"
    "\"salary\":{\"rankCode\":\"01.003\",\"step\":4,\"coefficient\":\"3.33\",\"otherAllowances\":[{\"typeCode\":"
    "\"TNVK\",\"value\":\"5\"},{\"typeCode\":\"CV\",\"value\":\"0.2\",\"effectiveDate\":\"2020-01-01\"}],"
    "\"salaryAmount\":\"-12\"},"
    "\"qualifications\":{\"generalEducation\":\"12/12\",\"foreignLanguages\":[\"Tiếng Anh B1\",\"Tiếng Ê Đê\"]},"
    "\"party\":{\"partyMember\":true,\"partyJoinDate\":\"2010-05-19\"},"
    "\"health\":{\"heightCm\":158,\"weightKg\":-1},"
    "\"workHistory\":[{\"from\":\"2008-09\",\"to\":\"2012-12\",\"unit\":\"Phòng Nội vụ huyện Krông Pắc\","
    "\"position\":\"Chuyên viên\"},{\"from\":\"2013-01\",\"unit\":\"Sở Nội vụ tỉnh Đắk Lắk\"}],"
    "\"salaryHistory\":[{\"date\":\"2017-01\",\"rankCode\":\"01.003\",\"step\":3,\"decision\":{\"number\":"
    "\"125/QĐ-SNV\",\"date\":\"2016-12-20\"}}],"
    "\"family\":[{\"relationCode\":\"FATHER\",\"fullName\":\"Nguyễn Văn Bình\",\"birthYear\":\"1955\"},"
    "{\"relationCode\":\"SPOUSE_FATHER\",\"fullName\":\"Trần Đức Lộc\",\"spouseSide\":true}],"
    "\"statusDecision\":{\"number\":\"7/QĐ\"},\"managingUnitPath\":\"1.4.17\"},\"requestId\":\"r-ü-1\"}";

/* --- round trips ------------------------------------------------------------------------------------ */

/* An account built in C: the encoder must produce the canonical proto3 JSON (camelCase names,
 * int64 as a string, enums and repeated enums by name, false/""/0 left out), and decoding that
 * text must give back the same message byte for byte. */
static void test_account_round_trip(void **state) {
  (void)state;
  Hoso__Identity__V1__Account a = HOSO__IDENTITY__V1__ACCOUNT__INIT;
  Hoso__Common__V1__Role roles[] = {HOSO__COMMON__V1__ROLE__UNIT_ADMIN, HOSO__COMMON__V1__ROLE__READER};
  a.id = "42";
  a.username = "tuyet.nt";
  a.full_name = "Nguyễn Thị Ánh Tuyết";
  a.n_roles = 2;
  a.roles = roles;
  a.status = HOSO__IDENTITY__V1__ACCOUNT_STATUS__ACCOUNT_STATUS_DISABLED;
  a.must_change_password = 1;
  a.version = -9000000000LL;
  char *text = pbjson_encode(&a.base, 0);
  assert_string_equal(text, "{\"id\":\"42\",\"username\":\"tuyet.nt\",\"fullName\":\"Nguyễn Thị Ánh Tuyết\","
                            "\"roles\":[\"UNIT_ADMIN\",\"READER\"],\"status\":\"ACCOUNT_STATUS_DISABLED\","
                            "\"mustChangePassword\":true,\"version\":\"-9000000000\"}");
  char err[256];
  ProtobufCMessage *back = dec(&hoso__identity__v1__account__descriptor, text, 0, err);
  assert_non_null(back);
  expect_same_pack(&a.base, back);
  /* unset strings stay protobuf-c's shared empty string, as its own unpack leaves them */
  assert_ptr_equal(((Hoso__Identity__V1__Account *)back)->email, protobuf_c_empty_string);
  protobuf_c_message_free_unpacked(back, NULL);
  free(text);
}

/* A whole record (nested messages, lists of messages and of strings, int64 beyond 2^53, a
 * negative int32, bools, enums): decode → encode gives the same text, and decoding again gives
 * the same binary message. */
static void test_record_round_trip(void **state) {
  (void)state;
  char err[256];
  ProtobufCMessage *m = dec(&hoso__records__v1__create_record_request__descriptor, RECORD_JSON, 0, err);
  if (!m) fail_msg("%s", err);
  Hoso__Records__V1__CreateRecordRequest *r = (void *)m;
  assert_int_equal(r->record->version, 9007199254740993LL); /* exact: not through a double */
  assert_int_equal(r->record->health->weight_kg, -1);
  assert_int_equal(r->record->salary->salary_amount, -12);
  assert_int_equal(r->record->n_work_history, 2);
  assert_string_equal(r->record->work_history[1]->unit, "Sở Nội vụ tỉnh Đắk Lắk");
  assert_int_equal(r->record->employment->n_concurrent_position_codes, 2);
  char *text = pbjson_encode(m, 0);
  assert_string_equal(text, RECORD_JSON);
  ProtobufCMessage *again = dec(&hoso__records__v1__create_record_request__descriptor, text, 0, err);
  assert_non_null(again);
  expect_same_pack(m, again);
  protobuf_c_message_free_unpacked(again, NULL);
  protobuf_c_message_free_unpacked(m, NULL);
  free(text);
}

static void snake_keys(json_t *v) {
  if (json_is_array(v)) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) snake_keys(e);
    return;
  }
  if (!json_is_object(v)) return;
  json_t *out = json_object();
  const char *k;
  json_t *e;
  json_object_foreach(v, k, e) {
    char s[128];
    size_t o = 0;
    for (const char *p = k; *p && o + 2 < sizeof s; p++) {
      if (*p >= 'A' && *p <= 'Z') s[o++] = '_', s[o++] = (char)(*p - 'A' + 'a');
      else s[o++] = *p;
    }
    s[o] = 0;
    snake_keys(e);
    json_object_set(out, s, e);
  }
  json_object_clear(v);
  json_object_update(v, out);
  json_decref(out);
}

/* The same record written with the proto field names (snake_case, as ORIG_NAMES writes them and
 * as many clients send them) decodes to the same message; ORIG_NAMES output is that form. */
static void test_snake_case_input(void **state) {
  (void)state;
  char err[256];
  json_t *j = json_loads(RECORD_JSON, 0, NULL);
  snake_keys(j);
  char *snake = json_dumps(j, JSON_COMPACT);
  assert_non_null(strstr(snake, "\"managing_unit_id\""));
  ProtobufCMessage *a = dec(&hoso__records__v1__create_record_request__descriptor, RECORD_JSON, 0, err);
  ProtobufCMessage *b = dec(&hoso__records__v1__create_record_request__descriptor, snake, 0, err);
  assert_non_null(a);
  if (!b) fail_msg("%s", err);
  expect_same_pack(a, b);
  char *orig = pbjson_encode(b, PBJSON_ORIG_NAMES);
  assert_string_equal(orig, snake);
  free(orig);
  protobuf_c_message_free_unpacked(a, NULL);
  protobuf_c_message_free_unpacked(b, NULL);
  free(snake);
  json_decref(j);
}

/* PBJSON_EMIT_DEFAULTS writes every scalar and list with its zero value (int64 "0", the enum's
 * zero name, [] and ""), but not unset sub-messages; PRETTY indents. */
static void test_emit_defaults(void **state) {
  (void)state;
  Hoso__Identity__V1__LoginResponse r = HOSO__IDENTITY__V1__LOGIN_RESPONSE__INIT;
  char *t = pbjson_encode(&r.base, 0);
  assert_string_equal(t, "{}");
  free(t);
  t = pbjson_encode(&r.base, PBJSON_EMIT_DEFAULTS);
  assert_string_equal(t, "{\"accessToken\":\"\",\"refreshToken\":\"\",\"expiresIn\":0,\"mustChangePassword\":false,"
                         "\"tokenType\":\"\"}");
  free(t);
  Hoso__Identity__V1__Account a = HOSO__IDENTITY__V1__ACCOUNT__INIT;
  t = pbjson_encode(&a.base, PBJSON_EMIT_DEFAULTS | PBJSON_ORIG_NAMES);
  assert_non_null(strstr(t, "\"roles\":[]"));
  assert_non_null(strstr(t, "\"status\":\"ACCOUNT_STATUS_UNSPECIFIED\""));
  assert_non_null(strstr(t, "\"version\":\"0\""));
  assert_non_null(strstr(t, "\"must_change_password\":false"));
  free(t);
  t = pbjson_encode(&a.base, PBJSON_PRETTY | PBJSON_EMIT_DEFAULTS);
  assert_non_null(strstr(t, "{\n  \"id\": \"\""));
  free(t);
}

/* bytes: standard base64 with padding out; standard or URL-safe, padded or not, in. Every byte
 * value survives. */
static void test_bytes(void **state) {
  (void)state;
  char err[256];
  uint8_t all[256];
  for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
  Hoso__Records__V1__ExportRecordResponse x = HOSO__RECORDS__V1__EXPORT_RECORD_RESPONSE__INIT;
  x.content.data = all;
  x.content.len = sizeof all;
  char *t = pbjson_encode(&x.base, 0);
  assert_non_null(strstr(t, "\"content\":\"AAECAwQF"));
  assert_non_null(strstr(t, "+/w==\"")); /* ...fd fe ff: standard alphabet, padded */
  Hoso__Records__V1__ExportRecordResponse *b = (void *)dec(&hoso__records__v1__export_record_response__descriptor, t, 0, err);
  assert_non_null(b);
  assert_int_equal(b->content.len, 256);
  assert_memory_equal(b->content.data, all, 256);
  protobuf_c_message_free_unpacked(&b->base, NULL);
  free(t);
  /* "\xfb\xff" is "+/8=" in standard and "-_8" in URL-safe base64 */
  const char *forms[] = {"{\"content\":\"+/8=\"}", "{\"content\":\"+/8\"}", "{\"content\":\"-_8=\"}", "{\"content\":\"-_8\"}"};
  for (size_t i = 0; i < 4; i++) {
    b = (void *)dec(&hoso__records__v1__export_record_response__descriptor, forms[i], 0, err);
    assert_non_null(b);
    assert_int_equal(b->content.len, 2);
    assert_int_equal(b->content.data[0], 0xfb);
    assert_int_equal(b->content.data[1], 0xff);
    protobuf_c_message_free_unpacked(&b->base, NULL);
  }
  b = (void *)dec(&hoso__records__v1__export_record_response__descriptor, "{\"content\":\"\"}", 0, err);
  assert_non_null(b);
  assert_int_equal(b->content.len, 0);
  assert_null(b->content.data);
  protobuf_c_message_free_unpacked(&b->base, NULL);
  const char *bad[] = {"{\"content\":\"A\"}", "{\"content\":\"AB=C\"}", "{\"content\":\"A===\"}",
                       "{\"content\":\"QUJD!\"}", "{\"content\":\"QQ= \"}", "{\"content\":\"QQ=\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    expect_err(&hoso__records__v1__export_record_response__descriptor, bad[i], "content: not valid base64");
  expect_err(&hoso__records__v1__export_record_response__descriptor, "{\"content\":5}",
             "content: expected a base64 string");
}

/* 64-bit integers: strings or numbers in (within range, no fraction), strings out; int32 also
 * from strings; exponents allowed when the value is whole. */
static void test_integers(void **state) {
  (void)state;
  char err[256];
  const ProtobufCMessageDescriptor *d = &hoso__records__v1__submit_record_request__descriptor;
  struct {
    const char *json;
    int64_t want;
  } ok[] = {{"{\"expectedVersion\":42}", 42},
            {"{\"expectedVersion\":\"42\"}", 42},
            {"{\"expectedVersion\":\"-7\"}", -7},
            {"{\"expectedVersion\":1e3}", 1000},
            {"{\"expectedVersion\":\"2.5e1\"}", 25},
            {"{\"expectedVersion\":3.0}", 3},
            {"{\"expectedVersion\":\"9223372036854775807\"}", INT64_MAX},
            {"{\"expectedVersion\":\"-9223372036854775808\"}", INT64_MIN},
            {"{\"expected_version\":-9223372036854775808}", INT64_MIN}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    Hoso__Records__V1__SubmitRecordRequest *m = (void *)dec(d, ok[i].json, 0, err);
    if (!m) fail_msg("%s: %s", ok[i].json, err);
    assert_int_equal(m->expected_version, ok[i].want);
    protobuf_c_message_free_unpacked(&m->base, NULL);
  }
  expect_err(d, "{\"expectedVersion\":\"1.5\"}", "expectedVersion: not an integer");
  expect_err(d, "{\"expectedVersion\":1.5}", "expectedVersion: not an integer");
  expect_err(d, "{\"expectedVersion\":\" 1\"}", "expectedVersion: not an integer");
  expect_err(d, "{\"expectedVersion\":\"0x10\"}", "expectedVersion: not an integer");
  expect_err(d, "{\"expectedVersion\":\"\"}", "expectedVersion: not an integer");
  expect_err(d, "{\"expectedVersion\":true}", "expectedVersion: not an integer");
  expect_err(d, "{\"expectedVersion\":\"9223372036854775808\"}", "expectedVersion: out of range for int64");
  expect_err(d, "{\"expectedVersion\":1e19}", "expectedVersion: out of range for int64");
  expect_err(d, "{\"expectedVersion\":\"NaN\"}", "expectedVersion: not an integer");
  const ProtobufCMessageDescriptor *la = &hoso__identity__v1__list_accounts_request__descriptor;
  Hoso__Identity__V1__ListAccountsRequest *l = (void *)dec(la, "{\"pageSize\":\"25\"}", 0, err);
  assert_non_null(l);
  assert_int_equal(l->page_size, 25);
  protobuf_c_message_free_unpacked(&l->base, NULL);
  expect_err(la, "{\"pageSize\":1.5}", "pageSize: not an integer");
  expect_err(la, "{\"pageSize\":\"abc\"}", "pageSize: not an integer");
  expect_err(la, "{\"pageSize\":2147483648}", "pageSize: out of range for int32");
  expect_err(la, "{\"pageSize\":\"-2147483649\"}", "pageSize: out of range for int32");
  expect_err(la, "{\"pageSize\":[1]}", "pageSize: not an integer");
}

/* The kinds our protos do not use yet, through a hand-made descriptor: uint64 beyond int64,
 * floats with NaN and the infinities, sint32, fixed32, proto3 optional, oneof. */
static void test_other_kinds(void **state) {
  (void)state;
  char err[256];
  Kinds *k = (void *)dec(&kinds_descriptor,
                         "{\"u64\":\"18446744073709551615\",\"d\":\"-Infinity\",\"f\":\"NaN\",\"s32\":-5,"
                         "\"u32\":4294967295,\"opt\":0,\"num\":\"0\",\"blobs\":[\"AA==\",\"\"],"
                         "\"ds\":[1.5,\"Infinity\",\"-2.25\",0]}",
                         0, err);
  if (!k) fail_msg("%s", err);
  assert_true(k->u64 == UINT64_MAX);
  assert_true(isinf(k->d) && k->d < 0);
  assert_true(isnan(k->f));
  assert_int_equal(k->s32, -5);
  assert_true(k->u32 == UINT32_MAX);
  assert_true(k->has_opt);
  assert_int_equal(k->choice_case, 8);
  assert_int_equal(k->n_blobs, 2);
  assert_int_equal(k->n_ds, 4);
  assert_true(k->ds[2] == -2.25);
  /* a set oneof member and a set optional field are written even at their zero value */
  char *t = pbjson_encode(&k->base, 0);
  assert_string_equal(t, "{\"u64\":\"18446744073709551615\",\"d\":\"-Infinity\",\"f\":\"NaN\",\"s32\":-5,"
                         "\"u32\":4294967295,\"opt\":0,\"num\":\"0\",\"blobs\":[\"AA==\",\"\"],"
                         "\"ds\":[1.5,\"Infinity\",-2.25,0.0]}");
  free(t);
  protobuf_c_message_free_unpacked(&k->base, NULL);

  k = (void *)dec(&kinds_descriptor, "{\"dec\":{\"number\":\"5/QĐ\"},\"f\":0.5}", 0, err);
  assert_non_null(k);
  assert_int_equal(k->choice_case, 9);
  assert_string_equal(k->dec->number, "5/QĐ");
  assert_true(k->f == 0.5f);
  protobuf_c_message_free_unpacked(&k->base, NULL);

  expect_err(&kinds_descriptor, "{\"name\":\"a\",\"num\":1}",
             "num: only one field of a oneof may be set, and name is set already");
  expect_err(&kinds_descriptor, "{\"dec\":{},\"name\":\"a\"}",
             "name: only one field of a oneof may be set, and dec is set already");
  expect_err(&kinds_descriptor, "{\"u64\":-1}", "u64: out of range for uint64");
  expect_err(&kinds_descriptor, "{\"u64\":\"-1\"}", "u64: out of range for uint64");
  expect_err(&kinds_descriptor, "{\"u64\":\"18446744073709551616\"}", "u64: out of range for uint64");
  expect_err(&kinds_descriptor, "{\"u32\":4294967296}", "u32: out of range for uint32");
  expect_err(&kinds_descriptor, "{\"f\":1e39}", "f: out of range for float");
  expect_err(&kinds_descriptor, "{\"d\":\"inf\"}", "d: not a number");
  expect_err(&kinds_descriptor, "{\"d\":\"1,5\"}", "d: not a number");
  expect_err(&kinds_descriptor, "{\"ds\":[1,null]}", "ds[1]: null is not allowed in a list");
  expect_err(&kinds_descriptor, "{\"blobs\":[\"AA==\",\"%\"]}", "blobs[1]: not valid base64");

  /* set_path in a oneof: the same member again replaces, another member is refused */
  k = (void *)dec(&kinds_descriptor, "{}", 0, err);
  assert_int_equal(pbjson_set_path(&k->base, "name", "một", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(&k->base, "name", "hai", NULL, err, sizeof err), 0);
  assert_string_equal(k->name, "hai");
  assert_int_equal(pbjson_set_path(&k->base, "num", "3", NULL, err, sizeof err), -1);
  assert_string_equal(err, "num: only one field of a oneof may be set, and name is set already");
  assert_int_equal(pbjson_set_path(&k->base, "opt", "7", NULL, err, sizeof err), 0);
  assert_true(k->has_opt && k->opt == 7);
  assert_int_equal(pbjson_set_path(&k->base, "ds", "NaN", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(&k->base, "blobs", "-_8", NULL, err, sizeof err), 0);
  assert_int_equal(k->n_blobs, 1);
  assert_int_equal(k->blobs[0].data[0], 0xfb);
  protobuf_c_message_free_unpacked(&k->base, NULL);
}

/* Maps as JSON objects: string, number and bool keys as strings; a repeated message that merely
 * looks like a map entry (wrong entry name) stays a list. */
static void test_maps(void **state) {
  (void)state;
  char err[256];
  const char *in = "{\"tags\":{\"Hà Nội\":\"1\",\"\":2},\"byId\":{\"-7\":{\"number\":\"5/QĐ\"},\"3\":{}},"
                   "\"pairs\":[{\"key\":\"a\",\"value\":\"9\"}]}";
  Kinds *k = (void *)dec(&kinds_descriptor, in, 0, err);
  if (!k) fail_msg("%s", err);
  assert_int_equal(k->n_tags, 2);
  assert_string_equal(k->tags[0]->key, "Hà Nội");
  assert_int_equal(k->tags[0]->value, 1);
  assert_ptr_equal(k->tags[1]->key, protobuf_c_empty_string);
  assert_int_equal(k->n_by_id, 2);
  assert_int_equal(k->by_id[0]->key, -7);
  assert_string_equal(k->by_id[0]->value->number, "5/QĐ");
  assert_int_equal(k->n_pairs, 1);
  char *t = pbjson_encode(&k->base, 0);
  assert_string_equal(t, "{\"tags\":{\"Hà Nội\":\"1\",\"\":\"2\"},\"byId\":{\"-7\":{\"number\":\"5/QĐ\"},\"3\":{}},"
                         "\"pairs\":[{\"key\":\"a\",\"value\":\"9\"}]}");
  free(t);
  protobuf_c_message_free_unpacked(&k->base, NULL);
  expect_err(&kinds_descriptor, "{\"byId\":{\"x\":{}}}", "byId.x: not an integer");
  expect_err(&kinds_descriptor, "{\"byId\":{\"1\":{\"numbr\":1}}}", "byId.1.numbr: unknown field");
  expect_err(&kinds_descriptor, "{\"tags\":{\"a\":null}}", "tags.a: null is not allowed in a map");
  expect_err(&kinds_descriptor, "{\"tags\":{\"a\":\"x\"}}", "tags.a: not an integer");
  expect_err(&kinds_descriptor, "{\"tags\":[]}", "tags: expected an object (a map)");
  expect_err(&kinds_descriptor, "{\"pairs\":{}}", "pairs: expected an array");
  assert_true(pbjson_is_map(&kinds_descriptor, &kinds_fields[11]));
  assert_true(pbjson_is_map(&kinds_descriptor, &kinds_fields[12]));
  assert_false(pbjson_is_map(&kinds_descriptor, &kinds_fields[13]));
  assert_false(pbjson_is_map(&kinds_descriptor, &kinds_fields[8]));
}

/* Enums: names or numbers in; an unknown name is an error naming the field, the value and the
 * enum, unless PBJSON_IGNORE_UNKNOWN, which drops it. Unknown numbers are kept (proto3 enums are
 * open) and written back as numbers. */
static void test_enums(void **state) {
  (void)state;
  char err[256];
  const ProtobufCMessageDescriptor *d = &hoso__identity__v1__create_account_request__descriptor;
  Hoso__Identity__V1__CreateAccountRequest *c =
      (void *)dec(d, "{\"roles\":[\"SYSTEM_ADMIN\",3,\"SELF\",99]}", 0, err);
  assert_non_null(c);
  assert_int_equal(c->n_roles, 4);
  assert_int_equal(c->roles[1], HOSO__COMMON__V1__ROLE__UPDATER);
  assert_int_equal(c->roles[3], 99);
  char *t = pbjson_encode(&c->base, 0);
  assert_string_equal(t, "{\"roles\":[\"SYSTEM_ADMIN\",\"UPDATER\",\"SELF\",99]}");
  free(t);
  protobuf_c_message_free_unpacked(&c->base, NULL);
  expect_err(d, "{\"roles\":[\"SYSTEM_ADMIN\",\"BOSS\"]}", "roles[1]: unknown enum value \"BOSS\" for hoso.common.v1.Role");
  expect_err(d, "{\"roles\":[\"system_admin\"]}",
             "roles[0]: unknown enum value \"system_admin\" for hoso.common.v1.Role");
  expect_err(d, "{\"roles\":[true]}", "roles[0]: expected an enum name or number for hoso.common.v1.Role");
  expect_err(d, "{\"roles\":[4294967296]}", "roles[0]: out of range for enum hoso.common.v1.Role");
  expect_err(d, "{\"roles\":\"SELF\"}", "roles: expected an array");
  c = (void *)dec(d, "{\"roles\":[\"BOSS\",\"READER\"],\"boss\":1}", PBJSON_IGNORE_UNKNOWN, err);
  assert_non_null(c);
  assert_int_equal(c->n_roles, 1);
  assert_int_equal(c->roles[0], HOSO__COMMON__V1__ROLE__READER);
  protobuf_c_message_free_unpacked(&c->base, NULL);
  Hoso__Identity__V1__ListAccountsRequest *l =
      (void *)dec(&hoso__identity__v1__list_accounts_request__descriptor, "{\"status\":\"GONE\"}", PBJSON_IGNORE_UNKNOWN, err);
  assert_non_null(l);
  assert_int_equal(l->status, 0);
  protobuf_c_message_free_unpacked(&l->base, NULL);
}

/* Every other way a body can be wrong, each named by the path as the client wrote it. */
static void test_errors(void **state) {
  (void)state;
  const ProtobufCMessageDescriptor *cr = &hoso__records__v1__create_record_request__descriptor;
  expect_err(cr, "{\"record\":{\"birthDate\":5}}", "record.birthDate: expected a string");
  expect_err(cr, "{\"record\":{\"birth_date\":null,\"gender\":{}}}",
             "record.gender: expected an enum name or number for hoso.records.v1.Gender");
  expect_err(cr, "{\"record\":{\"workHistory\":[{\"from\":\"x\"},{\"to\":1}]}}", "record.workHistory[1].to: expected a string");
  expect_err(cr, "{\"record\":{\"workHistory\":{}}}", "record.workHistory: expected an array");
  expect_err(cr, "{\"record\":[]}", "record: expected an object");
  expect_err(cr, "{\"record\":\"x\"}", "record: expected an object");
  expect_err(cr, "{\"foo\":1}", "foo: unknown field");
  expect_err(cr, "{\"record\":{\"personal\":{\"homeTown\":\"x\",\"quêQuán\":\"y\"}}}",
             "record.personal.quêQuán: unknown field");
  expect_err(cr, "{\"record\":{\"verified\":\"true\"}}", "record.verified: expected true or false");
  expect_err(cr, "{\"record\":{\"verified\":1}}", "record.verified: expected true or false");
  expect_err(cr, "{\"record\":{\"fullName\":\"a\",\"full_name\":\"b\"}}",
             "record.full_name: given twice (as fullName and full_name)");
  expect_err(cr, "{\"record\":{\"fullName\":\"a\",\"fullName\":\"b\"}}",
             "body: malformed JSON at line 1 column 36 (duplicate object key near '\"fullName\"')");
  expect_err(cr, "{\"record\":", "body: malformed JSON at line 1 column 10 (unexpected token near end of file)");
  expect_err(cr, "", "body: malformed JSON at line 1 column 0 ('[' or '{' expected near end of file)");
  expect_err(cr, "[]", "body: expected a JSON object");
  expect_err(cr, "{\"requestId\":\"a\\u0000b\"}",
             "body: malformed JSON at line 1 column 23 (\\u0000 is not allowed in text)");
  /* null is the default, for scalars, messages and lists alike */
  char err[256];
  Hoso__Records__V1__CreateRecordRequest *r =
      (void *)dec(cr, "{\"record\":{\"fullName\":null,\"personal\":null,\"family\":null},\"requestId\":null}", 0, err);
  assert_non_null(r);
  assert_string_equal(r->record->full_name, "");
  assert_null(r->record->personal);
  assert_int_equal(r->record->n_family, 0);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* the error text is cut to the buffer without splitting a UTF-8 character */
  char small[12];
  assert_null(pbjson_decode(cr, "{\"ủy\":1}", 9, 0, NULL, small, sizeof small));
  assert_true(val_utf8(small, strlen(small)));
  assert_null(pbjson_decode(cr, "{\"ủủủủủủ\":1}", 21, 0, NULL, small, sizeof small));
  assert_true(val_utf8(small, strlen(small)));
}

/* Invalid UTF-8 is refused naming the field it was given for, also in a name or an ignored
 * field; a message holding invalid UTF-8 (from a backend) encodes with U+FFFD. */
static void test_utf8(void **state) {
  (void)state;
  const ProtobufCMessageDescriptor *cr = &hoso__records__v1__create_record_request__descriptor;
  expect_err(cr, "{\"record\":{\"fullName\":\"Nguy\xff\xfen\"}}", "record.fullName: not valid UTF-8 text");
  expect_err(cr, "{\"record\":{\"fullName\":\"\xc0\xaf\"}}", "record.fullName: not valid UTF-8 text"); /* overlong */
  expect_err(cr, "{\"record\":{\"fullName\":\"\xed\xa0\x80\"}}", "record.fullName: not valid UTF-8 text"); /* surrogate */
  expect_err(cr, "{\"record\":{\"family\":[{\"fullName\":\"ok\"},{\"fullName\":\"\xe1\xba\"}]}}",
             "record.family[1].fullName: not valid UTF-8 text");
  expect_err(cr, "{\"record\":{\"full\xffName\":\"a\"}}", "record.full\xef\xbf\xbfName: field name is not valid UTF-8");
  expect_err(cr, "{\"requestId\":\"\\ud800\"}",
             "body: malformed JSON at line 1 column 21 (invalid Unicode '\\uD800' near '\"\\ud800\"')");
  char err[256];
  assert_null(dec(cr, "{\"x\":\"\xff\",\"requestId\":\"a\"}", PBJSON_IGNORE_UNKNOWN, err));
  assert_string_equal(err, "body: not valid UTF-8 text");
  Hoso__Identity__V1__Account a = HOSO__IDENTITY__V1__ACCOUNT__INIT;
  a.full_name = "An\xff\xc3";
  char *t = pbjson_encode(&a.base, 0);
  assert_string_equal(t, "{\"fullName\":\"An\xef\xbf\xbd\xef\xbf\xbd\"}");
  free(t);
}

/* URL parameters: dotted paths of either spelling, sub-messages created on the way, lists
 * appended, enums by name or number, bools only as true/false; errors name the path. */
static void test_set_path(void **state) {
  (void)state;
  char err[256];
  Hoso__Records__V1__UpdateRecordRequest *u = (void *)dec(&hoso__records__v1__update_record_request__descriptor, "{}", 0, err);
  ProtobufCMessage *m = &u->base;
  assert_int_equal(pbjson_set_path(m, "record.id", "77", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.fullName", "Lê Văn Tám", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.full_name", "Lê Văn Tám Mới", NULL, err, sizeof err), 0); /* replaces */
  assert_int_equal(pbjson_set_path(m, "record.employment.concurrent_position_codes", "A", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.employment.concurrentPositionCodes", "B", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.gender", "GENDER_MALE", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.status", "2", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.verified", "true", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "expected_version", "-3", NULL, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.id", "", NULL, err, sizeof err), 0); /* back to the default */
  char *t = pbjson_encode(m, 0);
  assert_string_equal(t, "{\"record\":{\"status\":\"RECORD_STATUS_PENDING_TRANSFER\",\"verified\":true,"
                         "\"fullName\":\"Lê Văn Tám Mới\",\"gender\":\"GENDER_MALE\",\"employment\":"
                         "{\"concurrentPositionCodes\":[\"A\",\"B\"]}},\"expectedVersion\":\"-3\"}");
  free(t);
  assert_ptr_equal(u->record->id, protobuf_c_empty_string);
  struct {
    const char *path, *value, *want;
  } bad[] = {
      {"record.verified", "yes", "record.verified: expected true or false"},
      {"record.verified", "1", "record.verified: expected true or false"},
      {"record.gender", "BOY", "record.gender: unknown enum value \"BOY\" for hoso.records.v1.Gender"},
      {"record.gender", "1-2", "record.gender: expected an enum name or number for hoso.records.v1.Gender"},
      {"expectedVersion", "x", "expectedVersion: not an integer"},
      {"record.nope", "1", "record.nope: unknown field"},
      {"record.fullName.x", "1", "record.fullName: not a message field, so it has no fields"},
      {"record.workHistory.from", "1", "record.workHistory: a list of messages cannot be bound to a parameter"},
      {"record.personal", "1", "record.personal: is a message: give its fields, e.g. record.personal.<field>"},
      {"record..id", "1", "record..id: not a field path"},
      {"record.fullName", "\xff", "record.fullName: not valid UTF-8 text"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(pbjson_set_path(m, bad[i].path, bad[i].value, NULL, err, sizeof err), -1);
    if (strcmp(err, bad[i].want) != 0) fail_msg("%s=%s: got \"%s\", want \"%s\"", bad[i].path, bad[i].value, err, bad[i].want);
  }
  protobuf_c_message_free_unpacked(m, NULL);
}

/* The resolver gives the canonical proto-name path whichever spelling the client used. */
static void test_resolve_path(void **state) {
  (void)state;
  char canon[128], err[256];
  const ProtobufCFieldDescriptor *f;
  const ProtobufCMessageDescriptor *d = &hoso__records__v1__update_record_request__descriptor;
  assert_int_equal(pbjson_resolve_path(d, "record.salary.rankCode", canon, sizeof canon, &f, err, sizeof err), 0);
  assert_string_equal(canon, "record.salary.rank_code");
  assert_string_equal(f->name, "rank_code");
  assert_int_equal(pbjson_resolve_path(d, "record.salary.bonus", canon, sizeof canon, &f, err, sizeof err), -1);
  assert_string_equal(err, "record.salary.bonus: unknown field");
  char jn[64];
  pbjson_json_name("seniority_beyond_frame_percent", jn, sizeof jn);
  assert_string_equal(jn, "seniorityBeyondFramePercent");
  pbjson_json_name("a_1_b", jn, sizeof jn);
  assert_string_equal(jn, "a1B");
}

/* Every allocation of a decoded message goes through the given allocator and comes back
 * through free_unpacked with it; a failure at any allocation gives "out of memory" for the
 * field being decoded and leaks nothing. */
static void test_allocator(void **state) {
  (void)state;
  char err[256];
  counter c = {0, 0, -1};
  ProtobufCAllocator a = {c_alloc, c_free, &c};
  const ProtobufCMessageDescriptor *d = &hoso__records__v1__create_record_request__descriptor;
  ProtobufCMessage *m = pbjson_decode(d, RECORD_JSON, strlen(RECORD_JSON), 0, &a, err, sizeof err);
  assert_non_null(m);
  long needed = c.total;
  assert_true(needed > 40);
  assert_int_equal(pbjson_set_path(m, "record.employment.concurrentPositionCodes", "X", &a, err, sizeof err), 0);
  assert_int_equal(pbjson_set_path(m, "record.partyAndUnions", "X", &a, err, sizeof err), -1);
  protobuf_c_message_free_unpacked(m, &a);
  assert_int_equal(c.live, 0);
  for (long k = 0; k < needed; k++) {
    c = (counter){0, 0, k};
    m = pbjson_decode(d, RECORD_JSON, strlen(RECORD_JSON), 0, &a, err, sizeof err);
    assert_null(m);
    assert_non_null(strstr(err, "out of memory"));
    assert_int_equal(c.live, 0);
  }
}

/* --- random mutations ------------------------------------------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

/* 20 000 mutations of valid JSON (bytes changed, cut, repeated, JSON fragments and invalid
 * UTF-8 inserted): decoding must never crash, must return either a message or an error message
 * that is valid UTF-8, must leave no allocation behind, and whatever it accepts must encode to
 * text that decodes to the same message. */
static void test_fuzz(void **state) {
  (void)state;
  static const char *frags[] = {"null", "\"\"", "\"x\"", "1e999", "-0", "[", "]", "{", "}", ",", ":", "\"\\u0000\"",
                                "\"\\ud800\"", "\xff", "\xc3", "true", "[null]", "{}", "\"NaN\"", "9223372036854775808",
                                "\"AA==\"", "\"GENDER_MALE\"", "\"fullName\":", "\"workHistory\":[{}],", "0.5"};
  const ProtobufCMessageDescriptor *descs[] = {&hoso__records__v1__create_record_request__descriptor, &kinds_descriptor};
  const char *seeds[] = {RECORD_JSON, "{\"u64\":\"1\",\"d\":1.5,\"f\":\"NaN\",\"s32\":-1,\"opt\":0,\"dec\":{\"number\":\"x\"},"
                                      "\"blobs\":[\"AA==\"],\"ds\":[1,2],\"tags\":{\"a\":1},\"byId\":{\"2\":{}}}"};
  counter c = {0, 0, -1};
  ProtobufCAllocator a = {c_alloc, c_free, &c};
  size_t accepted = 0;
  char *buf = malloc(16384);
  char err[256];
  for (int it = 0; it < 20000; it++) {
    int which = it % 5 == 4;
    const char *seed = seeds[which];
    size_t n = strlen(seed);
    memcpy(buf, seed, n);
    int muts = 1 + (int)(rnd() % 3);
    for (int k = 0; k < muts; k++) {
      size_t pos = n ? rnd() % n : 0;
      switch (rnd() % 5) {
      case 0: buf[pos] = (char)(rnd() & 0xff); break;
      case 1: { /* delete a range */
        size_t len = 1 + rnd() % 16;
        if (pos + len > n) len = n - pos;
        memmove(buf + pos, buf + pos + len, n - pos - len);
        n -= len;
        break;
      }
      case 2: { /* insert a fragment */
        const char *f = frags[rnd() % (sizeof frags / sizeof *frags)];
        size_t fl = strlen(f);
        if (n + fl >= 16000) break;
        memmove(buf + pos + fl, buf + pos, n - pos);
        memcpy(buf + pos, f, fl);
        n += fl;
        break;
      }
      case 3: { /* repeat a range */
        size_t len = 1 + rnd() % 64;
        if (pos + len > n) len = n - pos;
        if (n + len >= 16000) break;
        memmove(buf + pos + len, buf + pos, n - pos);
        n += len;
        break;
      }
      default: n = pos; break; /* cut */
      }
    }
    unsigned flags = (rnd() & 1) ? PBJSON_IGNORE_UNKNOWN : 0;
    c.live = 0;
    ProtobufCMessage *m = pbjson_decode(descs[which], buf, n, flags, &a, err, sizeof err);
    if (!m) {
      assert_true(err[0] != 0);
      assert_true(val_utf8(err, strlen(err)));
      assert_int_equal(c.live, 0);
      continue;
    }
    accepted++;
    char *t = pbjson_encode(m, 0);
    assert_non_null(t);
    ProtobufCMessage *again = pbjson_decode(descs[which], t, strlen(t), 0, NULL, err, sizeof err);
    if (!again) fail_msg("re-decoding %s: %s", t, err);
    char *t2 = pbjson_encode(again, 0);
    assert_string_equal(t, t2);
    free(t);
    free(t2);
    protobuf_c_message_free_unpacked(again, NULL);
    protobuf_c_message_free_unpacked(m, &a);
    assert_int_equal(c.live, 0);
  }
  free(buf);
  /* the mutations must leave some inputs valid, or the round-trip half tests nothing */
  assert_true(accepted > 500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_account_round_trip), cmocka_unit_test(test_record_round_trip),
      cmocka_unit_test(test_snake_case_input),   cmocka_unit_test(test_emit_defaults),
      cmocka_unit_test(test_bytes),              cmocka_unit_test(test_integers),
      cmocka_unit_test(test_other_kinds),        cmocka_unit_test(test_maps),
      cmocka_unit_test(test_enums),
      cmocka_unit_test(test_errors),             cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_set_path),           cmocka_unit_test(test_resolve_path),
      cmocka_unit_test(test_allocator),          cmocka_unit_test(test_fuzz),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
