/* VM mode's create, start, kill, state and run on the host (container.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../libcontainer/foreground.h"
#include "../libcontainer/hooks.h"
#include "../libcontainer/state.h"
#include "../libcontainer/terminal.h"
#include "../net/vmnet.h"
#include "../oci/state.h"
#include "channel.h"
#include "confine.h"
#include "container.h"
#include "lifecycle.h"
#include "mode.h"
#include "monitor.h"
#include "pod.h"

char *vmm_hook_state_json(const struct oci_config *c, const struct nook_state *st,
                          const char *status)
{
  struct oci_state s = {.oci_version = "1.3.0",
                        .id = st->id,
                        .status = status,
                        .pid = st->pid,
                        .bundle = st->bundle,
                        .annotations = c ? c->annotations : NULL,
                        .n_annotations = c ? c->n_annotations : 0,
                        .rootfs = st->rootfs,
                        .created = st->created,
                        .owner = st->owner};
  return oci_state_to_json(&s, false);
}

void vmm_warn_lines(const char *text, size_t len)
{
  if (len == 0)
    return;
  cleanup_free char *copy = xstrndup(text, len);
  for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
    nook_warn("%s", l);
}

/* A connection to the container's monitor; -2 (err set) when there is no
 * monitor to answer. */
int vmm_monitor_connect(int dirfd, nook_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" VMM_MONITOR_SOCK, dirfd);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    nook_error(err, errno, "connect to the VM monitor");
    return -2;
  }
  return steal_fd(&fd);
}

int vmm_monitor_request(int dirfd, enum chan_type type, int value, const void *data, size_t len,
                        struct chan_msg *reply, nook_error_t *err)
{
  cleanup_close int fd = vmm_monitor_connect(dirfd, err);
  if (fd < 0)
    return fd;
  if (chan_send(fd, type, value, data, len, err) < 0)
    return -1;
  return chan_recv(fd, CHAN_BIT(CHAN_OK), reply, err);
}

int vmm_monitor_nook(int dirfd, char *const *argv, const char *in, size_t in_len, char **out,
                     size_t *out_len, nook_error_t *err)
{
  struct chan_nook n = {.argv = argv, .in = in, .in_len = in_len};
  cleanup_free char *buf = NULL;
  size_t len;
  if (chan_nook_encode(&n, &buf, &len, err) < 0)
    return -1;
  cleanup_free struct chan_msg *msg = xmalloc(sizeof(*msg));
  int r = vmm_monitor_request(dirfd, CHAN_NOOK, 0, buf, len, msg, err);
  if (r < 0)
    return r;
  /* The answer: the guest nook's warnings, a NUL, its stdout. */
  size_t w_len = strnlen(msg->data, msg->len);
  vmm_warn_lines(msg->data, w_len);
  if (out != NULL) {
    size_t skip = w_len < msg->len ? w_len + 1 : w_len;
    *out_len = msg->len - skip;
    *out = xstrndup(msg->data + skip, *out_len);
  }
  return 0;
}

/* One request to the container's monitor; *reply gets CHAN_OK's value,
 * and the guest's warnings are logged.  -2 (err set) when there is no
 * monitor to answer. */
static int monitor_call(int dirfd, enum chan_type type, int value, const char *data, int *reply,
                        nook_error_t *err)
{
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  int r = vmm_monitor_request(dirfd, type, value, data, data ? strlen(data) + 1 : 0, msg, err);
  if (r == 0 && reply)
    *reply = msg->value;
  if (r == 0)
    vmm_warn_lines(msg->data, msg->len);
  free(msg);
  return r;
}

