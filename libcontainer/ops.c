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
#include "../oci/json.h"
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

/* runc's update treats 0 (and "" for cpus/mems) in these fields as "leave
 * unchanged", and so do the cgroup managers; dropping them from the update
 * keeps the saved config equal to what the cgroup has. */
static bool zero_means_unchanged(const char *section, const char *key, const struct json_value *v)
{
  static const char *const zero_keys[] = {
      "memory.limit",        "memory.reservation", "memory.swap",    "memory.kernel",
      "memory.kernelTCP",    "cpu.shares",         "cpu.quota",      "cpu.period",
      "cpu.realtimeRuntime", "cpu.realtimePeriod", "blockIO.weight", "blockIO.leafWeight",
  };
  if (section == NULL)
    return false;
  char path[64];
  snprintf(path, sizeof(path), "%s.%s", section, key);
  if (v->type == JSON_STRING)
    return v->len == 0 && (strcmp(path, "cpu.cpus") == 0 || strcmp(path, "cpu.mems") == 0);
  if (v->type != JSON_NUMBER || strcmp(v->u.str, "0") != 0)
    return false;
  for (size_t i = 0; i < ARRAY_SIZE(zero_keys); i++)
    if (strcmp(path, zero_keys[i]) == 0)
      return true;
  return false;
}

static void emit_value(yajl_gen g, const struct json_value *v)
{
  switch (v->type) {
  case JSON_NULL:
    yajl_gen_null(g);
    break;
  case JSON_FALSE:
  case JSON_TRUE:
    yajl_gen_bool(g, v->type == JSON_TRUE);
    break;
  case JSON_NUMBER:
    yajl_gen_number(g, v->u.str, v->len);
    break;
  case JSON_STRING:
    yajl_gen_string(g, (const unsigned char *)v->u.str, v->len);
    break;
  case JSON_ARRAY:
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->len; i++)
      emit_value(g, &v->u.items[i]);
    yajl_gen_array_close(g);
    break;
  case JSON_OBJECT:
    yajl_gen_map_open(g);
    for (size_t i = 0; i < v->len; i++) {
      jgen_str(g, v->u.members[i].key);
      emit_value(g, &v->u.members[i].value);
    }
    yajl_gen_map_close(g);
    break;
  }
}

/* Emit layers[0] (the saved resources) overridden by layers[1..n): objects
 * merge key by key, anything else is replaced.  `section` is the top-level
 * resources key the values are under (NULL at the top). */
static void emit_merged(yajl_gen g, const struct json_value *const *layers, size_t n,
                        const char *section, int depth)
{
  size_t last = n;
  while (last > 0 && layers[last - 1] == NULL)
    last--;
  if (last == 0) {
    yajl_gen_null(g);
    return;
  }
  if (layers[last - 1]->type != JSON_OBJECT) {
    emit_value(g, layers[last - 1]);
    return;
  }
  /* Only the trailing run of objects counts: a non-object replaced what
   * came before it. */
  size_t first = last - 1;
  while (first > 0 && (layers[first - 1] == NULL || layers[first - 1]->type == JSON_OBJECT))
    first--;

  size_t cap = 0;
  for (size_t i = first; i < last; i++)
    if (layers[i] != NULL)
      cap += layers[i]->len;
  const char **keys = xcalloc(cap + 1, sizeof(*keys));
  size_t nkeys = 0;
  for (size_t i = first; i < last; i++) {
    for (size_t j = 0; layers[i] != NULL && j < layers[i]->len; j++) {
      const char *k = layers[i]->u.members[j].key;
      size_t x = 0;
      while (x < nkeys && strcmp(keys[x], k) != 0)
        x++;
      if (x == nkeys)
        keys[nkeys++] = k;
    }
  }
  const struct json_value *sub[n];
  yajl_gen_map_open(g);
  for (size_t x = 0; x < nkeys; x++) {
    bool any = false;
    for (size_t i = 0; i < n; i++) {
      sub[i] = i >= first && i < last && layers[i] ? json_get(layers[i], keys[x]) : NULL;
      /* An update cannot change device rules (runc neither): they are not
       * re-derived from it. */
      if (i > 0 && sub[i] != NULL &&
          ((depth == 0 && strcmp(keys[x], "devices") == 0) ||
           (depth == 1 && zero_means_unchanged(section, keys[x], sub[i]))))
        sub[i] = NULL;
      any = any || sub[i] != NULL;
    }
    if (!any)
      continue;
    jgen_str(g, keys[x]);
    emit_merged(g, sub, n, depth == 0 ? keys[x] : section, depth + 1);
  }
  yajl_gen_map_close(g);
  free(keys);
}

