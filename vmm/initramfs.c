#include "initramfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/sha256.h"
#include "../base/utils.h"
#include "cpio.h"
#include "elfstrip.h"

/* Bump when the archive's layout changes, so older caches are not taken. */
#define LAYOUT "nook-initramfs-3"

struct entry {
  char *name; /* in the archive, relative */
  char *host; /* a regular file's source, or NULL */
  char *link; /* a symlink's target, or NULL */
  char *data; /* a file made here (its contents), or NULL */
  mode_t perm;
  bool strip; /* an ELF program or library: only its segments go in */
};

struct plan {
  struct entry *v;
  size_t n, cap;
};

static struct entry *plan_add(struct plan *p, const char *name, const char *host, const char *link,
                              mode_t perm, bool strip)
{
  for (size_t i = 0; i < p->n; i++) {
    if (strcmp(p->v[i].name, name) == 0)
      return &p->v[i];
  }
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 32;
    p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
  }
  p->v[p->n++] = (struct entry){.name = xstrdup(name),
                                .host = host ? xstrdup(host) : NULL,
                                .link = link ? xstrdup(link) : NULL,
                                .perm = perm,
                                .strip = strip};
  return &p->v[p->n - 1];
}

static void plan_free(struct plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    free(p->v[i].name);
    free(p->v[i].host);
    free(p->v[i].link);
    free(p->v[i].data);
  }
  free(p->v);
}

/* The libraries as the dynamic loader named them when it loaded nook: the
 * names it will search for again in the guest (libc.so.6, and the
 * interpreter at its PT_INTERP path).  /proc/self/maps shows the same files
 * by their resolved names (/usr/lib/...), which the loader would not
 * find. */
static int add_lib(struct dl_phdr_info *info, size_t size, void *data)
{
  struct plan *p = data;
  const char *name = info->dlpi_name;
  if (name == NULL || name[0] != '/')
    return 0; /* the main program (""), the vDSO */
  plan_add(p, name + 1, name, NULL, 0755, true);
  return 0;
}

/* The bundle's needs/NAME lists (scripts/vm-kernel's VM_MODE_NEEDS) of
 * base and of each need asked for, "\nA.ko\nB.ko\n...", or NULL when the
 * bundle has none (a bundle made for another module set): then every module
 * goes in. */
static int wanted_modules(const char *bundle, unsigned needs, char **out, nook_error_t *err)
{
  static const struct {
    const char *name;
    unsigned need; /* 0: always */
  } sets[] = {
      {"base", 0}, {"disk", VMM_NEED_DISK}, {"overlay", VMM_NEED_OVERLAY}, {"net", VMM_NEED_NET}};
  cleanup_free char *base = NULL;
  xasprintf(&base, "%s/needs/base", bundle);
  if (access(base, F_OK) < 0) {
    *out = NULL;
    return 0;
  }
  char *all = xstrdup("\n");
  for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
    if (sets[i].need != 0 && (needs & sets[i].need) == 0)
      continue;
    cleanup_free char *path = NULL, *text = NULL;
    size_t len;
    xasprintf(&path, "%s/needs/%s", bundle, sets[i].name);
    if (read_file_at(AT_FDCWD, path, &text, &len, err) < 0) {
      free(all);
      return nook_error_wrap(err, "kernel bundle");
    }
    char *next = NULL;
    xasprintf(&next, "%s%s%s", all, text, len > 0 && text[len - 1] != '\n' ? "\n" : "");
    free(all);
    all = next;
  }
  *out = all;
  return 0;
}

static bool is_wanted(const char *wanted, const char *module)
{
  if (wanted == NULL)
    return true;
  cleanup_free char *line = NULL;
  xasprintf(&line, "\n%s\n", module);
  return strstr(wanted, line) != NULL;
}

/* A file this nook may put in the guest as its init: a regular file, in a
 * directory, neither writable by anyone but root or the user running nook
 * (a build tree), so that no other user, and nothing a container controls,
 * chooses the guest's code. */
static bool trusted(const char *path)
{
  struct stat st, dst;
  cleanup_free char *dir = xstrdup(path);
  *strrchr(dir, '/') = '\0';
  uid_t me = geteuid();
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_uid == 0 || st.st_uid == me) &&
         !(st.st_mode & (S_IWGRP | S_IWOTH)) && stat(dir, &dst) == 0 &&
         (dst.st_uid == 0 || dst.st_uid == me) && !(dst.st_mode & (S_IWGRP | S_IWOTH));
}

