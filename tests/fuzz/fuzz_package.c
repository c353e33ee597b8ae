/* libFuzzer: the transfer package reader (transfers/package_stream.c), which reads a package
 * arriving from another deployment as a stream, before its signature is known to be good. The
 * first byte picks the size of the pieces the rest is fed in (1 to 64 bytes, or all at once), so
 * varints, names and the head are cut at every place. Besides the sanitizers, the reader's
 * promises are checked: data handed out lies inside the piece just given, a part's data adds up
 * to the size it announced, names and head fields keep their bounds, events come in order. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "package_stream.h"

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) abort();                                                                             \
  } while (0)

typedef struct {
  int in_head_done, in_part;
  uint64_t size, got;
} order;

/* One event against what came before; 1 when the stream is over (done or an error). */
static int check(const pkgs_event *e, order *o, const uint8_t *piece, size_t piece_len) {
  switch (e->kind) {
  case PKGS_NEED: return 0;
  case PKGS_HEAD:
    CHECK(!o->in_part);
    CHECK(e->manifest_len <= PKGS_MANIFEST_MAX && e->signature_len <= PKGS_SIGNATURE_MAX);
    CHECK(e->manifest_len == 0 || e->manifest);
    CHECK(e->signature_len == 0 || e->signature);
    CHECK(e->key_id && strlen(e->key_id) <= PKGS_KEY_ID_MAX);
    if (e->manifest_len) (void)((volatile const uint8_t *)e->manifest)[e->manifest_len - 1];
    if (e->signature_len) (void)((volatile const uint8_t *)e->signature)[e->signature_len - 1];
    o->in_head_done = 1;
    return 0;
  case PKGS_PART:
    CHECK(!o->in_part);
    CHECK(e->name && strlen(e->name) <= PKGS_NAME_MAX);
    o->in_part = 1;
    o->size = e->size;
    o->got = 0;
    return 0;
  case PKGS_DATA:
    CHECK(o->in_part && e->len > 0);
    CHECK(e->data >= piece && e->data + e->len <= piece + piece_len);
    o->got += e->len;
    CHECK(o->got <= o->size);
    return 0;
  case PKGS_PART_END:
    CHECK(o->in_part && o->got == o->size);
    o->in_part = 0;
    return 0;
  case PKGS_DONE: CHECK(!o->in_part); return 1;
  case PKGS_ERROR: CHECK(e->err && *e->err && strlen(e->err) < PKGS_ERR); return 1;
  }
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t step = data[0] % 65; /* 0: everything at once */
  size_t len = size - 1;
  /* exactly the package's bytes on the heap, so a read past them is seen */
  uint8_t *pkg = malloc(len ? len : 1);
  if (!pkg) return 0;
  memcpy(pkg, data + 1, len);
  pkgs_reader r;
  pkgs_reader_init(&r);
  order o = {0};
  int over = 0;
  for (size_t at = 0; at < len && !over;) {
    size_t n = step ? (len - at < step ? len - at : step) : len - at;
    const uint8_t *piece = pkg + at, *in = piece;
    size_t left = n;
    for (size_t events = 0;; events++) {
      CHECK(events <= 4 * n + 16); /* every event but a part's boundaries consumes a byte */
      pkgs_event e = pkgs_next(&r, &in, &left);
      CHECK(left <= n && in == piece + (n - left));
      if ((over = check(&e, &o, piece, n)) != 0 || e.kind == PKGS_NEED) break;
    }
    if (!over) CHECK(left == 0);
    at += n;
  }
  for (int k = 0; !over && k < 4; k++) {
    pkgs_event e = pkgs_end(&r);
    CHECK(e.kind != PKGS_NEED && e.kind != PKGS_DATA);
    over = check(&e, &o, NULL, 0);
  }
  CHECK(over);
  pkgs_reader_free(&r);
  free(pkg);
  return 0;
}
