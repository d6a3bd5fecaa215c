/* linux.resources: which controller each field needs, where that
 * controller is on this host (a v1 hierarchy, or the unified one), and the
 * checks and conversions v1 and v2 share.  The writes themselves are in
 * resources_v1.c and resources_v2.c; the v2 device filter in ebpf.c.
 *
 * Speed: this runs on every `run`.  Only fields that are set are written
 * (devices excepted: they are always restricted), and nothing is read back
 * unless a check needs it. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"

const char *cg_limit_str(int64_t v, char *buf)
{
  if (v < 0)
    return "max";
  snprintf(buf, 24, "%lld", (long long)v);
  return buf;
}

int cg_set_num(const char *dir, const char *file, long long v, const char *field, const char *hint,
               nook_error_t *err)
{
  char buf[24];
  snprintf(buf, sizeof(buf), "%lld", v);
  return cg_set(dir, file, buf, field, hint, err);
}

int cg_check_burst(const struct oci_cpu *c, nook_error_t *err)
{
  int64_t quota = c->has_quota ? c->quota : 0;
  if (c->has_burst && quota > 0 && c->burst > (uint64_t)quota)
    return nook_error(err, 0, "linux.resources.cpu.burst: %llu is above cpu.quota %lld",
                      (unsigned long long)c->burst, (long long)quota);
  return 0;
}

int cg_check_shares(uint64_t shares, nook_error_t *err)
{
  /* The kernel silently clamps cpu.shares to [2, 262144]; runc reads the
   * value back and fails on a mismatch.  Checking the range here gives the
   * same answer without the extra read. */
  if (shares < 2)
    return nook_error(err, 0, "linux.resources.cpu.shares: %llu is below the minimum 2",
                      (unsigned long long)shares);
  if (shares > 262144)
    return nook_error(err, 0, "linux.resources.cpu.shares: %llu is above the maximum 262144",
                      (unsigned long long)shares);
  return 0;
}

/* runc 1.1's linear map, not crun's newer quadratic one: the same config
 * then gives the same cpu.weight under nook as under runc (which docker,
 * podman and containerd were tested against), and shares 1024, the default,
 * gives weight 39 rather than crun's 100.  Integer maths, as runc. */
uint64_t cg_shares_to_weight(uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

/* runc: 1 + (weight - 10) * 9999 / 990, v1's [10, 1000] onto [1, 10000]. */
uint64_t cg_blkio_to_io_weight(uint64_t weight)
{
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + ((weight - 10) * 9999) / 990;
}

/* hugepageLimits on either hierarchy: v1 and v2 differ only in the file
 * names.  As runc: the usage (fault) limit and, where the kernel has it
 * (5.7+), the reservation limit, to the same value. */
int cg_apply_hugetlb(const char *dir, const struct oci_resources *r, const char *limit_file,
                     const char *rsvd_file, const char *hint, nook_error_t *err)
{
  bool rsvd = true;
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
    char file[64], field[64];
    snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
    snprintf(file, sizeof(file), "hugetlb.%s.%s", h->page_size, limit_file);
    if (cg_set_num(dir, file, (long long)h->limit, field, hint, err) < 0)
      return -1;
    if (!rsvd)
      continue;
    snprintf(file, sizeof(file), "hugetlb.%s.%s", h->page_size, rsvd_file);
    int ret = cg_set_num(dir, file, (long long)h->limit, field, NULL, err);
    if (ret == -ENOENT) {
      nook_error_free(err);
      rsvd = false;
    } else if (ret < 0) {
      return -1;
    }
  }
  return 0;
}

