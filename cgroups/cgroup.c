/* Mode detection, host discovery (which hierarchies exist and where the
 * caller sits in each) and cgroupsPath resolution; the persisted form is in
 * paths_form.c, file and process helpers in fs.c, the managers in
 * manager*.c.  Everything read from /proc is read once per process: start
 * time matters more than the few hundred bytes kept in memory. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

int cgroup_detect_mode(enum cgroup_mode *out, nook_error_t *err)
{
  static int cached = -1;
  if (cached >= 0) {
    *out = (enum cgroup_mode)cached;
    return 0;
  }
  struct statfs st;
  if (statfs(CG_FS_ROOT, &st) < 0)
    return nook_error(err, errno, "statfs `%s`", CG_FS_ROOT);
  enum cgroup_mode mode;
  if (st.f_type == CGROUP2_SUPER_MAGIC) {
    mode = CGROUP_MODE_UNIFIED;
  } else if (st.f_type == TMPFS_MAGIC) {
    /* v1 controllers on their own hierarchies; a v2 mount at "unified"
     * (systemd's hybrid layout) carries process tracking and whatever
     * controllers no v1 hierarchy claimed. */
    if (statfs(CG_HYBRID_UNIFIED, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
      mode = CGROUP_MODE_HYBRID;
    else
      mode = CGROUP_MODE_LEGACY;
  } else if (st.f_type == CGROUP_SUPER_MAGIC) {
    mode = CGROUP_MODE_LEGACY;
  } else {
    return nook_error(err, 0, "`%s` is neither a cgroup2 nor a tmpfs mount (fs type 0x%lx)",
                      CG_FS_ROOT, (unsigned long)st.f_type);
  }
  cached = (int)mode;
  *out = mode;
  return 0;
}

bool cg_list_has(const char *list, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    const char *end = strchrnul(p, ',');
    if ((size_t)(end - p) == n && memcmp(p, name, n) == 0)
      return true;
    p = *end ? end + 1 : end;
  }
  return false;
}

const char *cg_v1_dir(const struct cgroup_paths *p, const char *controller)
{
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++)
    if (p->v1_controllers && cg_list_has(p->v1_controllers[i], controller))
      return p->v1_dirs[i];
  return NULL;
}

/* ---- host discovery ---- */

static void hier_clear(struct cg_hier *h)
{
  free(h->controllers);
  free(h->mountpoint);
  free(h->mount_root);
  free(h->own);
  memset(h, 0, sizeof(*h));
}

void cg_host_clear(struct cg_host *h)
{
  for (size_t i = 0; i < h->n_v1; i++)
    hier_clear(&h->v1[i]);
  free(h->v1);
  hier_clear(&h->unified);
  memset(h, 0, sizeof(*h));
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *mi_unescape(const char *s, size_t len)
{
  char *out = xmalloc(len + 1), *o = out;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      *o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  return out;
}

struct mi_line {
  const char *f[12]; /* fields before " - ": id parent dev root mountpoint opts */
  size_t l[12];
  const char *fstype, *super;
  size_t fstype_len, super_len;
};

/* Split one mountinfo line in place-free fashion; false if malformed. */
static bool mi_split(const char *line, size_t len, struct mi_line *m)
{
  size_t nf = 0, i = 0;
  bool after_sep = false;
  size_t post = 0;
  while (i < len) {
    while (i < len && line[i] == ' ')
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && line[i] != ' ')
      i++;
    size_t flen = i - start;
    if (!after_sep) {
      if (flen == 1 && line[start] == '-' && nf >= 6) {
        after_sep = true;
        continue;
      }
      if (nf < ARRAY_SIZE(m->f)) {
        m->f[nf] = line + start;
        m->l[nf] = flen;
      }
      nf++;
    } else {
      if (post == 0) {
        m->fstype = line + start;
        m->fstype_len = flen;
      } else if (post == 2) {
        m->super = line + start;
        m->super_len = flen;
      }
      post++;
    }
  }
  return after_sep && post >= 3 && nf >= 6;
}

