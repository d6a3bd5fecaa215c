/* Process attributes of the container process (config.md "process"),
 * except capabilities (capabilities.c). */
#include "process.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../base/syscalls.h"
#include "../base/utils.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "additional_gids is passed as gid_t[]");

static const char *rlim_str(rlim_t v, char *buf, size_t len)
{
  if (v == RLIM_INFINITY)
    return "unlimited";
  snprintf(buf, len, "%llu", (unsigned long long)v);
  return buf;
}

int process_apply_rlimits(const struct oci_process *p, nook_error_t *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const struct oci_rlimit *r = &p->rlimits[i];
    struct rlimit want = {.rlim_cur = r->soft, .rlim_max = r->hard}, cur;
    if (prlimit(0, r->resource, &want, NULL) == 0)
      continue;
    int e = errno;
    char s[24], h[24], c[24];
    /* The common failure (e.g. nofile above the caller's hard limit without
     * CAP_SYS_RESOURCE) deserves a message that says what to change. */
    if (e == EPERM && getrlimit(r->resource, &cur) == 0 && want.rlim_max > cur.rlim_max)
      return nook_error(err, 0,
                        "process.rlimits[%zu]: setrlimit %s (soft %s, hard %s): raising the hard "
                        "limit above %s needs CAP_SYS_RESOURCE",
                        i, r->type, rlim_str(want.rlim_cur, s, sizeof(s)),
                        rlim_str(want.rlim_max, h, sizeof(h)),
                        rlim_str(cur.rlim_max, c, sizeof(c)));
    return nook_error(err, e, "process.rlimits[%zu]: setrlimit %s (soft %s, hard %s)", i, r->type,
                      rlim_str(want.rlim_cur, s, sizeof(s)), rlim_str(want.rlim_max, h, sizeof(h)));
  }
  return 0;
}

int process_apply_user(const struct oci_process *p, bool setgroups_allowed, nook_error_t *err)
{
  const struct oci_user *u = &p->user;
  if (setgroups_allowed) {
    /* Always called, also with no additionalGids: the runtime's own
     * supplementary groups must not leak into the container. */
    if (setgroups(u->n_additional_gids, (const gid_t *)u->additional_gids) < 0)
      return nook_error(err, errno, "setgroups (process.user.additionalGids)");
  } else if (u->n_additional_gids > 0) {
    return nook_error(err, 0,
                      "process.user.additionalGids: cannot set additional groups: setgroups is "
                      "denied in this user namespace");
  }
  if (setresgid(u->gid, u->gid, u->gid) < 0)
    return nook_error(err, errno, "setresgid %u", u->gid);
  /* Without it the uid change below would empty the permitted set before
   * process_apply_capabilities() gets to choose the final sets. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return nook_error(err, errno, "prctl PR_SET_KEEPCAPS");
  if (setresuid(u->uid, u->uid, u->uid) < 0)
    return nook_error(err, errno, "setresuid %u", u->uid);
  return 0;
}

int process_apply_no_new_privs(const struct oci_process *p, nook_error_t *err)
{
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return nook_error(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}

int process_apply_personality(const struct oci_linux *l, nook_error_t *err)
{
  if (l == NULL || !l->has_personality)
    return 0;
  if (personality(l->personality.domain) < 0)
    return nook_error(err, errno, "personality 0x%lx", l->personality.domain);
  return 0;
}

int process_apply_scheduler(const struct oci_process *p, nook_error_t *err)
{
  if (!p->has_scheduler)
    return 0;
  const struct oci_scheduler *s = &p->scheduler;
  struct nook_sched_attr attr = {
      .sched_policy = (uint32_t)s->policy,
      .sched_flags = s->flags,
      .sched_nice = s->nice,
      .sched_priority = (uint32_t)s->priority,
      .sched_runtime = s->runtime,
      .sched_deadline = s->deadline,
      .sched_period = s->period,
  };
  if (sys_sched_setattr(0, &attr, 0) < 0)
    return nook_error(err, errno, "sched_setattr (policy %d, priority %d, nice %d)", s->policy,
                      s->priority, s->nice);
  return 0;
}

int process_apply_io_priority(const struct oci_process *p, nook_error_t *err)
{
  if (!p->has_io_priority)
    return 0;
  int prio = (p->io_priority.klass << IOPRIO_CLASS_SHIFT) | p->io_priority.priority;
  if (sys_ioprio_set(IOPRIO_WHO_PROCESS, 0, prio) < 0)
    return nook_error(err, errno, "ioprio_set (class %d, priority %d)", p->io_priority.klass,
                      p->io_priority.priority);
  return 0;
}

int process_apply_oom_score_adj(const struct oci_process *p, nook_error_t *err)
{
  static const char path[] = "/proc/self/oom_score_adj";
  if (!p->has_oom_score_adj)
    return 0;
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return nook_error(err, errno, "open %s", path);
  /* /proc comes from the container's mounts: refuse anything but procfs. */
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0)
    return nook_error(err, errno, "fstatfs %s", path);
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return nook_error(err, 0, "%s is not on procfs", path);
  char buf[16];
  int n = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
  if (safe_write(fd, buf, (size_t)n) < 0) {
    if (errno == EACCES)
      return nook_error(err, errno,
                        "process.oomScoreAdj: write %d to %s (lowering it needs CAP_SYS_RESOURCE)",
                        p->oom_score_adj, path);
    return nook_error(err, errno, "process.oomScoreAdj: write %d to %s", p->oom_score_adj, path);
  }
  return 0;
}

