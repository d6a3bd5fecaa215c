/* The lifecycle commands: create, start, run, kill, delete, state, list. */
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
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../net/net.h"
#include "../oci/config.h"
#include "../oci/state.h"
#include "hooks.h"
#include "rootless.h"
#include "seccomp.h"
#include "spawn.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"

int nook_validate_id(const char *id, nook_error_t *err)
{
  size_t n = id ? strlen(id) : 0;
  if (n == 0)
    return nook_error(err, 0, "container id must not be empty");
  if (n > 1024)
    return nook_error(err, 0, "container id is longer than 1024 bytes");
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return nook_error(err, 0, "invalid container id \"%s\"", id);
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '+' || *p == '-' || *p == '.'))
      return nook_error(err, 0, "invalid container id \"%s\": only [A-Za-z0-9_+.-] are allowed",
                        id);
  return 0;
}

char *state_json_for(const struct oci_config *c, const struct nook_state *st, const char *status,
                     bool pretty)
{
  /* A VM-mode container says so in its state even when the config chose
   * the mode by other means than the annotation. */
  struct oci_kv *extra = NULL;
  size_t n_ann = c ? c->n_annotations : 0;
  bool has_vm = false;
  for (size_t i = 0; i < n_ann; i++)
    has_vm |= strcmp(c->annotations[i].key, STATE_VM_ANNOTATION) == 0;
  if (st->vm != NULL && !has_vm) {
    extra = xmalloc((n_ann + 1) * sizeof(*extra));
    for (size_t i = 0; i < n_ann; i++)
      extra[i] = c->annotations[i];
    extra[n_ann++] = (struct oci_kv){.key = (char *)STATE_VM_ANNOTATION, .value = st->vm};
  }
  struct oci_state s = {.oci_version = "1.3.0",
                        .id = st->id,
                        .status = status,
                        .pid = st->pid,
                        .bundle = st->bundle,
                        .annotations = extra ? extra
                                       : c   ? c->annotations
                                             : NULL,
                        .n_annotations = n_ann,
                        .rootfs = st->rootfs,
                        .created = st->created,
                        .owner = st->owner};
  char *json = oci_state_to_json(&s, pretty);
  free(extra);
  return json;
}

/* ---- loading an existing container --------------------------------------- */

void loaded_release(struct loaded *l)
{
  if (l->dirfd >= 0)
    close(l->dirfd);
  state_clear(&l->st);
  oci_config_free(l->config);
  l->config = NULL;
  l->dirfd = -1;
}

int load_container(const char *root, const char *id, bool lock, bool want_config, struct loaded *l,
                   nook_error_t *err)
{
  memset(l, 0, sizeof(*l));
  l->dirfd = -1;
  if (nook_validate_id(id, err) < 0)
    return -1;
  if ((lock ? state_dir_open_locked(root, id, &l->dirfd, err)
            : state_dir_open(root, id, &l->dirfd, err)) < 0)
    return -1;
  if (state_read(l->dirfd, &l->st, err) < 0) {
    if ((*err)->status != ENOENT)
      goto fail;
    struct stat sb;
    if (fstat(l->dirfd, &sb) == 0 && sb.st_nlink == 0) {
      /* Deleted between our open and read. */
      nook_error_free(err);
      nook_error(err, 0, "container \"%s\" does not exist", id);
      goto fail;
    }
    /* A runtime killed before it wrote any state: nothing runs. */
    nook_error_free(err);
    l->st.id = xstrdup(id);
    l->st.ready = true;
  }
  l->status = state_status(l->dirfd, &l->st);
  if (l->status == NOOK_RUNNING && l->st.cgroup) {
    /* Paused is the freezer's word, not the process's. */
    const struct cgroup_manager *m = NULL;
    struct cgroup_paths p = {0};
    bool frozen = false;
    nook_error_t e = NULL;
    if (loaded_cgroup(&l->st, &m, &p, &e) > 0 && m->frozen && m->frozen(&p, &frozen, &e) == 0 &&
        frozen)
      l->status = NOOK_PAUSED;
    nook_error_free(&e);
    cgroup_paths_clear(&p);
  }
  if (want_config) {
    cleanup_free char *text = NULL;
    size_t len;
    if (read_file_at(l->dirfd, "config.json", &text, &len, err) == 0) {
      if (oci_config_parse(text, len, "config.json", &l->config, err) < 0)
        goto fail;
    } else {
      nook_error_free(err);
    }
  }
  return 0;
fail:
  loaded_release(l);
  return -1;
}

