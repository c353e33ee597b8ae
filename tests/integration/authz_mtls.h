/* The authorization matrix's second set of services (identity, records, transfers, reporting on
 * the same database), run as production runs them for service accounts: TLS on every port,
 * HOSO_SERVICE_MTLS=require, each service calling the others with the client certificate that
 * names its own service client. The matrix's SERVICE caller is called there over three
 * connections: with its own certificate, with none, with one naming somebody else. */
#ifndef HOSO_AUTHZ_MTLS_H
#define HOSO_AUTHZ_MTLS_H

#include "th_world.h"

enum { MTLS_IDENTITY, MTLS_RECORDS, MTLS_TRANSFERS, MTLS_REPORTING, MTLS_N };

typedef struct {
  th_svc svc[MTLS_N];
  /* per service: the SERVICE caller's own certificate; no certificate; the gateway's */
  cli_chan *own[MTLS_N], *none[MTLS_N], *other[MTLS_N];
  char dir[256];
  char relays[256]; /* HOSO_SERVICE_MTLS_RELAYS: the three services' own client ids */
} authz_mtls;

/* Starts the set for world w: certificates for client_id (the SERVICE caller), the world's
 * records, transfers and reporting clients (reporting's made first if need be) and
 * hoso-gateway; extra_env (NULL-terminated) given to every service. 0 / -1 (reason printed). */
int authz_mtls_start(authz_mtls *m, th_world *w, const char *client_id, const char *const *extra_env);
/* Stops the services (exit status 0 each) and removes the certificates. 0 / -1. */
int authz_mtls_stop(authz_mtls *m);

#endif
