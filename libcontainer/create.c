/* create: from a bundle to a container process waiting for start. */
#include "container_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/reap.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../net/net.h"
#include "../oci/config.h"
#include "../oci/state.h"
#include "hooks.h"
#include "process.h"
#include "rootless.h"
#include "seccomp.h"
#include "spawn.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"

/* ---- create -------------------------------------------------------------- */

struct creating {
  const struct nook_create_opts *o;
  const struct oci_config *config;
  const struct cgroup_manager *cgm;
  struct cgroup_paths cg;
  bool have_cg;
  char *no_cg_why; /* rootless, no cgroup to be had: why */
  int dirfd;
  struct nook_state st;
};

/* SIGTERM, SIGINT or SIGHUP during `create`: the handler only records it
 * and kills the container process (whose death ends every wait of the
 * set-up); create then fails through its usual clean-up, so nothing it made
 * is left behind. */
static volatile sig_atomic_t create_interrupted;
static volatile pid_t create_child = -1;

static volatile sig_atomic_t create_made_something;

static void on_create_signal(int sig)
{
  if (!create_made_something) {
    /* Nothing to undo yet (parsing, compiling seccomp): just die of it. */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  create_interrupted = sig;
  pid_t p = create_child;
  if (p > 0)
    kill(p, SIGKILL);
}

static const int create_signals[] = {SIGTERM, SIGINT, SIGHUP};

void create_signals_catch(void)
{
  struct sigaction sa = {.sa_handler = on_create_signal};
  sigemptyset(&sa.sa_mask);
  create_interrupted = 0;
  create_made_something = 0;
  create_child = -1;
  for (size_t i = 0; i < ARRAY_SIZE(create_signals); i++)
    sigaction(create_signals[i], &sa, NULL);
}

/* The handlers stay until exit: a signal arriving after the container was
 * made must not kill the runtime with a status that says it failed. */
void create_signals_done(void)
{
  create_child = -1;
}

int create_interrupted_by(void)
{
  return create_interrupted;
}

static int check_interrupted(nook_error_t *err)
{
  if (create_interrupted == 0)
    return 0;
  return nook_error(err, EINTR, "create interrupted by %s", strsignal(create_interrupted));
}

static int drop_cgroup(struct creating *cr, const char *why, nook_error_t *err);
static struct oci_resources container_resources(const struct creating *cr,
                                                struct oci_device_cgroup **rules);
static int start_cgroup(struct creating *cr, pid_t pid, nook_error_t *err);

static int cb_before_go(void *data, pid_t pid, nook_error_t *err)
{
  struct creating *cr = data;
  create_child = pid;
  if (create_interrupted)
    kill(pid, SIGKILL);
  if (!cr->have_cg)
    return 0;
  if (cr->cgm->start)
    return start_cgroup(cr, pid, err);
  if (cr->cgm->enter(&cr->cg, pid, err) == 0) {
    if (!cr->o->rootless)
      return 0;
    /* Rootless, the resources wait until the container is in its cgroup
     * (it runs nothing before SYNC_GO): a cgroup it cannot join gets no
     * limits, so each resource is reported once, whichever way it fails. */
    cleanup_free struct oci_device_cgroup *rules = NULL;
    struct oci_resources res = container_resources(cr, &rules);
    return rootless_apply_resources(cr->cgm, &cr->cg, &res, NULL, err);
  }
  /* A directory the user owns outside its own cgroup's subtree: cgroup v2
   * lets a process be moved only by who may write the cgroup.procs of both
   * ends' common ancestor. */
  if (!cr->o->rootless || !rootless_cgroup_denied(*err))
    return -1;
  cleanup_free char *text = nook_error_text(*err);
  nook_error_free(err);
  cleanup_free char *why = NULL;
  xasprintf(&why, "running rootless, and the container could not join its cgroup (%s)", text);
  return drop_cgroup(cr, why, err);
}

static int cb_on_pid(void *data, pid_t pid, nook_error_t *err)
{
  struct creating *cr = data;
  create_child = pid;
  cr->st.pid = pid;
  cr->st.pid_start = proc_start_time(pid);
  if (check_interrupted(err) < 0)
    return -1;
  return state_write(cr->dirfd, &cr->st, err);
}

static int cb_run_hooks(void *data, pid_t pid, char **state_json, nook_error_t *err)
{
  struct creating *cr = data;
  const struct oci_config *c = cr->config;
  /* These hooks run after lifecycle step 2, when the runtime environment
   * exists: runtime.md calls that state "created", and createContainer
   * (in the container, later still) gets the same. */
  cleanup_free char *created = state_json_for(c, &cr->st, "created", false);
  if (c->linux_.n_net_devices > 0) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
    cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0)
      return nook_error(err, errno, "linux.netDevices: open `%s`", path);
    if (net_move_devices(&c->linux_, ns, err) < 0)
      return -1;
  }
  if (c->has_hooks) {
    /* runc's order: the deprecated prestart hooks first, then createRuntime. */
    if (hooks_run("prestart", c->hooks.prestart, c->hooks.n_prestart, created, err) < 0)
      return -1;
    if (hooks_run("createRuntime", c->hooks.create_runtime, c->hooks.n_create_runtime, created,
                  err) < 0)
      return -1;
  }
  *state_json = steal_pointer(&created);
  return 0;
}

