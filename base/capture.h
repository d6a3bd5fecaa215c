/* Running a helper program and reading what it prints. */
#ifndef NOOK_CAPTURE_H
#define NOOK_CAPTURE_H

#include <stdbool.h>

#include "error.h"

/* Run argv[0] (an absolute path) with stdin on /dev/null and its stdout
 * read whole into *out (NUL-terminated, "" when it printed nothing); its
 * stderr is ours, or /dev/null with quiet.  envp NULL: our environment.
 * A program that cannot run or ends other than with exit 0 is an error
 * naming it and its status (128+signal when killed). */
int run_capture(char *const argv[], char *const envp[], bool quiet, char **out, nook_error_t *err);

/* The same with our environment and its stderr read into *out too; when it
 * fails, what it printed ends the error message (a setuid helper such as
 * newuidmap explains its refusals there). */
int run_capture_merged(char *const argv[], char **out, nook_error_t *err);

#endif
