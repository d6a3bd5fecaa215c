/* The container process, from clone to execve.
 *
 * It runs with the runtime's privileges until the very end, so every step
 * here reports failure to the parent over the sync socket instead of
 * printing, and nothing of the runtime (fds, environment) survives execve. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../net/net.h"
#include "exec_shim.h"
#include "finalize.h"
#include "hooks.h"
#include "idmap.h"
#include "process.h"
#include "rootfs.h"
#include "spawn.h"
#include "sync.h"
#include "terminal.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

__attribute__((noreturn)) static void fail(struct spawn_ctx *ctx, nook_error_t *err)
{
  sync_send_error(ctx->sock, *err);
  _exit(1);
}

static int join_namespaces(struct spawn_ctx *ctx, nook_error_t *err)
{
  const struct oci_linux *l = &ctx->config->linux_;
  /* The user namespace first: joining it grants the capabilities needed to
   * join the namespaces it owns. */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < l->n_namespaces; i++) {
      const struct oci_namespace *ns = &l->namespaces[i];
      if (ns->path == NULL || (pass == 0) != (ns->type == OCI_NS_USER))
        continue;
      cleanup_close int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return nook_error(err, errno, "linux.namespaces[%zu]: open `%s`", i, ns->path);
      if (setns(fd, oci_ns_clone_flag(ns->type)) < 0)
        return nook_error(err, errno, "linux.namespaces[%zu]: join %s namespace `%s`", i,
                          oci_ns_type_name(ns->type), ns->path);
    }
  return 0;
}

static int become_root_in_userns(nook_error_t *err)
{
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
    return nook_error(err, errno, "become root in the user namespace (is 0 mapped?)");
  return 0;
}

/* A time namespace's clocks can only be set before anything runs in it:
 * unshare, write the offsets, then enter it ourselves. */
static int setup_timens(struct spawn_ctx *ctx, nook_error_t *err)
{
  const struct oci_linux *l = &ctx->config->linux_;
  if (unshare(CLONE_NEWTIME) < 0)
    return nook_error(err, errno, "unshare the time namespace");
  char buf[128];
  int n = 0;
  if (l->has_time_offsets_monotonic)
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "monotonic %lld %u\n",
                  (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs);
  if (l->has_time_offsets_boottime)
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "boottime %lld %u\n",
                  (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
  if (n > 0) {
    /* Becoming root in a new user namespace (setresuid) made us
     * non-dumpable, which gives our /proc files to the host's root: the
     * namespace's root could not open them.  Dumpable only for this one
     * open and write, before anything of the container runs. */
    bool undump = ctx->in_userns && prctl(PR_GET_DUMPABLE) == 0;
    if (undump)
      prctl(PR_SET_DUMPABLE, 1);
    cleanup_close int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    int e = fd < 0 || safe_write(fd, buf, (size_t)n) < 0 ? errno : 0;
    if (undump)
      prctl(PR_SET_DUMPABLE, 0);
    if (e)
      return nook_error(err, e, "linux.timeOffsets: write /proc/self/timens_offsets");
  }
  cleanup_close int ns = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWTIME) < 0)
    return nook_error(err, errno, "enter the time namespace");
  return 0;
}

static int setup_uts(const struct oci_config *c, nook_error_t *err)
{
  if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
    return nook_error(err, errno, "hostname: sethostname \"%s\"", c->hostname);
  if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
    return nook_error(err, errno, "domainname: setdomainname \"%s\"", c->domainname);
  return 0;
}

/* linux.sysctl, written through the runtime's own procfs (never the
 * container's), verified to be procfs, with no symlink followed below it.
 * Namespaced sysctls take the writer's namespaces, which are the
 * container's by now; the validator only lets namespaced keys through. */
