/* The manager table: which struct cgroup_manager drives a container's
 * cgroups.  Each cgroupfs manager (manager_v1.c, manager_v2.c,
 * manager_hybrid.c) is glue that composes the hierarchy operations of v1.c
 * and v2.c with the resource router (resources.c) and the stats readers;
 * the systemd manager (manager_systemd.c) has systemd make the cgroup and
 * composes the cgroupfs manager of the host's mode for the files. */
#include "internal.h"

const struct cgroup_manager *cgroup_manager_of(const struct cgroup_paths *p)
{
  return p->unit ? &cg_systemd_manager : cgroup_manager_for(p->mode);
}

/* One cgroupfs manager per cgroup mode. */
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
