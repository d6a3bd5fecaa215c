/* The container process's final execve goes through a sealed memfd copy of
 * a tiny shim (libcontainer/shim/exec_shim.c explains why: CVE-2019-5736). */
#ifndef NOOK_EXEC_SHIM_H
#define NOOK_EXEC_SHIM_H

#include "../base/error.h"

/* A sealed, close-on-exec memfd holding the shim.  Made before the seccomp
 * filter goes in (the profile may refuse memfd_create). */
int exec_shim_open(int *fd, nook_error_t *err);

/* execve `exe` with argv/envp through the shim.  report_fd (or -1) is kept
 * open across the shim's exec so it can report a failing execve; it never
 * reaches the workload.  Returns only on failure. */
int exec_shim_exec(int shim_fd, int report_fd, const char *exe, char *const argv[],
                   char *const envp[], nook_error_t *err);

#endif
