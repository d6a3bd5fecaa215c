#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../oci/features.h"
#include "confine.h"

#define PREFIX "template-"
/* Templates of other keys kept at most (each is tens of MiB: the guest's
 * kernel in its RAM). */
#define KEEP_OTHERS 4
#define UNUSED_SECONDS (24 * 3600)
/* A save takes seconds; a temporary file this old is a crashed save's. */
#define TMP_STALE_SECONDS 3600

/* QEMU's migration stream starts with "QEVM"; anything else is not a
 * saved machine, whatever its name. */
static const char stream_magic[4] = {'Q', 'E', 'V', 'M'};

static void hash_str(struct sha256 *h, const char *s)
{
  sha256_update(h, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
}

static int hash_file_identity(struct sha256 *h, const char *path, nook_error_t *err)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return nook_error(err, errno, "template: stat `%s`", path);
  uint64_t id[] = {st.st_dev, st.st_ino, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
                   (uint64_t)st.st_mtim.tv_nsec};
  hash_str(h, path);
  sha256_update(h, id, sizeof(id));
  return 0;
}

/* The host CPU's model and feature flags (the first processor's lines of
 * /proc/cpuinfo): under KVM the guest saw them (-cpu host), and a state
 * saved on one CPU must not be loaded on another. */
static void hash_host_cpu(struct sha256 *h)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, "/proc/cpuinfo", &text, &len, NULL) < 0)
    return;
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (has_prefix(l, "model name") || has_prefix(l, "flags"))
      hash_str(h, l);
    if (has_prefix(l, "flags"))
      break;
  }
}

int vmm_template_key(const struct vmm_backend *b, const struct vmm_spec *spec,
                     char key[VMM_TEMPLATE_KEY_LEN + 1], nook_error_t *err)
{
  /* The argv with the paths that change from VM to VM replaced by
   * constants: those name files of the host, not parts of the machine. */
  struct vmm_spec k = *spec;
  k.restore = false;
  k.restore_fd = -1;
  k.confine = NULL;
  k.net_fd = 3; /* a number of the VM's, not a part of the machine */
  k.channel_socket = "/chan";
  k.control_socket = spec->control_socket != NULL ? "/ctl" : NULL;
  k.console_path = spec->console_path != NULL ? "/console" : NULL;
  cleanup_free struct vmm_share *shares = xcalloc(spec->nshares + 1, sizeof(*shares));
  for (size_t i = 0; i < spec->nshares; i++)
    shares[i] = (struct vmm_share){
        .tag = spec->shares[i].tag, .path = "/share", .readonly = spec->shares[i].readonly};
  k.shares = shares;
  cleanup_strv char **argv = NULL;
  if (b->build_argv(&k, &argv, err) < 0)
    return -1;
  struct sha256 h;
  sha256_init(&h);
  hash_str(&h, "nook vm template 1");
  hash_str(&h, nook_build_id());
  hash_str(&h, b->name);
  for (char **a = argv; *a; a++)
    hash_str(&h, *a);
  hash_host_cpu(&h);
  cleanup_free char *program = NULL;
  if (spec->confine != NULL)
    program = xstrdup(spec->confine->program);
  else if (find_program(spec->program ? spec->program : b->program, &program, err) < 0)
    return -1;
  if (hash_file_identity(&h, program, err) < 0 || hash_file_identity(&h, spec->kernel, err) < 0 ||
      hash_file_identity(&h, spec->initrd, err) < 0)
    return -1;
  uint8_t d[SHA256_DIGEST_LEN];
  sha256_final(&h, d);
  sha256_hex(d, key);
  return 0;
}

/* Ours alone: owned by us, writable by nobody else. */
static const char *untrusted(const struct stat *st)
{
  if (st->st_uid != geteuid())
    return "owned by another user";
  if (st->st_mode & (S_IWGRP | S_IWOTH))
    return "writable by other users";
  return NULL;
}

