/* Test certificates made with the openssl command (P-256 keys, valid two days). */
#include "th_tls.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void th_tls_path(char *out, size_t len, const char *dir, const char *name, const char *ext) {
  snprintf(out, len, "%s/%s.%s", dir, name, ext);
}

static int run(const char *cmd) {
  int rc = system(cmd);
  if (rc != 0) fprintf(stderr, "th_tls: failed (%d): %s\n", rc, cmd);
  return rc == 0 ? 0 : -1;
}

/* A leaf <name>.pem/.key signed by the CA in dir, with the given extensions. */
static int leaf(const char *dir, const char *name, const char *ext) {
  for (const char *p = name; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p)) {
      fprintf(stderr, "th_tls: %s is not a name for a file and a certificate\n", name);
      return -1;
    }
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && printf '%s' > '%s.ext' && "
           "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=%s' "
           " -keyout '%s.key' -out '%s.csr' 2>/dev/null && "
           "openssl x509 -req -in '%s.csr' -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
           " -extfile '%s.ext' -out '%s.pem' 2>/dev/null && chmod 600 '%s.key'",
           dir, ext, name, name, name, name, name, name, name, name);
  return run(cmd);
}

int th_tls_make(const char *dir, const char *const *names, size_t n) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "th_tls: cannot make %s: %s\n", dir, strerror(errno));
    return -1;
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
           "-subj /CN=hoso-test-ca -keyout ca.key -out ca.pem 2>/dev/null",
           dir);
  if (run(cmd) != 0 ||
      leaf(dir, "server", "subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n") != 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (leaf(dir, names[i], "extendedKeyUsage=clientAuth\\n") != 0) return -1;
  return 0;
}
