/* audit_row_hash (common/audit.c): the pure function both the writer and the verifier use.
 * The pinned answers were computed independently (Python hashlib) from the documented layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "audit.h"

static const char *AT = "2026-01-02T03:04:05.123456Z";

static uint8_t PREV[32];

static audit_entry sample(void) {
  return (audit_entry){
      .actor_id = "17",
      .actor_name = "Nguyễn Văn An",
      .action = "LOGIN",
      .target_type = "account",
      .target_id = "17",
      .unit_path = "1.4.17",
      .outcome = "ok",
      .client_addr = "203.0.113.9",
      .request_id = "req-abc",
      .detail_json = "{\"k\":1}",
  };
}

static void hex(const uint8_t h[32], char out[65]) {
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int setup(void **state) {
  (void)state;
  for (int i = 0; i < 32; i++) PREV[i] = (uint8_t)i;
  return 0;
}

/* prev || be64(seq) || (be32(len) || bytes) for at, actor_id, actor_name, action,
 * target_type, target_id, unit_path, outcome, client_addr, request_id, detail. Pinned so
 * that any change to the layout (which would orphan every stored chain) fails here. */
static void test_known_answer(void **state) {
  (void)state;
  audit_entry e = sample();
  uint8_t h[32];
  char s[65];
  audit_row_hash(PREV, 42, AT, &e, h);
  hex(h, s);
  assert_string_equal(s, "717cf3fb6491c3521a12a893cf784dbd3f1dc5571e8add084d5bd5ee1e518f2e");

  /* the first row of a chain: zero prev, every field NULL (stored as "" and detail "{}") */
  uint8_t zero[32] = {0};
  audit_entry empty = {0};
  audit_row_hash(zero, 1, "2026-01-01T00:00:00.000000Z", &empty, h);
  hex(h, s);
  assert_string_equal(s, "617e4f769b2e15df37b9ee3c6cd5325f5119ff2d742c46a1489d48d1787cb080");
}

static void test_deterministic(void **state) {
  (void)state;
  audit_entry e = sample();
  uint8_t a[32], b[32];
  audit_row_hash(PREV, 7, AT, &e, a);
  audit_row_hash(PREV, 7, AT, &e, b);
  assert_memory_equal(a, b, 32);
}

/* Every hashed input matters: altering any one must change the hash, or a tampered row
 * would verify. */
static void test_every_field_counts(void **state) {
  (void)state;
  audit_entry base = sample();
  uint8_t ref[32], h[32];
  audit_row_hash(PREV, 7, AT, &base, ref);

  const char **fields[] = {&base.actor_id,    &base.actor_name, &base.action,
                           &base.target_type, &base.target_id,  &base.unit_path,
                           &base.outcome,     &base.client_addr, &base.request_id,
                           &base.detail_json};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const char *saved = *fields[i];
    *fields[i] = "tampered";
    audit_row_hash(PREV, 7, AT, &base, h);
    assert_memory_not_equal(h, ref, 32);
    *fields[i] = saved;
  }
  audit_row_hash(PREV, 7, AT, &base, h);
  assert_memory_equal(h, ref, 32);

  audit_row_hash(PREV, 8, AT, &base, h);
  assert_memory_not_equal(h, ref, 32);
  audit_row_hash(PREV, 7, "2026-01-02T03:04:05.123457Z", &base, h);
  assert_memory_not_equal(h, ref, 32);
  uint8_t prev2[32];
  memcpy(prev2, PREV, 32);
  prev2[31] ^= 1;
  audit_row_hash(prev2, 7, AT, &base, h);
  assert_memory_not_equal(h, ref, 32);
  /* a seq differing only in its high bytes still counts (all 8 bytes are hashed) */
  audit_row_hash(PREV, 7 + (1LL << 40), AT, &base, h);
  assert_memory_not_equal(h, ref, 32);
}

/* Without length prefixes "ab"+"c" and "a"+"bc" would hash the same bytes: moving text
 * from one field to its neighbour must be detected. */
static void test_no_ambiguity(void **state) {
  (void)state;
  audit_entry x = sample(), y = sample();
  x.actor_id = "ab";
  x.actor_name = "c";
  y.actor_id = "a";
  y.actor_name = "bc";
  uint8_t hx[32], hy[32];
  audit_row_hash(PREV, 1, AT, &x, hx);
  audit_row_hash(PREV, 1, AT, &y, hy);
  assert_memory_not_equal(hx, hy, 32);

  /* the same across the at / first field boundary */
  x = sample();
  y = sample();
  x.actor_id = "Z17";
  audit_row_hash(PREV, 1, "2026-01-02T03:04:05.123456", &x, hx);
  audit_row_hash(PREV, 1, AT, &y, hy);
  assert_memory_not_equal(hx, hy, 32);
}

/* NULL is stored as "" (detail as "{}"), so it must hash exactly like what is stored, or
 * every row written with a NULL field would fail verification. */
static void test_null_is_stored_form(void **state) {
  (void)state;
  audit_entry n = sample(), s = sample();
  n.target_id = NULL;
  s.target_id = "";
  n.detail_json = NULL;
  s.detail_json = "{}";
  uint8_t hn[32], hs[32];
  audit_row_hash(PREV, 3, AT, &n, hn);
  audit_row_hash(PREV, 3, AT, &s, hs);
  assert_memory_equal(hn, hs, 32);
  /* but "" and "{}" are different details */
  s.detail_json = "";
  audit_row_hash(PREV, 3, AT, &s, hs);
  assert_memory_not_equal(hn, hs, 32);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answer),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_every_field_counts),
      cmocka_unit_test(test_no_ambiguity),
      cmocka_unit_test(test_null_is_stored_form),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