/* Is path `p` equal to or below `root`? */
static bool path_under(const char *p, const char *root)
{
  if (strcmp(root, "/") == 0)
    return true;
  size_t n = strlen(root);
  return strncmp(p, root, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

struct cg_mnt {
  bool v2;
  char *root, *mountpoint, *super;
};

/* The cgroup and cgroup2 mounts of a mountinfo text: one pass, whatever
 * else a busy host has mounted. */
static struct cg_mnt *mi_cgroup_mounts(const char *mountinfo, size_t *n)
{
  struct cg_mnt *v = NULL;
  size_t cap = 0;
  *n = 0;
  for (const char *line = mountinfo; line && *line;) {
    const char *nl = strchrnul(line, '\n');
    struct mi_line m = {0};
    if (mi_split(line, (size_t)(nl - line), &m) && m.fstype_len >= 6 &&
        memcmp(m.fstype, "cgroup", 6) == 0 &&
        (m.fstype_len == 6 || (m.fstype_len == 7 && m.fstype[6] == '2'))) {
      if (*n == cap) {
        cap = cap ? cap * 2 : 16;
        v = xrealloc(v, cap * sizeof(*v));
      }
      v[(*n)++] = (struct cg_mnt){.v2 = m.fstype_len == 7,
                                  .root = mi_unescape(m.f[3], m.l[3]),
                                  .mountpoint = mi_unescape(m.f[4], m.l[4]),
                                  .super = xstrndup(m.super, m.super_len)};
    }
    line = *nl ? nl + 1 : nl;
  }
  return v;
}

static void mi_free(struct cg_mnt *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(v[i].root);
    free(v[i].mountpoint);
    free(v[i].super);
  }
  free(v);
}

/* Does the super-options field carry every controller of `ctrls`? */
static bool super_has_all(const char *super, const char *ctrls)
{
  for (const char *p = ctrls; *p;) {
    const char *end = strchrnul(p, ',');
    char c[64];
    size_t len = (size_t)(end - p);
    if (len >= sizeof(c))
      return false;
    memcpy(c, p, len);
    c[len] = '\0';
    if (!cg_list_has(super, c))
      return false;
    p = *end ? end + 1 : end;
  }
  return true;
}

/* Find the mount of one hierarchy; prefer one that shows the caller's
 * cgroup, then one under /sys/fs/cgroup (the same hierarchy may also be
 * bind-mounted elsewhere). */
static bool mi_find(const struct cg_mnt *mnts, size_t n, bool v2, const char *ctrls,
                    const char *own, struct cg_hier *out)
{
  const struct cg_mnt *best = NULL;
  int best_score = -1;
  for (size_t i = 0; i < n; i++) {
    const struct cg_mnt *m = &mnts[i];
    if (m->v2 != v2 || (!v2 && !super_has_all(m->super, ctrls)))
      continue;
    int score =
        (path_under(own, m->root) ? 4 : 0) + (has_prefix(m->mountpoint, CG_FS_ROOT "/") ? 2 : 0) +
        (v2 &&
         (strcmp(m->mountpoint, CG_HYBRID_UNIFIED) == 0 || strcmp(m->mountpoint, CG_FS_ROOT) == 0));
    if (score > best_score) {
      best_score = score;
      best = m;
    }
  }
  if (best == NULL)
    return false;
  out->mountpoint = xstrdup(best->mountpoint);
  out->mount_root = xstrdup(best->root);
  return true;
}

int cg_host_build(enum cgroup_mode mode, const char *self_cgroup, const char *mountinfo,
                  struct cg_host *out, nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  out->mode = mode;
  size_t cap = 0, n_mnts;
  struct cg_mnt *mnts = mi_cgroup_mounts(mountinfo, &n_mnts);
  int ret = -1;
  for (const char *line = self_cgroup; line && *line;) {
    const char *nl = strchrnul(line, '\n');
    const char *c1 = memchr(line, ':', (size_t)(nl - line));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
    if (c2 == NULL || c2 + 1 >= nl || c2[1] != '/') {
      if (nl > line) {
        cleanup_free char *bad = xstrndup(line, (size_t)(nl - line));
        nook_error(err, 0, "/proc/self/cgroup: malformed line `%s`", bad);
        goto out;
      }
      line = *nl ? nl + 1 : nl;
      continue;
    }
    bool v2 = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
    struct cg_hier h = {0};
    h.controllers = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
    h.own = xstrndup(c2 + 1, (size_t)(nl - c2 - 1));
    line = *nl ? nl + 1 : nl;

    if (v2) {
      if (mode == CGROUP_MODE_LEGACY || out->has_unified) {
        hier_clear(&h);
        continue;
      }
      if (mode == CGROUP_MODE_UNIFIED && mountinfo == NULL) {
        h.mountpoint = xstrdup(CG_FS_ROOT);
        h.mount_root = xstrdup("/");
      } else if (!mi_find(mnts, n_mnts, true, "", h.own, &h)) {
        hier_clear(&h);
        continue;
      }
      out->unified = h;
      out->has_unified = true;
      continue;
    }
    /* v1 hierarchies exist only in legacy and hybrid mode; a hierarchy with
     * no controllers and no name cannot be mounted, and one that is not
     * mounted cannot be used. */
    if (mode == CGROUP_MODE_UNIFIED || h.controllers[0] == '\0' ||
        !mi_find(mnts, n_mnts, false, h.controllers, h.own, &h)) {
      hier_clear(&h);
      continue;
    }
    if (out->n_v1 == cap) {
      cap = cap ? cap * 2 : 16;
      out->v1 = xrealloc(out->v1, cap * sizeof(*out->v1));
    }
    out->v1[out->n_v1++] = h;
  }
  if (mode != CGROUP_MODE_LEGACY && !out->has_unified)
    nook_error(err, 0, "cgroup v2 hierarchy not found (/proc/self/cgroup, mountinfo)");
  else if (mode != CGROUP_MODE_UNIFIED && out->n_v1 == 0)
    nook_error(err, 0, "no cgroup v1 hierarchy is mounted");
  else
    ret = 0;
out:
  mi_free(mnts, n_mnts);
  if (ret < 0)
    cg_host_clear(out);
  return ret;
}

/* The mount table cg_host_get read, kept for cgroup_mount_plan: a
 * container's init in a copy of this mount namespace sees the same cgroup
 * mounts, and reading mountinfo again cost it ~0.1 ms (the kernel formats
 * every cgroup v1 mount's options under its locks). */
static char *host_mountinfo;

const char *cg_host_mountinfo(void)
{
  return host_mountinfo;
}

int cg_host_get(const struct cg_host **out, nook_error_t *err)
{
  static struct cg_host host;
  static bool ready;
  if (ready) {
    *out = &host;
    return 0;
  }
  enum cgroup_mode mode;
  if (cgroup_detect_mode(&mode, err) < 0)
    return -1;
  cleanup_free char *self = NULL, *mi = NULL;
  if (read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, NULL, err) < 0)
    return -1;
  /* Pure v2 needs no mount table: its hierarchy is /sys/fs/cgroup. */
  if (mode != CGROUP_MODE_UNIFIED &&
      read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mi, NULL, err) < 0)
    return -1;
  if (cg_host_build(mode, self, mi, &host, err) < 0)
    return -1;
  ready = true;
  host_mountinfo = steal_pointer(&mi);
  *out = &host;
  return 0;
}

