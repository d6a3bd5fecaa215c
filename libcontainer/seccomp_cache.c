/* The compiled-filter cache: one directory per host (root's,
 * SECCOMP_CACHE_HOST_DIR) or per user (rootless), one file per distinct
 * profile, named by the hex SHA-256 of everything the program depends on.
 * A hit costs a few syscalls instead of a libseccomp compile; every state
 * root, engine namespace and container of the host shares it.
 *
 * Trust comes from who can write, checked on every use: each directory from
 * / down belongs to root, to the runtime's euid or to /'s owner (in a user
 * namespace that does not map the host's root, / and everything of root
 * show as the overflow uid) and is writable by no one else (a sticky
 * directory such as /tmp excepted: others cannot move our entries there);
 * the cache directory and its files belong to the euid, are writable by no
 * one else, and a file has a single link.  Its header (magic, format, key,
 * length) and the checksum of its instructions must match.  Anything else
 * is a miss (with a warning when a file was there but is not trusted), and
 * the program is compiled again and the file replaced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "seccomp_internal.h"

/* Bump when the file layout or the key's input changes. */
#define CACHE_FORMAT 2
/* Past this many files, a store first drops the least recently used half
 * of those not pinned (precompiled). */
#define CACHE_MAX_ENTRIES 256
#define MAX_INSNS 4096
/* The mode of a precompiled entry (seccomp_precompile): eviction keeps it. */
#define PINNED_MODE 0400

static const char magic[8] = "NOOKBPF";

struct cache_header {
  char magic[8];
  uint32_t format;
  uint32_t len; /* instructions that follow */
  uint8_t key[SHA256_DIGEST_LEN];
  uint64_t sum; /* seccomp_cache_checksum of the instructions */
};

/* ---- where --------------------------------------------------------------- */

char *seccomp_cache_dir(bool rootless)
{
  const char *env = getenv("NOOK_SECCOMP_CACHE");
  char *dir = NULL;
  if (env != NULL && *env != '\0') {
    if (strcmp(env, "off") == 0)
      return NULL;
    if (env[0] != '/') {
      nook_warn("NOOK_SECCOMP_CACHE=%s: not an absolute path or \"off\": no seccomp cache", env);
      return NULL;
    }
    return xstrdup(env);
  }
  if (!rootless)
    return xstrdup(SECCOMP_CACHE_HOST_DIR);
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (xdg != NULL && xdg[0] == '/')
    xasprintf(&dir, "%s/nook/seccomp", xdg);
  else if (home != NULL && home[0] == '/')
    xasprintf(&dir, "%s/.cache/nook/seccomp", home);
  return dir;
}

/* ---- key ----------------------------------------------------------------- */

/* Native byte order and widths: the native architecture is part of the key. */
static void hash_u64(struct sha256 *c, uint64_t v)
{
  sha256_update(c, &v, sizeof(v));
}

/* With its NUL: names hold none, so the sequence reads back one way. */
static void hash_str(struct sha256 *c, const char *s)
{
  sha256_update(c, s, strlen(s) + 1);
}

void seccomp_cache_key(const struct oci_seccomp *s, int api, uint8_t key[SHA256_DIGEST_LEN])
{
  struct sha256 c;
  const struct scmp_version *v = seccomp_version();
  sha256_init(&c);
  hash_str(&c, "nook seccomp cache");
  hash_u64(&c, CACHE_FORMAT);
  hash_u64(&c, SECCOMP_PATCH_VERSION);
  hash_u64(&c, v->major);
  hash_u64(&c, v->minor);
  hash_u64(&c, v->micro);
  hash_u64(&c, (uint64_t)api);
  hash_u64(&c, seccomp_arch_native());
  hash_u64(&c, s->default_action);
  hash_u64(&c, s->default_errno_ret);
  hash_u64(&c, s->n_architectures);
  for (size_t i = 0; i < s->n_architectures; i++)
    hash_u64(&c, s->architectures[i]);
  hash_u64(&c, s->n_syscalls);
  for (size_t i = 0; i < s->n_syscalls; i++) {
    const struct oci_seccomp_syscall *sc = &s->syscalls[i];
    uint32_t head[4] = {sc->action, sc->errno_ret, (uint32_t)sc->n_names, (uint32_t)sc->n_args};
    sha256_update(&c, head, sizeof(head));
    for (size_t j = 0; j < sc->n_names; j++)
      hash_str(&c, sc->names[j]);
    for (size_t k = 0; k < sc->n_args; k++) {
      hash_u64(&c, sc->args[k].index);
      hash_u64(&c, (uint64_t)sc->args[k].op);
      hash_u64(&c, sc->args[k].value);
      hash_u64(&c, sc->args[k].value_two);
    }
  }
  sha256_final(&c, key);
}

/* Not a defence against someone who can write the file (the ownership
 * checks are): it catches a torn or damaged file.  Each step is a
 * bijection of the running value, so any one changed instruction changes
 * the sum; at ~2 us for a docker-sized program it costs a twentieth of
 * SHA-256 over the same bytes. */
