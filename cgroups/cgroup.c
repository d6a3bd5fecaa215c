/* Mode detection, host discovery (which hierarchies exist and where the
 * caller sits in each), cgroupsPath resolution, and the persisted form of
 * struct cgroup_paths.  Everything read from /proc is read once per process:
 * start time matters more than the few hundred bytes kept in memory. */
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

extern const struct cgroup_manager cg_v1_manager, cg_v2_manager, cg_hybrid_manager;

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

const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode)
{
  switch (mode) {
  case CGROUP_MODE_UNIFIED:
    return &cg_v2_manager;
  case CGROUP_MODE_LEGACY:
    return &cg_v1_manager;
  case CGROUP_MODE_HYBRID:
    return &cg_hybrid_manager;
  }
  return NULL;
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
                        "cgroupsPath `%s` has the systemd `slice:prefix:name` form, but the "
                        "systemd cgroup driver is not available; use a path such as "
                        "`/nook/<id>`",
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

void cgroup_paths_clear(struct cgroup_paths *p)
{
  if (p == NULL)
    return;
  free(p->unified);
  strv_free(p->v1_dirs);
  strv_free(p->v1_controllers);
  free(p->v1_created);
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

int cgroup_plan(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                nook_error_t *err)
{
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0 || cg_resolve(h, cgroups_path, id, out, err) < 0)
    return -1;
  if (out->unified)
    out->unified_created = count_missing(out->unified, strlen(h->unified.mountpoint));
  for (size_t i = 0; out->v1_dirs && out->v1_dirs[i]; i++)
    out->v1_created[i] = count_missing(out->v1_dirs[i], strlen(h->v1[i].mountpoint));
  return 0;
}

/* ---- persisted form ----
 * One line: "1;mode=hybrid;u=<created>:<path>;h=<controllers>:<created>:<path>;..."
 * Paths go last in a record and have '%', ';' and control bytes %-escaped,
 * so any path survives; controller names never contain ':' or ';'. */

static const char *mode_name(enum cgroup_mode m)
{
  return m == CGROUP_MODE_UNIFIED ? "unified" : m == CGROUP_MODE_LEGACY ? "legacy" : "hybrid";
}

static void put_escaped(FILE *f, const char *s)
{
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '%' || c == ';' || c < 0x20 || c == 0x7f)
      fprintf(f, "%%%02X", c);
    else
      fputc(c, f);
  }
}

char *cgroup_paths_serialize(const struct cgroup_paths *p)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    abort();
  fprintf(f, "1;mode=%s", mode_name(p->mode));
  if (p->unified) {
    fprintf(f, ";u=%u:", p->unified_created);
    put_escaped(f, p->unified);
  }
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++) {
    fprintf(f, ";h=%s:%u:", p->v1_controllers ? p->v1_controllers[i] : "",
            p->v1_created ? p->v1_created[i] : 0);
    put_escaped(f, p->v1_dirs[i]);
  }
  if (fclose(f) != 0)
    abort();
  return buf;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static char *unescape(const char *s, size_t n)
{
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
        free(out);
        return NULL;
      }
      *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  return out;
}

static bool parse_created(const char *s, size_t n, unsigned *out)
{
  char tmp[16];
  unsigned long long v;
  if (n == 0 || n >= sizeof(tmp))
    return false;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  if (parse_uint64(tmp, &v) < 0 || v > 4096)
    return false;
  *out = (unsigned)v;
  return true;
}

