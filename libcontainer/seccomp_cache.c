/* The compiled-filter cache: <state root>/.seccomp~cache/<key>, one file per
 * distinct profile, where <key> is the hex SHA-256 of everything the program
 * depends on.  A hit costs a few syscalls and a digest instead of a
 * libseccomp compile.
 *
 * The directory name starts with a dot (`list` skips it) and holds a `~`
 * (no container id can).  A file is only used when it and its directory
 * belong to the runtime's euid (root, unless rootless), are writable by no
 * one else, and its header, size and instruction digest check out; anything
 * else is a miss, and the program is compiled again. */
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

#define CACHE_DIR ".seccomp~cache"
/* Bump when the program nook builds for a given profile changes. */
#define CACHE_FORMAT 1
/* Past this many files, a store first drops the older half. */
#define CACHE_MAX_ENTRIES 64
#define MAX_INSNS 4096

#ifndef NOOK_VERSION
#define NOOK_VERSION ""
#endif
#ifndef NOOK_COMMIT
#define NOOK_COMMIT ""
#endif

static const char magic[8] = "NOOKBPF";

struct cache_header {
  char magic[8];
  uint32_t format;
  uint32_t len; /* instructions that follow */
  uint8_t key[SHA256_DIGEST_LEN];
  uint8_t digest[SHA256_DIGEST_LEN]; /* of the instructions */
};

/* ---- key ----------------------------------------------------------------- */

/* Native byte order and widths: the native architecture is part of the key. */
static void hash_u64(struct sha256 *c, uint64_t v)
{
  sha256_update(c, &v, sizeof(v));
}

static void hash_str(struct sha256 *c, const char *s)
{
  size_t n = strlen(s);
  hash_u64(c, n);
  sha256_update(c, s, n);
}

void seccomp_cache_key(const struct oci_seccomp *s, int api, uint8_t key[SHA256_DIGEST_LEN])
{
  struct sha256 c;
  const struct scmp_version *v = seccomp_version();
  sha256_init(&c);
  hash_str(&c, "nook seccomp cache");
  hash_u64(&c, CACHE_FORMAT);
  hash_u64(&c, SECCOMP_PATCH_VERSION);
  hash_str(&c, NOOK_VERSION);
  hash_str(&c, NOOK_COMMIT);
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
    hash_u64(&c, sc->action);
    hash_u64(&c, sc->errno_ret);
    hash_u64(&c, sc->n_names);
    for (size_t j = 0; j < sc->n_names; j++)
      hash_str(&c, sc->names[j]);
    hash_u64(&c, sc->n_args);
    for (size_t k = 0; k < sc->n_args; k++) {
      hash_u64(&c, sc->args[k].index);
      hash_u64(&c, (uint64_t)sc->args[k].op);
      hash_u64(&c, sc->args[k].value);
      hash_u64(&c, sc->args[k].value_two);
    }
  }
  sha256_final(&c, key);
}

/* ---- files --------------------------------------------------------------- */

