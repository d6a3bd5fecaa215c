/* exec: a new process in a running container.
 *
 * Three processes, one sync socket:
 *   runtime  -- the `nook exec` process: builds the process, puts stage 1 in
 *               the container's cgroup, waits (or detaches);
 *   stage 1  -- forked by the runtime, not dumpable from its first
 *               instruction, joins every namespace of the container at once
 *               with setns(pidfd) (the kernel orders them, user first), and
 *               forks stage 2 as the runtime's child (CLONE_PARENT) because a
 *               pid namespace only applies to children;
 *   stage 2  -- inside the container: user, rlimits, cwd, terminal, seccomp,
 *               capabilities, then the workload through the exec shim.
 * Stage 2 stays non-dumpable until its execve, so the container's processes
 * cannot ptrace it or open its /proc/PID/{exe,fd,mem} while it still holds
 * the runtime's privileges (CVE-2016-9962). */
#include "container_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/reap.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "exec_shim.h"
#include "finalize.h"
#include "foreground.h"
#include "process.h"
#include "rootless.h"
#include "seccomp.h"
#include "sync.h"
#include "terminal.h"

/* What stage 1 and 2 need; they read it from their copy of our memory. */
struct exec_plan {
  struct oci_process *p;
  const struct oci_config *config;
  const char *user_name, *group_name; /* resolved in the container's /etc */
  unsigned long ns_flags;             /* CLONE_NEW* to join with setns(pidfd) */
  bool join_userns;
  int pidfd;
  /* A container without a mount namespace shares ours: its root is a
   * chroot, entered through this fd (its /proc/PID/root); else -1. */
  int rootfd;
  int sock; /* the child's end */
  int preserve_fds;
  const struct seccomp_prog *seccomp;
  struct sync_plan sync; /* the optional sync steps, for both sides */
};

/* ---- strict parsing of the command line's ids ----------------------------- */

/* A decimal id: digits only, no sign or space, below 2^32-1 (which is -1,
 * "no change", to the kernel).  `exec -u` parsing that read "abc" as 0 gave
 * root to anyone who mistyped a name (crun's CVE-2026-30892 was this). */
static int parse_id(const char *s, uint32_t *out)
{
  unsigned long long v = 0;
  if (s == NULL || *s == '\0' || strlen(s) > 10)
    return -1;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (unsigned)(*p - '0');
  }
  if (v >= UINT32_MAX)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* A user or group name as useradd(8) accepts it (NAME_REGEX). */
static bool valid_name(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 32 || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return false;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1);
    if (!ok)
      return false;
  }
  return true;
}

/* --user UID[:GID] or NAME[:GROUP] (names are looked up in the container). */
static int parse_user(const char *spec, struct oci_user *u, struct exec_plan *plan,
                      nook_error_t *err)
{
  cleanup_free char *s = xstrdup(spec);
  char *colon = strchr(s, ':');
  char *group = NULL;
  if (colon) {
    *colon = '\0';
    group = colon + 1;
    if (strchr(group, ':'))
      return nook_error(err, 0, "--user \"%s\": expected UID[:GID]", spec);
  }
  uint32_t id;
  if (parse_id(s, &id) == 0) {
    u->uid = id;
  } else if (valid_name(s)) {
    plan->user_name = xstrdup(s);
  } else {
    return nook_error(err, 0, "--user \"%s\": invalid user \"%s\": expected UID[:GID]", spec, s);
  }
  if (group == NULL)
    return 0;
  if (parse_id(group, &id) == 0)
    u->gid = id;
  else if (valid_name(group))
    plan->group_name = xstrdup(group);
  else
    return nook_error(err, 0, "--user \"%s\": invalid group \"%s\"", spec, group);
  return 0;
}

/* NAME=VALUE entries of -e replace the same NAME or are appended. */
static void merge_env(struct oci_process *p, char *const *env, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    size_t key = strcspn(env[i], "=");
    size_t j = 0;
    for (; j < p->n_env; j++)
      if (strncmp(p->env[j], env[i], key) == 0 && (p->env[j][key] == '=' || !p->env[j][key]))
        break;
    if (j < p->n_env) {
      free(p->env[j]);
      p->env[j] = xstrdup(env[i]);
      continue;
    }
    p->env = xrealloc(p->env, (p->n_env + 2) * sizeof(char *));
    p->env[p->n_env++] = xstrdup(env[i]);
    p->env[p->n_env] = NULL;
  }
}

