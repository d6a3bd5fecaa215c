/* VM mode's pause, resume, ps, update and events on the host (container.h):
 * each is the guest's own nook run on the container (CHAN_NOOK through the
 * monitor; events' figures: CHAN_STATS, read by the guest init with the
 * same code), so the rules, limits and words are namespace mode's; the host
 * adds what only it has: the vCPUs (the monitor stops them for pause), the
 * VMM's cgroup (update's cpu and pids limits, events' VMM usage) and the
 * VM's fixed memory size. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../cgroups/stats_json.h"
#include "../libcontainer/state.h"
#include "../oci/json.h"
#include "channel.h"
#include "container.h"
#include "lifecycle.h"
#include "mode.h"
#include "monitor.h"
#include "pod.h"
#include "stats_wire.h"

/* An opened VM-mode container: its state directory and state. */
struct vm_ctr {
  int dirfd;
  int mon_dirfd; /* a pod member's: its sandbox's state directory (pod.h); else -1 */
  struct nook_state st;
  enum nook_status status;
};

static int open_ctr(const char *root, const char *id, bool lock, struct vm_ctr *c,
                    nook_error_t *err)
{
  c->dirfd = c->mon_dirfd = -1;
  if ((lock ? state_dir_open_locked(root, id, &c->dirfd, err)
            : state_dir_open(root, id, &c->dirfd, err)) < 0)
    return -1;
  if (state_read(c->dirfd, &c->st, err) < 0) {
    close(c->dirfd);
    c->dirfd = -1;
    return -1;
  }
  c->mon_dirfd = vmm_pod_monitor_dirfd(root, c->dirfd);
  c->status = state_status(c->dirfd, &c->st);
  return 0;
}

static void close_ctr(struct vm_ctr *c)
{
  if (c->dirfd >= 0)
    close(c->dirfd);
  if (c->mon_dirfd >= 0)
    close(c->mon_dirfd);
  c->dirfd = c->mon_dirfd = -1;
  state_clear(&c->st);
}

static bool gone(const struct vm_ctr *c)
{
  return c->status == NOOK_STOPPED || c->status == NOOK_CREATING;
}

/* The guest's nook on the container: argv after the global options, `in`
 * its stdin.  Its warnings are logged as ours; *out (when asked for) gets
 * its stdout.  A container without a monitor (it ended): -2, *err
 * `not_running`. */
static int guest_nook(const struct vm_ctr *c, char *const *argv, const char *in, size_t in_len,
                      const char *not_running, char **out, size_t *out_len, nook_error_t *err)
{
  int r = vmm_monitor_nook(c->mon_dirfd >= 0 ? c->mon_dirfd : c->dirfd, argv, in, in_len, out,
                           out_len, err);
  if (r == -2) {
    nook_error_free(err);
    nook_error(err, 0, "%s", not_running);
  }
  return r;
}

/* ---- pause, resume ---- */

static int set_paused(const char *root, const char *id, bool pause, nook_error_t *err)
{
  struct vm_ctr c;
  if (open_ctr(root, id, true, &c, err) < 0)
    return -1;
  /* The monitor knows created, running and paused; namespace mode's words
   * for a container that has ended. */
  const char *not_running = pause ? "container not running" : "container not paused";
  char *argv[] = {pause ? "pause" : "resume", (char *)id, NULL};
  int r = gone(&c) ? nook_error(err, 0, "%s", not_running)
                   : guest_nook(&c, argv, NULL, 0, not_running, NULL, NULL, err);
  /* A pod member's freeze is its cgroup's in the guest, the VM runs on:
   * the mark the monitor keeps for a VM is the CLI's here (state.h). */
  if (r == 0 && c.mon_dirfd >= 0) {
    if (pause)
      r = write_file_at(c.dirfd, STATE_PAUSED_MARK, O_CREAT | O_TRUNC, 0600, "", 0, err);
    else
      unlinkat(c.dirfd, STATE_PAUSED_MARK, 0);
  }
  close_ctr(&c);
  return r;
}

int vmm_container_pause(const char *root, const char *id, nook_error_t *err)
{
  return set_paused(root, id, true, err);
}

int vmm_container_resume(const char *root, const char *id, nook_error_t *err)
{
  return set_paused(root, id, false, err);
}

/* ---- ps ---- */

int vmm_container_ps(const char *root, const char *id, bool json, char *const *ps_args, char **out,
                     size_t *out_len, nook_error_t *err)
{
  *out = NULL;
  *out_len = 0;
  if (ps_args != NULL && ps_args[0] != NULL)
    return nook_error(err, 0,
                      "ps: options for ps(1) (`%s`) are not supported in VM mode: the guest has "
                      "no ps(1); `nook ps` shows ps -ef's columns, `-f json` the pids",
                      ps_args[0]);
  struct vm_ctr c;
  if (open_ctr(root, id, false, &c, err) < 0)
    return -1;
  char *table[] = {"ps", (char *)id, NULL};
  char *pids[] = {"ps", "--format", "json", (char *)id, NULL};
  int r = 1;
  /* A container that ended has no processes: nothing to list (as in
   * namespace mode), not an error. */
  if (!gone(&c)) {
    r = guest_nook(&c, json ? pids : table, NULL, 0, "container not running", out, out_len, err);
    if (r == -2) {
      nook_error_free(err);
      r = 1;
    }
  }
  close_ctr(&c);
  return r;
}

