/* Helpers shared by the cgroup tests (test_cgroup_*.c), and the fixture of
 * the live ones: a cgroup nook-unit-<pid>/<leaf> made by the manager under
 * test on this host (root), children entered into it, and its removal.
 * Nothing outside the prefix nook-unit-<pid> is touched. */
#ifndef NOOK_CGROUP_FIXTURE_H
#define NOOK_CGROUP_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../base/utils.h"
#include "../../cgroups/cgroup.h"
#include "../../cgroups/ctl.h"
#include "../../cgroups/internal.h"
#include "unit.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- checks ---- */

__attribute__((unused)) static bool ok(int r, nook_error_t *e)
{
  if (r >= 0)
    return true;
  char *t = nook_error_text(*e);
  fprintf(stderr, "  error: %s\n", t);
  free(t);
  nook_error_free(e);
  return false;
}

__attribute__((unused)) static bool err_has(int r, nook_error_t *e, const char *needle)
{
  bool found = r < 0 && *e && strstr((*e)->msg, needle) != NULL;
  if (!found && *e)
    fprintf(stderr, "  error `%s` lacks `%s`\n", (*e)->msg, needle);
  nook_error_free(e);
  return found;
}

__attribute__((unused)) static bool is_dir(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

__attribute__((unused)) static bool file_is(const char *dir, const char *file, const char *want)
{
  char buf[4096];
  nook_error_t e = NULL;
  if (cg_read(dir, file, buf, sizeof(buf), &e) < 0) {
    ok(-1, &e);
    return false;
  }
  if (strcmp(buf, want) != 0)
    fprintf(stderr, "  %s/%s is `%s`, want `%s`\n", dir, file, buf, want);
  return strcmp(buf, want) == 0;
}

__attribute__((unused)) static bool file_has(const char *dir, const char *file, const char *needle)
{
  char buf[4096];
  nook_error_t e = NULL;
  if (cg_read(dir, file, buf, sizeof(buf), &e) < 0) {
    ok(-1, &e);
    return false;
  }
  if (strstr(buf, needle) == NULL)
    fprintf(stderr, "  %s/%s is `%s`, lacks `%s`\n", dir, file, buf, needle);
  return strstr(buf, needle) != NULL;
}

/* ---- the host ---- */

/* The host nook is built on is hybrid (notes/host.md); the test VM
 * (tests/vm/run) is pure v2.  Either way, the mode is what the mounts say. */
__attribute__((unused)) static bool host_is_v2(void)
{
  struct statfs st;
  return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

__attribute__((unused)) static bool live_ok(void)
{
  enum cgroup_mode m;
  nook_error_t e = NULL;
  bool good = geteuid() == 0 && cgroup_detect_mode(&m, &e) == 0;
  nook_error_free(&e);
  return good;
}

/* The first real block device: "MAJ:MIN" of /sys/block/<dev>/dev. */
__attribute__((unused)) static bool block_device(char *out, size_t size)
{
  static const char *const names[] = {"vda", "sda", "nvme0n1", "xvda", "vdb", "ram0"};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    char dir[64];
    snprintf(dir, sizeof(dir), "/sys/block/%s", names[i]);
    nook_error_t e = NULL;
    if (access(dir, F_OK) == 0 && cg_read(dir, "dev", out, size, &e) > 0)
      return true;
    nook_error_free(&e);
  }
  return false;
}

__attribute__((unused)) static void dev_numbers(const char *s, int64_t *major, int64_t *minor)
{
  long long a = 0, b = 0;
  sscanf(s, "%lld:%lld", &a, &b);
  *major = a;
  *minor = b;
}

/* ---- the directories of a cgroup ---- */

__attribute__((unused)) static void each_dir(const struct cgroup_paths *p,
                                             void (*fn)(const char *, void *), void *arg)
{
  if (p->unified)
    fn(p->unified, arg);
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++)
    fn(p->v1_dirs[i], arg);
}

__attribute__((unused)) static void count_missing(const char *d, void *arg)
{
  if (!is_dir(d)) {
    fprintf(stderr, "  missing: %s\n", d);
    ++*(int *)arg;
  }
}

