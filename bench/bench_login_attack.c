/* Logins with bad actors: real people log in from their usual addresses while attackers send
 * 10 000 wrong-password logins from many addresses, at names that do not exist and at the real
 * accounts. Prints the people's latency unloaded and under attack, and what the attackers got.
 * Against a running identity (./hoso bench); the client addresses travel as x-forwarded-for,
 * so the bench calls as the gateway does: with the gateway's client certificate
 * (HOSO_BENCH_FORWARDER_CERT/KEY, set by ./hoso bench) over TLS, or from a trusted proxy
 * address in plaintext. Also run small by ./hoso test (tests/ops/login_attack.sh: --guesses 1000
 * and a generous --max-ratio, the machine being shared). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"

#define IDN "/hoso.identity.v1.Identity/"
#define PEOPLE 5
#define PERSON_PW "Mat-khau-nguoi-that-2026"

static cli_chan *ch;
static char people[PEOPLE][64], homes[PEOPLE][32];
/* Each run its own people, unknown names and addresses: counters of an earlier run (kept a
 * day) would refuse the guesses before they are tried. */
static long stamp;
static int addr_base;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static grpc_status_code call(const char *addr, const char *method, const ProtobufCMessage *req,
                             const ProtobufCMessageDescriptor *d, ProtobufCMessage **out, const char *token,
                             cli_status *st) {
  cli_md md[2];
  size_t n = 0;
  char bearer[4096];
  if (token) {
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    md[n++] = (cli_md){"authorization", bearer};
  }
  md[n++] = (cli_md){"x-forwarded-for", addr};
  ProtobufCMessage *o = NULL;
  grpc_status_code c = cli_call(ch, method, req, d, &o, md, n, 30000, st);
  if (out) *out = o;
  else if (o) protobuf_c_message_free_unpacked(o, NULL);
  return c;
}

static grpc_status_code login(const char *addr, const char *user, const char *pw, char **token, cli_status *st) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)user;
  req.password = (char *)pw;
  ProtobufCMessage *o = NULL;
  grpc_status_code c = call(addr, IDN "Login", &req.base, &hoso__identity__v1__login_response__descriptor, &o, NULL, st);
  if (token) *token = o ? strdup(((Hoso__Identity__V1__LoginResponse *)o)->access_token) : NULL;
  if (o) protobuf_c_message_free_unpacked(o, NULL);
  return c;
}

/* The people: READER accounts at the admin's unit, first login and password change made from
 * their usual address. Names carry the bench's start time: each run has its own. */
static int make_people(const char *admin_pw) {
  cli_status st;
  char *admin = NULL;
  if (login("10.20.0.1", "admin", admin_pw, &admin, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "admin login: %s %s\n", cli_status_name(st.code), st.message);
    return -1;
  }
  Hoso__Identity__V1__WhoAmIRequest w = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  ProtobufCMessage *o = NULL;
  if (call("10.20.0.1", IDN "WhoAmI", &w.base, &hoso__identity__v1__who_am_iresponse__descriptor, &o, admin, &st) !=
      GRPC_STATUS_OK)
    return -1;
  char unit[32];
  snprintf(unit, sizeof unit, "%s", ((Hoso__Identity__V1__WhoAmIResponse *)o)->account->unit_id);
  protobuf_c_message_free_unpacked(o, NULL);
  for (int i = 0; i < PEOPLE; i++) {
    snprintf(people[i], sizeof people[i], "bench.that.%ld.%d", stamp, i);
    snprintf(homes[i], sizeof homes[i], "10.20.1.%d", i + 1);
    Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
    Hoso__Common__V1__Role roles[1] = {HOSO__COMMON__V1__ROLE__READER};
    req.username = people[i];
    req.full_name = "Người dùng thật (bench)";
    req.unit_id = unit;
    req.roles = roles;
    req.n_roles = 1;
    req.initial_password = "Mat-khau-tam-thoi-1";
    if (call("10.20.0.1", IDN "CreateAccount", &req.base, &hoso__identity__v1__create_account_response__descriptor,
             NULL, admin, &st) != GRPC_STATUS_OK) {
      fprintf(stderr, "CreateAccount: %s %s\n", cli_status_name(st.code), st.message);
      return -1;
    }
    char *tok = NULL;
    if (login(homes[i], people[i], "Mat-khau-tam-thoi-1", &tok, &st) != GRPC_STATUS_OK) return -1;
    Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
    cp.old_password = "Mat-khau-tam-thoi-1";
    cp.new_password = PERSON_PW;
    grpc_status_code c =
        call(homes[i], IDN "ChangePassword", &cp.base, &hoso__identity__v1__change_password_response__descriptor, NULL,
             tok, &st);
    free(tok);
    if (c != GRPC_STATUS_OK) return -1;
  }
  free(admin);
  return 0;
}

/* ---- the people: one login after another, each from its owner's usual address ------------- */

typedef struct {
  atomic_int *stop;
  int max;          /* logins to make (0: until *stop) */
  double *lat;
  int n, cap, failed;
} people_run;