static int refuse_unsupported(const struct nook_create_opts *o, const struct oci_config *c,
                              bool member, nook_error_t *err)
{
  /* Namespace mode's checks and words; run in the foreground brings its
   * own console socket (vmm_container_run). */
  if (c->process.terminal && o->console_socket == NULL)
    return nook_error(err, 0,
                      "process.terminal is true: a detached container needs --console-socket");
  if (!c->process.terminal && o->console_socket != NULL)
    return nook_error(err, 0, "--console-socket given but process.terminal is false");
  /* QEMU's cgroup is made by nook with the cgroupfs driver (confine.c): a
   * systemd scope is made around a running pid, which the VMM is not yet
   * when its cgroup must exist. Refused rather than quietly not honoured. */
  if (o->systemd_cgroup)
    return nook_error(err, 0,
                      "VM mode does not support --systemd-cgroup (the systemd cgroup driver) "
                      "yet: the VMM's cgroup is made with the cgroupfs driver; drop "
                      "--systemd-cgroup and give linux.cgroupsPath as a cgroupfs path");
  /* A namespace path names a host namespace, which a process in the
   * guest cannot join.  The network namespace is the exception: QEMU joins
   * it and the guest takes over its interface (net/vmnet.h). */
  for (size_t i = 0; i < c->linux_.n_namespaces && !member; i++) {
    const struct oci_namespace *ns = &c->linux_.namespaces[i];
    if (ns->path != NULL && ns->type != OCI_NS_NETWORK)
      return nook_error(err, 0,
                        "linux.namespaces[%zu].path: VM mode cannot join the host's %s namespace "
                        "`%s` (only a network namespace, whose interface the guest takes over)",
                        i, oci_ns_type_name(ns->type), ns->path);
  }
  if (c->linux_.n_net_devices > 0)
    return nook_error(err, 0,
                      "linux.netDevices: VM mode cannot move a host network device into the VM "
                      "(give the container a network namespace: its interface becomes the "
                      "guest's)");
  /* Extra fds cannot cross into the guest as fds at all. */
  if (o->preserve_fds > 0)
    return nook_error(err, 0,
                      "VM mode does not support --preserve-fds (an fd cannot be passed "
                      "into the VM) yet");
  return 0;
}

static int read_config(const struct nook_create_opts *o, const char *bundle, char **text,
                       size_t *len, struct oci_config **c, nook_error_t *err)
{
  cleanup_free char *path = NULL;
  xasprintf(&path, "%s/config.json", bundle);
  if (o->config_json != NULL) {
    *text = xstrndup(o->config_json, o->config_len);
    *len = o->config_len;
  } else if (read_file_at(AT_FDCWD, path, text, len, err) < 0) {
    return nook_error_wrap(err, "bundle `%s`", bundle);
  }
  if (oci_config_parse(*text, *len, "config.json", c, err) < 0)
    return -1;
  if (oci_config_validate(*c, true, err) < 0)
    return nook_error_wrap(err, "config.json");
  if ((*c)->root_path == NULL)
    return nook_error(err, 0, "config.json: VM mode needs root.path");
  return 0;
}

static char *resolve_rootfs(const char *bundle, const char *path, nook_error_t *err)
{
  cleanup_free char *joined = NULL;
  if (path[0] == '/')
    joined = xstrdup(path);
  else
    xasprintf(&joined, "%s/%s", bundle, path);
  char *r = realpath(joined, NULL);
  if (r == NULL)
    nook_error(err, errno, "root.path `%s`", path);
  return r;
}

