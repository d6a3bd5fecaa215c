/* The commands that act on a live container's cgroup: pause, resume,
 * update, events and ps. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../cgroups/stats_json.h"
#include "container.h"
#include "container_internal.h"

/* The container's cgroup, or an error naming what `what` needs it for. */
static int need_cgroup(const struct loaded *l, const char *what, const struct cgroup_manager **m,
                       struct cgroup_paths *p, nook_error_t *err)
{
  int r = loaded_cgroup(&l->st, m, p, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return nook_error(err, 0, "cannot %s container \"%s\": it has no cgroup", what, l->st.id);
  return 0;
}

static int no_method(const struct cgroup_manager *m, const char *what, nook_error_t *err)
{
  return nook_error(err, ENOTSUP, "cannot %s: the cgroup %s manager does not implement it", what,
                    m->name);
}

/* A created container's init may be frozen too (runc allows pausing it),
 * while load_container() only asks the freezer about running ones. */
static bool cgroup_frozen(const struct loaded *l)
{
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  nook_error_t e = NULL;
  bool frozen = false;
  if (loaded_cgroup(&l->st, &m, &p, &e) > 0 && m->frozen != NULL && m->frozen(&p, &frozen, &e) < 0)
    frozen = false;
  nook_error_free(&e);
  cgroup_paths_clear(&p);
  return frozen;
}

/* ---- pause, resume ------------------------------------------------------- */

static int set_frozen(const char *root, const char *id, bool frozen, nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, true, false, &l, err) < 0)
    return -1;
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int r = -1;
  bool paused = l.status == NOOK_PAUSED || (l.status == NOOK_CREATED && cgroup_frozen(&l));
  if (frozen && (paused || (l.status != NOOK_RUNNING && l.status != NOOK_CREATED))) {
    nook_error(err, 0, "container not running");
    goto out;
  }
  if (!frozen && !paused) {
    nook_error(err, 0, "container not paused");
    goto out;
  }
  if (need_cgroup(&l, frozen ? "pause" : "resume", &m, &p, err) < 0)
    goto out;
  if (m->freeze == NULL) {
    no_method(m, frozen ? "pause" : "resume", err);
    goto out;
  }
  r = m->freeze(&p, frozen, err);
out:
  cgroup_paths_clear(&p);
  loaded_release(&l);
  return r < 0 ? -1 : 0;
}

int nook_container_pause(const char *root, const char *id, nook_error_t *err)
{
  return set_frozen(root, id, true, err);
}

int nook_container_resume(const char *root, const char *id, nook_error_t *err)
{
  return set_frozen(root, id, false, err);
}

/* ---- ps ------------------------------------------------------------------ */

int nook_container_pids(const char *root, const char *id, pid_t **out, size_t *n, nook_error_t *err)
{
  *out = NULL;
  *n = 0;
  struct loaded l;
  if (load_container(root, id, false, false, &l, err) < 0)
    return -1;
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int r = loaded_cgroup(&l.st, &m, &p, err);
  if (r == 0 && l.status != NOOK_STOPPED) {
    /* No cgroup (nothing to track children with): the init process only. */
    *out = xmalloc(sizeof(**out));
    (*out)[0] = l.st.pid;
    *n = 1;
  } else if (r > 0) {
    if (m->pids == NULL) {
      r = no_method(m, "list the container's processes", err);
    } else if ((r = m->pids(&p, out, n, err)) < 0) {
      /* A stopped container's cgroup may be gone already: nothing runs. */
      if (l.status == NOOK_STOPPED && (*err)->status == ENOENT) {
        nook_error_free(err);
        r = 0;
      } else {
        nook_error_wrap(err, "unable to get all container pids");
      }
    }
  }
  cgroup_paths_clear(&p);
  loaded_release(&l);
  return r < 0 ? -1 : 0;
}

/* ---- update -------------------------------------------------------------- */

/* Apply resources to the cgroup.  Device rules are left as create set them:
 * devices == NULL tells the manager not to touch them. */
static int apply_resources(const struct cgroup_manager *m, const struct cgroup_paths *p,
                           const struct oci_resources *r, nook_error_t *err)
{
  struct oci_resources res = *r;
  res.devices = NULL;
  res.n_devices = 0;
  return m->apply(p, &res, err);
}

/* Write config.json so that a reader sees the old or the new file, never a
 * partial one. */
static int save_config(int dirfd, const char *text, nook_error_t *err)
{
  static const char tmp[] = "config.json.update";
  unlinkat(dirfd, tmp, 0);
  if (write_file_at(dirfd, tmp, O_CREAT | O_EXCL, 0600, text, strlen(text), err) < 0)
    return nook_error_wrap(err, "save config.json");
  if (renameat(dirfd, tmp, dirfd, "config.json") < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return nook_error(err, e, "save config.json: rename");
  }
  return 0;
}

