/* The guest side of a VM-mode container: the guest init builds, starts,
 * signals and execs in the container by running nook's own CLI (`nook
 * start`, `kill`, ...), create and exec code in forked children, so the
 * OCI config and the exec'd processes' settings are applied by the same
 * libcontainer code as in namespace mode.  It owns the stdio of the container's
 * processes (guest_proc.h) and, being PID 1, reaps them when they end. */
#ifndef NOOK_VMM_GUEST_CTR_H
#define NOOK_VMM_GUEST_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../cgroups/cgroup.h"
#include "channel.h"
#include "guest.h"
#include "guest_proc.h"

struct nook_stats_source;
struct net_vm_link;

/* The share the container's bundle arrives on: /mnt/ctr. */
#define VMM_CTR_TAG "ctr"

/* At most this many exec'd processes at once: each holds three fds of the
 * guest init's, whose RLIMIT_NOFILE (1024) the container's processes
 * inherit, so it is not raised. */
#define GUEST_MAX_EXECS 300

struct guest_ctr {
  /* The CLI the container commands run, in a forked child each. */
  vmm_nook_main_fn *nook_main;
  char *id;
  /* procs[0] is the container's init (id CHAN_PROC_INIT), the rest the
   * exec'd processes still running (or not yet reaped). */
  struct guest_proc **procs;
  size_t n_procs;
  /* The container's state and cgroup for CHAN_STATS, found at its first
   * request and kept, with the cgroup's stats files open, for the VM's
   * life (the cgroup does not move).  The fds are O_CLOEXEC and every
   * child of ours closes what it inherits (child_fresh). */
  struct nook_stats_source *stats;
  /* The container's network interface (CHAN_NET), or NULL: the guest's
   * network device becomes it once the container exists. */
  struct net_vm_link *net;
};

void guest_ctr_init(struct guest_ctr *c, vmm_nook_main_fn *nook_main);

/* `nook create` of the share's bundle: the container exists, its process
 * waits for start.  config: the share's config.json as the host sent it
 * (NULL: read from the share); flags: CHAN_CREATE_*.  With CHAN_CREATE_TTY
 * the guest nook sends the pty master to a console socket of ours (as an
 * engine's), which becomes the container's stdio.  The error is the guest
 * nook's own (--log-format json), as the CLI shows it; on success *warnings
 * gets the warnings it logged, one a line (or NULL). */
int guest_ctr_create(struct guest_ctr *c, const char *id, const char *config, int flags,
                     char **warnings, nook_error_t *err);
int guest_ctr_start(struct guest_ctr *c, char **warnings, nook_error_t *err);

/* CHAN_MEMBER from the host (channel.h): `nook create` of a pod's member
 * beside the container, its init a process of id proc; *pid its guest pid. */
int guest_ctr_member(struct guest_ctr *c, const struct chan_msg *m, pid_t *pid, char **warnings,
                     nook_error_t *err);

/* CHAN_NET, before the create: text is net_vm_link_encode()'s. */
int guest_ctr_network(struct guest_ctr *c, const char *text, nook_error_t *err);
int guest_ctr_kill(struct guest_ctr *c, int sig, bool all, char **warnings, nook_error_t *err);

/* `nook ARGV...` on the container (CHAN_NOOK: pause, resume, ps, update,
 * events --stats) with `in` as its stdin; *out gets its stdout (allocated,
 * *out_len bytes), *warnings what it logged as warnings.  Its failure is
 * *err in its own words, as for create. */
int guest_ctr_nook(struct guest_ctr *c, char *const *argv, const char *in, size_t in_len,
                   char **out, size_t *out_len, char **warnings, nook_error_t *err);

/* CHAN_STATS: the container's usage figures, read here rather than by a
 * forked guest nook (channel.h); the same code and errors as namespace
 * mode's `events --stats`; member: a pod member's instead (pod.h), or
 * NULL.  cgroup_stats_clear() frees *out. */
int guest_ctr_stats(struct guest_ctr *c, const char *member, struct cgroup_stats *out,
                    nook_error_t *err);

/* CHAN_CTR_EXEC: `nook exec -d --pid-file` of the request, its stdio
 * pipes of ours (or, with a terminal, a pty whose master its console socket
 * gives us).  The guest nook returns once the process runs (or could not:
 * its own words); the process is then our child (we are PID 1, it was
 * orphaned), so we reap it with its raw wait status.  *pid: its guest pid. */
int guest_ctr_exec(struct guest_ctr *c, const char *data, size_t len, pid_t *pid, char **warnings,
                   nook_error_t *err);

/* The process with that id, or NULL (ended, or never was). */
struct guest_proc *guest_ctr_proc(struct guest_ctr *c, int32_t id);

/* Signal `sig` to the process with that id, unless it ended (CHAN_SIGNAL). */
void guest_ctr_signal(struct guest_ctr *c, int32_t id, int sig);

/* A child was reaped with `status`: when it is one of the container's
 * processes, relay what is left of its output and send CHAN_EXIT (an
 * exec'd process is then forgotten). */
int guest_ctr_reaped(struct guest_ctr *c, int chan, pid_t pid, int status, nook_error_t *err);

#endif
