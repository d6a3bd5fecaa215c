#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../base/fdpass.h"
#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../libcontainer/state.h"
#include "../libcontainer/terminal.h"
#include "../net/vmnet.h"
#include "channel.h"
#include "confine.h"
#include "execmux.h"
#include "guest_ctr.h"
#include "mode.h"
#include "pod.h"
#include "relay.h"
#include "session.h"
#include "share.h"

/* How long the guest gets to power off once its container ended. */
#define POWEROFF_MS 10000
/* A CLI that connects and says nothing does not hold the monitor up. */
#define CLIENT_TIMEOUT_S 10

struct monitor {
  struct vmm_session s;
  int dirfd; /* the state directory */
  int lfd;   /* monitor.sock */
  int sigfd;
  enum nook_status status; /* created, running or stopped */
  int wstatus;             /* the container init's, once stopped */
  struct vmm_relay io;
  struct vmm_execs execs; /* the exec'd processes and their clients */
  bool cut;               /* switched off by delete: no guest shutdown */
  bool joined;            /* in the VMM's cgroup (or tried): delete removes it */
  /* Paused: the container's cgroup frozen in the guest and the vCPUs
   * stopped (created or running is still `status`). */
  bool paused;
  bool stdin_held; /* relaying stdin when paused: again on resume */
  const char *id;
  struct chan_msg *msg;
  /* The network namespace's interface the guest took over, redirected to
   * a tap until the monitor ends (net/vmnet.h). */
  bool has_link;
  struct net_vm_link link;
  int netns_fd; /* the confinement's */
  /* A pod's sandbox (pod.h): the share's path on the host, the container's
   * guest pid, and the members in the VM with their init's process id. */
  char *share;
  int guest_pid;
  struct member {
    char *id;
    int32_t proc;
  } * members;
  size_t n_members;
};

void vmm_forwarded_signals(sigset_t *set)
{
  sigfillset(set);
  static const int keep[] = {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS,  SIGILL,  SIGFPE,  SIGABRT,
                             SIGTRAP, SIGSYS,  SIGCHLD, SIGPIPE, SIGTTIN, SIGTTOU, SIGTSTP};
  for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
    sigdelset(set, keep[i]);
}

void vmm_die_like(int wstatus)
{
  if (!WIFSIGNALED(wstatus))
    _exit(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 255);
  int sig = WTERMSIG(wstatus);
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, NULL);
  kill(getpid(), sig);
  _exit(128 + sig);
}

/* Once QEMU is gone (its tap with it): the interface is the namespace's
 * again. */
static void drop_network(struct monitor *m)
{
  if (m->has_link) {
    net_vm_link_release(m->netns_fd, &m->link);
    unlinkat(m->dirfd, VMM_NET_RECORD, 0);
  }
  m->has_link = false;
}

/* The record drop_network removes, written before QEMU holds the tap. */
static int record_network(struct monitor *m, nook_error_t *err)
{
  cleanup_free char *text = net_vm_link_record(&m->link);
  if (write_file_at(m->dirfd, VMM_NET_RECORD ".tmp", O_CREAT | O_TRUNC, 0600, text, strlen(text),
                    err) < 0)
    return -1;
  if (renameat(m->dirfd, VMM_NET_RECORD ".tmp", m->dirfd, VMM_NET_RECORD) < 0)
    return nook_error(err, errno, "rename `%s.tmp`", VMM_NET_RECORD);
  return 0;
}

/* Output and the exit of the container and of its exec'd processes,
 * whenever the guest sends them. */

static void on_guest(struct monitor *m, const struct chan_msg *msg)
{
  if (vmm_execs_from_guest(&m->execs, m->s.chan, msg))
    return;
  switch (msg->type) {
  case CHAN_STDOUT:
  case CHAN_STDERR:
    vmm_relay_output(&m->io, m->s.chan, msg);
    break;
  case CHAN_ACK:
    vmm_relay_ack(&m->io, msg);
    break;
  case CHAN_EXIT:
    m->status = NOOK_STOPPED;
    m->wstatus = msg->value;
    /* bench/vm.py times the guest's phases by these debug lines. */
    nook_debug("vm: container exited, status %d", msg->value);
    break;
  default:
    break;
  }
}

#define GUEST_EVENTS                                                                               \
  (CHAN_BIT(CHAN_STDOUT) | CHAN_BIT(CHAN_STDERR) | CHAN_BIT(CHAN_EXIT) | CHAN_BIT(CHAN_ACK))