void process_apply_umask(const struct oci_process *p)
{
  umask(p->user.has_umask ? (mode_t)p->user.umask : 0022);
}

/* 0 when `path` is a non-directory the caller may execute, else an errno;
 * *from_stat tells whether it came from stat (Go reports those as
 * "stat PATH: ..."). */
static int check_executable(const char *path, bool *from_stat)
{
  struct stat st;
  *from_stat = true;
  if (stat(path, &st) < 0)
    return errno;
  *from_stat = false;
  if (S_ISDIR(st.st_mode))
    return EACCES;
  if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
    return 0;
  if (errno != ENOSYS && errno != EPERM)
    return errno;
  return (st.st_mode & 0111) ? 0 : EACCES;
}

/* Engines match runc's (Go's) error texts to pick exit codes 126/127, so the
 * message carries the lower-case Go wording instead of a separate errno. */
static int exec_error(nook_error_t *err, const char *name, int e, bool from_stat)
{
  char msg[128];
  snprintf(msg, sizeof(msg), "%s", strerror(e));
  msg[0] = (char)tolower((unsigned char)msg[0]);
  if (from_stat)
    return nook_error(err, 0, "exec: \"%s\": stat %s: %s", name, name, msg);
  return nook_error(err, 0, "exec: \"%s\": %s", name, msg);
}

