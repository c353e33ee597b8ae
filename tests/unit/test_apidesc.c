/* What the descriptor set built into every binary says of each method (common/apidesc.c): the
 * access option declared in the .proto, streaming, and options read from unknown fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apidesc.h"
#include "google/protobuf/descriptor.pb-c.h"

static const apidesc_method *find(const apidesc_method *m, size_t n, const char *path) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(m[i].path, path) == 0) return &m[i];
  return NULL;
}

/* The access of the methods the contract names, as identity.proto and records.proto declare it. */
static void test_access_of_the_contract(void **state) {
  (void)state;
  apidesc_method *m;
  size_t n;
  assert_int_equal(apidesc_methods(hoso_descriptor_set, hoso_descriptor_set_len, &m, &n), 0);
  assert_true(n > 40);
  static const struct {
    const char *path;
    int access;
  } want[] = {
      {"/hoso.identity.v1.Identity/Login", APIDESC_PUBLIC},
      {"/hoso.identity.v1.Identity/Refresh", APIDESC_PUBLIC},
      {"/hoso.identity.v1.Identity/Logout", APIDESC_PUBLIC},
      {"/hoso.identity.v1.Identity/ServiceLogin", APIDESC_PUBLIC},
      {"/hoso.identity.v1.Identity/GetPublicKeys", APIDESC_PUBLIC},
      {"/hoso.identity.v1.Identity/ListTokenRevocations", APIDESC_INTERNAL_PUBLIC},
      {"/hoso.identity.v1.Identity/ListUnitChanges", APIDESC_INTERNAL},
      {"/hoso.records.v1.Records/SetManagingUnit", APIDESC_INTERNAL},
      {"/hoso.identity.v1.Identity/WhoAmI", APIDESC_NORMAL},
      {"/hoso.identity.v1.Identity/CreateUnit", APIDESC_NORMAL},
      {"/hoso.records.v1.Records/GetRecord", APIDESC_NORMAL},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const apidesc_method *x = find(m, n, want[i].path);
    assert_non_null(x);
    assert_int_equal(x->access, want[i].access);
  }
  const apidesc_method *up = find(m, n, "/hoso.records.v1.Records/UploadAttachment");
  assert_true(up->client_streaming && !up->server_streaming);
  const apidesc_method *down = find(m, n, "/hoso.records.v1.Records/DownloadAttachment");
  assert_true(!down->client_streaming && down->server_streaming);
  assert_true(APIDESC_NO_TOKEN(APIDESC_INTERNAL_PUBLIC) && !APIDESC_NO_TOKEN(APIDESC_INTERNAL));
  assert_true(APIDESC_IS_INTERNAL(APIDESC_INTERNAL_PUBLIC) && !APIDESC_IS_INTERNAL(APIDESC_PUBLIC));
  apidesc_free(m, n);
}

/* A MethodOptions message with the given bytes (tags and values as protobuf encodes them). */
static Google__Protobuf__MethodOptions *options(const uint8_t *b, size_t n) {
  return google__protobuf__method_options__unpack(NULL, n, b);
}

/* The option read from the bytes: no option is NORMAL, a value out of the enum is refused, the
 * last of two wins; a length-delimited option with a bad length is not found. */
static void test_options_from_bytes(void **state) {
  (void)state;
  /* field 50411, varint: tag (50411 << 3) = 403288 = 0xD8 0xCE 0x18 */
  const uint8_t pub[] = {0xD8, 0xCE, 0x18, 0x01};
  const uint8_t bad[] = {0xD8, 0xCE, 0x18, 0x09};
  const uint8_t two[] = {0xD8, 0xCE, 0x18, 0x01, 0xD8, 0xCE, 0x18, 0x02};
  Google__Protobuf__MethodOptions *o = options(pub, sizeof pub);
  assert_int_equal(apidesc_access(&o->base), APIDESC_PUBLIC);
  google__protobuf__method_options__free_unpacked(o, NULL);
  o = options(bad, sizeof bad);
  assert_int_equal(apidesc_access(&o->base), -1);
  google__protobuf__method_options__free_unpacked(o, NULL);
  o = options(two, sizeof two);
  assert_int_equal(apidesc_access(&o->base), APIDESC_INTERNAL);
  google__protobuf__method_options__free_unpacked(o, NULL);
  assert_int_equal(apidesc_access(NULL), APIDESC_NORMAL);
  /* field 7 length-delimited "abc", then field 8 claiming 5 bytes but giving 2 */
  const uint8_t ld[] = {0x3A, 0x03, 'a', 'b', 'c'};
  o = options(ld, sizeof ld);
  size_t len = 0;
  const uint8_t *v = apidesc_option_bytes(&o->base, 7, &len);
  assert_non_null(v);
  assert_int_equal(len, 3);
  assert_memory_equal(v, "abc", 3);
  assert_null(apidesc_option_bytes(&o->base, 8, &len));
  google__protobuf__method_options__free_unpacked(o, NULL);
}

/* Bytes that are no descriptor set are refused, not read as an empty contract. */
static void test_garbage(void **state) {
  (void)state;
  apidesc_method *m = (void *)1;
  size_t n = 7;
  const unsigned char junk[] = {0xFF, 0xFF, 0xFF, 0xFF};
  assert_int_equal(apidesc_methods(junk, sizeof junk, &m, &n), -1);
  assert_null(m);
  assert_int_equal(n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_access_of_the_contract),
      cmocka_unit_test(test_options_from_bytes),
      cmocka_unit_test(test_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