/* The device rules the cgroup gets, in runc's order: the config's own, then
 * the devices every container needs.  A linux.devices entry gets no rule of
 * its own: the node exists, but whether it may be used is the config's
 * linux.resources.devices to say (a deny-all there must hold for it too). */
static const struct oci_device_cgroup default_allowed[] = {
    {.allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m"},
    {.allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 1,
     .minor = 3,
     .access = "rwm"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 1,
     .minor = 8,
     .access = "rwm"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 1,
     .minor = 7,
     .access = "rwm"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 5,
     .minor = 0,
     .access = "rwm"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 1,
     .minor = 5,
     .access = "rwm"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 1,
     .minor = 9,
     .access = "rwm"},
    {.allow = true, .type = 'c', .has_major = true, .major = 136, .minor = -1, .access = "rwm"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 5,
     .minor = 2,
     .access = "rwm"},
    {.allow = true,
     .type = 'c',
     .has_major = true,
     .has_minor = true,
     .major = 10,
     .minor = 200,
     .access = "rwm"},
};

static struct oci_device_cgroup *device_rules(const struct oci_config *c, size_t *n)
{
  const struct oci_resources *r = &c->linux_.resources;
  size_t own = c->linux_.has_resources ? r->n_devices : 0;
  size_t total = own + ARRAY_SIZE(default_allowed);
  struct oci_device_cgroup *v = xcalloc(total, sizeof(*v));
  size_t k = 0;
  for (size_t i = 0; i < own; i++)
    v[k++] = r->devices[i];
  for (size_t i = 0; i < ARRAY_SIZE(default_allowed); i++)
    v[k++] = default_allowed[i];
  *n = k;
  return v;
}

static int cb_seccomp_fd(void *data, pid_t pid, int fd, nook_error_t *err)
{
  struct creating *cr = data;
  cleanup_free char *json = state_json_for(cr->config, &cr->st, "creating", false);
  return seccomp_send_notify_fd(&cr->config->linux_.seccomp, fd, json, pid, err);
}

static int cb_created_json(void *data, char **state_json)
{
  struct creating *cr = data;
  *state_json = state_json_for(cr->config, &cr->st, "created", false);
  return 0;
}

/* Which cgroup manager, and the cgroup the container will get, recorded in
 * the first state.json before anything is made. */
static int plan_cgroup(struct creating *cr, nook_error_t *err)
{
  struct cgroup_paths plan = {0};
  enum cgroup_driver driver = cr->o->systemd_cgroup ? CGROUP_DRIVER_SYSTEMD : CGROUP_DRIVER_FS;
  if (cgroup_plan(driver, cr->config->linux_.cgroups_path, cr->o->id, &plan, err) < 0) {
    /* Rootless where no cgroup hierarchy is to be had (none mounted, the
     * caller's cgroup not visible): the container goes without, unless the
     * config named one or the systemd driver was asked for. */
    if (!cr->o->rootless || cr->config->linux_.cgroups_path != NULL || cr->o->systemd_cgroup)
      return nook_error_wrap(err, "linux.cgroupsPath");
    cleanup_free char *text = nook_error_text(*err);
    nook_error_free(err);
    xasprintf(&cr->no_cg_why, "running rootless without a cgroup (%s)", text);
    return 0;
  }
  cr->cgm = cgroup_manager_of(&plan);
  cr->st.cgroup = cgroup_paths_serialize(&plan);
  cgroup_paths_clear(&plan);
  return 0;
}

/* What the container gets of linux.resources: device rules always (runc's
 * defaults after the config's own), everything else when set.  Rootless,
 * the defaults are left out: a user namespace cannot make device nodes, and
 * the ones it binds from the host keep the user's own access to them. */
static struct oci_resources container_resources(const struct creating *cr,
                                                struct oci_device_cgroup **rules)
{
  const struct oci_config *c = cr->config;
  struct oci_resources res = {0};
  if (c->linux_.has_resources)
    res = c->linux_.resources;
  *rules = NULL;
  if (cr->o->rootless && res.n_devices == 0) {
    res.devices = NULL;
    return res;
  }
  *rules = device_rules(c, &res.n_devices);
  res.devices = *rules;
  return res;
}

/* Rootless and without (or no longer with) a cgroup: what was made is
 * removed, the state says there is none, and each resource the config set
 * gets its warning. */
static int drop_cgroup(struct creating *cr, const char *why, nook_error_t *err)
{
  if (cr->have_cg) {
    nook_error_t e2 = NULL;
    if (cr->cgm->destroy(&cr->cg, &e2) < 0) {
      cleanup_free char *t = nook_error_text(e2);
      nook_warn("remove the cgroup the container could not use: %s", t);
      nook_error_free(&e2);
    }
    cr->have_cg = false;
    cgroup_paths_clear(&cr->cg);
  }
  nook_debug("%s", why);
  if (cr->st.cgroup) {
    free(cr->st.cgroup);
    cr->st.cgroup = NULL;
    if (state_write(cr->dirfd, &cr->st, err) < 0)
      return -1;
  }
  cleanup_free struct oci_device_cgroup *rules = NULL;
  struct oci_resources res = container_resources(cr, &rules);
  return rootless_apply_resources(cr->cgm, NULL, &res, why, err);
}

/* Keep state.json's cgroup record what the manager reports. */
static int record_cgroup(struct creating *cr, nook_error_t *err)
{
  cleanup_free char *made = cgroup_paths_serialize(&cr->cg);
  if (strcmp(made, cr->st.cgroup) == 0)
    return 0;
  free(cr->st.cgroup);
  cr->st.cgroup = steal_pointer(&made);
  return state_write(cr->dirfd, &cr->st, err);
}

/* A manager with start (systemd): the cgroup is made now, around the
 * container process, which waits for SYNC_GO meanwhile. */
static int start_cgroup(struct creating *cr, pid_t pid, nook_error_t *err)
{
  const struct oci_config *c = cr->config;
  cleanup_free struct oci_device_cgroup *rules = NULL;
  struct oci_resources res = container_resources(cr, &rules);
  if (cr->cgm->start(&cr->cg, pid, &res, c->annotations, c->n_annotations, err) < 0)
    return nook_error_wrap(err, "linux.cgroupsPath");
  if (cgroup_refuse_frozen(&cr->cg, err) < 0)
    return nook_error_wrap(err, "linux.cgroupsPath");
  return record_cgroup(cr, err);
}

static void warn_if_shared(struct creating *cr)
{
  cleanup_free pid_t *others = NULL;
  size_t n_others = 0;
  nook_error_t ignored = NULL;
  if (cr->cgm->pids(&cr->cg, &others, &n_others, &ignored) < 0)
    nook_error_free(&ignored);
  else if (n_others > 0)
    nook_warn("linux.cgroupsPath: the container's cgroup is not empty: %zu process(es) in it "
              "already",
              n_others);
}

static int setup_cgroup(struct creating *cr, nook_error_t *err)
{
  const struct oci_config *c = cr->config;
  if (cr->cgm == NULL)
    return drop_cgroup(cr, cr->no_cg_why, err);
  if (cr->cgm->create(c->linux_.cgroups_path, cr->o->id, &cr->cg, err) < 0) {
    if (!cr->o->rootless || !rootless_cgroup_denied(*err))
      return nook_error_wrap(err, "linux.cgroupsPath");
    cleanup_free char *text = nook_error_text(*err);
    nook_error_free(err);
    cleanup_free char *why = NULL;
    xasprintf(&why, "running rootless without a cgroup (%s)", text);
    return drop_cgroup(cr, why, err);
  }
  cr->have_cg = true;
  /* A concurrent create or delete may have changed which parents are ours. */
  if (record_cgroup(cr, err) < 0)
    return -1;
  if (cr->cgm->start)
    return 0;
  if (cgroup_refuse_frozen(&cr->cg, err) < 0)
    return nook_error_wrap(err, "linux.cgroupsPath");
  /* Sharing a cgroup is allowed (runc warns too), but its limits, stats,
   * pause and kill --all then cover processes that are not the container's.
   * (A cgroup this create made has none: not read.  It may still be frozen,
   * by a frozen parent: that check stays.) */
  if (!cgroup_paths_fresh(&cr->cg))
    warn_if_shared(cr);

  if (cr->o->rootless)
    return 0; /* applied once the container joined it: cb_before_go */
  cleanup_free struct oci_device_cgroup *rules = NULL;
  struct oci_resources res = container_resources(cr, &rules);
  return cr->cgm->apply(&cr->cg, &res, err);
}

/* The socket `start` connects to.  Its path goes through the state dir fd so
 * that a deep --root never overflows sun_path. */
static int listen_start_socket(int dirfd, nook_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/start.sock", dirfd);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error(err, errno, "socket");
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
    int e = errno;
    close(fd);
    return nook_error(err, e, "bind start.sock");
  }
  return fd;
}

