/* What a container's /sys/fs/cgroup holds, as runc lays it out: cgroup2
 * alone on a unified host; on a legacy or hybrid host a tmpfs with one
 * mount per hierarchy the host has under /sys/fs/cgroup.  The caller (the
 * container's init, in its mount namespace) makes the mounts; this file
 * only decides them, from the same mode detection and /proc/self/cgroup
 * and mountinfo parser as the managers. */
#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"

void cgroup_mount_plan_clear(struct cgroup_mount_plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    free(p->mounts[i].dir);
    strv_free(p->mounts[i].options);
    free(p->mounts[i].bind);
  }
  free(p->mounts);
  memset(p, 0, sizeof(*p));
}

void cleanup_mount_planp(struct cgroup_mount_plan *p)
{
  cgroup_mount_plan_clear(p);
}

static struct cgroup_mount *plan_add(struct cgroup_mount_plan *p)
{
  p->mounts = xrealloc(p->mounts, (p->n + 1) * sizeof(*p->mounts));
  struct cgroup_mount *m = &p->mounts[p->n++];
  memset(m, 0, sizeof(*m));
  return m;
}

/* The directory name of a hierarchy mounted right below /sys/fs/cgroup
 * ("memory", "cpu,cpuacct"), or NULL for one mounted anywhere else. */
static const char *top_level_name(const char *mountpoint)
{
  if (!has_prefix(mountpoint, CG_FS_ROOT "/"))
    return NULL;
  const char *name = mountpoint + strlen(CG_FS_ROOT "/");
  return *name && strchr(name, '/') == NULL ? name : NULL;
}

/* Mount options of a fresh mount of a v1 hierarchy: its controllers, and
 * "none" first when it has only a name ("none,name=systemd"). */
static char **v1_options(const char *controllers)
{
  size_t n = 1;
  for (const char *c = controllers; *c; c++)
    n += *c == ',';
  char **v = xmalloc((n + 2) * sizeof(char *));
  size_t k = 0;
  bool only_names = true;
  for (const char *c = controllers;;) {
    const char *end = strchrnul(c, ',');
    if (end > c) {
      v[k] = xstrndup(c, (size_t)(end - c));
      only_names = only_names && has_prefix(v[k], "name=");
      k++;
    }
    if (*end == '\0')
      break;
    c = end + 1;
  }
  v[k] = NULL;
  if (only_names) {
    memmove(v + 1, v, (k + 1) * sizeof(char *));
    v[0] = xstrdup("none");
  }
  return v;
}

/* Without a cgroup namespace the container is shown the host directory of
 * its own cgroup as the hierarchy's root, as runc does. */
static char *own_dir(const struct cg_hier *h)
{
  const char *rel = h->own;
  /* A hierarchy mounted from below its root (nook itself in a container)
   * shows the caller's cgroup relative to that root. */
  if (strcmp(h->mount_root, "/") != 0) {
    size_t n = strlen(h->mount_root);
    if (strncmp(rel, h->mount_root, n) == 0 && (rel[n] == '\0' || rel[n] == '/'))
      rel += n;
  }
  char *out;
  xasprintf(&out, "%s%s", h->mountpoint, strcmp(rel, "/") == 0 ? "" : rel);
  return out;
}

int cgroup_mount_plan_build(enum cgroup_mode mode, bool cgroupns, bool cgroup2,
                            const char *self_cgroup, const char *mountinfo,
                            struct cgroup_mount_plan *out, nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  if (mode == CGROUP_MODE_UNIFIED || cgroup2) {
    struct cgroup_mount *m = plan_add(out);
    m->v2 = true;
    return 0;
  }
  struct cg_host h;
  if (cg_host_build(mode, self_cgroup, mountinfo, &h, err) < 0)
    return -1;
  out->tmpfs = true;
  for (size_t i = 0; i < h.n_v1; i++) {
    const char *name = top_level_name(h.v1[i].mountpoint);
    if (name == NULL)
      continue;
    struct cgroup_mount *m = plan_add(out);
    m->dir = xstrdup(name);
    if (cgroupns)
      m->options = v1_options(h.v1[i].controllers);
    else
      m->bind = own_dir(&h.v1[i]);
  }
  if (mode == CGROUP_MODE_HYBRID && h.has_unified) {
    struct cgroup_mount *m = plan_add(out);
    m->dir = xstrdup("unified");
    m->v2 = true;
    if (!cgroupns)
      m->bind = own_dir(&h.unified);
  }
  cg_host_clear(&h);
  return 0;
}

int cgroup_mount_plan(bool cgroupns, bool cgroup2, bool host_mounts, struct cgroup_mount_plan *out,
                      nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  if (cgroup_detect_mode(&mode, &e) < 0) {
    /* No cgroup hierarchy to show: an empty tmpfs, as on a host that has
     * none of them mounted. */
    nook_error_free(&e);
    if (cgroup2)
      return cgroup_mount_plan_build(CGROUP_MODE_UNIFIED, cgroupns, true, NULL, NULL, out, err);
    out->tmpfs = true;
    return 0;
  }
  if (mode == CGROUP_MODE_UNIFIED || cgroup2)
    return cgroup_mount_plan_build(mode, cgroupns, cgroup2, NULL, NULL, out, err);
  /* The own cgroup is read now, not from cg_host_get's cache: that was
   * filled before this process joined the container's cgroup (or entered
   * its cgroup namespace), and the own cgroup must be the one seen here. */
  cleanup_free char *self = NULL, *mi = NULL;
  const char *mounts = host_mounts ? cg_host_mountinfo() : NULL;
  if (read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, NULL, err) < 0 ||
      (mounts == NULL && read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mi, NULL, err) < 0))
    return -1;
  return cgroup_mount_plan_build(mode, cgroupns, cgroup2, self, mounts ? mounts : mi, out, err);
}
