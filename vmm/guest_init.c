#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/random.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../oci/features.h"
#include "channel.h"
#include "guest.h"
#include "guest_ctr.h"
#include "initramfs.h"
#include "stats_wire.h"
#include "vmm.h"

/* The port shows up a few ms after virtio_console loads (vm-boot.md). */
#define PORT_WAIT_MS 5000

bool vmm_guest_is_init(const char *argv0)
{
  return getpid() == 1 && argv0 != NULL && strcmp(argv0, "/init") == 0;
}

__attribute__((noreturn)) static void power_off(void)
{
  sync();
  reboot(RB_POWER_OFF);
  /* reboot() only returns on failure; PID 1 exiting panics the kernel,
   * which (panic=-1, QEMU's -no-reboot) ends the VM too. */
  _exit(1);
}

/* A timer must fire.  microvm has no PIT or HPET, so the kernel's one timer
 * is the local APIC's, calibrated against the TSC at boot; under TCG on a
 * busy host that calibration can fail, and the kernel then runs without a
 * timer: the clock reads fine, but every sleep and timeout in the guest
 * hangs.  Seen here: `sleep 0.1` never returned, /proc/interrupts had no
 * local timer interrupt.  A timer armed for 1 ms is waited for by reading
 * the clock, up to a second; the host boots again on this error
 * (VMM_GUEST_NO_TIMER, session.c). */
