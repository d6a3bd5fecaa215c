/* The commands that act on a live container's cgroup: pause, resume,
 * update, events and ps. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../cgroups/stats_json.h"
#include "container.h"
#include "container_internal.h"
#include "rootless.h"

/* The container's cgroup, or an error naming what `what` needs it for. */
static int need_cgroup(const struct loaded *l, const char *what, const struct cgroup_manager **m,
                       struct cgroup_paths *p, nook_error_t *err)
{
  int r = loaded_cgroup(&l->st, m, p, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return nook_error(err, 0, "cannot %s container \"%s\": " NOOK_NO_CGROUP_HINT, what, l->st.id);
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
    /* No cgroup to track them with (rootless): its pid namespace. */
    r = rootless_container_pids(&l.st, out, n, err);
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

/* The cgroup's figures as they are now. */
static int read_stats(const char *id, const struct cgroup_manager *m, const struct cgroup_paths *p,
                      struct cgroup_stats *s, nook_error_t *err)
{
  if (m->stats(p, s, err) < 0) {
    cgroup_stats_clear(s);
    return nook_error_wrap(err, "stats of container \"%s\"", id);
  }
  return 0;
}

static int emit_stats(const char *id, const struct cgroup_manager *m, const struct cgroup_paths *p,
                      const struct nook_events_opts *o, nook_error_t *err)
{
  struct cgroup_stats s = {0};
  if (read_stats(id, m, p, &s, err) < 0)
    return -1;
  cleanup_free char *json = stats_event_json(id, &s);
  cgroup_stats_clear(&s);
  return o->emit(json, o->data, err);
}

static int emit_oom(const char *id, const struct nook_events_opts *o, nook_error_t *err)
{
  cleanup_free char *json = oom_event_json(id);
  return o->emit(json, o->data, err);
}

/* An OOM kill of the init process wakes the OOM fd and the pidfd at about
 * the same time: report the OOM before ending the stream. */
static int drain_oom(const char *id, struct cgroup_oom_watch *w, const struct nook_events_opts *o,
                     nook_error_t *err)
{
  if (cgroup_oom_watch_fd(w) < 0)
    return 0;
  struct pollfd pfd = {.fd = cgroup_oom_watch_fd(w), .events = cgroup_oom_watch_events(w)};
  if (poll(&pfd, 1, 0) > 0 && cgroup_oom_watch_fired(w, pfd.revents))
    return emit_oom(id, o, err);
  return 0;
}

static struct cgroup_oom_watch *oom_watch_open(const struct cgroup_manager *m,
                                               const struct cgroup_paths *p)
{
  struct cgroup_oom_watch *w = NULL;
  nook_error_t e = NULL;
  if (cgroup_oom_watch_open(m, p, &w, &e) < 0) {
    cleanup_free char *msg = nook_error_text(e);
    nook_warn("events: %s", msg);
    nook_error_free(&e);
  }
  return w;
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
  cleanup_oom_watch struct cgroup_oom_watch *w = oom_watch_open(m, p);
  int r = 0;
  long long next = monotonic_ns() + o->interval_ns;
  for (;;) {
    int oom_fd = cgroup_oom_watch_fd(w);
    struct pollfd pfds[2] = {{.fd = pidfd, .events = POLLIN},
                             {.fd = oom_fd, .events = cgroup_oom_watch_events(w)}};
    long long left = next - monotonic_ns();
    if (left < 0)
      left = 0;
    struct timespec ts = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
    int n = ppoll(pfds, oom_fd >= 0 ? 2 : 1, &ts, NULL);
    if (n < 0 && errno != EINTR) {
      r = nook_error(err, errno, "events: poll");
      break;
    }
    if (n > 0 && oom_fd >= 0 && cgroup_oom_watch_fired(w, pfds[1].revents) &&
        (r = emit_oom(id, o, err)) < 0)
      break;
    if (n > 0 && pfds[0].revents != 0) {
      r = drain_oom(id, w, o, err);
      break;
    }
    long long now = monotonic_ns();
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
  return r;
}

/* What nook_container_events() checks before its first line. */
static int stats_cgroup(struct loaded *l, const char *id, const struct cgroup_manager **m,
                        struct cgroup_paths *p, nook_error_t *err)
{
  if (l->status == NOOK_STOPPED || l->status == NOOK_CREATING)
    return nook_error(err, 0, "container with id %s is not running", id);
  if (need_cgroup(l, "get the stats of", m, p, err) < 0)
    return -1;
  if ((*m)->stats == NULL)
    return no_method(*m, "report stats", err);
  return 0;
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
  if (stats_cgroup(&l, id, &m, &p, err) < 0)
    goto out;
  if (o->stats_only)
    r = emit_stats(id, m, &p, o, err);
  else
    r = events_loop(&l, m, &p, o, err);
out:
  cgroup_paths_clear(&p);
  loaded_release(&l);
  return r < 0 ? -1 : 0;
}

struct nook_stats_source {
  char *id;
  const struct cgroup_manager *m;
  struct cgroup_paths p;
};

int nook_stats_open(const char *root, const char *id, struct nook_stats_source **out,
                    nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, false, false, &l, err) < 0)
    return -1;
  struct nook_stats_source *s = xcalloc(1, sizeof(*s));
  int r = stats_cgroup(&l, id, &s->m, &s->p, err);
  loaded_release(&l);
  if (r < 0) {
    nook_stats_close(s);
    return -1;
  }
  cgroup_paths_keep_open(&s->p);
  s->id = xstrdup(id);
  *out = s;
  return 0;
}

int nook_stats_read(struct nook_stats_source *s, struct cgroup_stats *out, nook_error_t *err)
{
  return read_stats(s->id, s->m, &s->p, out, err);
}

void nook_stats_close(struct nook_stats_source *s)
{
  if (s == NULL)
    return;
  cgroup_paths_clear(&s->p);
  free(s->id);
  free(s);
}
