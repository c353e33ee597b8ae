/* Token-signing keys sealed outside the database (identity/key_seal.h): a dump of the whole
 * database holds no private key and nothing in it signs a token the services accept; identity
 * refuses to start without its key encryption key, with one others may read, or with the wrong
 * one; keys an older identity (or the development mode) kept in the clear are sealed at the
 * next start and replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "key_seal.h"
#include "th.h"
#include "tok.h"

static th_pg pg;
static th_svc svc;
static char kek_env[400];

static char *sql_text(const th_pg *p, const char *sql) {
  PGconn *c = PQconnectdb(p->admin_dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
  char *v = strdup(PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(c);
  return v;
}

static int start_identity(th_svc *s, const th_pg *p, const char *extra) {
  const char *env[] = {extra, NULL};
  return th_svc_start(s, "hoso-identity", "HOSO_IDENTITY_ADDR", p, extra ? env : NULL);
}

/* A token from admin's login works on WhoAmI: identity signs and verifies. */
static void login_works(const th_svc *s) {
  cli_chan *ch = cli_open_tls(s->addr, NULL, NULL, NULL);
  char *tok = th_login(ch, "admin", TH_ADMIN_PASSWORD);
  assert_non_null(tok);
  free(tok);
  cli_close(ch);
}

static int setup(void **state) {
  (void)state;
  if (th_pg_start(&pg) != 0) return -1;
  snprintf(kek_env, sizeof kek_env, "HOSO_KEY_ENCRYPTION_KEY=%s", pg.kek);
  return start_identity(&svc, &pg, NULL);
}

static int teardown(void **state) {
  (void)state;
  int rc = svc.pid > 0 ? th_svc_stop(&svc) : 0;
  th_pg_destroy(&pg);
  return rc == 0 ? 0 : -1;
}

static void read_kek(const char *path, unsigned char key[32]) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char hex[80] = "";
  assert_non_null(fgets(hex, sizeof hex, f));
  fclose(f);
  for (int i = 0; i < 32; i++) {
    unsigned v;
    assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
    key[i] = (unsigned char)v;
  }
}

/* What a thief with a dump has: every row of every table. No private key is in it, and nothing
 * in it signs a token identity would accept. The right key encryption key opens the sealed key,
 * so the refusals below are not vacuous. */
