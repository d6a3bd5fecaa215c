/* One booted microVM seen from the host: launched by a backend, its guest
 * init reachable over the control channel.  This is the piece the VM-mode
 * monitor process (issue #14) holds for a container's lifetime. */
#ifndef NOOK_VMM_SESSION_H
#define NOOK_VMM_SESSION_H

#include <stdbool.h>

#include "../base/error.h"
#include "channel.h"
#include "vmm.h"

struct vmm_session_opts {
  const char *backend;       /* "qemu" */
  const char *kernel_bundle; /* NULL: vmm_kernel_bundle() finds one */
  const char *cache_dir;     /* where initramfs archives are kept */
  /* Where templates are kept (template.h), or NULL: every VM boots. */
  const char *template_dir;
  const char *work_parent; /* a private directory for the socket and logs is made here */
  const struct vmm_share *shares;
  size_t nshares;
  const char *disk;        /* a virtio-blk disk image (vm.image), or NULL */
  const char *disk_format; /* "raw" or "qcow2"; NULL: raw */
  /* enum vmm_guest_need (initramfs.h): the modules the guest gets beyond
   * its boot; a disk adds VMM_NEED_DISK. */
  unsigned needs;
  unsigned vcpus, mem_mib;
  enum vmm_accel accel; /* VMM_ACCEL_AUTO: detected */
  int boot_timeout_ms;  /* launch to the guest's ready */
  /* The config's vm settings (vmm_mode_spec()'s vcpus, mem_mib, program,
   * vmm_args, kernel, kernel_args), or NULL; they take the place of vcpus
   * and mem_mib above.  A kernel given there replaces the bundle's vmlinux
   * (the bundle still gives the initramfs its modules). */
  const struct vmm_spec *settings;
  /* vmm_confine_prepare()'s result, or NULL: the VMM runs unconfined. */
  const struct vmm_confinement *confine;
  /* Connect the VMM's control interface (vmm_session_vcpus_run()). */
  bool control;
  /* A network device on this tap's queue (vmm_spec.net_fd), or none. */
  bool has_net;
  int net_fd;
};

struct vmm_session {
  const struct vmm_backend *backend;
  struct vmm_vm vm;
  int chan;
  int ctl; /* the VMM's control connection (opts.control), or -1 */
  char *work_dir;
  char *kernel_release; /* the guest's, from its ready */
  double ready_ms;      /* launch to ready, host clock */
};

/* Build (or find) the initramfs, launch the VMM, accept its channel and wait
 * for the guest's ready.  On failure nothing is left running; the error says
 * what the VMM or the guest said. */
int vmm_session_boot(const struct vmm_session_opts *o, struct vmm_session *s, nook_error_t *err);

/* Run a process in the guest; its stdout and stderr go to out_fd and
 * err_fd; *status is its exit status (128+signal when killed).  Signals read
 * from sigfd (a signalfd, or -1) while it runs are forwarded to it. */
int vmm_session_exec(struct vmm_session *s, const struct chan_exec *e, int out_fd, int err_fd,
                     int sigfd, int *status, nook_error_t *err);

/* Stop (run false) or resume the guest's vCPUs (opts.control). */
int vmm_session_vcpus_run(struct vmm_session *s, bool run, nook_error_t *err);

/* Ask the guest to power off and wait (at most timeout_ms) for the VMM to
 * exit; killed otherwise. */
int vmm_session_poweroff(struct vmm_session *s, int timeout_ms, nook_error_t *err);

/* Kill the VMM if it still runs, remove the work directory. */
void vmm_session_destroy(struct vmm_session *s);

#endif