/* The saved config with linux.resources merged; NULL when it is not an
 * object. */
static char *config_with_resources(const struct json_value *root,
                                   const struct json_value *const *updates, size_t n)
{
  if (root->type != JSON_OBJECT)
    return NULL;
  const struct json_value *linux_v = json_get(root, "linux");
  if (linux_v != NULL && linux_v->type != JSON_OBJECT)
    return NULL;
  const struct json_value *res = linux_v ? json_get(linux_v, "resources") : NULL;
  const struct json_value *layers[n + 1];
  layers[0] = res;
  for (size_t i = 0; i < n; i++)
    layers[i + 1] = updates[i];

  yajl_gen g = jgen_new("\t");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < root->len; i++) {
    const struct json_member *m = &root->u.members[i];
    if (strcmp(m->key, "linux") != 0) {
      jgen_str(g, m->key);
      emit_value(g, &m->value);
      continue;
    }
    if (&m->value != linux_v) /* null, or shadowed by a later "linux" */
      continue;
    jgen_str(g, "linux");
    yajl_gen_map_open(g);
    for (size_t j = 0; j < linux_v->len; j++) {
      const struct json_member *lm = &linux_v->u.members[j];
      if (strcmp(lm->key, "resources") != 0) {
        jgen_str(g, lm->key);
        emit_value(g, &lm->value);
      } else if (&lm->value == res) {
        jgen_str(g, "resources");
        emit_merged(g, layers, n + 1, NULL, 0);
      }
    }
    if (res == NULL) {
      jgen_str(g, "resources");
      emit_merged(g, layers, n + 1, NULL, 0);
    }
    yajl_gen_map_close(g);
  }
  if (linux_v == NULL) {
    jgen_str(g, "linux");
    yajl_gen_map_open(g);
    jgen_str(g, "resources");
    emit_merged(g, layers, n + 1, NULL, 0);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
  return jgen_finish(g);
}