/* A request to the guest init and its answer (CHAN_OK, left in m->msg);
 * what else the guest says meanwhile is handled as it comes. */
static int guest_exchange(struct monitor *m, enum chan_type type, int value, const void *data,
                          size_t len, nook_error_t *err)
{
  if (chan_send(m->s.chan, type, value, data, len, err) < 0)
    return -1;
  for (;;) {
    if (chan_recv(m->s.chan, GUEST_EVENTS | CHAN_BIT(CHAN_OK) | CHAN_BIT(CHAN_ERROR), m->msg, err) <
        0)
      return -1;
    if (m->msg->type == CHAN_OK)
      return 0;
    if (m->msg->type == CHAN_ERROR)
      return nook_error(err, m->msg->value > 0 ? m->msg->value : 0, "%s", m->msg->data);
    on_guest(m, m->msg);
  }
}

/* The same whatever the container's state: while it is paused the vCPUs
 * run for the request and stop again (its cgroup stays frozen in the
 * guest, so its processes do not run meanwhile); a guest whose vCPUs are
 * stopped would never answer. */
static int guest_call_raw(struct monitor *m, enum chan_type type, int value, const void *data,
                          size_t len, nook_error_t *err)
{
  if (!m->paused)
    return guest_exchange(m, type, value, data, len, err);
  if (vmm_session_vcpus_run(&m->s, true, err) < 0)
    return -1;
  int r = guest_exchange(m, type, value, data, len, err);
  nook_error_t e = NULL;
  if (vmm_session_vcpus_run(&m->s, false, &e) < 0 && r == 0) {
    *err = e;
    return -1;
  }
  nook_error_free(&e);
  return r;
}

/* A request to the guest init, paused or not; *ok_value: CHAN_OK's value,
 * *said: its payload (the guest nook's warnings). */
static int guest_request(struct monitor *m, enum chan_type type, int value, const void *data,
                         size_t len, int *ok_value, char **said, nook_error_t *err)
{
  if (guest_call_raw(m, type, value, data, len, err) < 0)
    return -1;
  if (said && m->msg->len > 0)
    *said = xstrndup(m->msg->data, m->msg->len);
  if (ok_value)
    *ok_value = m->msg->value;
  return 0;
}

static int guest_call(struct monitor *m, enum chan_type type, int value, const char *data,
                      char **said, nook_error_t *err)
{
  return guest_request(m, type, value, data, data ? strlen(data) + 1 : 0, NULL, said, err);
}

static int listen_at(int dirfd, const char *name, nook_error_t *err)
{
  /* Through the directory's fd: a deep --root does not fit sun_path. */
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error(err, errno, "socket");
  unlinkat(dirfd, name, 0);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
    return nook_error(err, errno, "listen on %s", name);
  return steal_fd(&fd);
}

/* The answer to a CLI: ok (with the guest's warnings) or the error. */
static void reply(int fd, int r, int value, const char *said, nook_error_t *err)
{
  if (r < 0) {
    chan_send_error(fd, *err);
    nook_error_free(err);
  } else {
    chan_send(fd, CHAN_OK, value, said, said ? strlen(said) : 0, NULL);
  }
}

/* ---- pause, resume and the guest's nook (CHAN_NOOK) ---- */

/* How long a SIGKILLed paused container gets to report its end before its
 * vCPUs stop again. */
#define KILL_WAIT_MS 10000

/* Paused or not, for our answers and (the mark) for every other reader of
 * the state.  Stdin waits meanwhile: a guest that does not run takes none,
 * and a channel write the VMM does not drain would block us. */
