/* hoso-seed: the operator's small client of the identity service — health checks, the demo
 * province (demo.c), the services' own service clients (service_clients.c), login, first
 * password. This file: the command line, and the calls and logins the commands share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "seed.h"

cli_chan *chan;
char bearer[8192]; /* "Bearer <token>" of the logged-in caller */

static int usage(void) {
  fprintf(stderr,
          "usage: hoso-seed health ADDR               exit 0 when ADDR answers SERVING\n"
          "       hoso-seed demo [--addr A] --out FILE load the demo province as admin\n"
          "                                            (password in HOSO_ADMIN_PASSWORD)\n"
          "       hoso-seed service-clients [--addr A] --out FILE\n"
          "                                            the services' own clients (records,\n"
          "                                            transfers) in FILE, kept while they work\n"
          "       hoso-seed login [--addr A] USERNAME  log in; password on standard input\n"
          "       hoso-seed passwd [--addr A] USERNAME change a password (current, then new,\n"
          "                                            on standard input)\n"
          "A defaults to HOSO_IDENTITY_ADDR or %s. TLS when HOSO_TLS_CA is set (client\n"
          "certificate from HOSO_TLS_CLIENT_CERT/KEY).\n",
          cfg_service_find("identity")->default_addr);
  return 2;
}

/* One identity RPC with the caller's token (if any). On failure prints what failed unless
 * quiet_code is the status (an expected answer, e.g. ALREADY_EXISTS). */
grpc_status_code seed_rpc(const char *name, const void *req,
                            const ProtobufCMessageDescriptor *out, void *resp,
                            grpc_status_code quiet_code, cli_status *st_out) {
  char path[128];
  snprintf(path, sizeof path, SVC "%s", name);
  cli_md md = {"authorization", bearer};
  cli_status st;
  memset(&st, 0, sizeof st);
  grpc_status_code c = cli_call(chan, path, (const ProtobufCMessage *)req, out,
                                (ProtobufCMessage **)resp, &md, bearer[0] ? 1 : 0, TIMEOUT_MS, &st);
  if (c != GRPC_STATUS_OK && c != quiet_code)
    fprintf(stderr, "hoso-seed: %s: %s: %s\n", name, cli_status_name(c), st.message);
  if (st_out) *st_out = st;
  return c;
}

void seed_free(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

/* Reads one line from standard input without echo when it is a terminal. 0 / -1. */
static int read_secret(const char *prompt, char *buf, size_t n) {
  int tty = isatty(STDIN_FILENO);
  struct termios old, quiet;
  if (tty) {
    fprintf(stderr, "%s", prompt);
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  int rc = fgets(buf, (int)n, stdin) ? 0 : -1;
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fprintf(stderr, "\n");
  }
  if (rc == 0) buf[strcspn(buf, "\r\n")] = 0;
  return rc;
}

/* Logs in and keeps the bearer token. *must_change tells whether the token only allows
 * ChangePassword. 0 / -1. */
int seed_login(const char *user, const char *password, int *must_change,
                 Hoso__Identity__V1__LoginResponse **keep) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)user;
  req.password = (char *)password;
  Hoso__Identity__V1__LoginResponse *resp = NULL;
  bearer[0] = 0;
  if (seed_rpc("Login", &req, &hoso__identity__v1__login_response__descriptor, &resp, GRPC_STATUS_OK,
          NULL) != GRPC_STATUS_OK)
    return -1;
  snprintf(bearer, sizeof bearer, "Bearer %s", resp->access_token);
  if (must_change) *must_change = resp->must_change_password;
  if (keep)
    *keep = resp;
  else
    seed_free(resp);
  return 0;
}

static const char *role_name(int r) {
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&hoso__common__v1__role__descriptor, r);
  return v ? v->name : "?";
}

void seed_roles_text(char *out, size_t n, const Hoso__Common__V1__Role *roles, size_t k) {
  out[0] = 0;
  for (size_t i = 0; i < k; i++) {
    size_t used = strlen(out);
    snprintf(out + used, n - used, "%s%s", i ? "," : "", role_name(roles[i]));
  }
}

/* Logs in as admin (password in HOSO_ADMIN_PASSWORD) and gets admin's unit, the root. 0, or the
 * exit code (2: no password given, 1: refused). */
int seed_login_admin(char *root_id, size_t n) {
  const char *admin_pw = getenv("HOSO_ADMIN_PASSWORD");
  if (!admin_pw || !admin_pw[0]) {
    fprintf(stderr, "hoso-seed: set HOSO_ADMIN_PASSWORD to the password of admin\n");
    return 2;
  }
  int must = 0;
  if (seed_login("admin", admin_pw, &must, NULL) != 0) return 1;
  if (must) {
    fprintf(stderr, "hoso-seed: admin must change its password first (hoso-seed passwd admin)\n");
    return 1;
  }
  Hoso__Identity__V1__WhoAmIRequest wr = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *who = NULL;
  if (seed_rpc("WhoAmI", &wr, &hoso__identity__v1__who_am_iresponse__descriptor, &who, GRPC_STATUS_OK,
          NULL) != GRPC_STATUS_OK)
    return 1;
  snprintf(root_id, n, "%s", who->account ? who->account->unit_id : "");
  seed_free(who);
  if (!root_id[0]) {
    fprintf(stderr, "hoso-seed: WhoAmI named no unit for admin\n");
    return 1;
  }
  return 0;
}

