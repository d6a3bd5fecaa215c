/* nook job --vm: the job in a VM-mode container (the nook.vm annotation),
 * created, started and deleted through VM mode's lifecycle and supervised
 * by libcontainer's job code (libcontainer/job.h). */
#ifndef NOOK_VMM_JOB_H
#define NOOK_VMM_JOB_H

#include "../base/error.h"
#include "../libcontainer/job.h"

/* nook_job_run() in VM mode.  The monitor stands for the job's init; the
 * grace's SIGKILL goes to the VMM's cgroup (the VM and everything in it).
 * The report's figures are null (job.c says why); the limits are the
 * config's, applied in the guest. */
int vmm_job_run(const struct nook_job_opts *o, struct nook_job_report *r, nook_error_t *err);

#endif
