/* One cgroup manager interface; v2 and v1 (and hybrid, which composes them)
 * implement it behind a small table of function pointers. */
#ifndef NOOK_CGROUP_H
#define NOOK_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../oci/config.h"

enum cgroup_mode { CGROUP_MODE_UNIFIED, CGROUP_MODE_LEGACY, CGROUP_MODE_HYBRID };

/* Where a container's cgroup lives: persisted in the container state so that
 * later commands (delete, kill --all, ps, pause) find it without the config. */
struct cgroup_paths {
  enum cgroup_mode mode;
  char *unified;  /* absolute dir in the v2 hierarchy, or NULL */
  char **v1_dirs; /* absolute dirs, one per v1 hierarchy, NULL-terminated */
  /* Parallel to v1_dirs: the hierarchy's controllers as /proc/self/cgroup
   * names them ("memory", "cpu,cpuacct", "name=systemd"), so later commands
   * find the freezer or pids dir without rescanning the mounts. */
  char **v1_controllers;
  /* How many trailing path components nook created (parallel to v1_dirs; 0
   * when the leaf already existed).  destroy removes the leaf and only the
   * parents nook made, never pre-existing ones. */
  unsigned *v1_created;
  unsigned unified_created;
  /* The stats files kept open (cgroup_paths_keep_open), or NULL. */
  struct cgroup_open_files *keep_open;
  /* The systemd driver: the scope systemd made for the container and its
   * slice (both NULL for the cgroupfs driver).  The dirs above are the
   * scope's cgroup, systemd's to create and remove (created counts 0) but
   * for the v1 hierarchies systemd does not manage. */
  char *unit, *slice;
};

/* Who makes the container's cgroup: nook itself in the cgroup filesystem,
 * or systemd (--systemd-cgroup), as a transient scope. */
enum cgroup_driver { CGROUP_DRIVER_FS, CGROUP_DRIVER_SYSTEMD };

/* Usage figures for `events --stats` (runc's stats JSON) plus what cgroup v2
 * adds.  A has_* flag is false when the host does not provide the figure. */
struct cgroup_blkio_entry {
  uint64_t major, minor;
  char op[16]; /* "Read", "Write", "Sync", "Async", "Discard", "Total" */
  uint64_t value;
};

struct cgroup_hugetlb_entry {
  char page_size[16]; /* "2MB" */
  /* max: the peak usage on v1 (max_usage_in_bytes); v2 keeps no peak, so
   * there it is the limit (hugetlb.<size>.max, UINT64_MAX for "max"). */
  uint64_t usage, max, failcnt;
};

struct cgroup_psi {
  double avg10, avg60, avg300;
  uint64_t total;
};

struct cgroup_stats {
  /* cpu */
  bool has_cpu;
  uint64_t cpu_usage_total, cpu_usage_kernel, cpu_usage_user; /* ns */
  uint64_t *cpu_percpu; /* ns, n_percpu entries (v1 cpuacct.usage_percpu) */
  size_t n_percpu;
  uint64_t throttling_periods, throttled_periods, throttled_time; /* throttled_time ns */
  /* memory */
  bool has_memory;
  uint64_t mem_usage, mem_max_usage, mem_limit, mem_failcnt, mem_cache;
  uint64_t swap_usage, swap_limit;
  struct oci_kv *mem_raw; /* memory.stat, key/value, n_mem_raw entries */
  size_t n_mem_raw;
  /* v2 extras */
  bool has_mem_peak;
  uint64_t mem_peak;
  bool has_mem_events;
  uint64_t ev_low, ev_high, ev_max, ev_oom, ev_oom_kill;
  /* pids */
  bool has_pids;
  uint64_t pids_current, pids_limit; /* limit 0 = max */
  bool has_pids_peak;
  uint64_t pids_peak;
  /* blkio */
  struct cgroup_blkio_entry *io_service_bytes, *io_serviced;
  size_t n_io_service_bytes, n_io_serviced;
  /* hugetlb */
  struct cgroup_hugetlb_entry *hugetlb;
  size_t n_hugetlb;
  /* PSI (v2, or the unified hierarchy of a hybrid host when it has them) */
  bool has_psi_cpu, has_psi_memory, has_psi_io;
  struct cgroup_psi psi_cpu_some, psi_cpu_full, psi_mem_some, psi_mem_full, psi_io_some,
      psi_io_full;
};

void cgroup_stats_clear(struct cgroup_stats *s);

/* The few figures of a job's report (nook job), read from a handful of
 * small files rather than the whole of cgroup_stats (which also parses
 * memory.stat, the per-cpu usage, hugetlb and PSI: ~4x the cost).  Each
 * has_ flag is false when the host does not give the figure.  The same on
 * every layout: a figure comes from the v1 hierarchy of its controller
 * when there is one, else from the unified one (usage.c). */