static int apply_sysctl(const struct oci_linux *l, nook_error_t *err)
{
  if (l->n_sysctl == 0)
    return 0;
  cleanup_close int dir = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct statfs sfs;
  if (dir < 0 || fstatfs(dir, &sfs) < 0)
    return nook_error(err, errno, "linux.sysctl: open /proc/sys");
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return nook_error(err, EXDEV, "linux.sysctl: /proc/sys is not procfs");
  for (size_t i = 0; i < l->n_sysctl; i++) {
    cleanup_free char *rel = xstrdup(l->sysctl[i].key);
    for (char *q = rel; *q; q++)
      if (*q == '.')
        *q = '/';
    struct open_how how = {.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                      RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
    cleanup_close int fd = sys_openat2(dir, rel, &how);
    if (fd < 0)
      return nook_error(err, errno, "linux.sysctl[\"%s\"]: open /proc/sys/%s", l->sysctl[i].key,
                        rel);
    const char *v = l->sysctl[i].value ? l->sysctl[i].value : "";
    if (safe_write(fd, v, strlen(v)) < 0)
      return nook_error(err, errno, "linux.sysctl[\"%s\"]: write \"%s\"", l->sysctl[i].key, v);
  }
  return 0;
}

/* Slow path: unshare what the config creates, after joining what it names.
 * With a pid namespace the container process must be a child: fork, let the
 * first process report the pid and leave. */
static int unshare_and_fork(struct spawn_ctx *ctx, nook_error_t *err)
{
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  int ret = -1;
  if (join_namespaces(ctx, err) < 0)
    goto out;
  if (ctx->sync.userns_ready) {
    if (unshare(CLONE_NEWUSER) < 0) {
      nook_error(err, errno, "unshare the user namespace");
      goto out;
    }
    if (sync_send(ctx->sock, SYNC_USERNS_READY, 0, NULL, -1, err) < 0)
      goto out;
  }
  if (sync_recv(ctx->sock, SYNC_GO, msg, NULL, err) < 0)
    goto out;
  if (ctx->in_userns && become_root_in_userns(err) < 0)
    goto out;
  if (ctx->unshare_flags && unshare((int)ctx->unshare_flags) < 0) {
    nook_error(err, errno, "unshare namespaces");
    goto out;
  }
  if (ctx->sync.pid) {
    /* Both processes write to the one sync socket: the child must not say
     * anything before its pid has reached the runtime, or the runtime reads
     * its next step where it waits for SYNC_PID.  The gate's write end
     * closes when the first process exits, after sending the pid. */
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) < 0) {
      nook_error(err, errno, "pipe");
      goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
      nook_error(err, errno, "fork into the pid namespace");
      goto out;
    }
    if (pid > 0) {
      int r = sync_send(ctx->sock, SYNC_PID, pid, NULL, -1, err);
      _exit(r < 0 ? 1 : 0);
    }
    close(gate[1]);
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR)
      ;
    close(gate[0]);
    /* No death signal here: our parent leaves right away by design.  If the
     * runtime dies, the sync socket's EOF ends us. */
  }
  ret = 0;
out:
  free(msg);
  return ret;
}

/* runc semantics: a missing cwd is created (we are inside the new root, so
 * nothing outside it can be reached). */
static int make_cwd(const char *cwd, nook_error_t *err)
{
  struct stat st;
  if (stat(cwd, &st) == 0)
    return 0;
  if (mkdir_p(cwd, 0755, err) < 0)
    return nook_error_wrap(err, "process.cwd");
  return 0;
}

static int wait_for_start(struct spawn_ctx *ctx, int *report_fd, nook_error_t *err)
{
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  int ret = -1;
  if (ctx->start_fd < 0) {
    /* run: the parent says start over the sync socket. */
    if (sync_recv(ctx->sock, SYNC_START, msg, NULL, err) == 0) {
      *report_fd = ctx->sock;
      ret = 0;
    }
  } else {
    for (;;) {
      int c = accept4(ctx->start_fd, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EINTR)
          continue;
        nook_error(err, errno, "wait for start");
        break;
      }
      /* Anything but a well-formed start (a stray connect) is ignored. */
      if (sync_recv(c, SYNC_START, msg, NULL, err) == 0) {
        *report_fd = c;
        ret = 0;
        break;
      }
      nook_error_free(err);
      close(c);
    }
  }
  free(msg);
  return ret;
}