/* A --pid-file inside the state root would overwrite some container's
 * state (ROOT/OTHER/state.json): refused, by path and by real location. */
static int check_pid_file(const char *pid_file, const char *root, nook_error_t *err)
{
  if (pid_file == NULL)
    return 0;
  size_t n = strlen(root);
  bool inside = strncmp(pid_file, root, n) == 0 && (pid_file[n] == '/' || n == 1);
  if (!inside) {
    cleanup_free char *rroot = realpath(root, NULL);
    cleanup_free char *dir = xstrdup(pid_file);
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = '\0';
    cleanup_free char *rdir = realpath(*dir ? dir : "/", NULL);
    if (rroot && rdir) {
      size_t m = strlen(rroot);
      inside = strncmp(rdir, rroot, m) == 0 && (rdir[m] == '/' || rdir[m] == '\0' || m == 1);
    }
  }
  if (inside)
    return nook_error(err, 0, "--pid-file `%s` is inside the state root `%s`", pid_file, root);
  return 0;
}

/* LISTEN_FDS (socket activation) pass through as runc does: the fds join the
 * preserved ones and the workload is told it is their listener. */
static int listen_fds(void)
{
  long long n;
  long long pid;
  const char *s = getenv("LISTEN_FDS");
  const char *p = getenv("LISTEN_PID");
  if (s == NULL || parse_int64(s, &n) < 0 || n < 0 || n > 4096)
    return 0;
  /* sd_listen_fds(3): the fds are only ours if LISTEN_PID names us. */
  if (p == NULL || parse_int64(p, &pid) < 0 || pid != getpid())
    return 0;
  return (int)n;
}

