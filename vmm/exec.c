/* `nook exec` of a VM-mode container, on the host (container.h).
 *
 * The process is the guest's `nook exec` (guest_ctr.h): the options that
 * make sense in the guest travel in a CHAN_CTR_EXEC request through the
 * monitor, so the user, `-u` names, env, cwd, capabilities, no_new_privs,
 * seccomp, rlimits and --cgroup are applied by the same code as in
 * namespace mode, in the container's namespaces and cgroup in the guest.
 * What concerns the host stays here: --console-socket (a pty pair on the
 * host whose master goes there, as for the init: relay.h), -d and
 * --pid-file.  The connection that asked then carries the process's stdio
 * and its exit (execmux.h); whoever holds it relays our stdio and forwards
 * the signals we get:
 *  - in the foreground, this CLI, which exits with the process's status as
 *    namespace mode does (code, or 128+signal);
 *  - with -d, a proxy forked here, whose pid is the --pid-file's: it lives
 *    exactly as long as the process and ends as it ended (its exit code,
 *    or the same signal), so an engine waits on it as on runc's exec'd
 *    process, and its kill reaches the process in the guest.
 * When the VM ends under a process (its container's init ended, delete
 * --force), the monitor is gone, the connection ends without an exit, and
 * the process counts as killed by SIGKILL, as it was with its machine. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "../libcontainer/state.h"
#include "../libcontainer/terminal.h"
#include "channel.h"
#include "container.h"
#include "monitor.h"
#include "pod.h"
#include "proxy.h"
#include "relay.h"

/* The request and what the host keeps of it. */
struct exec_req {
  struct chan_ctr_exec e; /* encoded once the terminal's size is known */
  char *process;          /* --process's text */
  bool tty;
};

static void req_clear(struct exec_req *q)
{
  free(q->process);
}

/* The request from our options (chan_ctr_exec_encode() takes those that
 * make sense in the guest). */
static int build_request(const struct nook_exec_opts *o, struct exec_req *q, nook_error_t *err)
{
  /* An fd cannot cross into the guest. */
  if (o->preserve_fds > 0)
    return nook_error(err, 0,
                      "VM mode does not support --preserve-fds (an fd cannot be passed into the "
                      "VM) yet");
  struct chan_ctr_exec *e = &q->e;
  e->opts = *o;
  if (o->process_file) {
    size_t len;
    if (read_file_at(AT_FDCWD, o->process_file, &q->process, &len, err) < 0)
      return nook_error_wrap(err, "--process");
    /* Parsed here too, for process.terminal: the host's side of the pty.
     * Its errors are namespace mode's (the same parser). */
    struct oci_process p;
    if (oci_process_parse(q->process, len, o->process_file, &p, err) < 0)
      return -1;
    q->tty = p.terminal;
    oci_process_clear(&p);
    if (strlen(q->process) != len)
      return nook_error(err, 0, "%s: a NUL byte in the file", o->process_file);
    /* The command is the file's, as in namespace mode, and errors name
     * the file as the user gave it. */
    e->opts.n_args = 0;
    e->opts.process_name = o->process_file;
  } else {
    q->tty = o->tty;
  }
  /* Namespace mode's checks and words. */
  if (q->tty && o->console_socket == NULL && o->detach)
    return nook_error(err, 0,
                      "cannot allocate a terminal for a detached process without --console-socket");
  if (!q->tty && o->console_socket != NULL)
    return nook_error(err, 0, "--console-socket given but the process has no terminal (-t)");
  e->flags =
      (q->tty ? CHAN_CTR_EXEC_TTY : 0) | (o->ignore_paused ? CHAN_CTR_EXEC_IGNORE_PAUSED : 0);
  e->process = q->process;
  /* Only to fail early: request() encodes it again with the size. */
  cleanup_free char *payload = NULL;
  size_t len;
  return chan_ctr_exec_encode(e, &payload, &len, err);
}

/* Ask the monitor for the process: the connection that carries its stdio
 * from now on, *id its process id.  With a terminal, the host pty's size
 * then (io->tty) is the guest pty's from the start. */
static int request(int dirfd, struct exec_req *q, const struct vmm_relay *io, int32_t *id,
                   nook_error_t *err)
{
  struct winsize ws;
  if (io->tty >= 0 && ioctl(io->tty, TIOCGWINSZ, &ws) == 0) {
    q->e.opts.console_height = ws.ws_row;
    q->e.opts.console_width = ws.ws_col;
  }
  cleanup_free char *payload = NULL;
  size_t len;
  if (chan_ctr_exec_encode(&q->e, &payload, &len, err) < 0)
    return -1;
  cleanup_close int conn = vmm_monitor_connect(dirfd, err);
  if (conn == -2) {
    /* No monitor listens: still booting, or gone with the container. */
    struct nook_state st;
    enum nook_status s = NOOK_STOPPED;
    if (state_read(dirfd, &st, NULL) == 0) {
      s = state_status(dirfd, &st);
      state_clear(&st);
    }
    nook_error_free(err);
    return nook_error(err, 0, "cannot exec in a %s container",
                      nook_status_name(s == NOOK_RUNNING ? NOOK_STOPPED : s));
  }
  if (conn < 0)
    return -1;
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  int r = chan_send(conn, CHAN_CTR_EXEC, 0, payload, len, err);
  if (r == 0)
    r = chan_recv(conn, CHAN_BIT(CHAN_OK), msg, err);
  if (r < 0 && (*err)->status == EPIPE) {
    nook_error_free(err);
    r = nook_error(err, 0, "cannot exec in a stopped container");
  }
  if (r == 0) {
    vmm_warn_lines(msg->data, msg->len);
    *id = msg->value;
  }
  free(msg);
  return r < 0 ? -1 : steal_fd(&conn);
}

