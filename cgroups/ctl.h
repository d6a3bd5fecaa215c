/* Private to cgroups/: linux.resources.  The router (resources.c) decides
 * which controller's files go on which hierarchy; each ctl_*.c holds one
 * controller's v1 and v2 writers with its own checks and conversions, and
 * calls the file helpers of internal.h (ctl_unified.c also v2.c's
 * controller enabling), never the router. */
#ifndef NOOK_CGROUPS_CTL_H
#define NOOK_CGROUPS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

/* Every writer writes only the files of fields that are set.  A field the
 * host cannot apply (controller or file missing) is an error naming the
 * field and the file, unless its value is what the host does anyway. */

/* ---- the router (resources.c) ---- */

/* Apply on v1 hierarchies; with `unified` (hybrid) a controller no v1
 * hierarchy carries is set in the unified hierarchy instead. */
int cg1_apply(const struct cgroup_paths *p, const struct oci_resources *r, const char *unified,
              nook_error_t *err);
/* Apply everything on one v2 directory (pure v2). */
int cg2_apply(const char *dir, const struct oci_resources *r, nook_error_t *err);

/* ---- controllers ----
 * cg_<ctl>_set: are any of the controller's fields set?  cg1_apply_<ctl>,
 * cg2_apply_<ctl>: write them to one v1 or v2 directory. */

/* memory (ctl_memory.c) */
bool cg_memory_set(const struct oci_resources *r);
int cg1_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err);
int cg2_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err);

/* cpu (ctl_cpu.c).  v1: `created` is how many trailing components of dir
 * nook made (the realtime budget of its own parents). */
bool cg_cpu_set(const struct oci_resources *r);
int cg1_apply_cpu(const char *dir, const struct oci_cpu *c, unsigned created, nook_error_t *err);
int cg2_apply_cpu(const char *dir, const struct oci_cpu *c, nook_error_t *err);
/* runc's mapping of cpu.shares [2, 262144] onto cpu.weight [1, 10000]. */
uint64_t cg_shares_to_weight(uint64_t shares);

/* cpuset (ctl_cpuset.c) */
bool cg_cpuset_set(const struct oci_resources *r);
int cg1_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err);
int cg2_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err);

/* pids (ctl_pids.c): any limit is set, -1 meaning "max". */
int cg1_apply_pids(const char *dir, int64_t limit, nook_error_t *err);
int cg2_apply_pids(const char *dir, int64_t limit, nook_error_t *err);

/* blkio on v1, io on v2 (ctl_io.c) */
bool cg_blkio_set(const struct oci_resources *r);
int cg1_apply_blkio(const char *dir, const struct oci_blockio *b, nook_error_t *err);
int cg2_apply_io(const char *dir, const struct oci_blockio *b, nook_error_t *err);
/* runc's mapping of blkio weight [10, 1000] onto io.weight [1, 10000]. */
uint64_t cg_blkio_to_io_weight(uint64_t weight);

/* hugetlb (ctl_hugetlb.c).  Validate hugepageLimits[i].pageSize ("2MB")
 * against the host's huge page sizes; the file name part is the size
 * itself.  The router checks every size before it routes. */
int cg_hugetlb_check_size(const char *size, size_t idx, nook_error_t *err);
int cg1_apply_hugetlb(const char *dir, const struct oci_resources *r, nook_error_t *err);
int cg2_apply_hugetlb(const char *dir, const struct oci_resources *r, nook_error_t *err);

/* net_cls and net_prio, v1 only (ctl_net.c) */
bool cg_net_cls_set(const struct oci_resources *r);
bool cg_net_prio_set(const struct oci_resources *r);
int cg1_apply_net_cls(const char *dir, const struct oci_network_resources *n, nook_error_t *err);
int cg1_apply_net_prio(const char *dir, const struct oci_network_resources *n, nook_error_t *err);

/* rdma (ctl_rdma.c) */
int cg1_apply_rdma(const char *dir, const struct oci_resources *r, nook_error_t *err);
int cg2_apply_rdma(const char *dir, const struct oci_resources *r, nook_error_t *err);

/* linux.resources.unified (ctl_unified.c): raw writes to dir.  hybrid: a
 * file that is missing because its controller is not enabled yet is enabled
 * first, if the unified hierarchy has that controller at all. */
int cg2_apply_unified(const char *dir, const struct oci_resources *r, bool hybrid,
                      nook_error_t *err);
/* A `unified` key must be a plain file name of the cgroup directory. */
int cg_unified_check_key(const char *key, nook_error_t *err);

/* devices (ctl_devices.c): the whole rule list, replacing what was there.
 * v2: build, load and attach the device filter (replacing nook's previous
 * program on this cgroup). */
int cg1_apply_devices(const char *dir, const struct oci_resources *r, nook_error_t *err);
int cg2_apply_devices(const char *dir, const struct oci_resources *r, nook_error_t *err);

/* ---- the v2 device filter (ebpf.c) ---- */
struct bpf_insn;
/* The BPF_PROG_TYPE_CGROUP_DEVICE program for a rule list: rules apply in
 * order, the last one that covers an access bit decides it; a rule of type
 * `a` resets everything before it to allow-all or deny-all (as on v1); the
 * default with no `a` rule is deny. */
int cg_devices_bpf_build(const struct oci_device_cgroup *rules, size_t n, struct bpf_insn **out,
                         size_t *n_out, nook_error_t *err);
/* BPF_PROG_LOAD; the verifier's log is in the error on failure. */
int cg_devices_bpf_load(const struct bpf_insn *insns, size_t n, nook_error_t *err);
/* Attach prog_fd to dir (BPF_F_ALLOW_MULTI), replacing nook's program. */
int cg_devices_bpf_attach(const char *dir, int prog_fd, nook_error_t *err);
/* How many programs are attached to dir, and how many of them are nook's. */
int cg_devices_bpf_count(const char *dir, size_t *total, size_t *nook, nook_error_t *err);

#endif