uint64_t seccomp_cache_checksum(const void *bpf, size_t len)
{
  const unsigned char *p = bpf;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
  for (size_t i = 0; i < len; i++) {
    uint64_t w;
    memcpy(&w, p + i * sizeof(struct sock_filter), sizeof(w));
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
  }
  return h;
}

/* ---- directories --------------------------------------------------------- */

static bool trusted(const struct stat *st, bool dir)
{
  if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
    return false;
  if (st->st_uid != geteuid() || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return false;
  /* A second name could be an old file someone linked in. */
  return dir || st->st_nlink == 1;
}

/* A directory above the cache: nobody but root, us or /'s owner may
 * rename or replace what it holds. */
static bool chain_ok(const struct stat *st, uid_t top)
{
  if (!S_ISDIR(st->st_mode))
    return false;
  if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != top)
    return false;
  return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0 || (st->st_mode & S_ISVTX) != 0;
}

/* The cache directory, opened from / one component at a time (no
 * symlinks) and checked at each step; made (0755, the last 0700) where
 * missing when `create`.  -1 with a debug line when it is missing or not
 * trusted. */
static int open_dir(const char *dir, bool create)
{
  if (dir[0] != '/') {
    nook_debug("seccomp cache: `%s` is not absolute: not used", dir);
    return -1;
  }
  cleanup_free char *copy = xstrdup(dir);
  cleanup_close int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return -1;
  uid_t top = st.st_uid;
  char *save = NULL, *next = strtok_r(copy, "/", &save);
  if (next == NULL) {
    nook_debug("seccomp cache: `%s` is the root directory: not used", dir);
    return -1;
  }
  while (next != NULL) {
    char *name = next;
    next = strtok_r(NULL, "/", &save);
    /* Only a plain path: the last component is the one checked as the
     * cache directory. */
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
      nook_debug("seccomp cache: `%s` has a `.` or `..` component: not used", dir);
      return -1;
    }
    bool last = next == NULL;
    int flags = (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int sub = openat(fd, name, flags);
    if (sub < 0 && errno == ENOENT && create) {
      if (mkdirat(fd, name, last ? 0700 : 0755) < 0 && errno != EEXIST) {
        nook_debug("seccomp cache: make `%s` in `%s`: %s", name, dir, strerror(errno));
        return -1;
      }
      sub = openat(fd, name, flags);
    }
    if (sub < 0 || fstat(sub, &st) < 0) {
      if (errno != ENOENT)
        nook_debug("seccomp cache: `%s` of `%s`: %s", name, dir, strerror(errno));
      if (sub >= 0)
        close(sub);
      return -1;
    }
    close(fd);
    fd = sub;
    if (last ? !trusted(&st, true) : !chain_ok(&st, top)) {
      nook_warn("seccomp cache `%s`: `%s` (uid %u, mode %04o) may be changed by users other than "
                "root and uid %u: not used",
                dir, name, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                (unsigned)geteuid());
      return -1;
    }
  }
  return steal_fd(&fd);
}

/* ---- entries ------------------------------------------------------------- */

static bool read_full(int fd, void *buf, size_t len, off_t off)
{
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += (size_t)n;
  }
  return true;
}

bool seccomp_cache_load(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
                        struct seccomp_prog *out)
{
  char name[2 * SHA256_DIGEST_LEN + 1];
  sha256_hex(key, name);
  cleanup_close int dfd = open_dir(dir, false);
  if (dfd < 0)
    return false;
  /* O_NONBLOCK: a FIFO planted under the name must not hang the runtime. */
  cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      nook_warn("seccomp cache: open `%s/%s`: %s: compiled again", dir, name, strerror(errno));
    else
      nook_debug("seccomp cache: miss `%s/%s`", dir, name);
    return false;
  }
  struct stat st;
  struct cache_header h;
  const char *bad = NULL;
  size_t body = 0;
  if (fstat(fd, &st) < 0 || !trusted(&st, false))
    bad = "not a regular file of this user with one link, writable by no one else";
  else if ((size_t)st.st_size <= sizeof(h) ||
           (body = (size_t)st.st_size - sizeof(h)) % sizeof(struct sock_filter) != 0 ||
           body / sizeof(struct sock_filter) > MAX_INSNS)
    bad = "bad size";
  else if (!read_full(fd, &h, sizeof(h), 0))
    bad = "short read";
  else if (memcmp(h.magic, magic, sizeof(magic)) != 0 || h.format != CACHE_FORMAT ||
           memcmp(h.key, key, SHA256_DIGEST_LEN) != 0 ||
           (size_t)h.len != body / sizeof(struct sock_filter))
    bad = "bad header";
  cleanup_free void *bpf = bad == NULL ? xmalloc(body) : NULL;
  if (bad == NULL && !read_full(fd, bpf, body, sizeof(h)))
    bad = "short read";
  else if (bad == NULL && seccomp_cache_checksum(bpf, h.len) != h.sum)
    bad = "the instructions do not match their checksum";
  if (bad != NULL) {
    nook_warn("seccomp cache: `%s/%s`: %s: not used, compiled again", dir, name, bad);
    return false;
  }
  nook_debug("seccomp cache: hit `%s/%s`", dir, name);
  out->bpf = steal_pointer(&bpf);
  out->len = h.len;
  return true;
}

