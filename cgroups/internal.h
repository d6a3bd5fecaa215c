/* Private to cgroups/: host discovery, path resolution, the file helpers,
 * the v1 and v2 hierarchy operations the managers compose, and stats.  The
 * controllers' resource writers are in ctl.h.  Not an API for the rest of
 * nook. */
#ifndef NOOK_CGROUPS_INTERNAL_H
#define NOOK_CGROUPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"

#define CG_FS_ROOT "/sys/fs/cgroup"
#define CG_HYBRID_UNIFIED "/sys/fs/cgroup/unified"

/* Bounds: a delete must not hang on a stuck cgroup, but must give dying
 * processes time to leave it. */
#define CG_RMDIR_TIMEOUT_MS 1000
#define CG_FREEZE_TIMEOUT_MS 2000
#define CG_KILL_TIMEOUT_MS 2000

/* One hierarchy the container joins, as this process sees it. */
struct cg_hier {
  char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for v2 */
  char *mountpoint;  /* where it is mounted, e.g. /sys/fs/cgroup/memory */
  char *mount_root;  /* the hierarchy path mounted there ("/" unless bind-mounted) */
  char *own;         /* the caller's cgroup in it (from /proc/self/cgroup) */
};

struct cg_host {
  enum cgroup_mode mode;
  struct cg_hier *v1;
  size_t n_v1;
  bool has_unified;
  struct cg_hier unified;
};

/* Build the host description from the text of /proc/self/cgroup and
 * /proc/self/mountinfo (mountinfo may be NULL in unified mode: the v2
 * hierarchy is then /sys/fs/cgroup).  Pure, so tests can feed fake text. */
int cg_host_build(enum cgroup_mode mode, const char *self_cgroup, const char *mountinfo,
                  struct cg_host *out, nook_error_t *err);
void cg_host_clear(struct cg_host *h);
/* This process's host description, read once and cached. */
int cg_host_get(const struct cg_host **out, nook_error_t *err);
/* The /proc/self/mountinfo text cg_host_get read (NULL: none read yet, or
 * pure v2, which needs none). */
const char *cg_host_mountinfo(void);
/* cgroup_mount_plan from the text of /proc/self/cgroup and
 * /proc/self/mountinfo (pure, for tests). */
int cgroup_mount_plan_build(enum cgroup_mode mode, bool cgroupns, bool cgroup2,
                            const char *self_cgroup, const char *mountinfo,
                            struct cgroup_mount_plan *out, nook_error_t *err);

/* Validate and normalise cgroupsPath (NULL or "" => the default, `id`
 * relative to the caller's cgroup, as runc's cgroupfs driver).  *inner gets
 * the components joined by '/', without leading or trailing slash. */
int cg_parse_cgroups_path(const char *cgroups_path, const char *id, char **inner, bool *absolute,
                          nook_error_t *err);
/* The container's directory in one hierarchy.  own_parent: resolve a
 * relative path under the parent of the caller's cgroup (pure v2). */
int cg_hier_dir(const struct cg_hier *h, const char *inner, bool absolute, bool own_parent,
                char **out, nook_error_t *err);
/* Every directory for cgroupsPath on host h; created counts are 0. */
int cg_resolve(const struct cg_host *h, const char *cgroups_path, const char *id,
               struct cgroup_paths *out, nook_error_t *err);

/* Does a comma-separated controller list (a hierarchy) contain `name`? */
bool cg_list_has(const char *list, const char *name);
/* The v1 directory of the hierarchy carrying `controller`, or NULL. */
const char *cg_v1_dir(const struct cgroup_paths *p, const char *controller);

/* File helpers: dir + "/" + file, O_CLOEXEC, no allocation. */
int cg_write(const char *dir, const char *file, const char *val, nook_error_t *err);
/* A cgroup file read or written after its cgroup was removed fails with
 * ENODEV: the callers' "the cgroup is gone" is ENOENT, whichever way. */