static int check_timer(nook_error_t *err)
{
  cleanup_close int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (tfd < 0)
    return nook_error(err, errno, "timerfd_create");
  struct itimerspec its = {.it_value = {.tv_nsec = 1000000}};
  if (timerfd_settime(tfd, 0, &its, NULL) < 0)
    return nook_error(err, errno, "timerfd_settime");
  long long start = monotonic_ns();
  uint64_t n;
  while (read(tfd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
    if (monotonic_ns() - start > 1000000000LL)
      return nook_error(err, VMM_GUEST_NO_TIMER,
                        "the guest kernel has no working timer (a 1 ms timer did not fire in 1 s; "
                        "its local APIC timer calibration failed, as it can under TCG on a busy "
                        "host)");
  }
  return 0;
}

/* Guest-side times of the boot's steps, in ms since the kernel started
 * (CLOCK_BOOTTIME), sent after the kernel release in the ready message: the
 * host's --debug log then shows where the guest's part of a boot goes. */
struct boot_marks {
  char text[1024];
  size_t len;
};

static void boot_mark(struct boot_marks *b, const char *what)
{
  struct timespec t;
  if (b == NULL || clock_gettime(CLOCK_BOOTTIME, &t) < 0 || b->len >= sizeof(b->text))
    return;
  int n = snprintf(b->text + b->len, sizeof(b->text) - b->len, "%s%s=%.1f", b->len ? " " : "", what,
                   (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6);
  if (n > 0)
    b->len = b->len + (size_t)n < sizeof(b->text) ? b->len + (size_t)n : sizeof(b->text) - 1;
}

static int mount_basics(nook_error_t *err)
{
  static const struct {
    const char *fs, *dir, *opts;
    unsigned long flags;
  } m[] = {
      {"proc", "/proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
      {"sysfs", "/sys", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
      {"devtmpfs", "/dev", "mode=0755", MS_NOSUID},
      {"tmpfs", "/run", "mode=0755", MS_NOSUID | MS_NODEV},
      {"tmpfs", "/tmp", "mode=1777", MS_NOSUID | MS_NODEV},
  };
  for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
    if (mount(m[i].fs, m[i].dir, m[i].fs, m[i].flags, m[i].opts) < 0 && errno != EBUSY)
      return nook_error(err, errno, "mount %s on %s", m[i].fs, m[i].dir);
  }
  return 0;
}

static int load_modules(struct boot_marks *b, nook_error_t *err)
{
  cleanup_free char *list = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, "/" VMM_GUEST_MODULES_LOAD, &list, &len, err) < 0)
    return -1;
  for (char *save = NULL, *m = strtok_r(list, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
    cleanup_free char *path = NULL;
    xasprintf(&path, "/%s/%s", VMM_GUEST_MODULES_DIR, m);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return nook_error(err, errno, "open module `%s`", path);
    /* Built in after all (another kernel config) is as good as loaded. */
    if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
      return nook_error(err, errno, "load module `%s`", m);
    boot_mark(b, m);
  }
  return 0;
}

/* The /dev node of the virtio-console port called `name`, or NULL. */
static char *find_port(const char *name)
{
  DIR *d = opendir("/sys/class/virtio-ports");
  if (d == NULL)
    return NULL;
  char *found = NULL;
  struct dirent *de;
  while (found == NULL && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    cleanup_free char *p = NULL, *text = NULL;
    size_t len;
    xasprintf(&p, "/sys/class/virtio-ports/%s/name", de->d_name);
    if (read_file_at(AT_FDCWD, p, &text, &len, NULL) < 0)
      continue;
    text[strcspn(text, "\n")] = '\0';
    if (strcmp(text, name) == 0)
      xasprintf(&found, "/dev/%s", de->d_name);
  }
  closedir(d);
  return found;
}

/* A socket on the kernel's uevents, or -1.  The port's name reaches sysfs
 * in a "change" uevent of its device, after its "add": waiting on these
 * wakes the guest init as soon as the port is usable, without polling. */
static int uevent_socket(void)
{
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
  if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static int open_channel(nook_error_t *err)
{
  /* Bound before the first look: an event after it is not missed. */
  cleanup_close int ev = uevent_socket();
  long long start = monotonic_ns();
  for (;;) {
    int waited = (int)((monotonic_ns() - start) / 1000000);
    int retry_ms = -1;
    cleanup_free char *dev = find_port(VMM_CHANNEL_NAME);
    if (dev != NULL) {
      int fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
      if (fd >= 0)
        return fd;
      if (errno != ENOENT || waited >= PORT_WAIT_MS)
        return nook_error(err, errno, "open the channel port `%s`", dev);
      /* Named, but its node not there yet: no event says when it is. */
      retry_ms = 5;
    } else if (waited >= PORT_WAIT_MS) {
      return nook_error(err, ENODEV, "no virtio port named `%s` after %d ms", VMM_CHANNEL_NAME,
                        PORT_WAIT_MS);
    }
    int left = PORT_WAIT_MS - waited;
    if (ev < 0)
      retry_ms = 5;
    if (retry_ms >= 0 && retry_ms < left)
      left = retry_ms;
    if (ev < 0 || retry_ms >= 0) {
      nanosleep(&(struct timespec){.tv_nsec = (long)left * 1000 * 1000}, NULL);
      continue;
    }
    struct pollfd p = {.fd = ev, .events = POLLIN};
    if (poll(&p, 1, left) < 0 && errno != EINTR)
      return nook_error(err, errno, "poll the uevent socket");
    /* Which event it was does not matter: the port is looked up again. */
    char buf[4096];
    for (;;) {
      ssize_t n = recv(ev, buf, sizeof(buf), 0);
      if (n <= 0 && !(n < 0 && errno == ENOBUFS))
        break;
    }
  }
}

/* Every 9p share at VMM_GUEST_SHARES_DIR/TAG. */
static int mount_shares(nook_error_t *err)
{
  static const char drv[] = "/sys/bus/virtio/drivers/9pnet_virtio";
  DIR *d = opendir(drv);
  if (d == NULL)
    return errno == ENOENT ? 0 : nook_error(err, errno, "open %s", drv);
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (!has_prefix(de->d_name, "virtio"))
      continue;
    cleanup_free char *p = NULL, *tag = NULL, *dir = NULL;
    size_t len;
    xasprintf(&p, "%s/%s/mount_tag", drv, de->d_name);
    if (read_file_at(AT_FDCWD, p, &tag, &len, NULL) < 0)
      continue;
    tag[strcspn(tag, "\n")] = '\0';
    if (tag[0] == '\0' || strchr(tag, '/') != NULL || tag[0] == '.')
      continue;
    xasprintf(&dir, "%s/%s", VMM_GUEST_SHARES_DIR, tag);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
      r = nook_error(err, errno, "mkdir %s", dir);
    /* msize: 9p's default 8 KiB turns every read into many round trips. */
    else if (mount(tag, dir, "9p", MS_NOSUID | MS_NODEV,
                   "trans=virtio,version=9p2000.L,msize=512000,cache=loose") < 0)
      r = nook_error(err, errno, "mount the 9p share `%s` on %s", tag, dir);
  }
  closedir(d);
  return r;
}

/* The first virtio-blk disk's name (vda), or NULL when there is none. */
static char *find_disk(void)
{
  static const char drv[] = "/sys/bus/virtio/drivers/virtio_blk";
  DIR *d = opendir(drv);
  if (d == NULL)
    return NULL;
  char *found = NULL;
  struct dirent *de;
  while (found == NULL && (de = readdir(d)) != NULL) {
    if (!has_prefix(de->d_name, "virtio"))
      continue;
    cleanup_free char *p = NULL;
    xasprintf(&p, "%s/%s/block", drv, de->d_name);
    DIR *b = opendir(p);
    struct dirent *be;
    while (b != NULL && found == NULL && (be = readdir(b)) != NULL) {
      if (be->d_name[0] != '.')
        found = xstrdup(be->d_name);
    }
    if (b != NULL)
      closedir(b);
  }
  closedir(d);
  return found;
}

/* vm.image: the disk at VMM_GUEST_DISK_DIR, as ext4: its first partition
 * when it has a partition table, else the whole disk. */
static int mount_disk(nook_error_t *err)
{
  cleanup_free char *name = find_disk();
  if (name == NULL)
    return 0;
  cleanup_free char *part = NULL, *dev = NULL;
  xasprintf(&part, "/sys/block/%s/%s1", name, name);
  if (access(part, F_OK) == 0)
    xasprintf(&dev, "/dev/%s1", name);
  else
    xasprintf(&dev, "/dev/%s", name);
  if (mkdir(VMM_GUEST_DISK_DIR, 0755) < 0 && errno != EEXIST)
    return nook_error(err, errno, "mkdir %s", VMM_GUEST_DISK_DIR);
  if (mount(dev, VMM_GUEST_DISK_DIR, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
    return nook_error(err, errno,
                      "vm.image: mount %s as ext4 (the image must hold an ext4 filesystem, on "
                      "the whole disk or its first partition)",
                      dev);
  return 0;
}

static int mount_cgroup2(nook_error_t *err)
{
  if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "nsdelegate") < 0)
    return nook_error(err, errno, "mount cgroup2 on /sys/fs/cgroup");
  return 0;
}

/* Forward what fd holds as `type` messages; 0 at EOF, 1 when more may come. */
static int relay(int fd, int chan, enum chan_type type, char *buf, size_t size, nook_error_t *err)
{
  ssize_t n = read(fd, buf, size);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 1;
  if (n <= 0)
    return 0;
  return chan_send(chan, type, 0, buf, (size_t)n, err) < 0 ? -1 : 1;
}

/* Run the requested process with stdin /dev/null, stdout and stderr
 * relayed to the host, then report its status.  A process that cannot start
 * is reported as an error naming it, as in namespace mode. */
static int serve_exec(int chan, const struct chan_msg *req, nook_error_t *err)
{
  struct chan_exec e;
  cleanup_free char **env = NULL, **argv = NULL;
  if (chan_exec_decode(req->data, req->len, &e, &env, &argv, err) < 0)
    return -1;
  int out[2], errp[2], status_pipe[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(status_pipe, O_CLOEXEC) < 0)
    return nook_error(err, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0)
    return nook_error(err, errno, "fork");
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    bool in_root = strcmp(e.root, "/") == 0 || (chdir(e.root) == 0 && chroot(".") == 0);
    /* The name is looked up in the process's own PATH, as in namespace
     * mode: execvp reads it from environ. */
    if (null >= 0 && dup2(null, 0) >= 0 && dup2(out[1], 1) >= 0 && dup2(errp[1], 2) >= 0 &&
        setsid() >= 0 && in_root && chdir(e.cwd) == 0) {
      environ = env;
      execvp(argv[0], argv);
    }
    int en = errno;
    if (write(status_pipe[1], &en, sizeof(en)) < 0)
      _exit(126);
    _exit(127);
  }
  close(out[1]);
  close(errp[1]);
  close(status_pipe[1]);
  int child_errno = 0;
  ssize_t got = read(status_pipe[0], &child_errno, sizeof(child_errno));
  close(status_pipe[0]);
  int r = 0;
  if (got == (ssize_t)sizeof(child_errno)) {
    r = nook_error(err, child_errno, "exec `%s`", argv[0]);
  } else {
    char *buf = xmalloc(CHAN_MAX_DATA);
    struct chan_msg *sig = xmalloc(sizeof(*sig));
    struct pollfd p[3] = {{.fd = out[0], .events = POLLIN},
                          {.fd = errp[0], .events = POLLIN},
                          {.fd = chan, .events = POLLIN}};
    while (r >= 0 && (p[0].fd >= 0 || p[1].fd >= 0)) {
      if (poll(p, 3, -1) < 0) {
        if (errno == EINTR)
          continue;
        r = nook_error(err, errno, "poll");
        break;
      }
      for (int i = 0; i < 2 && r >= 0; i++) {
        if (p[i].fd < 0 || p[i].revents == 0)
          continue;
        r = relay(p[i].fd, chan, i == 0 ? CHAN_STDOUT : CHAN_STDERR, buf, CHAN_MAX_DATA, err);
        if (r == 0)
          p[i].fd = -1;
      }
      /* While the process runs, the host may only forward signals. */
      if (r >= 0 && p[2].revents) {
        r = chan_recv(chan, CHAN_BIT(CHAN_SIGNAL), sig, err);
        if (r >= 0 && kill(pid, sig->value) < 0 && errno != ESRCH)
          r = nook_error(err, errno, "forward signal %d", sig->value);
      }
    }
    free(sig);
    free(buf);
  }
  close(out[0]);
  close(errp[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  /* Orphans of the process are ours now (we are PID 1): reap them. */
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
  if (r < 0)
    return -1;
  return chan_send(chan, CHAN_EXIT, status, NULL, 0, err);
}

/* CHAN_CREATE's config after the id's NUL, or NULL when the host sent none
 * (the share's file is then read). */
static const char *create_config(const struct chan_msg *m)
{
  size_t id_len = strlen(m->data) + 1;
  return id_len < m->len ? m->data + id_len : NULL;
}

/* One lifecycle request of the host's monitor, answered OK or ERROR. */
static int serve_ctr(struct guest_ctr *c, int chan, const struct chan_msg *m, nook_error_t *err)
{
  nook_error_t req_err = NULL;
  cleanup_free char *warnings = NULL;
  int r, value = 0;
  switch (m->type) {
  case CHAN_NET:
    r = guest_ctr_network(c, m->data, &req_err);
    break;
  case CHAN_CREATE:
    r = guest_ctr_create(c, m->data, create_config(m), m->value, &warnings, &req_err);
    value = c->procs[0]->pid;
    break;
  case CHAN_START:
    r = guest_ctr_start(c, &warnings, &req_err);
    break;
  default: /* CHAN_KILL */
    r = guest_ctr_kill(c, m->value, strcmp(m->data, "all") == 0, &warnings, &req_err);
    break;
  }
  if (r < 0) {
    chan_send_error(chan, req_err);
    nook_error_free(&req_err);
    return 0;
  }
  /* The guest nook's warnings become the host CLI's. */
  size_t n = warnings ? strlen(warnings) : 0;
  return chan_send(chan, CHAN_OK, value, warnings, n > CHAN_MAX_DATA ? CHAN_MAX_DATA : n, err);
}

/* CHAN_NOOK: the guest nook on the container; the answer carries its
 * warnings and its stdout, or its error. */
static int serve_nook(struct guest_ctr *c, int chan, const struct chan_msg *m, nook_error_t *err)
{
  nook_error_t req_err = NULL;
  struct chan_nook n;
  cleanup_free char **argv = NULL;
  cleanup_free char *out = NULL, *warnings = NULL, *reply = NULL;
  size_t out_len = 0, w_len = 0;
  int r = chan_nook_decode(m->data, m->len, &n, &argv, &req_err);
  if (r == 0)
    r = guest_ctr_nook(c, n.argv, n.in, n.in_len, &out, &out_len, &warnings, &req_err);
  if (r == 0) {
    w_len = warnings ? strlen(warnings) : 0;
    if (w_len + 1 + out_len > CHAN_MAX_DATA)
      r = nook_error(&req_err, EMSGSIZE, "the output of `nook %s` in the guest exceeds %d bytes",
                     n.argv[0], CHAN_MAX_DATA - 1);
  }
  if (r < 0) {
    chan_send_error(chan, req_err);
    nook_error_free(&req_err);
    return 0;
  }
  reply = xmalloc(w_len + 1 + out_len);
  if (w_len > 0)
    memcpy(reply, warnings, w_len);
  reply[w_len] = '\0';
  if (out_len > 0)
    memcpy(reply + w_len + 1, out, out_len);
  return chan_send(chan, CHAN_OK, 0, reply, w_len + 1 + out_len, err);
}

/* CHAN_STATS: answered OK with the figures (stats_wire.h), or the error. */
static int serve_stats(struct guest_ctr *c, int chan, const struct chan_msg *m, nook_error_t *err)
{
  nook_error_t req_err = NULL;
  struct cgroup_stats s = {0};
  cleanup_free char *buf = NULL;
  size_t len = 0;
  int r = guest_ctr_stats(c, m->len > 0 ? m->data : NULL, &s, &req_err);
  if (r == 0)
    stats_wire_encode(&s, &buf, &len);
  cgroup_stats_clear(&s);
  if (r == 0 && len > CHAN_MAX_DATA)
    r = nook_error(&req_err, EMSGSIZE, "the container's stats exceed %d bytes", CHAN_MAX_DATA);
  if (r < 0) {
    chan_send_error(chan, req_err);
    nook_error_free(&req_err);
    return 0;
  }
  return chan_send(chan, CHAN_OK, 0, buf, len, err);
}

/* Children that ended: the container's init is reported, the rest (the
 * orphans PID 1 inherits) only reaped. */
static int reap(struct guest_ctr *c, int chan, nook_error_t *err)
{
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (guest_ctr_reaped(c, chan, pid, status, err) < 0)
      return -1;
  }
  return 0;
}

/* CHAN_CTR_EXEC and CHAN_MEMBER: answered OK with the process's guest
 * pid, or the guest nook's error. */
static int serve_ctr_exec(struct guest_ctr *c, int chan, const struct chan_msg *m,
                          nook_error_t *err)
{
  nook_error_t req_err = NULL;
  cleanup_free char *warnings = NULL;
  pid_t pid = 0;
  int r = m->type == CHAN_MEMBER ? guest_ctr_member(c, m, &pid, &warnings, &req_err)
                                 : guest_ctr_exec(c, m->data, m->len, &pid, &warnings, &req_err);
  if (r < 0) {
    chan_send_error(chan, req_err);
    nook_error_free(&req_err);
    return 0;
  }
  size_t n = warnings ? strlen(warnings) : 0;
  return chan_send(chan, CHAN_OK, pid, warnings, n > CHAN_MAX_DATA ? CHAN_MAX_DATA : n, err);
}

/* Stdio frames and signals for one of the container's processes; one that
 * ended meanwhile gets nothing (the host learns of its exit). */
static int serve_proc(struct guest_ctr *c, int chan, const struct chan_msg *m, nook_error_t *err)
{
  if (m->type == CHAN_SIGNAL) {
    /* The init is signalled by `nook kill` (CHAN_KILL). */
    int32_t id = chan_proc_of(m);
    if (id != CHAN_PROC_INIT)
      guest_ctr_signal(c, id, m->value);
    return 0;
  }
  struct guest_proc *p = guest_ctr_proc(c, m->value);
  if (p == NULL)
    return 0;
  if (m->type == CHAN_STDIN)
    return guest_proc_stdin(p, chan, m->data, m->len, err);
  if (m->type == CHAN_ACK) {
    guest_proc_ack(p, m);
  } else {
    struct winsize ws;
    if (m->len == sizeof(ws)) {
      memcpy(&ws, m->data, sizeof(ws));
      guest_proc_winsize(p, &ws);
    }
  }
  return 0;
}

/* Each process's output (within the host's window) and queued stdin. */
#define PROC_NPOLL 3

static struct pollfd *proc_pollfds(const struct guest_ctr *c, struct pollfd *p, size_t *cap)
{
  size_t need = 2 + PROC_NPOLL * c->n_procs;
  if (need > *cap) {
    *cap = need;
    p = xrealloc(p, need * sizeof(*p));
  }
  for (size_t i = 0; i < c->n_procs; i++) {
    const struct guest_proc *pr = c->procs[i];
    struct pollfd *q = p + 2 + PROC_NPOLL * i;
    q[0] = (struct pollfd){.fd = guest_proc_out_poll_fd(pr, 0), .events = POLLIN};
    q[1] = (struct pollfd){.fd = guest_proc_out_poll_fd(pr, 1), .events = POLLIN};
    q[2] = (struct pollfd){.fd = guest_proc_in_poll_fd(pr), .events = POLLOUT};
  }
  return p;
}

static int proc_events(struct guest_ctr *c, int chan, const struct pollfd *p, size_t n,
                       nook_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    struct guest_proc *pr = c->procs[i];
    const struct pollfd *q = p + PROC_NPOLL * i;
    for (int s = 0; s < 2; s++) {
      if (q[s].revents && guest_proc_relay(pr, chan, s, err) < 0)
        return -1;
    }
    if (q[2].revents && guest_proc_stdin_flush(pr, chan, err) < 0)
      return -1;
  }
  return 0;
}

static int serve(int chan, struct boot_marks *b, vmm_nook_main_fn *nook_main, nook_error_t *err)
{
  struct utsname u;
  if (uname(&u) < 0)
    return nook_error(err, errno, "uname");
  boot_mark(b, "ready");
  cleanup_free char *ready = NULL;
  xasprintf(&ready, "%s\n%s\n%.*s", u.release, nook_build_id(), (int)b->len, b->text);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  cleanup_close int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0)
    return nook_error(err, errno, "signalfd");
  if (chan_send(chan, CHAN_READY, 0, ready, strlen(ready), err) < 0)
    return -1;
  struct guest_ctr c;
  guest_ctr_init(&c, nook_main);
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  const unsigned expect = CHAN_BIT(CHAN_EXEC) | CHAN_BIT(CHAN_POWEROFF) | CHAN_BIT(CHAN_SIGNAL) |
                          CHAN_BIT(CHAN_CREATE) | CHAN_BIT(CHAN_START) | CHAN_BIT(CHAN_KILL) |
                          CHAN_BIT(CHAN_STDIN) | CHAN_BIT(CHAN_ACK) | CHAN_BIT(CHAN_WINSIZE) |
                          CHAN_BIT(CHAN_NOOK) | CHAN_BIT(CHAN_CTR_EXEC) | CHAN_BIT(CHAN_STATS) |
                          CHAN_BIT(CHAN_NET) | CHAN_BIT(CHAN_MEMBER);
  struct pollfd *p = NULL;
  size_t cap = 0;
  int r = 0;
  while (r >= 0) {
    p = proc_pollfds(&c, p, &cap);
    p[0] = (struct pollfd){.fd = chan, .events = POLLIN};
    p[1] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    size_t n = c.n_procs;
    if (poll(p, 2 + PROC_NPOLL * n, -1) < 0) {
      if (errno == EINTR)
        continue;
      r = nook_error(err, errno, "poll");
      break;
    }
    if ((r = proc_events(&c, chan, p + 2, n, err)) < 0)
      break;
    if (p[1].revents) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        ;
      if ((r = reap(&c, chan, err)) < 0)
        break;
    }
    if (p[0].revents == 0)
      continue;
    r = chan_recv(chan, expect, msg, err);
    if (r < 0 || msg->type == CHAN_POWEROFF)
      break;
    switch (msg->type) {
    case CHAN_SIGNAL:
    case CHAN_STDIN:
    case CHAN_ACK:
    case CHAN_WINSIZE:
      r = serve_proc(&c, chan, msg, err);
      break;
    case CHAN_CTR_EXEC:
    case CHAN_MEMBER:
      r = serve_ctr_exec(&c, chan, msg, err);
      break;
    case CHAN_EXEC: {
      /* A process that cannot start fails its request, not the VM. */
      nook_error_t req_err = NULL;
      if (serve_exec(chan, msg, &req_err) < 0) {
        chan_send_error(chan, req_err);
        nook_error_free(&req_err);
      }
      break;
    }
    case CHAN_NOOK:
      r = serve_nook(&c, chan, msg, err);
      break;
    case CHAN_STATS:
      r = serve_stats(&c, chan, msg, err);
      break;
    default:
      r = serve_ctr(&c, chan, msg, err);
      break;
    }
  }
  free(p);
  free(msg);
  return r;
}

