#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "../oci/features.h"
#include "channel.h"
#include "guest.h"
#include "initramfs.h"
#include "kernel.h"
#include "mode.h"
#include "template.h"

/* Debian's kernel with quiet console, no PCI scan, no keyboard controller,
 * no self-tests: the options measured in shared/notes/vm-boot.md. panic=-1
 * with the VMM's no-reboot turns a guest panic (init died) into VMM exit. */
#define GUEST_CMDLINE                                                                              \
  "console=ttyS0 reboot=t panic=-1 tsc=reliable no_timer_check 8250.nr_uarts=1 "                   \
  "cryptomgr.notests random.trust_cpu=on rcupdate.rcu_expedited=1 i8042.noaux i8042.nokbd "        \
  "pci=off quiet loglevel=0"

/* The VMM's control interface answers from its main loop, whatever the
 * guest does: a slow answer is a VMM in trouble. */
#define CONTROL_TIMEOUT_MS 10000

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static char *work_path(const struct vmm_session *s, const char *name)
{
  char *p = NULL;
  xasprintf(&p, "%s/%s", s->work_dir, name);
  return p;
}

/* The last lines of a log the VMM or the guest console wrote, for errors. */
static char *tail_of(const char *path)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_file_at(AT_FDCWD, path, &text, &len, NULL) < 0 || len == 0)
    return NULL;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    text[--len] = '\0';
  const char *start = text;
  int lines = 0;
  for (size_t i = len; i > 0; i--) {
    if (text[i - 1] == '\n' && ++lines == 8) {
      start = text + i;
      break;
    }
  }
  char *out = xstrdup(start);
  for (char *c = out; *c; c++) {
    if (*c == '\r')
      *c = ' ';
  }
  return out;
}

/* Why the VMM ended before the guest said ready. */
static int vmm_gone(struct vmm_session *s, int status, const char *when, nook_error_t *err)
{
  cleanup_free char *log = work_path(s, "vmm.log"), *console = work_path(s, "console.log");
  cleanup_free char *said = tail_of(log), *con = tail_of(console);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return nook_error(err, 0, "%s exited (status %d) %s%s%s%s%s", s->backend->program, code, when,
                    said ? ": " : "", said ? said : "", con ? "; guest console: " : "",
                    con ? con : "");
}

/* Wait until fd is readable or the VMM exits; 1 readable, 0 VMM gone (then
 * *status), -1 timeout or error. */
static int wait_fd_or_vmm(struct vmm_session *s, int fd, int timeout_ms, int *status,
                          const char *what, nook_error_t *err)
{
  double deadline = now_ms() + timeout_ms;
  for (;;) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->vm.pidfd, .events = POLLIN}};
    int left = timeout_ms < 0 ? -1 : (int)(deadline - now_ms());
    if (timeout_ms >= 0 && left < 0)
      left = 0;
    int r = poll(p, 2, left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return nook_error(err, errno, "poll");
    if (r == 0)
      return nook_error(err, ETIMEDOUT, "no %s from the guest after %d ms", what, timeout_ms);
    if (p[0].revents)
      return 1;
    if (s->backend->wait(&s->vm, 0, status, err) < 0)
      return -1;
    return 0;
  }
}

static int listen_channel(struct vmm_session *s, const char *path, nook_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sa.sun_path))
    return nook_error(err, ENAMETOOLONG, "channel socket `%s`", path);
  strcpy(sa.sun_path, path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error(err, errno, "socket");
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
    return nook_error(err, errno, "listen on `%s`", path);
  return steal_fd(&fd);
}

/* The guest init's ready: its kernel's release, its build, its boot marks,
 * a line each.  A guest of another build is refused: the channel's payloads
 * (stats, seccomp cache entries) are in the build's native layout. */
static int read_ready(struct vmm_session *s, const struct chan_msg *msg, nook_error_t *err)
{
  const char *p = msg->data, *end = msg->data + msg->len;
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  s->kernel_release = xstrndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
  p = nl ? nl + 1 : end;
  nl = memchr(p, '\n', (size_t)(end - p));
  size_t blen = nl ? (size_t)(nl - p) : (size_t)(end - p);
  const char *mine = nook_build_id();
  if (blen != strlen(mine) || memcmp(p, mine, blen) != 0)
    return nook_error(err, 0,
                      "the guest's nook is build `%.*s`, not this nook's `%s`: install nook "
                      "and nook-guest from one build",
                      (int)(blen < 64 ? blen : 64), p, mine);
  if (nl != NULL)
    nook_debug("vm: guest boot marks (ms since the guest kernel started): %.*s",
               (int)(end - nl - 1), nl + 1);
  return 0;
}

