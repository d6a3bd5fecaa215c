#include "guest_ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "../libcontainer/container.h"
#include "../libcontainer/seccomp.h"
#include "../libcontainer/terminal.h"
#include "../net/vmnet.h"
#include "channel.h"
#include "guest.h"
#include "share.h"

#define GUEST_NOOK "/nook"
#define GUEST_STATE_ROOT "/run/nook"
/* The guest nook's compiled-filter cache, as seccomp_cache_dir() finds it
 * there (root, no NOOK_SECCOMP_CACHE): on the initramfs, empty at boot. */
#define GUEST_SECCOMP_CACHE SECCOMP_CACHE_HOST_DIR
#define GUEST_LOG "/run/nook.log"
#define GUEST_PID_FILE "/run/nook-ctr.pid"
#define GUEST_CONSOLE_SOCK "/run/nook-console.sock"
/* Per exec'd process N: its pid file, process JSON and console socket. */
#define GUEST_EXEC_FILE "/run/nook-exec-%d.%s"

void guest_ctr_init(struct guest_ctr *c, vmm_nook_main_fn *nook_main)
{
  *c =
      (struct guest_ctr){.nook_main = nook_main, .procs = xmalloc(sizeof(*c->procs)), .n_procs = 1};
  c->procs[0] = xmalloc(sizeof(*c->procs[0]));
  guest_proc_init(c->procs[0], CHAN_PROC_INIT);
}

/* The messages of the guest nook's JSON log at `level`, one a line (NULL
 * when none): what namespace mode's CLI would have said.  With `last`
 * only the last one. */
static char *log_messages(const char *level, bool last)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, GUEST_LOG, &text, &len, NULL) < 0)
    return NULL;
  char *found = NULL;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    yajl_val root = yajl_tree_parse(line, NULL, 0);
    const char *lp[] = {"level", NULL}, *mp[] = {"msg", NULL};
    yajl_val lv = root ? yajl_tree_get(root, lp, yajl_t_string) : NULL;
    yajl_val msg = root ? yajl_tree_get(root, mp, yajl_t_string) : NULL;
    const char *l = lv ? YAJL_GET_STRING(lv) : NULL;
    const char *m = msg ? YAJL_GET_STRING(msg) : NULL;
    if (l != NULL && m != NULL && strcmp(l, level) == 0) {
      char *joined = NULL;
      if (found == NULL || last)
        joined = xstrdup(m);
      else
        xasprintf(&joined, "%s\n%s", found, m);
      free(found);
      found = joined;
    }
    yajl_tree_free(root);
  }
  return found;
}

/* What runs in a child of ours with the stdio it was given; never
 * returns.  Its failure is an `error` line in GUEST_LOG and a non-zero
 * exit, as the guest nook's CLI does it. */
typedef void child_fn(const void *arg);

/* The child's failure before or outside the CLI, as the CLI would log it. */
__attribute__((noreturn)) static void child_fail(nook_error_t err)
{
  nook_error_t log_err = NULL;
  cleanup_free char *text = nook_error_text(err);
  if (nook_log_init(GUEST_LOG, NOOK_LOG_FORMAT_JSON, false, &log_err) == 0)
    nook_log(NOOK_LOG_ERROR, "%s", text);
  _exit(127);
}

/* Make the forked child what an exec of /nook would have started, but for
 * its memory: without that exec, FD_CLOEXEC protects nothing, so every fd
 * of the guest init (the channel, the other processes' stdio, memfds,
 * sockets) is closed here or it would reach the command and, through its
 * children, the container.  The log goes first so that its fd is not closed
 * twice.  The signals: we block SIGCHLD for our signalfd, and a fresh
 * process has every disposition at its default.  The name: "init" is
 * ours; `ps` in the guest shows the command as namespace mode's. */
static int child_fresh(int in, int out, int errfd, nook_error_t *err)
{
  nook_log_reset();
  signals_reset();
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
    return nook_error(err, errno, "dup2 the stdio");
  if (close_fds_from(3, err) < 0)
    return -1;
  prctl(PR_SET_NAME, "nook", 0, 0, 0);
  /* getopt's state: 0 makes glibc start over, as in a fresh process. */
  optind = 0;
  return 0;
}

