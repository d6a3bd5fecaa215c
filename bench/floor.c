/* floor: the kernel work of one `run` of the benchmark's container, and
 * nothing else -- the physical limit a runtime can approach.
 *
 *   floor run  [-m BYTES] ROOTFS NAME=CGDIR...
 *   floor exec PID NAME=CGDIR...
 *
 * `run` does what the default config (`nook spec`, without seccomp) asks of
 * the kernel, roughly in the order the runtimes do it: make the container's
 * cgroup in every v1 hierarchy (NAME is the hierarchy's directory under
 * /sys/fs/cgroup, CGDIR the cgroup to make; on a cgroup v2 host there is one,
 * named "unified"), clone3 into new pid, mount, network, ipc and uts
 * namespaces, join the cgroups, set up the mounts, pivot_root, set hostname,
 * loopback, session keyring, rlimit, ids and capabilities, exec /bin/true,
 * wait for it and remove the cgroups.
 *
 * `exec` does the kernel work of `exec ID /bin/true` into the running
 * container whose init is PID: join its namespaces and cgroups (CGDIR are the
 * container's cgroup directories), fork, drop to the container's
 * capabilities, exec /bin/true and wait.
 *
 * What is deliberately absent: parsing a config, a state directory, locking,
 * a sync protocol between parent and child, error messages beyond the failing
 * step.  The config is compiled in: this program is only valid for the bundle
 * bench/run makes.  It is not a runtime and takes no care a runtime must take
 * (no symlink-safe path resolution; on failure it only removes its cgroups). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CGROUPS 16
#define KEYCTL_JOIN_SESSION_KEYRING 1

struct cgroup {
  const char *name; /* hierarchy: cpu, memory, name=systemd's "systemd", ... */
  const char *dir;  /* the container's cgroup in it */
};

static struct cgroup cgroups[MAX_CGROUPS];
static int n_cgroups;
static int n_created;    /* cgroups made so far, removed again on failure */
static pid_t parent_pid; /* the process that made them */

/* Report the failing step and give up: a child exits, the parent removes
 * the cgroups it made and returns the failure through the exit status. */
static void die(const char *what, const char *arg)
{
  fprintf(stderr, "floor: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  if (getpid() == parent_pid)
    while (n_created > 0)
      rmdir(cgroups[--n_created].dir);
  _exit(1);
}

static void write_file(const char *dir, const char *file, const char *val)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, val, strlen(val)) < 0)
    die("write", path);
  close(fd);
}

/* ---- cgroups ---- */

/* The devices the runtimes allow by default, after the config's deny-all:
 * mknod of anything, and the device nodes every container gets. */
static const struct device_rule {
  char type;        /* 'c' or 'b' */
  int major, minor; /* -1: any */
  const char *access;
} device_rules[] = {
    {'c', -1, -1, "m"},    {'b', -1, -1, "m"}, {'c', 1, 3, "rwm"},    {'c', 1, 8, "rwm"},
    {'c', 1, 7, "rwm"},    {'c', 5, 0, "rwm"}, {'c', 1, 5, "rwm"},    {'c', 1, 9, "rwm"},
    {'c', 136, -1, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 10, 200, "rwm"},
};
#define N_RULES (sizeof(device_rules) / sizeof(device_rules[0]))

/* Is ctrl one of the comma-separated controllers of a v1 hierarchy name? */
static int has_controller(const char *name, const char *ctrl)
{
  size_t n = strlen(ctrl);
  for (const char *p = name; p; p = strchr(p, ',')) {
    if (*p == ',')
      p++;
    if (strncmp(p, ctrl, n) == 0 && (p[n] == ',' || p[n] == 0))
      return 1;
  }
  return 0;
}

static int is_unified(const struct cgroup *c)
{
  return strcmp(c->name, "unified") == 0;
}

/* cgroup v2 has no devices files: the rules are an eBPF program attached to
 * the cgroup.  One block per rule; any block that matches allows; the end
 * denies. */