static void *people_main(void *p) {
  people_run *r = p;
  cli_status st;
  for (int k = 0; (r->max == 0 || k < r->max) && !(r->stop && atomic_load(r->stop)); k++) {
    int i = k % PEOPLE;
    double t0 = now_s();
    grpc_status_code c = login(homes[i], people[i], PERSON_PW, NULL, &st);
    double ms = (now_s() - t0) * 1000;
    if (c != GRPC_STATUS_OK) {
      if (r->failed++ < 3) fprintf(stderr, "a real login failed: %s %s\n", cli_status_name(c), st.message);
    } else {
      if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->lat = realloc(r->lat, (size_t)r->cap * sizeof *r->lat);
      }
      r->lat[r->n++] = ms;
    }
    usleep(100 * 1000); /* a person, not a loop: about ten logins a second among them */
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(people_run *r, int p) {
  if (!r->n) return 0;
  qsort(r->lat, (size_t)r->n, sizeof *r->lat, cmp);
  int k = r->n * p / 100;
  return r->lat[k < r->n ? k : r->n - 1];
}

/* ---- the attackers ------------------------------------------------------------------------- */

static atomic_int next_guess;
static atomic_int checked, refused_wait, refused_busy, other;
static int total_guesses;

static void *attacker_main(void *p) {
  (void)p;
  cli_status st;
  for (int g; (g = atomic_fetch_add(&next_guess, 1)) < total_guesses;) {
    /* 1 000 addresses, ten guesses each, each at another name: half at 500 names that do not
     * exist, half at the real accounts */
    char addr[32], name[64];
    int a = g % 1000, round = g / 1000;
    snprintf(addr, sizeof addr, "198.18.%d.%d", addr_base + a / 250, a % 250 + 1);
    if (g % 2) snprintf(name, sizeof name, "khong.co.%ld.%d", stamp, (a * 7 + round) % 500);
    else snprintf(name, sizeof name, "%s", people[(a + round) % PEOPLE]);
    grpc_status_code c = login(addr, name, "doan-mo-mat-khau", NULL, &st);
    if (c == GRPC_STATUS_UNAUTHENTICATED) atomic_fetch_add(&checked, 1);
    else if (c == GRPC_STATUS_RESOURCE_EXHAUSTED && strstr(st.message, "try again in "))
      atomic_fetch_add(strstr(st.message, "few seconds") ? &refused_busy : &refused_wait, 1);
    else if (atomic_fetch_add(&other, 1) < 3)
      fprintf(stderr, "attacker got %s %s\n", cli_status_name(c), st.message);
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *addr = cfg_service_addr("identity");
  const char *admin_pw = getenv("HOSO_ADMIN_PASSWORD");
  int attackers = 16;
  double max_ratio = 2;
  total_guesses = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--addr")) addr = argv[i + 1];
    else if (!strcmp(argv[i], "--attackers")) attackers = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--guesses")) total_guesses = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--max-ratio")) max_ratio = atof(argv[i + 1]);
  }
  stamp = (long)time(NULL);
  addr_base = (int)(stamp % 63) * 4;
  if (!admin_pw || attackers < 1 || attackers > 256 || total_guesses < 1 || !(max_ratio >= 1)) {
    fprintf(stderr, "usage: bench_login_attack [--addr A] [--attackers N] [--guesses G] [--max-ratio R]"
                    " (HOSO_ADMIN_PASSWORD set)\n");
    return 2;
  }
  /* The forwarder's certificate, when given, is what lets the bench name client addresses. */
  const char *fcert = getenv("HOSO_BENCH_FORWARDER_CERT"), *fkey = getenv("HOSO_BENCH_FORWARDER_KEY");
  const char *ca = getenv("HOSO_TLS_CA");
  ch = ca && fcert && fkey ? cli_open_tls(addr, ca, fcert, fkey) : cli_open(addr);
  if (!ch || make_people(admin_pw) != 0) return 1;

  people_run calm = {.max = 30};
  people_main(&calm);

  atomic_int stop = 0;
  people_run busy = {.stop = &stop};
  pthread_t pt, *at = calloc((size_t)attackers, sizeof *at);
  double t0 = now_s();
  pthread_create(&pt, NULL, people_main, &busy);
  for (int i = 0; i < attackers; i++) pthread_create(&at[i], NULL, attacker_main, NULL);
  for (int i = 0; i < attackers; i++) pthread_join(at[i], NULL);
  double took = now_s() - t0;
  atomic_store(&stop, 1);
  pthread_join(pt, NULL);

  double c50 = pct(&calm, 50), c95 = pct(&calm, 95), b50 = pct(&busy, 50), b95 = pct(&busy, 95);
  printf("logins under attack: %s, %d people at their usual addresses, %d attacker threads\n", addr, PEOPLE,
         attackers);
  printf("  attack            %d wrong-password logins from 1000 addresses in %.1f s (%.0f/s)\n", total_guesses,
         took, total_guesses / took);
  printf("  attackers got     %d password checks, %d told to wait, %d turned away at the gate, %d other\n",
         atomic_load(&checked), atomic_load(&refused_wait), atomic_load(&refused_busy), atomic_load(&other));
  printf("  people unloaded   %d logins, %d failed; p50 %.1f ms  p95 %.1f ms\n", calm.n, calm.failed, c50, c95);
  printf("  people attacked   %d logins, %d failed; p50 %.1f ms  p95 %.1f ms  (p50 x%.2f)\n", busy.n, busy.failed,
         b50, b95, c50 > 0 ? b50 / c50 : 0);
  /* the attack must also have been an attack: most guesses answered, none let in */
  int ok = busy.failed == 0 && calm.failed == 0 && busy.n > 0 && b50 <= max_ratio * c50 && atomic_load(&other) == 0;
  printf("  verdict           %s (p50 bound x%.1f)\n",
         ok ? "every real login succeeded, p50 within the bound of unloaded"
            : "NOT MET: a real login failed, p50 past the bound, or a guess got an unexpected answer",
         max_ratio);
  free(calm.lat);
  free(busy.lat);
  free(at);
  cli_close(ch);
  return ok ? 0 : 1;
}