/* ---- cgroupsPath ---- */

int cg_parse_cgroups_path(const char *cgroups_path, const char *id, char **inner, bool *absolute,
                          nook_error_t *err)
{
  const char *s = cgroups_path;
  const char *what = "cgroupsPath";
  if (s == NULL || *s == '\0') {
    /* runc's cgroupfs default: the container id, relative to the caller's
     * cgroup in each hierarchy. */
    if (id == NULL || *id == '\0')
      return nook_error(err, 0, "no cgroupsPath and no container id to derive one from");
    s = id;
    what = "container id (default cgroupsPath)";
  }
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return nook_error(err, 0, "%s `%s`: control characters are not allowed", what, s);
  if (s[0] != '/' && strchr(s, '/') == NULL) {
    const char *c1 = strchr(s, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 && strchr(c2 + 1, ':') == NULL)
      return nook_error(err, 0,
                        "cgroupsPath `%s` has the systemd `slice:prefix:name` form, which the "
                        "cgroupfs driver does not take: pass --systemd-cgroup for the systemd "
                        "driver, or use a path such as `/nook/<id>`",
                        s);
  }
  *absolute = s[0] == '/';
  char *out = xmalloc(strlen(s) + 1), *o = out;
  for (const char *p = s; *p;) {
    while (*p == '/')
      p++;
    if (*p == '\0')
      break;
    const char *end = strchrnul(p, '/');
    size_t n = (size_t)(end - p);
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      free(out);
      return nook_error(err, 0, "%s `%s`: `..` components are not allowed", what, s);
    }
    if (!(n == 1 && p[0] == '.')) {
      if (o != out)
        *o++ = '/';
      memcpy(o, p, n);
      o += n;
    }
    p = end;
  }
  *o = '\0';
  if (o == out) {
    free(out);
    /* The container's cgroup is removed (and its processes killed) on
     * delete: it must never be a hierarchy root or the caller's own. */
    return nook_error(err, 0, "%s `%s` names %s, not a cgroup of its own", what, s,
                      *absolute ? "the root of the cgroup hierarchy" : "the caller's own cgroup");
  }
  *inner = out;
  return 0;
}

static void append_path(char **buf, size_t *len, const char *part)
{
  while (*part == '/')
    part++;
  size_t n = strlen(part);
  while (n > 0 && part[n - 1] == '/')
    n--;
  if (n == 0)
    return;
  *buf = xrealloc(*buf, *len + n + 2);
  if (*len == 0 || (*buf)[*len - 1] != '/')
    (*buf)[(*len)++] = '/';
  memcpy(*buf + *len, part, n);
  *len += n;
  (*buf)[*len] = '\0';
}

