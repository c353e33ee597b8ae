/* The unit directory (ListUnitDirectory) over real gRPC and PostgreSQL: a district finds
 * another district by name typed without diacritics, or by code, which GetUnit does not let it
 * read; names only; units by id (a dissolved one too, with its status); pages bound to their
 * query; every account reads it, a person's too; bad input named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "identity.pb-c.h"
#include "th_world.h"

#define IDN "/hoso.identity.v1.Identity/"

typedef Hoso__Identity__V1__ListUnitDirectoryResponse dir_resp;

static th_world w;

static grpc_status_code dir(const char *tok, const char *query, char **ids, size_t n_ids, int size, const char *token,
                            dir_resp **out, cli_status *st) {
  Hoso__Identity__V1__ListUnitDirectoryRequest req = HOSO__IDENTITY__V1__LIST_UNIT_DIRECTORY_REQUEST__INIT;
  req.query = (char *)(query ? query : "");
  req.unit_ids = ids;
  req.n_unit_ids = n_ids;
  req.page_size = size;
  req.page_token = (char *)(token ? token : "");
  *out = NULL;
  memset(st, 0, sizeof *st);
  return th_call(w.id_ch, IDN "ListUnitDirectory", &req, &hoso__identity__v1__list_unit_directory_response__descriptor,
                 (void **)out, tok, st);
}

static int setup(void **state) {
  (void)state;
  return th_world_start(&w, 0, NULL);
}

static int teardown(void **state) {
  (void)state;
  char log[256];
  snprintf(log, sizeof log, "%s", w.identity.log);
  int rc = th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

/* d2's updater may not read d1 (GetUnit is scoped), but finds it in the directory by its name
 * typed any way a person types it, and by a piece of its code; the entry names its parent. */
static void test_find_outside_scope(void **state) {
  (void)state;
  cli_status st;
  Hoso__Identity__V1__GetUnitRequest g = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  g.unit_id = w.d1_id;
  th_expect(th_call(w.id_ch, IDN "GetUnit", &g, &hoso__identity__v1__get_unit_response__descriptor, NULL,
                    w.tok_d2_updater, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  const char *queries[] = {"luc nam", "Lục Nam", "LỤC  NAM", "huyen luc"};
  for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
    dir_resp *r;
    th_expect(dir(w.tok_d2_updater, queries[i], NULL, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
    assert_int_equal(r->n_units, 1);
    assert_string_equal(r->units[0]->id, w.d1_id);
    assert_string_equal(r->units[0]->name, "UBND huyện Lục Nam");
    assert_string_equal(r->units[0]->parent_id, w.root_id);
    assert_true(r->units[0]->parent_name[0] != '\0');
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  /* a school of d1 by the part of its name a person remembers */
  dir_resp *r;
  th_expect(dir(w.tok_d2_reader, "doi ngo", NULL, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->n_units, 1);
  assert_string_equal(r->units[0]->id, w.d1u_id);
  assert_string_equal(r->units[0]->parent_name, "UBND huyện Lục Nam");
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* nothing: an empty list, not an error; a '%' is a character, not a pattern */
  th_expect(dir(w.tok_d2_reader, "%", NULL, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->n_units, 0);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* By ids, in name order; a dissolved unit too, with its status, though no query finds it. */
static void test_by_ids_dissolved_too(void **state) {
  (void)state;
  char gone[32];
  assert_int_equal(th_world_unit(&w, w.d2_id, "YT.PNV.CU", "Phòng Nội vụ cũ", HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_AGENCY,
                                 gone, NULL),
                   0);
  Hoso__Identity__V1__MergeUnitsRequest m = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  m.source_unit_id = gone;
  m.target_unit_id = w.d2_id;
  m.reason = "Quyết định 125/QĐ-UBND";
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "MergeUnits", &m, &hoso__identity__v1__merge_units_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  dir_resp *r;
  th_expect(dir(w.tok_d1_reader, "noi vu cu", NULL, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->n_units, 0);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  char *ids[3] = {w.d2_id, gone, w.d1_id};
  th_expect(dir(w.tok_d1_reader, NULL, ids, 3, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->n_units, 3);
  /* by name (byte order of NFC): "Phòng..." < "UBND huyện Lục Nam" < "UBND huyện Yên Thế" */
  assert_string_equal(r->units[0]->id, gone);
  assert_int_equal(r->units[0]->status, HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_DISSOLVED);
  assert_string_equal(r->units[1]->id, w.d1_id);
  assert_string_equal(r->units[2]->id, w.d2_id);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Every active unit, one a page: the tokens walk the whole directory once, in name order; a
 * token is refused with another query; bad input is named. */
static void test_pages(void **state) {
  (void)state;
  cli_status st;
  dir_resp *all;
  th_expect(dir(w.tok_d1_reader, NULL, NULL, 0, 500, NULL, &all, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(all->n_units >= 4); /* the root, d1, d1u, d2 */
  assert_string_equal(all->next_page_token, "");
  char token[512] = "";
  size_t seen = 0;
  for (;;) {
    dir_resp *r;
    th_expect(dir(w.tok_d1_reader, NULL, NULL, 0, 1, token, &r, &st), &st, GRPC_STATUS_OK, NULL);
    assert_true(seen < all->n_units);
    assert_int_equal(r->n_units, 1);
    assert_string_equal(r->units[0]->id, all->units[seen]->id);
    seen++;
    snprintf(token, sizeof token, "%s", r->next_page_token);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (!token[0]) break;
  }
  assert_int_equal(seen, all->n_units);
  protobuf_c_message_free_unpacked(&all->base, NULL);

  dir_resp *r;
  th_expect(dir(w.tok_d1_reader, "ubnd", NULL, 0, 1, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(r->next_page_token[0] != '\0');
  snprintf(token, sizeof token, "%s", r->next_page_token);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  th_expect(dir(w.tok_d1_reader, "truong", NULL, 0, 1, token, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
  th_expect(dir(w.tok_d1_reader, "ubnd", NULL, 0, 1, "xyz", &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
  char *ids[1] = {"12a"};
  th_expect(dir(w.tok_d1_reader, NULL, ids, 1, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_ids[0]");
  ids[0] = w.d1_id;
  th_expect(dir(w.tok_d1_reader, "luc", ids, 1, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_ids");
  th_expect(dir(w.tok_d1_reader, NULL, NULL, 0, 501, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  th_expect(dir(NULL, "luc", NULL, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_find_outside_scope),
      cmocka_unit_test(test_by_ids_dissolved_too),
      cmocka_unit_test(test_pages),
  };
  return cmocka_run_group_tests_name("identity_directory", tests, setup, teardown);
}
