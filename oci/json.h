/* Internal JSON helpers of oci/: a read-only document tree built from yajl's
 * callback parser, and thin wrappers around yajl_gen for the generators.
 *
 * The tree lives in one arena owned by the json_doc, so building and freeing
 * it costs a handful of allocations whatever the document size.  Nesting is
 * bounded (JSON_MAX_DEPTH): the parser never recurses, but consumers of the
 * tree do, and no valid config comes close. */
#ifndef NOOK_OCI_JSON_H
#define NOOK_OCI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "../base/error.h"

#define JSON_MAX_DEPTH 128
#define JSON_MAX_DEPTH_STR "128"

enum json_type {
  JSON_NULL,
  JSON_FALSE,
  JSON_TRUE,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT
};

struct json_member;

struct json_value {
  enum json_type type;
  size_t len; /* bytes of a string or number; entries of an array or object */
  union {
    const char *str; /* string, or the number's literal text; NUL-terminated */
    const struct json_value *items;
    const struct json_member *members;
  } u;
};

struct json_member {
  const char *key;
  struct json_value value;
};

struct json_doc;

/* Parse json[0..len).  Malformed input fails with
 *   "<origin>: invalid JSON at line L, column C: <reason>"
 * Strings containing NUL characters (\u0000) are rejected: every consumer
 * treats them as C strings. */
int json_parse(const char *json, size_t len, const char *origin, struct json_doc **doc,
               const struct json_value **root, nook_error_t *err);
void json_doc_free(struct json_doc *doc);

/* Member `key` of an object; NULL when absent or null (null means "not set",
 * as for Go's encoding/json).  With duplicate keys the last one wins. */
const struct json_value *json_get(const struct json_value *obj, const char *key);

/* For maps keyed by user data: a malloc'd array of obj->len flags, set for
 * members that a later member with the same key overrides (NULL when the
 * object is empty). */
bool *json_shadowed(const struct json_value *obj);

/* ---- generation ---------------------------------------------------------- */

/* indent NULL: compact. */
yajl_gen jgen_new(const char *indent);
/* The document as a malloc'd string without a trailing newline; frees g. */
char *jgen_finish(yajl_gen g);

void jgen_str(yajl_gen g, const char *s);
void jgen_key_str(yajl_gen g, const char *key, const char *value);
void jgen_key_int(yajl_gen g, const char *key, long long value);
void jgen_uint(yajl_gen g, uint64_t value);
void jgen_key_uint(yajl_gen g, const char *key, uint64_t value);
void jgen_key_bool(yajl_gen g, const char *key, bool value);
/* An array of strings; NULL-terminated `v` or `n` entries when n > 0. */
void jgen_key_strv(yajl_gen g, const char *key, const char *const *v, size_t n);
/* One element of config.json's mounts: options NULL-terminated, or NULL for
 * none (the key is left out). */
void jgen_mount(yajl_gen g, const char *destination, const char *type, const char *source,
                const char *const *options);
/* A parsed value as it was (numbers keep their text, objects their order
 * and duplicate keys). */
void jgen_value(yajl_gen g, const struct json_value *v);

#endif
