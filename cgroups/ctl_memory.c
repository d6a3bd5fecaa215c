/* The memory controller: v1's memory.* files and v2's memory.max, .low and
 * .swap.max, with runc's semantics (0 is "not set" for limits, -1 unlimited;
 * swap counts memory plus swap on both). */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/utils.h"

bool cg_memory_set(const struct oci_resources *r)
{
  const struct oci_memory *m = &r->memory;
  return r->has_memory &&
         ((m->has_limit && m->limit != 0) || (m->has_swap && m->swap != 0) ||
          (m->has_reservation && m->reservation != 0) || (m->has_kernel && m->kernel != 0) ||
          (m->has_kernel_tcp && m->kernel_tcp != 0) || m->has_swappiness ||
          m->has_disable_oom_killer || m->has_use_hierarchy);
}

static int check_mem_value(const char *field, int64_t v, nook_error_t *err)
{
  if (v < -1)
    return nook_error(err, 0,
                      "linux.resources.memory.%s: invalid value %lld (use -1 for unlimited)", field,
                      (long long)v);
  return 0;
}

/* checkBeforeUpdate: refuse a limit below the current usage (read from
 * usage_file). */
static int cg_check_before_update(const char *dir, const char *usage_file, int64_t limit,
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

/* ---- v1 ---- */

#define SWAP_HINT "swap accounting disabled?"
#define KMEM_HINT "this kernel has no kernel memory limits"

/* kernel and kernelTCP.  0 is unset and -1 "unlimited", which is what a
 * kernel without the file does anyway.  Recent kernels keep
 * memory.kmem.limit_in_bytes but ignore writes to it (the limit reads back
 * as unlimited): that is as unsupported as a missing file.  The spec calls
 * these fields NOT RECOMMENDED, and runc and crun go on without them: so
 * does nook, with a warning. */
static int set_kmem(const char *dir, const char *file, int64_t v, const char *field,
                    nook_error_t *err)
{
  if (v == 0)
    return 0;
  if (v < -1)
    return nook_error(err, 0, "%s: invalid value %lld (use -1 for unlimited)", field, (long long)v);
  int r = cg_set_num(dir, file, v, field, KMEM_HINT, err);
  if (r == -ENOENT) {
    nook_error_free(err);
    if (v != -1)
      nook_warn("%s: %s/%s does not exist (%s): not applied", field, dir, file, KMEM_HINT);
    return 0;
  }
  if (r < 0 || v == -1)
    return r < 0 ? -1 : 0;
  char buf[32];
  unsigned long long got;
  if (cg_read(dir, file, buf, sizeof(buf), err) < 0)
    return nook_error_wrap(err, "%s", field);
  /* The kernel rounds down to whole pages; more than asked = ignored. */
  if (parse_uint64(buf, &got) == 0 && got > (unsigned long long)v)
    nook_warn("%s: %s/%s accepts %lld but the kernel ignores it (it reads back %llu): kernel "
              "memory limits are gone from this kernel, not applied",
              field, dir, file, (long long)v, got);
  return 0;
}

static int set_limits(const char *dir, int64_t limit, int64_t swap, bool swap_optional,
                      nook_error_t *err)
{
  const char *lf = "linux.resources.memory.limit", *sf = "linux.resources.memory.swap";
  if (limit != 0 && swap != 0) {
    /* memsw must stay >= limit after every single write: raise memsw first
     * when it grows past the current limit, else lower the limit first. */
    char cur[32];
    unsigned long long curv = 0;
    if (cg_read(dir, "memory.limit_in_bytes", cur, sizeof(cur), err) < 0)
      return nook_error_wrap(err, "%s", lf);
    parse_uint64(cur, &curv);
    if (swap == -1 || curv < (unsigned long long)swap) {
      int r = cg_set_num(dir, "memory.memsw.limit_in_bytes", swap, sf, SWAP_HINT, err);
      if (r < 0 && !(r == -ENOENT && swap_optional))
        return -1;
      if (r < 0)
        nook_error_free(err);
      return cg_set_num(dir, "memory.limit_in_bytes", limit, lf, NULL, err) < 0 ? -1 : 0;
    }
    if (cg_set_num(dir, "memory.limit_in_bytes", limit, lf, NULL, err) < 0 ||
        cg_set_num(dir, "memory.memsw.limit_in_bytes", swap, sf, SWAP_HINT, err) < 0)
      return -1;
    return 0;
  }
  if (limit != 0)
    return cg_set_num(dir, "memory.limit_in_bytes", limit, lf, NULL, err) < 0 ? -1 : 0;
  if (swap != 0) {
    int r = cg_set_num(dir, "memory.memsw.limit_in_bytes", swap, sf, SWAP_HINT, err);
    if (r < 0 && !(r == -ENOENT && swap_optional))
      return -1;
    if (r < 0)
      nook_error_free(err);
  }
  return 0;
}

int cg1_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err)
{
  int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
  int64_t res = m->has_reservation ? m->reservation : 0;
  if (check_mem_value("limit", limit, err) < 0 || check_mem_value("swap", swap, err) < 0 ||
      check_mem_value("reservation", res, err) < 0)
    return -1;
  if (limit > 0 && swap > 0 && swap < limit)
    return nook_error(err, 0,
                      "linux.resources.memory.swap: %lld is below memory.limit %lld (swap counts "
                      "memory plus swap)",
                      (long long)swap, (long long)limit);
  if (m->has_swappiness && m->swappiness > 100)
    return nook_error(err, 0, "linux.resources.memory.swappiness: %llu is not in 0-100",
                      (unsigned long long)m->swappiness);
  /* v1 itself refuses (EBUSY) a limit below usage after trying to reclaim;
   * checkBeforeUpdate asks for the refusal without the reclaim. */
  if (m->has_check_before_update && m->check_before_update &&
      cg_check_before_update(dir, "memory.usage_in_bytes", limit, err) < 0)
    return -1;
  /* Unlimited memory with swap unset means unlimited swap too.  An
   * unlimited swap request on a host without swap accounting asks for what
   * the host does anyway. */
  bool swap_optional = swap == -1 || (limit == -1 && swap == 0);
  if (limit == -1 && swap == 0)
    swap = -1;
  if (set_limits(dir, limit, swap, swap_optional, err) < 0)
    return -1;
  if (res != 0 && cg_set_num(dir, "memory.soft_limit_in_bytes", res,
                             "linux.resources.memory.reservation", NULL, err) < 0)
    return -1;
  if (m->has_kernel && set_kmem(dir, "memory.kmem.limit_in_bytes", m->kernel,
                                "linux.resources.memory.kernel", err) < 0)
    return -1;
  if (m->has_kernel_tcp && set_kmem(dir, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp,
                                    "linux.resources.memory.kernelTCP", err) < 0)
    return -1;
  if (m->has_swappiness && cg_set_num(dir, "memory.swappiness", (long long)m->swappiness,
                                      "linux.resources.memory.swappiness", NULL, err) < 0)
    return -1;
  if (m->has_disable_oom_killer) {
    int r = cg_set(dir, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
                   "linux.resources.memory.disableOOMKiller", NULL, err);
    if (r == -ENOENT && !m->disable_oom_killer)
      nook_error_free(err); /* an OOM killer that cannot be disabled is enabled */
    else if (r < 0)
      return -1;
  }
  if (m->has_use_hierarchy) {
    int r = cg_set(dir, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0",
                   "linux.resources.memory.useHierarchy", NULL, err);
    if (r == -EINVAL && !m->use_hierarchy) {
      nook_error_free(err);
      return nook_error(err, EINVAL,
                        "linux.resources.memory.useHierarchy: false is refused by %s/"
                        "memory.use_hierarchy: this kernel accounts memory hierarchically only",
                        dir);
    }
    if (r == -ENOENT && m->use_hierarchy)
      nook_error_free(err); /* no file: always hierarchical */
    else if (r < 0)
      return -1;
  }
  return 0;
}