/* The guest init's next message, of `type` (ready or parked), within the
 * boot's timeout.  *again: the guest init said its kernel has no timer
 * (VMM_GUEST_NO_TIMER), which another boot avoids. */
static int recv_boot(struct vmm_session *s, enum chan_type type, int left_ms, bool *again,
                     struct chan_msg *msg, nook_error_t *err)
{
  int status = 0;
  const char *what = chan_type_name(type);
  int r = wait_fd_or_vmm(s, s->chan, left_ms > 0 ? left_ms : 0, &status, what, err);
  if (r == 0)
    return vmm_gone(s, status, "before the guest was ready", err);
  if (r < 0)
    return -1;
  msg->type = 0;
  if (chan_recv(s->chan, CHAN_BIT(type), msg, err) == 0)
    return 0;
  /* The guest init's own error says why; otherwise the channel closing
   * is usually the VMM ending: its words say why. */
  if (msg->type == CHAN_ERROR) {
    *again = (*err)->status == VMM_GUEST_NO_TIMER;
    return nook_error_wrap(err, "guest init");
  }
  if (s->backend->wait(&s->vm, 2000, &status, NULL) == 0)
    return vmm_gone(s, status, "before the guest was ready", err);
  return nook_error_wrap(err, "guest init");
}

/* What every VM restored from one template must not share (channel.h). */
static int send_unpark(struct vmm_session *s, nook_error_t *err)
{
  struct chan_unpark u = {0};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  u.realtime_sec = now.tv_sec;
  u.realtime_nsec = now.tv_nsec;
  if (getrandom(u.seed, sizeof(u.seed), 0) != (ssize_t)sizeof(u.seed))
    return nook_error(err, errno, "getrandom");
  int r = chan_send(s->chan, CHAN_UNPARK, 0, &u, sizeof(u), err);
  explicit_bzero(&u, sizeof(u));
  return r;
}

/* The parked guest saved as the template of `key`, unless a concurrent
 * boot made it meanwhile (replace: the one there would not load).  A save
 * that did not work costs this VM nothing but the time: the reason goes to
 * the debug log. */
static int make_template(const struct vmm_session_opts *o, struct vmm_session *s, const char *key,
                         bool replace, nook_error_t *err)
{
  cleanup_free char *why = NULL, *tmp = NULL, *not_saved = NULL;
  int have = replace ? -1 : vmm_template_open(o->template_dir, key, &why);
  if (have >= 0) {
    close(have);
    return 0;
  }
  nook_error_t e = NULL;
  cleanup_close int fd = vmm_template_create(o->template_dir, key, &tmp, &e);
  if (fd < 0) {
    nook_debug("vm: no template: %s", e->msg);
    nook_error_free(&e);
    return 0;
  }
  double t0 = now_ms();
  if (s->backend->save(s->ctl, fd, CONTROL_TIMEOUT_MS * 3, &not_saved, err) < 0) {
    vmm_template_discard(tmp);
    return -1;
  }
  if (not_saved == NULL && vmm_template_install(o->template_dir, key, tmp, &e) < 0) {
    not_saved = xstrdup(e->msg);
    nook_error_free(&e);
  }
  if (not_saved != NULL) {
    vmm_template_discard(tmp);
    nook_debug("vm: template not saved: %s", not_saved);
  } else {
    nook_debug("vm: template %.12s saved in %.0f ms", key, now_ms() - t0);
  }
  return 0;
}

/* One launch up to the guest's ready.  *again: the guest init said its
 * kernel has no timer (VMM_GUEST_NO_TIMER), which another boot avoids.
 * *restore_failed: a template would not load; booting does. */
