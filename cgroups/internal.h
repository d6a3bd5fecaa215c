/* Private to cgroups/: host discovery, path resolution and the file helpers
 * the v1, v2 and hybrid managers share.  Not an API for the rest of nook. */
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
/* Read into buf (NUL-terminated, trailing newline dropped); returns length. */
ssize_t cg_read(const char *dir, const char *file, char *buf, size_t size, nook_error_t *err);
/* Resource writes: the message names the config field; a missing file says
 * so with a hint of why ("swap accounting disabled?") and returns -ENOENT. */
int cg_set(const char *dir, const char *file, const char *val, const char *field, const char *hint,
           nook_error_t *err);

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
int cg2_kill(const char *dir, int sig, nook_error_t *err);
int cg2_freeze(const char *dir, bool frozen, nook_error_t *err);
int cg2_destroy(const char *dir, unsigned created, nook_error_t *err);
int cg2_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err);
int cg2_apply_cpu(const char *dir, const struct oci_cpu *c, nook_error_t *err);
int cg2_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err);
int cg2_apply_pids(const char *dir, int64_t limit, nook_error_t *err);

/* v1 operations (v1.c), used by the v1 and hybrid managers. */
int cg1_create_all(struct cgroup_paths *p, const struct cg_host *h, nook_error_t *err);
int cg1_enter_all(const struct cgroup_paths *p, pid_t pid, nook_error_t *err);
const char *cg1_procs_dir(const struct cgroup_paths *p);
int cg1_freeze(const char *freezer_dir, bool frozen, nook_error_t *err);
/* Kill what is left and remove every v1 leaf and p->unified (hybrid, may be
 * NULL), then the parents nook created. */
int cg1_destroy_all(const struct cgroup_paths *p, nook_error_t *err);
/* Apply on v1; with `unified` (hybrid) a controller no v1 hierarchy has is
 * set in the unified hierarchy instead. */
int cg1_apply(const struct cgroup_paths *p, const struct oci_resources *r, const char *unified,
              nook_error_t *err);
int cg1_apply_devices(const char *dir, const struct oci_resources *r, nook_error_t *err);
int cg1_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err);
int cg1_apply_cpu(const char *dir, const struct oci_cpu *c, nook_error_t *err);
int cg1_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err);
int cg1_apply_pids(const char *dir, int64_t limit, nook_error_t *err);

/* Shared resource checks and the warning for what is not implemented yet. */
int cg_check_shares(uint64_t shares, nook_error_t *err);
void cg_warn_unimplemented(const struct oci_resources *r, bool v2);
/* "max" for -1, else the decimal value; buf >= 24 bytes. */
const char *cg_limit_str(int64_t v, char *buf);

#endif
