/* libFuzzer: JWT parsing and verification (common/tok.c) as every service runs it on the bearer
 * token of each call, against a keyring holding one fixed test key (kid "fuzz"): the header is
 * checked before any key is touched, then the signature, then the claims. The seed corpus holds
 * tokens signed with that key, so the fuzzer starts from ones that pass. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tok.h"

/* A test key for this target only: its tokens mean nothing anywhere else. */
static const char PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                          "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEpZgZjHGGADLEXGB4vf7JpEjy6EaS\n"
                          "MmFLz3jTfmgya+HotXpIBujRggaKbdFByc2+geLZqyGrJqSqW9xZAVo+nQ==\n"
                          "-----END PUBLIC KEY-----\n";

static tok_keyring *kr;

static int no_refresh(tok_keyring *k, void *arg) {
  (void)k;
  (void)arg;
  return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  kr = tok_keyring_new(no_refresh, NULL);
  if (!kr || tok_keyring_add(kr, "fuzz", PUB) != 0) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 16384) return 0;
  char *jwt = strndup((const char *)data, size);
  if (!jwt) return 0;
  tok_claims c;
  char why[128];
  /* a fixed time inside the seeds' validity, so they verify whenever the fuzzer runs */
  (void)tok_verify(kr, jwt, 1893456000LL, &c, why, sizeof why);
  free(jwt);
  return 0;
}