/* The static nook-guest of this build: beside the running binary (a build
 * tree) or in ../libexec/nook/ (`make install`), found from /proc/self/exe
 * and nothing a caller's environment sets; NULL when there is none. */
static char *find_guest(void)
{
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0)
    return NULL;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash == NULL)
    return NULL;
  *slash = '\0';
  static const char *const rel[] = {"nook-guest", "../libexec/nook/nook-guest"};
  for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
    char *p = NULL;
    xasprintf(&p, "%s/%s", exe, rel[i]);
    if (trusted(p))
      return p;
    free(p);
  }
  return NULL;
}

static int plan_build(struct plan *p, const char *bundle, unsigned needs, nook_error_t *err)
{
  /* A static guest init loads no library: under TCG an exec of a dynamic
   * nook at /init, all of it cold, cost ~70 ms against ~5 ms for a static
   * one.  Without one (a build that made none), this nook and the libraries
   * the loader gave it. */
  cleanup_free char *guest = find_guest();
  plan_add(p, "nook", guest ? guest : "/proc/self/exe", NULL, 0755, true);
  /* The kernel runs /init with argv[0] "/init": that is how nook knows it is
   * the guest's init. */
  plan_add(p, "init", NULL, "nook", 0777, false);
  if (guest == NULL)
    dl_iterate_phdr(add_lib, p);
  cleanup_free char *load_path = NULL, *load = NULL, *wanted = NULL;
  size_t len;
  xasprintf(&load_path, "%s/modules.load", bundle);
  if (read_file_at(AT_FDCWD, load_path, &load, &len, err) < 0)
    return nook_error_wrap(err, "kernel bundle");
  if (wanted_modules(bundle, needs, &wanted, err) < 0)
    return -1;
  /* The guest's list: the bundle's load order, only the modules wanted. */
  struct entry *list = plan_add(p, VMM_GUEST_MODULES_LOAD, NULL, NULL, 0644, false);
  list->data = xstrdup("");
  for (char *save = NULL, *m = strtok_r(load, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
    if (strchr(m, '/') != NULL || m[0] == '.')
      return nook_error(err, 0, "kernel bundle: bad module name `%s` in %s", m, load_path);
    if (!is_wanted(wanted, m))
      continue;
    char *next = NULL;
    xasprintf(&next, "%s%s\n", list->data, m);
    free(list->data);
    list->data = next;
    cleanup_free char *host = NULL, *name = NULL;
    xasprintf(&host, "%s/modules/%s", bundle, m);
    xasprintf(&name, "%s/%s", VMM_GUEST_MODULES_DIR, m);
    /* Never stripped: the kernel links a module through its sections. */
    plan_add(p, name, host, NULL, 0644, false);
  }
  return 0;
}

/* A file's identity: a rebuilt nook, an upgraded library or a new bundle is
 * a new file or a rewritten one (new inode, size or times).  Hashing the
 * contents instead cost a read of ~5 MB per boot. */
static int identity(struct sha256 *c, const char *path, nook_error_t *err)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return nook_error(err, errno, "stat `%s`", path);
  char id[160];
  int n =
      snprintf(id, sizeof(id), "%llu:%llu:%lld:%lld.%ld:%lld.%ld", (unsigned long long)st.st_dev,
               (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
               st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
  sha256_update(c, id, (size_t)n + 1);
  return 0;
}

/* The key covers every entry's name, mode and source (its identity). */
static int plan_key(const struct plan *p, char out[2 * SHA256_DIGEST_LEN + 1], nook_error_t *err)
{
  struct sha256 c;
  sha256_init(&c);
  sha256_update(&c, LAYOUT, sizeof(LAYOUT));
  for (size_t i = 0; i < p->n; i++) {
    const struct entry *e = &p->v[i];
    char meta[64];
    int n = snprintf(meta, sizeof(meta), "|%o|%d|", (unsigned)e->perm, e->strip);
    sha256_update(&c, e->name, strlen(e->name) + 1);
    sha256_update(&c, meta, (size_t)n);
    if (e->link != NULL)
      sha256_update(&c, e->link, strlen(e->link) + 1);
    else if (e->data != NULL)
      sha256_update(&c, e->data, strlen(e->data) + 1);
    else if (identity(&c, e->host, err) < 0)
      return -1;
  }
  uint8_t d[SHA256_DIGEST_LEN];
  sha256_final(&c, d);
  sha256_hex(d, out);
  return 0;
}

static int add_entry(struct cpio_writer *w, const struct entry *e, nook_error_t *err)
{
  if (e->link != NULL)
    return cpio_add_symlink(w, e->name, e->link, err);
  if (e->data != NULL)
    return cpio_add_data(w, e->name, e->perm, e->data, strlen(e->data), err);
  if (!e->strip)
    return cpio_add_file(w, e->name, e->perm, e->host, err);
  cleanup_free char *data = NULL;
  size_t len;
  if (elf_strip_read(e->host, &data, &len, err) < 0)
    return -1;
  return cpio_add_data(w, e->name, e->perm, data, len, err);
}

/* Every directory above `name` not written yet, outermost first. */
static int add_parents(struct cpio_writer *w, struct plan *dirs, const char *name,
                       nook_error_t *err)
{
  cleanup_free char *path = xstrdup(name);
  for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
    *s = '\0';
    bool seen = false;
    for (size_t i = 0; i < dirs->n && !seen; i++)
      seen = strcmp(dirs->v[i].name, path) == 0;
    if (!seen) {
      plan_add(dirs, path, NULL, NULL, 0755, false);
      if (cpio_add_dir(w, path, 0755, err) < 0)
        return -1;
    }
    *s = '/';
  }
  return 0;
}

static int write_archive(const struct plan *p, int fd, nook_error_t *err)
{
  struct cpio_writer w;
  cpio_init(&w, fd);
  struct plan dirs = {0};
  int r = -1;
  /* The mount points the guest init uses, and the console the kernel opens
   * for init's stdio before init runs. */
  static const char *const top[] = {"dev", "proc", "sys", "mnt", "run", "tmp"};
  for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
    plan_add(&dirs, top[i], NULL, NULL, 0755, false);
    if (cpio_add_dir(&w, top[i], 0755, err) < 0)
      goto out;
  }
  if (cpio_add_chardev(&w, "dev/console", 0600, 5, 1, err) < 0)
    goto out;
  for (size_t i = 0; i < p->n; i++) {
    const struct entry *e = &p->v[i];
    if (add_parents(&w, &dirs, e->name, err) < 0)
      goto out;
    if (add_entry(&w, e, err) < 0)
      goto out;
  }
  r = cpio_finish(&w, err);
out:
  plan_free(&dirs);
  return r;
}

