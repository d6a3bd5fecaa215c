/* nook job --vm (job.h). */
#include "job.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "../libcontainer/foreground.h"
#include "container.h"

static void reap(pid_t pid)
{
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static int run_vm_job(const struct nook_job_opts *o, const char *id, struct nook_job_report *r,
                      nook_error_t *err)
{
  cleanup_job_create struct nook_job_create c = {0};
  if (nook_job_create_opts(o, id, &c, err) < 0)
    return -1;
  const char *root = c.root;
  pid_t monitor;
  if (vmm_container_create(&c.co, false, &monitor, err) < 0)
    return -1;
  sigset_t all, old;
  block_signals_for_forwarding(&all, &old);
  int ret = -1;
  if (vmm_container_start(root, id, err) < 0) {
    vmm_container_delete(root, id, true, NULL);
    reap(monitor);
  } else {
    /* The VMM's cgroup is the monitor's to remove once QEMU is gone, which
     * may come before the job's end is seen here: its figures (the VM as
     * the host sees it) would be there for some jobs and not for others.
     * The job's own live in the guest: none are reported. */
    ret = nook_job_supervise_container(o, root, id, monitor, false, r, err);
    nook_error_t e = NULL;
    if (vmm_container_delete(root, id, true, &e) < 0) {
      cleanup_free char *t = nook_error_text(e);
      nook_warn("job %s: delete: %s", id, t);
      nook_error_free(&e);
    }
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return ret;
}

int vmm_job_run(const struct nook_job_opts *o, struct nook_job_report *r, nook_error_t *err)
{
  return nook_job_run_with(o, run_vm_job, r, err);
}