int loaded_cgroup(const struct nook_state *st, const struct cgroup_manager **m,
                  struct cgroup_paths *p, nook_error_t *err)
{
  return cgroup_from_persisted(st->cgroup, m, p, err);
}

/* ---- start --------------------------------------------------------------- */

/* *said: the error is the container's own (a startContainer hook, a
 * missing executable), not a broken conversation. */
static int start_loaded(const char *id, struct loaded *l, bool *said, nook_error_t *err)
{
  *said = false;
  if (l->status != NOOK_CREATED) {
    if (l->status == NOOK_STOPPED)
      return nook_error(err, 0, "cannot start a container that has stopped");
    if (l->status == NOOK_RUNNING || l->status == NOOK_PAUSED)
      return nook_error(err, 0, "cannot start an already running container");
    return nook_error(err, 0, "cannot start a container in the %s state",
                      nook_status_name(l->status));
  }
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/start.sock", l->dirfd);
  cleanup_close int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    /* The init holds the listening end until a start connects, so a refusal
     * means it is exiting: killed (kill takes no lock) and past closing its
     * files, but not yet a zombie, which the status check would have seen. */
    if (errno == ECONNREFUSED)
      return nook_error(err, 0, "cannot start a container that has stopped");
    return nook_error(err, errno, "connect to container \"%s\"", id);
  }
  unlinkat(l->dirfd, "start.sock", 0);
  if (sync_send(fd, SYNC_START, 0, NULL, -1, err) < 0)
    return -1;
  /* EOF means execve closed the connection (close-on-exec): started. */
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  msg->step = 0;
  int r = sync_wait_exec(fd, msg, err);
  *said = r < 0 && msg->step == SYNC_ERROR;
  free(msg);
  return r;
}

void run_poststart(struct loaded *l)
{
  if (l->config == NULL || !l->config->has_hooks || l->config->hooks.n_poststart == 0)
    return;
  cleanup_free char *json = state_json_for(l->config, &l->st, "running", false);
  hooks_run_warn("poststart", l->config->hooks.poststart, l->config->hooks.n_poststart, json);
}

int nook_container_start(const char *root, const char *id, nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, true, true, &l, err) < 0)
    return -1;
  bool said;
  int r = start_loaded(id, &l, &said, err);
  if (r < 0 && !said && l.status == NOOK_CREATED && proc_exiting(l.st.pid, l.st.pid_start)) {
    /* Killed while start was talking to it (kill does not take the lock),
     * gone or still exiting: a broken connection, not the container's
     * words.  A container that said why it failed and left keeps them. */
    nook_error_free(err);
    nook_error(err, 0, "cannot start a container that has stopped");
  }
  if (r == 0)
    run_poststart(&l);
  loaded_release(&l);
  return r;
}

/* ---- kill ---------------------------------------------------------------- */

/* Signal through a pidfd checked against the recorded start time, so a pid
 * recycled since the container died is never signalled. */
