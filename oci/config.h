/* runtime-spec v1.3 config.json as typed C structs (the Linux part in full).
 *
 * Conventions: arrays are (pointer, count) pairs; strings are NULL when
 * absent; an optional scalar whose zero value is meaningful has a has_<name>
 * flag.  Everything is owned by the oci_config and freed by
 * oci_config_free().
 *
 * Optional names, labels and paths given as "" (Go's zero value, meaning
 * "not set" to runc) are NULL as well: hostname, domainname,
 * apparmorProfile, selinuxLabel, namespace paths, cgroupsPath, mountLabel,
 * intelRdt.closID, seccomp listenerPath and listenerMetadata. */
#ifndef NOOK_OCI_CONFIG_H
#define NOOK_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"

struct oci_id_mapping {
  uint32_t container_id, host_id, size;
};

struct oci_mount {
  char *destination; /* absolute (a deprecated relative one is taken from "/"),
                        without "//", "/./" or a trailing "/" */
  char *source;
  char *type;
  char **options; /* NULL-terminated */
  size_t n_options;
  struct oci_id_mapping *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
};

struct oci_rlimit {
  int resource; /* RLIMIT_* */
  char *type;   /* as written, for messages */
  uint64_t hard, soft;
};

/* Capability sets as bitmasks of CAP_* numbers (bit n = capability n). */
struct oci_capabilities {
  bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct oci_user {
  uint32_t uid, gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  char *username;
};

struct oci_scheduler {
  int policy; /* SCHED_* */
  int32_t nice, priority;
  uint64_t flags; /* SCHED_FLAG_* bits */
  uint64_t runtime, deadline, period;
};

struct oci_io_priority {
  int klass; /* IOPRIO_CLASS_* */
  int priority;
};

struct oci_exec_cpu_affinity {
  char *initial, *final;
};

struct oci_process {
  bool terminal;
  bool has_console_size; /* never set without terminal (config.md) */
  uint32_t console_height, console_width;
  char *cwd;
  char **env; /* NULL-terminated */
  size_t n_env;
  char **args; /* NULL-terminated */
  size_t n_args;
  char *command_line;
  struct oci_rlimit *rlimits;
  size_t n_rlimits;
  char *apparmor_profile;
  bool has_capabilities;
  struct oci_capabilities capabilities;
  /* Capability names nook does not know, left out of the sets (config.md:
   * warn, do not fail): "<path>: unknown capability \"X\"" each, for the
   * caller to warn about once. */
  char **unknown_caps;
  size_t n_unknown_caps;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  bool has_scheduler;
  struct oci_scheduler scheduler;
  char *selinux_label;
  bool has_io_priority;
  struct oci_io_priority io_priority;
  bool has_exec_cpu_affinity;
  struct oci_exec_cpu_affinity exec_cpu_affinity;
  struct oci_user user;
};

struct oci_hook {
  char *path;
  char **args; /* NULL-terminated, may be NULL */
  char **env;  /* NULL-terminated, may be NULL */
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

struct oci_hooks {
  struct oci_hook *prestart, *create_runtime, *create_container, *start_container, *poststart,
      *poststop;
  size_t n_prestart, n_create_runtime, n_create_container, n_start_container, n_poststart,
      n_poststop;
};

enum oci_ns_type {
  OCI_NS_PID,
  OCI_NS_NETWORK,
  OCI_NS_MOUNT,
  OCI_NS_IPC,
  OCI_NS_UTS,
  OCI_NS_USER,
  OCI_NS_CGROUP,
  OCI_NS_TIME,
  OCI_NS_COUNT
};

struct oci_namespace {
  enum oci_ns_type type;
  char *path; /* NULL: create a new one */
};

struct oci_device {
  char *path;
  char type; /* 'c', 'b', 'u', 'p' */
  int64_t major, minor;
  bool has_file_mode, has_uid, has_gid;
  uint32_t file_mode, uid, gid;
};

struct oci_device_cgroup {
  bool allow;
  char type; /* 'a', 'c', 'b'; 'a' when absent */
  bool has_type, has_major, has_minor;
  int64_t major, minor; /* -1 for wildcard when absent */
  char *access;         /* "rwm" subset, NULL = all */
};

struct oci_memory {
  bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness,
      has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
  int64_t limit, reservation, swap, kernel, kernel_tcp;
  uint64_t swappiness;
  bool disable_oom_killer, use_hierarchy, check_before_update;
};

struct oci_cpu {
  bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime, has_realtime_period,
      has_idle;
  uint64_t shares, period, realtime_period, burst;
  int64_t quota, realtime_runtime, idle;
  char *cpus, *mems;
};

struct oci_weight_device {
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
};

struct oci_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

/* For the lists and maps of resources, has_<name> says it was given, even
 * empty: an update that gives [] replaces the saved entries with none, and
 * the config.json update rewrites keeps an empty one as it was. */
struct oci_blockio {
  bool has_weight, has_leaf_weight, has_weight_device, has_throttle_read_bps,
      has_throttle_write_bps, has_throttle_read_iops, has_throttle_write_iops;
  uint16_t weight, leaf_weight;
  struct oci_weight_device *weight_device;
  size_t n_weight_device;
  struct oci_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
      *throttle_write_iops;
  size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
};

struct oci_hugepage_limit {
  char *page_size; /* "2MB", "1GB", ... */
  uint64_t limit;
};

struct oci_net_priority {
  char *name;
  uint32_t priority;
};

struct oci_network_resources {
  bool has_class_id, has_priorities;
  uint32_t class_id;
  struct oci_net_priority *priorities;
  size_t n_priorities;
};

struct oci_rdma {
  char *device;
  bool has_hca_handles, has_hca_objects;
  uint32_t hca_handles, hca_objects;
};

struct oci_kv {
  char *key, *value;
};

struct oci_resources {
  struct oci_device_cgroup *devices;
  size_t n_devices;
  bool has_memory, has_cpu, has_pids, has_blockio, has_network;
  /* given, even empty: see oci_blockio */
  bool has_devices, has_hugepage_limits, has_rdma, has_unified;
  struct oci_memory memory;
  struct oci_cpu cpu;
  int64_t pids_limit;
  struct oci_blockio blockio;
  struct oci_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct oci_network_resources network;
  struct oci_rdma *rdma;
  size_t n_rdma;
  struct oci_kv *unified;
  size_t n_unified;
};

struct oci_seccomp_arg {
  unsigned index;
  uint64_t value, value_two;
  int op; /* enum scmp_compare */
};

/* errno_ret: the errnoRet given (has_errno_ret), else EPERM for
 * SCMP_ACT_ERRNO and SCMP_ACT_TRACE (the spec's default), else 0.  The parser
 * rejects errnoRet with actions that cannot return an errno. */
struct oci_seccomp_syscall {
  char **names; /* NULL-terminated */
  size_t n_names;
  uint32_t action; /* SCMP_ACT_* without errno */
  char *action_name;
  bool has_errno_ret;
  uint32_t errno_ret;
  struct oci_seccomp_arg *args;
  size_t n_args;
};

struct oci_seccomp {
  uint32_t default_action;
  char *default_action_name;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  uint32_t *architectures; /* SCMP_ARCH_* */
  size_t n_architectures;
  unsigned flags; /* SECCOMP_FILTER_FLAG_* */
  char *listener_path;
  char *listener_metadata;
  struct oci_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

/* Seccomp actions that return an errno, so errnoRet applies to them. */
bool oci_seccomp_action_takes_errno(uint32_t action);
/* The rules on a profile's actions, for profiles however they were built
 * (the parser already refuses errnoRet where it does not apply, naming the
 * JSON path): no SCMP_ACT_NOTIFY as the default action, errnoRet and
 * defaultErrnoRet only with actions that take an errno. */
int oci_seccomp_check_actions(const struct oci_seccomp *s, nook_error_t *err);

struct oci_intel_rdt {
  char *clos_id, *l3_cache_schema, *mem_bw_schema;
  char **schemata;
  size_t n_schemata;
  bool enable_monitoring;
};

struct oci_memory_policy {
  int mode; /* MPOL_* */
  char *nodes;
  unsigned flags; /* MPOL_F_* */
};

struct oci_net_device {
  char *host_name, *name;
};

struct oci_time_offset {
  int64_t secs;
  uint32_t nanosecs;
};

struct oci_personality {
  unsigned long domain; /* PER_LINUX or PER_LINUX32 */
};

struct oci_linux {
  struct oci_namespace *namespaces;
  size_t n_namespaces;
  struct oci_id_mapping *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  bool has_time_offsets_boottime, has_time_offsets_monotonic;
  struct oci_time_offset time_boottime, time_monotonic;
  struct oci_device *devices;
  size_t n_devices;
  struct oci_net_device *net_devices;
  size_t n_net_devices;
  char *cgroups_path;
  bool has_resources;
  struct oci_resources resources;
  bool has_intel_rdt;
  struct oci_intel_rdt intel_rdt;
  bool has_memory_policy;
  struct oci_memory_policy memory_policy;
  struct oci_kv *sysctl;
  size_t n_sysctl;
  bool has_seccomp;
  struct oci_seccomp seccomp;
  char *rootfs_propagation;               /* as written */
  unsigned long rootfs_propagation_flags; /* MS_* or 0 */
  char **masked_paths, **readonly_paths;  /* NULL-terminated */
  size_t n_masked_paths, n_readonly_paths;
  char *mount_label;
  bool has_personality;
  struct oci_personality personality;
};

/* config-vm.md: the virtual machine a VM-mode container runs in.  Paths
 * are as written (validate checks they are absolute).  The fields that
 * only Xen-like hypervisors have (hwConfig deviceTree, dtdevs, iomems,
 * irqs) are type-checked and only their presence kept: nook's backends
 * refuse them. */
struct oci_vm {
  bool has_hypervisor;
  char *hypervisor_path;
  char **hypervisor_parameters; /* NULL-terminated, may be NULL */
  size_t n_hypervisor_parameters;
  char *kernel_path;        /* required */
  char **kernel_parameters; /* NULL-terminated, may be NULL */
  size_t n_kernel_parameters;
  char *kernel_initrd;
  bool has_image;
  char *image_path;
  char *image_format; /* as written; NULL: raw (config-vm.md's default) */
  bool has_vcpus, has_memory;
  uint32_t vcpus;
  uint64_t memory; /* bytes */
  bool has_device_tree, has_dtdevs, has_iomems, has_irqs;
};

struct oci_config {
  char *oci_version;
  char *root_path;
  bool root_readonly;
  struct oci_mount *mounts;
  size_t n_mounts;
  bool has_process;
  struct oci_process process;
  char *hostname, *domainname;
  bool has_hooks;
  struct oci_hooks hooks;
  struct oci_kv *annotations;
  size_t n_annotations;
  bool has_linux;
  struct oci_linux linux_;
  bool has_vm;
  struct oci_vm vm;
};

/* Parse config.json text.  `origin` prefixes error messages ("config.json").
 * Errors name the JSON path and value:
 *   config.json: process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"
 * Malformed JSON reports line and column. */
int oci_config_parse(const char *json, size_t len, const char *origin, struct oci_config **out,
                     nook_error_t *err);
int oci_config_load(const char *path, struct oci_config **out, nook_error_t *err);
void oci_config_free(struct oci_config *c);

/* Checks that need the whole document (MUSTs of config.md/config-linux.md
 * that are not about a single value): process required for start, no
 * duplicate namespaces, mappings only with a user namespace, ... */
int oci_config_validate(const struct oci_config *c, bool for_start, nook_error_t *err);

/* The runtime-spec version nook implements.  A config of a newer major
 * version is refused; a newer minor is accepted (with a warning): minors
 * only add, and refusing them broke crun's users (crun#1880).  A 0.x (the
 * drafts before 1.0.0; the spec's own example config says 0.5.0-dev) is
 * read as 1.x, with a warning. */
#define OCI_VERSION_MAJOR 1
#define OCI_VERSION_MINOR 3
/* Whether a valid ociVersion is a 1.x newer than OCI_VERSION_MINOR. */
bool oci_version_newer_minor(const char *version);
/* Whether a valid ociVersion is a 0.x draft. */
bool oci_version_draft(const char *version);

/* Parse a standalone process JSON (for `exec --process`). */
int oci_process_parse(const char *json, size_t len, const char *origin, struct oci_process *out,
                      nook_error_t *err);
void oci_process_clear(struct oci_process *p);

/* Parse a linux.resources JSON (for `update --resources`). */
int oci_resources_parse(const char *json, size_t len, const char *origin, struct oci_resources *out,
                        nook_error_t *err);
void oci_resources_clear(struct oci_resources *r);

/* Override dst with what `update` gives, field by field, as `nook update`
 * (and runc's) does:
 *  - 0 leaves unchanged memory.limit, reservation, swap, kernel, kernelTCP;
 *    cpu.shares, quota, period, realtimeRuntime, realtimePeriod; blockIO
 *    weight and leafWeight; and "" leaves cpu.cpus and cpu.mems unchanged
 *    (the cgroup managers do not write these either, so the merged
 *    resources say what the cgroup holds);
 *  - device rules are never changed;
 *  - an array given (even empty) replaces dst's (hugepageLimits, the
 *    blockIO device lists, network.priorities);
 *  - the maps rdma and unified merge by key, an rdma device's fields one by
 *    one.
 * A section the update gives (memory, cpu, ...) is present in dst after,
 * even when every value in it was left unchanged. */
void oci_resources_merge(struct oci_resources *dst, const struct oci_resources *update);

/* linux.resources as compact JSON (malloc'ed): the fields present, in the
 * spec's order. */
char *oci_resources_json(const struct oci_resources *r);

/* config.json text `json` with linux.resources replaced by r (added when
 * absent) and everything else as it was; tab-indented, in *out. */
int oci_config_with_resources(const char *json, size_t len, const char *origin,
                              const struct oci_resources *r, char **out, nook_error_t *err);

/* config.json text as a VM-mode guest builds the container from: root.path
 * replaced by root_path; mounts[i].source by mount_sources[i] where that is
 * not NULL (i < n_sources); only the hooks that run in the container's
 * namespaces (createContainer, startContainer) kept; the annotation
 * drop_annotation and the `vm` object left out (the guest makes no VM); the
 * network namespace's path dropped (it names the host's, whose interface
 * the guest gets: net/vmnet.h); with join_pid > 0 (a pod's member) every
 * namespace path, the network's too, replaced by the guest process
 * join_pid's (/proc/PID/ns/X).  Everything else as it was. */
int oci_config_for_guest(const char *json, size_t len, const char *origin, const char *root_path,
                         char *const *mount_sources, size_t n_sources, const char *drop_annotation,
                         int join_pid, char **out, nook_error_t *err);

/* Checks of a process that do not need the rest of the config (used for
 * `exec --process` too): cwd absolute, args non-empty, no duplicate
 * rlimits, soft <= hard.  Messages name the field ("process.cwd: ..."). */
int oci_process_validate(const struct oci_process *p, nook_error_t *err);

/* The namespace entry of type t, NULL when the container shares the
 * runtime's. */
const struct oci_namespace *oci_config_namespace(const struct oci_config *c, enum oci_ns_type t);

/* The highest capability number nook knows: CAP_CHECKPOINT_RESTORE. */
#define OCI_CAP_LAST 40

/* Lookups shared by parser, CLI and library. */
const char *oci_ns_type_name(enum oci_ns_type t); /* "pid", "network", ... */
int oci_ns_type_from_name(const char *name);      /* -1 if unknown */
int oci_ns_clone_flag(enum oci_ns_type t);        /* CLONE_NEW* */
const char *oci_ns_proc_name(enum oci_ns_type t); /* /proc/PID/ns/<name>: "pid", "net", ... */
int oci_cap_from_name(const char *name);          /* -1 if unknown; accepts "CAP_X" */
const char *oci_cap_name(int cap);                /* "CAP_CHOWN"; NULL if unknown */
int oci_rlimit_from_name(const char *name);       /* -1 if unknown */
const char *oci_rlimit_name(int resource);        /* "RLIMIT_NOFILE"; NULL if unknown */
int oci_signal_from_name(const char *name);       /* "KILL", "SIGKILL", "9"; -1 if unknown */
const char *oci_annotation(const struct oci_config *c, const char *key);

#endif