/* nook job: the workload must not outlive the runtime that supervises it
 * (its timeout and teardown would die with the runtime).  Set as late as
 * possible, after the user switch (a change of credentials clears it), and
 * checked against the runtime's end of the sync socket, which is closed if
 * the runtime died before the death signal was armed.  The kernel still
 * clears it when the workload's exec raises privileges (setuid, file
 * capabilities): such a job outlives a killed runtime, and `delete --force`
 * finds it in the state. */
static bool die_with_runtime(int sock)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct pollfd pfd = {.fd = sock, .events = POLLRDHUP};
  return poll(&pfd, 1, 0) == 0;
}

void container_init(struct spawn_ctx *ctx)
{
  nook_error_t err = NULL;
  const struct oci_config *c = ctx->config;
  const struct oci_process *p = &c->process;
  struct sync_msg *msg = xmalloc(sizeof(*msg));

  close(ctx->parent_sock);
  close(ctx->state_dirfd);
  close(ctx->state_rootfd);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* `run` blocks signals to forward them; the workload must start with a
   * clean slate, as if exec'd from a fresh process. */
  signals_reset();

  if (ctx->slow_path) {
    if (unshare_and_fork(ctx, &err) < 0)
      fail(ctx, &err);
  } else {
    if (sync_recv(ctx->sock, SYNC_GO, msg, NULL, &err) < 0)
      fail(ctx, &err);
    if (ctx->new_userns && become_root_in_userns(&err) < 0)
      fail(ctx, &err);
  }
  /* The cgroup namespace is rooted where the process is when it is made:
   * only now, after the runtime moved us into the container's cgroup. */
  if (ctx->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
    nook_error(&err, errno, "unshare the cgroup namespace");
    fail(ctx, &err);
  }
  if (ctx->new_timens && setup_timens(ctx, &err) < 0)
    fail(ctx, &err);
  if (ctx->new_utsns && setup_uts(c, &err) < 0)
    fail(ctx, &err);
  if (ctx->new_netns && net_loopback_up(&err) < 0) {
    nook_error_wrap(&err, "bring up lo");
    fail(ctx, &err);
  }

  /* The parent runs createRuntime/prestart hooks now and hands back the
   * state JSON for ours. */
  if (sync_send(ctx->sock, SYNC_RUN_HOOKS, 0, NULL, -1, &err) < 0 ||
      sync_recv(ctx->sock, SYNC_HOOKS_DONE, msg, NULL, &err) < 0)
    fail(ctx, &err);
  char *state_json = xstrdup(msg->data);
  char *started_json = NULL;
  if (ctx->sync.created_state) {
    if (sync_recv(ctx->sock, SYNC_CREATED_STATE, msg, NULL, &err) < 0)
      fail(ctx, &err);
    started_json = xstrdup(msg->data);
  }

  /* Process attributes that use the runtime's /proc go before pivot_root,
   * where /proc is still the host's (the container may not mount one). */
  int *mount_fds = xmalloc((c->n_mounts + 1) * sizeof(int));
  for (size_t i = 0; i < c->n_mounts; i++) {
    mount_fds[i] = -1;
    if (sync_plan_mount_fd(&ctx->sync, &c->mounts[i]) &&
        (sync_recv(ctx->sock, SYNC_MOUNT_FD, msg, &mount_fds[i], &err) < 0 ||
         msg->value != (int32_t)i)) {
      if (err == NULL)
        nook_error(&err, EPROTO, "sync: mount fd for mounts[%zu] out of order", i);
      fail(ctx, &err);
    }
  }

  int exec_attr = -1;
  if (process_apply_oom_score_adj(p, &err) < 0 || apply_sysctl(&c->linux_, &err) < 0 ||
      process_open_exec_attr(p, AT_FDCWD, &exec_attr, &err) < 0)
    fail(ctx, &err);

  struct rootfs_ctx rctx = {.config = c,
                            .rootfs = ctx->rootfs,
                            .userns = ctx->in_userns || ctx->rootless,
                            .cgroupns = ctx->new_cgroupns || ctx->in_cgroupns,
                            .no_pivot = ctx->no_pivot,
                            .no_mntns = ctx->no_mntns,
                            .host_mounts = ctx->new_mntns || ctx->no_mntns,
                            .rootfd = -1,
                            .mount_fds = mount_fds,
                            .dev_ro_mfd = -1};
  if (rootfs_prepare(&rctx, &err) < 0)
    fail(ctx, &err);
  if (c->has_hooks && hooks_run("createContainer", c->hooks.create_container,
                                c->hooks.n_create_container, state_json, &err) < 0)
    fail(ctx, &err);
  if (rootfs_pivot(&rctx, &err) < 0)
    fail(ctx, &err);
  if (p->cwd && make_cwd(p->cwd, &err) < 0)
    fail(ctx, &err);

  if (ctx->sync.pty) {
    int master = -1;
    if (terminal_setup_container(p->has_console_size, p->console_height, p->console_width, true,
                                 p->user.uid, &master, &err) < 0)
      fail(ctx, &err);
    if (sync_send(ctx->sock, SYNC_PTY, 0, NULL, master, &err) < 0)
      fail(ctx, &err);
    close(master);
  }
  if (rootfs_finalize(&rctx, &err) < 0)
    fail(ctx, &err);
  close(rctx.rootfd);
  /* This process owns its copy of the config: it may complete the env. */
  process_ensure_home((struct oci_process *)p);

  if (!ctx->no_new_keyring) {
    char name[64];
    snprintf(name, sizeof(name), "_ses.%.50s", ctx->id);
    /* A kernel without keyrings (or a seccomp'd host) is not an error. */
    if (syscall(__NR_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS &&
        errno != EPERM && errno != EACCES) {
      nook_error(&err, errno, "join a session keyring");
      fail(ctx, &err);
    }
  }

  if (process_apply_rlimits(p, &err) < 0 || process_apply_personality(&c->linux_, &err) < 0 ||
      process_apply_memory_policy(&c->linux_, &err) < 0 || process_apply_scheduler(p, &err) < 0 ||
      process_apply_io_priority(p, &err) < 0 || process_prepare_fds(ctx->preserve_fds, &err) < 0)
    fail(ctx, &err);
  bool setgroups_ok = true;
  if (ctx->new_userns) {
    char buf[16] = "";
    cleanup_close int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && safe_read(fd, buf, sizeof(buf) - 1) > 0 && has_prefix(buf, "deny"))
      setgroups_ok = false;
  }
  struct finalize fin = {.p = p,
                         .seccomp = ctx->seccomp,
                         .sock = ctx->sock,
                         .setgroups_ok = setgroups_ok,
                         .exec_attr = exec_attr};
  if (exec_shim_open(&fin.shim, &err) < 0 || finalize_drop(&fin, &err) < 0)
    fail(ctx, &err);

  /* Once ready, the container outlives `create`.  The death signal goes
   * first: if the runtime dies before it reads READY, the send fails and we
   * leave; its early state record lets `delete --force` clean up. */
  prctl(PR_SET_PDEATHSIG, 0);
  if (sync_send(ctx->sock, SYNC_READY, 0, NULL, -1, &err) < 0)
    _exit(1);

  int report = -1;
  if (wait_for_start(ctx, &report, &err) < 0)
    _exit(1);
  if (ctx->start_fd >= 0)
    close(ctx->start_fd);
  ctx->sock = report;
  if (c->has_hooks && hooks_run("startContainer", c->hooks.start_container,
                                c->hooks.n_start_container, started_json, &err) < 0)
    fail(ctx, &err);
  if (ctx->die_with_runtime && !die_with_runtime(ctx->sock))
    _exit(1);

  finalize_exec(&fin, ctx->sock, &err);
  fail(ctx, &err);
}