int cgroup_paths_parse(const char *s, struct cgroup_paths *out, nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  if (s == NULL || strncmp(s, "1;mode=", 7) != 0)
    return nook_error(err, 0, "cgroup paths: unknown format `%s`", s ? s : "(null)");
  const char *p = s + 7;
  const char *end = strchrnul(p, ';');
  size_t n = (size_t)(end - p);
  if (n == 7 && memcmp(p, "unified", 7) == 0)
    out->mode = CGROUP_MODE_UNIFIED;
  else if (n == 6 && memcmp(p, "legacy", 6) == 0)
    out->mode = CGROUP_MODE_LEGACY;
  else if (n == 6 && memcmp(p, "hybrid", 6) == 0)
    out->mode = CGROUP_MODE_HYBRID;
  else
    goto bad;
  size_t cap = 0, nv1 = 0;
  for (p = end; *p == ';';) {
    p++;
    end = strchrnul(p, ';');
    if (end - p > 2 && p[0] == 'u' && p[1] == '=' && out->unified == NULL) {
      const char *c = memchr(p + 2, ':', (size_t)(end - p - 2));
      if (c == NULL || !parse_created(p + 2, (size_t)(c - p - 2), &out->unified_created))
        goto bad;
      if ((out->unified = unescape(c + 1, (size_t)(end - c - 1))) == NULL || !out->unified[0])
        goto bad;
    } else if (end - p > 2 && p[0] == 'h' && p[1] == '=') {
      const char *c1 = memchr(p + 2, ':', (size_t)(end - p - 2));
      const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
      if (c2 == NULL)
        goto bad;
      if (nv1 + 1 >= cap) {
        cap = cap ? cap * 2 : 16;
        out->v1_dirs = xrealloc(out->v1_dirs, cap * sizeof(char *));
        out->v1_controllers = xrealloc(out->v1_controllers, cap * sizeof(char *));
        out->v1_created = xrealloc(out->v1_created, cap * sizeof(unsigned));
      }
      out->v1_dirs[nv1] = out->v1_controllers[nv1] = NULL;
      out->v1_dirs[nv1 + 1] = out->v1_controllers[nv1 + 1] = NULL;
      if (!parse_created(c1 + 1, (size_t)(c2 - c1 - 1), &out->v1_created[nv1]))
        goto bad;
      char *dir = unescape(c2 + 1, (size_t)(end - c2 - 1));
      if (dir == NULL || !dir[0]) {
        free(dir);
        goto bad;
      }
      out->v1_controllers[nv1] = xstrndup(p + 2, (size_t)(c1 - p - 2));
      out->v1_dirs[nv1++] = dir;
    } else {
      goto bad;
    }
    p = end;
  }
  if (*p != '\0')
    goto bad;
  return 0;
bad:
  cgroup_paths_clear(out);
  return nook_error(err, 0, "cgroup paths: malformed `%s`", s);
}

/* ---- file and directory helpers ---- */

long long cg_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cg_sleep_us(long us)
{
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int join_path(char *buf, const char *dir, const char *file, nook_error_t *err)
{
  int n = snprintf(buf, PATH_MAX, "%s/%s", dir, file);
  if (n < 0 || n >= PATH_MAX)
    return nook_error(err, ENAMETOOLONG, "path `%s/%s`", dir, file);
  return 0;
}

/* 0, or -errno with *at_open telling whether open or write failed. */
static int write_raw(const char *path, const char *val, bool *at_open)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  *at_open = fd < 0;
  if (fd < 0)
    return -errno;
  int r = safe_write(fd, val, strlen(val)) < 0 ? -errno : 0;
  close(fd);
  return r;
}

int cg_write(const char *dir, const char *file, const char *val, nook_error_t *err)
{
  char path[PATH_MAX];
  bool at_open;
  if (join_path(path, dir, file, err) < 0)
    return -1;
  int r = write_raw(path, val, &at_open);
  if (r == 0)
    return 0;
  if (at_open)
    return nook_error(err, -r, "open `%s`", path);
  return nook_error(err, -r, "write `%s` to `%s`", val, path);
}

int cg_set(const char *dir, const char *file, const char *val, const char *field, const char *hint,
           nook_error_t *err)
{
  char path[PATH_MAX];
  bool at_open;
  if (join_path(path, dir, file, err) < 0)
    return nook_error_wrap(err, "%s", field);
  int r = write_raw(path, val, &at_open);
  if (r == 0)
    return 0;
  if (at_open && r == -ENOENT) {
    nook_error(err, 0, "%s: %s: no such file%s%s%s", field, path, hint ? " (" : "",
               hint ? hint : "", hint ? ")" : "");
    return -ENOENT;
  }
  return nook_error(err, -r, "%s: write `%s` to `%s`", field, val, path);
}