static int boot_once(const struct vmm_session_opts *o, struct vmm_session *s, bool may_restore,
                     bool *again, bool *restore_failed, nook_error_t *err)
{
  *s = (struct vmm_session){.chan = -1, .ctl = -1, .vm = {.pidfd = -1}};
  s->backend = vmm_backend_find(o->backend ? o->backend : "qemu");
  if (s->backend == NULL)
    return nook_error(err, 0, "no VM backend `%s`", o->backend);
  cleanup_free char *bundle = NULL, *initrd = NULL, *kernel = NULL;
  cleanup_free char *sock = NULL, *console = NULL, *log = NULL, *ctl_sock = NULL;
  cleanup_close int lfd = -1, ctl_lfd = -1;
  cleanup_close int logfd = -1, tfd = -1;
  char key[VMM_TEMPLATE_KEY_LEN + 1] = "";
  struct chan_msg *msg = NULL;
  bool restoring = false;
  int status = 0, r;
  /* The debug lines of a boot mark its phases with the log's timestamps
   * (bench/run's VM-mode breakdown reads them). */
  if (vmm_kernel_bundle(o->kernel_bundle, &bundle, err) < 0)
    return -1;
  nook_debug("vm: kernel bundle `%s`", bundle);
  unsigned needs = o->needs | (o->disk != NULL ? VMM_NEED_DISK : 0);
  if (vmm_initramfs(bundle, o->cache_dir, needs, &initrd, err) < 0)
    return -1;
  nook_debug("vm: initramfs `%s`", initrd);
  xasprintf(&kernel, "%s/vmlinux", bundle);

  if (mkdir_p(o->work_parent, 0700, err) < 0)
    return -1;
  xasprintf(&s->work_dir, "%s/vm-XXXXXX", o->work_parent);
  if (mkdtemp(s->work_dir) == NULL) {
    int e = errno;
    free(steal_pointer(&s->work_dir));
    return nook_error(err, e, "mkdtemp under `%s`", o->work_parent);
  }
  sock = work_path(s, "chan.sock");
  console = work_path(s, "console.log");
  log = work_path(s, "vmm.log");
  lfd = listen_channel(s, sock, err);
  if (lfd < 0)
    goto fail;
  if (o->control) {
    if (s->backend->control_open == NULL) {
      nook_error(err, ENOTSUP, "the %s backend has no control interface", s->backend->name);
      goto fail;
    }
    ctl_sock = work_path(s, "ctl.sock");
    if ((ctl_lfd = listen_channel(s, ctl_sock, err)) < 0)
      goto fail;
  }
  logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (logfd < 0) {
    nook_error(err, errno, "create `%s`", log);
    goto fail;
  }
  struct vmm_spec spec = {
      .kernel = kernel,
      .initrd = initrd,
      .cmdline = GUEST_CMDLINE,
      .vcpus = o->vcpus ? o->vcpus : VMM_DEFAULT_VCPUS,
      .mem_mib = o->mem_mib ? o->mem_mib : VMM_DEFAULT_MEM_MIB,
      .shares = o->shares,
      .nshares = o->nshares,
      .disk = o->disk,
      .disk_format = o->disk_format,
      .channel_socket = sock,
      .control_socket = ctl_sock,
      .console_path = console,
      .accel = o->accel == VMM_ACCEL_AUTO ? vmm_detect_accel() : o->accel,
      .tsc_khz = vmm_host_tsc_khz(),
      .sandbox = true,
      .confine = o->confine,
      .has_net = o->has_net,
      .net_fd = o->net_fd,
  };
  const struct vmm_spec *set = o->settings;
  if (set != NULL) {
    spec.vcpus = set->vcpus ? set->vcpus : spec.vcpus;
    spec.mem_mib = set->mem_mib ? set->mem_mib : spec.mem_mib;
    spec.program = set->program;
    spec.vmm_args = set->vmm_args;
    spec.kernel_args = set->kernel_args;
    if (set->kernel != NULL)
      spec.kernel = set->kernel;
  }
  /* Templates: not with a disk (the guest has read the template's disk
   * into its caches by the time it parks), nor without the VMM's control
   * interface, which saves and restores. */
  bool templated = o->template_dir != NULL && o->disk == NULL && o->control &&
                   s->backend->save != NULL && s->backend->restored != NULL;
  if (templated) {
    spec.cmdline = GUEST_CMDLINE " " VMM_GUEST_PARK_ARG;
    nook_error_t e = NULL;
    cleanup_free char *why = NULL;
    if (vmm_template_key(s->backend, &spec, key, &e) < 0) {
      nook_debug("vm: no template: %s", e->msg);
      nook_error_free(&e);
      spec.cmdline = GUEST_CMDLINE;
      templated = false;
    } else if (may_restore && (tfd = vmm_template_open(o->template_dir, key, &why)) < 0 &&
               why != NULL) {
      nook_debug("vm: template %.12s: %s", key, why);
    }
  }
  spec.restore = tfd >= 0;
  spec.restore_fd = tfd;
  restoring = spec.restore;
  double start = now_ms();
  if (s->backend->launch(&spec, logfd, &s->vm, err) < 0)
    goto fail;
  if (spec.restore)
    nook_debug("vm: restoring template %.12s", key);
  int timeout = o->boot_timeout_ms > 0 ? o->boot_timeout_ms : 120000;
  r = wait_fd_or_vmm(s, lfd, timeout, &status, "connection", err);
  if (r == 0)
    vmm_gone(s, status, "before connecting the channel", err);
  if (r <= 0)
    goto fail;
  s->chan = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (s->chan < 0) {
    nook_error(err, errno, "accept the channel");
    goto fail;
  }
  nook_debug("vm: channel connected");
  if (ctl_lfd >= 0) {
    /* The VMM connects both sockets as it starts, before the guest runs. */
    int left_ms = (int)(timeout - (now_ms() - start));
    r = wait_fd_or_vmm(s, ctl_lfd, left_ms > 0 ? left_ms : 0, &status, "control connection", err);
    if (r == 0)
      vmm_gone(s, status, "before connecting its control socket", err);
    if (r <= 0)
      goto fail;
    s->ctl = accept4(ctl_lfd, NULL, NULL, SOCK_CLOEXEC);
    if (s->ctl < 0) {
      nook_error(err, errno, "accept the control connection");
      goto fail;
    }
    if (s->backend->control_open(s->ctl, CONTROL_TIMEOUT_MS, err) < 0)
      goto fail;
  }
  msg = xmalloc(sizeof(*msg));
  if (spec.restore) {
    if (s->backend->restored(s->ctl, timeout, err) < 0)
      goto fail;
    nook_debug("vm: template restored %.0f ms after launch", now_ms() - start);
  } else if (templated) {
    if (recv_boot(s, CHAN_PARKED, (int)(timeout - (now_ms() - start)), again, msg, err) < 0)
      goto fail;
    nook_debug("vm: guest parked %.0f ms after launch", now_ms() - start);
    if (make_template(o, s, key, !may_restore, err) < 0)
      goto fail;
  }
  if (templated && send_unpark(s, err) < 0)
    goto fail;
  if (recv_boot(s, CHAN_READY, (int)(timeout - (now_ms() - start)), again, msg, err) < 0 ||
      read_ready(s, msg, err) < 0)
    goto fail;
  restoring = false;
  free(steal_pointer(&msg));
  s->ready_ms = now_ms() - start;
  nook_debug("vm: guest ready (kernel %s) %.0f ms after launch", s->kernel_release, s->ready_ms);
  return 0;
fail:
  /* QEMU ends on a state it cannot load, whichever step notices, and a
   * restored guest that does not come up to its ready is no better: boot
   * instead (a failure of the guest's own, a share it cannot mount, comes
   * back from the boot too). */
  if (restoring) {
    *restore_failed = true;
    nook_error_wrap(err, "restore template %.12s", key);
  }
  free(msg);
  vmm_session_destroy(s);
  return -1;
}

