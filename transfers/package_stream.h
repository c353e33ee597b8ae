/* The framing of a package file (a packed hoso.transfers.v1.TransferPackage) as a stream: the
 * head (manifest, signature, key_id) first, then each part — its field tag and length, its name,
 * its content's tag and length, the content — written piece by piece, and read back
 * incrementally in bounded memory, naming the part where a stream is cut or malformed. Pure. */
#ifndef HOSO_TRANSFERS_PACKAGE_STREAM_H
#define HOSO_TRANSFERS_PACKAGE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define PKGS_MANIFEST_MAX (4u << 20) /* a manifest of thousands of parts */
#define PKGS_SIGNATURE_MAX 1024
#define PKGS_KEY_ID_MAX 128
#define PKGS_NAME_MAX 512
#define PKGS_PREFIX_MAX (PKGS_NAME_MAX + 32) /* a part's framing before its content */
#define PKGS_ERR 512

/* --- writing ------------------------------------------------------------------------------- */

/* The head's bytes (fields 1, 2, 3 of TransferPackage) into out, which has room for
 * pkgs_head_size of them; their number. */
size_t pkgs_head_size(size_t manifest_len, size_t signature_len, const char *key_id);
size_t pkgs_head(uint8_t *out, const uint8_t *manifest, size_t manifest_len, const uint8_t *signature,
                 size_t signature_len, const char *key_id);
/* A part's framing before content_len bytes of content (field 4: a PackagePart with its name,
 * then the content's tag and length); its number of bytes (at most PKGS_PREFIX_MAX), 0 for a
 * name longer than PKGS_NAME_MAX. */
size_t pkgs_part_prefix(uint8_t out[PKGS_PREFIX_MAX], const char *name, uint64_t content_len);

/* --- reading ------------------------------------------------------------------------------- */

typedef enum {
  PKGS_NEED,      /* every byte given was used: give the next ones (or pkgs_end) */
  PKGS_HEAD,      /* the head is complete: manifest, signature, key_id */
  PKGS_PART,      /* a part begins: name, size (its content's bytes) */
  PKGS_DATA,      /* bytes of the part's content: data, len (a piece of the input) */
  PKGS_PART_END,  /* the part's content is complete */
  PKGS_DONE,      /* (pkgs_end) the package ended where a package may end */
  PKGS_ERROR,     /* malformed or cut: err says what and where ("package.parts[record.pb]: ...") */
} pkgs_kind;

typedef struct {
  pkgs_kind kind;
  const uint8_t *manifest, *signature; /* PKGS_HEAD: held by the reader until the next call */
  size_t manifest_len, signature_len;
  const char *key_id;
  const char *name;                    /* PKGS_PART, PKGS_DATA, PKGS_PART_END */
  uint64_t size;                       /* PKGS_PART */
  const uint8_t *data;                 /* PKGS_DATA */
  size_t len;
  const char *err;                     /* PKGS_ERROR */
} pkgs_event;

/* The reader's state: where it is in the framing, the pieces it must hold (the head, a name, a
 * varint split between two inputs). Zeroed by pkgs_reader_init, freed by pkgs_reader_free. */
typedef struct {
  int state;
  uint64_t pos;              /* bytes consumed */
  uint8_t var[10];           /* a varint in progress */
  int var_n;
  unsigned field;            /* the field whose bytes are being read */
  uint64_t left;             /* bytes left of that field (or of the part's content) */
  uint64_t part_left;        /* bytes left of the current part */
  int parts;                 /* parts begun */
  int head_sent;
  uint8_t *manifest, *signature;
  size_t manifest_len, signature_len;
  char key_id[PKGS_KEY_ID_MAX + 1];
  size_t key_id_len;
  char name[PKGS_NAME_MAX + 1];
  size_t name_len;
  uint64_t size;
  char err[PKGS_ERR];
} pkgs_reader;

void pkgs_reader_init(pkgs_reader *r);
void pkgs_reader_free(pkgs_reader *r);
/* The next event of the stream, consuming bytes from *in (*n of them; both advanced). Call again
 * until PKGS_NEED (then feed the next input) or PKGS_ERROR (then stop). */
pkgs_event pkgs_next(pkgs_reader *r, const uint8_t **in, size_t *n);
/* After the last input: PKGS_HEAD when a package of no parts ended (then call again), PKGS_DONE,
 * or PKGS_ERROR naming what the end cut ("package.parts[x]: truncated: ..."). */
pkgs_event pkgs_end(pkgs_reader *r);

#endif