/* Relay the process's stdio until it ends, forwarding the signals read
 * from sigfd; its raw wait status (SIGKILL when the VM ended under it). */
static int relay_process(int conn, struct vmm_relay *io, int sigfd)
{
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  int wstatus = SIGKILL; /* as W_EXITCODE(0, SIGKILL): killed */
  /* A reader of ours that went away loses the output, not us. */
  signal(SIGPIPE, SIG_IGN);
  io->in_open = true;
  vmm_relay_winsize(io, conn);
  for (;;) {
    struct pollfd p[2 + VMM_RELAY_NPOLL] = {{.fd = conn, .events = POLLIN},
                                            {.fd = sigfd, .events = POLLIN}};
    vmm_relay_pollfds(io, p + 2);
    if (poll(p, ARRAY_SIZE(p), -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    struct signalfd_siginfo si;
    while (p[1].revents && read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
      chan_send(conn, CHAN_SIGNAL, (int32_t)si.ssi_signo, NULL, 0, NULL);
    if (p[0].revents) {
      nook_error_t e = NULL;
      const unsigned expect =
          CHAN_BIT(CHAN_STDOUT) | CHAN_BIT(CHAN_STDERR) | CHAN_BIT(CHAN_ACK) | CHAN_BIT(CHAN_EXIT);
      if (chan_recv(conn, expect, msg, &e) < 0) {
        nook_debug("vm exec: %s", e->msg);
        nook_error_free(&e);
        break;
      }
      if (msg->type == CHAN_EXIT) {
        wstatus = msg->value;
        break;
      }
      if (msg->type == CHAN_ACK)
        vmm_relay_ack(io, msg);
      else
        vmm_relay_output(io, conn, msg);
    }
    vmm_relay_events(io, conn, p + 2);
  }
  vmm_relay_finish(io);
  free(msg);
  return wstatus;
}

/* Our terminal's side with -t in the foreground and no console socket: the
 * host pty's master proxied to our stdio, as namespace mode's exec does
 * with the container's. */
struct tty_proxy {
  int master;
  pthread_t thread;
  bool running;
};

static void *tty_proxy_thread(void *arg)
{
  struct tty_proxy *t = arg;
  nook_error_t err = NULL;
  if (terminal_proxy(t->master, &err) < 0)
    nook_error_free(&err);
  return NULL;
}

/* The host's side of the process's terminal: a pty pair whose master goes
 * to the console socket (or to *master for our own proxy, sized as our
 * terminal). */
static int open_tty(struct vmm_relay *io, const char *console, int *master, nook_error_t *err)
{
  cleanup_close int m = -1;
  struct winsize ws;
  bool sized = console == NULL && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0;
  if (vmm_relay_open_tty(io, sized ? &ws : NULL, &m, err) < 0)
    return -1;
  if (console != NULL)
    return terminal_send_to_socket(console, m, err);
  *master = steal_fd(&m);
  return 0;
}

static int exit_code(int wstatus)
{
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 255;
}

static int exec_foreground(int dirfd, struct exec_req *q, const char *console, int *exit_status,
                           nook_error_t *err)
{
  sigset_t fwd, old;
  vmm_forwarded_signals(&fwd);
  struct tty_proxy t = {.master = -1};
  bool own_tty = q->tty && console == NULL;
  /* The pty proxy takes the window size changes (its own signalfd). */
  if (own_tty)
    sigdelset(&fwd, SIGWINCH);
  /* Before the process exists, so none is lost. */
  sigprocmask(SIG_BLOCK, &fwd, &old);
  if (own_tty) {
    sigset_t winch;
    sigemptyset(&winch);
    sigaddset(&winch, SIGWINCH);
    sigprocmask(SIG_BLOCK, &winch, NULL);
  }
  cleanup_close int sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
  cleanup_close int conn = -1;
  struct vmm_relay io;
  vmm_relay_init(&io);
  int r = -1;
  if (sigfd < 0) {
    nook_error(err, errno, "signalfd");
    goto out;
  }
  if (q->tty && open_tty(&io, console, &t.master, err) < 0)
    goto out;
  if ((conn = request(dirfd, q, &io, &io.proc, err)) < 0)
    goto out;
  if (t.master >= 0)
    t.running = pthread_create(&t.thread, NULL, tty_proxy_thread, &t) == 0;
  *exit_status = exit_code(relay_process(conn, &io, sigfd));
  r = 0;
out:
  vmm_relay_finish(&io);
  if (t.running)
    pthread_join(t.thread, NULL);
  if (t.master >= 0)
    close(t.master);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return r;
}

/* The -d proxy: once the CLI has written the pid file (its CHAN_OK on
 * report), the process is started; the CLI learns how that went (CHAN_OK
 * or the error) and exits, and the proxy stays in front of the process. */
__attribute__((noreturn)) static void proxy_main(int report, int dirfd, bool tty,
                                                 const char *console, vmm_proxy_request_fn *fn,
                                                 void *arg)
{
  /* Apart from the CLI: its terminal's signals are not the process's. */
  setsid();
  sigset_t fwd;
  vmm_forwarded_signals(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, NULL);
  int sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  nook_error_t err = NULL;
  if (chan_recv(report, CHAN_BIT(CHAN_OK), msg, &err) < 0)
    _exit(1);
  free(msg);
  struct vmm_relay io;
  vmm_relay_init(&io);
  int conn = -1;
  if (sigfd < 0)
    nook_error(&err, errno, "signalfd");
  /* With a terminal the process's stdio is the pty: the fds the CLI was
   * given are not its, and we, who live as long as it, let them go
   * (containerd's runc shim reads a console-socket exec's output to EOF:
   * docker exec -it and ctr task exec -t waited for the process's end). */
  else if (!(tty && (open_tty(&io, console, NULL, &err) < 0 || stdio_to_null(&err) < 0)))
    conn = fn(dirfd, arg, &io, &io.proc, &err);
  if (conn < 0) {
    chan_send_error(report, err);
    _exit(1);
  }
  if (chan_send(report, CHAN_OK, 0, NULL, 0, NULL) < 0) {
    /* The CLI is gone: it could not tell anyone our pid. */
    chan_send(conn, CHAN_SIGNAL, SIGKILL, NULL, 0, NULL);
  }
  close(report);
  close(dirfd);
  vmm_die_like(relay_process(conn, &io, sigfd));
}

int vmm_proxy_fork(int dirfd, bool tty, const char *console, vmm_proxy_request_fn *fn, void *arg,
                   const int *drop, size_t n_drop, struct vmm_proxy *p, nook_error_t *err)
{
  int sock;
  pid_t pid = fork_with_socket(&sock, "the proxy", err);
  if (pid < 0)
    return -1;
  if (pid == 0) {
    /* The caller's, such as a state directory's lock, which we would
     * otherwise hold for as long as we live. */
    for (size_t i = 0; i < n_drop; i++)
      if (drop[i] >= 0)
        close(drop[i]);
    proxy_main(sock, dirfd, tty, console, fn, arg);
  }
  p->pid = pid;
  p->report = sock;
  return 0;
}

int vmm_proxy_go(struct vmm_proxy *p, bool go, nook_error_t *err)
{
  cleanup_close int report = steal_fd(&p->report);
  int r = go ? chan_send(report, CHAN_OK, 0, NULL, 0, err) : -1;
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  if (r == 0 && chan_recv(report, CHAN_BIT(CHAN_OK), msg, err) < 0) {
    r = -1;
    if ((*err)->status == EPIPE) {
      nook_error_free(err);
      nook_error(err, 0, "the proxy ended before the process started");
    }
  }
  free(msg);
  if (r < 0) {
    close(steal_fd(&report));
    while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  return r;
}

static int exec_request(int dirfd, void *arg, struct vmm_relay *io, int32_t *id, nook_error_t *err)
{
  return request(dirfd, arg, io, id, err);
}

static int exec_detached(int dirfd, struct exec_req *q, const char *console, const char *pid_file,
                         nook_error_t *err)
{
  struct vmm_proxy p;
  if (vmm_proxy_fork(dirfd, q->tty, console, exec_request, q, NULL, 0, &p, err) < 0)
    return -1;
  /* The pid file first: the process must not run unless it is written. */
  int r = pid_file ? write_pid_file(pid_file, p.pid, err) : 0;
  r = vmm_proxy_go(&p, r == 0, err);
  if (r < 0 && pid_file)
    unlink(pid_file);
  return r;
}

int vmm_container_exec(const struct nook_exec_opts *o, int *exit_status, nook_error_t *err)
{
  struct exec_req q = {0};
  cleanup_free char *pid_file = absolute_path(o->pid_file);
  cleanup_free char *console = absolute_path(o->console_socket);
  cleanup_close int dirfd = -1;
  *exit_status = 255;
  int r = -1;
  if (build_request(o, &q, err) < 0 || state_dir_open(o->root, o->id, &dirfd, err) < 0)
    goto out;
  /* A pod member's process is asked of its sandbox's monitor. */
  int mon = vmm_pod_monitor_dirfd(o->root, dirfd);
  if (mon >= 0) {
    close(dirfd);
    dirfd = mon;
  }
  if (o->detach) {
    r = exec_detached(dirfd, &q, console, pid_file, err);
    if (r == 0)
      *exit_status = 0;
  } else {
    r = exec_foreground(dirfd, &q, console, exit_status, err);
  }
out:
  req_clear(&q);
  return r;
}