static void mark_paused(struct monitor *m, bool paused)
{
  if (paused == m->paused)
    return;
  m->paused = paused;
  if (paused) {
    m->stdin_held = m->io.in_open;
    m->io.in_open = false;
    int fd = openat(m->dirfd, STATE_PAUSED_MARK, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
      close(fd);
  } else {
    m->io.in_open = m->stdin_held;
    unlinkat(m->dirfd, STATE_PAUSED_MARK, 0);
  }
}

/* The guest's nook on the container with argv (its answer in m->msg). */
static int guest_nook(struct monitor *m, char *const *argv, nook_error_t *err)
{
  struct chan_nook n = {.argv = argv};
  cleanup_free char *buf = NULL;
  size_t len;
  if (chan_nook_encode(&n, &buf, &len, err) < 0)
    return -1;
  return guest_exchange(m, CHAN_NOOK, 0, buf, len, err);
}

/* Freeze the container's cgroup in the guest (its `nook pause`: the same
 * rules and words as namespace mode), then stop the vCPUs: a paused
 * container costs no host CPU at all. */
static int pause_vm(struct monitor *m, nook_error_t *err)
{
  if (m->paused)
    return nook_error(err, 0, "container not running");
  char *argv[] = {"pause", (char *)m->id, NULL};
  if (guest_nook(m, argv, err) < 0)
    return -1;
  if (vmm_session_vcpus_run(&m->s, false, err) < 0) {
    char *undo[] = {"resume", (char *)m->id, NULL};
    nook_error_t e = NULL;
    guest_nook(m, undo, &e);
    nook_error_free(&e);
    return nook_error_wrap(err, "pause: stop the VM's vCPUs");
  }
  mark_paused(m, true);
  return 0;
}

static int resume_vm(struct monitor *m, nook_error_t *err)
{
  if (!m->paused)
    return nook_error(err, 0, "container not paused");
  if (vmm_session_vcpus_run(&m->s, true, err) < 0)
    return nook_error_wrap(err, "resume: run the VM's vCPUs");
  char *argv[] = {"resume", (char *)m->id, NULL};
  if (guest_nook(m, argv, err) < 0) {
    /* Still frozen in the guest: still paused. */
    nook_error_t e = NULL;
    vmm_session_vcpus_run(&m->s, false, &e);
    nook_error_free(&e);
    return -1;
  }
  mark_paused(m, false);
  return 0;
}

/* Until the guest reports the container's end, at most timeout_ms. */
static void wait_stopped(struct monitor *m, int timeout_ms)
{
  long long deadline = monotonic_ms() + timeout_ms;
  while (m->status != NOOK_STOPPED) {
    long long left = deadline - monotonic_ms();
    struct pollfd p = {.fd = m->s.chan, .events = POLLIN};
    int r = left > 0 ? poll(&p, 1, (int)left) : 0;
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return;
    nook_error_t e = NULL;
    if (chan_recv(m->s.chan, GUEST_EVENTS, m->msg, &e) < 0) {
      nook_error_free(&e);
      return;
    }
    on_guest(m, m->msg);
  }
}

/* kill, and the signals sent to us.  As in namespace mode a paused
 * container's processes get other signals when they thaw, but SIGKILL ends
 * them in their frozen cgroup (cgroup v2): its vCPUs run until the guest
 * reports the end, which they could not do stopped. */
static int guest_kill(struct monitor *m, int sig, const char *all, char **said, nook_error_t *err)
{
  if (!m->paused || sig != SIGKILL)
    return guest_call(m, CHAN_KILL, sig, all, said, err);
  if (vmm_session_vcpus_run(&m->s, true, err) < 0)
    return -1;
  int r = guest_exchange(m, CHAN_KILL, sig, all, all ? strlen(all) + 1 : 0, err);
  if (r == 0 && said && m->msg->len > 0)
    *said = xstrndup(m->msg->data, m->msg->len);
  if (r == 0)
    wait_stopped(m, KILL_WAIT_MS);
  if (m->status == NOOK_STOPPED) {
    mark_paused(m, false);
    return r;
  }
  nook_error_t e = NULL;
  if (vmm_session_vcpus_run(&m->s, false, &e) < 0 && r == 0) {
    *err = e;
    return -1;
  }
  nook_error_free(&e);
  return r;
}

/* The guest nook commands a CLI may ask for (`events --stats` is
 * CHAN_STATS, answered by the guest init itself). */
static bool nook_command_ok(char *const *argv)
{
  static const char *const ok[] = {"ps", "update"};
  for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
    if (strcmp(argv[0], ok[i]) == 0)
      return true;
  }
  return false;
}

/* What a member's CLI asks of the guest nook on the member (pod.h). */
static bool member_command_ok(char *const *argv)
{
  static const char *const ok[] = {"start", "kill", "delete", "ps", "update", "pause", "resume"};
  for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
    if (strcmp(argv[0], ok[i]) == 0)
      return true;
  }
  return false;
}

static struct member *member_named(struct monitor *m, char *const *argv);
static void member_forget(struct monitor *m, const char *id);

