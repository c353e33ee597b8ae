/* hoso-gen-records' parts: person.c (one generated dossier), tree.c (the unit tree),
 * main.c (calls, generating and loading). */
#ifndef HOSO_GEN_RECORDS_H
#define HOSO_GEN_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include "cli.h"
#include "identity.pb-c.h"
#include "records.pb-c.h"

#define IDN "/hoso.identity.v1.Identity/"
#define REC "/hoso.records.v1.Records/"
#define TIMEOUT_MS 600000

typedef Hoso__Records__V1__Record Record;

/* person.c: xorshift64*, the same sequence for the same seed on every machine. */
/* xorshift64*: fast, and the same sequence for the same seed on every machine. */
typedef struct {
  uint64_t s;
} rng;
void rng_seed(rng *r, uint64_t seed);
int uni(rng *r, int n);           /* 0..n-1 */
double unit_f(rng *r);            /* [0, 1) */

/* person.c: Bắc Giang's districts (before the 2025 merger); the mountain ones have most
 * minority people. The offices of a district. */
typedef struct {
  const char *name;
  int mountain;
  const char *communes[8];
} district;
extern const district DISTRICTS[];
extern const int N_DISTRICTS;
extern const char *const DISTRICT_AGENCIES[];
extern const int N_DISTRICT_AGENCIES;

/* person.c: one generated record's memory, a bump allocator reset after each record; text
 * printed into it. */
/* One generated record's memory: a bump allocator reset after each record is encoded. */
typedef struct {
  char *buf;
  size_t used, cap;
} arena;
void *A(arena *a, size_t n);
char *S(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* person.c: one dossier of a person of district district_idx, in a. */
typedef struct {
  int year_now;
} gen_ctx;
Record *gen_person(arena *a, rng *r, const gen_ctx *g, int district_idx);

/* main.c: the channels, the administrator who loads, and a call with the admin's token. */
extern cli_chan *id_ch, *rec_ch;
extern const char *admin_user, *admin_password;
int login(void);
grpc_status_code call(cli_chan *ch, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *d, ProtobufCMessage **out, cli_status *st);

/* tree.c: the leaf units records are filed in, made (build_tree) or read from a file. */
typedef struct {
  char id[32];
  int district; /* for places and ethnicities */
} leaf;
extern leaf *leaves;
extern size_t n_leaves;
int build_tree(const char *root_id, unsigned seed, int threads, int communes_per_district);
int load_leaves(const char *path);
void save_leaves(const char *path);

#endif
