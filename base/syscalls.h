/* Raw wrappers for the syscalls glibc 2.36 does not wrap (or wraps too late).
 * All of nook's use of them goes through here. */
#ifndef NOOK_SYSCALLS_H
#define NOOK_SYSCALLS_H

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static inline int sys_close_range(unsigned first, unsigned last, unsigned flags)
{
  return (int)syscall(__NR_close_range, first, last, flags);
}

static inline long sys_clone3(struct clone_args *args, size_t size)
{
  return syscall(__NR_clone3, args, size);
}

static inline int sys_openat2(int dirfd, const char *path, struct open_how *how)
{
  return (int)syscall(__NR_openat2, dirfd, path, how, sizeof(*how));
}

static inline int sys_pidfd_open(pid_t pid, unsigned flags)
{
  return (int)syscall(__NR_pidfd_open, pid, flags);
}

static inline int sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned flags)
{
  return (int)syscall(__NR_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int sys_open_tree(int dirfd, const char *path, unsigned flags)
{
  return (int)syscall(__NR_open_tree, dirfd, path, flags);
}

static inline int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
                                 unsigned flags)
{
  return (int)syscall(__NR_move_mount, from_dfd, from, to_dfd, to, flags);
}

static inline int sys_mount_setattr(int dfd, const char *path, unsigned flags,
                                    struct mount_attr *attr)
{
  return (int)syscall(__NR_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}

static inline int sys_fsopen(const char *fs, unsigned flags)
{
  return (int)syscall(__NR_fsopen, fs, flags);
}

static inline int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux)
{
  return (int)syscall(__NR_fsconfig, fd, cmd, key, value, aux);
}

static inline int sys_fsmount(int fd, unsigned flags, unsigned attr_flags)
{
  return (int)syscall(__NR_fsmount, fd, flags, attr_flags);
}

static inline int sys_pivot_root(const char *new_root, const char *put_old)
{
  return (int)syscall(__NR_pivot_root, new_root, put_old);
}

static inline int sys_ioprio_set(int which, int who, int ioprio)
{
  return (int)syscall(__NR_ioprio_set, which, who, ioprio);
}

/* struct sched_attr (sched_setattr(2)) under our own name: glibc 2.36 lacks it
 * and newer glibc defines it, so a local name avoids a clash either way.
 * Only the SCHED_ATTR_SIZE_VER0 fields; util clamping is not configurable. */
struct nook_sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

static inline int sys_sched_setattr(pid_t pid, struct nook_sched_attr *attr, unsigned flags)
{
  attr->size = sizeof(*attr);
  return (int)syscall(__NR_sched_setattr, pid, attr, flags);
}

/* seccomp(2): glibc 2.36 has no wrapper.  With SECCOMP_FILTER_FLAG_NEW_LISTENER
 * the result is the notify fd (close-on-exec, as the kernel creates it). */
static inline int sys_seccomp(unsigned op, unsigned flags, void *args)
{
  return (int)syscall(__NR_seccomp, op, flags, args);
}

#endif