static void devices_bpf(const char *dir)
{
  struct bpf_insn prog[8 + N_RULES * 8], *p = prog;
#define INSN(c, d, s, o, i)                                                                        \
  (*p++ = (struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
  /* r2 = device type, r3 = access, r4 = major, r5 = minor */
  INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
  INSN(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
  INSN(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
  INSN(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
  INSN(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
  INSN(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
  for (size_t i = 0; i < N_RULES; i++) {
    const struct device_rule *r = &device_rules[i];
    int acc = 0;
    for (const char *a = r->access; *a; a++)
      acc |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    int len = 4 + (r->major >= 0) + (r->minor >= 0) + 2, at = 0;
    /* Each jump skips to the next block: past the rest of this one. */
    INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, (short)(len - ++at),
         r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
    INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0), at++;
    INSN(BPF_ALU | BPF_AND | BPF_K, 6, 0, 0, ~acc), at++;
    INSN(BPF_JMP | BPF_JNE | BPF_K, 6, 0, (short)(len - ++at), 0);
    if (r->major >= 0)
      INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, (short)(len - ++at), r->major);
    if (r->minor >= 0)
      INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, (short)(len - ++at), r->minor);
    INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
    INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  }
  INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
  INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef INSN
  union bpf_attr load = {
      .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
      .insns = (uintptr_t)prog,
      .insn_cnt = (unsigned)(p - prog),
      .license = (uintptr_t) "GPL",
  };
  int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
  if (fd < 0)
    die("BPF_PROG_LOAD", dir);
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  union bpf_attr attach = {
      .target_fd = (unsigned)cg,
      .attach_bpf_fd = (unsigned)fd,
      .attach_type = BPF_CGROUP_DEVICE,
      .attach_flags = BPF_F_ALLOW_MULTI,
  };
  if (cg < 0 || syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
    die("BPF_PROG_ATTACH", dir);
  close(cg);
  close(fd);
}

static void cgroups_create(const char *mem_limit)
{
  for (int i = 0; i < n_cgroups; i++) {
    const struct cgroup *c = &cgroups[i];
    if (mkdir(c->dir, 0755) < 0)
      die("mkdir", c->dir);
    n_created++;
    if (is_unified(c)) {
      devices_bpf(c->dir);
      if (mem_limit) {
        /* The memory controller may not be enabled for the children of our
         * cgroup yet; a runtime enables it too. */
        char path[4096 + 16], parent[4096];
        snprintf(path, sizeof(path), "%s/memory.max", c->dir);
        if (access(path, F_OK) < 0) {
          snprintf(parent, sizeof(parent), "%s", c->dir);
          *strrchr(parent, '/') = 0;
          write_file(parent, "cgroup.subtree_control", "+memory");
        }
        write_file(c->dir, "memory.max", mem_limit);
      }
    } else if (has_controller(c->name, "cpuset")) {
      /* A new v1 cpuset is empty and takes no task until it has cpus and
       * mems: copy the parent's, as every runtime does. */
      char parent[4096], buf[256];
      snprintf(parent, sizeof(parent), "%s", c->dir);
      *strrchr(parent, '/') = 0;
      static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
      for (int k = 0; k < 2; k++) {
        char path[4096 + 32];
        snprintf(path, sizeof(path), "%s/%s", parent, files[k]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
          die("read", path);
        close(fd);
        buf[n] = 0;
        write_file(c->dir, files[k], buf);
      }
    } else if (has_controller(c->name, "devices")) {
      write_file(c->dir, "devices.deny", "a");
      for (size_t k = 0; k < N_RULES; k++) {
        const struct device_rule *r = &device_rules[k];
        char rule[64], maj[16] = "*", min[16] = "*";
        if (r->major >= 0)
          snprintf(maj, sizeof(maj), "%d", r->major);
        if (r->minor >= 0)
          snprintf(min, sizeof(min), "%d", r->minor);
        snprintf(rule, sizeof(rule), "%c %s:%s %s", r->type, maj, min, r->access);
        write_file(c->dir, "devices.allow", rule);
      }
    } else if (has_controller(c->name, "memory") && mem_limit) {
      write_file(c->dir, "memory.limit_in_bytes", mem_limit);
    }
  }
}

static void cgroups_remove(void)
{
  for (int i = 0; i < n_cgroups; i++)
    if (rmdir(cgroups[i].dir) < 0)
      die("rmdir", cgroups[i].dir);
}

/* ---- the container's mounts (the default config's `mounts`) ---- */

static char rootfs[4096];

/* A path inside the new root, before pivot_root. */
static const char *in_root(const char *path)
{
  static char buf[8192];
  snprintf(buf, sizeof(buf), "%s%s", rootfs, path);
  return buf;
}

static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
                     const char *data)
{
  const char *p = in_root(dst);
  if (mount(src, p, type, flags, data) < 0)
    die("mount", p);
}

static void make_dir(const char *dst)
{
  const char *p = in_root(dst);
  if (mkdir(p, 0755) < 0 && errno != EEXIST)
    die("mkdir", p);
}

/* Bind a path onto itself and make it read-only: a bind mount takes the flags
 * of its source, so read-only needs a second, remounting, call. */
static void bind_ro(const char *src, const char *dst, unsigned long extra)
{
  do_mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
  do_mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, NULL);
}

static void mount_dev(void)
{
  do_mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  static const struct {
    const char *name;
    unsigned maj, min;
  } nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
               {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
    char p[64];
    snprintf(p, sizeof(p), "/dev/%s", nodes[i].name);
    if (mknod(in_root(p), S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0)
      die("mknod", p);
  }
  static const char *const links[][2] = {{"/proc/self/fd", "/dev/fd"},
                                         {"/proc/self/fd/0", "/dev/stdin"},
                                         {"/proc/self/fd/1", "/dev/stdout"},
                                         {"/proc/self/fd/2", "/dev/stderr"},
                                         {"pts/ptmx", "/dev/ptmx"}};
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
    if (symlink(links[i][0], in_root(links[i][1])) < 0)
      die("symlink", links[i][1]);
  make_dir("/dev/pts");
  do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           "newinstance,ptmxmode=0666,mode=0620,gid=5");
  make_dir("/dev/shm");
  do_mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
  make_dir("/dev/mqueue");
  do_mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
}

/* `cgroup` at /sys/fs/cgroup without a cgroup namespace: on v1 a tmpfs with
 * a read-only bind of the container's own cgroup of each hierarchy; on v2 a
 * read-only cgroup2 mount. */
static void mount_cgroups(void)
{
  const unsigned long f = MS_NOSUID | MS_NOEXEC | MS_NODEV;
  if (n_cgroups == 1 && is_unified(&cgroups[0])) {
    do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", f | MS_RDONLY, NULL);
    return;
  }
  do_mount("tmpfs", "/sys/fs/cgroup", "tmpfs", f, "mode=755");
  for (int i = 0; i < n_cgroups; i++) {
    char dst[256];
    snprintf(dst, sizeof(dst), "/sys/fs/cgroup/%s", cgroups[i].name);
    make_dir(dst);
    bind_ro(cgroups[i].dir, dst, f);
  }
  do_mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT | MS_RDONLY | f, NULL);
}

static const char *const masked[] = {
    "/proc/acpi",
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
};
static const char *const readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* maskedPaths: an empty read-only tmpfs over a directory, /dev/null over a
 * file; readonlyPaths: a read-only bind.  Paths the kernel does not have are
 * skipped, as the runtimes skip them. */
static void mask_and_protect(void)
{
  struct stat st;
  for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++)
    if (stat(in_root(readonly[i]), &st) == 0)
      bind_ro(in_root(readonly[i]), readonly[i], MS_NOSUID | MS_NODEV | MS_NOEXEC);
  for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
    if (stat(in_root(masked[i]), &st) < 0)
      continue;
    if (S_ISDIR(st.st_mode))
      do_mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, "size=0,mode=555");
    else
      do_mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
  }
}