/* runc's flags as a linux.resources document. */
static char *flags_document(const struct nook_update_opts *o, bool swap_unlimited)
{
  yajl_gen g = jgen_new(NULL);
  yajl_gen_map_open(g);
  if (o->has_memory || o->has_memory_reservation || o->has_memory_swap || swap_unlimited) {
    jgen_str(g, "memory");
    yajl_gen_map_open(g);
    if (o->has_memory)
      jgen_key_int(g, "limit", o->memory);
    if (o->has_memory_reservation)
      jgen_key_int(g, "reservation", o->memory_reservation);
    if (o->has_memory_swap)
      jgen_key_int(g, "swap", o->memory_swap);
    else if (swap_unlimited)
      jgen_key_int(g, "swap", -1);
    yajl_gen_map_close(g);
  }
  if (o->has_cpu_shares || o->has_cpu_quota || o->has_cpu_period || o->has_cpu_rt_runtime ||
      o->has_cpu_rt_period || o->cpuset_cpus || o->cpuset_mems) {
    jgen_str(g, "cpu");
    yajl_gen_map_open(g);
    if (o->has_cpu_shares)
      jgen_key_uint(g, "shares", o->cpu_shares);
    if (o->has_cpu_quota)
      jgen_key_int(g, "quota", o->cpu_quota);
    if (o->has_cpu_period)
      jgen_key_uint(g, "period", o->cpu_period);
    if (o->has_cpu_rt_runtime)
      jgen_key_int(g, "realtimeRuntime", o->cpu_rt_runtime);
    if (o->has_cpu_rt_period)
      jgen_key_uint(g, "realtimePeriod", o->cpu_rt_period);
    if (o->cpuset_cpus)
      jgen_key_str(g, "cpus", o->cpuset_cpus);
    if (o->cpuset_mems)
      jgen_key_str(g, "mems", o->cpuset_mems);
    yajl_gen_map_close(g);
  }
  if (o->has_pids_limit) {
    jgen_str(g, "pids");
    yajl_gen_map_open(g);
    jgen_key_int(g, "limit", o->pids_limit);
    yajl_gen_map_close(g);
  }
  if (o->has_blkio_weight) {
    jgen_str(g, "blockIO");
    yajl_gen_map_open(g);
    jgen_key_uint(g, "weight", o->blkio_weight);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
  return jgen_finish(g);
}

/* Re-apply the (merged) resources.  Device rules are left as create set
 * them: devices == NULL tells the manager not to touch them. */
static int apply_config(const struct cgroup_manager *m, const struct cgroup_paths *p,
                        const struct oci_config *c, nook_error_t *err)
{
  struct oci_resources res = {0};
  if (c->linux_.has_resources)
    res = c->linux_.resources;
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

struct update_ctx {
  char *old_text, *new_text, *flags_text;
  size_t old_len;
  struct json_doc *old_doc, *file_doc, *flags_doc;
  struct oci_config *new_cfg;
  struct oci_resources file_res;
};

static void update_ctx_clear(struct update_ctx *u)
{
  free(u->old_text);
  free(u->new_text);
  free(u->flags_text);
  json_doc_free(u->old_doc);
  json_doc_free(u->file_doc);
  json_doc_free(u->flags_doc);
  oci_config_free(u->new_cfg);
  oci_resources_clear(&u->file_res);
}

/* Build the merged config (u->new_text, u->new_cfg) from the saved one. */
static int merge_update(struct loaded *l, const struct nook_update_opts *o, struct update_ctx *u,
                        nook_error_t *err)
{
  const struct json_value *old_root, *updates[2];
  size_t n = 0;
  if (read_file_at(l->dirfd, "config.json", &u->old_text, &u->old_len, err) < 0)
    return nook_error_wrap(err, "container \"%s\"", l->st.id);
  if (json_parse(u->old_text, u->old_len, "config.json", &u->old_doc, &old_root, err) < 0)
    return -1;

  bool limit_unlimited = o->has_memory && o->memory == -1, swap_given = o->has_memory_swap;
  if (o->resources != NULL) {
    const char *origin = o->resources_origin ? o->resources_origin : "resources";
    if (oci_resources_parse(o->resources, o->resources_len, origin, &u->file_res, err) < 0 ||
        json_parse(o->resources, o->resources_len, origin, &u->file_doc, &updates[n], err) < 0)
      return -1;
    n++;
    const struct oci_memory *fm = &u->file_res.memory;
    if (u->file_res.n_devices > 0)
      nook_warn("update: %s: devices cannot be changed by update; ignored", origin);
    if (!o->has_memory && u->file_res.has_memory && fm->has_limit && fm->limit == -1)
      limit_unlimited = true;
    if (u->file_res.has_memory && fm->has_swap && fm->swap != 0)
      swap_given = true;
  }
  /* As runc: an unlimited memory limit with the swap limit unsaid makes
   * swap unlimited too (cgroup v1 could not hold memory+swap below memory). */
  u->flags_text = flags_document(o, limit_unlimited && !swap_given);
  if (json_parse(u->flags_text, strlen(u->flags_text), "update flags", &u->flags_doc, &updates[n],
                 err) < 0)
    return -1;
  n++;

  u->new_text = config_with_resources(old_root, updates, n);
  if (u->new_text == NULL)
    return nook_error(err, 0,
                      "config.json of container \"%s\": not an object with a \"linux\" "
                      "object",
                      l->st.id);
  if (oci_config_parse(u->new_text, strlen(u->new_text), "config.json", &u->new_cfg, err) < 0)
    return nook_error_wrap(err, "update");
  return 0;
}

int nook_container_update(const char *root, const char *id, const struct nook_update_opts *o,
                          nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, true, false, &l, err) < 0)
    return -1;
  struct update_ctx u = {0};
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int r = -1;
  if (l.status == NOOK_STOPPED || l.status == NOOK_CREATING) {
    nook_error(err, 0, "container not running");
    goto out;
  }
  if (need_cgroup(&l, "update", &m, &p, err) < 0 || merge_update(&l, o, &u, err) < 0)
    goto out;
  if (m->apply == NULL) {
    no_method(m, "update", err);
    goto out;
  }
  if (apply_config(m, &p, u.new_cfg, err) < 0) {
    /* Put back what was there: some values may have been written. */
    struct oci_config *old = NULL;
    nook_error_t e = NULL;
    if (oci_config_parse(u.old_text, u.old_len, "config.json", &old, &e) == 0)
      apply_config(m, &p, old, &e);
    nook_error_free(&e);
    oci_config_free(old);
    goto out;
  }
  r = save_config(l.dirfd, u.new_text, err);
out:
  update_ctx_clear(&u);
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
  long long next = mono_ns() + o->interval_ns;
  for (;;) {
    int oom_fd = cgroup_oom_watch_fd(w);
    struct pollfd pfds[2] = {{.fd = pidfd, .events = POLLIN},
                             {.fd = oom_fd, .events = cgroup_oom_watch_events(w)}};
    long long left = next - mono_ns();
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