static void test_dump_cannot_sign(void **state) {
  (void)state;
  login_works(&svc);
  char pg_dump[300], cmd[1200];
  th_pg_prog(pg_dump, sizeof pg_dump, "pg_dump");
  snprintf(cmd, sizeof cmd, "'%s' '%s'", pg_dump, pg.admin_dsn);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 1 << 20, len = 0, n;
  char *dump = malloc(cap);
  while ((n = fread(dump + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 4096) dump = realloc(dump, cap *= 2);
  }
  dump[len] = 0;
  assert_int_equal(pclose(p), 0);
  assert_true(len > 10000);
  assert_non_null(strstr(dump, "sealed:v1:"));
  assert_null(strstr(dump, "PRIVATE KEY"));
  free(dump);

  char *kid = sql_text(&pg, "SELECT kid FROM identity.signing_keys WHERE retired_at IS NULL");
  char *sealed = sql_text(&pg, "SELECT private_sealed FROM identity.signing_keys WHERE retired_at IS NULL");
  char *clear = sql_text(&pg, "SELECT private_pem FROM identity.signing_keys WHERE retired_at IS NULL");
  assert_string_equal(clear, "");
  tok_claims c;
  memset(&c, 0, sizeof c);
  snprintf(c.sub, sizeof c.sub, "1");
  snprintf(c.scope, sizeof c.scope, "*");
  snprintf(c.typ, sizeof c.typ, "%s", TOK_TYP_ACCESS);
  c.roles = ROLE_SYSTEM_ADMIN;
  char *jwt = NULL;
  tok_signer s;
  snprintf(s.kid, sizeof s.kid, "%s", kid);
  s.private_pem = sealed; /* the sealed text as a key: not one */
  assert_int_not_equal(tok_sign(&s, &c, (long long)time(NULL), 300, &jwt), 0);
  unsigned char guess[32] = {0};
  assert_null(seal_open_with(guess, kid, sealed)); /* another key does not open it */
  unsigned char key[32];
  read_kek(pg.kek, key);
  assert_null(seal_open_with(key, "another-kid", sealed)); /* nor does it open as another row */
  char *pem = seal_open_with(key, kid, sealed);
  assert_non_null(pem);
  assert_non_null(strstr(pem, "PRIVATE KEY"));
  s.private_pem = pem;
  assert_int_equal(tok_sign(&s, &c, (long long)time(NULL), 300, &jwt), 0);
  free(jwt);
  seal_wipe_free(pem);
  free(kid);
  free(sealed);
  free(clear);
}

/* Identity does not start without its key encryption key, with one others can read, or with
 * one that does not open the keys it has; each time the log says what to do. */
static void test_refuses_without_the_right_key(void **state) {
  (void)state;
  assert_int_equal(th_svc_stop(&svc), 0);
  th_svc s;
  assert_int_not_equal(start_identity(&s, &pg, "HOSO_KEY_ENCRYPTION_KEY="), 0);
  assert_true(th_log_count(s.log, "HOSO_KEY_ENCRYPTION_KEY is not set", NULL) >= 1);

  char loose[400], wrong[400], env[450];
  snprintf(loose, sizeof loose, "%s.loose", pg.kek);
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 644 '%s'", pg.kek, loose, loose);
  assert_int_equal(system(cmd), 0);
  snprintf(env, sizeof env, "HOSO_KEY_ENCRYPTION_KEY=%s", loose);
  assert_int_not_equal(start_identity(&s, &pg, env), 0);
  assert_true(th_log_count(s.log, "readable by its owner only", NULL) >= 1);

  snprintf(wrong, sizeof wrong, "%s.wrong", pg.kek);
  snprintf(cmd, sizeof cmd, "(umask 077 && openssl rand -hex 32 > '%s')", wrong);
  assert_int_equal(system(cmd), 0);
  snprintf(env, sizeof env, "HOSO_KEY_ENCRYPTION_KEY=%s", wrong);
  assert_int_not_equal(start_identity(&s, &pg, env), 0);
  assert_true(th_log_count(s.log, "does not open", NULL) >= 1);

  assert_int_equal(start_identity(&svc, &pg, kek_env), 0);
  login_works(&svc);
}

/* The development mode keeps keys in the clear, and says so; the first start with a key
 * encryption key seals them and has a new key sign (the clear one may live on in backups). */
static void test_development_mode_then_sealed(void **state) {
  (void)state;
  th_pg dev;
  assert_int_equal(th_pg_start(&dev), 0);
  th_svc s;
  const char *env[] = {"HOSO_KEY_ENCRYPTION_KEY=", "HOSO_INSECURE_DEV=1", NULL};
  assert_int_equal(th_svc_start(&s, "hoso-identity", "HOSO_IDENTITY_ADDR", &dev, env), 0);
  login_works(&s);
  assert_int_equal(th_svc_stop(&s), 0);
  assert_true(th_log_count(s.log, "stored in the clear", NULL) >= 1);
  char *n = sql_text(&dev, "SELECT count(*) FROM identity.signing_keys WHERE private_pem IS NOT NULL");
  assert_string_equal(n, "1");
  free(n);

  assert_int_equal(th_svc_start(&s, "hoso-identity", "HOSO_IDENTITY_ADDR", &dev, NULL), 0);
  login_works(&s);
  assert_int_equal(th_svc_stop(&s), 0);
  n = sql_text(&dev, "SELECT count(*) FROM identity.signing_keys WHERE private_pem IS NOT NULL");
  assert_string_equal(n, "0");
  free(n);
  n = sql_text(&dev, "SELECT count(*) FROM identity.signing_keys WHERE private_sealed IS NOT NULL");
  assert_string_equal(n, "2");
  free(n);
  n = sql_text(&dev, "SELECT count(*) FROM identity.audit_log WHERE action = 'KEY_ROTATE' AND detail LIKE '%in the clear%'");
  assert_string_equal(n, "1");
  free(n);
  th_pg_destroy(&dev);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dump_cannot_sign),
      cmocka_unit_test(test_refuses_without_the_right_key),
      cmocka_unit_test(test_development_mode_then_sealed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