static void setup_rootfs(void)
{
  /* No mount event of the container may reach the host, and the rootfs
   * must be a mount point for pivot_root. */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    die("make / rslave", NULL);
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    die("bind", rootfs);
  do_mount("proc", "/proc", "proc", 0, NULL);
  mount_dev();
  do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL);
  mount_cgroups();
  mask_and_protect();

  /* pivot_root(".", ".") stacks the old root on the new one; detaching it
   * leaves the container only its own tree. */
  if (chdir(rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
    die("pivot_root", rootfs);
  if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    die("umount old root", NULL);
  /* root.readonly */
  if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    die("remount / ro", NULL);
}

/* ---- process attributes ---- */

/* A new network namespace has only `lo`, down; the runtimes bring it up. */
static void loopback_up(void)
{
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {.ifr_name = "lo"};
  ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
  if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    die("lo up", NULL);
  close(s);
}

/* The config's capabilities (bounding = effective = permitted) and
 * noNewPrivileges, for uid 0: drop the rest of the bounding set, then set the
 * three sets at once. */
static void set_caps(void)
{
  const uint64_t keep =
      (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE);
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      die("PR_CAPBSET_DROP", NULL);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct d[2] = {
      {.effective = (uint32_t)keep, .permitted = (uint32_t)keep},
      {.effective = (uint32_t)(keep >> 32), .permitted = (uint32_t)(keep >> 32)},
  };
  if (syscall(SYS_capset, &h, d) < 0)
    die("capset", NULL);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    die("clear ambient", NULL);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    die("no_new_privs", NULL);
}

static void set_ids(void)
{
  if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
    die("set ids", NULL);
}

static void exec_true(void)
{
  char *const argv[] = {"/bin/true", NULL};
  char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "TERM=xterm", "HOME=/root", NULL};
  execve(argv[0], argv, envp);
  die("execve", argv[0]);
}