int process_find_executable(const struct oci_process *p, char **out, nook_error_t *err)
{
  const char *name = p->args ? p->args[0] : NULL;
  if (name == NULL || *name == '\0')
    return nook_error(err, 0, "process.args must not be empty");

  bool from_stat;
  if (strchr(name, '/') != NULL) {
    int e = check_executable(name, &from_stat);
    if (e != 0)
      return exec_error(err, name, e, from_stat);
    *out = xstrdup(name);
    return 0;
  }

  /* The container's PATH, last definition wins as with setenv in order. */
  const char *path = DEFAULT_PATH;
  for (size_t i = 0; i < p->n_env; i++)
    if (has_prefix(p->env[i], "PATH="))
      path = p->env[i] + 5;

  for (const char *dir = path; *path != '\0'; dir++) {
    size_t len = strcspn(dir, ":");
    cleanup_free char *cand = NULL;
    if (len == 0)
      xasprintf(&cand, "./%s", name);
    else
      xasprintf(&cand, "%.*s%s%s", (int)len, dir, dir[len - 1] == '/' ? "" : "/", name);
    if (check_executable(cand, &from_stat) == 0) {
      *out = steal_pointer(&cand);
      return 0;
    }
    dir += len;
    if (*dir == '\0')
      break;
  }
  return nook_error(err, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

/* "0-3,7" -> bits; nodes beyond `max` are an error rather than dropped. */
static int parse_node_list(const char *s, unsigned long *mask, size_t max, nook_error_t *err)
{
  const char *p = s;
  while (*p) {
    char *end;
    errno = 0;
    unsigned long a = strtoul(p, &end, 10), b;
    if (end == p || errno)
      return nook_error(err, 0, "linux.memoryPolicy.nodes: invalid node list \"%s\"", s);
    b = a;
    if (*end == '-') {
      p = end + 1;
      b = strtoul(p, &end, 10);
      if (end == p || errno || b < a)
        return nook_error(err, 0, "linux.memoryPolicy.nodes: invalid node list \"%s\"", s);
    }
    if (b >= max)
      return nook_error(err, 0, "linux.memoryPolicy.nodes: node %lu is out of range", b);
    for (unsigned long n = a; n <= b; n++)
      mask[n / (8 * sizeof(long))] |= 1UL << (n % (8 * sizeof(long)));
    if (*end == ',')
      end++;
    else if (*end != '\0')
      return nook_error(err, 0, "linux.memoryPolicy.nodes: invalid node list \"%s\"", s);
    p = end;
  }
  return 0;
}

int process_apply_memory_policy(const struct oci_linux *l, nook_error_t *err)
{
  if (!l->has_memory_policy)
    return 0;
  enum { MAX_NODES = 1024 };
  unsigned long mask[MAX_NODES / (8 * sizeof(long))] = {0};
  const struct oci_memory_policy *m = &l->memory_policy;
  bool have_nodes = m->nodes && *m->nodes;
  if (have_nodes && parse_node_list(m->nodes, mask, MAX_NODES, err) < 0)
    return -1;
  if (syscall(SYS_set_mempolicy, m->mode | (int)m->flags, have_nodes ? mask : NULL,
              have_nodes ? (unsigned long)MAX_NODES + 1 : 0UL) < 0)
    return nook_error(err, errno, "linux.memoryPolicy: set_mempolicy");
  return 0;
}

/* The LSM label the workload execs into.  The attr file is opened from the
 * runtime's procfs before pivot_root (the container's /proc is not trusted)
 * and written right before execve: the label applies to the next exec of
 * this thread only, so hooks forked earlier do not run under it. */
int process_open_exec_attr(const struct oci_process *p, int procfd, int *fd, nook_error_t *err)
{
  *fd = -1;
  if (p->apparmor_profile == NULL && p->selinux_label == NULL)
    return 0;
  /* Relative to procfd when given: the runtime's procfs, opened before the
   * caller joined the container, whose /proc it must not trust. */
  const char *pre = procfd == AT_FDCWD ? "/proc/" : "";
  char path[64];
  snprintf(path, sizeof(path), "%sthread-self/attr/%s", pre,
           p->selinux_label ? "exec" : "apparmor/exec");
  int f = openat(procfd, path, O_WRONLY | O_CLOEXEC);
  if (f < 0 && p->selinux_label == NULL) {
    snprintf(path, sizeof(path), "%sthread-self/attr/exec", pre);
    f = openat(procfd, path, O_WRONLY | O_CLOEXEC);
  }
  struct statfs sfs;
  if (f < 0 || fstatfs(f, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
    int e = errno;
    if (f >= 0)
      close(f);
    return nook_error(err, e, "%s: open `%s`",
                      p->selinux_label ? "process.selinuxLabel" : "process.apparmorProfile", path);
  }
  *fd = f;
  return 0;
}

int process_write_exec_attr(const struct oci_process *p, int fd, nook_error_t *err)
{
  if (fd < 0)
    return 0;
  cleanup_free char *v = NULL;
  if (p->selinux_label)
    v = xstrdup(p->selinux_label);
  else
    xasprintf(&v, "exec %s", p->apparmor_profile);
  if (safe_write(fd, v, strlen(v)) < 0)
    return nook_error(err, errno, "%s: set \"%s\"",
                      p->selinux_label ? "process.selinuxLabel" : "process.apparmorProfile", v);
  return 0;
}

/* Only fds 0-2 and the preserved ones reach the workload: everything else
 * the runtime (or whoever started it) had open is close-on-exec from here. */
int process_check_preserved_fds(int preserve, nook_error_t *err)
{
  /* Every preserved fd is open in this process, so below its fd limit;
   * checking that first also keeps 3 + preserve (and the loops over it)
   * from overflowing. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
    return nook_error(err, errno, "getrlimit(RLIMIT_NOFILE)");
  if (preserve < 0 || preserve > INT_MAX - 3 || (rlim_t)preserve + 3 > rl.rlim_cur)
    return nook_error(err, 0,
                      "--preserve-fds %d: more fds than this process can have open "
                      "(RLIMIT_NOFILE %llu, fds 0-2 included)",
                      preserve, (unsigned long long)rl.rlim_cur);
  for (int fd = 3; fd < 3 + preserve; fd++)
    if (fcntl(fd, F_GETFD) < 0)
      return nook_error(err, 0, "--preserve-fds %d: fd %d is not open", preserve, fd);
  return 0;
}

int process_prepare_fds(int preserve, nook_error_t *err)
{
  for (int fd = 3; fd < 3 + preserve; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
      return nook_error(err, errno, "preserve fd %d", fd);
  }
  return cloexec_fds_from(3 + preserve, err);
}

/* The image's /etc/passwd or /etc/group: opened non-blocking (it might be
 * a fifo), regular files only, bounded.  NULL when unusable. */
static char *read_image_db(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
    return NULL;
  char *text = NULL;
  if (read_fd_all(fd, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

/* Split the next line of a colon-separated database into up to 7 fields;
 * false at the end.  Unused fields are NULL. */
static bool next_entry(char **cursor, char *f[7])
{
  char *line;
  do {
    line = strsep(cursor, "\n");
    if (line == NULL)
      return false;
  } while (*line == '\0' || *line == '#');
  memset(f, 0, 7 * sizeof(char *));
  for (int n = 0; n < 7 && line; n++)
    f[n] = strsep(&line, ":");
  return true;
}

static bool field_id(const char *s, uint32_t *out)
{
  unsigned long long v;
  if (s == NULL || parse_uint64(s, &v) < 0 || v >= UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

int process_lookup_user(const char *name, uint32_t *uid, uint32_t *gid)
{
  cleanup_free char *text = read_image_db("/etc/passwd");
  char *cur = text, *f[7];
  while (cur && next_entry(&cur, f)) /* name:pw:uid:gid:gecos:home:shell */
    if (strcmp(f[0], name) == 0 && field_id(f[2], uid) && field_id(f[3], gid))
      return 0;
  return -1;
}

int process_lookup_group(const char *name, uint32_t *gid)
{
  cleanup_free char *text = read_image_db("/etc/group");
  char *cur = text, *f[7];
  while (cur && next_entry(&cur, f)) /* name:pw:gid:members */
    if (strcmp(f[0], name) == 0 && field_id(f[2], gid))
      return 0;
  return -1;
}

/* The home directory of `uid` in the image's /etc/passwd. */
static char *passwd_home(uid_t uid)
{
  cleanup_free char *text = read_image_db("/etc/passwd");
  char *cur = text, *f[7];
  uint32_t v;
  while (cur && next_entry(&cur, f))
    if (field_id(f[2], &v) && v == uid && f[5] && *f[5])
      return xstrdup(f[5]);
  return NULL;
}

void process_ensure_home(struct oci_process *p)
{
  for (size_t i = 0; i < p->n_env; i++)
    if (has_prefix(p->env[i], "HOME="))
      return;
  cleanup_free char *home = passwd_home(p->user.uid);
  p->env = xrealloc(p->env, (p->n_env + 2) * sizeof(char *));
  xasprintf(&p->env[p->n_env++], "HOME=%s", home ? home : "/");
  p->env[p->n_env] = NULL;
}

bool lsm_enabled(const char *name)
{
  char path[64];
  snprintf(path, sizeof(path), "/sys/kernel/security/%s", name);
  if (access(path, F_OK) == 0)
    return true;
  cleanup_free char *lsms = NULL;
  return read_file_at(AT_FDCWD, "/sys/kernel/security/lsm", &lsms, NULL, NULL) == 0 &&
         strstr(lsms, name) != NULL;
}

int check_process_lsm(const struct oci_process *p, nook_error_t *err)
{
  if (p->apparmor_profile && !lsm_enabled("apparmor"))
    return nook_error(err, 0,
                      "process.apparmorProfile: AppArmor is not enabled on this host "
                      "(profile \"%s\")",
                      p->apparmor_profile);
  if (p->selinux_label && !lsm_enabled("selinux"))
    return nook_error(err, 0, "process.selinuxLabel: SELinux is not enabled on this host");
  return 0;
}
