/* Usage figures (struct cgroup_stats): the file and text helpers v1 and v2
 * share, freeing, and OOM notification.  A file the host does not have
 * leaves its figures out (has_* false); only real read failures are
 * errors. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../base/utils.h"

void cgroup_stats_clear(struct cgroup_stats *s)
{
  if (s == NULL)
    return;
  free(s->cpu_percpu);
  for (size_t i = 0; i < s->n_mem_raw; i++) {
    free(s->mem_raw[i].key);
    free(s->mem_raw[i].value);
  }
  free(s->mem_raw);
  free(s->io_service_bytes);
  free(s->io_serviced);
  free(s->hugetlb);
  memset(s, 0, sizeof(*s));
}

/* Errors that mean "this host or cgroup has no such figure". */
static bool missing(int e)
{
  return e == ENOENT || e == ENODEV || e == EOPNOTSUPP || e == ENOTDIR;
}

/* The most files a cgroup's stats read (v2: ~15, and three per huge page
 * size); any beyond are opened and closed as without keep_open. */
#define OPEN_FILES_MAX 48

struct cgroup_open_files {
  size_t n;
  struct {
    char *path;
    int fd;
  } v[OPEN_FILES_MAX];
};

void cgroup_paths_keep_open(struct cgroup_paths *p)
{
  if (p->keep_open == NULL)
    p->keep_open = xcalloc(1, sizeof(*p->keep_open));
}

void cg_open_files_free(struct cgroup_open_files *of)
{
  if (of == NULL)
    return;
  for (size_t i = 0; i < of->n; i++) {
    free(of->v[i].path);
    close(of->v[i].fd);
  }
  free(of);
}

/* path's fd kept in of, or -1 when it is not there. */
static int open_file_of(const struct cgroup_open_files *of, const char *path)
{
  for (size_t i = 0; of != NULL && i < of->n; i++) {
    if (strcmp(of->v[i].path, path) == 0)
      return of->v[i].fd;
  }
  return -1;
}