static int apply_caps(struct oci_process *p, char *const *caps, size_t n, nook_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    int c = oci_cap_from_name(caps[i]);
    if (c < 0 || strncmp(caps[i], "CAP_", 4) != 0)
      return nook_error(err, 0, "--cap: unknown capability \"%s\"", caps[i]);
    uint64_t bit = UINT64_C(1) << c;
    p->has_capabilities = true;
    p->capabilities.bounding |= bit;
    p->capabilities.effective |= bit;
    p->capabilities.permitted |= bit;
    /* As runc: ambient only where an inheritable set exists, since an
     * ambient capability must also be inheritable. */
    if (p->capabilities.inheritable)
      p->capabilities.ambient |= bit;
  }
  return 0;
}

/* What a --process file leaves out comes from the container's process, as
 * with runc: the capabilities (else an exec would run with none), rlimits,
 * LSM labels and oom_score_adj.  The rest (args, env, cwd, user, terminal,
 * no_new_privs) is the file's. */
static void inherit_unset(struct oci_process *np, struct oci_process *base)
{
  if (!np->has_capabilities && base->has_capabilities) {
    np->has_capabilities = true;
    np->capabilities = base->capabilities;
  }
  if (np->n_rlimits == 0 && base->n_rlimits > 0) {
    np->rlimits = steal_pointer(&base->rlimits);
    np->n_rlimits = base->n_rlimits;
    base->n_rlimits = 0;
  }
  if (np->apparmor_profile == NULL)
    np->apparmor_profile = steal_pointer(&base->apparmor_profile);
  if (np->selinux_label == NULL)
    np->selinux_label = steal_pointer(&base->selinux_label);
  if (!np->has_oom_score_adj && base->has_oom_score_adj) {
    np->has_oom_score_adj = true;
    np->oom_score_adj = base->oom_score_adj;
  }
}

/* The process to run: --process, or the container's process with the
 * command line's changes (runc's rules). */