static void serve_nook(struct monitor *m, int fd, const struct chan_msg *req)
{
  nook_error_t err = NULL;
  struct chan_nook n;
  cleanup_free char **argv = NULL;
  struct member *member = NULL;
  int r = chan_nook_decode(req->data, req->len, &n, &argv, &err);
  if (r < 0)
    ;
  else if (m->status == NOOK_STOPPED)
    r = nook_error(&err, 0, "container not running");
  else if ((member = member_named(m, argv)) != NULL && member_command_ok(argv)) {
    r = guest_call_raw(m, CHAN_NOOK, 0, req->data, req->len, &err);
    if (r == 0 && strcmp(argv[0], "delete") == 0)
      member_forget(m, member->id);
  } else if (strcmp(argv[0], "pause") == 0)
    r = pause_vm(m, &err);
  else if (strcmp(argv[0], "resume") == 0)
    r = resume_vm(m, &err);
  else if (!nook_command_ok(argv))
    r = nook_error(&err, EPERM, "the VM monitor does not run `%s` in the guest", argv[0]);
  else
    r = guest_call_raw(m, CHAN_NOOK, 0, req->data, req->len, &err);
  if (r < 0) {
    chan_send_error(fd, err);
    nook_error_free(&err);
    return;
  }
  /* The guest's answer as it is: its warnings, a NUL, its stdout. */
  chan_send(fd, CHAN_OK, 0, m->msg->data, m->msg->len, NULL);
}

/* CHAN_STATS: the guest init's answer as it is (the CLI checks it). */
static struct member *member_find(struct monitor *m, const char *id);

static void serve_stats(struct monitor *m, const struct chan_msg *req, int fd)
{
  nook_error_t err = NULL;
  /* A pod member's, named (pod.h), or the VM's container's. */
  bool member = req->len > 0;
  int r = m->status == NOOK_STOPPED ? nook_error(&err, 0, "container with id %s is not running",
                                                 member ? req->data : m->id)
          : member && member_find(m, req->data) == NULL
              ? nook_error(&err, 0, "container with id %s is not running", req->data)
              : guest_call_raw(m, CHAN_STATS, 0, req->data, req->len, &err);
  if (r < 0) {
    chan_send_error(fd, err);
    nook_error_free(&err);
    return;
  }
  chan_send(fd, CHAN_OK, 0, m->msg->data, m->msg->len, NULL);
}

/* CHAN_CTR_EXEC: the guest runs the process, and the connection carries
 * its stdio from then on (execmux.h); true when the fd was taken. */
static bool serve_exec(struct monitor *m, int fd, struct chan_msg *req)
{
  nook_error_t err = NULL;
  cleanup_free char *said = NULL;
  struct chan_ctr_exec e;
  int r = chan_ctr_exec_decode(req->data, req->len, &e, &err), pid = 0;
  uint32_t flags = e.flags;
  chan_ctr_exec_clear(&e);
  int32_t id = 0;
  if (r < 0) {
    /* reply() sends it */
  } else if (m->status == NOOK_STOPPED) {
    r = nook_error(&err, 0, "cannot exec in a stopped container");
  } else if (m->paused && !(flags & CHAN_CTR_EXEC_IGNORE_PAUSED)) {
    r = nook_error(&err, 0, "cannot exec in a paused container (use --ignore-paused to override)");
  } else if (m->paused) {
    /* The guest's `nook exec` would wait for the thaw, and the guest init
     * and we with it: resume could never be served. */
    r = nook_error(&err, 0,
                   "exec --ignore-paused: not supported for a paused VM-mode container (resume it "
                   "first)");
  } else {
    id = vmm_execs_new_id(&m->execs);
    chan_ctr_exec_set_proc(req->data, req->len, id);
    r = guest_request(m, CHAN_CTR_EXEC, 0, req->data, req->len, &pid, &said, &err);
    /* Registered before the answer goes out: the client may send stdin
     * at once. */
    if (r == 0) {
      nook_debug("vm: exec'd process %d runs, guest pid %d", id, pid);
      vmm_execs_add(&m->execs, fd, id);
    }
  }
  /* The client's frames name the process by this id. */
  reply(fd, r, id, said, &err);
  return r == 0;
}

/* ---- a pod's members (pod.h) ---- */

static struct member *member_find(struct monitor *m, const char *id)
{
  for (size_t i = 0; i < m->n_members; i++)
    if (strcmp(m->members[i].id, id) == 0)
      return &m->members[i];
  return NULL;
}