__attribute__((unused)) static void count_present(const char *d, void *arg)
{
  if (is_dir(d)) {
    fprintf(stderr, "  left behind: %s\n", d);
    ++*(int *)arg;
  }
}

/* The prefix dir of a leaf `<prefix>/<name>`. */
__attribute__((unused)) static void count_present_parent(const char *d, void *arg)
{
  cleanup_free char *p = xstrdup(d);
  *strrchr(p, '/') = '\0';
  count_present(p, arg);
}

/* ---- children ---- */

/* A child that counts as fast as it can in shared memory, so freezing is
 * visible as a counter that stops. */
__attribute__((unused)) static pid_t spawn_counter(volatile unsigned long *ctr)
{
  pid_t pid = fork();
  if (pid == 0) {
    for (;;)
      (*ctr)++;
  }
  return pid;
}

/* Whether the counter advances within a generous bound (10 s): on a loaded
 * machine a runnable child may wait long for a CPU.  Returns as soon as it
 * moves. */
__attribute__((unused)) static bool counter_moves(volatile unsigned long *ctr)
{
  unsigned long a = *ctr;
  for (int i = 0; i < 1000; i++) {
    usleep(10000);
    if (*ctr != a)
      return true;
  }
  return false;
}

/* Whether the counter stays put for 100 ms: seeing that something does
 * not happen takes a wait; a slow machine can only make this pass more
 * easily for a frozen counter, never fail it. */
__attribute__((unused)) static bool counter_stays(volatile unsigned long *ctr)
{
  unsigned long a = *ctr;
  usleep(100000);
  return *ctr == a;
}

__attribute__((unused)) static bool pids_are(const struct cgroup_manager *m,
                                             const struct cgroup_paths *p, pid_t want)
{
  pid_t *v;
  size_t n;
  nook_error_t e = NULL;
  if (!ok(m->pids(p, &v, &n, &e), &e))
    return false;
  bool good = want ? (n == 1 && v[0] == want) : n == 0;
  if (!good)
    fprintf(stderr, "  %zu pids (first %d), want %d\n", n, n ? v[0] : 0, want);
  free(v);
  return good;
}

/* Reap within 30 s.  A child a regression leaves frozen or alive would hang
 * `make unit`: after the bound, thaw and kill it (it is in our prefix) and
 * report failure instead. */
__attribute__((unused)) static bool reaped_by(pid_t pid, int sig, const struct cgroup_paths *p)
{
  int st;
  for (int i = 0; i < 3000; i++) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid)
      return WIFSIGNALED(st) && WTERMSIG(st) == sig;
    if (r < 0)
      return false;
    usleep(10000);
  }
  fprintf(stderr, "  pid %d still alive after 30 s; thawing and killing it\n", (int)pid);
  nook_error_t e = NULL;
  const char *fz = cg_v1_dir(p, "freezer");
  if (fz)
    cg_write(fz, "freezer.state", "THAWED", &e);
  if (p->unified)
    cg_write(p->unified, "cgroup.freeze", "0", &e);
  nook_error_free(&e);
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return false;
}

__attribute__((unused)) static void stop_child(pid_t pid)
{
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
}

/* ---- the fixture ---- */

struct cg_fixture {
  const struct cgroup_manager *m;
  enum cgroup_mode mode;
  struct cgroup_paths p;
  volatile unsigned long *ctr; /* the counters' shared page, mapped on first use */
};

enum cg_need { CG_ANY_HOST, CG_V1_HOST, CG_V2_HOST };

/* cg_fixture_create's mode: the manager of this host's mode. */
#define CG_HOST_MODE (-1)

/* Why a live test that needs `need` cannot run here, or NULL. */
__attribute__((unused)) static const char *cg_live_skip(enum cg_need need)
{
  if (!live_ok())
    return "needs root and a cgroup filesystem";
  if (need == CG_V1_HOST && host_is_v2())
    return "no cgroup v1 hierarchy on a pure cgroup v2 host";
  if (need == CG_V2_HOST && !host_is_v2())
    return "pure cgroup v2 only (tests/run-all runs it in the VM pass)";
  return NULL;
}