ssize_t cg_read(const char *dir, const char *file, char *buf, size_t size, nook_error_t *err)
{
  char path[PATH_MAX];
  if (join_path(path, dir, file, err) < 0)
    return -1;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", path);
  ssize_t n = safe_read(fd, buf, size - 1);
  if (n < 0)
    return nook_error(err, errno, "read `%s`", path);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    n--;
  buf[n] = '\0';
  return n;
}

int cgroup_refuse_frozen(const struct cgroup_paths *p, nook_error_t *err)
{
  char buf[32];
  /* cgroup.events says frozen only once every task stopped; cgroup.freeze
   * says it was asked for (or an ancestor was: then events says it). */
  if (p->unified &&
      (cg2_frozen(p->unified, NULL) == 1 ||
       (cg_read(p->unified, "cgroup.freeze", buf, sizeof(buf), NULL) > 0 && strcmp(buf, "1") == 0)))
    return nook_error(err, 0, "cgroup `%s` is frozen; thaw it before putting a container in it",
                      p->unified);
  const char *d = cg_v1_dir(p, "freezer");
  if (d && cg_read(d, "freezer.state", buf, sizeof(buf), NULL) > 0 && strcmp(buf, "THAWED") != 0)
    return nook_error(err, 0,
                      "cgroup `%s` is frozen (freezer.state %s); thaw it before putting a "
                      "container in it",
                      d, buf);
  return 0;
}

/* Returns the number of trailing components created, or -errno. */
static int mkdir_count(char *p, size_t stop)
{
  for (int tries = 0; tries < 4; tries++) {
    if (mkdir(p, 0755) == 0)
      return 1;
    if (errno == EEXIST)
      return 0;
    if (errno != ENOENT)
      return -errno;
    char *slash = strrchr(p, '/');
    if (slash == NULL || (size_t)(slash - p) <= stop)
      return -ENOENT; /* the hierarchy's mountpoint itself is missing */
    *slash = '\0';
    int r = mkdir_count(p, stop);
    *slash = '/';
    if (r < 0)
      return r;
    if (mkdir(p, 0755) == 0)
      return r + 1;
    if (errno == EEXIST)
      return 0; /* a concurrent create won: the parents are shared now */
    if (errno != ENOENT)
      return -errno;
    /* A concurrent delete removed a parent it had created: start over. */
  }
  return -ENOENT;
}

int cg_mkdir(const char *dir, size_t stop, unsigned *created, nook_error_t *err)
{
  cleanup_free char *p = xstrdup(dir);
  int r = mkdir_count(p, stop);
  if (r < 0)
    return nook_error(err, -r, "mkdir `%s`", dir);
  *created = (unsigned)r;
  return 0;
}

int cg_try_rmdir_tree(const char *dir)
{
  if (rmdir(dir) == 0 || errno == ENOENT)
    return 0;
  if (errno != EBUSY && errno != ENOTEMPTY)
    return -errno;
  /* Child cgroups the container made for itself go first. */
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : -errno;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child = NULL;
    xasprintf(&child, "%s/%s", dir, de->d_name);
    cg_try_rmdir_tree(child);
  }
  closedir(d);
  if (rmdir(dir) == 0 || errno == ENOENT)
    return 0;
  return -errno;
}

int cg_rmdir_leaf(const char *dir, long long deadline_ms, nook_error_t *err)
{
  long delay = 200;
  for (;;) {
    int r = cg_try_rmdir_tree(dir);
    if (r == 0)
      return 0;
    if (r != -EBUSY && r != -ENOTEMPTY)
      return nook_error(err, -r, "rmdir `%s`", dir);
    if (cg_now_ms() >= deadline_ms)
      return nook_error(err, -r, "rmdir `%s` (processes still in the cgroup?)", dir);
    cg_sleep_us(delay);
    if (delay < 20000)
      delay *= 2;
  }
}