static void member_forget(struct monitor *m, const char *id)
{
  struct member *e = member_find(m, id);
  if (e == NULL)
    return;
  vmm_pod_detach(m->s.vm.pid, m->share, e->id);
  free(e->id);
  *e = m->members[--m->n_members];
}

/* CHAN_MEMBER: mount the member's share, then its create in the guest; the
 * connection carries its init's stdio and exit from then on, as an exec's
 * (execmux.h).  True when the connection is the member's now. */
static bool serve_member(struct monitor *m, int fd, struct chan_msg *req)
{
  nook_error_t err = NULL;
  cleanup_free char *said = NULL, *data = NULL;
  cleanup_close int tree = -1;
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  const char *id = req->data;
  int r = 0, pid = 0;
  int32_t proc = 0;
  if (fdpass_recv(fd, &iov, 1, 0, &tree) != 1 || tree < 0)
    r = nook_error(&err, EPROTO, "member: no mount tree with the request");
  else if (strnlen(id, req->len) == req->len || nook_validate_id(id, &err) < 0)
    r = nook_error(&err, EPROTO, "member: no valid id");
  else if (m->status == NOOK_STOPPED || m->paused)
    r = nook_error(&err, 0, "the pod's sandbox \"%s\" is %s", m->id,
                   m->paused ? "paused" : "stopped");
  else if (member_find(m, id) != NULL)
    r = nook_error(&err, EEXIST, "container \"%s\" is already in the pod", id);
  if (r == 0)
    r = vmm_pod_attach(m->s.vm.pid, m->share, id, tree, &err);
  if (r == 0) {
    proc = vmm_execs_new_id(&m->execs);
    data = xmalloc(sizeof(proc) + req->len);
    memcpy(data, &proc, sizeof(proc));
    memcpy(data + sizeof(proc), req->data, req->len);
    r = guest_request(m, CHAN_MEMBER, req->value, data, sizeof(proc) + req->len, &pid, &said, &err);
    if (r < 0) {
      vmm_pod_detach(m->s.vm.pid, m->share, id);
    } else {
      nook_debug("vm: pod member %s created, process %d, guest pid %d", id, proc, pid);
      m->members = xrealloc(m->members, (m->n_members + 1) * sizeof(*m->members));
      m->members[m->n_members++] = (struct member){.id = xstrdup(id), .proc = proc};
      vmm_execs_add(&m->execs, fd, proc);
    }
  }
  reply(fd, r, proc, said, &err);
  return r == 0;
}

/* The member a guest nook command names (its first argument that is not
 * an option), or NULL. */
static struct member *member_named(struct monitor *m, char *const *argv)
{
  for (size_t i = 1; argv[i] != NULL; i++)
    if (argv[i][0] != '-')
      return member_find(m, argv[i]);
  return NULL;
}

static void serve_client(struct monitor *m)
{
  cleanup_close int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct chan_msg *req = xmalloc(sizeof(*req));
  cleanup_free char *said = NULL;
  nook_error_t err = NULL;
  int r = chan_recv(fd,
                    CHAN_BIT(CHAN_STATE) | CHAN_BIT(CHAN_START) | CHAN_BIT(CHAN_KILL) |
                        CHAN_BIT(CHAN_POWEROFF) | CHAN_BIT(CHAN_NOOK) | CHAN_BIT(CHAN_CTR_EXEC) |
                        CHAN_BIT(CHAN_STATS) | CHAN_BIT(CHAN_MEMBER),
                    req, &err);
  if (r < 0) {
    nook_error_free(&err);
    free(req);
    return;
  }
  switch (req->type) {
  case CHAN_CTR_EXEC:
    if (serve_exec(m, fd, req))
      fd = -1; /* the exec's now */
    break;
  case CHAN_MEMBER:
    if (serve_member(m, fd, req))
      fd = -1; /* the member's now */
    break;
  case CHAN_STATE:
    reply(fd, 0, (int)(m->paused ? NOOK_PAUSED : m->status), NULL, &err);
    break;
  case CHAN_NOOK:
    serve_nook(m, fd, req);
    break;
  case CHAN_STATS:
    serve_stats(m, req, fd);
    break;
  case CHAN_POWEROFF:
    /* delete: the machine is switched off, not shut down (that takes
     * seconds under TCG); the container is killed with it. */
    if (m->status != NOOK_STOPPED) {
      m->status = NOOK_STOPPED;
      m->wstatus = SIGKILL;
      m->cut = true;
    }
    /* QEMU is reaped before the answer: the CLI kills us right after. */
    vmm_session_destroy(&m->s);
    drop_network(m);
    reply(fd, 0, 0, NULL, &err);
    break;
  case CHAN_START:
    if (m->status != NOOK_CREATED || m->paused) {
      r = nook_error(&err, 0, "cannot start a container in the %s state",
                     nook_status_name(m->paused ? NOOK_PAUSED : m->status));
    } else if ((r = guest_call(m, CHAN_START, 0, NULL, &said, &err)) == 0) {
      nook_debug("vm: container started");
      if (m->status == NOOK_CREATED)
        m->status = NOOK_RUNNING;
      unlinkat(m->dirfd, "start.sock", 0);
      m->io.in_open = true;
    }
    reply(fd, r, 0, said, &err);
    break;
  default: /* CHAN_KILL */
    if (m->status == NOOK_STOPPED)
      r = nook_error(&err, 0, "container not running");
    else
      r = guest_kill(m, req->value, req->len > 0 ? req->data : NULL, &said, &err);
    reply(fd, r, 0, said, &err);
    break;
  }
  free(req);
}

