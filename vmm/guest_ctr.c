#include "guest_ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "../base/utils.h"
#include "channel.h"
#include "guest.h"

#define GUEST_NOOK "/nook"
#define GUEST_STATE_ROOT "/run/nook"
#define GUEST_LOG "/run/nook.log"
#define GUEST_PID_FILE "/run/nook-ctr.pid"

void guest_ctr_init(struct guest_ctr *c)
{
  *c = (struct guest_ctr){.in_fd = -1, .out_fd = -1, .err_fd = -1};
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
  const char *argv[16] = {GUEST_NOOK,     "--root", GUEST_STATE_ROOT, "--log", GUEST_LOG,
                          "--log-format", "json"};
  size_t n = 7;
  for (size_t i = 0; args[i] && n + 1 < ARRAY_SIZE(argv); i++)
    argv[n++] = args[i];
  argv[n] = NULL;
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

int guest_ctr_create(struct guest_ctr *c, const char *id, char **warnings, nook_error_t *err)
{
  if (c->id != NULL)
    return nook_error(err, EEXIST, "the VM already holds container \"%s\"", c->id);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      close_fd(&in[i]);
      close_fd(&out[i]);
      close_fd(&errp[i]);
    }
    return nook_error(err, e, "pipe");
  }
  cleanup_free char *bundle = NULL;
  xasprintf(&bundle, "%s/%s", VMM_GUEST_SHARES_DIR, VMM_CTR_TAG);
  /* --no-pivot: the guest's root is the initramfs (rootfs), which
   * pivot_root cannot move away from; the old root the container could
   * reach by chroot holds only nook and modules, inside the VM. */
  const char *args[] = {"create",     "--no-pivot",   "--bundle", bundle,
                        "--pid-file", GUEST_PID_FILE, id,         NULL};
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
  if (r < 0) {
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&errp[0]);
    return -1;
  }
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(errp[0], F_SETFL, O_NONBLOCK);
  c->in_fd = in[1];
  c->out_fd = out[0];
  c->err_fd = errp[0];
  c->id = xstrdup(id);
  return 0;
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

void guest_ctr_stdin(struct guest_ctr *c, const char *data, size_t len)
{
  if (c->in_fd < 0)
    return;
  /* A container that closed its stdin takes nothing more: drop it. */
  if (len == 0 || safe_write(c->in_fd, data, len) < 0)
    close_fd(&c->in_fd);
}

int guest_ctr_relay(struct guest_ctr *c, int chan, int fd, nook_error_t *err)
{
  static char buf[CHAN_MAX_DATA];
  bool is_out = fd == c->out_fd;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return 0;
    if (n <= 0) {
      close_fd(is_out ? &c->out_fd : &c->err_fd);
      return 0;
    }
    if (chan_send(chan, is_out ? CHAN_STDOUT : CHAN_STDERR, CHAN_PROC_INIT, buf, (size_t)n, err) <
        0)
      return -1;
    if ((size_t)n < sizeof(buf))
      return 0;
  }
}

int guest_ctr_reaped(struct guest_ctr *c, int chan, pid_t pid, int status, nook_error_t *err)
{
  if (c->pid <= 0 || pid != c->pid || c->exited)
    return 0;
  c->exited = true;
  /* What it wrote before it ended goes out before its exit; a descendant
   * that keeps the pipes open does not hold the exit back. */
  if (c->out_fd >= 0 && guest_ctr_relay(c, chan, c->out_fd, err) < 0)
    return -1;
  if (c->err_fd >= 0 && guest_ctr_relay(c, chan, c->err_fd, err) < 0)
    return -1;
  return chan_send(chan, CHAN_EXIT, status, NULL, 0, err);
}
