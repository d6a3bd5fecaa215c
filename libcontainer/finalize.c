/* The last steps of a container process (finalize.h). */
#include "finalize.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "exec_shim.h"
#include "process.h"
#include "sync.h"

bool finalize_seccomp_early(const struct finalize *f)
{
  return f->seccomp && (!f->p->no_new_privileges || f->seccomp->notify);
}

/* A cwd reached through an fd that leads outside the root (/proc/self/fd/N
 * naming a directory the runtime had open, CVE-2024-21626) is not below the
 * process's root: the kernel's getcwd says "(unreachable)", which glibc
 * reports as ENOENT.  Whatever fd slipped through, the workload never
 * starts there. */
static int check_cwd_inside_root(const char *cwd, nook_error_t *err)
{
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof(buf)) == NULL && errno == ENOENT)
    return nook_error(err, EPERM, "process.cwd: `%s` is outside the container's root", cwd);
  return 0;
}

int finalize_drop(struct finalize *f, nook_error_t *err)
{
  const struct oci_process *p = f->p;
  if (finalize_seccomp_early(f)) {
    /* no_new_privs first when asked: the filter then needs no capability. */
    int notify = -1;
    if (process_apply_no_new_privs(p, err) < 0 || seccomp_install(f->seccomp, &notify, err) < 0)
      return -1;
    if (notify >= 0) {
      int r = sync_send(f->sock, SYNC_SECCOMP_FD, 0, NULL, notify, err);
      close(notify);
      if (r < 0)
        return -1;
    }
  }
  /* The cwd is entered while still privileged (as runc): a directory only
   * root may search, with the process's files below it, must still work.
   * One the new user may enter but root may not (root squashed on NFS, a
   * volume given to the container's user) is tried again as that user. */
  const char *cwd = p->cwd ? p->cwd : "/";
  bool cwd_later = false;
  if (chdir(cwd) < 0) {
    if (errno != EACCES && errno != EPERM)
      return nook_error(err, errno, "process.cwd: chdir to `%s`", cwd);
    cwd_later = true;
  }
  if (process_apply_user(p, f->setgroups_ok, err) < 0)
    return -1;
  if (cwd_later && chdir(cwd) < 0)
    return nook_error(err, errno, "process.cwd: chdir to `%s`", cwd);
  if (check_cwd_inside_root(cwd, err) < 0)
    return -1;
  if (process_find_executable(p, &f->exe, err) < 0 || process_apply_capabilities(p, err) < 0 ||
      process_apply_no_new_privs(p, err) < 0)
    return -1;
  process_apply_umask(p);
  return 0;
}

int finalize_exec(struct finalize *f, int report_fd, nook_error_t *err)
{
  const struct oci_process *p = f->p;
  if (process_write_exec_attr(p, f->exec_attr, err) < 0)
    return -1;
  if (f->seccomp && !finalize_seccomp_early(f) && seccomp_install(f->seccomp, NULL, err) < 0)
    return -1;
  return exec_shim_exec(f->shim, report_fd, f->exe, p->args, p->env ? p->env : (char *[]){NULL},
                        err);
}