static int build_process(const struct nook_exec_opts *o, struct oci_config *c,
                         struct exec_plan *plan, nook_error_t *err)
{
  struct oci_process *p = &c->process;
  const char *name = o->process_name ? o->process_name : o->process_file;
  if (o->process_file) {
    cleanup_free char *text = NULL;
    size_t len;
    if (read_file_at(AT_FDCWD, o->process_file, &text, &len, err) < 0)
      return nook_error_wrap(err, "--process");
    struct oci_process np;
    if (oci_process_parse(text, len, name, &np, err) < 0)
      return -1;
    for (size_t i = 0; i < np.n_unknown_caps; i++)
      nook_warn("%s: %s, ignored", name, np.unknown_caps[i]);
    inherit_unset(&np, p);
    oci_process_clear(p);
    *p = np;
  } else {
    if (o->n_args == 0)
      return nook_error(err, 0, "exec: no command given (arguments or --process)");
    strv_free(p->args);
    p->args = xmalloc((o->n_args + 1) * sizeof(char *));
    for (size_t i = 0; i < o->n_args; i++)
      p->args[i] = xstrdup(o->args[i]);
    p->args[o->n_args] = NULL;
    p->n_args = o->n_args;
    p->terminal = o->tty;
    if (!p->terminal)
      p->has_console_size = false;
    merge_env(p, o->env, o->n_env);
    if (o->cwd) {
      free(p->cwd);
      p->cwd = xstrdup(o->cwd);
    }
    if (o->user && parse_user(o->user, &p->user, plan, err) < 0)
      return -1;
    /* Added to the container's groups, as runc does. */
    size_t had = p->user.n_additional_gids;
    p->user.additional_gids =
        xrealloc(p->user.additional_gids, (had + o->n_additional_gids + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < o->n_additional_gids; i++) {
      if (parse_id(o->additional_gids[i], &p->user.additional_gids[had + i]) < 0)
        return nook_error(err, 0, "--additional-gids: invalid group id \"%s\"",
                          o->additional_gids[i]);
      p->user.n_additional_gids++;
    }
    if (apply_caps(p, o->caps, o->n_caps, err) < 0)
      return -1;
    if (o->no_new_privs)
      p->no_new_privileges = true;
    if (o->apparmor) {
      free(p->apparmor_profile);
      p->apparmor_profile = xstrdup(o->apparmor);
    }
    if (o->process_label) {
      free(p->selinux_label);
      p->selinux_label = xstrdup(o->process_label);
    }
  }
  if (p->terminal && o->console_height > 0 && o->console_width > 0) {
    p->has_console_size = true;
    p->console_height = o->console_height;
    p->console_width = o->console_width;
  }
  if (oci_process_validate(p, err) < 0)
    return nook_error_wrap(err, "%s", o->process_file ? name : "exec");
  return check_process_lsm(p, err);
}

/* ---- execCPUAffinity ------------------------------------------------------ */

static int set_affinity(pid_t pid, const char *field, const char *cpus, nook_error_t *err)
{
  if (cpus == NULL || *cpus == '\0')
    return 0;
  cpu_set_t set;
  if (cpu_list_parse(field, cpus, &set, err) < 0)
    return -1;
  if (sched_setaffinity(pid, sizeof(set), &set) < 0)
    return nook_error(err, errno, "%s: sched_setaffinity \"%s\"", field, cpus);
  return 0;
}

/* ---- stage 1 and stage 2 (container side) ---------------------------------- */

__attribute__((noreturn)) static void fail(int sock, nook_error_t *err)
{
  sync_send_error(sock, *err);
  _exit(1);
}

static bool setgroups_allowed(const struct exec_plan *plan)
{
  if (!plan->join_userns)
    return true;
  char buf[16] = "";
  cleanup_close int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  return !(fd >= 0 && safe_read(fd, buf, sizeof(buf) - 1) > 0 && has_prefix(buf, "deny"));
}

static int resolve_names(const struct exec_plan *plan, struct oci_user *u, nook_error_t *err)
{
  if (plan->user_name && process_lookup_user(plan->user_name, &u->uid, &u->gid) < 0)
    return nook_error(err, 0, "--user: no user \"%s\" in the container's /etc/passwd",
                      plan->user_name);
  if (plan->group_name && process_lookup_group(plan->group_name, &u->gid) < 0)
    return nook_error(err, 0, "--user: no group \"%s\" in the container's /etc/group",
                      plan->group_name);
  return 0;
}

__attribute__((noreturn)) static void stage2(struct exec_plan *plan, int procfd)
{
  nook_error_t err = NULL;
  struct oci_process *p = plan->p;
  const struct oci_linux *l = &plan->config->linux_;
  const int sock = plan->sock;
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  /* The runtime learns our pid from stage 1 first; then we may talk. */
  if (sync_recv(sock, SYNC_STAGE2_GO, msg, NULL, &err) < 0)
    _exit(1);
  free(msg);

  if (resolve_names(plan, &p->user, &err) < 0)
    fail(sock, &err);
  int exec_attr = -1;
  if (process_open_exec_attr(p, procfd, &exec_attr, &err) < 0)
    fail(sock, &err);
  if (procfd >= 0)
    close(procfd);
  if (process_apply_rlimits(p, &err) < 0 || process_apply_personality(l, &err) < 0 ||
      process_apply_memory_policy(l, &err) < 0 || process_apply_scheduler(p, &err) < 0 ||
      process_apply_io_priority(p, &err) < 0)
    fail(sock, &err);
  if (plan->sync.pty) {
    int master = -1;
    if (terminal_setup_container(p->has_console_size, p->console_height, p->console_width, false,
                                 p->user.uid, &master, &err) < 0 ||
        sync_send(sock, SYNC_PTY, 0, NULL, master, &err) < 0)
      fail(sock, &err);
    close(master);
  }
  process_ensure_home(p);
  struct finalize fin = {.p = p,
                         .seccomp = plan->seccomp,
                         .sock = sock,
                         .setgroups_ok = setgroups_allowed(plan),
                         .exec_attr = exec_attr};
  if (exec_shim_open(&fin.shim, &err) < 0 || finalize_drop(&fin, &err) < 0)
    fail(sock, &err);
  finalize_exec(&fin, sock, &err);
  fail(sock, &err);
}

__attribute__((noreturn)) static void stage1(struct exec_plan *plan, int parent_sock, int dirfd)
{
  nook_error_t err = NULL;
  const int sock = plan->sock;
  /* Before anything else: the container can see us from the setns on. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  close(parent_sock);
  close(dirfd);
  signals_reset();
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  if (sync_recv(sock, SYNC_GO, msg, NULL, &err) < 0)
    _exit(1);
  free(msg);

  /* What must come from the host's /proc is read before joining: the
   * container's /proc is the container's to fake. */
  process_capabilities_prepare();
  if (process_apply_oom_score_adj(plan->p, &err) < 0)
    fail(sock, &err);
  int procfd = -1;
  if (plan->p->apparmor_profile || plan->p->selinux_label) {
    procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
      nook_error(&err, errno, "open /proc");
      fail(sock, &err);
    }
  }
  if (process_prepare_fds(plan->preserve_fds, &err) < 0)
    fail(sock, &err);
  if (plan->ns_flags && setns(plan->pidfd, (int)plan->ns_flags) < 0) {
    nook_error(&err, errno, "join the container's namespaces");
    fail(sock, &err);
  }
  close(plan->pidfd);
  /* After setns: a chrooted caller may not join a user namespace. */
  if (plan->rootfd >= 0) {
    if (fchdir(plan->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
      nook_error(&err, errno, "enter the container's root");
      fail(sock, &err);
    }
    close(plan->rootfd);
  }
  /* Root of the joined user namespace where it maps 0; setns already gave
   * us every capability there, so a userns without 0 still works. */
  if (plan->join_userns) {
    if (setresgid(0, 0, 0) == 0)
      setresuid(0, 0, 0);
  }
  struct clone_args args = {.flags = CLONE_PARENT};
  pid_t pid = (pid_t)sys_clone3(&args, sizeof(args));
  if (pid < 0 && errno == ENOSYS)
    pid = (pid_t)syscall(__NR_clone, CLONE_PARENT, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    nook_error(&err, errno, "fork into the container");
    fail(sock, &err);
  }
  if (pid == 0) {
    /* The death signal is not inherited; stage 2 has none on purpose: it
     * survives the runtime, as the workload must once started. */
    stage2(plan, procfd);
  }
  _exit(sync_send(sock, SYNC_PID, pid, NULL, -1, &err) < 0 ? 1 : 0);
}

/* ---- runtime side ------------------------------------------------------------ */

/* The namespaces to join: every one the container has.  The user namespace
 * only when it differs from ours (setns refuses our own). */
static int plan_namespaces(const struct oci_config *c, pid_t pid, struct exec_plan *plan,
                           nook_error_t *err)
{
  for (size_t i = 0; i < c->linux_.n_namespaces; i++) {
    enum oci_ns_type t = c->linux_.namespaces[i].type;
    if (t != OCI_NS_USER) {
      plan->ns_flags |= (unsigned long)oci_ns_clone_flag(t);
      continue;
    }
    char path[64];
    struct stat mine, theirs;
    snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
    if (stat("/proc/self/ns/user", &mine) < 0 || stat(path, &theirs) < 0)
      return nook_error(err, errno, "stat the user namespace of pid %d", pid);
    if (mine.st_ino != theirs.st_ino || mine.st_dev != theirs.st_dev) {
      plan->ns_flags |= CLONE_NEWUSER;
      plan->join_userns = true;
    }
  }
  return 0;
}

static int check_status(const struct loaded *l, const struct nook_exec_opts *o, nook_error_t *err)
{
  switch (l->status) {
  case NOOK_RUNNING:
  case NOOK_CREATED:
    return 0;
  case NOOK_PAUSED:
    if (o->ignore_paused)
      return 0;
    return nook_error(err, 0,
                      "cannot exec in a paused container (use --ignore-paused to override)");
  default:
    return nook_error(err, 0, "cannot exec in a %s container", nook_status_name(l->status));
  }
}

/* Everything the runtime holds while the process starts. */
struct exec_run {
  struct loaded l;
  struct exec_plan plan;
  struct seccomp_prog prog;
  struct cgroup_paths cg;
  const struct cgroup_manager *cgm;
  bool have_cg;
  int sock;
  pid_t stage1, pid;
  int pty_master;
};

static void exec_run_release(struct exec_run *r)
{
  if (r->sock >= 0)
    close(r->sock);
  if (r->plan.pidfd >= 0)
    close(r->plan.pidfd);
  if (r->plan.rootfd >= 0)
    close(r->plan.rootfd);
  if (r->pty_master >= 0)
    close(r->pty_master);
  free((char *)r->plan.user_name);
  free((char *)r->plan.group_name);
  seccomp_prog_clear(&r->prog);
  cgroup_paths_clear(&r->cg);
  loaded_release(&r->l);
}

/* Drive the stages to the workload's execve.  On failure both stages are
 * killed and reaped. */
static int start_process(const struct nook_exec_opts *o, struct exec_run *r, nook_error_t *err)
{
  int sv[2];
  struct oci_process *p = r->plan.p;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return nook_error(err, errno, "socketpair");
  r->plan.sock = sv[1];
  struct clone_args args = {.exit_signal = SIGCHLD};
  pid_t c = (pid_t)sys_clone3(&args, sizeof(args));
  if (c < 0 && errno == ENOSYS)
    c = fork();
  if (c < 0) {
    close(sv[0]);
    close(sv[1]);
    return nook_error(err, errno, "fork");
  }
  if (c == 0)
    stage1(&r->plan, sv[0], r->l.dirfd);
  close(sv[1]);
  r->sock = sv[0];
  r->stage1 = c;

  struct sync_msg *msg = xmalloc(sizeof(*msg));
  const struct oci_exec_cpu_affinity *aff = &p->exec_cpu_affinity;
  int ret = -1;
  if (p->has_exec_cpu_affinity &&
      set_affinity(c, "process.execCPUAffinity.initial", aff->initial, err) < 0)
    goto out;
  if (r->have_cg && r->cgm->enter(&r->cg, c, err) < 0) {
    /* Denied: a user's exec from outside the delegated subtree that holds
     * the container (cgroup v2 moves a process only for who may write the
     * cgroup.procs of both ends' common ancestor). */
    if (rootless_cgroup_denied(*err))
      nook_error_wrap(err, "join the container's cgroup (rootless: exec from a cgroup inside the "
                           "subtree delegated to the user)");
    else
      nook_error_wrap(err, "join the container's cgroup");
    goto out;
  }
  if (p->has_exec_cpu_affinity &&
      set_affinity(c, "process.execCPUAffinity.final", aff->final, err) < 0)
    goto out;
  if (sync_send(r->sock, SYNC_GO, 0, NULL, -1, err) < 0 ||
      sync_recv(r->sock, SYNC_PID, msg, NULL, err) < 0)
    goto out;
  r->pid = msg->value;
  while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
    ;
  r->stage1 = 0;
  if (sync_send(r->sock, SYNC_STAGE2_GO, 0, NULL, -1, err) < 0)
    goto out;
  if (r->plan.sync.pty && sync_recv(r->sock, SYNC_PTY, msg, &r->pty_master, err) < 0)
    goto out;
  if (r->plan.sync.seccomp_fd) {
    int fd = -1;
    if (sync_recv(r->sock, SYNC_SECCOMP_FD, msg, &fd, err) < 0)
      goto out;
    cleanup_free char *json = state_json_for(r->l.config, &r->l.st, "running", false);
    int s = seccomp_send_notify_fd(&r->l.config->linux_.seccomp, fd, json, r->pid, err);
    close(fd);
    if (s < 0)
      goto out;
  }
  if (sync_wait_exec(r->sock, msg, err) < 0)
    goto out;
  ret = 0;
out:
  free(msg);
  if (ret < 0) {
    kill_and_reap(r->pid);
    r->pid = 0;
    kill_and_reap(r->stage1);
  }
  return ret;
}

int nook_container_exec(const struct nook_exec_opts *o, int *exit_status, nook_error_t *err)
{
  struct exec_run r = {.sock = -1, .pty_master = -1, .plan = {.pidfd = -1, .rootfd = -1}};
  cleanup_free char *root = absolute_path(o->root);
  cleanup_free char *pid_file = absolute_path(o->pid_file);
  cleanup_free char *console = absolute_path(o->console_socket);
  sigset_t all, old;
  bool blocked = false;
  int ret = -1;
  *exit_status = 255;

  if (process_check_preserved_fds(o->preserve_fds, err) < 0)
    return -1;
  if (load_container(root, o->id, false, true, &r.l, err) < 0)
    return -1;
  if (check_status(&r.l, o, err) < 0)
    goto out;
  if (r.l.config == NULL) {
    nook_error(err, 0, "container \"%s\": its config.json is missing from the state", o->id);
    goto out;
  }
  struct oci_config *c = r.l.config;
  r.plan.config = c;
  r.plan.p = &c->process;
  r.plan.preserve_fds = o->preserve_fds;
  if (build_process(o, c, &r.plan, err) < 0)
    goto out;
  struct oci_process *p = &c->process;
  if (p->terminal && console == NULL && o->detach) {
    nook_error(err, 0,
               "cannot allocate a terminal for a detached process without --console-socket");
    goto out;
  }
  if (!p->terminal && console) {
    nook_error(err, 0, "--console-socket given but the process has no terminal (-t)");
    goto out;
  }
  int has = loaded_cgroup(&r.l.st, &r.cgm, &r.cg, err);
  if (has < 0)
    goto out;
  r.have_cg = has > 0;
  if (o->n_cgroups > 0) {
    if (!r.have_cg) {
      nook_error(err, 0, "--cgroup: the container has no cgroup");
      goto out;
    }
    if (cgroup_paths_sub(&r.cg, o->cgroups, o->n_cgroups, err) < 0)
      goto out;
  }
  if (c->linux_.has_seccomp) {
    if (seccomp_compile(&c->linux_.seccomp, o->seccomp_cache, &r.prog, err) < 0)
      goto out;
    r.plan.seccomp = &r.prog;
  }
  /* The pidfd pins the process: checked against the recorded start time
   * after it is open, so a recycled pid cannot be joined. */
  r.plan.pidfd = sys_pidfd_open(r.l.st.pid, 0);
  if (r.plan.pidfd < 0 || proc_start_time(r.l.st.pid) != r.l.st.pid_start) {
    nook_error(err, r.plan.pidfd < 0 ? errno : ESRCH, "container \"%s\": its process is gone",
               o->id);
    goto out;
  }
  if (plan_namespaces(c, r.l.st.pid, &r.plan, err) < 0)
    goto out;
  r.plan.sync = (struct sync_plan){.pty = p->terminal,
                                   .seccomp_fd = r.plan.seccomp && r.plan.seccomp->notify};
  if (oci_config_namespace(c, OCI_NS_MOUNT) == NULL) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/root", r.l.st.pid);
    r.plan.rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    /* The start time again: the pid must still be the container's. */
    if (r.plan.rootfd < 0 || proc_start_time(r.l.st.pid) != r.l.st.pid_start) {
      nook_error(err, r.plan.rootfd < 0 ? errno : ESRCH, "container \"%s\": open its root", o->id);
      goto out;
    }
  }

  if (!o->detach) {
    block_signals_for_forwarding(&all, &old);
    blocked = true;
  }
  if (start_process(o, &r, err) < 0)
    goto out;
  if (pid_file && write_pid_file(pid_file, r.pid, err) < 0)
    goto out_kill;
  if (r.pty_master >= 0 && console) {
    if (terminal_send_to_socket(console, r.pty_master, err) < 0)
      goto out_kill;
    close(r.pty_master);
    r.pty_master = -1;
  }
  if (o->detach) {
    *exit_status = 0;
  } else {
    wait_foreground(r.pid, r.pty_master, &all, exit_status);
  }
  ret = 0;
  goto out;

out_kill:
  kill_and_reap(r.pid);
out:
  if (blocked)
    sigprocmask(SIG_SETMASK, &old, NULL);
  exec_run_release(&r);
  return ret;
}
