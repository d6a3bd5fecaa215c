/* The manager table: which struct cgroup_manager drives a container's
 * cgroups.  Each manager (manager_v1.c, manager_v2.c, manager_hybrid.c) is
 * glue that composes the hierarchy operations of v1.c and v2.c with the
 * resource router (resources.c) and the stats readers. */
#include "internal.h"

/* One manager per cgroup mode.  A systemd driver (cgroupsPath
 * "slice:prefix:name", units created over D-Bus) will be one more entry of
 * this table, in its own manager_systemd.c. */
const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode)
{
  switch (mode) {
  case CGROUP_MODE_UNIFIED:
    return &cg_v2_manager;
  case CGROUP_MODE_LEGACY:
    return &cg_v1_manager;
  case CGROUP_MODE_HYBRID:
    return &cg_hybrid_manager;
  }
  return NULL;
}
