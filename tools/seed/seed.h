/* What the hoso-seed commands share: one channel to identity, the caller's bearer token, and
 * the calls and logins of main.c. */
#ifndef HOSO_SEED_H
#define HOSO_SEED_H

#include <stddef.h>

#include "cfg.h"
#include "cli.h"
#include "common.pb-c.h"
#include "identity.pb-c.h"

#define SVC "/hoso.identity.v1.Identity/"
#define TIMEOUT_MS 30000

typedef Hoso__Identity__V1__Unit unit_msg;
typedef Hoso__Identity__V1__Account account_msg;

extern cli_chan *chan;
extern char bearer[8192]; /* "Bearer <token>" of the logged-in caller */

/* One identity RPC with the caller's token (if any). On failure prints what failed unless
 * quiet_code is the status (an expected answer, e.g. ALREADY_EXISTS). */
grpc_status_code seed_rpc(const char *name, const void *req, const ProtobufCMessageDescriptor *out,
                          void *resp, grpc_status_code quiet_code, cli_status *st_out);
void seed_free(void *m);
/* Logs in and keeps the bearer token. *must_change tells whether the token only allows
 * ChangePassword. 0 / -1. */
int seed_login(const char *user, const char *password, int *must_change,
               Hoso__Identity__V1__LoginResponse **keep);
/* Logs in as admin (password in HOSO_ADMIN_PASSWORD) and gets admin's unit, the root. 0, or the
 * exit code (2: no password given, 1: refused). */
int seed_login_admin(char *root_id, size_t n);
void seed_roles_text(char *out, size_t n, const Hoso__Common__V1__Role *roles, size_t k);
/* A new client `name` granted unit_id, replacing any earlier one of that name. 0 / -1. */
int seed_replace_client(const char *name, const char *unit_id, const char *approval, const char *why,
                        char *client_id, size_t n1, char *secret, size_t n2);

int seed_demo(const char *addr, const char *out);
int seed_service_clients(const char *out);

#endif
