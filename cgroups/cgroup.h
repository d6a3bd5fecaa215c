/* One cgroup manager interface; v2 and v1 (and hybrid, which composes them)
 * implement it behind a small table of function pointers. */
#ifndef NOOK_CGROUP_H
#define NOOK_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "../libcontainer/error.h"
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
};

struct cgroup_manager {
  const char *name;
  /* Create the cgroup for `cgroups_path` (absolute, relative to the caller's
   * cgroup, or NULL for a default derived from id). */
  int (*create)(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                nook_error_t *err);
  int (*enter)(const struct cgroup_paths *p, pid_t pid, nook_error_t *err);
  int (*apply)(const struct cgroup_paths *p, const struct oci_resources *r, nook_error_t *err);
  /* Pids of every process in the cgroup (allocated, *n entries). */
  int (*pids)(const struct cgroup_paths *p, pid_t **out, size_t *n, nook_error_t *err);
  int (*kill)(const struct cgroup_paths *p, int sig, nook_error_t *err);
  int (*freeze)(const struct cgroup_paths *p, bool frozen, nook_error_t *err);
  /* Remove every directory; kills what is left first.  Missing dirs are not
   * an error (delete must be idempotent). */
  int (*destroy)(const struct cgroup_paths *p, nook_error_t *err);
};

int cgroup_detect_mode(enum cgroup_mode *out, nook_error_t *err);
const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode);

/* Serialise paths to/from a single string kept in the state file. */
char *cgroup_paths_serialize(const struct cgroup_paths *p);
int cgroup_paths_parse(const char *s, struct cgroup_paths *out, nook_error_t *err);
void cgroup_paths_clear(struct cgroup_paths *p);

#endif
