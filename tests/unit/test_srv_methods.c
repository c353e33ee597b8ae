/* The runtime's method table (common/srv_methods.c): a service's SRV_RPC lines joined with its
 * proto service and what the descriptor set says of each method. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "srv_int.h"

static int h(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)ctx, (void)req, (void)resp;
  return 0;
}

static const srv_method *find(const srv_method *m, size_t n, const char *path) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(m[i].path, path) == 0) return &m[i];
  return NULL;
}

/* Types from protobuf-c, access and streaming from the .proto, extra flags from the line; a
 * method without a line is left out (it answers UNIMPLEMENTED). */
static void test_table_from_the_proto(void **state) {
  (void)state;
  const srv_rpc rpcs[] = {SRV_RPC(Login, h), SRV_RPC(CreateUnit, h), SRV_RPC_FLAGS(ListTokenRevocations, h, SRV_QUIET),
                          SRV_RPC(ListUnitChanges, h)};
  srv_config cfg = {.service = "identity", .api = &hoso__identity__v1__identity__descriptor, SRV_RPCS(rpcs)};
  srv_method *m;
  size_t n;
  assert_int_equal(srv_methods_build(&cfg, &m, &n), 0);
  assert_int_equal(n, 4);
  const srv_method *login = find(m, n, "/hoso.identity.v1.Identity/Login");
  assert_non_null(login);
  assert_ptr_equal(login->in, &hoso__identity__v1__login_request__descriptor);
  assert_ptr_equal(login->out, &hoso__identity__v1__login_response__descriptor);
  assert_int_equal(login->flags, SRV_NO_TOKEN);
  assert_int_equal(find(m, n, "/hoso.identity.v1.Identity/CreateUnit")->flags, 0);
  assert_int_equal(find(m, n, "/hoso.identity.v1.Identity/ListTokenRevocations")->flags, SRV_NO_TOKEN | SRV_QUIET);
  /* internal is the gateway's business: between services a token is still needed */
  assert_int_equal(find(m, n, "/hoso.identity.v1.Identity/ListUnitChanges")->flags, 0);
  assert_null(find(m, n, "/hoso.identity.v1.Identity/WhoAmI"));
  srv_methods_free(m, n);

  const srv_rpc rec[] = {SRV_RPC(UploadAttachment, h), SRV_RPC(DownloadAttachment, h)};
  srv_config rcfg = {.service = "records", .api = &hoso__records__v1__records__descriptor, SRV_RPCS(rec)};
  assert_int_equal(srv_methods_build(&rcfg, &m, &n), 0);
  assert_int_equal(find(m, n, "/hoso.records.v1.Records/UploadAttachment")->flags, SRV_CLIENT_STREAM);
  assert_int_equal(find(m, n, "/hoso.records.v1.Records/DownloadAttachment")->flags, SRV_SERVER_STREAM);
  srv_methods_free(m, n);
}

/* A line naming no method of the proto, no proto at all, or a descriptor set without the
 * service stop the start. */
static void test_disagreements_stop_the_start(void **state) {
  (void)state;
  srv_method *m = (void *)1;
  size_t n = 9;
  const srv_rpc typo[] = {SRV_RPC(Logon, h)};
  srv_config cfg = {.service = "identity", .api = &hoso__identity__v1__identity__descriptor, SRV_RPCS(typo)};
  assert_int_equal(srv_methods_build(&cfg, &m, &n), -1);
  assert_null(m);
  assert_int_equal(n, 0);
  srv_config none = {.service = "identity", SRV_RPCS(typo)};
  assert_int_equal(srv_methods_build(&none, &m, &n), -1);
  const srv_rpc ok[] = {SRV_RPC(Login, h)};
  const unsigned char empty_set[] = {0};
  srv_config other = {.service = "identity", .api = &hoso__identity__v1__identity__descriptor, SRV_RPCS(ok),
                      .descriptor_set = empty_set, .descriptor_set_len = 0};
  assert_int_equal(srv_methods_build(&other, &m, &n), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_from_the_proto),
      cmocka_unit_test(test_disagreements_stop_the_start),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