/* Make nook-unit-<pid>/<leaf> with the manager of `mode` (CG_HOST_MODE:
 * the detected one).  False, with a failed check, if create fails. */
__attribute__((unused)) static bool cg_fixture_create(struct cg_fixture *f, int mode,
                                                      const char *leaf)
{
  nook_error_t e = NULL;
  *f = (struct cg_fixture){0};
  if (mode == CG_HOST_MODE) {
    enum cgroup_mode m = CGROUP_MODE_UNIFIED;
    CHECK(ok(cgroup_detect_mode(&m, &e), &e));
    mode = (int)m;
  }
  f->mode = (enum cgroup_mode)mode;
  f->m = cgroup_manager_for(f->mode);
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/%s", (int)getpid(), leaf);
  if (!ok(f->m->create(path, "x", &f->p, &e), &e)) {
    CHECK(!"create");
    return false;
  }
  return true;
}

/* The start of a live test: skip unless it can run here, then make the
 * fixture's cgroup; a failed create ends the test. */
#define CG_LIVE_SETUP(f, need, mode, leaf)                                                         \
  do {                                                                                             \
    const char *_why = cg_live_skip(need);                                                         \
    if (_why != NULL)                                                                              \
      SKIP(_why);                                                                                  \
    if (!cg_fixture_create((f), (mode), (leaf)))                                                   \
      return;                                                                                      \
  } while (0)

/* A counting child (spawn_counter) entered into the fixture's cgroup. */
__attribute__((unused)) static pid_t cg_fixture_counter(struct cg_fixture *f)
{
  if (f->ctr == NULL) {
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!CHECK(page != MAP_FAILED))
      return -1;
    f->ctr = page;
  }
  pid_t child = spawn_counter(f->ctr);
  CHECK(child > 0);
  nook_error_t e = NULL;
  CHECK(ok(f->m->enter(&f->p, child, &e), &e));
  return child;
}

/* A child in the fixture's cgroups that holds `mib` MiB of touched memory
 * until killed; returns once the memory is in use (and charged there: v1
 * does not move charges with a task). */
__attribute__((unused)) static pid_t cg_fixture_holder(const struct cg_fixture *f, size_t mib)
{
  int pfd[2], rfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(rfd, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(pfd[1]);
    close(rfd[0]);
    if (read(pfd[0], &c, 1) != 1)
      _exit(1);
    size_t len = mib << 20;
    char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
      _exit(2);
    for (size_t i = 0; i < len; i += 4096)
      mem[i] = 1;
    if (write(rfd[1], "x", 1) != 1)
      _exit(3);
    for (;;)
      pause();
  }
  close(pfd[0]);
  close(rfd[1]);
  nook_error_t e = NULL;
  char c;
  if (!ok(f->m->enter(&f->p, pid, &e), &e) || write(pfd[1], "x", 1) != 1 ||
      read(rfd[0], &c, 1) != 1) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pid = -1;
  }
  close(pfd[1]);
  close(rfd[0]);
  return pid;
}

__attribute__((unused)) static void cg_fixture_destroy(struct cg_fixture *f)
{
  nook_error_t e = NULL;
  CHECK(ok(f->m->destroy(&f->p, &e), &e));
}

/* After destroy: neither the leaf nor the prefix is left in any hierarchy. */
__attribute__((unused)) static void cg_fixture_check_gone(const struct cg_fixture *f)
{
  int present = 0;
  each_dir(&f->p, count_present, &present);
  each_dir(&f->p, count_present_parent, &present);
  CHECK(present == 0);
}

__attribute__((unused)) static void cg_fixture_clear(struct cg_fixture *f)
{
  cgroup_paths_clear(&f->p);
  if (f->ctr != NULL)
    munmap((void *)f->ctr, 4096);
  f->ctr = NULL;
}

/* The end of a live test: destroy (checked), then forget the cgroup. */
__attribute__((unused)) static void cg_fixture_end(struct cg_fixture *f)
{
  cg_fixture_destroy(f);
  cg_fixture_clear(f);
}

#endif
