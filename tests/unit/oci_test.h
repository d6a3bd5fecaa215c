/* Helpers shared by the config tests (test_config.c, test_validate.c). */
#ifndef NOOK_OCI_TEST_H
#define NOOK_OCI_TEST_H

#include <fcntl.h>

#include "../../base/utils.h"
#include "../../oci/config.h"
#include "unit.h"

__attribute__((unused)) static const char *spec_dir(void)
{
  const char *d = getenv("NOOK_OCI_SPEC_DIR");
  return d != NULL ? d : "../shared/oci-runtime-spec";
}

__attribute__((unused)) static char *spec_file(const char *rel, size_t *len)
{
  cleanup_free char *path = NULL;
  xasprintf(&path, "%s/%s", spec_dir(), rel);
  char *data = NULL;
  nook_error_t err = NULL;
  if (read_file_at(AT_FDCWD, path, &data, len, &err) < 0) {
    nook_error_free(&err);
    return NULL;
  }
  return data;
}

/* Single quotes stand for double quotes, to keep the JSON readable. */
__attribute__((unused)) static char *J(const char *s)
{
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

/* NULL when `json` parses; else the error text. */
__attribute__((unused)) static char *parse_error(const char *json)
{
  cleanup_free char *doc = J(json);
  struct oci_config *c = NULL;
  nook_error_t err = NULL;
  if (oci_config_parse(doc, strlen(doc), "config.json", &c, &err) == 0) {
    oci_config_free(c);
    return NULL;
  }
  char *text = nook_error_text(err);
  nook_error_free(&err);
  return text;
}

__attribute__((unused)) static struct oci_config *parse_ok(const char *json)
{
  cleanup_free char *doc = J(json);
  struct oci_config *c = NULL;
  nook_error_t err = NULL;
  if (oci_config_parse(doc, strlen(doc), "config.json", &c, &err) < 0) {
    printf("  unexpected parse error: %s\n", err->msg);
    nook_error_free(&err);
    return NULL;
  }
  return c;
}

/* NULL when `json` parses and validates; else the error text (a parse error
 * is reported as such so the check fails visibly). */
__attribute__((unused)) static char *validate_error(const char *json, bool for_start)
{
  struct oci_config *c = parse_ok(json);
  if (c == NULL)
    return xstrdup("(parse error)");
  nook_error_t err = NULL;
  char *text = NULL;
  if (oci_config_validate(c, for_start, &err) < 0) {
    text = nook_error_text(err);
    nook_error_free(&err);
  }
  oci_config_free(c);
  return text;
}

#define BASE "'ociVersion': '1.0.0', 'root': {'path': 'rootfs'}"
#define PROC(...) "{" BASE ", 'process': {'cwd': '/', 'args': ['sh'], " __VA_ARGS__ "}}"
#define LINUX(...) "{" BASE ", 'linux': {" __VA_ARGS__ "}}"
#define RES(...) LINUX("'resources': {" __VA_ARGS__ "}")

#define CHECK_PARSE_ERROR(json, want)                                                              \
  do {                                                                                             \
    cleanup_free char *_e = parse_error(json);                                                     \
    CHECK_STR_CONTAINS(_e, want);                                                                  \
  } while (0)

#define CHECK_VALIDATE_ERROR(json, for_start, want)                                                \
  do {                                                                                             \
    cleanup_free char *_e = validate_error(json, for_start);                                       \
    CHECK_STR_CONTAINS(_e, want);                                                                  \
  } while (0)

/* Compared against a marker so that a failure prints the error. */
#define CHECK_VALID(json, for_start)                                                               \
  do {                                                                                             \
    cleanup_free char *_e = validate_error(json, for_start);                                       \
    CHECK_STR_EQ(_e ? _e : "valid", "valid");                                                      \
  } while (0)

#endif