/* Whether the kernel command line asks this init to park. */
static bool park_asked(void)
{
  cleanup_free char *cmdline = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, "/proc/cmdline", &cmdline, &len, NULL) < 0)
    return false;
  for (char *save = NULL, *w = strtok_r(cmdline, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
    if (strcmp(w, VMM_GUEST_PARK_ARG) == 0)
      return true;
  return false;
}

/* Every VM restored from a template starts here with the template's RNG
 * state and clock: the same "random" bytes in each, and the time the
 * template was saved.  UNPARK brings the host's clock and seed; the seed is
 * credited and the kernel's generator reseeded at once, so nothing drawn
 * after this (every container, every exec) repeats another VM's. */
static int unpark(const struct chan_msg *m, nook_error_t *err)
{
  struct chan_unpark u;
  if (m->len != sizeof(u))
    return nook_error(err, EPROTO, "unpark: %u bytes, want %zu", m->len, sizeof(u));
  memcpy(&u, m->data, sizeof(u));
  struct timespec now = {.tv_sec = (time_t)u.realtime_sec, .tv_nsec = (long)u.realtime_nsec};
  if (u.realtime_nsec < 0 || u.realtime_nsec >= 1000000000L)
    return nook_error(err, EPROTO, "unpark: a clock of %lld ns", (long long)u.realtime_nsec);
  if (clock_settime(CLOCK_REALTIME, &now) < 0)
    return nook_error(err, errno, "set the guest's clock");
  size_t size = sizeof(struct rand_pool_info) + sizeof(u.seed);
  cleanup_free struct rand_pool_info *pool = xcalloc(1, size);
  pool->entropy_count = 8 * (int)sizeof(u.seed);
  pool->buf_size = sizeof(u.seed);
  memcpy(pool->buf, u.seed, sizeof(u.seed));
  explicit_bzero(&u, sizeof(u));
  cleanup_close int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "open /dev/urandom");
  int r = ioctl(fd, RNDADDENTROPY, pool);
  explicit_bzero(pool, size);
  if (r < 0)
    return nook_error(err, errno, "add the host's seed to the guest's entropy");
  if (ioctl(fd, RNDRESEEDCRNG) < 0)
    return nook_error(err, errno, "reseed the guest's random generator");
  return 0;
}