ssize_t cg_read_all(struct cgroup_open_files *of, const char *dir, const char *file, char **out)
{
  char path[PATH_MAX];
  int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
  if (n < 0 || n >= (int)sizeof(path))
    return -ENAMETOOLONG;
  int fd = open_file_of(of, path);
  bool kept = fd >= 0;
  if (!kept && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -errno;
  if (!kept && of != NULL && of->n < OPEN_FILES_MAX) {
    of->v[of->n].path = xstrdup(path);
    of->v[of->n++].fd = fd;
    kept = true;
  }
  nook_error_t e = NULL;
  size_t len;
  /* From the start: a kept fd needs no rewind (a syscall a file). */
  int r = read_fd_all_from_start(fd, out, &len, &e);
  int saved = errno;
  if (!kept)
    close(fd);
  if (r < 0) {
    int st = e && e->status ? e->status : saved;
    nook_error_free(&e);
    return -(st ? st : EIO);
  }
  return (ssize_t)len;
}

int cg_stats_read(struct cgroup_open_files *of, const char *dir, const char *file, char **out,
                  nook_error_t *err)
{
  ssize_t n = cg_read_all(of, dir, file, out);
  if (n >= 0)
    return 1;
  *out = NULL;
  if (missing((int)-n))
    return 0;
  return nook_error(err, (int)-n, "read `%s/%s`", dir, file);
}

int cg_stats_u64(struct cgroup_open_files *of, const char *dir, const char *file,
                 uint64_t max_value, uint64_t *out, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  int r = cg_stats_read(of, dir, file, &text, err);
  if (r <= 0)
    return r;
  size_t len = strlen(text);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    text[--len] = '\0';
  unsigned long long v;
  if (strcmp(text, "max") == 0)
    v = max_value;
  else if (parse_uint64(text, &v) < 0)
    return nook_error(err, 0, "`%s/%s`: not a number: `%s`", dir, file, text);
  *out = v;
  return 1;
}

bool cg_kv_u64(const char *text, const char *key, uint64_t *out)
{
  size_t klen = strlen(key);
  for (const char *l = text; l && *l;) {
    const char *end = strchrnul(l, '\n');
    if ((size_t)(end - l) > klen && strncmp(l, key, klen) == 0 && l[klen] == ' ') {
      char num[32];
      size_t n = (size_t)(end - l) - klen - 1;
      if (n == 0 || n >= sizeof(num))
        return false;
      memcpy(num, l + klen + 1, n);
      num[n] = '\0';
      unsigned long long v;
      if (strcmp(num, "max") == 0)
        v = UINT64_MAX;
      else if (parse_uint64(num, &v) < 0)
        return false;
      *out = v;
      return true;
    }
    l = *end ? end + 1 : end;
  }
  return false;
}

void cg_stats_raw(struct cgroup_stats *s, const char *text)
{
  size_t cap = 0;
  for (const char *l = text; *l;) {
    const char *end = strchrnul(l, '\n');
    const char *sp = memchr(l, ' ', (size_t)(end - l));
    if (sp && sp > l && sp + 1 < end) {
      if (s->n_mem_raw == cap) {
        cap = cap ? cap * 2 : 64;
        s->mem_raw = xrealloc(s->mem_raw, cap * sizeof(*s->mem_raw));
      }
      s->mem_raw[s->n_mem_raw++] =
          (struct oci_kv){xstrndup(l, (size_t)(sp - l)), xstrndup(sp + 1, (size_t)(end - sp - 1))};
    }
    l = *end ? end + 1 : end;
  }
}

void cg_stats_add_blkio(struct cgroup_blkio_entry **v, size_t *n, uint64_t major, uint64_t minor,
                        const char *op, uint64_t value)
{
  *v = xrealloc(*v, (*n + 1) * sizeof(**v));
  struct cgroup_blkio_entry *e = &(*v)[(*n)++];
  memset(e, 0, sizeof(*e));
  e->major = major;
  e->minor = minor;
  snprintf(e->op, sizeof(e->op), "%s", op);
  e->value = value;
}

struct cgroup_hugetlb_entry *cg_stats_add_hugetlb(struct cgroup_stats *s, const char *size)
{
  s->hugetlb = xrealloc(s->hugetlb, (s->n_hugetlb + 1) * sizeof(*s->hugetlb));
  struct cgroup_hugetlb_entry *h = &s->hugetlb[s->n_hugetlb++];
  memset(h, 0, sizeof(*h));
  snprintf(h->page_size, sizeof(h->page_size), "%s", size);
  return h;
}

int cg_parse_psi(const char *text, struct cgroup_psi *some, struct cgroup_psi *full)
{
  int found = 0;
  for (const char *l = text; *l;) {
    const char *end = strchrnul(l, '\n');
    struct cgroup_psi *dst = strncmp(l, "some ", 5) == 0   ? some
                             : strncmp(l, "full ", 5) == 0 ? full
                                                           : NULL;
    struct cgroup_psi v;
    if (dst && sscanf(l + 5, "avg10=%lf avg60=%lf avg300=%lf total=%" SCNu64, &v.avg10, &v.avg60,
                      &v.avg300, &v.total) == 4) {
      *dst = v;
      found++;
    }
    l = *end ? end + 1 : end;
  }
  return found;
}

/* "2MB" for hugepages-2048kB: the names cgroup files use. */
char *const *cg_hugetlb_sizes(void)
{
  static char **sizes;
  if (sizes)
    return sizes;
  size_t n = 0;
  char **v = xcalloc(1, sizeof(char *));
  DIR *d = opendir("/sys/kernel/mm/hugepages");
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    unsigned long long kb;
    char unit[4];
    if (sscanf(de->d_name, "hugepages-%llu%3s", &kb, unit) != 2 || strcmp(unit, "kB") != 0 ||
        kb == 0)
      continue;
    char *name;
    if (kb % (1024 * 1024) == 0)
      xasprintf(&name, "%lluGB", kb / (1024 * 1024));
    else if (kb % 1024 == 0)
      xasprintf(&name, "%lluMB", kb / 1024);
    else
      xasprintf(&name, "%lluKB", kb);
    v = xrealloc(v, (n + 2) * sizeof(char *));
    v[n++] = name;
    v[n] = NULL;
  }
  if (d)
    closedir(d);
  sizes = v;
  return sizes;
}

/* ---- OOM notification ---- */

int cg1_oom_notify_fd(const char *dir, nook_error_t *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/memory.oom_control", dir);
  cleanup_close int ofd = open(path, O_RDONLY | O_CLOEXEC);
  if (ofd < 0)
    return nook_error(err, errno, "no OOM notification: open `%s`", path);
  cleanup_close int efd = eventfd(0, EFD_CLOEXEC);
  if (efd < 0)
    return nook_error(err, errno, "no OOM notification: eventfd");
  /* The kernel keeps its own reference: oom_control may be closed after
   * registering, and the eventfd also fires when the cgroup goes away. */
  char buf[32];
  snprintf(buf, sizeof(buf), "%d %d", efd, ofd);
  if (cg_write(dir, "cgroup.event_control", buf, err) < 0)
    return nook_error_wrap(err, "no OOM notification");
  return steal_fd(&efd);
}

int cg2_oom_notify_fd(const char *dir, nook_error_t *err)
{
  /* memory.events changes (POLLPRI) on every counter bump, oom_kill
   * included: the caller polls it and re-reads the counters. */
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/memory.events", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "no OOM notification: open `%s`%s", path,
                      errno == ENOENT ? " (memory controller not enabled for the cgroup?)" : "");
  return fd;
}