static void add_listen_env(struct oci_config *c, int n)
{
  size_t count = strv_len(c->process.env);
  c->process.env = xrealloc(c->process.env, (count + 3) * sizeof(char *));
  xasprintf(&c->process.env[count++], "LISTEN_FDS=%d", n);
  c->process.env[count++] = xstrdup("LISTEN_PID=1");
  c->process.env[count] = NULL;
  c->process.n_env = count;
}

/* What the config asks for that this host cannot give: refused up front,
 * naming the field, rather than silently not applied. */
static int check_host_support(const struct oci_config *c, nook_error_t *err)
{
  const struct oci_linux *l = &c->linux_;
  if (check_process_lsm(&c->process, err) < 0)
    return -1;
  if (l->has_intel_rdt) {
    struct statfs sfs;
    if (statfs("/sys/fs/resctrl", &sfs) < 0 || sfs.f_type != RDTGROUP_SUPER_MAGIC)
      return nook_error(err, 0,
                        "linux.intelRdt: no resctrl filesystem is mounted at "
                        "/sys/fs/resctrl");
    return nook_error(err, 0, "linux.intelRdt: resctrl groups are not part of this nook build");
  }
  bool netns = false;
  for (size_t i = 0; i < l->n_namespaces; i++)
    if (l->namespaces[i].type == OCI_NS_NETWORK && l->namespaces[i].path == NULL)
      netns = true;
  if (l->n_net_devices > 0 && !netns)
    return nook_error(err, 0, "linux.netDevices: moving devices needs a new network namespace");
  return 0;
}