/* Archives of other builds that nobody used for a day go. */
static void prune(const char *cache_dir, const char *keep)
{
  DIR *d = opendir(cache_dir);
  if (d == NULL)
    return;
  time_t now = time(NULL);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!has_prefix(de->d_name, "initramfs-") || strcmp(de->d_name, keep) == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        now - st.st_atime > 24 * 3600 && now - st.st_mtime > 24 * 3600)
      unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
}

int vmm_initramfs(const char *bundle, const char *cache_dir, unsigned needs, char **path,
                  nook_error_t *err)
{
  struct plan p = {0};
  int r = -1;
  char key[2 * SHA256_DIGEST_LEN + 1];
  cleanup_free char *name = NULL, *final = NULL, *tmp = NULL;
  cleanup_close int fd = -1;
  if (plan_build(&p, bundle, needs, err) < 0 || plan_key(&p, key, err) < 0)
    goto out;
  xasprintf(&name, "initramfs-%.32s.cpio", key);
  xasprintf(&final, "%s/%s", cache_dir, name);
  if (access(final, R_OK) == 0) {
    *path = steal_pointer(&final);
    r = 0;
    goto out;
  }
  if (mkdir_p(cache_dir, 0755, err) < 0)
    goto out;
  /* Built under a private name and renamed: a concurrent boot sees the
   * whole archive or none. */
  xasprintf(&tmp, "%s/.%s.XXXXXX", cache_dir, name);
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    nook_error(err, errno, "create `%s`", tmp);
    goto out;
  }
  if (write_archive(&p, fd, err) < 0 || fchmod(fd, 0644) < 0 || rename(tmp, final) < 0) {
    if (err && *err == NULL)
      nook_error(err, errno, "install `%s`", final);
    unlink(tmp);
    nook_error_wrap(err, "initramfs");
    goto out;
  }
  prune(cache_dir, name);
  *path = steal_pointer(&final);
  r = 0;
out:
  plan_free(&p);
  return r;
}