/* ---- v2 ---- */

/* Memory fields cgroup v2 has no file for. */
static int memory_v1_only(const struct oci_memory *m, nook_error_t *err)
{
  /* NOT RECOMMENDED in the spec, and ignored by runc and crun on v2: a
   * warning, not a refused container. */
  if (m->has_kernel && m->kernel != 0 && m->kernel != -1)
    nook_warn("linux.resources.memory.kernel: cgroup v2 has no kernel memory limit (no "
              "memory.kmem.limit_in_bytes); kernel memory counts against memory.max, not applied");
  if (m->has_kernel_tcp && m->kernel_tcp != 0 && m->kernel_tcp != -1)
    nook_warn("linux.resources.memory.kernelTCP: cgroup v2 has no TCP buffer limit (no "
              "memory.kmem.tcp.limit_in_bytes); it counts against memory.max, not applied");
  if (m->has_swappiness)
    return nook_error(err, 0,
                      "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness "
                      "(no memory.swappiness)");
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    return nook_error(err, 0,
                      "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM "
                      "killer (no memory.oom_control); memory.oom.group and memory.high are the "
                      "v2 tools");
  if (m->has_use_hierarchy && !m->use_hierarchy)
    return nook_error(err, 0,
                      "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical "
                      "(no memory.use_hierarchy)");
  return 0;
}

