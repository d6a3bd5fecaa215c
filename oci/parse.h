/* Internal to oci/: typed extraction from a json_value tree with errors that
 * name the JSON path and the offending value:
 *   config.json: process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"
 *
 * Conventions.  jv_* convert the value the current path points at.  jf_*
 * take an object and a key, push the key onto the path and convert the
 * member; they return 0 when the member is absent (or null), 1 when it was
 * stored, and a negative value with the error set.  Allocated results are
 * stored into the destination before any element is parsed, so a caller that
 * frees its (zero-initialised) destination on error never leaks. */
#ifndef NOOK_OCI_PARSE_H
#define NOOK_OCI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "json.h"
#include "names.h"

/* The path is a stack of segments (a key, or an index when key is NULL),
 * rendered only when an error is reported: keys point into the document
 * being parsed, so a successful parse never formats a path. */
struct path_seg {
  const char *key;
  size_t index;
};

struct pctx {
  const char *origin;
  nook_error_t *err;
  struct path_seg *segs;
  size_t depth, cap;
};

void pctx_init(struct pctx *c, const char *origin, nook_error_t *err);
void pctx_fini(struct pctx *c);

/* Extend the path with a key (shown as ".key", or ["key"] when it is not a
 * plain identifier) or an index ("[i]"); both return the mark
 * path_restore() goes back to.  `key` must outlive its segment. */
size_t path_key(struct pctx *c, const char *key);
size_t path_index(struct pctx *c, size_t i);
void path_restore(struct pctx *c, size_t mark);

/* The current path ("process.rlimits[1].type"), malloc'ed. */
char *path_text(const struct pctx *c);

/* "<origin>: <path>: <message>"; returns -1. */
int perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<origin>: <path>: expected <what>, got <value>" */
int perr_type(struct pctx *c, const struct json_value *v, const char *what);

/* A string for messages: quoted, escaped, shortened. */
#define QUOTE_MAX 96
const char *quote(const char *s, char buf[QUOTE_MAX]);

typedef int (*jv_fn)(struct pctx *c, const struct json_value *v, void *out);
typedef int (*jkv_fn)(struct pctx *c, const char *key, const struct json_value *v, void *out);

/* Value converters; `out` points at the C type named. */
int jv_object(struct pctx *c, const struct json_value *v);
int jv_array(struct pctx *c, const struct json_value *v);
int jv_str(struct pctx *c, const struct json_value *v, void *out); /* char * */
/* A string where "" (Go's zero value, which Go-written configs use for
 * "not set") leaves *out NULL: optional names, labels and paths. */
int jv_opt_str(struct pctx *c, const struct json_value *v, void *out); /* char * */
int jv_bool(struct pctx *c, const struct json_value *v, void *out);    /* bool */
int jv_u16(struct pctx *c, const struct json_value *v, void *out);     /* uint16_t */
int jv_u32(struct pctx *c, const struct json_value *v, void *out);     /* uint32_t */
int jv_u64(struct pctx *c, const struct json_value *v, void *out);     /* uint64_t */
int jv_i32(struct pctx *c, const struct json_value *v, void *out);     /* int32_t */
int jv_i64(struct pctx *c, const struct json_value *v, void *out);     /* int64_t */
/* A string from `t`; *out gets the value.  `what` names the kind in the
 * error: unknown <what> "<value>". */
int jv_name(struct pctx *c, const struct json_value *v, const struct oci_name_table *t,
            const char *what, int64_t *out);

/* Member `key` converted by fn (with the path extended). */
int jf(struct pctx *c, const struct json_value *obj, const char *key, jv_fn fn, void *out);
/* Same, but an absent member is an error. */
int jf_req(struct pctx *c, const struct json_value *obj, const char *key, jv_fn fn, void *out);
/* Member `key`, an object parsed by fn. */
int jf_obj(struct pctx *c, const struct json_value *obj, const char *key, jv_fn fn, void *out);
/* An array of strings, NULL-terminated (an empty array gives { NULL }). */
int jf_strv(struct pctx *c, const struct json_value *obj, const char *key, char ***out, size_t *n);
/* An array of `size`-byte elements, each parsed by fn. */
int jf_array(struct pctx *c, const struct json_value *obj, const char *key, size_t size, void *out,
             size_t *n, jv_fn fn);
/* An object used as a map: `size`-byte elements, one per distinct key (the
 * last duplicate wins), each parsed by fn.  Empty keys are errors. */
int jf_map(struct pctx *c, const struct json_value *obj, const char *key, size_t size, void *out,
           size_t *n, jkv_fn fn);
/* A map of strings. */
int jf_strmap(struct pctx *c, const struct json_value *obj, const char *key, struct oci_kv **out,
              size_t *n);
/* A list of names from `t` OR-ed together. */
int jf_flags(struct pctx *c, const struct json_value *obj, const char *key,
             const struct oci_name_table *t, const char *what, uint64_t *out);

/* Helpers for the free functions. */
void oci_kv_free(struct oci_kv *kv, size_t n);

/* Shared between the parser files. */
int parse_idmap(struct pctx *c, const struct json_value *v, void *out);
int parse_resources(struct pctx *c, const struct json_value *v, void *out);
int parse_linux(struct pctx *c, const struct json_value *v, void *out);
int parse_seccomp(struct pctx *c, const struct json_value *v, void *out);
int parse_other_platforms(struct pctx *c, const struct json_value *root);
int parse_vm(struct pctx *c, const struct json_value *v, void *out);
void oci_vm_clear(struct oci_vm *vm);
void oci_linux_clear(struct oci_linux *l);
void oci_seccomp_clear(struct oci_seccomp *s);

#endif
