/* The seccomp profile of `nook spec`: deny by default (EPERM), allow what
 * ordinary programs use, and keep out what only makes sense with
 * capabilities the default spec does not grant (mount, namespaces, modules,
 * keyrings, the clock, bpf, perf, reboot, ...).
 *
 * Profiles such as docker's grant more calls when the container has more
 * capabilities; the spec is generated once, so those entries are left out
 * and a config that adds CAP_SYS_ADMIN and friends must widen the profile
 * itself.  Names unknown to the running libseccomp are skipped when the
 * filter is built, so the list may name calls newer than the library. */
#include "spec.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>

#include "../base/utils.h"
#include "json.h"

/* Syscalls common to every architecture nook builds for, plus the 32-bit
 * compat names used by the secondary ABIs (x86 on x86_64, arm on aarch64). */
static const char *const allowed[] = {
    /* files and directories */
    "access",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "close",
    "close_range",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "flock",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futimesat",
    "getcwd",
    "getdents",
    "getdents64",
    "lchown",
    "lchown32",
    "link",
    "linkat",
    "_llseek",
    "lseek",
    "lstat",
    "lstat64",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pread64",
    "preadv",
    "preadv2",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "rename",
    "renameat",
    "renameat2",
    "rmdir",
    "sendfile",
    "sendfile64",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "tee",
    "truncate",
    "truncate64",
    "umask",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vmsplice",
    "write",
    "writev",
    /* extended attributes */
    "fgetxattr",
    "flistxattr",
    "fremovexattr",
    "fsetxattr",
    "getxattr",
    "getxattrat",
    "lgetxattr",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "lremovexattr",
    "lsetxattr",
    "removexattr",
    "removexattrat",
    "setxattr",
    "setxattrat",
    /* waiting on fds, notifications */
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "fanotify_mark",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "_newselect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "pselect6",
    "pselect6_time64",
    "select",
    "signalfd",
    "signalfd4",
    /* asynchronous I/O (io_uring stays out, as in docker's profile) */
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    /* memory */
    "brk",
    "cachestat",
    "get_mempolicy",
    "madvise",
    "map_shadow_stack",
    "mbind",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mremap",
    "mseal",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "remap_file_pages",
    "set_mempolicy",
    "set_mempolicy_home_node",
    /* processes and threads */
    "capget",
    "capset",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "fork",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrlimit",
    "getrusage",
    "getsid",
    "gettid",
    "kill",
    "pidfd_open",
    "pidfd_send_signal",
    "prctl",
    "prlimit64",
    "process_mrelease",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "restart_syscall",
    "rseq",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setpgid",
    "setpriority",
    "setrlimit",
    "setsid",
    "tgkill",
    "tkill",
    "ugetrlimit",
    "uretprobe",
    "vfork",
    "wait4",
    "waitid",
    "waitpid",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    /* futexes */
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    /* credentials */
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getuid",
    "getuid32",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setuid",
    "setuid32",
    /* signals */
    "alarm",
    "pause",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sigaction",
    "sigaltstack",
    "signal",
    "sigpending",
    "sigprocmask",
    "sigreturn",
    "sigsuspend",
    /* time (reading it; setting it needs CAP_SYS_TIME, which the kernel checks) */
    "adjtimex",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "getitimer",
    "gettimeofday",
    "nanosleep",
    "setitimer",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    /* sockets */
    "accept",
    "accept4",
    "bind",
    "connect",
    "getpeername",
    "getsockname",
    "getsockopt",
    "listen",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "send",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setsockopt",
    "shutdown",
    "socket",
    "socketcall",
    "socketpair",
    /* System V and POSIX IPC, in the container's IPC namespace */
    "ipc",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    /* the rest */
    "getrandom",
    "nice",
    "pipe",
    "pipe2",
    "sysinfo",
    "uname",
#if defined(__x86_64__) || defined(__i386__)
    "arch_prctl",
    "modify_ldt",
#endif
#if defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "breakpoint",
    "cacheflush",
    "set_tls",
    "sync_file_range2",
#endif
};

static const char *const architectures[] = {
#if defined(__x86_64__) || defined(__i386__)
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X32",
#elif defined(__aarch64__) || defined(__arm__)
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_ARM",
#endif
};

/* personality(2) values a program may set or query: Linux, the 32-bit
 * variant, UNAME26 with either, and 0xffffffff (query only).  Anything else
 * (e.g. ADDR_NO_RANDOMIZE) would weaken the container. */
static const unsigned long personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* clone(2) is allowed as long as it creates no namespace. */
#define CLONE_NS_FLAGS                                                                             \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |       \
   CLONE_NEWCGROUP)

static void gen_arg(yajl_gen g, unsigned index, uint64_t value, uint64_t value_two, const char *op)
{
  yajl_gen_map_open(g);
  jgen_key_uint(g, "index", index);
  jgen_key_uint(g, "value", value);
  jgen_key_uint(g, "valueTwo", value_two);
  jgen_key_str(g, "op", op);
  yajl_gen_map_close(g);
}

static void gen_rule_open(yajl_gen g, const char *name, const char *action)
{
  const char *names[] = {name, NULL};
  yajl_gen_map_open(g);
  jgen_key_strv(g, "names", names, 0);
  jgen_key_str(g, "action", action);
}

void oci_spec_gen_seccomp(yajl_gen g)
{
  jgen_str(g, "seccomp");
  yajl_gen_map_open(g);
  jgen_key_str(g, "defaultAction", "SCMP_ACT_ERRNO");
  jgen_key_uint(g, "defaultErrnoRet", EPERM);
  if (ARRAY_SIZE(architectures) > 0)
    jgen_key_strv(g, "architectures", architectures, ARRAY_SIZE(architectures));
  jgen_str(g, "syscalls");
  yajl_gen_array_open(g);

  yajl_gen_map_open(g);
  jgen_key_strv(g, "names", allowed, ARRAY_SIZE(allowed));
  jgen_key_str(g, "action", "SCMP_ACT_ALLOW");
  yajl_gen_map_close(g);

  /* One entry per value: an entry whose conditions repeat an argument
   * index is split by runtimes into one rule per condition, but separate
   * entries say "any of these" without relying on that. */
  for (size_t i = 0; i < ARRAY_SIZE(personalities); i++) {
    gen_rule_open(g, "personality", "SCMP_ACT_ALLOW");
    jgen_str(g, "args");
    yajl_gen_array_open(g);
    gen_arg(g, 0, personalities[i], 0, "SCMP_CMP_EQ");
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
  }

  /* The flags are clone's first argument on x86 and arm (s390 swaps the
   * first two, but nook builds no s390 profile). */
  gen_rule_open(g, "clone", "SCMP_ACT_ALLOW");
  jgen_str(g, "args");
  yajl_gen_array_open(g);
  gen_arg(g, 0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ"); /* value: the mask */
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);

  /* clone3 passes its flags in memory, out of the filter's reach: ENOSYS
   * makes the C libraries fall back to clone, which is checked above. */
  gen_rule_open(g, "clone3", "SCMP_ACT_ERRNO");
  jgen_key_uint(g, "errnoRet", ENOSYS);
  yajl_gen_map_close(g);

  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}