/* Said in the config's terms, before nook's own steps (binding the rootfs
 * onto itself, ...) would fail on it in theirs. */
int nook_check_root_path(const struct oci_config *c, const char *bundle, nook_error_t *err)
{
  cleanup_free char *path = NULL;
  if (c->root_path[0] == '/')
    path = xstrdup(c->root_path);
  else
    xasprintf(&path, "%s/%s", bundle, c->root_path);
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT)
      return nook_error(err, 0, "root.path: %s does not exist", path);
    return nook_error(err, errno, "root.path: %s", path);
  }
  if (!S_ISDIR(st.st_mode))
    return nook_error(err, 0, "root.path: %s is not a directory", path);
  return 0;
}

static bool is_selinux_mount_option(const char *opt)
{
  static const char *const names[] = {"context=", "fscontext=", "defcontext=", "rootcontext="};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    if (has_prefix(opt, names[i]))
      return true;
  return false;
}

/* SELinux mount labels on a host without SELinux: the kernel would refuse
 * the mounts.  crun drops them with a warning, and so does nook. */
static void drop_selinux_mount_labels(struct oci_config *c)
{
  if (lsm_enabled("selinux"))
    return;
  if (c->linux_.mount_label) {
    nook_warn("config.json: linux.mountLabel: SELinux is not enabled on this host, the label is "
              "not applied");
    free(c->linux_.mount_label);
    c->linux_.mount_label = NULL;
  }
  for (size_t i = 0; i < c->n_mounts; i++) {
    struct oci_mount *m = &c->mounts[i];
    size_t k = 0;
    for (size_t j = 0; j < m->n_options; j++) {
      if (is_selinux_mount_option(m->options[j])) {
        nook_warn("config.json: mounts[%zu].options: SELinux is not enabled on this host, "
                  "\"%s\" is not applied",
                  i, m->options[j]);
        free(m->options[j]);
      } else {
        m->options[k++] = m->options[j];
      }
    }
    m->n_options = k;
    if (m->options)
      m->options[k] = NULL;
  }
}

/* What the spec says to log and go on with rather than refuse. */
static void warn_config(const struct oci_config *c)
{
  if (oci_version_newer_minor(c->oci_version))
    nook_warn("config.json: ociVersion: \"%s\" is newer than the runtime-spec %d.%d.0 nook "
              "implements: fields it does not know are ignored",
              c->oci_version, OCI_VERSION_MAJOR, OCI_VERSION_MINOR);
  if (oci_version_draft(c->oci_version))
    nook_warn("config.json: ociVersion: \"%s\" is a draft from before runtime-spec 1.0.0: "
              "read as %d.%d.0",
              c->oci_version, OCI_VERSION_MAJOR, OCI_VERSION_MINOR);
  for (size_t i = 0; i < c->process.n_unknown_caps; i++)
    nook_warn("config.json: %s, ignored", c->process.unknown_caps[i]);
}

