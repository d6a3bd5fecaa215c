/* `nook spec`: the same document as runc's `spec` (runc's specconv.Example
 * and ToRootless), with keys in the order Go's encoder writes them and tab
 * indentation, so the two can be compared line by line; unlike runc's, it
 * also carries a default seccomp profile (spec_seccomp.c). */
#include "spec.h"

#include <stddef.h>

#include "json.h"

struct mount_def {
  const char *destination, *type, *source;
  const char *const *options; /* NULL-terminated; NULL for none */
};

static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
static const char *const devpts_opts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                          "mode=0620", "gid=5",  NULL};
static const char *const devpts_rootless_opts[] = {"nosuid",        "noexec",    "newinstance",
                                                   "ptmxmode=0666", "mode=0620", NULL};
static const char *const shm_opts[] = {"nosuid",    "noexec",      "nodev",
                                       "mode=1777", "size=65536k", NULL};
static const char *const mqueue_opts[] = {"nosuid", "noexec", "nodev", NULL};
static const char *const sys_opts[] = {"nosuid", "noexec", "nodev", "ro", NULL};
static const char *const sys_rootless_opts[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
static const char *const cgroup_opts[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};

static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
static const char *const args[] = {"sh", NULL};
static const char *const env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};

static const char *const masked_paths[] = {"/proc/acpi",
                                           "/proc/asound",
                                           "/proc/kcore",
                                           "/proc/keys",
                                           "/proc/latency_stats",
                                           "/proc/timer_list",
                                           "/proc/timer_stats",
                                           "/proc/sched_debug",
                                           "/sys/firmware",
                                           "/proc/scsi",
                                           "/sys/devices/virtual/tpm",
                                           NULL};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

static void gen_mapping(yajl_gen g, const char *key, unsigned host_id)
{
  jgen_str(g, key);
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  jgen_key_uint(g, "containerID", 0);
  jgen_key_uint(g, "hostID", host_id);
  jgen_key_uint(g, "size", 1);
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
}

static void gen_namespace(yajl_gen g, const char *type)
{
  yajl_gen_map_open(g);
  jgen_key_str(g, "type", type);
  yajl_gen_map_close(g);
}

char *oci_default_spec(bool rootless, bool cgroupns, unsigned host_uid, unsigned host_gid,
                       bool pretty)
{
  const struct mount_def mounts[] = {
      {"/proc", "proc", "proc", NULL},
      {"/dev", "tmpfs", "tmpfs", dev_opts},
      {"/dev/pts", "devpts", "devpts", rootless ? devpts_rootless_opts : devpts_opts},
      {"/dev/shm", "tmpfs", "shm", shm_opts},
      {"/dev/mqueue", "mqueue", "mqueue", mqueue_opts},
      rootless ? (struct mount_def){"/sys", "none", "/sys", sys_rootless_opts}
               : (struct mount_def){"/sys", "sysfs", "sysfs", sys_opts},
      {"/sys/fs/cgroup", "cgroup", "cgroup", cgroup_opts},
  };

  yajl_gen g = jgen_new(pretty ? "\t" : NULL);
  yajl_gen_map_open(g);
  jgen_key_str(g, "ociVersion", "1.3.0");

  jgen_str(g, "process");
  yajl_gen_map_open(g);
  jgen_key_bool(g, "terminal", true);
  jgen_str(g, "user");
  yajl_gen_map_open(g);
  jgen_key_uint(g, "uid", 0);
  jgen_key_uint(g, "gid", 0);
  yajl_gen_map_close(g);
  jgen_key_strv(g, "args", args, 0);
  jgen_key_strv(g, "env", env, 0);
  jgen_key_str(g, "cwd", "/");
  jgen_str(g, "capabilities");
  yajl_gen_map_open(g);
  jgen_key_strv(g, "bounding", caps, 0);
  jgen_key_strv(g, "effective", caps, 0);
  jgen_key_strv(g, "permitted", caps, 0);
  yajl_gen_map_close(g);
  jgen_str(g, "rlimits");
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  jgen_key_str(g, "type", "RLIMIT_NOFILE");
  jgen_key_uint(g, "hard", 1024);
  jgen_key_uint(g, "soft", 1024);
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
  jgen_key_bool(g, "noNewPrivileges", true);
  yajl_gen_map_close(g);

  jgen_str(g, "root");
  yajl_gen_map_open(g);
  jgen_key_str(g, "path", "rootfs");
  jgen_key_bool(g, "readonly", true);
  yajl_gen_map_close(g);

  jgen_key_str(g, "hostname", "nook");

  jgen_str(g, "mounts");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++)
    jgen_mount(g, mounts[i].destination, mounts[i].type, mounts[i].source, mounts[i].options);
  yajl_gen_array_close(g);

  jgen_str(g, "linux");
  yajl_gen_map_open(g);
  /* Rootless (as runc): the caller is root in a user namespace, and the
   * resources go, as cgroups are not writable without delegation. */
  if (rootless) {
    gen_mapping(g, "uidMappings", host_uid);
    gen_mapping(g, "gidMappings", host_gid);
  } else {
    jgen_str(g, "resources");
    yajl_gen_map_open(g);
    jgen_str(g, "devices");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    jgen_key_bool(g, "allow", false);
    jgen_key_str(g, "access", "rwm");
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
  }
  jgen_str(g, "namespaces");
  yajl_gen_array_open(g);
  gen_namespace(g, "pid");
  if (!rootless)
    gen_namespace(g, "network");
  gen_namespace(g, "ipc");
  gen_namespace(g, "uts");
  gen_namespace(g, "mount");
  if (cgroupns)
    gen_namespace(g, "cgroup");
  if (rootless)
    gen_namespace(g, "user");
  yajl_gen_array_close(g);
  oci_spec_gen_seccomp(g);
  jgen_key_strv(g, "maskedPaths", masked_paths, 0);
  jgen_key_strv(g, "readonlyPaths", readonly_paths, 0);
  yajl_gen_map_close(g);

  yajl_gen_map_close(g);
  return jgen_finish(g);
}