/* A guest kernel without a timer is the boot's bad luck, not the config's:
 * booted again, a few times. */
#define BOOT_ATTEMPTS 3

int vmm_session_boot(const struct vmm_session_opts *o, struct vmm_session *s, nook_error_t *err)
{
  bool may_restore = true;
  for (int attempt = 1;; attempt++) {
    bool again = false, restore_failed = false;
    if (boot_once(o, s, may_restore, &again, &restore_failed, err) == 0)
      return 0;
    if (restore_failed && may_restore) {
      nook_debug("vm: %s: booting instead", (*err)->msg);
      nook_error_free(err);
      may_restore = false;
      attempt--;
      continue;
    }
    if (!again || attempt == BOOT_ATTEMPTS)
      return -1;
    nook_debug("vm: boot %d of %d: %s: booting again", attempt, BOOT_ATTEMPTS, (*err)->msg);
    nook_error_free(err);
  }
}

static int write_all(int fd, const char *data, size_t len, const char *what, nook_error_t *err)
{
  if (fd >= 0 && safe_write(fd, data, len) < 0)
    return nook_error(err, errno, "write the guest process's %s", what);
  return 0;
}

/* A signal read from the signalfd goes to the guest's process. */
static int forward_signal(struct vmm_session *s, int sigfd, nook_error_t *err)
{
  struct signalfd_siginfo si;
  ssize_t n = read(sigfd, &si, sizeof(si));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n != (ssize_t)sizeof(si))
    return nook_error(err, errno, "read the signalfd");
  return chan_send(s->chan, CHAN_SIGNAL, (int32_t)si.ssi_signo, NULL, 0, err);
}