/* A failed apply may have written some values: put back the saved ones. */
static void rollback(const struct cgroup_manager *m, const struct cgroup_paths *p, const char *text,
                     size_t len)
{
  struct oci_config *old = NULL;
  nook_error_t e = NULL;
  if (oci_config_parse(text, len, "config.json", &old, &e) == 0)
    apply_resources(m, p, &old->linux_.resources, &e);
  nook_error_free(&e);
  oci_config_free(old);
}

/* The saved resources merged with the patch, applied, then saved.  The new
 * config.json is made before the cgroup is touched: nothing can fail
 * between apply and save but the write itself. */
static int update_loaded(struct loaded *l, const struct cgroup_manager *m,
                         const struct cgroup_paths *p, const struct oci_resources *patch,
                         nook_error_t *err)
{
  cleanup_free char *text = NULL, *new_text = NULL;
  size_t len;
  if (read_file_at(l->dirfd, "config.json", &text, &len, err) < 0)
    return nook_error_wrap(err, "container \"%s\"", l->st.id);
  struct oci_config *c = NULL;
  if (oci_config_parse(text, len, "config.json", &c, err) < 0)
    return nook_error_wrap(err, "update");
  struct oci_resources *res = &c->linux_.resources;
  oci_resources_merge(res, patch);
  int r = -1;
  if (m->apply == NULL) {
    no_method(m, "update", err);
  } else if (oci_config_with_resources(text, len, "config.json", res, &new_text, err) < 0) {
    nook_error_wrap(err, "container \"%s\"", l->st.id);
  } else if (apply_resources(m, p, res, err) < 0) {
    rollback(m, p, text, len);
  } else {
    r = save_config(l->dirfd, new_text, err);
  }
  oci_config_free(c);
  return r;
}

int nook_container_update(const char *root, const char *id, const struct oci_resources *patch,
                          nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, true, false, &l, err) < 0)
    return -1;
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int r = -1;
  if (l.status == NOOK_STOPPED || l.status == NOOK_CREATING)
    nook_error(err, 0, "container not running");
  else if (need_cgroup(&l, "update", &m, &p, err) == 0)
    r = update_loaded(&l, m, &p, patch, err);
  cgroup_paths_clear(&p);
  loaded_release(&l);
  return r;
}

/* ---- events -------------------------------------------------------------- */

static long long mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int emit_stats(const char *id, const struct cgroup_manager *m, const struct cgroup_paths *p,
                      const struct nook_events_opts *o, nook_error_t *err)
{
  struct cgroup_stats s = {0};
  if (m->stats(p, &s, err) < 0) {
    cgroup_stats_clear(&s);
    return nook_error_wrap(err, "stats of container \"%s\"", id);
  }
  cleanup_free char *json = stats_event_json(id, &s);
  cgroup_stats_clear(&s);
  return o->emit(json, o->data, err);
}

/* The OOM notification fd comes in two kinds (cgroup.h): a v1 eventfd
 * counting memory.oom_control events, or the v2 memory.events file, which
 * signals POLLPRI on any change and is read for the oom_kill count. */
struct oom_watch {
  int fd; /* -1: no notifications */
  bool is_file;
  unsigned long long oom_kills;
  char *v1_memory_dir; /* to tell an OOM from the eventfd's cgroup-removal signal */
};

/* Is `name` one of the comma-separated controllers of `list`? */
static bool list_has(const char *list, const char *name)
{
  size_t len = strlen(name);
  for (const char *s = list; s != NULL; s = strchr(s, ',')) {
    if (*s == ',')
      s++;
    if (strncmp(s, name, len) == 0 && (s[len] == ',' || s[len] == '\0'))
      return true;
  }
  return false;
}

static unsigned long long read_oom_kills(int fd)
{
  char buf[1024];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    unsigned long long v;
    if (has_prefix(line, "oom_kill ") && sscanf(line + 9, "%llu", &v) == 1)
      return v;
  }
  return 0;
}

static void oom_watch_open(struct oom_watch *w, const struct cgroup_manager *m,
                           const struct cgroup_paths *p)
{
  *w = (struct oom_watch){.fd = -1};
  nook_error_t e = NULL;
  if (m->oom_notify_fd == NULL) {
    nook_warn("events: the cgroup %s manager has no OOM notification; only stats are reported",
              m->name);
    return;
  }
  w->fd = m->oom_notify_fd(p, &e);
  if (w->fd < 0) {
    cleanup_free char *msg = nook_error_text(e);
    nook_warn("events: no OOM notifications: %s", msg);
    nook_error_free(&e);
    w->fd = -1;
    return;
  }
  struct stat sb;
  w->is_file = fstat(w->fd, &sb) == 0 && S_ISREG(sb.st_mode);
  if (w->is_file) {
    w->oom_kills = read_oom_kills(w->fd);
  } else {
    fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
    for (size_t i = 0; p->v1_dirs && p->v1_controllers && p->v1_dirs[i]; i++) {
      if (list_has(p->v1_controllers[i], "memory")) {
        w->v1_memory_dir = xstrdup(p->v1_dirs[i]);
        break;
      }
    }
  }
}

static void oom_watch_close(struct oom_watch *w)
{
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
  free(w->v1_memory_dir);
  w->v1_memory_dir = NULL;
}