/* ---- update ---- */

/* The guest RAM the VM booted with (its config), in bytes. */
static int boot_memory(int dirfd, uint64_t *bytes, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file_at(dirfd, "config.json", &text, &len, err) < 0)
    return nook_error_wrap(err, "the container's saved config.json");
  struct oci_config *c = NULL;
  if (oci_config_parse(text, len, "config.json", &c, err) < 0)
    return -1;
  struct vmm_mode mode;
  /* The state says VM mode; the config says with what. */
  int r = vmm_mode_select(c, true, &mode, err);
  if (r >= 0)
    *bytes = vmm_mode_mem_mib(&mode) << 20;
  oci_config_free(c);
  return r < 0 ? -1 : 0;
}

/* A VM's memory is fixed at boot (no balloon or hotplug): a container
 * limit above it cannot be honoured. */
static int check_memory(int dirfd, const struct oci_resources *patch, nook_error_t *err)
{
  const struct oci_memory *m = &patch->memory;
  if (!patch->has_memory || !m->has_limit || m->limit < 0)
    return 0;
  uint64_t boot = 0;
  if (boot_memory(dirfd, &boot, err) < 0)
    return -1;
  if ((uint64_t)m->limit > boot)
    return nook_error(err, 0,
                      "update: memory limit (--memory, memory.limit) %" PRId64
                      " bytes: more than the VM's %" PRIu64
                      " MiB of memory, which is fixed when it boots (vm.hwConfig.memory); VM "
                      "mode cannot grow it",
                      m->limit, boot >> 20);
  return 0;
}

/* cpu and pids also limit the VMM on the host, as create set them there
 * (vmm/confine.c); its memory stays guest RAM plus the VMM's overhead,
 * which update cannot change. */
static int apply_host(const struct nook_state *st, const struct oci_resources *patch,
                      nook_error_t *err)
{
  if (!patch->has_cpu && !patch->has_pids)
    return 0;
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int r = cgroup_from_persisted(st->cgroup, &m, &p, err);
  if (r > 0) {
    struct oci_resources host = {.has_cpu = patch->has_cpu,
                                 .cpu = patch->cpu,
                                 .has_pids = patch->has_pids,
                                 .pids_limit = patch->pids_limit};
    r = m->apply(&p, &host, err);
    if (r < 0)
      nook_error_wrap(err, "update: the VMM's cgroup on the host (the guest has the new limits)");
  }
  cgroup_paths_clear(&p);
  return r < 0 ? -1 : 0;
}

int vmm_container_update(const char *root, const char *id, const struct oci_resources *patch,
                         nook_error_t *err)
{
  struct vm_ctr c;
  if (open_ctr(root, id, true, &c, err) < 0)
    return -1;
  int r = -1;
  /* Device rules are never updated (the CLI warned); the rest goes to the
   * guest's nook as an `update -r -` document. */
  struct oci_resources doc = *patch;
  doc.devices = NULL;
  doc.n_devices = 0;
  doc.has_devices = false;
  cleanup_free char *json = oci_resources_json(&doc);
  char *argv[] = {"update", "--resources", "-", (char *)id, NULL};
  if (gone(&c))
    nook_error(err, 0, "container not running");
  else if (check_memory(c.dirfd, patch, err) == 0 &&
           guest_nook(&c, argv, json, strlen(json), "container not running", NULL, NULL, err) == 0)
    r = apply_host(&c.st, patch, err);
  close_ctr(&c);
  return r;
}

/* ---- events ---- */

/* The VMM's own usage on the host (its cgroup there), or false with a
 * warning: the guest's figures are the container's, still worth a line. */
static bool vmm_usage(const struct vm_ctr *c, struct cgroup_stats *vmm)
{
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  nook_error_t e = NULL;
  int have = cgroup_from_persisted(c->st.cgroup, &m, &p, &e);
  if (have > 0 && (m->stats == NULL || m->stats(&p, vmm, &e) < 0))
    have = -1;
  if (have < 0) {
    cleanup_free char *why = nook_error_text(e);
    nook_warn("events: the VMM's usage: %s", why ? why : "not available");
  }
  nook_error_free(&e);
  cgroup_paths_clear(&p);
  return have > 0;
}

/* The guest's figures for the container (CHAN_STATS: read by the guest
 * init with namespace mode's code and words) as runc's stats line, with
 * the VMM's own usage on the host added as data.vmm (a reader of runc's
 * format ignores it); *oom gets the guest's OOM-kill count, or -1.  The
 * line is generated here from the decoded figures, by namespace mode's
 * code: the guest sends numbers, never text that reaches our reader. */