/* ==================================== health ============================================= */

static int cmd_health(const char *addr) {
  chan = cli_open(addr);
  int ok = chan && cli_health(chan, 3000);
  cli_close(chan);
  if (!ok) fprintf(stderr, "hoso-seed: %s is not SERVING\n", addr);
  return ok ? 0 : 1;
}

/* ================================ login and passwd ======================================= */

static int cmd_login(const char *user) {
  char pw[512];
  if (read_secret("Password: ", pw, sizeof pw) != 0) {
    fprintf(stderr, "hoso-seed: no password on standard input\n");
    return 2;
  }
  Hoso__Identity__V1__LoginResponse *lr = NULL;
  int must = 0, rc = 1;
  if (seed_login(user, pw, &must, &lr) != 0) goto out;
  const account_msg *a = lr->account;
  char roles[256] = "";
  if (a) seed_roles_text(roles, sizeof roles, a->roles, a->n_roles);
  printf("logged in as %s (%s)\n", user, a && a->full_name[0] ? a->full_name : "");
  printf("roles: %s\n", roles);
  if (a && a->unit_id[0] && !must) {
    Hoso__Identity__V1__GetUnitRequest ur = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
    ur.unit_id = a->unit_id;
    Hoso__Identity__V1__GetUnitResponse *u = NULL;
    if (seed_rpc("GetUnit", &ur, &hoso__identity__v1__get_unit_response__descriptor, &u,
            GRPC_STATUS_OK, NULL) == GRPC_STATUS_OK && u->unit)
      printf("unit: %s (code %s, id %s)\n", u->unit->name, u->unit->code, u->unit->id);
    seed_free(u);
  } else if (a) {
    printf("unit id: %s\n", a->unit_id);
  }
  printf("access token (expires in %d s):\n%s\n", lr->expires_in, lr->access_token);
  if (must)
    printf("This password must be changed before anything else: hoso-seed passwd %s\n", user);
  rc = 0;
out:
  seed_free(lr);
  memset(pw, 0, sizeof pw);
  return rc;
}

static int cmd_passwd(const char *user) {
  char old[512], nw[512], again[512];
  int rc = 1;
  if (read_secret("Current password: ", old, sizeof old) != 0 ||
      read_secret("New password: ", nw, sizeof nw) != 0) {
    fprintf(stderr, "hoso-seed: expected the current and the new password on standard input\n");
    return 2;
  }
  if (isatty(STDIN_FILENO)) {
    if (read_secret("New password again: ", again, sizeof again) != 0 || strcmp(nw, again) != 0) {
      fprintf(stderr, "hoso-seed: the new passwords differ\n");
      return 2;
    }
  }
  if (seed_login(user, old, NULL, NULL) != 0) goto out;
  Hoso__Identity__V1__ChangePasswordRequest req = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  req.old_password = old;
  req.new_password = nw;
  Hoso__Identity__V1__ChangePasswordResponse *resp = NULL;
  if (seed_rpc("ChangePassword", &req, &hoso__identity__v1__change_password_response__descriptor,
          &resp, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
    goto out;
  seed_free(resp);
  printf("password of %s changed\n", user);
  rc = 0;
out:
  memset(old, 0, sizeof old);
  memset(nw, 0, sizeof nw);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *cmd = argv[1];
  if (strcmp(cmd, "health") == 0) {
    if (argc != 3) return usage();
    return cmd_health(argv[2]);
  }
  const char *addr = cfg_service_addr("identity");
  const char *out = NULL, *user = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc)
      addr = argv[++i];
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      out = argv[++i];
    else if (argv[i][0] != '-' && !user)
      user = argv[i];
    else
      return usage();
  }
  int rc;
  chan = cli_open(addr);
  if (!chan) {
    fprintf(stderr, "hoso-seed: cannot open a channel to %s\n", addr);
    return 1;
  }
  if (strcmp(cmd, "demo") == 0 && out && !user)
    rc = seed_demo(addr, out);
  else if (strcmp(cmd, "service-clients") == 0 && out && !user)
    rc = seed_service_clients(out);
  else if (strcmp(cmd, "login") == 0 && user && !out)
    rc = cmd_login(user);
  else if (strcmp(cmd, "passwd") == 0 && user && !out)
    rc = cmd_passwd(user);
  else
    rc = usage();
  cli_close(chan);
  memset(bearer, 0, sizeof bearer);
  return rc;
}
