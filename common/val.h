/* Input validation shared by every RPC: UTF-8, NFC normalization, lengths, identifiers. Each
 * check returns NULL when fine or a message naming the rule; the handler prefixes the field. */
#ifndef HOSO_VAL_H
#define HOSO_VAL_H

#include <stddef.h>

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, no NUL). */
int val_utf8(const char *s, size_t n);

/* NFC form of s (TCVN 6909:2001 / 003 Đ6.5), trimmed of leading and trailing white space,
 * inner runs of white space folded to one space. malloc'd; NULL if s is not valid UTF-8 or
 * on out of memory. */
char *val_nfc_clean(const char *s);
/* The same for prose that keeps its lines (a declared personal history, a reason): line breaks
 * (CR LF, CR, LF, U+2028/2029) become "\n", at most one blank line in a row, every line
 * trimmed and its inner white space folded. */
char *val_nfc_clean_lines(const char *s);

/* Text field: valid UTF-8, not empty after trimming (when required), at most max characters
 * (code points). NULL or "must not be empty" / "must be valid UTF-8" / "must be at most N
 * characters". */
const char *val_text(const char *s, int required, size_t max_chars);
/* The same for prose, counted as val_nfc_clean_lines leaves it (each kept line break is one). */
const char *val_prose(const char *s, int required, size_t max_chars);
/* val_text and val_nfc_clean in one call (with keep_lines: val_prose and val_nfc_clean_lines),
 * for the hot path that stores what it checks: NULL and *out the cleaned text — s itself when
 * it is already clean, as most text is (one pass, nothing allocated), else a malloc'd string
 * the caller frees — or val_text's message and *out NULL. */
const char *val_text_clean(const char *s, int keep_lines, int required, size_t max_chars, char **out);

/* Usernames: 3..64 of [a-z0-9._-], starting with a letter or digit. */
const char *val_username(const char *s);
/* Codes (unit codes, catalogue codes): 1..64 of [A-Za-z0-9._-]. */
const char *val_code(const char *s);
/* Ids are decimal strings of a positive 63-bit integer. */
const char *val_id(const char *s);
/* A request_id (the idempotency key of a mutating RPC, compared byte for byte): empty (not
 * tracked) or at most VAL_REQUEST_ID_MAX printable ASCII characters without spaces, so that a
 * UUID, a ULID or "import-2026-05-01-3" fit and nothing that normalization could change does. */
#define VAL_REQUEST_ID_MAX 128
const char *val_request_id(const char *s);
/* Page size: 0 means the default 50; 1..500 allowed. Returns the effective size or -1. */
int val_page_size(int requested);
/* YYYY-MM-DD, a real calendar date. */
const char *val_date(const char *s);

/* Opaque keyset page tokens: base64url of the last row's sort key (never an OFFSET).
 * encode: malloc'd token; decode: 0 and the key in out, -1 if the token is not one of ours. */
char *val_page_token_encode(const char *key);
int val_page_token_decode(const char *token, char *out, size_t outlen);
/* A scanned document's type told by its first bytes, never by its name (%PDF-, FF D8 FF, the PNG
 * signature): "application/pdf", "image/jpeg", "image/png", or NULL for anything else. */
const char *val_scan_type(const unsigned char *b, size_t n);
/* What refused content looks like, for the message ("a ZIP archive or Office document"), so a
 * person can tell they picked the wrong file. */
const char *val_scan_describe(const unsigned char *b, size_t n);

#endif