static int stats_line(const struct vm_ctr *c, const char *id, char **line, long long *oom,
                      nook_error_t *err)
{
  bool member = c->mon_dirfd >= 0;
  cleanup_close int fd = vmm_monitor_connect(member ? c->mon_dirfd : c->dirfd, err);
  if (fd == -2) {
    nook_error_free(err);
    return nook_error(err, 0, "container with id %s is not running", id);
  }
  /* A pod member's are its own cgroup's in the guest: named. */
  if (fd < 0 ||
      chan_send(fd, CHAN_STATS, 0, member ? id : NULL, member ? strlen(id) + 1 : 0, err) < 0)
    return -1;
  /* The host's figures while the guest works out its own (a member has no
   * VMM of its own). */
  struct cgroup_stats vmm = {0}, guest = {0};
  bool have = !member && vmm_usage(c, &vmm);
  cleanup_free struct chan_msg *msg = xmalloc(sizeof(*msg));
  int r = chan_recv(fd, CHAN_BIT(CHAN_OK), msg, err);
  if (r == 0)
    r = stats_wire_decode(msg->data, msg->len, &guest, err);
  if (r == 0) {
    *oom = guest.has_mem_events ? (long long)guest.ev_oom_kill : -1;
    *line = stats_event_json_vmm(id, &guest, have ? &vmm : NULL);
  }
  cgroup_stats_clear(&guest);
  cgroup_stats_clear(&vmm);
  return r;
}

/* Whether the container's init has ended: its monitor outlives it while
 * the VM powers off, and says so. */
static bool ended(const struct vm_ctr *c)
{
  /* A member ends with its proxy (pod.h). */
  if (c->mon_dirfd >= 0)
    return state_status(c->dirfd, &c->st) == NOOK_STOPPED;
  cleanup_free struct chan_msg *msg = xmalloc(sizeof(*msg));
  nook_error_t e = NULL;
  int r = vmm_monitor_request(c->dirfd, CHAN_STATE, 0, NULL, 0, msg, &e);
  nook_error_free(&e);
  return r == -2 || (r == 0 && msg->value == NOOK_STOPPED);
}

/* Every interval the guest's stats, and an oom event before them whenever
 * the guest's OOM-kill count went up; until the container ends (its
 * monitor exits). */
static int events_loop(const struct vm_ctr *c, const char *id, const struct nook_events_opts *o,
                       nook_error_t *err)
{
  cleanup_close int pidfd = sys_pidfd_open(c->st.pid, 0);
  if (pidfd < 0)
    return errno == ESRCH ? 0 : nook_error(err, errno, "pidfd_open %d", c->st.pid);
  if (proc_start_time(c->st.pid) != c->st.pid_start)
    return 0;
  /* OOM kills from before we started are not ours to report. */
  long long seen = -1;
  cleanup_free char *first = NULL;
  nook_error_t e = NULL;
  if (stats_line(c, id, &first, &seen, &e) < 0)
    nook_error_free(&e);
  long long next = monotonic_ns() + o->interval_ns;
  for (;;) {
    long long left = next - monotonic_ns();
    if (left < 0)
      left = 0;
    struct timespec ts = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int n = ppoll(&p, 1, &ts, NULL);
    if (n < 0 && errno != EINTR)
      return nook_error(err, errno, "events: poll");
    if (n > 0)
      return 0;
    if (monotonic_ns() < next)
      continue;
    cleanup_free char *line = NULL;
    long long oom = -1;
    if (stats_line(c, id, &line, &oom, &e) < 0) {
      cleanup_free char *msg = nook_error_text(e);
      nook_error_free(&e);
      if (ended(c))
        return 0;
      nook_warn("events: %s", msg);
    } else {
      if (oom > seen && seen >= 0) {
        cleanup_free char *ev = oom_event_json(id);
        if (o->emit(ev, o->data, err) < 0)
          return -1;
      }
      if (oom >= 0)
        seen = oom;
      if (o->emit(line, o->data, err) < 0)
        return -1;
    }
    next += o->interval_ns;
    long long now = monotonic_ns();
    if (next <= now)
      next = now + o->interval_ns;
  }
}

int vmm_container_events(const char *root, const char *id, const struct nook_events_opts *o,
                         nook_error_t *err)
{
  if (o->interval_ns <= 0)
    return nook_error(err, 0, "duration interval must be greater than 0");
  struct vm_ctr c;
  if (open_ctr(root, id, false, &c, err) < 0)
    return -1;
  int r;
  if (gone(&c)) {
    r = nook_error(err, 0, "container with id %s is not running", id);
  } else if (o->stats_only) {
    cleanup_free char *line = NULL;
    long long oom;
    r = stats_line(&c, id, &line, &oom, err);
    if (r == 0)
      r = o->emit(line, o->data, err);
  } else {
    r = events_loop(&c, id, o, err);
  }
  close_ctr(&c);
  return r < 0 ? -1 : 0;
}