int cg_hier_dir(const struct cg_hier *h, const char *inner, bool absolute, bool own_parent,
                char **out, nook_error_t *err)
{
  size_t len = strlen(h->mountpoint);
  char *buf = xstrdup(h->mountpoint);
  while (len > 1 && buf[len - 1] == '/')
    buf[--len] = '\0';
  if (!absolute) {
    cleanup_free char *own = xstrdup(h->own);
    if (own_parent) {
      /* v2's no-internal-process rule: the caller's own cgroup holds
       * processes, so controllers cannot be enabled below it; runc puts
       * relative paths under its parent for the same reason. */
      char *slash = strrchr(own, '/');
      if (slash)
        slash[slash == own ? 1 : 0] = '\0';
    }
    /* Seen from outside its cgroup namespace the caller's cgroup reads
     * "/../x": joined to the mountpoint it would leave the hierarchy. */
    if (strstr(own, "/..") != NULL && (strstr(own, "/../") || has_suffix(own, "/.."))) {
      free(buf);
      return nook_error(err, 0,
                        "the caller's cgroup `%s` lies outside its cgroup namespace; use an "
                        "absolute cgroupsPath",
                        own);
    }
    if (!path_under(own, h->mount_root)) {
      free(buf);
      return nook_error(err, 0,
                        "the caller's cgroup `%s` is not visible at `%s` (mount root `%s`); use "
                        "an absolute cgroupsPath",
                        own, h->mountpoint, h->mount_root);
    }
    const char *rel = strcmp(h->mount_root, "/") == 0 ? own : own + strlen(h->mount_root);
    append_path(&buf, &len, rel);
  }
  append_path(&buf, &len, inner);
  *out = buf;
  return 0;
}

bool cgroup_paths_fresh(const struct cgroup_paths *p)
{
  if (p->unified && p->unified_created == 0)
    return false;
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++)
    if (p->v1_created == NULL || p->v1_created[i] == 0)
      return false;
  return p->unified || (p->v1_dirs && p->v1_dirs[0]);
}

void cgroup_paths_clear(struct cgroup_paths *p)
{
  if (p == NULL)
    return;
  free(p->unified);
  strv_free(p->v1_dirs);
  strv_free(p->v1_controllers);
  free(p->v1_created);
  free(p->unit);
  free(p->slice);
  cg_open_files_free(p->keep_open);
  memset(p, 0, sizeof(*p));
}

int cg_resolve(const struct cg_host *h, const char *cgroups_path, const char *id,
               struct cgroup_paths *out, nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  out->mode = h->mode;
  cleanup_free char *inner = NULL;
  bool absolute;
  if (cg_parse_cgroups_path(cgroups_path, id, &inner, &absolute, err) < 0)
    return -1;
  if (h->has_unified && cg_hier_dir(&h->unified, inner, absolute, h->mode == CGROUP_MODE_UNIFIED,
                                    &out->unified, err) < 0)
    goto fail;
  if (h->n_v1 > 0) {
    out->v1_dirs = xcalloc(h->n_v1 + 1, sizeof(char *));
    out->v1_controllers = xcalloc(h->n_v1 + 1, sizeof(char *));
    out->v1_created = xcalloc(h->n_v1, sizeof(unsigned));
    for (size_t i = 0; i < h->n_v1; i++) {
      if (cg_hier_dir(&h->v1[i], inner, absolute, false, &out->v1_dirs[i], err) < 0)
        goto fail;
      out->v1_controllers[i] = xstrdup(h->v1[i].controllers);
    }
  }
  return 0;
fail:
  cgroup_paths_clear(out);
  return -1;
}

/* How many trailing components of dir (below the mount at dir[0..stop])
 * do not exist yet, i.e. what cg_mkdir would create now. */
static unsigned count_missing(const char *dir, size_t stop)
{
  cleanup_free char *p = xstrdup(dir);
  unsigned n = 0;
  struct stat st;
  while (stat(p, &st) < 0 && errno == ENOENT) {
    n++;
    char *slash = strrchr(p, '/');
    if (slash == NULL || (size_t)(slash - p) <= stop)
      break;
    *slash = '\0';
  }
  return n;
}

int cgroup_plan(enum cgroup_driver driver, const char *cgroups_path, const char *id,
                struct cgroup_paths *out, nook_error_t *err)
{
  if (driver == CGROUP_DRIVER_SYSTEMD)
    return cg_systemd_plan(cgroups_path, id, out, err);
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0 || cg_resolve(h, cgroups_path, id, out, err) < 0)
    return -1;
  if (out->unified)
    out->unified_created = count_missing(out->unified, strlen(h->unified.mountpoint));
  for (size_t i = 0; out->v1_dirs && out->v1_dirs[i]; i++)
    out->v1_created[i] = count_missing(out->v1_dirs[i], strlen(h->v1[i].mountpoint));
  return 0;
}
