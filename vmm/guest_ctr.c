#include "guest_ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "../base/utils.h"
#include "../libcontainer/terminal.h"
#include "channel.h"
#include "guest.h"

#define GUEST_NOOK "/nook"
#define GUEST_STATE_ROOT "/run/nook"
#define GUEST_LOG "/run/nook.log"
#define GUEST_PID_FILE "/run/nook-ctr.pid"
#define GUEST_CONSOLE_SOCK "/run/nook-console.sock"

void guest_ctr_init(struct guest_ctr *c)
{
  *c = (struct guest_ctr){.in_fd = -1, .out_fd = -1, .err_fd = -1, .master = -1};
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

/* Run the guest's nook with `args` (after the global options) and stdio
 * in/out/errfd; its failure becomes *err in its own words. */
static int run_nook(const char *const *args, int in, int out, int errfd, char **warnings,
                    nook_error_t *err)
{
  static const char *const global[] = {
      GUEST_NOOK, "--root", GUEST_STATE_ROOT, "--log", GUEST_LOG, "--log-format", "json"};
  size_t n_args = 0;
  while (args[n_args])
    n_args++;
  cleanup_free const char **argv = xcalloc(ARRAY_SIZE(global) + n_args + 1, sizeof(*argv));
  size_t n = 0;
  for (size_t i = 0; i < ARRAY_SIZE(global); i++)
    argv[n++] = global[i];
  for (size_t i = 0; i < n_args; i++)
    argv[n++] = args[i];
  if (truncate(GUEST_LOG, 0) < 0 && errno != ENOENT)
    return nook_error(err, errno, "truncate %s", GUEST_LOG);
  pid_t pid = fork();
  if (pid < 0)
    return nook_error(err, errno, "fork");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
      _exit(127);
    execv(GUEST_NOOK, (char *const *)argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return nook_error(err, errno, "wait for %s %s", GUEST_NOOK, args[0]);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    *warnings = log_messages("warning", false);
    return 0;
  }
  cleanup_free char *said = log_messages("error", true);
  if (said != NULL)
    return nook_error(err, 0, "%s", said);
  return nook_error(err, 0, "%s %s in the guest failed (status %d)", GUEST_NOOK, args[0],
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
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

static void close_pipes(int in[2], int out[2], int errp[2])
{
  for (int i = 0; i < 2; i++) {
    close_fd(&in[i]);
    close_fd(&out[i]);
    close_fd(&errp[i]);
  }
}

/* The console socket the guest nook sends the pty master to. */
static int console_listen(nook_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = GUEST_CONSOLE_SOCK};
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return nook_error(err, errno, "socket");
  unlink(GUEST_CONSOLE_SOCK);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
    return nook_error(err, errno, "listen on %s", GUEST_CONSOLE_SOCK);
  return steal_fd(&fd);
}

static int create(struct guest_ctr *c, const char *id, bool terminal, char **warnings,
                  nook_error_t *err)
{
  if (c->id != NULL)
    return nook_error(err, EEXIST, "the VM already holds container \"%s\"", c->id);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
  cleanup_close int lfd = -1;
  if (terminal) {
    /* The container's stdio is the pty; the guest nook's own is nothing. */
    if ((lfd = console_listen(err)) < 0)
      return -1;
    in[0] = devnull();
    out[1] = devnull();
    errp[1] = devnull();
    if (in[0] < 0 || out[1] < 0 || errp[1] < 0) {
      int e = errno;
      close_pipes(in, out, errp);
      return nook_error(err, e, "open /dev/null");
    }
  } else if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
    int e = errno;
    close_pipes(in, out, errp);
    return nook_error(err, e, "pipe");
  }
  cleanup_free char *bundle = NULL;
  xasprintf(&bundle, "%s/%s", VMM_GUEST_SHARES_DIR, VMM_CTR_TAG);
  /* --no-pivot: the guest's root is the initramfs (rootfs), which
   * pivot_root cannot move away from; the old root the container could
   * reach by chroot holds only nook and modules, inside the VM. */
  const char *args[] = {"create",       "--no-pivot", "--bundle", bundle, "--pid-file",
                        GUEST_PID_FILE, id,           NULL,       NULL,   NULL};
  if (terminal) {
    args[6] = "--console-socket";
    args[7] = GUEST_CONSOLE_SOCK;
    args[8] = id;
  }
  /* The container's init inherits these ends, as it inherits the fds an
   * engine gives `create` on the host. */
  int r = run_nook(args, in[0], out[1], errp[1], warnings, err);
  close_fd(&in[0]);
  close_fd(&out[1]);
  close_fd(&errp[1]);
  cleanup_free char *text = NULL;
  if (r == 0 && read_file_at(AT_FDCWD, GUEST_PID_FILE, &text, NULL, err) < 0)
    r = -1;
  if (r == 0 && (c->pid = (pid_t)strtol(text, NULL, 10)) <= 0)
    r = nook_error(err, 0, "%s: no pid", GUEST_PID_FILE);
  if (r == 0 && terminal) {
    c->master = terminal_receive_from_socket(lfd, GUEST_CONSOLE_SOCK, err);
    if (c->master >= 0 && (in[1] = fcntl(c->master, F_DUPFD_CLOEXEC, 0)) < 0)
      r = nook_error(err, errno, "dup the pty master");
    else if (c->master < 0)
      r = -1;
  }
  if (lfd >= 0)
    unlink(GUEST_CONSOLE_SOCK);
  if (r < 0) {
    close_pipes(in, out, errp);
    close_fd(&c->master);
    return -1;
  }
  /* With a terminal, one stream: the master reads the container's output
   * and takes its input (in_fd is a dup of it, closed at the host's EOF). */
  if (terminal)
    out[0] = c->master;
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  if (errp[0] >= 0)
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
  c->in_fd = in[1];
  c->out_fd = out[0];
  c->err_fd = errp[0];
  c->id = xstrdup(id);
  return 0;
}

int guest_ctr_create(struct guest_ctr *c, const char *id, char **warnings, nook_error_t *err)
{
  return create(c, id, false, warnings, err);
}

int guest_ctr_create_tty(struct guest_ctr *c, const char *id, char **warnings, nook_error_t *err)
{
  return create(c, id, true, warnings, err);
}

int guest_ctr_start(struct guest_ctr *c, char **warnings, nook_error_t *err)
{
  if (c->id == NULL)
    return nook_error(err, ENOENT, "no container in the VM");
  cleanup_close int null = devnull();
  const char *args[] = {"start", c->id, NULL};
  return run_nook(args, null, null, null, warnings, err);
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
  return run_nook(all ? with_all : init_only, null, null, null, warnings, err);
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
  if (run_nook((const char *const *)argv, infd, outfd, null, warnings, err) < 0)
    return -1;
  if (lseek(outfd, 0, SEEK_SET) < 0)
    return nook_error(err, errno, "lseek");
  return read_fd_all(outfd, out, out_len, err);
}

static int ack(int chan, enum chan_type stream, size_t n, nook_error_t *err)
{
  struct chan_ack a = {.stream = stream, .bytes = (uint32_t)n};
  return chan_send(chan, CHAN_ACK, CHAN_PROC_INIT, &a, sizeof(a), err);
}

static void stdin_close(struct guest_ctr *c)
{
  close_fd(&c->in_fd);
  free(c->in_buf);
  c->in_buf = NULL;
  c->in_len = 0;
}

int guest_ctr_stdin_flush(struct guest_ctr *c, int chan, nook_error_t *err)
{
  size_t done = 0;
  while (c->in_fd >= 0 && done < c->in_len) {
    ssize_t w = write(c->in_fd, c->in_buf + done, c->in_len - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == EAGAIN)
      break;
    if (w < 0) {
      /* A container that closed its stdin takes nothing more: the rest
       * is acked (dropped), so the host keeps reading and drops it too. */
      done = c->in_len;
      close_fd(&c->in_fd);
      break;
    }
    done += (size_t)w;
  }
  if (done > 0) {
    memmove(c->in_buf, c->in_buf + done, c->in_len - done);
    c->in_len -= done;
  }
  if (c->in_fd >= 0 && c->in_eof && c->in_len == 0)
    stdin_close(c);
  return done > 0 ? ack(chan, CHAN_STDIN, done, err) : 0;
}

int guest_ctr_stdin(struct guest_ctr *c, int chan, const char *data, size_t len, nook_error_t *err)
{
  if (c->in_fd < 0)
    return len > 0 ? ack(chan, CHAN_STDIN, len, err) : 0;
  if (len == 0) {
    c->in_eof = true;
  } else {
    /* Bounded by the host's window: it sends no more until we ack. */
    if (c->in_len + len > CHAN_WINDOW)
      return nook_error(err, EPROTO, "channel: the host sent stdin past its window");
    if (c->in_buf == NULL)
      c->in_buf = xmalloc(CHAN_WINDOW);
    memcpy(c->in_buf + c->in_len, data, len);
    c->in_len += len;
  }
  return guest_ctr_stdin_flush(c, chan, err);
}

void guest_ctr_ack(struct guest_ctr *c, const struct chan_msg *m)
{
  struct chan_ack a;
  if (m->len != sizeof(a))
    return;
  memcpy(&a, m->data, sizeof(a));
  size_t *left = a.stream == CHAN_STDOUT   ? &c->out_unacked[0]
                 : a.stream == CHAN_STDERR ? &c->out_unacked[1]
                                           : NULL;
  if (left != NULL)
    *left -= a.bytes < *left ? a.bytes : *left;
}

int guest_ctr_out_poll_fd(const struct guest_ctr *c, int i)
{
  if (c->out_unacked[i] >= CHAN_WINDOW)
    return -1;
  return i == 0 ? c->out_fd : c->err_fd;
}

void guest_ctr_winsize(struct guest_ctr *c, const struct winsize *ws)
{
  /* The kernel sends the container's foreground group SIGWINCH. */
  if (c->master >= 0)
    ioctl(c->master, TIOCSWINSZ, ws);
}

/* Read and send what fd holds; with `all` past the window (the container
 * ended: what it left is bounded by the pipe). */
static int relay(struct guest_ctr *c, int chan, int fd, bool all, nook_error_t *err)
{
  static char buf[CHAN_MAX_DATA];
  int i = fd == c->out_fd ? 0 : 1;
  for (;;) {
    size_t room = sizeof(buf);
    if (!all && CHAN_WINDOW - c->out_unacked[i] < room)
      room = CHAN_WINDOW - c->out_unacked[i];
    if (room == 0)
      return 0;
    ssize_t n = read(fd, buf, room);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return 0;
    if (n <= 0) {
      /* EIO from a pty master: every slave is closed. */
      close_fd(i == 0 ? &c->out_fd : &c->err_fd);
      if (i == 0 && c->master >= 0)
        c->master = -1; /* it was out_fd */
      return 0;
    }
    c->out_unacked[i] += (size_t)n;
    if (chan_send(chan, i == 0 ? CHAN_STDOUT : CHAN_STDERR, CHAN_PROC_INIT, buf, (size_t)n, err) <
        0)
      return -1;
    if ((size_t)n < room)
      return 0;
  }
}

int guest_ctr_relay(struct guest_ctr *c, int chan, int fd, nook_error_t *err)
{
  return relay(c, chan, fd, false, err);
}

int guest_ctr_reaped(struct guest_ctr *c, int chan, pid_t pid, int status, nook_error_t *err)
{
  if (c->pid <= 0 || pid != c->pid || c->exited)
    return 0;
  c->exited = true;
  /* What it wrote before it ended goes out before its exit; a descendant
   * that keeps the pipes open does not hold the exit back. */
  if (c->out_fd >= 0 && relay(c, chan, c->out_fd, true, err) < 0)
    return -1;
  if (c->err_fd >= 0 && relay(c, chan, c->err_fd, true, err) < 0)
    return -1;
  return chan_send(chan, CHAN_EXIT, status, NULL, 0, err);
}