struct cgroup_usage {
  bool has_cpu;
  uint64_t cpu_user_ns, cpu_system_ns; /* v1: USER_HZ ticks, so 10 ms steps */
  bool has_memory_peak;
  uint64_t memory_peak; /* v1 memory.max_usage_in_bytes, v2 memory.peak */
  bool has_pids_peak;
  uint64_t pids_peak;
  bool has_io;
  uint64_t io_read_bytes, io_write_bytes; /* every device */
  bool has_oom;                           /* v2 only: v1 counts no OOM events */
  uint64_t oom;
  bool has_oom_kill; /* v2 memory.events, v1 memory.oom_control (Linux 4.13) */
  uint64_t oom_kill;
};
int cgroup_usage(const struct cgroup_paths *p, struct cgroup_usage *out, nook_error_t *err);

struct cgroup_manager {
  const char *name;
  /* Create the cgroup for `cgroups_path` (absolute, relative to the caller's
   * cgroup, or NULL for a default derived from id). */
  int (*create)(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                nook_error_t *err);
  /* For a manager whose cgroup cannot exist without a process (systemd
   * makes a scope only around one): create only plans, and start makes the
   * cgroup with pid in it, the unit's properties from r and the config's
   * annotations, then applies r as apply would.  p follows where the cgroup
   * really is.  NULL for the cgroupfs managers: create, apply, then enter. */
  int (*start)(struct cgroup_paths *p, pid_t pid, const struct oci_resources *r,
               const struct oci_kv *annotations, size_t n_annotations, nook_error_t *err);
  int (*enter)(const struct cgroup_paths *p, pid_t pid, nook_error_t *err);
  /* Write the resources that are set.  Device rules are replaced as a whole
   * when r->devices is non-NULL (create always passes the full set) and left
   * alone when it is NULL (update, as runc does). */
  int (*apply)(const struct cgroup_paths *p, const struct oci_resources *r, nook_error_t *err);
  /* Pids of every process in the cgroup (allocated, *n entries). */
  int (*pids)(const struct cgroup_paths *p, pid_t **out, size_t *n, nook_error_t *err);
  int (*kill)(const struct cgroup_paths *p, int sig, nook_error_t *err);
  int (*freeze)(const struct cgroup_paths *p, bool frozen, nook_error_t *err);
  /* Whether the cgroup is frozen now (for the "paused" status). */
  int (*frozen)(const struct cgroup_paths *p, bool *out, nook_error_t *err);
  int (*stats)(const struct cgroup_paths *p, struct cgroup_stats *out, nook_error_t *err);
  /* An fd that becomes readable (poll POLLIN/POLLPRI) when an OOM kill
   * happens in the cgroup (v1 memory.oom_control eventfd, v2 memory.events
   * POLLPRI), or -1 with err set when the host has no such notification. */
  int (*oom_notify_fd)(const struct cgroup_paths *p, nook_error_t *err);
  /* Remove every directory; kills what is left first.  Missing dirs are not
   * an error (delete must be idempotent). */
  int (*destroy)(const struct cgroup_paths *p, nook_error_t *err);
};

int cgroup_detect_mode(enum cgroup_mode *out, nook_error_t *err);
/* The cgroupfs manager for a mode. */
const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode);
/* The manager that made p (a planned or persisted one): systemd's when p
 * names a unit, else the cgroupfs manager of p's mode. */
const struct cgroup_manager *cgroup_manager_of(const struct cgroup_paths *p);

/* The directories create() would make for cgroupsPath and id, with the
 * created counts it would report now, without making anything: create
 * records them before it makes them, so that a create killed in between
 * leaves nothing `delete` cannot find.  With the systemd driver: the
 * scope's unit name and slice (cgroupsPath "slice:prefix:name"), and where
 * systemd will make it; fails when systemd is not the init system. */
int cgroup_plan(enum cgroup_driver driver, const char *cgroups_path, const char *id,
                struct cgroup_paths *out, nook_error_t *err);

/* Serialise paths to/from a single string kept in the state file. */
char *cgroup_paths_serialize(const struct cgroup_paths *p);
int cgroup_paths_parse(const char *s, struct cgroup_paths *out, nook_error_t *err);
void cgroup_paths_clear(struct cgroup_paths *p);
/* From now on the stats read for p keep their files open and read them
 * again from the start: for a caller that asks for the same cgroup's
 * figures again and again (VM mode's guest init, where a path walk, an open
 * and a close of each of ~20 files cost more than the figures under
 * emulation).  The fds are O_CLOEXEC; cgroup_paths_clear closes them. */
void cgroup_paths_keep_open(struct cgroup_paths *p);
/* Every leaf was made by the create that filled p (the created counts):
 * no process can be in it yet. */
bool cgroup_paths_fresh(const struct cgroup_paths *p);
/* The persisted form `s` (a state's "cgroup", or NULL) parsed and its
 * manager found: 1, or 0 when there is none. */