void cg_rmdir_parents(const char *dir, unsigned n)
{
  cleanup_free char *p = xstrdup(dir);
  for (unsigned i = 0; i < n; i++) {
    char *slash = strrchr(p, '/');
    if (slash == NULL || slash == p)
      return;
    *slash = '\0';
    if (rmdir(p) < 0 && errno != ENOENT)
      return; /* busy: another container still lives below it */
  }
}

void cg_rollback(const char *dir, unsigned created)
{
  if (created == 0 || (rmdir(dir) < 0 && errno != ENOENT))
    return;
  cg_rmdir_parents(dir, created - 1);
}

/* ---- processes ---- */

static int read_pids_rec(const char *dir, pid_t **v, size_t *n, size_t *cap, nook_error_t *err)
{
  char path[PATH_MAX];
  if (join_path(path, dir, "cgroup.procs", err) < 0)
    return -1;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) /* gone: nothing in it */
      return 0;
    return nook_error(err, errno, "open `%s`", path);
  }
  cleanup_free char *buf = NULL;
  if (read_fd_all(fd, &buf, NULL, err) < 0)
    return nook_error_wrap(err, "`%s`", path);
  for (char *s = buf; *s;) {
    char *end = strchrnul(s, '\n');
    bool last = *end == '\0';
    *end = '\0';
    long long pid;
    if (*s && parse_int64(s, &pid) == 0 && pid > 0) {
      if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = xrealloc(*v, *cap * sizeof(pid_t));
      }
      (*v)[(*n)++] = (pid_t)pid;
    }
    s = last ? end : end + 1;
  }
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : nook_error(err, errno, "opendir `%s`", dir);
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child = NULL;
    xasprintf(&child, "%s/%s", dir, de->d_name);
    r = read_pids_rec(child, v, n, cap, err);
  }
  closedir(d);
  return r;
}

int cg_read_pids(const char *dir, pid_t **out, size_t *n, nook_error_t *err)
{
  pid_t *v = NULL;
  size_t cap = 0;
  *n = 0;
  if (read_pids_rec(dir, &v, n, &cap, err) < 0) {
    free(v);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof(pid_t));
  return 0;
}

int cg_enter(const char *dir, pid_t pid, nook_error_t *err)
{
  char buf[24];
  snprintf(buf, sizeof(buf), "%d", (int)pid);
  return cg_write(dir, "cgroup.procs", buf, err);
}

int cg_signal_procs(const char *dir, int sig, const char *freezer, nook_error_t *err)
{
  long long deadline = cg_now_ms() + CG_KILL_TIMEOUT_MS;
  long delay = 100;
  for (bool first = true;; first = false) {
    pid_t *pids;
    size_t n;
    if (cg_read_pids(dir, &pids, &n, err) < 0)
      return -1;
    for (size_t i = 0; i < n; i++) {
      if (kill(pids[i], sig) < 0 && errno != ESRCH) {
        int saved = errno;
        pid_t pid = pids[i];
        free(pids);
        return nook_error(err, saved, "kill %d with signal %d", (int)pid, sig);
      }
    }
    free(pids);
    /* Exited processes leave cgroup.procs at once (zombies are not listed),
     * so for SIGKILL an empty list means done. */
    if (sig != SIGKILL || n == 0)
      return 0;
    if (first && freezer) {
      /* Tasks frozen by the v1 freezer do not act on SIGKILL until thawed;
       * the signal is already pending, so they die instead of running. */
      nook_error_t ignored = NULL;
      if (cg_write(freezer, "freezer.state", "THAWED", &ignored) < 0)
        nook_error_free(&ignored);
    }
    if (cg_now_ms() >= deadline)
      return nook_error(err, 0, "processes in `%s` still alive %d ms after SIGKILL", dir,
                        CG_KILL_TIMEOUT_MS);
    cg_sleep_us(delay);
    if (delay < 10000)
      delay *= 2;
  }
}
