/* linux.resources, the router: which controller each field needs, where
 * that controller is on this host (a v1 hierarchy, or the unified one), and
 * which controller file (ctl_*.c) writes it there.
 *
 * Speed: this runs on every `run`.  Only fields that are set are written
 * (devices excepted: they are always restricted), and nothing is read back
 * unless a check needs it. */
#include "ctl.h"
#include "internal.h"

#include <stdio.h>

/* The first set field of a group and the file it goes to, for messages. */
struct field_file {
  const char *field, *file;
};

static struct field_file memory_ff(const struct oci_memory *m)
{
  if (m->has_limit && m->limit != 0)
    return (struct field_file){"linux.resources.memory.limit", "memory.limit_in_bytes"};
  if (m->has_reservation && m->reservation != 0)
    return (struct field_file){"linux.resources.memory.reservation", "memory.soft_limit_in_bytes"};
  if (m->has_swap && m->swap != 0)
    return (struct field_file){"linux.resources.memory.swap", "memory.memsw.limit_in_bytes"};
  if (m->has_kernel && m->kernel != 0)
    return (struct field_file){"linux.resources.memory.kernel", "memory.kmem.limit_in_bytes"};
  if (m->has_kernel_tcp && m->kernel_tcp != 0)
    return (struct field_file){"linux.resources.memory.kernelTCP",
                               "memory.kmem.tcp.limit_in_bytes"};
  if (m->has_swappiness)
    return (struct field_file){"linux.resources.memory.swappiness", "memory.swappiness"};
  if (m->has_disable_oom_killer)
    return (struct field_file){"linux.resources.memory.disableOOMKiller", "memory.oom_control"};
  return (struct field_file){"linux.resources.memory.useHierarchy", "memory.use_hierarchy"};
}

static struct field_file cpu_ff(const struct oci_cpu *c)
{
  if (c->has_shares && c->shares != 0)
    return (struct field_file){"linux.resources.cpu.shares", "cpu.shares"};
  if (c->has_quota && c->quota != 0)
    return (struct field_file){"linux.resources.cpu.quota", "cpu.cfs_quota_us"};
  if (c->has_period && c->period != 0)
    return (struct field_file){"linux.resources.cpu.period", "cpu.cfs_period_us"};
  if (c->has_burst)
    return (struct field_file){"linux.resources.cpu.burst", "cpu.cfs_burst_us"};
  if (c->has_realtime_runtime || c->has_realtime_period)
    return (struct field_file){"linux.resources.cpu.realtimeRuntime", "cpu.rt_runtime_us"};
  return (struct field_file){"linux.resources.cpu.idle", "cpu.idle"};
}

/* Where a controller's files go: its v1 hierarchy; on a hybrid host
 * (unified != NULL) else the unified hierarchy, with the controller enabled
 * down to the container; else an error naming field and file. */
static int route(const struct cgroup_paths *p, const char *unified, const char *v1_ctl,
                 const char *v2_ctl, struct field_file ff, const char **v1, const char **v2,
                 nook_error_t *err)
{
  *v1 = *v2 = NULL;
  if (v1_ctl && (*v1 = cg_v1_dir(p, v1_ctl)) != NULL)
    return 0;
  if (unified && v2_ctl && cg2_has_controller(v2_ctl)) {
    if (cg2_enable_controller(unified, v2_ctl, err) < 0)
      return nook_error_wrap(err, "%s", ff.field);
    *v2 = unified;
    return 0;
  }
  const char *ctl = v1_ctl ? v1_ctl : v2_ctl;
  return nook_error(err, 0, "%s: cannot write %s: the %s controller is not available here (%s)",
                    ff.field, ff.file, ctl,
                    !unified ? "no cgroup v1 hierarchy carries it"
                    : v2_ctl
                        ? "neither a cgroup v1 hierarchy nor the cgroup v2 hierarchy has it"
                        : "no cgroup v1 hierarchy carries it, and cgroup v2 has no equivalent");
}