/* PARKED, then wait for UNPARK (channel.h). */
static int park(int chan, struct boot_marks *b, nook_error_t *err)
{
  if (chan_send(chan, CHAN_PARKED, 0, NULL, 0, err) < 0)
    return -1;
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  int r = chan_recv(chan, CHAN_BIT(CHAN_UNPARK), msg, err);
  if (r == 0)
    r = unpark(msg, err);
  explicit_bzero(msg->data, msg->len);
  free(msg);
  boot_mark(b, "unparked");
  return r;
}

void vmm_guest_init(vmm_nook_main_fn *nook_main)
{
  nook_error_t err = NULL;
  int chan = -1;
  struct boot_marks b = {.len = 0};
  boot_mark(&b, "init");
  if (mount_basics(&err) < 0 || load_modules(&b, &err) < 0)
    goto fail;
  if ((chan = open_channel(&err)) < 0)
    goto fail;
  boot_mark(&b, "channel");
  if (check_timer(&err) < 0)
    goto fail;
  boot_mark(&b, "timer");
  if (park_asked() && park(chan, &b, &err) < 0)
    goto fail;
  if (mount_shares(&err) < 0)
    goto fail;
  boot_mark(&b, "shares");
  if (mount_disk(&err) < 0 || mount_cgroup2(&err) < 0)
    goto fail;
  boot_mark(&b, "disk");
  if (serve(chan, &b, nook_main, &err) < 0)
    goto fail;
  power_off();
fail:
  if (chan >= 0) {
    chan_send_error(chan, err);
  } else {
    cleanup_free char *text = nook_error_text(err);
    /* The console is init's stdio; the host shows it when the VM ends
     * without a word on the channel. */
    fprintf(stderr, "nook guest init: %s\n", text);
  }
  power_off();
}
