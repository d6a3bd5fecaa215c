/* The last steps of every container process, the init (init.c) and an
 * exec'd one (exec.c): one order, in one place, because the order is what
 * the security depends on. */
#ifndef NOOK_FINALIZE_H
#define NOOK_FINALIZE_H

#include <stdbool.h>

#include "../base/error.h"
#include "../oci/config.h"
#include "seccomp.h"

struct finalize {
  const struct oci_process *p;
  const struct seccomp_prog *seccomp; /* or NULL */
  int sock;                           /* sync socket: the notify fd goes there */
  bool setgroups_ok;                  /* false in a user namespace that denies setgroups */
  int shim;                           /* exec_shim_open() */
  int exec_attr;                      /* process_open_exec_attr(), or -1 */
  char *exe;                          /* filled by finalize_drop() */
};

/* The filter goes in as late as the kernel allows.  With no_new_privs that
 * is right before execve.  Without it, loading needs CAP_SYS_ADMIN, so it
 * goes in before the user switch and capability drop (as runc does), and so
 * does a notify profile, whose fd must reach the runtime over `sock` before
 * the process's next syscalls can wait on it. */
bool finalize_seccomp_early(const struct finalize *f);

/* Early seccomp, the cwd (entered before the user switch; a missing one is
 * an error), the user, the
 * executable (looked up in the process's PATH with the new ids),
 * capabilities, no_new_privs, umask. */
int finalize_drop(struct finalize *f, nook_error_t *err);

/* The LSM label, late seccomp, and execve of f->exe through the exec shim,
 * which reports a failing execve on report_fd.  Returns only on failure. */
int finalize_exec(struct finalize *f, int report_fd, nook_error_t *err);

#endif