/* The container's init, between clone3 and exec. */
static void child(void)
{
  /* Join the cgroups from inside: the same writes as a runtime's parent
   * doing it for the child, without a round trip to tell the child. */
  for (int i = 0; i < n_cgroups; i++)
    write_file(cgroups[i].dir, "cgroup.procs", "0");
  umask(0);
  setup_rootfs();
  umask(022);
  if (sethostname("nook", 4) < 0)
    die("sethostname", NULL);
  loopback_up();
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "_ses.floor") < 0)
    die("keyctl", NULL);
  struct rlimit rl = {1024, 1024};
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
    die("setrlimit", NULL);
  set_ids();
  set_caps();
  exec_true();
}

static int wait_child(pid_t pid)
{
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      die("waitpid", NULL);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmd_run(const char *mem_limit)
{
  parent_pid = getpid();
  cgroups_create(mem_limit);
  struct clone_args args = {
      .flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET,
      .exit_signal = SIGCHLD,
  };
  /* Without a stack, clone3 behaves like fork: the child returns here. */
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0)
    die("clone3", NULL);
  if (pid == 0)
    child();
  int status = wait_child(pid);
  cgroups_remove();
  return status;
}

static int cmd_exec(pid_t target)
{
  /* One setns on a pidfd enters all the namespaces at once. */
  int pidfd = (int)syscall(SYS_pidfd_open, target, 0);
  if (pidfd < 0)
    die("pidfd_open", NULL);
  int procs[MAX_CGROUPS];
  for (int i = 0; i < n_cgroups; i++) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/cgroup.procs", cgroups[i].dir);
    /* Opened before setns: the container's mount namespace has no view of
     * the host's cgroup directories. */
    procs[i] = open(path, O_WRONLY | O_CLOEXEC);
    if (procs[i] < 0)
      die("open", path);
  }
  if (setns(pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET) < 0)
    die("setns", NULL);
  /* A new pid namespace applies to children only. */
  pid_t pid = fork();
  if (pid < 0)
    die("fork", NULL);
  if (pid == 0) {
    for (int i = 0; i < n_cgroups; i++)
      if (write(procs[i], "0", 1) < 0)
        die("join cgroup", cgroups[i].dir);
    if (chdir("/") < 0)
      die("chdir", "/");
    struct rlimit rl = {1024, 1024};
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
      die("setrlimit", NULL);
    set_ids();
    set_caps();
    exec_true();
  }
  return wait_child(pid);
}

static int parse_cgroups(char **argv, int argc)
{
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq || n_cgroups == MAX_CGROUPS)
      return -1;
    *eq = 0;
    cgroups[n_cgroups++] = (struct cgroup){argv[i], eq + 1};
  }
  return 0;
}

static int usage(void)
{
  fprintf(stderr, "usage: floor run [-m BYTES] ROOTFS NAME=CGDIR...\n"
                  "       floor exec PID NAME=CGDIR...\n");
  return 2;
}

int main(int argc, char **argv)
{
  if (argc >= 3 && strcmp(argv[1], "run") == 0) {
    int i = 2;
    const char *mem_limit = NULL;
    if (strcmp(argv[i], "-m") == 0 && argc > i + 1) {
      mem_limit = argv[i + 1];
      i += 2;
    }
    if (i >= argc || !realpath(argv[i], rootfs) || parse_cgroups(argv + i + 1, argc - i - 1) < 0)
      return usage();
    return cmd_run(mem_limit);
  }
  if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
    if (parse_cgroups(argv + 3, argc - 3) < 0)
      return usage();
    return cmd_exec((pid_t)atoi(argv[2]));
  }
  return usage();
}