int cgroup_from_persisted(const char *s, const struct cgroup_manager **m, struct cgroup_paths *p,
                          nook_error_t *err);

/* Fails when the cgroup a container is about to enter is frozen (by either
 * freezer on a hybrid host): its process would stop before it could report. */
int cgroup_refuse_frozen(const struct cgroup_paths *p, nook_error_t *err);

/* `exec --cgroup`: move p (a container's paths) to the sub-cgroups named
 * by specs, each "[CONTROLLER[,...]:]PATH" with PATH relative to the
 * container's cgroup ("/" for the cgroup itself).  Without controllers an
 * entry applies to every hierarchy; the last entry for a hierarchy wins.
 * On failure (a bad PATH, a controller the container lacks) p is
 * unchanged. */
int cgroup_paths_sub(struct cgroup_paths *p, char *const *specs, size_t n, nook_error_t *err);

/* ---- the container's /sys/fs/cgroup (mount_plan.c) ---- */
struct cgroup_mount {
  /* Below the container's /sys/fs/cgroup ("memory", "unified"), or NULL
   * for /sys/fs/cgroup itself. */
  char *dir;
  bool v2; /* cgroup2, else a cgroup v1 hierarchy */
  /* A fresh v1 mount's options ("cpu", "cpuacct"; "none", "name=systemd"),
   * NULL-terminated; NULL for cgroup2. */
  char **options;
  /* Without a cgroup namespace, on a legacy or hybrid host: the host
   * directory of the process's own cgroup, bound there instead of a fresh
   * mount.  NULL: mount fresh. */
  char *bind;
};

struct cgroup_mount_plan {
  /* The mounts go in a tmpfs at /sys/fs/cgroup (legacy and hybrid hosts);
   * otherwise the one mount is /sys/fs/cgroup. */
  bool tmpfs;
  struct cgroup_mount *mounts;
  size_t n;
};

/* The mounts for a container's /sys/fs/cgroup, for the calling process
 * (the container's init, in its cgroup and, with cgroupns, in its cgroup
 * namespace).  cgroup2: the config asked for type cgroup2, which is one
 * cgroup2 mount whatever the host.  host_mounts: the caller's mount table is
 * the runtime's (a new mount namespace copied from it, or none of its own),
 * so the mountinfo the runtime read before the clone still describes it. */
int cgroup_mount_plan(bool cgroupns, bool cgroup2, bool host_mounts, struct cgroup_mount_plan *out,
                      nook_error_t *err);
void cgroup_mount_plan_clear(struct cgroup_mount_plan *p);
void cleanup_mount_planp(struct cgroup_mount_plan *p);
#define cleanup_mount_plan __attribute__((cleanup(cleanup_mount_planp)))

/* ---- OOM watch (oom.c): what `nook events` polls for OOM kills ---- */
struct cgroup_oom_watch;
/* Fails (err set, *out NULL) when the host or the manager has no OOM
 * notification for the cgroup; the message says why. */
int cgroup_oom_watch_open(const struct cgroup_manager *m, const struct cgroup_paths *p,
                          struct cgroup_oom_watch **out, nook_error_t *err);
/* The fd to poll with cgroup_oom_watch_events(); -1 once there is nothing
 * left to watch (the memory cgroup is gone) or for a NULL watch. */
int cgroup_oom_watch_fd(const struct cgroup_oom_watch *w);
short cgroup_oom_watch_events(const struct cgroup_oom_watch *w);
/* After poll returned `revents` for the fd: did an OOM kill happen?
 * Consumes the notification. */
bool cgroup_oom_watch_fired(struct cgroup_oom_watch *w, short revents);
void cgroup_oom_watch_free(struct cgroup_oom_watch *w);
void cleanup_oom_watchp(struct cgroup_oom_watch **w);
#define cleanup_oom_watch __attribute__((cleanup(cleanup_oom_watchp)))

/* ---- one group of linux.resources at a time (resource_groups.c) ----
 * For a runtime that may write only part of a cgroup (rootless, in a
 * delegated subtree): each group is applied, or reported as not applied,
 * on its own. */
struct cgroup_resource_group {
  char field[160];        /* "linux.resources.memory", "linux.resources.unified[\"memory.high\"]" */
  char controller[32];    /* the v2 controller its files belong to, "" for none */
  struct oci_resources r; /* only this group's fields, pointing into the original */
};
/* The groups that are set in r, in the order apply() writes them (*out
 * allocated, *n entries; devices first when r->devices is non-NULL). */
void cgroup_resources_split(const struct oci_resources *r, struct cgroup_resource_group **out,
                            size_t *n);
/* Whether the cgroup was given `controller` (pure v2: its cgroup.controllers
 * lists it; "" and v1 hierarchies: true). */
int cgroup_has_controller(const struct cgroup_paths *p, const char *controller, bool *out,
                          nook_error_t *err);

#endif