int cg1_apply(const struct cgroup_paths *p, const struct oci_resources *r, const char *unified,
              nook_error_t *err)
{
  const char *v1, *v2;
  /* Devices first.  NULL rules mean "leave them as they are" (update): a
   * rewrite would open a deny-all window and break nested cgroups. */
  if (r->devices == NULL) {
    /* unchanged */
  } else if ((v1 = cg_v1_dir(p, "devices")) != NULL) {
    if (cg1_apply_devices(v1, r, err) < 0)
      return -1;
  } else if (unified) {
    /* The device filter is a BPF program: it needs no controller. */
    if (cg2_apply_devices(unified, r, err) < 0)
      return -1;
  } else {
    /* Without a devices controller the container could open any device
     * node it can create: refuse, as runc does. */
    return nook_error(err, 0,
                      "linux.resources.devices: cannot write devices.allow: the devices cgroup "
                      "controller is not mounted on this host");
  }
  if (cg_memory_set(r)) {
    if (route(p, unified, "memory", "memory", memory_ff(&r->memory), &v1, &v2, err) < 0 ||
        (v1 ? cg1_apply_memory(v1, &r->memory, err) : cg2_apply_memory(v2, &r->memory, err)) < 0)
      return -1;
  }
  if (cg_cpu_set(r)) {
    unsigned created = 0;
    for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++)
      if (p->v1_dirs[i] == cg_v1_dir(p, "cpu") && p->v1_created)
        created = p->v1_created[i];
    if (route(p, unified, "cpu", "cpu", cpu_ff(&r->cpu), &v1, &v2, err) < 0 ||
        (v1 ? cg1_apply_cpu(v1, &r->cpu, created, err) : cg2_apply_cpu(v2, &r->cpu, err)) < 0)
      return -1;
  }
  if (cg_cpuset_set(r)) {
    struct field_file ff = r->cpu.cpus && *r->cpu.cpus
                               ? (struct field_file){"linux.resources.cpu.cpus", "cpuset.cpus"}
                               : (struct field_file){"linux.resources.cpu.mems", "cpuset.mems"};
    if (route(p, unified, "cpuset", "cpuset", ff, &v1, &v2, err) < 0 ||
        (v1 ? cg1_apply_cpuset(v1, &r->cpu, err) : cg2_apply_cpuset(v2, &r->cpu, err)) < 0)
      return -1;
  }
  if (r->has_pids) {
    struct field_file ff = {"linux.resources.pids.limit", "pids.max"};
    if (route(p, unified, "pids", "pids", ff, &v1, &v2, err) < 0 ||
        (v1 ? cg1_apply_pids(v1, r->pids_limit, err) : cg2_apply_pids(v2, r->pids_limit, err)) < 0)
      return -1;
  }
  if (cg_blkio_set(r)) {
    struct field_file ff = {"linux.resources.blockIO", "blkio.*"};
    if (route(p, unified, "blkio", "io", ff, &v1, &v2, err) < 0 ||
        (v1 ? cg1_apply_blkio(v1, &r->blockio, err) : cg2_apply_io(v2, &r->blockio, err)) < 0)
      return -1;
  }
  if (r->n_hugepage_limits > 0) {
    /* The sizes first: a bad one fails before anything is enabled. */
    for (size_t i = 0; i < r->n_hugepage_limits; i++)
      if (cg_hugetlb_check_size(r->hugepage_limits[i].page_size, i, err) < 0)
        return -1;
    char file[64];
    snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", r->hugepage_limits[0].page_size);
    struct field_file ff = {"linux.resources.hugepageLimits", file};
    if (route(p, unified, "hugetlb", "hugetlb", ff, &v1, &v2, err) < 0 ||
        (v1 ? cg1_apply_hugetlb(v1, r, err) : cg2_apply_hugetlb(v2, r, err)) < 0)
      return -1;
  }
  if (cg_net_cls_set(r)) {
    struct field_file ff = {"linux.resources.network.classID", "net_cls.classid"};
    if (route(p, unified, "net_cls", NULL, ff, &v1, &v2, err) < 0 ||
        cg1_apply_net_cls(v1, &r->network, err) < 0)
      return -1;
  }
  if (cg_net_prio_set(r)) {
    struct field_file ff = {"linux.resources.network.priorities", "net_prio.ifpriomap"};
    if (route(p, unified, "net_prio", NULL, ff, &v1, &v2, err) < 0 ||
        cg1_apply_net_prio(v1, &r->network, err) < 0)
      return -1;
  }
  if (r->n_rdma > 0) {
    struct field_file ff = {"linux.resources.rdma", "rdma.max"};
    if (route(p, unified, "rdma", "rdma", ff, &v1, &v2, err) < 0 ||
        (v1 ? cg1_apply_rdma(v1, r, err) : cg2_apply_rdma(v2, r, err)) < 0)
      return -1;
  }
  if (r->n_unified > 0) {
    if (unified == NULL)
      return nook_error(err, 0,
                        "linux.resources.unified: `%s` is a cgroup v2 file, and this host has no "
                        "cgroup v2 hierarchy",
                        r->unified[0].key ? r->unified[0].key : "");
    if (cg2_apply_unified(unified, r, true, err) < 0)
      return -1;
  }
  return 0;
}

int cg2_apply(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  if (r->devices != NULL && cg2_apply_devices(dir, r, err) < 0)
    return -1;
  if (cg_memory_set(r) && cg2_apply_memory(dir, &r->memory, err) < 0)
    return -1;
  if (cg_cpu_set(r) && cg2_apply_cpu(dir, &r->cpu, err) < 0)
    return -1;
  if (cg_cpuset_set(r) && cg2_apply_cpuset(dir, &r->cpu, err) < 0)
    return -1;
  if (r->has_pids && cg2_apply_pids(dir, r->pids_limit, err) < 0)
    return -1;
  if (cg_blkio_set(r) && cg2_apply_io(dir, &r->blockio, err) < 0)
    return -1;
  if (r->n_hugepage_limits > 0) {
    for (size_t i = 0; i < r->n_hugepage_limits; i++)
      if (cg_hugetlb_check_size(r->hugepage_limits[i].page_size, i, err) < 0)
        return -1;
    if (cg2_apply_hugetlb(dir, r, err) < 0)
      return -1;
  }
  if (cg_net_cls_set(r))
    return nook_error(err, 0,
                      "linux.resources.network.classID: cgroup v2 has no net_cls controller, so "
                      "net_cls.classid cannot be written (tag packets with an nftables/BPF rule "
                      "on the cgroup path instead)");
  if (cg_net_prio_set(r))
    return nook_error(err, 0,
                      "linux.resources.network.priorities: cgroup v2 has no net_prio controller, "
                      "so net_prio.ifpriomap cannot be written");
  if (r->n_rdma > 0 && cg2_apply_rdma(dir, r, err) < 0)
    return -1;
  /* Last, so that raw values override what the fields above wrote. */
  if (r->n_unified > 0 && cg2_apply_unified(dir, r, false, err) < 0)
    return -1;
  return 0;
}