struct entry {
  char *name;
  struct timespec used;
};

static int by_use(const void *a, const void *b)
{
  const struct timespec *x = &((const struct entry *)a)->used;
  const struct timespec *y = &((const struct entry *)b)->used;
  if (x->tv_sec != y->tv_sec)
    return x->tv_sec < y->tv_sec ? -1 : 1;
  return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

static const struct timespec *later(const struct timespec *a, const struct timespec *b)
{
  return by_use(&(struct entry){.used = *a}, &(struct entry){.used = *b}) >= 0 ? a : b;
}

/* Bound the directory: at CACHE_MAX_ENTRIES files, the least recently used
 * half goes (atime, which relatime still moves once a day, or mtime),
 * stray temporary files included; precompiled entries stay. */
static void evict(int dfd)
{
  int fd = dup(dfd);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return;
  }
  struct entry *v = NULL;
  size_t n = 0, cap = 0, total = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    total++;
    if (S_ISREG(st.st_mode) && (st.st_mode & 07777) == PINNED_MODE)
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      v = xrealloc(v, cap * sizeof(*v));
    }
    v[n++] = (struct entry){xstrdup(de->d_name), *later(&st.st_atim, &st.st_mtim)};
  }
  closedir(d);
  if (total >= CACHE_MAX_ENTRIES) {
    qsort(v, n, sizeof(*v), by_use);
    for (size_t i = 0; i < n / 2; i++)
      unlinkat(dfd, v[i].name, 0);
    nook_debug("seccomp cache: dropped %zu old entries", n / 2);
  }
  for (size_t i = 0; i < n; i++)
    free(v[i].name);
  free(v);
}

/* An entry's name back to its key; false for any other name. */
static bool key_of_name(const char *name, uint8_t key[SHA256_DIGEST_LEN])
{
  if (strlen(name) != 2 * SHA256_DIGEST_LEN)
    return false;
  for (size_t i = 0; i < 2 * SHA256_DIGEST_LEN; i++) {
    char c = name[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0)
      return false;
    key[i / 2] = (uint8_t)(i % 2 ? (key[i / 2] << 4) | v : v);
  }
  return true;
}

void seccomp_cache_import(const char *from, const char *to)
{
  int dfd = open_dir(from, false);
  DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
  if (d == NULL) {
    if (dfd >= 0)
      close(dfd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    uint8_t key[SHA256_DIGEST_LEN];
    struct seccomp_prog p = {0};
    /* Loaded as any hit is, so only a verified program is copied. */
    if (key_of_name(de->d_name, key) && seccomp_cache_load(from, key, &p)) {
      seccomp_cache_keep(to, key, &p);
      seccomp_prog_clear(&p);
    }
  }
  closedir(d);
}

int seccomp_cache_store(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
                        const struct seccomp_prog *p, bool pinned, nook_error_t *err)
{
  char name[2 * SHA256_DIGEST_LEN + 1], tmp[64];
  sha256_hex(key, name);
  cleanup_close int dfd = open_dir(dir, true);
  if (dfd < 0)
    return nook_error(err, 0, "seccomp cache `%s`: missing, or not a private directory", dir);
  evict(dfd);

  struct cache_header h = {.format = CACHE_FORMAT, .len = (uint32_t)p->len};
  memcpy(h.magic, magic, sizeof(magic));
  memcpy(h.key, key, SHA256_DIGEST_LEN);
  h.sum = seccomp_cache_checksum(p->bpf, p->len);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snprintf(tmp, sizeof(tmp), ".tmp-%d-%lld%09ld", (int)getpid(), (long long)ts.tv_sec, ts.tv_nsec);

  /* Written under a temporary name and renamed: readers see a whole file
   * or none (a torn one would fail the size or checksum check anyway). */
  int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  pinned ? PINNED_MODE : 0600);
  if (fd < 0)
    return nook_error(err, errno, "seccomp cache: create `%s/%s`", dir, tmp);
  size_t size = p->len * sizeof(struct sock_filter);
  struct iovec iov[2] = {{&h, sizeof(h)}, {p->bpf, size}};
  ssize_t n = writev(fd, iov, 2);
  int e = n < 0 ? errno : EIO;
  bool ok = n >= 0 && (size_t)n == sizeof(h) + size;
  if (close(fd) < 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && renameat(dfd, tmp, dfd, name) < 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    unlinkat(dfd, tmp, 0);
    return nook_error(err, e, "seccomp cache: store `%s/%s`", dir, name);
  }
  nook_debug("seccomp cache: stored `%s/%s`", dir, name);
  return 0;
}

void seccomp_cache_keep(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
                        const struct seccomp_prog *p)
{
  nook_error_t err = NULL;
  if (seccomp_cache_store(dir, key, p, false, &err) < 0) {
    cleanup_free char *why = nook_error_text(err);
    nook_debug("%s", why);
    nook_error_free(&err);
  }
}