int cg_gone_errno(int e);
/* Read into buf (NUL-terminated, trailing newline dropped); returns length. */
ssize_t cg_read(const char *dir, const char *file, char *buf, size_t size, nook_error_t *err);
/* Resource writes: the message names the config field; a missing file says
 * so with a hint of why ("swap accounting disabled?") and returns -ENOENT. */
int cg_set(const char *dir, const char *file, const char *val, const char *field, const char *hint,
           nook_error_t *err);
/* Write a decimal value with cg_set. */
int cg_set_num(const char *dir, const char *file, long long v, const char *field, const char *hint,
               nook_error_t *err);
/* "max" for -1, else the decimal value; buf >= 24 bytes. */
const char *cg_limit_str(int64_t v, char *buf);
/* cg_set's hint for a missing v2 file: the controller is not enabled above
 * the cgroup.  CG2_HINT writes into the caller's `char hint[128]`. */
const char *cg2_hint(const char *controller, char *buf, size_t size);
#define CG2_HINT(c) cg2_hint(c, hint, sizeof(hint))

/* mkdir dir and any missing parents below `stop` (the mountpoint length);
 * *created gets how many trailing components were made. */
int cg_mkdir(const char *dir, size_t stop, unsigned *created, nook_error_t *err);
/* Remove the leaf (and any child cgroups the container made in it), retrying
 * while it is busy, until deadline_ms (CLOCK_MONOTONIC ms).  ENOENT is fine.
 * cg_try_rmdir_tree is one attempt: 0 or -errno. */
int cg_rmdir_leaf(const char *dir, long long deadline_ms, nook_error_t *err);
int cg_try_rmdir_tree(const char *dir);
/* Remove `n` created parents above the leaf; stop quietly at a busy one
 * (another container still uses it). */
void cg_rmdir_parents(const char *dir, unsigned n);
/* Undo a partial create: remove only what was created. */
void cg_rollback(const char *dir, unsigned created);

/* Pids in dir/cgroup.procs and in every cgroup below it. */
int cg_read_pids(const char *dir, pid_t **out, size_t *n, nook_error_t *err);
int cg_enter(const char *dir, pid_t pid, nook_error_t *err);
/* Signal every process listed in dir (recursively).  With SIGKILL, repeat
 * until it is empty or CG_KILL_TIMEOUT_MS passed, thawing the v1 `freezer`
 * dir (may be NULL) after the first round. */
int cg_signal_procs(const char *dir, int sig, const char *freezer, nook_error_t *err);

long long cg_now_ms(void);
void cg_sleep_us(long us);

/* Unified-hierarchy operations (v2.c), used by the v2 and hybrid managers. */
int cg2_create(const char *dir, size_t stop, unsigned *created, bool enable_controllers,
               nook_error_t *err);
/* Enable one controller from the v2 root down to dir's parent (hybrid:
 * done only when a resource needs a controller that lives on the unified
 * side, so that a plain create never writes above the container). */
int cg2_enable_controller(const char *dir, const char *controller, nook_error_t *err);
/* Is `controller` available on the unified hierarchy (its root's
 * cgroup.controllers)?  Read once per process. */
bool cg2_has_controller(const char *controller);
int cg2_wait_event_fd(int fd, const char *path, const char *key, int want, int timeout_ms,
                      bool *timed_out, nook_error_t *err);
int cg2_kill(const char *dir, int sig, nook_error_t *err);
int cg2_freeze(const char *dir, bool frozen, nook_error_t *err);
/* 1 frozen, 0 not, -ENOENT when cgroup.events has no `frozen` key (Linux
 * < 5.2) or the cgroup is gone; other failures -1 with err set. */
int cg2_frozen(const char *dir, nook_error_t *err);
int cg2_destroy(const char *dir, unsigned created, nook_error_t *err);

/* v1 operations (v1.c), used by the v1 and hybrid managers. */
int cg1_create_all(struct cgroup_paths *p, const struct cg_host *h, nook_error_t *err);
int cg1_enter_all(const struct cgroup_paths *p, pid_t pid, nook_error_t *err);
const char *cg1_procs_dir(const struct cgroup_paths *p);
int cg1_freeze(const char *freezer_dir, bool frozen, nook_error_t *err);
int cg1_frozen(const char *freezer_dir, bool *out, nook_error_t *err);
/* Trailing components nook made of hierarchy i (v1 dirs, then unified);
 * whether dir (one of p's v1 dirs) is one nook made. */