static void forward_signals(struct monitor *m)
{
  struct signalfd_siginfo si;
  while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    nook_error_t err = NULL;
    if (m->status != NOOK_STOPPED)
      guest_kill(m, (int)si.ssi_signo, NULL, NULL, &err);
    nook_error_free(&err);
  }
}

/* Until the container's init ends or the VM goes away. */
static void serve(struct monitor *m)
{
  /* The size the engine set on the master before we served. */
  vmm_relay_winsize(&m->io, m->s.chan);
  struct pollfd *p = NULL;
  while (m->status != NOOK_STOPPED) {
    /* The exec'd processes' clients come after the fixed ones. */
    const size_t fixed = 4 + VMM_RELAY_NPOLL, n = m->execs.n;
    p = xrealloc(p, (fixed + n) * sizeof(*p));
    p[0] = (struct pollfd){.fd = m->s.chan, .events = POLLIN};
    p[1] = (struct pollfd){.fd = m->lfd, .events = POLLIN};
    p[2] = (struct pollfd){.fd = m->sigfd, .events = POLLIN};
    p[3] = (struct pollfd){.fd = m->s.vm.pidfd, .events = POLLIN};
    vmm_relay_pollfds(&m->io, p + 4);
    vmm_execs_pollfds(&m->execs, p + fixed);
    if (poll(p, fixed + n, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p[0].revents) {
      nook_error_t err = NULL;
      int r = chan_recv(m->s.chan, GUEST_EVENTS | CHAN_BIT(CHAN_ERROR), m->msg, &err);
      nook_error_free(&err);
      /* The channel closing is the VM ending (panic, QEMU killed). */
      if (r < 0)
        break;
      on_guest(m, m->msg);
      continue;
    }
    if (p[3].revents)
      break;
    /* Before anything that may add or end an exec (p is by index). */
    vmm_execs_events(&m->execs, m->s.chan, p + fixed, n);
    if (p[2].revents)
      forward_signals(m);
    if (p[1].revents)
      serve_client(m);
    vmm_relay_events(&m->io, m->s.chan, p + 4);
  }
  free(p);
  if (m->status != NOOK_STOPPED) {
    m->status = NOOK_STOPPED;
    m->wstatus = SIGKILL; /* as W_EXITCODE(0, SIGKILL): killed */
  }
}

/* CHAN_CREATE: the id and, when both fit in one message, the share's
 * config.json: under TCG each 9p round trip of the guest reading that file
 * costs a millisecond or more, the channel's bytes almost nothing.  A config
 * too large for one message is read from the share. */
static int create_request(struct monitor *m, const char *id, const char *config, int flags,
                          char **said, nook_error_t *err)
{
  size_t id_len = strlen(id) + 1, config_len = strlen(config) + 1;
  if (id_len + config_len > CHAN_MAX_DATA)
    return guest_request(m, CHAN_CREATE, flags, id, id_len, &m->guest_pid, said, err);
  cleanup_free char *data = xmalloc(id_len + config_len);
  memcpy(data, id, id_len);
  memcpy(data + id_len, config, config_len);
  return guest_request(m, CHAN_CREATE, flags, data, id_len + config_len, &m->guest_pid, said, err);
}

/* Where a member's CLI finds the guest pid its config joins. */
static int record_guest_pid(struct monitor *m, nook_error_t *err)
{
  char text[32];
  int n = snprintf(text, sizeof(text), "%d\n", m->guest_pid);
  if (write_file_at(m->dirfd, VMM_POD_GUEST_PID ".tmp", O_CREAT | O_TRUNC, 0600, text, (size_t)n,
                    err) < 0)
    return -1;
  if (renameat(m->dirfd, VMM_POD_GUEST_PID ".tmp", m->dirfd, VMM_POD_GUEST_PID) < 0)
    return nook_error(err, errno, "rename `%s.tmp`", VMM_POD_GUEST_PID);
  return 0;
}

/* The network namespace an engine gave the container: its interface is
 * the guest's once QEMU holds the tap beside it.  *tap: -1 when there is
 * none to take (a namespace with only loopback). */
static int take_network(struct monitor *m, const struct vmm_monitor_opts *o, int *tap,
                        char **warning, nook_error_t *err)
{
  *tap = -1;
  if (o->confine == NULL || o->confine->netns_fd < 0)
    return 0;
  cleanup_free char *ignored = NULL;
  int r = net_vm_link_prepare(o->confine->netns_fd, &m->link, tap, &ignored, err);
  if (r < 0)
    return nook_error_wrap(err, "the container's network namespace");
  m->has_link = r > 0;
  m->netns_fd = o->confine->netns_fd;
  if (m->has_link && record_network(m, err) < 0) {
    drop_network(m);
    close(steal_fd(tap));
    return -1;
  }
  if (ignored != NULL)
    xasprintf(warning,
              "VM mode gives the guest one network interface, %s; the container does not get "
              "%s",
              m->link.name, ignored);
  return 0;
}

static int send_network(struct monitor *m, nook_error_t *err)
{
  if (!m->has_link)
    return 0;
  cleanup_free char *text = net_vm_link_encode(&m->link);
  return guest_request(m, CHAN_NET, 0, text, strlen(text) + 1, NULL, NULL, err);
}

/* Everything up to the container created in the guest. */
static int bring_up(struct monitor *m, const struct vmm_monitor_opts *o, char **said,
                    nook_error_t *err)
{
  cleanup_free char *share = NULL, *config = NULL;
  struct vmm_share_opts so = {
      .state_dir = o->state_dir,
      .bundle = o->bundle,
      .rootfs = o->rootfs,
      .config = o->config,
      .config_text = o->config_text,
      .config_len = o->config_len,
      .drop_annotation = o->annotation,
      .seccomp_cache = o->seccomp_cache,
  };
  if (vmm_share_prepare(&so, &share, &config, err) < 0)
    return -1;
  struct vmm_share sh = {.tag = VMM_CTR_TAG, .path = share};
  struct vmm_session_opts bo = {
      .backend = o->backend,
      .cache_dir = o->cache_dir,
      .template_dir = o->template_dir,
      /* Relative to the state directory (the monitor's and so QEMU's cwd):
       * the channel socket's path must fit sun_path whatever --root and
       * the id are. */
      .work_parent = ".",
      .shares = &sh,
      .nshares = 1,
      .settings = o->settings,
      .confine = o->confine,
      .control = true,
      .needs = vmm_mode_needs(o->config),
  };
  if (o->config->vm.has_image) {
    bo.disk = o->config->vm.image_path;
    bo.disk_format = o->config->vm.image_format;
  }
  cleanup_close int master = -1;
  if (o->config->process.terminal) {
    const struct oci_process *pr = &o->config->process;
    struct winsize ws = {.ws_row = (unsigned short)pr->console_height,
                         .ws_col = (unsigned short)pr->console_width};
    /* Before the boot: a console socket nobody listens on costs none, and
     * the size the engine sets meanwhile is sent once we serve.  The
     * container's stdio is the pty: the fds `create` was given are not
     * its, and we, who live as long as the container, let them go
     * (containerd's runc shim reads a console-socket create's output to
     * EOF, and would wait for the container's end). */
    if (vmm_relay_open_tty(&m->io, pr->has_console_size ? &ws : NULL, &master, err) < 0 ||
        terminal_send_to_socket(o->console_socket, master, err) < 0 || stdio_to_null(err) < 0)
      return -1;
  }
  cleanup_close int tap = -1;
  cleanup_free char *net_warning = NULL;
  if (take_network(m, o, &tap, &net_warning, err) < 0)
    return -1;
  bo.has_net = tap >= 0;
  bo.net_fd = tap;
  if (vmm_session_boot(&bo, &m->s, err) < 0)
    return -1;
  /* QEMU holds its own. */
  if (tap >= 0)
    close(steal_fd(&tap));
  int flags = (master >= 0 ? CHAN_CREATE_TTY : 0) |
              (o->config->linux_.has_seccomp ? CHAN_CREATE_SECCOMP : 0);
  if (send_network(m, err) < 0 || create_request(m, o->id, config, flags, said, err) < 0 ||
      record_guest_pid(m, err) < 0)
    return -1;
  m->share = xstrdup(share);
  if (net_warning != NULL) {
    char *all = NULL;
    xasprintf(&all, "%s%s%s", *said ? *said : "", *said ? "\n" : "", net_warning);
    free(*said);
    *said = all;
  }
  nook_debug("vm: container created");
  m->status = NOOK_CREATED;
  /* The container's pid (ours) in the container's cgroup, as an engine
   * expects (confine.h).  After the terminal and the boot: the cgroup's
   * device rules are QEMU's. */
  m->joined = true;
  if (o->confine != NULL && vmm_confine_join(o->confine, err) < 0)
    return -1;
  m->lfd = listen_at(m->dirfd, VMM_MONITOR_SOCK, err);
  if (m->lfd < 0)
    return -1;
  if (symlinkat(VMM_MONITOR_SOCK, m->dirfd, "start.sock") < 0)
    return nook_error(err, errno, "link start.sock");
  return 0;
}

/* QEMU gone, then its cgroup unless we are in it: removing it would kill
 * us, so delete removes it (as it does when we were killed, and as it does
 * a namespace container's), or create's CLI when create failed. */
static void end_vm(struct monitor *m, const struct vmm_monitor_opts *o)
{
  vmm_session_destroy(&m->s);
  drop_network(m);
  if (o->confine != NULL && !m->joined)
    vmm_confine_release(o->confine, NULL);
}

void vmm_monitor_main(const struct vmm_monitor_opts *o)
{
  struct monitor m = {
      .s = {.chan = -1, .ctl = -1, .vm = {.pidfd = -1}}, .lfd = -1, .sigfd = -1, .id = o->id};
  vmm_relay_init(&m.io);
  vmm_execs_init(&m.execs);
  m.msg = xmalloc(sizeof(*m.msg));
  char *said = NULL; /* the guest's warnings at create */
  nook_error_t err = NULL;
  /* Apart from the CLI: its terminal's signals and its end are not ours. */
  setsid();
  signal(SIGPIPE, SIG_IGN);
  sigset_t fwd;
  vmm_forwarded_signals(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, NULL);
  m.sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
  m.dirfd = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = m.sigfd < 0 || m.dirfd < 0 || fchdir(m.dirfd) < 0
              ? nook_error(&err, errno, "monitor: open `%s`", o->state_dir)
              : bring_up(&m, o, &said, &err);
  if (r < 0) {
    chan_send_error(o->report_fd, err);
    end_vm(&m, o);
    _exit(1);
  }
  /* The CLI answers once the host's hooks ran and the state is ready.  A
   * failure there, or a CLI killed meanwhile, leaves a container nobody can
   * start: it ends here, QEMU reaped by us. */
  if (chan_send(o->report_fd, CHAN_OK, 0, said, said ? strlen(said) : 0, &err) < 0 ||
      chan_recv(o->report_fd, CHAN_BIT(CHAN_OK), m.msg, &err) < 0) {
    end_vm(&m, o);
    _exit(1);
  }
  close(o->report_fd);
  serve(&m);
  unlinkat(m.dirfd, VMM_MONITOR_SOCK, 0);
  /* Their processes die with the VM: no client waits for the power-off. */
  vmm_execs_end(&m.execs, m.s.chan);
  vmm_relay_finish(&m.io);
  if (!m.cut) {
    /* A guest whose vCPUs are stopped cannot power off. */
    if (m.paused)
      vmm_session_vcpus_run(&m.s, true, NULL);
    vmm_session_poweroff(&m.s, POWEROFF_MS, NULL);
  }
  unlinkat(m.dirfd, STATE_PAUSED_MARK, 0);
  end_vm(&m, o);
  vmm_die_like(m.wstatus);
}