static bool trusted(const struct stat *st, bool dir)
{
  if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
    return false;
  if (st->st_uid != geteuid() || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return false;
  /* A second name could be an old file someone linked in. */
  return dir || st->st_nlink == 1;
}

static int open_dir(const char *root, bool create)
{
  cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0 && errno == ENOENT && create) {
    /* The first create under a fresh root (a rootless $XDG_RUNTIME_DIR/nook)
     * makes it as state_dir_create would, so its profile is kept too. */
    nook_error_t ignored = NULL;
    if (mkdir_p(root, 0711, &ignored) < 0)
      nook_error_free(&ignored);
    rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  if (rootfd < 0)
    return -1;
  if (create && mkdirat(rootfd, CACHE_DIR, 0700) < 0 && errno != EEXIST)
    return -1;
  cleanup_close int fd = openat(rootfd, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return -1;
  if (!trusted(&st, true)) {
    nook_debug("seccomp cache: `%s/%s` is not a private directory of uid %u: not used", root,
               CACHE_DIR, (unsigned)geteuid());
    errno = EPERM;
    return -1;
  }
  return steal_fd(&fd);
}

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

static void digest_of(const void *bpf, size_t len, uint8_t out[SHA256_DIGEST_LEN])
{
  struct sha256 c;
  sha256_init(&c);
  sha256_update(&c, bpf, len * sizeof(struct sock_filter));
  sha256_final(&c, out);
}

bool seccomp_cache_load(const char *root, const uint8_t key[SHA256_DIGEST_LEN],
                        struct seccomp_prog *out)
{
  char name[2 * SHA256_DIGEST_LEN + 1];
  sha256_hex(key, name);
  cleanup_close int dfd = open_dir(root, false);
  if (dfd < 0)
    return false;
  /* O_NONBLOCK: a FIFO planted under the name must not hang the runtime. */
  cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      nook_debug("seccomp cache: open `%s`: %s", name, strerror(errno));
    return false;
  }
  struct stat st;
  struct cache_header h;
  const char *bad = NULL;
  if (fstat(fd, &st) < 0 || !trusted(&st, false))
    bad = "not a private regular file";
  else if ((size_t)st.st_size <= sizeof(h) ||
           ((size_t)st.st_size - sizeof(h)) % sizeof(struct sock_filter) != 0 ||
           ((size_t)st.st_size - sizeof(h)) / sizeof(struct sock_filter) > MAX_INSNS)
    bad = "bad size";
  else if (!read_full(fd, &h, sizeof(h), 0))
    bad = "short read";
  else if (memcmp(h.magic, magic, sizeof(magic)) != 0 || h.format != CACHE_FORMAT ||
           memcmp(h.key, key, SHA256_DIGEST_LEN) != 0 ||
           (size_t)h.len != ((size_t)st.st_size - sizeof(h)) / sizeof(struct sock_filter))
    bad = "bad header";
  if (bad != NULL) {
    nook_debug("seccomp cache: `%s`: %s: not used", name, bad);
    return false;
  }
  size_t size = (size_t)h.len * sizeof(struct sock_filter);
  cleanup_free void *bpf = xmalloc(size);
  uint8_t digest[SHA256_DIGEST_LEN];
  if (!read_full(fd, bpf, size, sizeof(h))) {
    nook_debug("seccomp cache: `%s`: short read: not used", name);
    return false;
  }
  digest_of(bpf, h.len, digest);
  if (memcmp(digest, h.digest, sizeof(digest)) != 0) {
    nook_debug("seccomp cache: `%s`: the instructions do not match their digest: not used", name);
    return false;
  }
  out->bpf = steal_pointer(&bpf);
  out->len = h.len;
  return true;
}

struct entry {
  char *name;
  struct timespec mtime;
};

static int by_mtime(const void *a, const void *b)
{
  const struct timespec *x = &((const struct entry *)a)->mtime;
  const struct timespec *y = &((const struct entry *)b)->mtime;
  if (x->tv_sec != y->tv_sec)
    return x->tv_sec < y->tv_sec ? -1 : 1;
  return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Bound the directory: at CACHE_MAX_ENTRIES files, the older half goes
 * (stray temporary files included). */
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
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      v = xrealloc(v, cap * sizeof(*v));
    }
    v[n++] = (struct entry){xstrdup(de->d_name), st.st_mtim};
  }
  closedir(d);
  if (n >= CACHE_MAX_ENTRIES) {
    qsort(v, n, sizeof(*v), by_mtime);
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
      seccomp_cache_store(to, key, &p);
      seccomp_prog_clear(&p);
    }
  }
  closedir(d);
}

void seccomp_cache_store(const char *root, const uint8_t key[SHA256_DIGEST_LEN],
                         const struct seccomp_prog *p)
{
  char name[2 * SHA256_DIGEST_LEN + 1], tmp[64];
  sha256_hex(key, name);
  cleanup_close int dfd = open_dir(root, true);
  if (dfd < 0) {
    nook_debug("seccomp cache: `%s/%s`: %s", root, CACHE_DIR, strerror(errno));
    return;
  }
  evict(dfd);

  struct cache_header h = {.format = CACHE_FORMAT, .len = (uint32_t)p->len};
  memcpy(h.magic, magic, sizeof(magic));
  memcpy(h.key, key, SHA256_DIGEST_LEN);
  digest_of(p->bpf, p->len, h.digest);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snprintf(tmp, sizeof(tmp), ".tmp-%d-%lld%09ld", (int)getpid(), (long long)ts.tv_sec, ts.tv_nsec);

  /* Written under a temporary name and renamed: readers see a whole file
   * or none (a torn one would fail the size or digest check anyway). */
  int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    nook_debug("seccomp cache: create `%s`: %s", tmp, strerror(errno));
    return;
  }
  size_t size = p->len * sizeof(struct sock_filter);
  struct iovec iov[2] = {{&h, sizeof(h)}, {p->bpf, size}};
  ssize_t n = writev(fd, iov, 2);
  bool ok = n >= 0 && (size_t)n == sizeof(h) + size;
  if (close(fd) < 0)
    ok = false;
  if (!ok || renameat(dfd, tmp, dfd, name) < 0) {
    nook_debug("seccomp cache: store `%s`: %s", name, ok ? strerror(errno) : "short write");
    unlinkat(dfd, tmp, 0);
  }
}
