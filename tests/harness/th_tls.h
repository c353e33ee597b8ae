/* Test certificates: a private CA, a server certificate for 127.0.0.1/localhost, and client
 * certificates whose common name is a given name (a service client's id, "hoso-gateway"), as
 * production's are (docs/SECURITY.md: HOSO_SERVICE_MTLS). Generated for a test only. */
#ifndef HOSO_TH_TLS_H
#define HOSO_TH_TLS_H

#include <stddef.h>

/* Makes dir (mode 0700) holding ca.pem, server.pem/server.key (serverAuth and clientAuth, so a
 * service may present it when it calls another) and, for each of the n names, <name>.pem and
 * <name>.key (clientAuth, CN = name). 0 / -1 (reason printed). */
int th_tls_make(const char *dir, const char *const *names, size_t n);
/* dir/<name>.<ext> into out. */
void th_tls_path(char *out, size_t len, const char *dir, const char *name, const char *ext);

#endif