static int signal_container(const struct nook_state *st, int sig, nook_error_t *err)
{
  cleanup_close int pidfd = sys_pidfd_open(st->pid, 0);
  if (pidfd < 0) {
    if (errno == ESRCH)
      return nook_error(err, 0, "container not running");
    return nook_error(err, errno, "pidfd_open %d", st->pid);
  }
  if (proc_start_time(st->pid) != st->pid_start)
    return nook_error(err, 0, "container not running");
  if (sys_pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
    return nook_error(err, errno, "send signal %d to the container", sig);
  return 0;
}

/* kill --all of a container without a cgroup (rootless): the init through
 * its pidfd, then the rest of its pid namespace. */
static int kill_pidns(const struct nook_state *st, int sig, nook_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (rootless_container_pids(st, &pids, &n, err) < 0 || signal_container(st, sig, err) < 0)
    return -1;
  for (size_t i = 1; i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      return nook_error(err, errno, "kill %d with signal %d", (int)pids[i], sig);
  return 0;
}

int nook_container_kill(const char *root, const char *id, int sig, bool all, nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, false, false, &l, err) < 0)
    return -1;
  int r;
  if (l.status == NOOK_CREATING || (l.status == NOOK_STOPPED && !all)) {
    /* A container still being created has no process to signal yet, or
     * one its create is still setting up (runc: not yet listed at all). */
    r = nook_error(err, 0, "container not running");
  } else if (all) {
    /* --all signals the cgroup, whatever the init's state: the children of
     * a stopped init without a pid namespace of its own live on there, and
     * containerd's runc shim kills them with `kill --all ID KILL` once the
     * init has exited (runc 1.1 succeeds, also with nothing left). */
    const struct cgroup_manager *m = NULL;
    struct cgroup_paths p = {0};
    r = loaded_cgroup(&l.st, &m, &p, err);
    if (r > 0)
      r = m->kill(&p, sig, err);
    else if (r == 0 && l.status != NOOK_STOPPED)
      r = kill_pidns(&l.st, sig, err);
    cgroup_paths_clear(&p);
  } else {
    r = signal_container(&l.st, sig, err);
  }
  loaded_release(&l);
  return r;
}

/* ---- delete -------------------------------------------------------------- */

static void wait_gone(const struct nook_state *st)
{
  cleanup_close int pidfd = sys_pidfd_open(st->pid, 0);
  if (pidfd < 0 || proc_start_time(st->pid) != st->pid_start)
    return;
  sys_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  /* Our own child (run) must also be reaped or it lingers as a zombie. */
  for (int i = 0; i < 50; i++) {
    if (poll(&pfd, 1, 100) > 0)
      break;
  }
  waitpid(st->pid, NULL, WNOHANG);
}

int nook_container_delete(const char *root, const char *id, bool force, nook_error_t *err)
{
  return container_delete_made(root, id, force, NULL, err);
}

int container_delete_made(const char *root, const char *id, bool force,
                          const struct container_made *made, nook_error_t *err)
{
  struct loaded l;
  /* runc: with --force a container that does not exist is not an error. */
  if (force && nook_validate_id(id, NULL) == 0 && !state_exists(root, id)) {
    state_sweep_stale(root);
    return 0;
  }
  const struct oci_config *config = made ? made->config : NULL;
  if (load_container(root, id, true, config == NULL, &l, err) < 0)
    return -1;
  if (config == NULL)
    config = l.config;
  int ret = -1;
  if (made && (l.st.pid != made->pid || l.st.pid_start != made->pid_start)) {
    ret = 0;
    goto out;
  }
  if ((l.status == NOOK_RUNNING || l.status == NOOK_PAUSED) && !force) {
    nook_error(err, 0, "cannot delete container %s that is not stopped: %s", id,
               nook_status_name(l.status));
    goto out;
  }
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int has_cg = loaded_cgroup(&l.st, &m, &p, err);
  if (has_cg < 0)
    goto out;
  if (l.status != NOOK_STOPPED) {
    if (has_cg > 0 && l.status == NOOK_PAUSED)
      m->freeze(&p, false, NULL);
    wait_gone(&l.st);
  }
  if (has_cg > 0 && m->destroy(&p, err) < 0) {
    cgroup_paths_clear(&p);
    goto out;
  }
  cgroup_paths_clear(&p);
  if (config && config->has_hooks && l.st.pid > 0 && config->hooks.n_poststop > 0) {
    cleanup_free char *json = state_json_for(config, &l.st, "stopped", false);
    hooks_run_warn("poststop", config->hooks.poststop, config->hooks.n_poststop, json);
  }
  ret = state_dir_remove(root, id, l.dirfd, err);
  state_sweep_stale(root);
out:
  loaded_release(&l);
  return ret;
}