int vmm_session_exec(struct vmm_session *s, const struct chan_exec *e, int out_fd, int err_fd,
                     int sigfd, int *status, nook_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (chan_exec_encode(e, &buf, &len, err) < 0)
    return -1;
  if (chan_send(s->chan, CHAN_EXEC, 0, buf, len, err) < 0)
    return -1;
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  int r;
  for (;;) {
    if (sigfd >= 0) {
      struct pollfd p[2] = {{.fd = s->chan, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR)
          continue;
        r = nook_error(err, errno, "poll");
        break;
      }
      if (p[1].revents && (r = forward_signal(s, sigfd, err)) < 0)
        break;
      if (p[0].revents == 0)
        continue;
    }
    r = chan_recv(s->chan, CHAN_BIT(CHAN_STDOUT) | CHAN_BIT(CHAN_STDERR) | CHAN_BIT(CHAN_EXIT), msg,
                  err);
    if (r < 0)
      break;
    if (msg->type == CHAN_EXIT) {
      *status = WIFEXITED(msg->value) ? WEXITSTATUS(msg->value) : 128 + WTERMSIG(msg->value);
      nook_debug("vm: guest process exited, status %d", *status);
      break;
    }
    bool out = msg->type == CHAN_STDOUT;
    r = write_all(out ? out_fd : err_fd, msg->data, msg->len, out ? "stdout" : "stderr", err);
    if (r < 0)
      break;
  }
  free(msg);
  return r;
}

int vmm_session_vcpus_run(struct vmm_session *s, bool run, nook_error_t *err)
{
  if (s->ctl < 0)
    return nook_error(err, ENOTSUP, "the VM has no control connection");
  return s->backend->vcpus_run(s->ctl, run, CONTROL_TIMEOUT_MS, err);
}

int vmm_session_poweroff(struct vmm_session *s, int timeout_ms, nook_error_t *err)
{
  if (s->vm.pid <= 0)
    return 0;
  if (chan_send(s->chan, CHAN_POWEROFF, 0, NULL, 0, err) < 0)
    return -1;
  int status;
  int r = s->backend->wait(&s->vm, timeout_ms, &status, err);
  if (r < 0)
    return -1;
  if (r == 1) {
    s->backend->kill(&s->vm);
    return nook_error(err, ETIMEDOUT, "the guest did not power off within %d ms", timeout_ms);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return nook_error(err, 0, "%s exited with status %d at power-off", s->backend->program,
                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  nook_debug("vm: powered off");
  return 0;
}

void vmm_session_destroy(struct vmm_session *s)
{
  if (s->vm.pid > 0)
    s->backend->kill(&s->vm);
  if (s->chan >= 0)
    close(s->chan);
  s->chan = -1;
  if (s->ctl >= 0)
    close(s->ctl);
  s->ctl = -1;
  if (s->work_dir != NULL) {
    static const char *const files[] = {"chan.sock", "ctl.sock", "console.log", "vmm.log"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
      cleanup_free char *p = work_path(s, files[i]);
      unlink(p);
    }
    rmdir(s->work_dir);
  }
  free(steal_pointer(&s->work_dir));
  free(steal_pointer(&s->kernel_release));
}
