/* A package's framing as a stream (transfers/package_stream.c): what the writer makes is a
 * TransferPackage protobuf-c reads, and what protobuf-c packs (packages made before streaming,
 * parts with empty content) the reader reads; fed in pieces of any size the reader gives the
 * same head, parts and bytes; cut anywhere inside a part it names that part as truncated; cut
 * at a part's end it ends cleanly (the announced size and the manifest catch that); malformed
 * framing is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "package_stream.h"
#include "transfers.pb-c.h"

#define N_PARTS 4

static const char *names[N_PARTS] = {"record.pb", "attachments.pb", "attachments/9001/quyết-định.pdf", "documents/1/x.pdf"};
static size_t sizes[N_PARTS] = {300, 0, 70000, 5};
static uint8_t *contents[N_PARTS];
static const char manifest[] = "{\"format\":\"hoso-transfer-package/1\",\"parts\":[]}";
static const uint8_t signature[] = {0x30, 0x45, 0x02, 0x21, 0x00, 0xff};
static const char key_id[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static uint8_t *pkg;
static size_t pkg_len;
static size_t ends[N_PARTS]; /* offset just after each part */

/* The package as the export writes it: head, then each part's prefix and content. */
static int setup(void **state) {
  (void)state;
  for (int i = 0; i < N_PARTS; i++) {
    contents[i] = malloc(sizes[i] + 1);
    for (size_t j = 0; j < sizes[i]; j++) contents[i][j] = (uint8_t)(j * 31 + i);
  }
  pkg = malloc(pkgs_head_size(strlen(manifest), sizeof signature, key_id) + 100000);
  pkg_len = pkgs_head(pkg, (const uint8_t *)manifest, strlen(manifest), signature, sizeof signature, key_id);
  for (int i = 0; i < N_PARTS; i++) {
    pkg_len += pkgs_part_prefix(pkg + pkg_len, names[i], sizes[i]);
    memcpy(pkg + pkg_len, contents[i], sizes[i]);
    pkg_len += sizes[i];
    ends[i] = pkg_len;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < N_PARTS; i++) free(contents[i]);
  free(pkg);
  return 0;
}

typedef struct {
  int heads, parts, ends, done;
  char names[N_PARTS][PKGS_NAME_MAX + 1];
  uint8_t *data[N_PARTS];
  size_t len[N_PARTS];
  char err[PKGS_ERR];
} seen_t;

static void seen_free(seen_t *s) {
  for (int i = 0; i < N_PARTS; i++) free(s->data[i]);
}

/* One event into what was seen; 0 to go on, 1 at the end, -1 on an error. */
static int take(seen_t *s, const pkgs_event *e) {
  switch (e->kind) {
  case PKGS_HEAD:
    s->heads++;
    /* a cut between the head's fields ends a head without the later ones */
    if (e->manifest_len) assert_memory_equal(e->manifest, manifest, strlen(manifest));
    if (e->signature_len) assert_memory_equal(e->signature, signature, sizeof signature);
    if (*e->key_id) assert_string_equal(e->key_id, key_id);
    return 0;
  case PKGS_PART:
    assert_true(s->parts < N_PARTS);
    assert_int_equal(s->ends, s->parts);
    snprintf(s->names[s->parts], sizeof s->names[0], "%s", e->name);
    s->data[s->parts] = malloc(e->size + 1);
    s->len[s->parts] = 0;
    s->parts++;
    return 0;
  case PKGS_DATA: {
    int i = s->parts - 1;
    memcpy(s->data[i] + s->len[i], e->data, e->len);
    s->len[i] += e->len;
    return 0;
  }
  case PKGS_PART_END: s->ends++; return 0;
  case PKGS_DONE: s->done = 1; return 1;
  case PKGS_ERROR: snprintf(s->err, sizeof s->err, "%s", e->err); return -1;
  default: return 0;
  }
}

/* Reads bytes[0..len) fed `step` bytes at a time, then the end. */
static int read_all(const uint8_t *bytes, size_t len, size_t step, seen_t *s) {
  pkgs_reader r;
  pkgs_reader_init(&r);
  memset(s, 0, sizeof *s);
  int rc = 0;
  for (size_t off = 0; rc == 0 && off < len; off += step) {
    const uint8_t *p = bytes + off;
    size_t n = len - off < step ? len - off : step;
    for (;;) {
      pkgs_event e = pkgs_next(&r, &p, &n);
      if (e.kind == PKGS_NEED) break;
      if ((rc = take(s, &e)) != 0) break;
    }
    if (rc == 0) assert_int_equal(n, 0);
  }
  while (rc == 0) {
    pkgs_event e = pkgs_end(&r);
    rc = take(s, &e);
  }
  pkgs_reader_free(&r);
  return rc < 0 ? -1 : 0;
}

static void expect_whole(const seen_t *s) {
  assert_int_equal(s->heads, 1);
  assert_int_equal(s->parts, N_PARTS);
  assert_int_equal(s->ends, N_PARTS);
  for (int i = 0; i < N_PARTS; i++) {
    assert_string_equal(s->names[i], names[i]);
    assert_int_equal(s->len[i], sizes[i]);
    if (sizes[i]) assert_memory_equal(s->data[i], contents[i], sizes[i]);
  }
}