unsigned cg1_created_at(const struct cgroup_paths *p, size_t i);
bool cg1_created_dir(const struct cgroup_paths *p, const char *dir);
/* Kill what is left and remove every v1 leaf and p->unified (hybrid, may be
 * NULL), then the parents nook created. */
int cg1_destroy_all(const struct cgroup_paths *p, nook_error_t *err);

/* ---- the manager table (manager*.c) ----
 * One struct cgroup_manager per way of driving the hierarchies, each thin
 * glue over the operations above and the resource router (ctl.h);
 * cgroup_manager_for (manager.c) picks a cgroupfs one by mode,
 * cgroup_manager_of the one that made a cgroup (systemd's, manager_systemd.c,
 * composes the cgroupfs one of the host's mode). */
extern const struct cgroup_manager cg_v1_manager, cg_v2_manager, cg_hybrid_manager,
    cg_systemd_manager;
/* cgroup_plan for the systemd driver (manager_systemd.c). */
int cg_systemd_plan(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                    nook_error_t *err);

/* ---- stats (stats.c, stats_v1.c, stats_v2.c) and OOM notification ---- */
void cg_open_files_free(struct cgroup_open_files *of);
/* Read a whole file: length, or -errno (ENOENT: missing) without err.
 * With `of` (cgroup_paths_keep_open) the file stays open in it and is
 * re-read from its start the next time; NULL: opened and closed. */
ssize_t cg_read_all(struct cgroup_open_files *of, const char *dir, const char *file, char **out);
/* 1 read (*out allocated), 0 the host or cgroup has no such file, -1 a
 * real failure (err set). */
int cg_stats_read(struct cgroup_open_files *of, const char *dir, const char *file, char **out,
                  nook_error_t *err);
/* The same for a file of one number ("max" gives max_value). */
int cg_stats_u64(struct cgroup_open_files *of, const char *dir, const char *file,
                 uint64_t max_value, uint64_t *out, nook_error_t *err);
/* The value of a "key value" line ("max" is UINT64_MAX). */
bool cg_kv_u64(const char *text, const char *key, uint64_t *out);
/* Every "key value" line into s->mem_raw. */
void cg_stats_raw(struct cgroup_stats *s, const char *text);
struct cgroup_hugetlb_entry *cg_stats_add_hugetlb(struct cgroup_stats *s, const char *size);
/* The host's huge page sizes as cgroup files name them ("2MB"), NULL-ended. */
char *const *cg_hugetlb_sizes(void);
int cg_parse_psi(const char *text, struct cgroup_psi *some, struct cgroup_psi *full);
void cg_stats_add_blkio(struct cgroup_blkio_entry **v, size_t *n, uint64_t major, uint64_t minor,
                        const char *op, uint64_t value);
/* Stats that a missing file does not fail: each sets its has_* flags. */
int cg1_stats_cpu(struct cgroup_open_files *of, const char *cpu_dir, const char *cpuacct_dir,
                  struct cgroup_stats *s, nook_error_t *err);
int cg1_stats_memory(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                     nook_error_t *err);
int cg1_stats_pids(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                   nook_error_t *err);
int cg1_stats_blkio(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                    nook_error_t *err);
int cg1_stats_hugetlb(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                      nook_error_t *err);
int cg2_stats_cpu(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                  nook_error_t *err);
int cg2_stats_memory(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                     nook_error_t *err);
int cg2_stats_pids(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                   nook_error_t *err);
int cg2_stats_io(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                 nook_error_t *err);
int cg2_stats_hugetlb(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                      nook_error_t *err);
int cg2_stats_psi(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                  nook_error_t *err);
int cg1_oom_notify_fd(const char *memory_dir, nook_error_t *err);
int cg2_oom_notify_fd(const char *dir, nook_error_t *err);

#endif
