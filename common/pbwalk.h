/* A walk over any protobuf-c message driven by its descriptor: every string field at any depth,
 * named by its path ("record.family[1].relation_code"), checked and normalized to NFC in place. */
#ifndef HOSO_PBWALK_H
#define HOSO_PBWALK_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* Longest path the walk builds; deeper or longer paths end with "..." in messages. */
#define PBWALK_PATH_MAX 512

/* How many values field f holds in m: the element count of a repeated field; 1 for a singular
 * scalar or string (proto3 always holds one, maybe the default); for a sub-message 1 when set,
 * 0 when NULL; 0 for an unset proto2/proto3-optional scalar or a oneof member not chosen. */
size_t pbwalk_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Address of the i-th value of field f in m (i < pbwalk_count, or i == 0 for a singular
 * field): an element of a repeated field's array, or the member itself. For strings it is the
 * char ** slot, for sub-messages the ProtobufCMessage ** slot. */
void *pbwalk_slot(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i);

/* Appends ".name", or "name" when path[0..len) is empty, and "[idx]" when idx >= 0, to the
 * path buffer (PBWALK_PATH_MAX bytes); returns the new length. A path that would not fit ends
 * in "..." and grows no further. Truncate back with path[len] = '\0'. */
size_t pbwalk_path_push(char *path, size_t len, const char *name, long idx);

/* Calls fn for every string field of m (singular, repeated, inside sub-messages at any depth)
 * with its path below prefix (prefix "" gives "salary.rank_code"), its descriptor and the slot
 * that holds it, so fn may replace the string. A NULL string is skipped. A non-zero return of
 * fn stops the walk and is returned. */
typedef int (*pbwalk_fn)(void *arg, const char *path, const ProtobufCFieldDescriptor *f,
                         char **slot);
int pbwalk_strings(ProtobufCMessage *m, const char *prefix, pbwalk_fn fn, void *arg);

/* Checks every string field of m (valid UTF-8, no control characters but tab and line breaks,
 * at most max_chars characters) and replaces it by its NFC form (val_nfc_clean: trimmed,
 * inner white space folded; val_nfc_clean_lines for the fields listed in prose, a NULL-
 * terminated list of field descriptors, or NULL), the new string from allocator a (NULL: malloc). A string already
 * clean is left alone; a replaced one is released with a (NULL: free) unless it is the field's
 * default, so m must own its strings the way a says (unpacked with a, or a never frees).
 * 0, or -1 with err set to
 * "<path>: <rule>", e.g. "record.personal.home_town: must be valid UTF-8". */
int pbwalk_nfc(ProtobufCMessage *m, const char *prefix, size_t max_chars,
               const ProtobufCFieldDescriptor *const *prose, ProtobufCAllocator *a, char *err,
               size_t errlen);

#endif
