#include "utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

void cleanup_freep(void *p)
{
  void **pp = p;
  free(*pp);
  *pp = NULL;
}

void cleanup_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
  *fd = -1;
}

void cleanup_fclosep(FILE **f)
{
  if (*f != NULL)
    fclose(*f);
  *f = NULL;
}

void strv_free(char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

void cleanup_strvp(char ***v)
{
  strv_free(*v);
  *v = NULL;
}

size_t strv_len(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

ssize_t safe_write(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t r = write(fd, p + done, len - done);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    done += (size_t)r;
  }
  return (ssize_t)done;
}

ssize_t safe_read(int fd, void *buf, size_t len)
{
  for (;;) {
    ssize_t r = read(fd, buf, len);
    if (r < 0 && errno == EINTR)
      continue;
    return r;
  }
}

int write_file_at(int dirfd, const char *path, int flags, mode_t mode, const void *data, size_t len,
                  nook_error_t *err)
{
  cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | flags, mode);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", path);
  if (safe_write(fd, data, len) < 0)
    return nook_error(err, errno, "write `%s`", path);
  return 0;
}

/* cap: the size expected (a regular file's), or 0; the buffer grows past
 * it when the file did.  from_start: pread from offset 0, whatever the
 * fd's position (which is left alone). */
static int read_fd_sized(int fd, size_t cap, bool from_start, char **out, size_t *len,
                         nook_error_t *err)
{
  size_t n = 0;
  cap = cap > 0 ? cap + 1 : 4096; /* +1: the read that sees the end */
  char *buf = xmalloc(cap + 1);
  for (;;) {
    if (n == cap) {
      if (cap > NOOK_INPUT_MAX) {
        free(buf);
        return nook_error(err, EFBIG, "more than the %u-byte limit", NOOK_INPUT_MAX);
      }
      cap *= 2;
      buf = xrealloc(buf, cap + 1);
    }
    ssize_t r;
    if (from_start) {
      do
        r = pread(fd, buf + n, cap - n, (off_t)n);
      while (r < 0 && errno == EINTR);
    } else {
      r = safe_read(fd, buf + n, cap - n);
    }
    if (r < 0) {
      free(buf);
      return nook_error(err, errno, "read");
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  if (n > NOOK_INPUT_MAX) {
    free(buf);
    return nook_error(err, EFBIG, "more than the %u-byte limit", NOOK_INPUT_MAX);
  }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int read_fd_all(int fd, char **out, size_t *len, nook_error_t *err)
{
  return read_fd_sized(fd, 0, false, out, len, err);
}

int read_fd_all_from_start(int fd, char **out, size_t *len, nook_error_t *err)
{
  return read_fd_sized(fd, 0, true, out, len, err);
}

int read_input_fd(int fd, const char *name, char **out, size_t *len, nook_error_t *err)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return nook_error(err, errno, "`%s`", name);
  /* A device or socket can be endless (/dev/zero): only what has an end. */
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    return nook_error(err, 0, "`%s`: not a regular file or a pipe", name);
  if (S_ISREG(st.st_mode) && st.st_size > NOOK_INPUT_MAX)
    return nook_error(err, EFBIG, "`%s`: %lld bytes, more than the %u-byte limit", name,
                      (long long)st.st_size, NOOK_INPUT_MAX);
  /* A regular file's size (procfs and sysfs say 0): one buffer, no
   * regrowing copies of a config with a large seccomp profile. */
  size_t expect = S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
  if (read_fd_sized(fd, expect, false, out, len, err) < 0)
    return nook_error_wrap(err, "`%s`", name);
  return 0;
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len, nook_error_t *err)
{
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", path);
  return read_input_fd(fd, path, out, len, err);
}

int mkdir_p(const char *path, mode_t mode, nook_error_t *err)
{
  cleanup_free char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return nook_error(err, errno, "mkdir `%s`", p);
    *s = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return nook_error(err, errno, "mkdir `%s`", p);
  return 0;
}

char *path_clean(const char *path, bool fold_dotdot)
{
  char *out = xmalloc(strlen(path) + 2);
  size_t o = 0;
  for (const char *p = path; *p;) {
    while (*p == '/')
      p++;
    const char *s = p;
    while (*p && *p != '/')
      p++;
    size_t len = (size_t)(p - s);
    if (len == 0 || (len == 1 && s[0] == '.'))
      continue;
    if (fold_dotdot && len == 2 && s[0] == '.' && s[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
      continue;
    }
    out[o++] = '/';
    memcpy(out + o, s, len);
    o += len;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

char *absolute_path(const char *path)
{
  if (path == NULL)
    return NULL;
  if (path[0] == '/')
    return path_clean(path, false);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    return xstrdup(path);
  cleanup_free char *joined = NULL;
  xasprintf(&joined, "%s/%s", cwd, path);
  return path_clean(joined, false);
}

bool has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool has_suffix(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

int parse_int64(const char *s, long long *out)
{
  if (s == NULL || *s == '\0')
    return -1;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

int parse_uint64(const char *s, unsigned long long *out)
{
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

static int for_each_fd_from(int from, int (*fn)(int), nook_error_t *err)
{
  cleanup_close int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error(err, errno, "open /proc/self/fd");
  DIR *d = fdopendir(dfd);
  if (d == NULL)
    return nook_error(err, errno, "fdopendir /proc/self/fd");
  int own = steal_fd(&dfd);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    long long fd;
    if (parse_int64(de->d_name, &fd) < 0 || fd < from || fd == own)
      continue;
    fn((int)fd);
  }
  closedir(d);
  return 0;
}

static int set_cloexec(int fd)
{
  int fl = fcntl(fd, F_GETFD);
  return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int cloexec_fds_from(int from, nook_error_t *err)
{
  if (sys_close_range((unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  return for_each_fd_from(from, set_cloexec, err);
}

pid_t fork_with_socket(int *sock, const char *what, nook_error_t *err)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return nook_error(err, errno, "socketpair for %s", what);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return nook_error(err, e, "fork %s", what);
  }
  close(sv[pid == 0 ? 0 : 1]);
  *sock = sv[pid == 0 ? 1 : 0];
  return pid;
}

int close_fds_from(int from, nook_error_t *err)
{
  if (sys_close_range((unsigned)from, ~0U, 0) == 0)
    return 0;
  return for_each_fd_from(from, close, err);
}

int stdio_to_null(nook_error_t *err)
{
  cleanup_close int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return nook_error(err, errno, "open /dev/null");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(null, fd) < 0)
      return nook_error(err, errno, "dup2 /dev/null");
  return 0;
}

void rfc3339_format(const struct timespec *t, char *out, size_t size)
{
  struct timespec ts = *t;
  /* Not gmtime_r/strftime: glibc's run tzset(), which reads /etc/localtime
   * on every start for a UTC string.  The Gregorian date from the day
   * count, by 400-year eras of 146097 days starting on March 1st. */
  long long secs = ts.tv_sec, days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  days += 719468; /* 0000-03-01 to 1970-01-01 */
  long long era = (days >= 0 ? days : days - 146096) / 146097;
  long long doe = days - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  long long day = doy - (153 * mp + 2) / 5 + 1;
  long long month = mp < 10 ? mp + 3 : mp - 9;
  long long year = yoe + era * 400 + (month <= 2);
  snprintf(out, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ", year, month, day,
           rem / 3600, rem / 60 % 60, rem % 60, ts.tv_nsec);
}

void rfc3339_now(char *out, size_t size)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rfc3339_format(&ts, out, size);
}

long long monotonic_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

long long monotonic_ms(void)
{
  return monotonic_ns() / 1000000;
}

int cpu_list_parse(const char *field, const char *s, cpu_set_t *set, nook_error_t *err)
{
  CPU_ZERO(set);
  const char *p = s;
  while (*p) {
    char *end;
    errno = 0;
    unsigned long a = strtoul(p, &end, 10), b;
    if (end == p || errno || *p == '-' || *p == '+')
      goto bad;
    b = a;
    if (*end == '-') {
      p = end + 1;
      b = strtoul(p, &end, 10);
      if (end == p || errno || b < a || *p == '-' || *p == '+')
        goto bad;
    }
    if (b >= CPU_SETSIZE)
      return nook_error(err, 0, "%s: CPU %lu is out of range", field, b);
    for (unsigned long n = a; n <= b; n++)
      CPU_SET(n, set);
    if (*end == ',' && end[1] != '\0')
      end++;
    else if (*end != '\0')
      goto bad;
    p = end;
  }
  return 0;
bad:
  return nook_error(err, 0, "%s: invalid CPU list \"%s\"", field, s);
}

void signals_reset(void)
{
  for (int sig = 1; sig < _NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The first executable regular file called name on $PATH (name itself
 * when it has a slash), resolved. */
int find_program(const char *name, char **out, nook_error_t *err)
{
  if (strchr(name, '/') != NULL) {
    *out = realpath(name, NULL);
    if (*out == NULL)
      return nook_error(err, errno, "resolve `%s`", name);
    return 0;
  }
  const char *path = getenv("PATH");
  cleanup_free char *dirs = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    cleanup_free char *cand = NULL;
    xasprintf(&cand, "%s/%s", d, name);
    struct stat st;
    if (cand[0] != '/' || stat(cand, &st) < 0 || !S_ISREG(st.st_mode) || access(cand, X_OK) < 0)
      continue;
    *out = realpath(cand, NULL);
    if (*out == NULL)
      return nook_error(err, errno, "resolve `%s`", cand);
    return 0;
  }
  return nook_error(err, ENOENT, "`%s` is not on PATH", name);
}