void created_release(struct created *c)
{
  if (c->sr.sock >= 0)
    close(c->sr.sock);
  if (c->sr.pty_master >= 0)
    close(c->sr.pty_master);
  if (c->dirfd >= 0)
    close(c->dirfd);
  oci_config_free(c->config);
  state_clear(&c->st);
  cgroup_paths_clear(&c->cg);
}

int do_create(const struct nook_create_opts *o, bool run_mode, struct created *out,
              nook_error_t *err)
{
  struct oci_config *c = NULL;
  cleanup_free char *bundle = NULL;
  cleanup_free char *config_text = NULL;
  cleanup_free char *pid_file = absolute_path(o->pid_file);
  cleanup_free char *console = absolute_path(o->console_socket);
  cleanup_free char *root = absolute_path(o->root);
  size_t config_len = 0;
  int start_fd = -1, ret = -1;
  struct state_new sn = {.rootfd = -1, .dirfd = -1};
  struct creating cr = {.o = o, .dirfd = -1};
  struct seccomp_prog prog = {0};
  memset(out, 0, sizeof(*out));
  out->dirfd = -1;
  out->sr.sock = out->sr.pty_master = out->sr.seccomp_fd = -1;

  if (nook_validate_id(o->id, err) < 0 || process_check_preserved_fds(o->preserve_fds, err) < 0 ||
      check_pid_file(pid_file, root, err) < 0)
    return -1;
  bundle = absolute_path(o->bundle ? o->bundle : ".");
  if (chdir(bundle) < 0)
    return nook_error(err, errno, "bundle `%s`", bundle);
  if (o->config_json != NULL) {
    config_text = xstrndup(o->config_json, o->config_len);
    config_len = o->config_len;
  } else if (read_file_at(AT_FDCWD, "config.json", &config_text, &config_len, err) < 0) {
    return nook_error_wrap(err, "bundle `%s`", bundle);
  }
  if (oci_config_parse(config_text, config_len, "config.json", &c, err) < 0)
    return -1;
  if (oci_config_validate(c, true, err) < 0) {
    nook_error_wrap(err, "config.json");
    goto out;
  }
  if (check_host_support(c, err) < 0 || nook_check_root_path(c, bundle, err) < 0)
    goto out;
  warn_config(c);
  drop_selinux_mount_labels(c);
  if (c->process.terminal && console == NULL && (!run_mode || o->detach)) {
    nook_error(err, 0, "process.terminal is true: a detached container needs --console-socket");
    goto out;
  }
  if (!c->process.terminal && console) {
    nook_error(err, 0, "--console-socket given but process.terminal is false");
    goto out;
  }
  int nlisten = listen_fds();
  if (nlisten > 0)
    add_listen_env(c, nlisten);

  /* Before anything is made: a profile that takes long to compile can be
   * interrupted with nothing to undo. */
  if (c->linux_.has_seccomp &&
      seccomp_compile(&c->linux_.seccomp, o->seccomp_cache, &prog, err) < 0)
    goto out;
  create_made_something = 1;
  if (state_dir_create(root, o->id, &sn, err) < 0)
    goto out;
  cr.dirfd = sn.dirfd;
  /* Written before the directory is published: no reader sees it partial. */
  if (write_file_at(cr.dirfd, "config.json", O_CREAT | O_TRUNC, 0600, config_text, config_len,
                    err) < 0)
    goto out;

  cr.config = c;
  cr.st.id = xstrdup(o->id);
  cr.st.bundle = xstrdup(bundle);
  cr.st.rootfs = c->root_path[0] == '/' ? xstrdup(c->root_path) : NULL;
  if (cr.st.rootfs == NULL)
    xasprintf(&cr.st.rootfs, "%s/%s", bundle, c->root_path);
  cr.st.created = now_rfc3339();
  /* As runc's state: empty; `list` names the state directory's owner. */
  cr.st.owner = xstrdup("");

  if (plan_cgroup(&cr, err) < 0 || state_write(cr.dirfd, &cr.st, err) < 0 ||
      state_dir_publish(&sn, o->id, err) < 0)
    goto out;
  if (check_interrupted(err) < 0 || setup_cgroup(&cr, err) < 0 || check_interrupted(err) < 0)
    goto out;
  if (!run_mode && (start_fd = listen_start_socket(cr.dirfd, err)) < 0)
    goto out;

  struct spawn_ctx sc = {.config = c,
                         .id = o->id,
                         .bundle = bundle,
                         .rootfs = cr.st.rootfs,
                         .preserve_fds = o->preserve_fds + nlisten,
                         .no_pivot = o->no_pivot,
                         .no_new_keyring = o->no_new_keyring,
                         .die_with_runtime = o->die_with_runtime,
                         .rootless = o->rootless,
                         .start_fd = start_fd,
                         .state_dirfd = cr.dirfd,
                         .state_rootfd = sn.rootfd};
  if (c->linux_.has_seccomp)
    sc.seccomp = &prog;
  spawn_plan_namespaces(&sc);
  struct spawn_callbacks cb = {.on_pid = cb_on_pid,
                               .before_go = cb_before_go,
                               .run_hooks = cb_run_hooks,
                               .created_json = cb_created_json,
                               .seccomp_fd = cb_seccomp_fd,
                               .data = &cr};
  if (spawn_container(&sc, &cb, &out->sr, err) < 0) {
    if (create_interrupted) {
      nook_error_free(err);
      check_interrupted(err);
    }
    goto out;
  }
  if (check_interrupted(err) < 0)
    goto out_kill;
  if (console && out->sr.pty_master >= 0) {
    if (terminal_send_to_socket(console, out->sr.pty_master, err) < 0)
      goto out_kill;
    close(out->sr.pty_master);
    out->sr.pty_master = -1;
  }
  cr.st.ready = true;
  if (state_write(cr.dirfd, &cr.st, err) < 0)
    goto out_kill;
  if (pid_file && write_pid_file(pid_file, out->sr.pid, err) < 0)
    goto out_kill;
  if (check_interrupted(err) < 0)
    goto out_kill;

  out->config = steal_pointer(&c);
  out->dirfd = sn.dirfd;
  sn.dirfd = -1;
  out->st = cr.st;
  memset(&cr.st, 0, sizeof(cr.st));
  out->cg = cr.cg;
  memset(&cr.cg, 0, sizeof(cr.cg));
  out->cgm = cr.cgm;
  out->have_cg = cr.have_cg;
  cr.have_cg = false;
  ret = 0;
  goto out;

out_kill:
  kill_and_reap(out->sr.pid);
out:
  if (start_fd >= 0)
    close(start_fd);
  if (ret < 0) {
    if (cr.have_cg) {
      nook_error_t e2 = NULL;
      if (cr.cgm->destroy(&cr.cg, &e2) < 0) {
        cleanup_free char *t = nook_error_text(e2);
        nook_warn("cleanup after failed create: %s", t);
        nook_error_free(&e2);
      }
    }
    if (out->sr.sock >= 0)
      close(out->sr.sock);
    if (out->sr.pty_master >= 0)
      close(out->sr.pty_master);
    out->sr.sock = out->sr.pty_master = -1;
  }
  /* On failure: removes the directory only while it is still the one made
   * here; a competing create may own the id by now. */
  state_dir_abandon(&sn, o->id);
  cgroup_paths_clear(&cr.cg);
  free(cr.no_cg_why);
  state_clear(&cr.st);
  seccomp_prog_clear(&prog);
  oci_config_free(c);
  return ret;
}

int created_start(struct created *cr, nook_error_t *err)
{
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  int r = sync_send(cr->sr.sock, SYNC_START, 0, NULL, -1, err);
  if (r == 0)
    r = sync_wait_exec(cr->sr.sock, msg, err);
  free(msg);
  return r;
}

int nook_container_create(const struct nook_create_opts *o, nook_error_t *err)
{
  struct created cr;
  create_signals_catch();
  int r = do_create(o, false, &cr, err);
  create_signals_done();
  if (r < 0)
    return -1;
  created_release(&cr);
  return 0;
}
