/* hoso-seed service-clients: every service of the service table but identity (which issues
 * the tokens) and the gateway (which calls as its callers) gets a service client granted the
 * root, to call the others as itself: records follows the unit tree (ListUnitChanges),
 * transfers moves records (SetManagingUnit). Also seed_replace_client, which the demo uses. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seed.h"

/* Revokes every active service client called `name` (one name, one current client). 0 / -1. */
static int revoke_clients_named(const char *name, const char *reason) {
  char token[512] = "";
  for (;;) {
    Hoso__Identity__V1__ListServiceClientsRequest lr = HOSO__IDENTITY__V1__LIST_SERVICE_CLIENTS_REQUEST__INIT;
    lr.page_size = 500;
    lr.page_token = token;
    Hoso__Identity__V1__ListServiceClientsResponse *l = NULL;
    if (seed_rpc("ListServiceClients", &lr, &hoso__identity__v1__list_service_clients_response__descriptor,
            &l, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
      return -1;
    for (size_t i = 0; i < l->n_clients; i++) {
      if (l->clients[i]->revoked || strcmp(l->clients[i]->name, name) != 0) continue;
      Hoso__Identity__V1__RevokeServiceClientRequest rr = HOSO__IDENTITY__V1__REVOKE_SERVICE_CLIENT_REQUEST__INIT;
      rr.client_id = l->clients[i]->client_id;
      rr.reason = (char *)reason;
      Hoso__Identity__V1__RevokeServiceClientResponse *r = NULL;
      grpc_status_code c = seed_rpc("RevokeServiceClient", &rr,
                               &hoso__identity__v1__revoke_service_client_response__descriptor, &r,
                               GRPC_STATUS_OK, NULL);
      seed_free(r);
      if (c != GRPC_STATUS_OK) {
        seed_free(l);
        return -1;
      }
    }
    snprintf(token, sizeof token, "%s", l->next_page_token);
    seed_free(l);
    if (!token[0]) break;
  }
  return 0;
}

/* A new client `name` granted unit_id, replacing any earlier one of that name. 0 / -1. */
int seed_replace_client(const char *name, const char *unit_id, const char *approval, const char *why,
                          char *client_id, size_t n1, char *secret, size_t n2) {
  if (revoke_clients_named(name, why) != 0) return -1;
  char *grant[1] = {(char *)unit_id};
  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  req.name = (char *)name;
  req.unit_ids = grant;
  req.n_unit_ids = 1;
  req.approval_reference = (char *)approval;
  Hoso__Identity__V1__CreateServiceClientResponse *resp = NULL;
  if (seed_rpc("CreateServiceClient", &req, &hoso__identity__v1__create_service_client_response__descriptor,
          &resp, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
    return -1;
  snprintf(client_id, n1, "%s", resp->client ? resp->client->client_id : "");
  snprintf(secret, n2, "%s", resp->client_secret);
  seed_free(resp);
  return 0;
}

static int has_own_client(const cfg_service *s) {
  return s->gateway != CFG_GATEWAY_SELF && strcmp(s->name, "identity") != 0;
}
#define OWN_APPROVAL "Thành phần của hệ thống HỒ SƠ (./hoso up)"

/* "RECORDS" for "records". */
static void upper(const char *s, char *out, size_t n) {
  size_t i = 0;
  for (; s[i] && i + 1 < n; i++) out[i] = (char)toupper((unsigned char)s[i]);
  out[i] = 0;
}

/* The value of KEY=... in the env file, or "" (buf). */
static void env_file_get(const char *path, const char *key, char *buf, size_t n) {
  buf[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[1024];
  size_t k = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, k) == 0 && line[k] == '=') {
      line[strcspn(line, "\r\n")] = 0;
      snprintf(buf, n, "%s", line + k + 1);
    }
  }
  fclose(f);
}

/* 1 when the client logs in with this secret now (so the file still holds good credentials). */
static int client_works(const char *id, const char *secret) {
  if (!id[0] || !secret[0]) return 0;
  Hoso__Identity__V1__ServiceLoginRequest req = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  req.client_id = (char *)id;
  req.client_secret = (char *)secret;
  Hoso__Identity__V1__ServiceLoginResponse *resp = NULL;
  cli_status st;
  grpc_status_code c = cli_call(chan, SVC "ServiceLogin", &req.base, &hoso__identity__v1__service_login_response__descriptor,
                                (ProtobufCMessage **)&resp, NULL, 0, TIMEOUT_MS, &st);
  seed_free(resp);
  return c == GRPC_STATUS_OK;
}

/* Makes sure FILE holds working credentials of the services' own clients (KEY=VALUE lines, mode
 * 0600): kept when they still log in, otherwise replaced by new clients granted the root. */
int seed_service_clients(const char *out) {
  enum { N = 16 };
  char ids[N][128], secrets[N][256], env[N][32];
  int fresh = 0, logged_in = 0;
  char root[32] = "";
  if (cfg_services_count > N) {
    fprintf(stderr, "hoso-seed: more services than %d in common/services.tsv\n", N);
    return 1;
  }
  for (size_t i = 0; i < cfg_services_count; i++) {
    const cfg_service *svc = &cfg_services[i];
    if (!has_own_client(svc)) continue;
    char key[64], name[128];
    upper(svc->name, env[i], sizeof env[i]);
    snprintf(key, sizeof key, "HOSO_%.31s_CLIENT_ID", env[i]);
    env_file_get(out, key, ids[i], sizeof ids[i]);
    snprintf(key, sizeof key, "HOSO_%.31s_CLIENT_SECRET", env[i]);
    env_file_get(out, key, secrets[i], sizeof secrets[i]);
    if (client_works(ids[i], secrets[i])) continue;
    if (!logged_in) {
      /* admin belongs to the root unit (bootstrap): the grant of these clients. */
      int rc = seed_login_admin(root, sizeof root);
      if (rc != 0) return rc;
      logged_in = 1;
    }
    snprintf(name, sizeof name, "Dịch vụ %s của HỒ SƠ", svc->name);
    if (seed_replace_client(name, root, OWN_APPROVAL, "the credentials ./hoso up kept no longer log in: replaced", ids[i],
                       sizeof ids[i], secrets[i], sizeof secrets[i]) != 0)
      return 1;
    printf("service client of %s: %s (granted the root unit)\n", svc->name, ids[i]);
    fresh = 1;
  }
  if (!fresh) return 0;
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 && fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    fprintf(stderr, "hoso-seed: %s: %s\n", out, strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
  }
  fprintf(f, "# The HỒ SƠ services' own service clients (ServiceLogin), written by ./hoso up.\n");
  for (size_t i = 0; i < cfg_services_count; i++)
    if (has_own_client(&cfg_services[i]))
      fprintf(f, "HOSO_%s_CLIENT_ID=%s\nHOSO_%s_CLIENT_SECRET=%s\n", env[i], ids[i], env[i], secrets[i]);
  if (fclose(f) != 0) {
    fprintf(stderr, "hoso-seed: writing %s failed\n", out);
    return 1;
  }
  return 0;
}