int cg_hugetlb_check_size(const char *size, size_t idx, nook_error_t *err)
{
  /* The size names a cgroup file: only digits and a unit, nothing that
   * could leave the directory. */
  const char *p = size ? size : "";
  unsigned long long n = 0;
  while (*p >= '0' && *p <= '9' && n < (1ULL << 40))
    n = n * 10 + (unsigned long long)(*p++ - '0');
  unsigned long long kb = 0;
  if (p != size && n > 0 && (strcmp(p, "KB") == 0 || strcmp(p, "kB") == 0))
    kb = n;
  else if (p != size && n > 0 && strcmp(p, "MB") == 0)
    kb = n << 10;
  else if (p != size && n > 0 && strcmp(p, "GB") == 0)
    kb = n << 20;
  if (kb == 0)
    return nook_error(err, 0,
                      "linux.resources.hugepageLimits[%zu].pageSize: `%s` is not a size such as "
                      "`2MB` or `1GB`",
                      idx, size ? size : "");
  char path[96];
  snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB", kb);
  if (access(path, F_OK) < 0)
    return nook_error(err, 0,
                      "linux.resources.hugepageLimits[%zu].pageSize: `%s` is not a huge page size "
                      "of this host (%s does not exist)",
                      idx, size, path);
  return 0;
}

int cg_unified_check_key(const char *key, nook_error_t *err)
{
  if (key == NULL || *key == '\0' || strchr(key, '/') || strcmp(key, ".") == 0 || strstr(key, ".."))
    return nook_error(err, 0,
                      "linux.resources.unified: key `%s` is not a plain cgroup file name (no `/` "
                      "or `..`)",
                      key ? key : "");
  for (const char *c = key; *c; c++)
    if ((unsigned char)*c <= ' ' || *c == 0x7f)
      return nook_error(
          err, 0, "linux.resources.unified: key `%s` contains a space or control character", key);
  return 0;
}

int cg_check_before_update(const char *dir, const char *usage_file, int64_t limit,
                           nook_error_t *err)
{
  if (limit <= 0)
    return 0; /* unset or unlimited: nothing can be below it */
  char buf[32];
  unsigned long long usage;
  if (cg_read(dir, usage_file, buf, sizeof(buf), err) < 0)
    return nook_error_wrap(err, "linux.resources.memory.checkBeforeUpdate");
  if (parse_uint64(buf, &usage) < 0)
    return nook_error(err, 0, "linux.resources.memory.checkBeforeUpdate: %s/%s: bad value `%s`",
                      dir, usage_file, buf);
  if ((unsigned long long)limit < usage)
    return nook_error(err, 0,
                      "linux.resources.memory.limit: %lld is below the current usage %llu "
                      "(%s/%s) and checkBeforeUpdate is set",
                      (long long)limit, usage, dir, usage_file);
  return 0;
}

/* ---- which fields are set ---- */

bool cg_memory_set(const struct oci_resources *r)
{
  const struct oci_memory *m = &r->memory;
  return r->has_memory &&
         ((m->has_limit && m->limit != 0) || (m->has_swap && m->swap != 0) ||
          (m->has_reservation && m->reservation != 0) || (m->has_kernel && m->kernel != 0) ||
          (m->has_kernel_tcp && m->kernel_tcp != 0) || m->has_swappiness ||
          m->has_disable_oom_killer || m->has_use_hierarchy);
}

bool cg_cpu_set(const struct oci_resources *r)
{
  const struct oci_cpu *c = &r->cpu;
  return r->has_cpu && ((c->has_shares && c->shares != 0) || (c->has_quota && c->quota != 0) ||
                        (c->has_period && c->period != 0) || c->has_burst ||
                        c->has_realtime_runtime || c->has_realtime_period || c->has_idle);
}

bool cg_cpuset_set(const struct oci_resources *r)
{
  return r->has_cpu && ((r->cpu.cpus && *r->cpu.cpus) || (r->cpu.mems && *r->cpu.mems));
}

bool cg_blkio_set(const struct oci_resources *r)
{
  const struct oci_blockio *b = &r->blockio;
  return r->has_blockio &&
         ((b->has_weight && b->weight != 0) || (b->has_leaf_weight && b->leaf_weight != 0) ||
          b->n_weight_device || b->n_throttle_read_bps || b->n_throttle_write_bps ||
          b->n_throttle_read_iops || b->n_throttle_write_iops);
}

bool cg_net_cls_set(const struct oci_resources *r)
{
  /* classid 0 is the kernel's "no class", a new cgroup's value. */
  return r->has_network && r->network.has_class_id && r->network.class_id != 0;
}

bool cg_net_prio_set(const struct oci_resources *r)
{
  return r->has_network && r->network.n_priorities > 0;
}

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
