#include "names.h"

#include <ctype.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "../base/utils.h"
#include "config.h"

/* Values libseccomp 2.5 does not define yet: the AUDIT_ARCH_* numbers
 * libseccomp 2.6 uses, the kernel's flag bits.  libseccomp rejects what it
 * cannot handle when the filter is built. */
#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif
#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 (EM_LOONGARCH | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE)
#endif
#ifndef SCMP_ARCH_M68K
#define SCMP_ARCH_M68K AUDIT_ARCH_M68K
#endif
#ifndef SCMP_ARCH_SH
#define SCMP_ARCH_SH AUDIT_ARCH_SHEL
#endif
#ifndef SCMP_ARCH_SHEB
#define SCMP_ARCH_SHEB AUDIT_ARCH_SH
#endif

#define TABLE(name, ...)                                                                           \
  static const struct oci_name name##_v[] = {__VA_ARGS__};                                         \
  const struct oci_name_table name = {name##_v, ARRAY_SIZE(name##_v)}

TABLE(oci_seccomp_actions, {"SCMP_ACT_KILL", SCMP_ACT_KILL},
      {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
      {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD}, {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
      {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)}, {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
      {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW}, {"SCMP_ACT_LOG", SCMP_ACT_LOG},
      {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY});

TABLE(oci_seccomp_arches, {"SCMP_ARCH_X86", SCMP_ARCH_X86}, {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
      {"SCMP_ARCH_X32", SCMP_ARCH_X32}, {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
      {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64}, {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
      {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64}, {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
      {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL}, {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
      {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32}, {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
      {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64}, {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
      {"SCMP_ARCH_S390", SCMP_ARCH_S390}, {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
      {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC}, {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
      {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64}, {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
      {"SCMP_ARCH_M68K", SCMP_ARCH_M68K}, {"SCMP_ARCH_SH", SCMP_ARCH_SH},
      {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB});

TABLE(oci_seccomp_ops, {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT}, {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ});

/* linux/seccomp.h: SECCOMP_FILTER_FLAG_* */
TABLE(oci_seccomp_flags, {"SECCOMP_FILTER_FLAG_TSYNC", 1 << 0}, {"SECCOMP_FILTER_FLAG_LOG", 1 << 1},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1 << 2},
      {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1 << 5});

/* linux/sched.h; SCHED_ISO (4) is reserved by the kernel and never
 * implemented, so sched_setattr will refuse it. */
TABLE(oci_sched_policies, {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},
      {"SCHED_BATCH", 3}, {"SCHED_ISO", 4}, {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6});

TABLE(oci_sched_flags, {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
      {"SCHED_FLAG_DL_OVERRUN", 0x04}, {"SCHED_FLAG_KEEP_POLICY", 0x08},
      {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40});

/* linux/ioprio.h */
TABLE(oci_ioprio_classes, {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3});

/* linux/mempolicy.h (MPOL_WEIGHTED_INTERLEAVE is from Linux 6.9). */
TABLE(oci_mpol_modes, {"MPOL_DEFAULT", 0}, {"MPOL_PREFERRED", 1}, {"MPOL_BIND", 2},
      {"MPOL_INTERLEAVE", 3}, {"MPOL_LOCAL", 4}, {"MPOL_PREFERRED_MANY", 5},
      {"MPOL_WEIGHTED_INTERLEAVE", 6});

TABLE(oci_mpol_flags, {"MPOL_F_NUMA_BALANCING", 1 << 13}, {"MPOL_F_RELATIVE_NODES", 1 << 14},
      {"MPOL_F_STATIC_NODES", 1 << 15});

TABLE(oci_propagations, {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
      {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC}, {"shared", MS_SHARED},
      {"rshared", MS_SHARED | MS_REC}, {"unbindable", MS_UNBINDABLE},
      {"runbindable", MS_UNBINDABLE | MS_REC});

TABLE(oci_personality_domains, {"LINUX", PER_LINUX}, {"LINUX32", PER_LINUX32});

TABLE(oci_rlimits, {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME});

bool oci_name_lookup(const struct oci_name_table *t, const char *name, int64_t *out)
{
  for (size_t i = 0; i < t->n; i++) {
    if (strcmp(t->v[i].name, name) == 0) {
      *out = t->v[i].value;
      return true;
    }
  }
  return false;
}

const char *oci_name_of(const struct oci_name_table *t, int64_t value)
{
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].value == value)
      return t->v[i].name;
  return NULL;
}

bool oci_seccomp_action_takes_errno(uint32_t action)
{
  return action == SCMP_ACT_ERRNO(0) || action == SCMP_ACT_TRACE(0);
}

/* ---- public lookups (config.h) ------------------------------------------- */

static const struct {
  const char *name, *proc;
  int clone_flag;
} namespaces[OCI_NS_COUNT] = {
    [OCI_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [OCI_NS_NETWORK] = {"network", "net", CLONE_NEWNET},
    [OCI_NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
    [OCI_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [OCI_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [OCI_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [OCI_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [OCI_NS_TIME] = {"time", "time", 0x00000080 /* CLONE_NEWTIME */},
};

const char *oci_ns_type_name(enum oci_ns_type t)
{
  return (unsigned)t < OCI_NS_COUNT ? namespaces[t].name : NULL;
}

int oci_ns_type_from_name(const char *name)
{
  for (int i = 0; i < OCI_NS_COUNT; i++)
    if (strcmp(namespaces[i].name, name) == 0)
      return i;
  return -1;
}

int oci_ns_clone_flag(enum oci_ns_type t)
{
  return (unsigned)t < OCI_NS_COUNT ? namespaces[t].clone_flag : 0;
}

const char *oci_ns_proc_name(enum oci_ns_type t)
{
  return (unsigned)t < OCI_NS_COUNT ? namespaces[t].proc : NULL;
}

/* Indexed by capability number (linux/capability.h). */
static const char *const capabilities[OCI_CAP_LAST + 1] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int oci_cap_from_name(const char *name)
{
  if (strncmp(name, "CAP_", 4) != 0)
    return -1;
  for (int i = 0; i <= OCI_CAP_LAST; i++)
    if (strcmp(capabilities[i] + 4, name + 4) == 0)
      return i;
  return -1;
}

const char *oci_cap_name(int cap)
{
  return cap >= 0 && cap <= OCI_CAP_LAST ? capabilities[cap] : NULL;
}

int oci_rlimit_from_name(const char *name)
{
  int64_t v;
  return oci_name_lookup(&oci_rlimits, name, &v) ? (int)v : -1;
}

const char *oci_rlimit_name(int resource)
{
  return oci_name_of(&oci_rlimits, resource);
}

static const struct {
  const char *name;
  int sig;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" */
static int rt_signal(const char *s)
{
  int base, dir;
  if (strncasecmp(s, "RTMIN", 5) == 0) {
    base = SIGRTMIN;
    dir = 1;
  } else if (strncasecmp(s, "RTMAX", 5) == 0) {
    base = SIGRTMAX;
    dir = -1;
  } else {
    return -1;
  }
  s += 5;
  if (*s == '\0')
    return base;
  if (*s != (dir > 0 ? '+' : '-'))
    return -1;
  unsigned long long n;
  if (parse_uint64(s + 1, &n) < 0 || n > (unsigned long long)(SIGRTMAX - SIGRTMIN))
    return -1;
  return base + dir * (int)n;
}

int oci_signal_from_name(const char *name)
{
  unsigned long long n;
  if (parse_uint64(name, &n) == 0)
    return n >= 1 && n <= (unsigned long long)SIGRTMAX ? (int)n : -1;
  if (strncasecmp(name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
    if (strcasecmp(signals[i].name, name) == 0)
      return signals[i].sig;
  return rt_signal(name);
}