static void kill_monitor(pid_t pid)
{
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* Fork the monitor; its report says whether the guest created the
 * container, and it waits for our `ok` (the host's hooks ran, the state is
 * ready) before it serves: without it (a failure, or this CLI killed) it
 * powers off and exits, and QEMU is reaped by it, not left to whoever
 * reaps our orphans. */
static int spawn_monitor(const struct vmm_monitor_opts *mo, struct state_new *sn,
                         bool die_with_runtime, pid_t *pid, nook_error_t *err)
{
  pid_t parent = getpid();
  int sock;
  *pid = fork_with_socket(&sock, "the VM monitor", err);
  if (*pid < 0)
    return -1;
  if (*pid == 0) {
    /* The lock is the CLI's; the monitor must not keep it once we exit. */
    close(sn->dirfd);
    close(sn->rootfd);
    /* nook job: the container (the monitor, and with it QEMU) must not
     * outlive the runtime supervising it. */
    if (die_with_runtime && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
      _exit(1);
    struct vmm_monitor_opts child = *mo;
    child.report_fd = sock;
    vmm_monitor_main(&child);
  }
  return sock;
}

/* The config's VM mode and settings. */
static int select_mode(const struct oci_config *c, bool invoked_as_vm, struct vmm_mode *mode,
                       struct vmm_spec *settings, nook_error_t *err)
{
  int r = vmm_mode_select(c, invoked_as_vm, mode, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return nook_error(err, 0, "config.json does not select VM mode");
  *settings = (struct vmm_spec){0};
  return vmm_mode_spec(mode, settings, err);
}

/* Where QEMU runs: the container's cgroup (linux.cgroupsPath) and network
 * namespace (a path in linux.namespaces), as a runc container's init would. */
static int prepare_confine(const struct nook_create_opts *o, const struct oci_config *c,
                           const struct vmm_mode *mode, const struct vmm_spec *settings,
                           struct vmm_confinement *out, nook_error_t *err)
{
  const struct oci_namespace *net = oci_config_namespace(c, OCI_NS_NETWORK);
  struct vmm_confine_opts co = {
      .backend = vmm_backend_find(mode->backend),
      .program = settings->program,
      .id = o->id,
      .cgroups_path = c->linux_.cgroups_path,
      .resources = c->linux_.has_resources ? &c->linux_.resources : NULL,
      .mem_mib = settings->mem_mib,
      .netns_path = net ? net->path : NULL,
  };
  if (vmm_confine_prepare(&co, out, err) < 0)
    return nook_error_wrap(err, "confine the VMM");
  return 0;
}

int vmm_state_begin(const char *root, const char *id, const char *bundle, const char *rootfs,
                    const char *backend, const char *text, size_t len, struct state_new *sn,
                    struct nook_state *st, nook_error_t *err)
{
  if (state_dir_create(root, id, sn, err) < 0)
    return -1;
  /* Kept for the hooks the host runs later (poststart, poststop). */
  if (write_file_at(sn->dirfd, "config.json", O_CREAT | O_TRUNC, 0600, text, len, err) < 0)
    return -1;
  st->id = xstrdup(id);
  st->bundle = xstrdup(bundle);
  st->rootfs = xstrdup(rootfs);
  st->created = now_rfc3339();
  st->owner = xstrdup("");
  st->vm = xstrdup(backend);
  return 0;
}

int vmm_container_create(const struct nook_create_opts *o, bool invoked_as_vm, pid_t *monitor,
                         nook_error_t *err)
{
  cleanup_free char *bundle = absolute_path(o->bundle ? o->bundle : ".");
  cleanup_free char *root = absolute_path(o->root);
  cleanup_free char *pid_file = absolute_path(o->pid_file);
  cleanup_free char *text = NULL, *rootfs = NULL, *state_dir = NULL, *cache = NULL,
                    *templates = NULL;
  cleanup_free char *json = NULL, *console = absolute_path(o->console_socket);
  cleanup_close int report = -1;
  struct oci_config *c = NULL;
  struct state_new sn = {.rootfd = -1, .dirfd = -1};
  struct nook_state st = {0};
  struct chan_msg *msg = NULL;
  size_t len = 0;
  pid_t pid = 0;
  int ret = -1;
  struct vmm_mode mode;
  struct vmm_spec settings;
  struct vmm_confinement confine = {.netns_fd = -1};
  cleanup_free char *sandbox = NULL;
  int member = 0;
  if (nook_validate_id(o->id, err) < 0)
    return -1;
  if (read_config(o, bundle, &text, &len, &c, err) < 0 ||
      select_mode(c, invoked_as_vm, &mode, &settings, err) < 0 ||
      (member = vmm_pod_sandbox(root, c, &sandbox, err)) < 0 ||
      refuse_unsupported(o, c, member, err) < 0)
    goto out;
  if (nook_check_root_path(c, bundle, err) < 0 ||
      (rootfs = resolve_rootfs(bundle, c->root_path, err)) == NULL)
    goto out;
  /* A pod's member: a container in its sandbox's VM (pod.h). */
  if (member) {
    ret = vmm_pod_create(o, c, text, len, bundle, rootfs, sandbox, mode.backend, monitor, err);
    goto out;
  }
  if (vmm_state_begin(root, o->id, bundle, rootfs, mode.backend, text, len, &sn, &st, err) < 0 ||
      state_write(sn.dirfd, &st, err) < 0 || state_dir_publish(&sn, o->id, err) < 0)
    goto out;
  /* Only once the id is ours (a create that lost the race for it must not
   * remove the winner's cgroup), and in the state before anything runs in
   * it: whatever dies later, delete finds the cgroup and removes it. */
  if (prepare_confine(o, c, &mode, &settings, &confine, err) < 0)
    goto out;
  st.cgroup = cgroup_paths_serialize(&confine.cgroup);
  if (state_write(sn.dirfd, &st, err) < 0)
    goto out;

  xasprintf(&state_dir, "%s/%s", root, o->id);
  const char *kcache = getenv("NOOK_VM_KCACHE");
  xasprintf(&cache, "%s/initramfs", kcache && *kcache ? kcache : "/var/cache/nook-vm");
  /* NOOK_VM_TEMPLATES: another directory for them (a tmpfs, a test's own). */
  const char *tdir = getenv("NOOK_VM_TEMPLATES");
  if (mode.template && tdir != NULL && *tdir != '\0')
    templates = xstrdup(tdir);
  else if (mode.template)
    xasprintf(&templates, "%s/templates", kcache && *kcache ? kcache : "/var/cache/nook-vm");
  struct vmm_monitor_opts mo = {
      .id = o->id,
      .state_dir = state_dir,
      .bundle = bundle,
      .rootfs = rootfs,
      .config = c,
      .config_text = text,
      .config_len = len,
      .backend = st.vm,
      .annotation = VMM_ANNOTATION,
      .cache_dir = cache,
      .template_dir = templates,
      .seccomp_cache = o->seccomp_cache,
      .settings = &settings,
      .confine = &confine,
      .console_socket = console,
  };
  report = spawn_monitor(&mo, &sn, o->die_with_runtime, &pid, err);
  if (report < 0)
    goto out;
  /* From here a killed CLI leaves a container `delete --force` can find:
   * its pid is the monitor's. */
  st.pid = pid;
  st.pid_start = proc_start_time(pid);
  if (state_write(sn.dirfd, &st, err) < 0)
    goto out_kill;
  msg = xmalloc(sizeof(*msg));
  if (chan_recv(report, CHAN_BIT(CHAN_OK), msg, err) < 0) {
    /* The guest's or the boot's own words; an EOF is a monitor that died. */
    if ((*err)->status == EPIPE) {
      nook_error_free(err);
      nook_error(err, 0, "the VM monitor ended before the container was created");
    }
    goto out_stop;
  }
  vmm_warn_lines(msg->data, msg->len);
  if (c->has_hooks) {
    json = vmm_hook_state_json(c, &st, "created");
    if (hooks_run("createRuntime", c->hooks.create_runtime, c->hooks.n_create_runtime, json, err) <
            0 ||
        hooks_run("prestart", c->hooks.prestart, c->hooks.n_prestart, json, err) < 0)
      goto out_stop;
  }
  st.ready = true;
  if (state_write(sn.dirfd, &st, err) < 0)
    goto out_stop;
  if (pid_file && write_pid_file(pid_file, pid, err) < 0)
    goto out_stop;
  if (chan_send(report, CHAN_OK, 0, NULL, 0, err) < 0)
    goto out_stop;
  *monitor = pid;
  close(sn.dirfd);
  sn.dirfd = -1;
  /* The monitor's now: it removes the cgroup once QEMU is gone. */
  vmm_confine_forget(&confine);
  ret = 0;
  goto out;
out_stop:
  /* Our silence tells the monitor to power off and exit. */
  close(steal_fd(&report));
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  goto out;
out_kill:
  kill_monitor(pid);
out:
  /* Failed: the monitor, if any, is gone; so is QEMU. */
  vmm_confine_release(&confine, NULL);
  free(msg);
  state_dir_abandon(&sn, o->id);
  state_clear(&st);
  oci_config_free(c);
  return ret;
}

/* The config saved at create (for the host's hooks), or NULL. */
static struct oci_config *saved_config(int dirfd)
{
  cleanup_free char *text = NULL;
  size_t len;
  struct oci_config *c = NULL;
  if (read_file_at(dirfd, "config.json", &text, &len, NULL) < 0 ||
      oci_config_parse(text, len, "config.json", &c, NULL) < 0)
    return NULL;
  return c;
}

/* A pod member's start: the guest nook's, through its sandbox's monitor;
 * start.sock goes as a namespace container's does, so the status says
 * running (pod.h). */
static int member_start(int dirfd, int mon, const char *id, nook_error_t *err)
{
  char *argv[] = {"start", (char *)id, NULL};
  int r = vmm_monitor_nook(mon, argv, NULL, 0, NULL, NULL, err);
  if (r == -2) {
    nook_error_free(err);
    return nook_error(err, 0, "cannot start a container that has stopped");
  }
  if (r == 0)
    unlinkat(dirfd, "start.sock", 0);
  return r;
}

int vmm_container_start(const char *root, const char *id, nook_error_t *err)
{
  cleanup_close int dirfd = -1;
  struct nook_state st;
  if (state_dir_open_locked(root, id, &dirfd, err) < 0 || state_read(dirfd, &st, err) < 0)
    return -1;
  cleanup_close int mon = vmm_pod_monitor_dirfd(root, dirfd);
  enum nook_status s = state_status(dirfd, &st);
  int r;
  if (s == NOOK_STOPPED)
    r = nook_error(err, 0, "cannot start a container that has stopped");
  else if (s == NOOK_RUNNING || s == NOOK_PAUSED)
    r = nook_error(err, 0, "cannot start an already running container");
  else if (s != NOOK_CREATED)
    r = nook_error(err, 0, "cannot start a container in the %s state", nook_status_name(s));
  else if (mon >= 0)
    r = member_start(dirfd, mon, id, err);
  else if ((r = monitor_call(dirfd, CHAN_START, 0, NULL, NULL, err)) == -2) {
    nook_error_free(err);
    r = nook_error(err, 0, "cannot start a container that has stopped");
  }
  if (r == 0) {
    struct oci_config *c = saved_config(dirfd);
    if (c && c->has_hooks && c->hooks.n_poststart > 0) {
      cleanup_free char *json = vmm_hook_state_json(c, &st, "running");
      hooks_run_warn("poststart", c->hooks.poststart, c->hooks.n_poststart, json);
    }
    oci_config_free(c);
  }
  state_clear(&st);
  return r < 0 ? -1 : 0;
}

int vmm_container_kill(const char *root, const char *id, int sig, bool all, nook_error_t *err)
{
  cleanup_close int dirfd = -1;
  struct nook_state st;
  if (state_dir_open(root, id, &dirfd, err) < 0 || state_read(dirfd, &st, err) < 0)
    return -1;
  cleanup_close int mon = vmm_pod_monitor_dirfd(root, dirfd);
  enum nook_status s = state_status(dirfd, &st);
  state_clear(&st);
  if (s == NOOK_STOPPED || s == NOOK_CREATING)
    return nook_error(err, 0, "container not running");
  int r;
  if (mon >= 0) {
    char signum[16];
    snprintf(signum, sizeof(signum), "%d", sig);
    char *argv[] = {"kill", all ? "--all" : (char *)id, all ? (char *)id : signum,
                    all ? signum : NULL, NULL};
    r = vmm_monitor_nook(mon, argv, NULL, 0, NULL, NULL, err);
  } else {
    r = monitor_call(dirfd, CHAN_KILL, sig, all ? "all" : NULL, NULL, err);
  }
  if (r == -2) {
    nook_error_free(err);
    return nook_error(err, 0, "container not running");
  }
  return r;
}

/* The container's interface redirected to a tap that went with a killed
 * monitor's QEMU: the monitor removes its record once it has undone that
 * itself, so a record left means nobody did. */
static void release_network(int dirfd)
{
  cleanup_free char *text = NULL;
  size_t len;
  struct net_vm_link link;
  if (read_file_at(dirfd, VMM_NET_RECORD, &text, &len, NULL) < 0 ||
      net_vm_link_from_record(text, &link) < 0)
    return;
  struct oci_config *c = saved_config(dirfd);
  const struct oci_namespace *ns = c ? oci_config_namespace(c, OCI_NS_NETWORK) : NULL;
  /* A namespace that is gone took the redirection with it. */
  cleanup_close int netns = ns && ns->path ? open(ns->path, O_RDONLY | O_CLOEXEC) : -1;
  if (netns >= 0)
    net_vm_link_release(netns, &link);
  oci_config_free(c);
}

int vmm_container_delete(const char *root, const char *id, bool force, nook_error_t *err)
{
  /* A container delete would kill: its monitor switches the VM off and
   * reaps QEMU itself first, so no QEMU is left to whoever reaps orphans. */
  cleanup_close int dirfd = -1;
  struct nook_state st;
  if (nook_validate_id(id, NULL) == 0 && state_dir_open(root, id, &dirfd, NULL) == 0 &&
      state_read(dirfd, &st, NULL) >= 0) {
    cleanup_close int mon = vmm_pod_monitor_dirfd(root, dirfd);
    enum nook_status s = state_status(dirfd, &st);
    if (mon >= 0 && (force || s != NOOK_RUNNING)) {
      /* A member: out of the sandbox's guest, its share unmounted; a
       * sandbox that is gone took it with it.  Its proxy ends with its
       * init; whatever is left of it goes as a killed container's. */
      char *argv[] = {"delete", "--force", (char *)id, NULL};
      nook_error_t e = NULL;
      vmm_monitor_nook(mon, argv, NULL, 0, NULL, NULL, &e);
      nook_error_free(&e);
      force = true;
    } else if (mon < 0 && (s == NOOK_CREATED || (force && s != NOOK_STOPPED))) {
      nook_error_t e = NULL;
      monitor_call(dirfd, CHAN_POWEROFF, 0, NULL, NULL, &e);
      nook_error_free(&e);
    }
    if (mon < 0 && (force || s == NOOK_CREATED || s == NOOK_STOPPED))
      release_network(dirfd);
    state_clear(&st);
  }
  return nook_container_delete(root, id, force, err);
}

/* While the monitor lives, it knows whether the workload does. */
static enum nook_status ask_monitor(const char *root, const char *id, enum nook_status computed)
{
  cleanup_close int dirfd = -1;
  if (state_dir_open(root, id, &dirfd, NULL) < 0)
    return computed;
  /* A member's proxy stands for its init: the computed status (pod.h). */
  cleanup_free char *sandbox = vmm_pod_sandbox_of(dirfd);
  if (sandbox != NULL)
    return computed;
  int value = 0;
  nook_error_t e = NULL;
  int r = monitor_call(dirfd, CHAN_STATE, 0, NULL, &value, &e);
  nook_error_free(&e);
  if (r == 0 && value >= NOOK_CREATING && value <= NOOK_STOPPED)
    return (enum nook_status)value;
  /* No socket yet while it boots; gone once the workload ended. */
  return computed == NOOK_CREATING ? computed : NOOK_STOPPED;
}

int vmm_container_state_json(const char *root, const char *id, char **out, nook_error_t *err)
{
  return nook_container_state_json_as(root, id, ask_monitor, out, err);
}

/* Wait for the monitor, passing on the signals nook gets (as runc's run
 * does); the monitor hands them to the container's init. */
static int wait_monitor(pid_t pid, int *status, nook_error_t *err)
{
  sigset_t fwd, old;
  vmm_forwarded_signals(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, &old);
  cleanup_close int sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
  cleanup_close int pidfd = sys_pidfd_open(pid, 0);
  int r = 0;
  if (sigfd < 0 || pidfd < 0)
    r = nook_error(err, errno, "wait for the VM monitor");
  while (r == 0) {
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno != EINTR)
        r = nook_error(err, errno, "poll");
      continue;
    }
    struct signalfd_siginfo si;
    while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
      kill(pid, (int)si.ssi_signo);
    if (p[0].revents)
      break;
  }
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0) {
    if (errno != EINTR) {
      r = nook_error(err, errno, "wait for the VM monitor");
      break;
    }
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (r == 0)
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  return r;
}

/* run in the foreground with a terminal and no console socket: our own
 * console socket takes the master the monitor sends at create, and we
 * proxy it to our terminal, as namespace mode's run does. */
struct own_console {
  char *dir, *path;
  int lfd;
};

static int own_console_listen(struct own_console *oc, nook_error_t *err)
{
  const char *tmp = getenv("TMPDIR");
  xasprintf(&oc->dir, "%s/nook-tty-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(oc->dir) == NULL)
    return nook_error(err, errno, "mkdtemp `%s`", oc->dir);
  xasprintf(&oc->path, "%s/console.sock", oc->dir);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(oc->path) >= sizeof(sa.sun_path))
    return nook_error(err, ENAMETOOLONG, "console socket `%s`", oc->path);
  strcpy(sa.sun_path, oc->path);
  oc->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (oc->lfd < 0)
    return nook_error(err, errno, "socket");
  if (bind(oc->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(oc->lfd, 1) < 0)
    return nook_error(err, errno, "listen on `%s`", oc->path);
  return 0;
}

static void own_console_remove(struct own_console *oc)
{
  if (oc->lfd >= 0)
    close(oc->lfd);
  if (oc->path)
    unlink(oc->path);
  if (oc->dir)
    rmdir(oc->dir);
  free(oc->path);
  free(oc->dir);
}

static bool wants_terminal(const struct nook_create_opts *o)
{
  cleanup_free char *bundle = absolute_path(o->bundle ? o->bundle : ".");
  cleanup_free char *text = NULL;
  struct oci_config *c = NULL;
  size_t len;
  /* A bad config is create's to report. */
  bool tty = read_config(o, bundle, &text, &len, &c, NULL) == 0 && c->process.terminal;
  oci_config_free(c);
  return tty;
}

int vmm_container_run(const struct nook_create_opts *o, bool invoked_as_vm, int *status,
                      nook_error_t *err)
{
  pid_t pid;
  struct own_console oc = {.lfd = -1};
  struct nook_create_opts opts = *o;
  cleanup_close int master = -1;
  int r = -1;
  if (o->console_socket == NULL && !o->detach && wants_terminal(o)) {
    if (own_console_listen(&oc, err) < 0)
      goto out;
    opts.console_socket = oc.path;
  }
  if (vmm_container_create(&opts, invoked_as_vm, &pid, err) < 0)
    goto out;
  if (oc.lfd >= 0 && (master = terminal_receive_from_socket(oc.lfd, oc.path, err)) < 0) {
    vmm_container_delete(o->root, o->id, true, NULL);
    waitpid(pid, NULL, 0);
    goto out;
  }
  if (vmm_container_start(o->root, o->id, err) < 0) {
    vmm_container_delete(o->root, o->id, true, NULL);
    waitpid(pid, NULL, 0);
    goto out;
  }
  *status = 0;
  if (o->detach) {
    r = 0;
    goto out;
  }
  if (master >= 0) {
    sigset_t all, old;
    block_signals_for_forwarding(&all, &old);
    /* The pty proxy takes the window size changes (its signalfd). */
    sigdelset(&all, SIGWINCH);
    wait_foreground(pid, master, &all, status);
    sigprocmask(SIG_SETMASK, &old, NULL);
  } else if (wait_monitor(pid, status, err) < 0) {
    goto out;
  }
  if (!o->keep && nook_container_delete(o->root, o->id, false, err) < 0)
    goto out;
  r = 0;
out:
  own_console_remove(&oc);
  return r;
}
