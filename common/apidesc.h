/* The contract as compiled: the descriptor set of proto/ built into every binary, and what it
 * says of each method that protobuf-c's descriptors do not carry — who may call it (common.proto's
 * access option) and whether it streams — for the runtime and the gateway. */
#ifndef HOSO_APIDESC_H
#define HOSO_APIDESC_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* The services' protos and their imports, with comments (CMakeLists.txt, hoso_proto). */
extern const unsigned char hoso_descriptor_set[];
extern const size_t hoso_descriptor_set_len;

/* hoso.common.v1.Access, by value. */
enum {
  APIDESC_NORMAL = 0,          /* a verified token; the handler decides */
  APIDESC_PUBLIC = 1,          /* no token; the gateway serves it */
  APIDESC_INTERNAL = 2,        /* a verified token; never through the gateway */
  APIDESC_INTERNAL_PUBLIC = 3, /* no token; never through the gateway */
};
/* Whether a call needs no token / must not come through the gateway. */
#define APIDESC_NO_TOKEN(a) ((a) == APIDESC_PUBLIC || (a) == APIDESC_INTERNAL_PUBLIC)
#define APIDESC_IS_INTERNAL(a) ((a) == APIDESC_INTERNAL || (a) == APIDESC_INTERNAL_PUBLIC)

typedef struct {
  char *path;           /* "/hoso.identity.v1.Identity/Login" */
  int access;           /* APIDESC_* */
  int client_streaming, server_streaming;
} apidesc_method;

/* Every method of every service in a descriptor set (FileDescriptorSet bytes), in file and
 * declaration order: *out malloc'd (apidesc_free), *n of them. 0, or -1 (logged) when the set
 * does not parse or a method names an access value this build does not know. */
int apidesc_methods(const unsigned char *set, size_t len, apidesc_method **out, size_t *n);
void apidesc_free(apidesc_method *m, size_t n);

/* The bytes of the length-delimited option `field` of an options message (protobuf-c keeps
 * custom options as unknown fields), e.g. google.api.http's HttpRule: a pointer into the
 * message and *len, or NULL when it is not there or malformed. */
const uint8_t *apidesc_option_bytes(const ProtobufCMessage *options, uint32_t field, size_t *len);
/* The access option of a method's options (NULL: none): APIDESC_*, APIDESC_NORMAL without the
 * option, -1 for a value this build does not know. */
int apidesc_access(const ProtobufCMessage *method_options);

#endif