/* ---- state and list ------------------------------------------------------ */

int nook_container_state_json(const char *root, const char *id, char **out, nook_error_t *err)
{
  return nook_container_state_json_as(root, id, NULL, out, err);
}

int nook_container_state_json_as(const char *root, const char *id, nook_status_query *query,
                                 char **out, nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, false, true, &l, err) < 0)
    return -1;
  if (query != NULL && l.status != NOOK_STOPPED)
    l.status = query(root, id, l.status);
  if (l.status == NOOK_STOPPED)
    l.st.pid = 0;
  *out = state_json_for(l.config, &l.st, nook_status_name(l.status), true);
  loaded_release(&l);
  return 0;
}

/* The user owning the state directory (runc's OWNER column); a name kept
 * in older state files wins.  Resolved here, not at create, so starting a
 * container never reads the passwd database. */
static char *owner_of(int dirfd, const char *recorded)
{
  if (recorded && *recorded)
    return xstrdup(recorded);
  struct stat st;
  if (fstat(dirfd, &st) < 0)
    return xstrdup("");
  struct passwd *pw = getpwuid(st.st_uid);
  if (pw)
    return xstrdup(pw->pw_name);
  char *s;
  xasprintf(&s, "#%u", (unsigned)st.st_uid);
  return s;
}

int nook_container_list(const char *root, struct nook_container_info **out, size_t *n,
                        nook_error_t *err)
{
  *out = NULL;
  *n = 0;
  DIR *d = opendir(root);
  if (d == NULL)
    return errno == ENOENT ? 0 : nook_error(err, errno, "open state root `%s`", root);
  struct dirent *de;
  size_t cap = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    struct loaded l;
    nook_error_t e = NULL;
    bool broken = false;
    if (load_container(root, de->d_name, false, false, &l, &e) < 0) {
      /* Gone meanwhile: not listed.  Unreadable: listed, so that it is
       * seen and can be deleted, with the reason as a warning. */
      if (!state_exists(root, de->d_name)) {
        nook_error_free(&e);
        continue;
      }
      cleanup_free char *t = nook_error_text(e);
      nook_warn("container \"%s\": %s", de->d_name, t);
      nook_error_free(&e);
      broken = true;
      memset(&l, 0, sizeof(l));
      l.dirfd = -1;
    }
    if (*n == cap) {
      cap = cap ? cap * 2 : 8;
      *out = xrealloc(*out, cap * sizeof(**out));
    }
    struct nook_container_info *i = &(*out)[(*n)++];
    if (broken) {
      i->id = xstrdup(de->d_name);
      i->pid = 0;
      i->status = xstrdup("unknown");
      i->bundle = xstrdup("");
      i->created = xstrdup("");
      i->owner = xstrdup("");
      continue;
    }
    i->id = xstrdup(de->d_name);
    i->pid = l.status == NOOK_STOPPED ? 0 : l.st.pid;
    i->status = xstrdup(nook_status_name(l.status));
    i->bundle = xstrdup(l.st.bundle ? l.st.bundle : "");
    i->created = xstrdup(l.st.created ? l.st.created : "");
    i->owner = owner_of(l.dirfd, l.st.owner);
    loaded_release(&l);
  }
  closedir(d);
  return 0;
}

void nook_container_info_free(struct nook_container_info *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(v[i].id);
    free(v[i].status);
    free(v[i].bundle);
    free(v[i].created);
    free(v[i].owner);
  }
  free(v);
}