/* Run fn(arg) in a child with stdio in/out/errfd and wait for it; its
 * failure becomes *err in its own words (the log's last error). */
static int run_child(const char *what, child_fn *fn, const void *arg, int in, int out, int errfd,
                     char **warnings, nook_error_t *err)
{
  if (truncate(GUEST_LOG, 0) < 0 && errno != ENOENT)
    return nook_error(err, errno, "truncate %s", GUEST_LOG);
  /* Nothing of ours may be written twice by the child's exit. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return nook_error(err, errno, "fork");
  if (pid == 0) {
    nook_error_t child_err = NULL;
    if (child_fresh(in, out, errfd, &child_err) < 0)
      child_fail(child_err);
    fn(arg);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return nook_error(err, errno, "wait for %s", what);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    *warnings = log_messages("warning", false);
    return 0;
  }
  cleanup_free char *said = log_messages("error", true);
  if (said != NULL)
    return nook_error(err, 0, "%s", said);
  return nook_error(err, 0, "%s in the guest failed (status %d)", what,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

struct nook_call {
  vmm_nook_main_fn *nook_main;
  int argc;
  char **argv;
};

/* The nook CLI in the child, as `/nook ARGS` would run it: the binary is
 * ours already, and under TCG loading it again (exec, the dynamic loader,
 * relocations, libc's start) costs tens of ms a command.  Its streams are
 * flushed as exit() would. */
static void nook_in_child(const void *arg)
{
  const struct nook_call *call = arg;
  int status = call->nook_main(call->argc, call->argv);
  fflush(NULL);
  _exit(status);
}

/* Run the guest's nook with `args` (after the global options). */
static int run_nook(const struct guest_ctr *c, const char *const *args, int in, int out, int errfd,
                    char **warnings, nook_error_t *err)
{
  static const char *const globals[] = {
      GUEST_NOOK, "--root", GUEST_STATE_ROOT, "--log", GUEST_LOG, "--log-format", "json"};
  size_t n = strv_len((char *const *)args);
  cleanup_free const char **argv = xmalloc((ARRAY_SIZE(globals) + n + 1) * sizeof(*argv));
  memcpy(argv, globals, sizeof(globals));
  memcpy(argv + ARRAY_SIZE(globals), args, (n + 1) * sizeof(*argv));
  cleanup_free char *what = NULL;
  xasprintf(&what, "nook %s", args[0]);
  struct nook_call call = {c->nook_main, (int)(ARRAY_SIZE(globals) + n), (char **)argv};
  return run_child(what, nook_in_child, &call, in, out, errfd, warnings, err);
}

static int devnull(void)
{
  return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* The console socket at `path` the guest nook sends a pty master to. */
static int console_listen(const char *path, nook_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sa.sun_path))
    return nook_error(err, ENAMETOOLONG, "console socket %s", path);
  strcpy(sa.sun_path, path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return nook_error(err, errno, "socket");
  unlink(path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
    return nook_error(err, errno, "listen on %s", path);
  return steal_fd(&fd);
}

/* The stdio a process of the container gets from the guest nook that
 * starts it: pipes whose other ends we keep, or with a terminal /dev/null
 * for the guest nook and a console socket on which it sends the pty
 * master. */
struct proc_stdio {
  int in[2], out[2], errp[2];
  int lfd;
  const char *sock;
};

static void stdio_close(struct proc_stdio *s)
{
  for (int i = 0; i < 2; i++) {
    close_fd(&s->in[i]);
    close_fd(&s->out[i]);
    close_fd(&s->errp[i]);
  }
  if (s->lfd >= 0) {
    close_fd(&s->lfd);
    unlink(s->sock);
  }
}

/* sock: the console socket's path with a terminal, else NULL. */
static int stdio_open(struct proc_stdio *s, const char *sock, nook_error_t *err)
{
  *s = (struct proc_stdio){{-1, -1}, {-1, -1}, {-1, -1}, -1, sock};
  if (sock != NULL) {
    /* The process's stdio is the pty; the guest nook's own is nothing. */
    if ((s->lfd = console_listen(sock, err)) < 0)
      return -1;
    s->in[0] = devnull();
    s->out[1] = devnull();
    s->errp[1] = devnull();
    if (s->in[0] < 0 || s->out[1] < 0 || s->errp[1] < 0) {
      int e = errno;
      stdio_close(s);
      return nook_error(err, e, "open /dev/null");
    }
  } else if (pipe2(s->in, O_CLOEXEC) < 0 || pipe2(s->out, O_CLOEXEC) < 0 ||
             pipe2(s->errp, O_CLOEXEC) < 0) {
    int e = errno;
    stdio_close(s);
    return nook_error(err, e, "pipe");
  }
  return 0;
}

/* The guest nook ran (r) and wrote the process's pid to pid_file: our ends
 * (with a terminal: the master, in_fd a dup of it, closed at the host's
 * EOF) go to p.  On failure everything is closed. */
static int stdio_finish(struct proc_stdio *s, int r, const char *pid_file, struct guest_proc *p,
                        nook_error_t *err)
{
  close_fd(&s->in[0]);
  close_fd(&s->out[1]);
  close_fd(&s->errp[1]);
  cleanup_free char *text = NULL;
  pid_t pid = 0;
  if (r == 0 && read_file_at(AT_FDCWD, pid_file, &text, NULL, err) < 0)
    r = -1;
  unlink(pid_file);
  if (r == 0 && (pid = (pid_t)strtol(text, NULL, 10)) <= 0)
    r = nook_error(err, 0, "%s: no pid", pid_file);
  int master = -1;
  if (r == 0 && s->lfd >= 0) {
    master = terminal_receive_from_socket(s->lfd, s->sock, err);
    if (master >= 0 && (s->in[1] = fcntl(master, F_DUPFD_CLOEXEC, 0)) < 0)
      r = nook_error(err, errno, "dup the pty master");
    else if (master < 0)
      r = -1;
  }
  if (r < 0) {
    close_fd(&master);
    stdio_close(s);
    return -1;
  }
  p->pid = pid;
  guest_proc_set_stdio(p, s->in[1], master >= 0 ? master : s->out[0], s->errp[0], master);
  s->in[1] = s->out[0] = s->errp[0] = -1;
  stdio_close(s);
  return 0;
}

/* `nook create` in a child of ours, as `/nook --root GUEST_STATE_ROOT
 * --log GUEST_LOG --log-format json create ...` would run it (in the guest
 * that command line finds no VM to make: the share's config has neither the
 * annotation nor the vm object), but with the config the host sent: the
 * CLI would read it over 9p first. */
static void create_in_child(const void *arg)
{
  nook_error_t err = NULL;
  if (nook_log_init(GUEST_LOG, NOOK_LOG_FORMAT_JSON, false, &err) == 0 &&
      nook_container_create(arg, &err) == 0) {
    fflush(NULL);
    _exit(0);
  }
  child_fail(err);
}

/* The guest nook's create of the bundle at `bundle` (the share's, or a
 * member's within it) with the host's config text, the process's stdio
 * from s (opened for sock: the console socket with a terminal), its pid
 * written to pid_file. */
static int run_create(const char *id, const char *bundle, const char *config, int flags,
                      const char *sock, const char *pid_file, struct proc_stdio *s, char **warnings,
                      nook_error_t *err)
{
  /* no_pivot: the guest's root is the initramfs (rootfs), which pivot_root
   * cannot move away from; the old root the container could reach by
   * chroot holds only nook and modules, inside the VM. */
  struct nook_create_opts o = {.root = GUEST_STATE_ROOT,
                               .id = id,
                               .bundle = bundle,
                               .console_socket = sock,
                               .pid_file = pid_file,
                               .no_pivot = true,
                               .config_json = config,
                               .config_len = config ? strlen(config) : 0,
                               .seccomp_cache = GUEST_SECCOMP_CACHE};
  /* The host compiled the config's seccomp profile (share.h): saves the
   * guest's create that compile, tens of ms under TCG. */
  if (flags & CHAN_CREATE_SECCOMP) {
    cleanup_free char *seeded = NULL;
    xasprintf(&seeded, "%s/" VMM_SHARE_SECCOMP, bundle);
    seccomp_cache_import(seeded, GUEST_SECCOMP_CACHE);
  }
  /* The container's init inherits these ends, as it inherits the fds an
   * engine gives `create` on the host. */
  return run_child("nook create", create_in_child, &o, s->in[0], s->out[1], s->errp[1], warnings,
                   err);
}

int guest_ctr_create(struct guest_ctr *c, const char *id, const char *config, int flags,
                     char **warnings, nook_error_t *err)
{
  if (c->id != NULL)
    return nook_error(err, EEXIST, "the VM already holds container \"%s\"", c->id);
  bool terminal = flags & CHAN_CREATE_TTY;
  struct proc_stdio s;
  if (stdio_open(&s, terminal ? GUEST_CONSOLE_SOCK : NULL, err) < 0)
    return -1;
  cleanup_free char *bundle = NULL;
  xasprintf(&bundle, "%s/%s", VMM_GUEST_SHARES_DIR, VMM_CTR_TAG);
  int r = run_create(id, bundle, config, flags, terminal ? GUEST_CONSOLE_SOCK : NULL,
                     GUEST_PID_FILE, &s, warnings, err);
  if (stdio_finish(&s, r, GUEST_PID_FILE, c->procs[0], err) < 0)
    return -1;
  c->id = xstrdup(id);
  /* Before start, as an engine's network is there before its container
   * runs: the host then tears the VM down on an error. */
  if (c->net != NULL && net_vm_link_apply(c->net, c->procs[0]->pid, err) < 0)
    return nook_error_wrap(err, "the container's network interface %s", c->net->name);
  return 0;
}

/* A pod member's share goes from the 9p export (its delete, or a create
 * that failed: pod.h), but the share's cache=loose dentries stay, their
 * fids naming paths gone on the host; a later member bound from the same
 * host directories (one image's rootfs, a volume) would get its
 * directories spliced onto them, and ENOENT.  Unused dentries and inodes
 * dropped: now they are. */
static void forget_member_share(void)
{
  write_file_at(AT_FDCWD, "/proc/sys/vm/drop_caches", O_TRUNC, 0, "2", 1, NULL);
}

/* CHAN_MEMBER: a pod's member container, created beside ours (its
 * config joins our container's namespaces by guest paths) from its share
 * at /mnt/ctr/members/ID; its init is a process with the id the monitor
 * gave it, relayed and reaped as an exec'd one is. */
int guest_ctr_member(struct guest_ctr *c, const struct chan_msg *m, pid_t *pid, char **warnings,
                     nook_error_t *err)
{
  int32_t proc;
  if (m->len < sizeof(proc) + 2)
    return nook_error(err, EPROTO, "member: a %u-byte request", m->len);
  memcpy(&proc, m->data, sizeof(proc));
  const char *id = m->data + sizeof(proc);
  size_t rest = m->len - sizeof(proc), id_len = strnlen(id, rest);
  if (id_len == rest || nook_validate_id(id, NULL) < 0)
    return nook_error(err, EPROTO, "member: no valid id");
  const char *config = id_len + 1 < rest ? id + id_len + 1 : NULL;
  if (c->id == NULL)
    return nook_error(err, ENOENT, "no container in the VM to be the pod's sandbox");
  if (strcmp(id, c->id) == 0)
    return nook_error(err, EEXIST, "container \"%s\" is the VM's own", id);
  if (proc <= CHAN_PROC_INIT || guest_ctr_proc(c, proc) != NULL)
    return nook_error(err, EPROTO, "member: process id %d is in use", proc);
  if (c->n_procs > GUEST_MAX_EXECS)
    return nook_error(err, EAGAIN, "too many processes in the VM (at most %d at once)",
                      GUEST_MAX_EXECS);
  cleanup_free char *bundle = NULL, *pid_file = NULL, *sock = NULL;
  xasprintf(&bundle, "%s/%s/" VMM_MEMBERS_DIR "/%s", VMM_GUEST_SHARES_DIR, VMM_CTR_TAG, id);
  xasprintf(&pid_file, GUEST_EXEC_FILE, proc, "pid");
  if (m->value & CHAN_CREATE_TTY)
    xasprintf(&sock, GUEST_EXEC_FILE, proc, "sock");
  struct proc_stdio s;
  if (stdio_open(&s, sock, err) < 0)
    return -1;
  int r = run_create(id, bundle, config, m->value, sock, pid_file, &s, warnings, err);
  struct guest_proc *p = xmalloc(sizeof(*p));
  guest_proc_init(p, proc);
  if (stdio_finish(&s, r, pid_file, p, err) < 0) {
    free(p);
    forget_member_share();
    return -1;
  }
  c->procs = xrealloc(c->procs, (c->n_procs + 1) * sizeof(*c->procs));
  c->procs[c->n_procs++] = p;
  *pid = p->pid;
  return 0;
}

int guest_ctr_network(struct guest_ctr *c, const char *text, nook_error_t *err)
{
  if (c->id != NULL || c->net != NULL)
    return nook_error(err, EEXIST, "the network comes once, before the container");
  struct net_vm_link *l = xmalloc(sizeof(*l));
  if (net_vm_link_decode(text, l, err) < 0) {
    free(l);
    return -1;
  }
  c->net = l;
  return 0;
}

int guest_ctr_start(struct guest_ctr *c, char **warnings, nook_error_t *err)
{
  if (c->id == NULL)
    return nook_error(err, ENOENT, "no container in the VM");
  cleanup_close int null = devnull();
  const char *args[] = {"start", c->id, NULL};
  return run_nook(c, args, null, null, null, warnings, err);
}

int guest_ctr_kill(struct guest_ctr *c, int sig, bool all, char **warnings, nook_error_t *err)
{
  if (c->id == NULL)
    return nook_error(err, ENOENT, "no container in the VM");
  cleanup_close int null = devnull();
  char num[16];
  snprintf(num, sizeof(num), "%d", sig);
  const char *with_all[] = {"kill", "--all", c->id, num, NULL};
  const char *init_only[] = {"kill", c->id, num, NULL};
  return run_nook(c, all ? with_all : init_only, null, null, null, warnings, err);
}

/* A file holding `len` bytes of data, read from its start. */
static int memfd_with(const char *name, const char *data, size_t len, nook_error_t *err)
{
  cleanup_close int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "memfd_create");
  if (len > 0 && (safe_write(fd, data, len) < 0 || lseek(fd, 0, SEEK_SET) < 0))
    return nook_error(err, errno, "write %s", name);
  return steal_fd(&fd);
}

int guest_ctr_nook(struct guest_ctr *c, char *const *argv, const char *in, size_t in_len,
                   char **out, size_t *out_len, char **warnings, nook_error_t *err)
{
  if (c->id == NULL)
    return nook_error(err, ENOENT, "no container in the VM");
  /* Files, not pipes: nothing to pump while we wait, whatever the sizes. */
  cleanup_close int infd = memfd_with("nook-stdin", in, in_len, err);
  if (infd < 0)
    return -1;
  cleanup_close int outfd = memfd_with("nook-stdout", NULL, 0, err);
  if (outfd < 0)
    return -1;
  cleanup_close int null = devnull();
  if (run_nook(c, (const char *const *)argv, infd, outfd, null, warnings, err) < 0)
    return -1;
  if (strcmp(argv[0], "delete") == 0)
    forget_member_share();
  if (lseek(outfd, 0, SEEK_SET) < 0)
    return nook_error(err, errno, "lseek");
  return read_fd_all(outfd, out, out_len, err);
}

int guest_ctr_stats(struct guest_ctr *c, const char *member, struct cgroup_stats *out,
                    nook_error_t *err)
{
  if (c->id == NULL)
    return nook_error(err, ENOENT, "no container in the VM");
  /* A pod member's: found anew each time (members come and go; the
   * kubelet asks every few seconds, not every millisecond). */
  if (member != NULL) {
    struct nook_stats_source *src = NULL;
    if (nook_stats_open(GUEST_STATE_ROOT, member, &src, err) < 0)
      return -1;
    int r = nook_stats_read(src, out, err);
    nook_stats_close(src);
    return r;
  }
  /* We reap the init, so its end is known here first; the guest nook's
   * state says the same once it is reaped. */
  if (c->procs[0]->exited)
    return nook_error(err, 0, "container with id %s is not running", c->id);
  if (c->stats == NULL && nook_stats_open(GUEST_STATE_ROOT, c->id, &c->stats, err) < 0)
    return -1;
  return nook_stats_read(c->stats, out, err);
}

struct guest_proc *guest_ctr_proc(struct guest_ctr *c, int32_t id)
{
  for (size_t i = 0; i < c->n_procs; i++) {
    if (c->procs[i]->id == id)
      return c->procs[i];
  }
  return NULL;
}

/* `nook exec` in a child of ours, without exec'ing /nook again: we are
 * that binary, and under emulation loading it costs as much as the rest of
 * an exec.  The child logs as the guest nook's CLI would. */
static void exec_in_child(const void *arg)
{
  nook_error_t err = NULL;
  int status;
  if (nook_log_init(GUEST_LOG, NOOK_LOG_FORMAT_JSON, false, &err) == 0 &&
      nook_container_exec(arg, &status, &err) == 0)
    _exit(0);
  child_fail(err);
}

int guest_ctr_exec(struct guest_ctr *c, const char *data, size_t len, pid_t *pid, char **warnings,
                   nook_error_t *err)
{
  struct chan_ctr_exec e;
  if (chan_ctr_exec_decode(data, len, &e, err) < 0)
    return -1;
  int r = -1;
  cleanup_free char *pid_file = NULL, *sock = NULL, *json = NULL;
  struct guest_proc *p = NULL;
  struct proc_stdio s;
  if (c->id == NULL) {
    nook_error(err, ENOENT, "no container in the VM");
    goto out;
  }
  if (e.proc <= CHAN_PROC_INIT || guest_ctr_proc(c, e.proc) != NULL) {
    nook_error(err, EPROTO, "ctr-exec: process id %d is in use", e.proc);
    goto out;
  }
  if (c->n_procs > GUEST_MAX_EXECS) {
    nook_error(err, EAGAIN, "too many exec'd processes in the VM (at most %d at once)",
               GUEST_MAX_EXECS);
    goto out;
  }
  /* The request has the process's options; where things are is ours. */
  e.opts.root = GUEST_STATE_ROOT;
  e.opts.seccomp_cache = GUEST_SECCOMP_CACHE;
  /* The VM's container, or a pod member beside it: the guest's nook
   * knows them all. */
  if (e.opts.id == NULL)
    e.opts.id = c->id;
  e.opts.detach = true;
  xasprintf(&pid_file, GUEST_EXEC_FILE, e.proc, "pid");
  e.opts.pid_file = pid_file;
  if (e.flags & CHAN_CTR_EXEC_TTY) {
    xasprintf(&sock, GUEST_EXEC_FILE, e.proc, "sock");
    e.opts.console_socket = sock;
  }
  if (e.process != NULL) {
    xasprintf(&json, GUEST_EXEC_FILE, e.proc, "json");
    if (write_file_at(AT_FDCWD, json, O_CREAT | O_TRUNC, 0600, e.process, strlen(e.process), err) <
        0)
      goto out;
    e.opts.process_file = json;
  }
  if (stdio_open(&s, sock, err) < 0)
    goto out;
  r = run_child("nook exec", exec_in_child, &e.opts, s.in[0], s.out[1], s.errp[1], warnings, err);
  p = xmalloc(sizeof(*p));
  guest_proc_init(p, e.proc);
  if ((r = stdio_finish(&s, r, pid_file, p, err)) < 0)
    goto out;
  c->procs = xrealloc(c->procs, (c->n_procs + 1) * sizeof(*c->procs));
  c->procs[c->n_procs++] = steal_pointer(&p);
  *pid = c->procs[c->n_procs - 1]->pid;
out:
  if (json != NULL)
    unlink(json);
  free(p);
  chan_ctr_exec_clear(&e);
  return r;
}

void guest_ctr_signal(struct guest_ctr *c, int32_t id, int sig)
{
  struct guest_proc *p = guest_ctr_proc(c, id);
  /* Not reaped yet, so the pid is still the process's (or its zombie's). */
  if (p != NULL && p->pid > 0 && !p->exited)
    kill(p->pid, sig);
}

int guest_ctr_reaped(struct guest_ctr *c, int chan, pid_t pid, int status, nook_error_t *err)
{
  for (size_t i = 0; i < c->n_procs; i++) {
    struct guest_proc *p = c->procs[i];
    if (p->pid <= 0 || p->pid != pid || p->exited)
      continue;
    int r = guest_proc_exited(p, chan, status, err);
    /* An exec'd process's streams end with it; the init's stay (the
     * monitor ends the VM). */
    if (i > 0) {
      guest_proc_release(p);
      free(p);
      c->procs[i] = c->procs[--c->n_procs];
    }
    return r;
  }
  return 0;
}