/* After the fd signalled: did an OOM kill happen?  A v1 eventfd is also
 * signalled when the memory cgroup is removed; it is of no use after that. */
static bool oom_watch_fired(struct oom_watch *w)
{
  if (w->is_file) {
    unsigned long long now = read_oom_kills(w->fd);
    bool fired = now > w->oom_kills;
    w->oom_kills = now;
    return fired;
  }
  uint64_t count = 0;
  if (read(w->fd, &count, sizeof(count)) != sizeof(count) || count == 0)
    return false;
  if (w->v1_memory_dir) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/memory.oom_control", w->v1_memory_dir);
    if (access(path, F_OK) != 0) {
      oom_watch_close(w);
      return false;
    }
  }
  return true;
}

static short oom_watch_events(const struct oom_watch *w)
{
  return w->is_file ? POLLPRI : POLLIN;
}

static bool oom_watch_ready(const struct oom_watch *w, short revents)
{
  return w->is_file ? (revents & (POLLPRI | POLLERR)) != 0 : (revents & (POLLIN | POLLERR)) != 0;
}

static int emit_oom(const char *id, const struct nook_events_opts *o, nook_error_t *err)
{
  cleanup_free char *json = oom_event_json(id);
  return o->emit(json, o->data, err);
}

/* An OOM kill of the init process wakes the OOM fd and the pidfd at about
 * the same time: report the OOM before ending the stream. */
static int drain_oom(const char *id, struct oom_watch *w, const struct nook_events_opts *o,
                     nook_error_t *err)
{
  if (w->fd < 0)
    return 0;
  struct pollfd pfd = {.fd = w->fd, .events = oom_watch_events(w)};
  if (poll(&pfd, 1, 0) > 0 && oom_watch_ready(w, pfd.revents) && oom_watch_fired(w))
    return emit_oom(id, o, err);
  return 0;
}

static int events_loop(struct loaded *l, const struct cgroup_manager *m,
                       const struct cgroup_paths *p, const struct nook_events_opts *o,
                       nook_error_t *err)
{
  const char *id = l->st.id;
  cleanup_close int pidfd = sys_pidfd_open(l->st.pid, 0);
  if (pidfd < 0) {
    if (errno == ESRCH)
      return 0; /* exited since it was loaded */
    return nook_error(err, errno, "pidfd_open %d", l->st.pid);
  }
  if (proc_start_time(l->st.pid) != l->st.pid_start)
    return 0;
  struct oom_watch w;
  oom_watch_open(&w, m, p);
  int r = 0;
  long long next = mono_ns() + o->interval_ns;
  for (;;) {
    struct pollfd pfds[2] = {{.fd = pidfd, .events = POLLIN},
                             {.fd = w.fd, .events = oom_watch_events(&w)}};
    long long left = next - mono_ns();
    if (left < 0)
      left = 0;
    struct timespec ts = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
    int n = ppoll(pfds, w.fd >= 0 ? 2 : 1, &ts, NULL);
    if (n < 0 && errno != EINTR) {
      r = nook_error(err, errno, "events: poll");
      break;
    }
    if (n > 0 && w.fd >= 0 && oom_watch_ready(&w, pfds[1].revents) && oom_watch_fired(&w) &&
        (r = emit_oom(id, o, err)) < 0)
      break;
    if (n > 0 && pfds[0].revents != 0) {
      r = drain_oom(id, &w, o, err);
      break;
    }
    long long now = mono_ns();
    if (now >= next) {
      nook_error_t e = NULL;
      if (emit_stats(id, m, p, o, &e) < 0) {
        /* A failed write to the consumer ends the stream; a failed read of
         * the cgroup (it may be on its way out) does not, as with runc. */
        if (e && e->status == EPIPE) {
          *err = e;
          r = -1;
          break;
        }
        cleanup_free char *msg = nook_error_text(e);
        nook_warn("events: %s", msg);
        nook_error_free(&e);
      }
      next += o->interval_ns;
      if (next <= now)
        next = now + o->interval_ns;
    }
  }
  oom_watch_close(&w);
  return r;
}

int nook_container_events(const char *root, const char *id, const struct nook_events_opts *o,
                          nook_error_t *err)
{
  if (o->interval_ns <= 0)
    return nook_error(err, 0, "duration interval must be greater than 0");
  struct loaded l;
  if (load_container(root, id, false, false, &l, err) < 0)
    return -1;
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int r = -1;
  if (l.status == NOOK_STOPPED || l.status == NOOK_CREATING) {
    nook_error(err, 0, "container with id %s is not running", id);
    goto out;
  }
  if (need_cgroup(&l, "get the stats of", &m, &p, err) < 0)
    goto out;
  if (m->stats == NULL) {
    no_method(m, "report stats", err);
    goto out;
  }
  if (o->stats_only)
    r = emit_stats(id, m, &p, o, err);
  else
    r = events_loop(&l, m, &p, o, err);
out:
  cgroup_paths_clear(&p);
  loaded_release(&l);
  return r < 0 ? -1 : 0;
}