int cg2_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err)
{
  /* runc semantics: 0 is "not set", -1 is unlimited; swap is memory+swap as
   * on v1 and becomes memory.swap.max = swap - limit. */
  int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
  int64_t res = m->has_reservation ? m->reservation : 0;
  char hint[128];
  if (check_mem_value("limit", limit, err) < 0 || check_mem_value("swap", swap, err) < 0 ||
      check_mem_value("reservation", res, err) < 0 || memory_v1_only(m, err) < 0)
    return -1;
  char buf[24];
  const char *swap_val = NULL;
  if (limit == -1 && swap == 0) {
    swap_val = "max"; /* unlimited memory: unlimited swap too, as v1 */
  } else if (swap == -1) {
    swap_val = "max";
  } else if (swap > 0) {
    if (limit <= 0)
      return nook_error(err, 0, "linux.resources.memory.swap: a swap limit needs a memory limit");
    if (swap < limit)
      return nook_error(err, 0,
                        "linux.resources.memory.swap: %lld is below memory.limit %lld (swap "
                        "counts memory plus swap)",
                        (long long)swap, (long long)limit);
    snprintf(buf, sizeof(buf), "%lld", (long long)(swap - limit));
    swap_val = buf;
  }
  /* v2 does not refuse a limit below usage: it reclaims, then OOM-kills. */
  if (m->has_check_before_update && m->check_before_update &&
      cg_check_before_update(dir, "memory.current", limit, err) < 0)
    return -1;
  if (swap_val) {
    int r = cg_set(dir, "memory.swap.max", swap_val, "linux.resources.memory.swap",
                   "swap accounting disabled?", err);
    /* No swap accounting: "max" and "0" ask for what the host does anyway. */
    if (r < 0 && !(r == -ENOENT && (strcmp(swap_val, "max") == 0 || strcmp(swap_val, "0") == 0)))
      return -1;
    if (r < 0)
      nook_error_free(err);
  }
  if (limit != 0 && cg_set(dir, "memory.max", cg_limit_str(limit, buf),
                           "linux.resources.memory.limit", CG2_HINT("memory"), err) < 0)
    return -1;
  if (res != 0 && cg_set(dir, "memory.low", cg_limit_str(res, buf),
                         "linux.resources.memory.reservation", CG2_HINT("memory"), err) < 0)
    return -1;
  return 0;
}
