/* The cpuset controller: cpuset.cpus and cpuset.mems, the same files on
 * v1 and v2.  (A new v1 cpuset cgroup's inherited values are v1.c's, at
 * create.) */
#include "ctl.h"
#include "internal.h"

bool cg_cpuset_set(const struct oci_resources *r)
{
  return r->has_cpu && ((r->cpu.cpus && *r->cpu.cpus) || (r->cpu.mems && *r->cpu.mems));
}

int cg1_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err)
{
  if (c->cpus && *c->cpus &&
      cg_set(dir, "cpuset.cpus", c->cpus, "linux.resources.cpu.cpus", NULL, err) < 0)
    return -1;
  if (c->mems && *c->mems &&
      cg_set(dir, "cpuset.mems", c->mems, "linux.resources.cpu.mems", NULL, err) < 0)
    return -1;
  return 0;
}

int cg2_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err)
{
  char hint[128];
  if (c->cpus && *c->cpus &&
      cg_set(dir, "cpuset.cpus", c->cpus, "linux.resources.cpu.cpus", CG2_HINT("cpuset"), err) < 0)
    return -1;
  if (c->mems && *c->mems &&
      cg_set(dir, "cpuset.mems", c->mems, "linux.resources.cpu.mems", CG2_HINT("cpuset"), err) < 0)
    return -1;
  return 0;
}
