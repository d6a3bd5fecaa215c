/* The VM monitor: the host process that IS a VM-mode container for
 * everybody outside (its pid is the container's pid in state.json).
 *
 * Forked by `create`, it leaves the CLI's session, builds the share in its
 * own mount namespace, boots the VM (QEMU is its child and dies with it),
 * has the guest create the container, reports to the CLI and then serves:
 *  - the guest's channel: the container's stdout/stderr (written to the
 *    monitor's own fds 1 and 2, the ones `create` was given, or with a
 *    terminal to the host pty whose master the engine got) and its exit;
 *  - its fd 0 (or the host pty), relayed to the container's stdin once it
 *    is started; both ways with the channel's flow control (relay.h);
 *  - monitor.sock in the state directory (SOCK_STREAM, vmm/channel framing;
 *    requests CHAN_STATE, CHAN_START, CHAN_KILL, CHAN_POWEROFF (delete:
 *    QEMU killed and reaped here, the monitor dies by SIGKILL) and CHAN_NOOK
 *    (the guest's nook: ps, update, events --stats; pause and resume, which
 *    also stop and run the vCPUs), each answered CHAN_OK or CHAN_ERROR);
 *  - the signals sent to it, forwarded to the container's init.
 * When the container's init ends, the monitor powers the VM off and ends
 * the same way: exit code, or the same signal (so a waiter sees
 * WIFSIGNALED as with runc's init).  A VMM that dies under it ends it by
 * SIGKILL: the container was killed with its machine. */
#ifndef NOOK_VMM_MONITOR_H
#define NOOK_VMM_MONITOR_H

#include <signal.h>
#include <stddef.h>

#include "../oci/config.h"
#include "vmm.h"

/* In the state directory: the monitor's socket, and start.sock (a link to
 * it) between create and start, as in namespace mode. */
#define VMM_MONITOR_SOCK "monitor.sock"
/* Also there while the container's interface is redirected to the VM's
 * tap: net_vm_link_record(), so that delete can undo what a killed monitor
 * could not (vmm_container_delete). */
#define VMM_NET_RECORD "vmnet"

struct vmm_monitor_opts {
  const char *id;
  const char *state_dir; /* absolute ROOT/ID */
  const char *bundle;    /* absolute */
  const char *rootfs;    /* absolute, resolved */
  const struct oci_config *config;
  const char *config_text;
  size_t config_len;
  const char *backend;
  const char *annotation;          /* the one that chose VM mode, left out of the guest's config */
  const char *cache_dir;           /* initramfs cache */
  const char *template_dir;        /* templates (template.h); NULL: none */
  const char *seccomp_cache;       /* the host's compiled-filter cache; NULL: none */
  const struct vmm_spec *settings; /* the config's vm settings (vmm_mode_spec()) */
  /* Where QEMU runs (prepared by the CLI, which recorded its cgroup in the
   * state); the monitor joins its cgroup once the container is created,
   * and releases it on a failure before that.  NULL: unconfined. */
  struct vmm_confinement *confine;
  /* With process.terminal: where the host pty's master goes (absolute). */
  const char *console_socket;
  /* A socket to the CLI: the monitor sends CHAN_OK or CHAN_ERROR once the
   * container is created in the guest (or could not be), then waits for the
   * CLI's CHAN_OK; anything else makes it power off and exit. */
  int report_fd;
};

/* The monitor's life; it never returns. */
__attribute__((noreturn)) void vmm_monitor_main(const struct vmm_monitor_opts *o);

/* End as a container's process ended (its raw wait status): its exit
 * code, or the same signal (no core dump), so a waiter sees WIFSIGNALED as
 * with runc's process.  A signal whose default is not to terminate cannot
 * be reproduced: 128+S then, as runc reports it. */
__attribute__((noreturn)) void vmm_die_like(int wstatus);

/* The client side of monitor.sock: a connection (ROOT/ID open as dirfd);
 * -2 (err set) when no monitor listens, -1 on other errors. */
int vmm_monitor_connect(int dirfd, nook_error_t *err);
/* The guest nook's warnings (CHAN_OK's payload), one a line, as the CLI's
 * own. */
void vmm_warn_lines(const char *text, size_t len);

/* The signals the monitor passes on to the container's init, and `run`
 * to the monitor: every one but those the kernel will not let be caught
 * and those that mean a fault in nook itself or concern its terminal. */
void vmm_forwarded_signals(sigset_t *set);

#endif
