/* OCI hooks (config.md "POSIX-platform Hooks").  Each hook gets the state JSON
 * on stdin, its own args/env, and an optional timeout after which it is
 * killed and counted as failed. */
#ifndef NOOK_HOOKS_H
#define NOOK_HOOKS_H

#include <stddef.h>

#include "../base/error.h"
#include "../oci/config.h"

/* Runs hooks[0..n) in order; stops at the first failure and returns it with
 * the hook's kind ("createRuntime"), index and path in the message, plus
 * the hook's stderr tail when it wrote one. */
int hooks_run(const char *kind, const struct oci_hook *hooks, size_t n, const char *state_json,
              nook_error_t *err);

/* Same, but failures are logged as warnings and all hooks run (poststop,
 * poststart per runtime.md). */
void hooks_run_warn(const char *kind, const struct oci_hook *hooks, size_t n,
                    const char *state_json);

#endif