/* Fed one byte at a time, a few at a time, in large pieces or whole: the same package. */
static void test_any_feed_size(void **state) {
  (void)state;
  const size_t steps[] = {1, 2, 3, 7, 64, 4096, 65536, 1u << 20};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    seen_t s;
    assert_int_equal(read_all(pkg, pkg_len, steps[i], &s), 0);
    expect_whole(&s);
    seen_free(&s);
  }
}

/* The written package is a TransferPackage for protobuf-c; what protobuf-c packs (the empty
 * content left out, as packages made before streaming have it) reads the same. */
static void test_protobuf_both_ways(void **state) {
  (void)state;
  Hoso__Transfers__V1__TransferPackage *p =
      hoso__transfers__v1__transfer_package__unpack(NULL, pkg_len, pkg);
  assert_non_null(p);
  assert_int_equal(p->n_parts, N_PARTS);
  assert_string_equal(p->key_id, key_id);
  for (int i = 0; i < N_PARTS; i++) {
    assert_string_equal(p->parts[i]->name, names[i]);
    assert_int_equal(p->parts[i]->content.len, sizes[i]);
  }
  size_t n = hoso__transfers__v1__transfer_package__get_packed_size(p);
  uint8_t *again = malloc(n);
  hoso__transfers__v1__transfer_package__pack(p, again);
  assert_true(n < pkg_len); /* the empty part's content field is left out */
  seen_t s;
  assert_int_equal(read_all(again, n, 5, &s), 0);
  expect_whole(&s);
  seen_free(&s);
  free(again);
  hoso__transfers__v1__transfer_package__free_unpacked(p, NULL);
}

/* Cut inside a part: that part is named as truncated. Cut at a part's end: a clean end. */
static void test_cut_anywhere(void **state) {
  (void)state;
  size_t head_end = pkgs_head_size(strlen(manifest), sizeof signature, key_id);
  for (size_t cut = 1; cut < pkg_len; cut += cut < 2000 ? 1 : 97) {
    seen_t s;
    int rc = read_all(pkg, cut, 4096, &s);
    /* the head's fields end at 2 + manifest, then 2 + signature (one-byte lengths here) */
    int boundary = cut == head_end || cut == 2 + strlen(manifest) || cut == 4 + strlen(manifest) + sizeof signature;
    int in_part = -1;
    for (int i = 0; i < N_PARTS; i++) {
      boundary |= cut == ends[i];
      if (in_part < 0 && cut < ends[i] && cut > (i ? ends[i - 1] : head_end)) in_part = i;
    }
    if (boundary) {
      if (rc != 0) fail_msg("cut at %zu (a part's end): %s", cut, s.err);
    } else {
      if (rc == 0) fail_msg("cut at %zu read as a whole package", cut);
      assert_non_null(strstr(s.err, "truncated"));
      if (in_part >= 0 && s.parts == in_part + 1) {
        char want[600];
        snprintf(want, sizeof want, "package.parts[%s]: truncated", names[in_part]);
        if (strncmp(s.err, want, strlen(want)) != 0) fail_msg("cut at %zu: %s", cut, s.err);
      }
    }
    seen_free(&s);
  }
}

static void expect_error(const uint8_t *bytes, size_t len, const char *start) {
  seen_t s;
  assert_int_equal(read_all(bytes, len, 3, &s), -1);
  if (strncmp(s.err, start, strlen(start)) != 0) fail_msg("'%s' does not start with '%s'", s.err, start);
  seen_free(&s);
}

/* Not a package; a part whose content comes before its name; a head field after the parts; a
 * part whose framing runs past its length. */
static void test_malformed(void **state) {
  (void)state;
  expect_error((const uint8_t *)"%PDF-1.4 not a package", 22, "package: not a transfer package");
  /* part { content = "ab"; name = "x" } */
  const uint8_t content_first[] = {0x22, 0x07, 0x12, 0x02, 'a', 'b', 0x0a, 0x01, 'x'};
  expect_error(content_first, sizeof content_first, "package.parts[?]: the part's name must come before");
  uint8_t late[PKGS_PREFIX_MAX + 8];
  size_t n = pkgs_part_prefix(late, "x", 1);
  late[n++] = 'z';
  late[n++] = 0x1a; /* key_id after a part */
  late[n++] = 0x01;
  late[n++] = 'k';
  expect_error(late, n, "package: not a transfer package");
  /* part of length 3 whose name claims 5 bytes */
  const uint8_t overrun[] = {0x22, 0x03, 0x0a, 0x05, 'a', 'b', 'c', 'd', 'e'};
  expect_error(overrun, sizeof overrun, "package.parts[?]: its framing does not add up");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_any_feed_size),
      cmocka_unit_test(test_protobuf_both_ways),
      cmocka_unit_test(test_cut_anywhere),
      cmocka_unit_test(test_malformed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