/* Why the open template fd is not to be loaded, or NULL. */
static const char *file_flaw(int fd)
{
  struct stat st;
  char magic[sizeof(stream_magic)];
  if (fstat(fd, &st) < 0)
    return "not readable";
  if (!S_ISREG(st.st_mode))
    return "not a regular file";
  const char *bad = untrusted(&st);
  if (bad != NULL)
    return bad;
  if ((st.st_mode & 077) != 0)
    return "readable by other users";
  if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
      memcmp(magic, stream_magic, sizeof(magic)) != 0)
    return "not a saved machine";
  return NULL;
}

int vmm_template_open(const char *dir, const char *key, char **why)
{
  *why = NULL;
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return -1;
  cleanup_free char *name = NULL;
  xasprintf(&name, PREFIX "%s", key);
  cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      xasprintf(why, "open `%s/%s`: %s", dir, name, strerror(errno));
    return -1;
  }
  struct stat dst;
  if (fstat(dfd, &dst) < 0) {
    xasprintf(why, "stat `%s`: %s", dir, strerror(errno));
    return -1;
  }
  const char *bad = untrusted(&dst);
  if (bad != NULL) {
    xasprintf(why, "the directory `%s` is %s: not used", dir, bad);
    return -1;
  }
  bad = file_flaw(fd);
  if (bad != NULL) {
    xasprintf(why, "`%s/%s` is %s: not used", dir, name, bad);
    return -1;
  }
  return steal_fd(&fd);
}

int vmm_template_create(const char *dir, const char *key, char **tmp, nook_error_t *err)
{
  if (mkdir_p(dir, 0700, err) < 0)
    return -1;
  xasprintf(tmp, "%s/." PREFIX "%s.XXXXXX", dir, key);
  int fd = mkostemp(*tmp, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    free(steal_pointer(tmp));
    return nook_error(err, e, "template: create a file in `%s`", dir);
  }
  return fd;
}

void vmm_template_discard(const char *tmp)
{
  if (tmp != NULL)
    unlink(tmp);
}

struct aged {
  char *name;
  time_t used;
};

static int by_use(const void *a, const void *b)
{
  time_t x = ((const struct aged *)a)->used, y = ((const struct aged *)b)->used;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Other keys' templates: unused for a day, or beyond the KEEP_OTHERS most
 * recently used; temporary files of crashed saves. */
static void prune(const char *dir, const char *keep)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return;
  time_t now = time(NULL);
  struct aged *v = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    bool tmp = has_prefix(de->d_name, "." PREFIX);
    if ((!tmp && !has_prefix(de->d_name, PREFIX)) || strcmp(de->d_name, keep) == 0 ||
        fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
      continue;
    time_t used = st.st_atime > st.st_mtime ? st.st_atime : st.st_mtime;
    if (tmp) {
      if (now - st.st_mtime > TMP_STALE_SECONDS)
        unlinkat(dirfd(d), de->d_name, 0);
      continue;
    }
    if (now - used > UNUSED_SECONDS) {
      unlinkat(dirfd(d), de->d_name, 0);
      continue;
    }
    v = xrealloc(v, (n + 1) * sizeof(*v));
    v[n++] = (struct aged){.name = xstrdup(de->d_name), .used = used};
  }
  if (n > KEEP_OTHERS)
    qsort(v, n, sizeof(*v), by_use);
  for (size_t i = 0; i < n; i++) {
    if (i >= KEEP_OTHERS)
      unlinkat(dirfd(d), v[i].name, 0);
    free(v[i].name);
  }
  free(v);
  closedir(d);
}

int vmm_template_install(const char *dir, const char *key, const char *tmp, nook_error_t *err)
{
  cleanup_free char *name = NULL, *final = NULL;
  xasprintf(&name, PREFIX "%s", key);
  xasprintf(&final, "%s/%s", dir, name);
  if (chmod(tmp, 0600) < 0 || rename(tmp, final) < 0)
    return nook_error(err, errno, "template: install `%s`", final);
  prune(dir, name);
  return 0;
}
