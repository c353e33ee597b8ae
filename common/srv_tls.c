/* Listening credentials from the environment: TLS with HOSO_TLS_CERT/KEY, client certificates
 * checked against HOSO_TLS_CA (required with HOSO_TLS_CLIENT_AUTH=require); plaintext only
 * when HOSO_PLAINTEXT=1 says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cfg.h"
#include "log.h"
#include "srv_int.h"

grpc_server_credentials *srv_tls_credentials(const char **mode) {
  const char *cert = cfg_str("HOSO_TLS_CERT", NULL), *key = cfg_str("HOSO_TLS_KEY", NULL);
  const char *ca = cfg_str("HOSO_TLS_CA", NULL);
  const char *cauth = cfg_str("HOSO_TLS_CLIENT_AUTH", "");
  int require = strcasecmp(cauth, "require") == 0;
  grpc_server_credentials *cr = NULL;
  char *cert_pem = NULL, *key_pem = NULL, *ca_pem = NULL;

  if (!cert && !key) {
    if (require) {
      log_error("HOSO_TLS_CLIENT_AUTH=require needs HOSO_TLS_CERT, HOSO_TLS_KEY and HOSO_TLS_CA");
      return NULL;
    }
    /* Fail closed: a forgotten certificate must not quietly become a plaintext service. */
    if (!cfg_bool("HOSO_PLAINTEXT", 0)) {
      log_error("no certificate: set HOSO_TLS_CERT and HOSO_TLS_KEY (docs/OPERATIONS.md), or "
                "HOSO_PLAINTEXT=1 to serve without TLS (development only)");
      return NULL;
    }
    *mode = "plaintext";
    return grpc_insecure_server_credentials_create();
  }
  /* Half a TLS setup is a mistake; falling back to plaintext would hide it. */
  if (!cert || !key) {
    log_error("TLS needs both HOSO_TLS_CERT and HOSO_TLS_KEY (only one is set)");
    return NULL;
  }
  if (require && !ca) {
    log_error("HOSO_TLS_CLIENT_AUTH=require needs HOSO_TLS_CA to verify client certificates");
    return NULL;
  }
  if (!(cert_pem = cli_read_pem(cert))) {
    log_error("HOSO_TLS_CERT %s: %s", cert, strerror(errno));
    goto out;
  }
  if (!(key_pem = cli_read_pem(key))) {
    log_error("HOSO_TLS_KEY %s: %s", key, strerror(errno));
    goto out;
  }
  if (ca && !(ca_pem = cli_read_pem(ca))) {
    log_error("HOSO_TLS_CA %s: %s", ca, strerror(errno));
    goto out;
  }
  grpc_ssl_pem_key_cert_pair pair = {key_pem, cert_pem};
  grpc_ssl_client_certificate_request_type req = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  *mode = "tls";
  if (ca_pem) {
    req = require ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                  : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    *mode = require ? "mtls-required" : "tls+client-certs";
  }
  /* The credentials copy the PEM strings, so ours are freed below. */
  cr = grpc_ssl_server_credentials_create_ex(ca_pem, &pair, 1, req, NULL);
  if (!cr) log_error("TLS: the certificate or key could not be used");
out:
  free(cert_pem);
  free(key_pem);
  free(ca_pem);
  return cr;
}
