/* cgroups/: mode detection, cgroupsPath resolution against fake
 * /proc/self/cgroup and mountinfo text, the persisted form, and a live run
 * on this host (root) under a private prefix "nook-unit-<pid>": create,
 * enter, pids, freeze/thaw, kill, apply, destroy.  Nothing outside the
 * prefix is touched. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cgroups/cgroup.h"
#include "../../cgroups/internal.h"
#include "../../libcontainer/utils.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- helpers ---- */

static bool ok(int r, nook_error_t *e)
{
  if (r >= 0)
    return true;
  char *t = nook_error_text(*e);
  fprintf(stderr, "  error: %s\n", t);
  free(t);
  nook_error_free(e);
  return false;
}

static bool err_has(int r, nook_error_t *e, const char *needle)
{
  bool found = r < 0 && *e && strstr((*e)->msg, needle) != NULL;
  if (!found && *e)
    fprintf(stderr, "  error `%s` lacks `%s`\n", (*e)->msg, needle);
  nook_error_free(e);
  return found;
}

static bool is_dir(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool file_is(const char *dir, const char *file, const char *want)
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

/* This host's /proc/self/cgroup and mountinfo (notes/host.md), plus a
 * joined cpu,cpuacct and net_cls,net_prio and a mount whose root is not "/". */
static const char fake_self[] = "12:net_cls,net_prio:/\n"
                                "11:perf_event:/docker/x/sub\n"
                                "9:name=systemd:/\n"
                                "8:pids:/\n"
                                "6:freezer:/\n"
                                "5:devices:/\n"
                                "4:memory:/process_api/8e87\n"
                                "3:cpuset:/\n"
                                "1:cpu,cpuacct:/user.slice\n"
                                "13:rdma:/\n"
                                "0::/\n";
static const char fake_mi[] =
    "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "42 31 0:39 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
    "43 31 0:40 /docker/x /sys/fs/cgroup/perf\\040event rw - cgroup cgroup rw,perf_event\n"
    "50 22 0:39 / /mnt/other/net_cls rw - cgroup cgroup rw,net_cls,net_prio\n";

/* ---- mode detection ---- */

/* The host nook is built on is hybrid (notes/host.md); the test VM
 * (tests/vm/run) is pure v2.  Either way, the mode is what the mounts say. */
static bool host_is_v2(void)
{
  struct statfs st;
  return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

TEST(cgroup_detect_mode_live)
{
  enum cgroup_mode m;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&m, &e), &e));
  CHECK(strcmp(cgroup_manager_for(CGROUP_MODE_HYBRID)->name, "hybrid") == 0);
  CHECK(strcmp(cgroup_manager_for(CGROUP_MODE_LEGACY)->name, "v1") == 0);
  CHECK(strcmp(cgroup_manager_for(CGROUP_MODE_UNIFIED)->name, "v2") == 0);
  const struct cg_host *h;
  CHECK(ok(cg_host_get(&h, &e), &e));
  if (host_is_v2()) {
    CHECK(m == CGROUP_MODE_UNIFIED);
    CHECK(h->has_unified && strcmp(h->unified.mountpoint, "/sys/fs/cgroup") == 0);
    CHECK(h->n_v1 == 0);
  } else {
    /* This host: v1 hierarchies plus cgroup2 at unified. */
    CHECK(m == CGROUP_MODE_HYBRID);
    CHECK(h->has_unified && strcmp(h->unified.mountpoint, "/sys/fs/cgroup/unified") == 0);
    CHECK(h->n_v1 >= 8);
  }
  const struct cg_host *again;
  CHECK(ok(cg_host_get(&again, &e), &e) && again == h);
  /* Every manager has every method. */
  for (int i = 0; i < 3; i++) {
    const struct cgroup_manager *mm = cgroup_manager_for((enum cgroup_mode)i);
    CHECK(mm->create && mm->enter && mm->apply && mm->pids && mm->kill && mm->freeze &&
          mm->frozen && mm->stats && mm->oom_notify_fd && mm->destroy);
  }
}

/* ---- cgroupsPath ---- */

static bool parsed(const char *path, const char *id, const char *want, bool want_abs)
{
  char *inner = NULL;
  bool abs = !want_abs;
  nook_error_t e = NULL;
  if (!ok(cg_parse_cgroups_path(path, id, &inner, &abs, &e), &e))
    return false;
  bool good = strcmp(inner, want) == 0 && abs == want_abs;
  if (!good)
    fprintf(stderr, "  `%s` -> `%s` (abs %d), want `%s`\n", path, inner, abs, want);
  free(inner);
  return good;
}

static bool rejected(const char *path, const char *needle)
{
  char *inner = NULL;
  bool abs;
  nook_error_t e = NULL;
  int r = cg_parse_cgroups_path(path, "ctr", &inner, &abs, &e);
  free(inner);
  return err_has(r, &e, needle);
}

TEST(cgroup_parse_cgroups_path)
{
  CHECK(parsed("/foo/bar", "x", "foo/bar", true));
  CHECK(parsed("//foo//./bar/", "x", "foo/bar", true));
  CHECK(parsed("foo/bar", "x", "foo/bar", false));
  CHECK(parsed("./foo", "x", "foo", false));
  CHECK(parsed(NULL, "ctr-1", "ctr-1", false));
  CHECK(parsed("", "ctr-1", "ctr-1", false));
  CHECK(parsed("a:b", "x", "a:b", false));             /* one colon: a plain name */
  CHECK(parsed("/a:b:c", "x", "a:b:c", true));         /* absolute: a plain path */
  CHECK(parsed("..foo/x..", "x", "..foo/x..", false)); /* only whole `..` components */
  CHECK(rejected("/a/../b", "`..`"));
  CHECK(rejected("..", "`..`"));
  CHECK(rejected("a/..", "`..`"));
  CHECK(rejected("/", "root of the cgroup hierarchy"));
  CHECK(rejected(".", "caller's own cgroup"));
  CHECK(rejected("a\nb", "control characters"));
  CHECK(rejected("system.slice:nook:ctr", "systemd cgroup driver is not available"));
  char *inner = NULL;
  bool abs;
  nook_error_t e = NULL;
  CHECK(err_has(cg_parse_cgroups_path(NULL, NULL, &inner, &abs, &e), &e, "no cgroupsPath"));
  CHECK(err_has(cg_parse_cgroups_path(NULL, "..", &inner, &abs, &e), &e, "`..`"));
}

static const char *dir_for(const struct cgroup_paths *p, const char *ctrl)
{
  const char *d = cg_v1_dir(p, ctrl);
  return d ? d : "(none)";
}

TEST(cgroup_resolve_hybrid_fake)
{
  struct cg_host h;
  nook_error_t e = NULL;
  CHECK(ok(cg_host_build(CGROUP_MODE_HYBRID, fake_self, fake_mi, &h, &e), &e));
  /* rdma has no mount: left out.  Everything else is found once. */
  CHECK_INT_EQ(h.n_v1, 9);
  CHECK(h.has_unified);
  CHECK_STR_EQ(h.unified.mountpoint, "/sys/fs/cgroup/unified");
  for (size_t i = 0; i < h.n_v1; i++) {
    if (strcmp(h.v1[i].controllers, "net_cls,net_prio") == 0)
      CHECK_STR_EQ(h.v1[i].mountpoint, "/sys/fs/cgroup/net_cls,net_prio");
    if (strcmp(h.v1[i].controllers, "perf_event") == 0) {
      CHECK_STR_EQ(h.v1[i].mountpoint, "/sys/fs/cgroup/perf event"); /* \040 decoded */
      CHECK_STR_EQ(h.v1[i].mount_root, "/docker/x");
    }
  }

  struct cgroup_paths p;
  CHECK(ok(cg_resolve(&h, "nook-unit/c1", "id", &p, &e), &e));
  CHECK(p.mode == CGROUP_MODE_HYBRID);
  CHECK_STR_EQ(dir_for(&p, "memory"), "/sys/fs/cgroup/memory/process_api/8e87/nook-unit/c1");
  CHECK_STR_EQ(dir_for(&p, "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/user.slice/nook-unit/c1");
  CHECK_STR_EQ(dir_for(&p, "pids"), "/sys/fs/cgroup/pids/nook-unit/c1");
  CHECK_STR_EQ(dir_for(&p, "name=systemd"), "/sys/fs/cgroup/systemd/nook-unit/c1");
  CHECK_STR_EQ(dir_for(&p, "perf_event"), "/sys/fs/cgroup/perf event/sub/nook-unit/c1");
  CHECK_STR_EQ(p.unified, "/sys/fs/cgroup/unified/nook-unit/c1");
  cgroup_paths_clear(&p);

  /* Absolute: relative to each hierarchy's mount, whatever the caller's cgroup. */
  CHECK(ok(cg_resolve(&h, "/nook/c2", "id", &p, &e), &e));
  CHECK_STR_EQ(dir_for(&p, "memory"), "/sys/fs/cgroup/memory/nook/c2");
  CHECK_STR_EQ(dir_for(&p, "cpu"), "/sys/fs/cgroup/cpu,cpuacct/nook/c2");
  CHECK_STR_EQ(p.unified, "/sys/fs/cgroup/unified/nook/c2");
  cgroup_paths_clear(&p);

  /* Default: the id under the caller's cgroup, as runc's cgroupfs driver. */
  CHECK(ok(cg_resolve(&h, NULL, "ctr-9", &p, &e), &e));
  CHECK_STR_EQ(dir_for(&p, "memory"), "/sys/fs/cgroup/memory/process_api/8e87/ctr-9");
  CHECK_STR_EQ(dir_for(&p, "devices"), "/sys/fs/cgroup/devices/ctr-9");
  CHECK_STR_EQ(p.unified, "/sys/fs/cgroup/unified/ctr-9");
  cgroup_paths_clear(&p);

  CHECK(err_has(cg_resolve(&h, "a/../../b", "id", &p, &e), &e, "`..`"));
  cg_host_clear(&h);

  /* The caller's cgroup outside a hierarchy's mount root: say so. */
  static const char self2[] = "11:perf_event:/elsewhere\n0::/\n";
  static const char mi2[] =
      "43 31 0:40 /docker/x /sys/fs/cgroup/perf_event rw - cgroup cgroup rw,perf_event\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  CHECK(ok(cg_host_build(CGROUP_MODE_HYBRID, self2, mi2, &h, &e), &e));
  CHECK(err_has(cg_resolve(&h, "c", "id", &p, &e), &e, "is not visible"));
  CHECK(ok(cg_resolve(&h, "/c", "id", &p, &e), &e));
  CHECK_STR_EQ(dir_for(&p, "perf_event"), "/sys/fs/cgroup/perf_event/c");
  cgroup_paths_clear(&p);
  cg_host_clear(&h);

  /* Outside the caller's cgroup namespace: never resolve through "..". */
  CHECK(ok(cg_host_build(CGROUP_MODE_HYBRID, "4:memory:/../x\n0::/..\n", fake_mi, &h, &e), &e));
  CHECK(err_has(cg_resolve(&h, "c", "id", &p, &e), &e, "outside its cgroup namespace"));
  CHECK(ok(cg_resolve(&h, "/c", "id", &p, &e), &e));
  cgroup_paths_clear(&p);
  cg_host_clear(&h);

  CHECK(err_has(cg_host_build(CGROUP_MODE_HYBRID, "garbage\n", fake_mi, &h, &e), &e, "malformed"));
}

TEST(cgroup_resolve_unified_and_legacy_fake)
{
  struct cg_host h;
  struct cgroup_paths p;
  nook_error_t e = NULL;
  /* Pure v2: relative paths go under the parent of the caller's cgroup,
   * which (unlike the caller's own) may enable controllers for children. */
  CHECK(ok(cg_host_build(CGROUP_MODE_UNIFIED, "0::/user.slice/user-0.slice/session-1.scope\n", NULL,
                         &h, &e),
           &e));
  CHECK(h.n_v1 == 0 && h.has_unified);
  CHECK(ok(cg_resolve(&h, NULL, "ctr", &p, &e), &e));
  CHECK_STR_EQ(p.unified, "/sys/fs/cgroup/user.slice/user-0.slice/ctr");
  CHECK(p.v1_dirs == NULL);
  cgroup_paths_clear(&p);
  CHECK(ok(cg_resolve(&h, "/machine/ctr", "x", &p, &e), &e));
  CHECK_STR_EQ(p.unified, "/sys/fs/cgroup/machine/ctr");
  cgroup_paths_clear(&p);
  cg_host_clear(&h);
  CHECK(ok(cg_host_build(CGROUP_MODE_UNIFIED, "0::/\n", NULL, &h, &e), &e));
  CHECK(ok(cg_resolve(&h, "a/b", "x", &p, &e), &e));
  CHECK_STR_EQ(p.unified, "/sys/fs/cgroup/a/b");
  cgroup_paths_clear(&p);
  cg_host_clear(&h);

  /* Legacy: the v2 line is ignored. */
  CHECK(ok(cg_host_build(CGROUP_MODE_LEGACY, fake_self, fake_mi, &h, &e), &e));
  CHECK(!h.has_unified && h.n_v1 == 9);
  CHECK(ok(cg_resolve(&h, "x", "id", &p, &e), &e));
  CHECK(p.unified == NULL && strv_len(p.v1_dirs) == 9);
  cgroup_paths_clear(&p);
  cg_host_clear(&h);

  CHECK(err_has(cg_host_build(CGROUP_MODE_LEGACY, "0::/\n", fake_mi, &h, &e), &e,
                "no cgroup v1 hierarchy"));
  CHECK(err_has(cg_host_build(CGROUP_MODE_UNIFIED, "4:memory:/\n", NULL, &h, &e), &e,
                "cgroup v2 hierarchy not found"));
}

/* ---- persisted form ---- */

TEST(cgroup_paths_roundtrip)
{
  char *dirs[] = {"/sys/fs/cgroup/memory/a;b%c/d e", "/sys/fs/cgroup/cpu,cpuacct/x\ny\tz", NULL};
  char *ctrls[] = {"memory", "cpu,cpuacct", NULL};
  unsigned created[] = {2, 0};
  struct cgroup_paths p = {.mode = CGROUP_MODE_HYBRID,
                           .unified = "/sys/fs/cgroup/unified/a;b%c/d e",
                           .v1_dirs = dirs,
                           .v1_controllers = ctrls,
                           .v1_created = created,
                           .unified_created = 3};
  char *s = cgroup_paths_serialize(&p);
  CHECK(strchr(s, '\n') == NULL);
  struct cgroup_paths q;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_paths_parse(s, &q, &e), &e));
  CHECK(q.mode == CGROUP_MODE_HYBRID);
  CHECK_STR_EQ(q.unified, p.unified);
  CHECK_INT_EQ(q.unified_created, 3);
  CHECK(strv_len(q.v1_dirs) == 2 && strv_len(q.v1_controllers) == 2);
  for (size_t i = 0; i < 2; i++) {
    CHECK_STR_EQ(q.v1_dirs[i], dirs[i]);
    CHECK_STR_EQ(q.v1_controllers[i], ctrls[i]);
    CHECK(q.v1_created[i] == created[i]);
  }
  char *s2 = cgroup_paths_serialize(&q);
  CHECK_STR_EQ(s2, s);
  free(s);
  free(s2);
  cgroup_paths_clear(&q);

  struct cgroup_paths u = {.mode = CGROUP_MODE_UNIFIED, .unified = "/sys/fs/cgroup/x"};
  s = cgroup_paths_serialize(&u);
  CHECK(ok(cgroup_paths_parse(s, &q, &e), &e));
  CHECK(q.mode == CGROUP_MODE_UNIFIED && q.v1_dirs == NULL);
  CHECK_STR_EQ(q.unified, u.unified);
  free(s);
  cgroup_paths_clear(&q);

  const char *bad[] = {"",
                       "2;mode=hybrid",
                       "1;mode=weird",
                       "1;mode=hybrid;u=1",
                       "1;mode=hybrid;u=x:/a",
                       "1;mode=hybrid;h=memory:1",
                       "1;mode=hybrid;h=memory:1:/a%zz",
                       "1;mode=hybrid;h=memory:1:",
                       "1;mode=legacy;q=1"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    CHECK(cgroup_paths_parse(bad[i], &q, &e) < 0);
    CHECK(q.v1_dirs == NULL && q.unified == NULL);
    nook_error_free(&e);
  }
}

/* ---- v2 controller enabling, on a fake tree of plain files ---- */

static void put(const char *dir, const char *file, const char *val)
{
  nook_error_t e = NULL;
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  if (write_file_at(AT_FDCWD, path, O_CREAT | O_TRUNC, 0644, val, strlen(val), &e) < 0)
    ok(-1, &e);
}

TEST(cgroup_v2_enables_controllers_top_down)
{
  char tmp[] = "/tmp/nook-unit-cg-XXXXXX";
  CHECK(mkdtemp(tmp) != NULL);
  char a[256], b[256], leaf[256];
  snprintf(a, sizeof(a), "%s/a", tmp);
  snprintf(b, sizeof(b), "%s/a/b", tmp);
  snprintf(leaf, sizeof(leaf), "%s/a/b/c", tmp);
  mkdir(a, 0755);
  mkdir(b, 0755);
  put(tmp, "cgroup.controllers", "cpu memory pids\n");
  put(tmp, "cgroup.subtree_control", "");
  put(a, "cgroup.subtree_control", "");
  put(b, "cgroup.subtree_control", "");
  nook_error_t e = NULL;
  unsigned created = 9;
  /* Every level above the leaf gets the root's list. */
  CHECK(ok(cg2_create(leaf, strlen(tmp), &created, true, &e), &e));
  CHECK_INT_EQ(created, 1);
  CHECK(file_is(tmp, "cgroup.subtree_control", "+cpu +memory +pids"));
  CHECK(file_is(a, "cgroup.subtree_control", "+cpu +memory +pids"));
  CHECK(file_is(b, "cgroup.subtree_control", "+cpu +memory +pids"));
  CHECK(access(leaf, F_OK) == 0);
  char sc[512];
  snprintf(sc, sizeof(sc), "%s/cgroup.subtree_control", leaf);
  CHECK(access(sc, F_OK) < 0); /* never the leaf's own */

  /* A real error (here EISDIR) fails create and removes what it made. */
  unlink(sc);
  rmdir(leaf);
  snprintf(sc, sizeof(sc), "%s/cgroup.subtree_control", b);
  unlink(sc);
  mkdir(sc, 0755);
  CHECK(err_has(cg2_create(leaf, strlen(tmp), &created, true, &e), &e, "cgroup.subtree_control"));
  CHECK(access(leaf, F_OK) < 0);
  rmdir(sc);
  /* No controllers at the root: nothing to write. */
  put(tmp, "cgroup.controllers", "");
  put(tmp, "cgroup.subtree_control", "untouched");
  CHECK(ok(cg2_create(leaf, strlen(tmp), &created, true, &e), &e));
  CHECK(file_is(tmp, "cgroup.subtree_control", "untouched"));
  rmdir(leaf);
  rmdir(b);
  snprintf(sc, sizeof(sc), "%s/cgroup.subtree_control", a);
  unlink(sc);
  rmdir(a);
  snprintf(sc, sizeof(sc), "%s/cgroup.subtree_control", tmp);
  unlink(sc);
  snprintf(sc, sizeof(sc), "%s/cgroup.controllers", tmp);
  unlink(sc);
  CHECK(rmdir(tmp) == 0);
}

/* ---- live: this host, root, under nook-unit-<pid> ---- */

static bool live_ok(void)
{
  enum cgroup_mode m;
  nook_error_t e = NULL;
  bool good = geteuid() == 0 && cgroup_detect_mode(&m, &e) == 0;
  nook_error_free(&e);
  return good;
}

static void each_dir(const struct cgroup_paths *p, void (*fn)(const char *, void *), void *arg)
{
  if (p->unified)
    fn(p->unified, arg);
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++)
    fn(p->v1_dirs[i], arg);
}

static void count_missing(const char *d, void *arg)
{
  if (!is_dir(d)) {
    fprintf(stderr, "  missing: %s\n", d);
    ++*(int *)arg;
  }
}

static void count_present(const char *d, void *arg)
{
  if (is_dir(d)) {
    fprintf(stderr, "  left behind: %s\n", d);
    ++*(int *)arg;
  }
}

/* The prefix dir of a leaf `<prefix>/<name>`. */
static void count_present_parent(const char *d, void *arg)
{
  cleanup_free char *p = xstrdup(d);
  *strrchr(p, '/') = '\0';
  count_present(p, arg);
}

static void parent_exists(const char *d, void *arg)
{
  cleanup_free char *p = xstrdup(d);
  *strrchr(p, '/') = '\0';
  if (is_dir(p))
    ++*(int *)arg;
}

static void rm_parent(const char *d, void *arg)
{
  cleanup_free char *p = xstrdup(d);
  *strrchr(p, '/') = '\0';
  rmdir(p);
}

/* A child that counts as fast as it can in shared memory, so freezing is
 * visible as a counter that stops. */
static pid_t spawn_counter(volatile unsigned long *ctr)
{
  pid_t pid = fork();
  if (pid == 0) {
    for (;;)
      (*ctr)++;
  }
  return pid;
}

static bool counter_moves(volatile unsigned long *ctr)
{
  unsigned long a = *ctr;
  usleep(30000);
  return *ctr != a;
}

static bool pids_are(const struct cgroup_manager *m, const struct cgroup_paths *p, pid_t want)
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

/* Reap within 3 s.  A child a regression leaves frozen or alive would hang
 * `make unit`: after the bound, thaw and kill it (it is in our prefix) and
 * report failure instead. */
static bool reaped_by(pid_t pid, int sig, const struct cgroup_paths *p)
{
  int st;
  for (int i = 0; i < 300; i++) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid)
      return WIFSIGNALED(st) && WTERMSIG(st) == sig;
    if (r < 0)
      return false;
    usleep(10000);
  }
  fprintf(stderr, "  pid %d still alive after 3 s; thawing and killing it\n", (int)pid);
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

TEST(cgroup_live_lifecycle)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&mode, &e), &e));
  const struct cgroup_manager *m = cgroup_manager_for(mode);
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/c1", (int)getpid());

  struct cgroup_paths p;
  if (!ok(m->create(path, "unused", &p, &e), &e)) {
    CHECK(!"create");
    return;
  }
  int missing = 0;
  each_dir(&p, count_missing, &missing);
  CHECK(missing == 0);
  /* Both the prefix and the leaf were made here, in every hierarchy. */
  if (p.unified)
    CHECK(p.unified_created == 2);
  for (size_t i = 0; p.v1_dirs && p.v1_dirs[i]; i++)
    CHECK(p.v1_created[i] == 2);
  const char *cpuset = cg_v1_dir(&p, "cpuset");
  if (cpuset) {
    char cpus[64];
    CHECK(cg_read(cpuset, "cpuset.cpus", cpus, sizeof(cpus), &e) > 0);
    nook_error_free(&e);
  }
  /* The persisted form gives back a working handle. */
  char *ser = cgroup_paths_serialize(&p);
  struct cgroup_paths q;
  CHECK(ok(cgroup_paths_parse(ser, &q, &e), &e));
  free(ser);

  volatile unsigned long *ctr =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(ctr != MAP_FAILED);
  pid_t child = spawn_counter(ctr);
  CHECK(child > 0);
  CHECK(ok(m->enter(&q, child, &e), &e));
  CHECK(pids_are(m, &q, child));
  CHECK(counter_moves(ctr));

  bool frozen = true;
  CHECK(ok(m->frozen(&q, &frozen, &e), &e) && !frozen);
  CHECK(ok(m->freeze(&q, true, &e), &e));
  CHECK(!counter_moves(ctr));
  if (q.unified)
    CHECK(file_is(q.unified, "cgroup.freeze", "1"));
  CHECK(ok(m->frozen(&q, &frozen, &e), &e) && frozen);
  CHECK(ok(m->freeze(&q, false, &e), &e));
  CHECK(counter_moves(ctr));
  CHECK(ok(m->frozen(&q, &frozen, &e), &e) && !frozen);

  /* The v1 freezer, when there is one (hybrid uses the unified one). */
  const char *freezer = cg_v1_dir(&q, "freezer");
  if (freezer) {
    CHECK(ok(cg1_freeze(freezer, true, &e), &e));
    CHECK(file_is(freezer, "freezer.state", "FROZEN"));
    CHECK(!counter_moves(ctr));
    CHECK(ok(cgroup_manager_for(CGROUP_MODE_LEGACY)->frozen(&q, &frozen, &e), &e) && frozen);
    CHECK(ok(cg1_freeze(freezer, false, &e), &e));
    CHECK(counter_moves(ctr));
  }

  /* A non-fatal signal reaches every process and waits for nothing. */
  CHECK(ok(m->kill(&q, SIGSTOP, &e), &e));
  int st = 0;
  pid_t w = 0;
  for (int i = 0; i < 300 && w == 0; i++) {
    w = waitpid(child, &st, WUNTRACED | WNOHANG);
    if (w == 0)
      usleep(10000);
  }
  CHECK(w == child && WIFSTOPPED(st));
  CHECK(ok(m->kill(&q, SIGCONT, &e), &e));
  CHECK(ok(m->kill(&q, SIGKILL, &e), &e));
  CHECK(pids_are(m, &q, 0));
  CHECK(reaped_by(child, SIGKILL, &q));

  /* The v1 kill loop (no cgroup.kill) on the same cgroup, also when the v1
   * freezer holds the process (it must be thawed to die). */
  if (q.v1_dirs) {
    const struct cgroup_manager *v1 = cgroup_manager_for(CGROUP_MODE_LEGACY);
    child = spawn_counter(ctr);
    CHECK(ok(m->enter(&q, child, &e), &e));
    CHECK(ok(v1->kill(&q, SIGKILL, &e), &e));
    CHECK(reaped_by(child, SIGKILL, &q));
    if (freezer) {
      child = spawn_counter(ctr);
      CHECK(ok(m->enter(&q, child, &e), &e));
      CHECK(ok(v1->freeze(&q, true, &e), &e));
      long long t0 = cg_now_ms();
      CHECK(ok(v1->kill(&q, SIGKILL, &e), &e));
      CHECK(cg_now_ms() - t0 < 1000);
      CHECK(reaped_by(child, SIGKILL, &q));
      CHECK(file_is(freezer, "freezer.state", "THAWED"));
    }
  }

  /* destroy kills what is left, then removes leaf and created prefix. */
  child = spawn_counter(ctr);
  CHECK(ok(m->enter(&q, child, &e), &e));
  CHECK(ok(m->destroy(&q, &e), &e));
  CHECK(reaped_by(child, SIGKILL, &q));
  int present = 0;
  each_dir(&q, count_present, &present);
  each_dir(&q, count_present_parent, &present);
  CHECK(present == 0);
  /* Idempotent. */
  CHECK(ok(m->destroy(&q, &e), &e));
  CHECK(pids_are(m, &q, 0));
  munmap((void *)ctr, 4096);
  cgroup_paths_clear(&q);
  cgroup_paths_clear(&p);
}

/* The pure v1 manager on this host's v1 hierarchies: listing, freezer,
 * kill loop and destroy without any cgroup v2 help. */
TEST(cgroup_live_v1_manager)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  if (host_is_v2())
    SKIP("no cgroup v1 hierarchy on a pure cgroup v2 host");
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_LEGACY);
  nook_error_t e = NULL;
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/v1", (int)getpid());
  struct cgroup_paths q;
  if (!ok(m->create(path, "x", &q, &e), &e)) {
    CHECK(!"create");
    return;
  }
  CHECK(q.mode == CGROUP_MODE_LEGACY && q.unified == NULL);
  volatile unsigned long *ctr =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pid_t child = spawn_counter(ctr);
  CHECK(ok(m->enter(&q, child, &e), &e));
  CHECK(pids_are(m, &q, child));
  if (cg_v1_dir(&q, "freezer")) {
    CHECK(ok(m->freeze(&q, true, &e), &e));
    CHECK(!counter_moves(ctr));
    CHECK(ok(m->freeze(&q, false, &e), &e));
    CHECK(counter_moves(ctr));
    /* destroy of a paused container: thawed so it can die. */
    CHECK(ok(m->freeze(&q, true, &e), &e));
  }
  CHECK(ok(m->destroy(&q, &e), &e));
  CHECK(reaped_by(child, SIGKILL, &q));
  int present = 0;
  each_dir(&q, count_present, &present);
  each_dir(&q, count_present_parent, &present);
  CHECK(present == 0);
  munmap((void *)ctr, 4096);
  cgroup_paths_clear(&q);
}

TEST(cgroup_live_keeps_preexisting_parents)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&mode, &e), &e));
  const struct cgroup_manager *m = cgroup_manager_for(mode);
  char a[64], b[64];
  snprintf(a, sizeof(a), "nook-unit-%d/a", (int)getpid());
  snprintf(b, sizeof(b), "nook-unit-%d/b", (int)getpid());
  struct cgroup_paths pa, pb;
  CHECK(ok(m->create(a, "x", &pa, &e), &e));
  CHECK(ok(m->create(b, "x", &pb, &e), &e));
  for (size_t i = 0; pb.v1_dirs && pb.v1_dirs[i]; i++)
    CHECK(pa.v1_created[i] == 2 && pb.v1_created[i] == 1);
  /* a made the prefix but b still lives in it: it stays. */
  CHECK(ok(m->destroy(&pa, &e), &e));
  int present = 0;
  each_dir(&pa, count_present, &present);
  CHECK(present == 0);
  int missing = 0;
  each_dir(&pb, count_missing, &missing);
  CHECK(missing == 0);
  /* b did not make the prefix: it is not b's to remove. */
  CHECK(ok(m->destroy(&pb, &e), &e));
  present = 0;
  each_dir(&pb, count_present, &present);
  CHECK(present == 0);
  int kept = 0, total = (int)strv_len(pb.v1_dirs) + (pb.unified ? 1 : 0);
  each_dir(&pb, parent_exists, &kept);
  CHECK(kept == total && kept > 0);
  each_dir(&pb, rm_parent, NULL);
  present = 0;
  each_dir(&pb, count_present_parent, &present);
  CHECK(present == 0);
  cgroup_paths_clear(&pa);
  cgroup_paths_clear(&pb);
}

TEST(cgroup_live_apply)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&mode, &e), &e));
  const struct cgroup_manager *m = cgroup_manager_for(mode);
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/apply", (int)getpid());
  struct cgroup_paths p;
  if (!ok(m->create(path, "x", &p, &e), &e)) {
    CHECK(!"create");
    return;
  }
  struct oci_device_cgroup devs[] = {
      {.allow = false, .type = 'a', .access = "rwm"},
      {.allow = true,
       .type = 'c',
       .has_major = true,
       .major = 1,
       .has_minor = true,
       .minor = 3,
       .access = "rwm"},
      {.allow = true,
       .type = 'c',
       .has_major = true,
       .major = 1,
       .has_minor = true,
       .minor = 5,
       .access = "rw"},
      {.allow = true,
       .type = 'c',
       .has_major = true,
       .major = 1,
       .has_minor = true,
       .minor = 5,
       .access = "m"},
      {.allow = true, .type = 'c', .has_major = true, .major = 136, .access = "rwm"},
      {.allow = true,
       .type = 'b',
       .has_major = true,
       .major = 8,
       .has_minor = true,
       .minor = 0,
       .access = "r"},
      {.allow = false,
       .type = 'b',
       .has_major = true,
       .major = 8,
       .has_minor = true,
       .minor = 0,
       .access = "r"},
  };
  struct oci_resources r = {.devices = devs, .n_devices = ARRAY_SIZE(devs)};
  r.has_memory = true;
  r.memory.has_limit = true;
  r.memory.limit = 64 << 20;
  r.memory.has_swap = true;
  r.memory.swap = 128 << 20;
  r.memory.has_reservation = true;
  r.memory.reservation = 32 << 20;
  r.has_pids = true;
  r.pids_limit = 42;
  r.has_cpu = true;
  r.cpu.has_shares = true;
  r.cpu.shares = 512;
  r.cpu.has_quota = true;
  r.cpu.quota = 50000;
  r.cpu.has_period = true;
  r.cpu.period = 100000;
  r.cpu.cpus = "0";
  r.cpu.mems = "0";
  CHECK(ok(m->apply(&p, &r, &e), &e));

  const char *d;
  if ((d = cg_v1_dir(&p, "devices")) != NULL)
    CHECK(file_is(d, "devices.list", "c 1:3 rwm\nc 1:5 rwm\nc 136:* rwm"));
  if ((d = cg_v1_dir(&p, "memory")) != NULL) {
    CHECK(file_is(d, "memory.limit_in_bytes", "67108864"));
    CHECK(file_is(d, "memory.soft_limit_in_bytes", "33554432"));
    if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
      CHECK(file_is(d, "memory.memsw.limit_in_bytes", "134217728"));
  }
  if ((d = cg_v1_dir(&p, "pids")) != NULL)
    CHECK(file_is(d, "pids.max", "42"));
  if ((d = cg_v1_dir(&p, "cpu")) != NULL) {
    CHECK(file_is(d, "cpu.shares", "512"));
    CHECK(file_is(d, "cpu.cfs_quota_us", "50000"));
    CHECK(file_is(d, "cpu.cfs_period_us", "100000"));
  }
  if ((d = cg_v1_dir(&p, "cpuset")) != NULL)
    CHECK(file_is(d, "cpuset.cpus", "0"));

  /* Lowering below the current limit orders the writes (limit first), and
   * -1 lifts both; pids -1 is "max". */
  r.n_devices = 0;
  r.has_cpu = false;
  r.memory.limit = 16 << 20;
  r.memory.swap = 32 << 20;
  r.memory.has_reservation = false;
  r.pids_limit = -1;
  CHECK(ok(m->apply(&p, &r, &e), &e));
  if ((d = cg_v1_dir(&p, "memory")) != NULL)
    CHECK(file_is(d, "memory.limit_in_bytes", "16777216"));
  if ((d = cg_v1_dir(&p, "pids")) != NULL)
    CHECK(file_is(d, "pids.max", "max"));
  /* An empty device list is deny-all, as runc. */
  if ((d = cg_v1_dir(&p, "devices")) != NULL)
    CHECK(file_is(d, "devices.list", ""));
  r.memory.limit = -1;
  r.memory.has_swap = false;
  CHECK(ok(m->apply(&p, &r, &e), &e));
  if ((d = cg_v1_dir(&p, "memory")) != NULL)
    CHECK(file_is(d, "memory.limit_in_bytes", "9223372036854771712"));

  /* Errors name the field. */
  r.has_memory = false;
  r.has_pids = false;
  r.has_cpu = true;
  r.cpu.has_shares = true;
  r.cpu.shares = 1;
  CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.cpu.shares"));
  r.cpu.has_shares = false;
  r.has_cpu = false;
  struct oci_device_cgroup hole[] = {
      {.allow = false, .type = 'a'},
      {.allow = true, .type = 'c', .has_major = true, .major = 136, .access = "rwm"},
      {.allow = false,
       .type = 'c',
       .has_major = true,
       .major = 136,
       .has_minor = true,
       .minor = 1,
       .access = "w"},
  };
  r.devices = hole;
  r.n_devices = ARRAY_SIZE(hole);
  if (cg_v1_dir(&p, "devices"))
    CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.devices[2]: cannot deny"));
  struct oci_device_cgroup badacc[] = {{.allow = true, .type = 'c', .access = "rwx"}};
  r.devices = badacc;
  r.n_devices = 1;
  if (cg_v1_dir(&p, "devices"))
    CHECK(err_has(m->apply(&p, &r, &e), &e, "devices[0].access"));

  CHECK(ok(m->destroy(&p, &e), &e));
  int present = 0;
  each_dir(&p, count_present, &present);
  each_dir(&p, count_present_parent, &present);
  CHECK(present == 0);
  cgroup_paths_clear(&p);
}

TEST(cgroup_missing_file_names_field)
{
  char tmp[] = "/tmp/nook-unit-cg-XXXXXX";
  CHECK(mkdtemp(tmp) != NULL);
  struct oci_memory mem = {.has_swap = true, .swap = 1 << 30};
  nook_error_t e = NULL;
  /* The message the brief asks for: field, file, and a likely cause. */
  int r = cg1_apply_memory(tmp, &mem, &e);
  CHECK(r < 0);
  CHECK(e && strstr(e->msg, "linux.resources.memory.swap: ") == e->msg);
  CHECK(e && strstr(e->msg, "/memory.memsw.limit_in_bytes: no such file (swap accounting "
                            "disabled?)") != NULL);
  nook_error_free(&e);
  /* An unlimited swap without swap accounting is what the host does anyway. */
  mem.swap = -1;
  CHECK(ok(cg1_apply_memory(tmp, &mem, &e), &e));
  mem.swap = 1 << 20;
  mem.has_limit = true;
  mem.limit = 2 << 20;
  CHECK(err_has(cg1_apply_memory(tmp, &mem, &e), &e, "is below memory.limit"));
  mem.has_limit = false;
  mem.has_swap = false;
  mem.has_reservation = true;
  mem.reservation = -2;
  CHECK(err_has(cg2_apply_memory(tmp, &mem, &e), &e, "memory.reservation: invalid value -2"));
  CHECK(err_has(cg2_apply_pids(tmp, 5, &e), &e, "linux.resources.pids.limit: "));
  struct oci_cpu cpu = {.has_quota = true, .quota = 1000};
  CHECK(err_has(cg1_apply_cpu(tmp, &cpu, 0, &e), &e, "(CFS bandwidth control"));
  rmdir(tmp);
}

/* ---- conversions and checks ---- */

TEST(cgroup_v2_conversions)
{
  /* runc 1.1's shares -> weight: 1 + (shares - 2) * 9999 / 262142. */
  CHECK_INT_EQ(cg_shares_to_weight(2), 1);
  CHECK_INT_EQ(cg_shares_to_weight(512), 20);
  CHECK_INT_EQ(cg_shares_to_weight(1024), 39);
  CHECK_INT_EQ(cg_shares_to_weight(262144), 10000);
  /* blkio weight [10, 1000] -> io.weight [1, 10000]. */
  CHECK_INT_EQ(cg_blkio_to_io_weight(10), 1);
  CHECK_INT_EQ(cg_blkio_to_io_weight(500), 4950);
  CHECK_INT_EQ(cg_blkio_to_io_weight(1000), 10000);
  char buf[24];
  CHECK_STR_EQ(cg_limit_str(-1, buf), "max");
  CHECK_STR_EQ(cg_limit_str(0, buf), "0");
}

TEST(cgroup_resource_checks)
{
  nook_error_t e = NULL;
  if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0)
    CHECK(ok(cg_hugetlb_check_size("2MB", 0, &e), &e));
  CHECK(err_has(cg_hugetlb_check_size("3MB", 1, &e), &e,
                "hugepageLimits[1].pageSize: `3MB` is not a huge page size of this host "
                "(/sys/kernel/mm/hugepages/hugepages-3072kB does not exist)"));
  const char *bad_sizes[] = {"", "MB", "2mb", "2MB/../x", "../2MB", "0MB", "2 MB", "2TB"};
  for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++)
    CHECK(err_has(cg_hugetlb_check_size(bad_sizes[i], 0, &e), &e, "pageSize"));
  CHECK(ok(cg_unified_check_key("memory.high", &e), &e));
  CHECK(ok(cg_unified_check_key("cgroup.max.depth", &e), &e));
  const char *bad_keys[] = {"", ".", "..", "../memory.max", "a/b", "memory..max", "a b", "x\n"};
  for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++)
    CHECK(err_has(cg_unified_check_key(bad_keys[i], &e), &e, "linux.resources.unified: key"));
}

/* ---- the v2 device filter ---- */

/* The instructions the generator uses, run as the kernel would. */
static int bpf_run(const struct bpf_insn *p, size_t n, unsigned type, unsigned access,
                   unsigned major, unsigned minor)
{
  uint32_t ctx[3] = {access << 16 | type, major, minor};
  uint64_t r[11] = {0};
  for (size_t pc = 0, steps = 0; pc < n && steps < 10000; pc++, steps++) {
    const struct bpf_insn *i = &p[pc];
    uint32_t dst = (uint32_t)r[i->dst_reg], imm = (uint32_t)i->imm;
    switch (i->code) {
    case BPF_LDX | BPF_MEM | BPF_W:
      if (i->src_reg != BPF_REG_1 || i->off % 4 || i->off < 0 || i->off > 8)
        return -2;
      r[i->dst_reg] = ctx[i->off / 4];
      break;
    case BPF_ALU | BPF_MOV | BPF_X:
      r[i->dst_reg] = (uint32_t)r[i->src_reg];
      break;
    case BPF_ALU | BPF_MOV | BPF_K:
      r[i->dst_reg] = imm;
      break;
    case BPF_ALU | BPF_RSH | BPF_K:
      r[i->dst_reg] = dst >> imm;
      break;
    case BPF_ALU | BPF_AND | BPF_K:
      r[i->dst_reg] = dst & imm;
      break;
    case BPF_JMP32 | BPF_JNE | BPF_K:
      if (dst != imm)
        pc += (size_t)(ptrdiff_t)i->off;
      break;
    case BPF_JMP32 | BPF_JEQ | BPF_K:
      if (dst == imm)
        pc += (size_t)(ptrdiff_t)i->off;
      break;
    case BPF_JMP | BPF_EXIT:
      return (int)r[0];
    default:
      return -3;
    }
  }
  return -4;
}

/* The meaning, stated directly: per access bit, the last rule that matches
 * and carries it decides; `a` rules reset to allow-all/deny-all. */
static bool model_allows(const struct oci_device_cgroup *rules, size_t n, char type,
                         unsigned access, unsigned major, unsigned minor)
{
  static const struct {
    unsigned bpf;
    char c;
  } bits[] = {{BPF_DEVCG_ACC_READ, 'r'}, {BPF_DEVCG_ACC_WRITE, 'w'}, {BPF_DEVCG_ACC_MKNOD, 'm'}};
  for (size_t b = 0; b < 3; b++) {
    if (!(access & bits[b].bpf))
      continue;
    bool allow = false;
    for (size_t i = 0; i < n; i++) {
      const struct oci_device_cgroup *d = &rules[i];
      if (d->type == 'a') {
        allow = d->allow;
        continue;
      }
      if (d->type == type && (!d->has_major || d->major < 0 || d->major == major) &&
          (!d->has_minor || d->minor < 0 || d->minor == minor) &&
          strchr(d->access ? d->access : "rwm", bits[b].c))
        allow = d->allow;
    }
    if (!allow)
      return false;
  }
  return true;
}

#define DEV(al, t, ma, mi, acc)                                                                    \
  {                                                                                                \
    .allow = (al), .type = (t), .has_major = (ma) >= 0, .major = (ma), .has_minor = (mi) >= 0,     \
    .minor = (mi), .access = (acc)                                                                 \
  }

static const struct oci_device_cgroup rules_docker[] = {
    DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', -1, -1, "m"),   DEV(true, 'b', -1, -1, "m"),
    DEV(true, 'c', 1, 3, "rwm"),    DEV(true, 'c', 1, 5, "rwm"),   DEV(true, 'c', 5, 0, "rwm"),
    DEV(true, 'c', 136, -1, "rwm"), DEV(true, 'c', 10, 200, "rwm")};
static const struct oci_device_cgroup rules_allow_but_w[] = {DEV(true, 'a', -1, -1, "rwm"),
                                                             DEV(false, 'c', 1, 3, "w")};
static const struct oci_device_cgroup rules_hole[] = {
    DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 136, -1, "rwm"), DEV(false, 'c', 136, 1, "w")};
static const struct oci_device_cgroup rules_per_bit[] = {
    DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 1, 3, "r"), DEV(true, 'c', 1, 3, "w")};
static const struct oci_device_cgroup rules_later_deny[] = {
    DEV(true, 'c', 1, 3, "r"), DEV(true, 'c', 1, 5, "rw"), DEV(false, 'c', -1, -1, "r")};
static const struct oci_device_cgroup rules_block[] = {
    DEV(true, 'a', -1, -1, "rwm"), DEV(false, 'b', 8, -1, "rwm"), DEV(true, 'b', 8, 0, "r"),
    DEV(true, 'b', 8, 1, "")};
static const struct oci_device_cgroup rules_reset_late[] = {DEV(true, 'c', 1, 3, "rwm"),
                                                            DEV(false, 'a', -1, -1, "r")};
static const struct oci_device_cgroup rules_big_numbers[] = {
    DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 4095, 1048575, "rw"),
    DEV(true, 'b', 2147483648LL, 4294967295LL, "r")};

static const struct {
  const char *name;
  const struct oci_device_cgroup *v;
  size_t n;
} rule_lists[] = {
    {"empty", NULL, 0},
    {"docker", rules_docker, ARRAY_SIZE(rules_docker)},
    {"allow_but_w", rules_allow_but_w, ARRAY_SIZE(rules_allow_but_w)},
    {"hole", rules_hole, ARRAY_SIZE(rules_hole)},
    {"per_bit", rules_per_bit, ARRAY_SIZE(rules_per_bit)},
    {"later_deny", rules_later_deny, ARRAY_SIZE(rules_later_deny)},
    {"block", rules_block, ARRAY_SIZE(rules_block)},
    {"reset_late", rules_reset_late, ARRAY_SIZE(rules_reset_late)},
    {"big_numbers", rules_big_numbers, ARRAY_SIZE(rules_big_numbers)},
};

TEST(cgroup_bpf_device_filter_semantics)
{
  static const unsigned majors[] = {1, 5, 8, 10, 136, 254, 4095, 2147483648U};
  static const unsigned minors[] = {0, 1, 3, 5, 200, 1048575, 4294967295U};
  for (size_t l = 0; l < ARRAY_SIZE(rule_lists); l++) {
    struct bpf_insn *p = NULL;
    size_t n = 0;
    nook_error_t e = NULL;
    if (!ok(cg_devices_bpf_build(rule_lists[l].v, rule_lists[l].n, &p, &n, &e), &e)) {
      CHECK(!"build");
      continue;
    }
    CHECK(n >= 2 && n < 8 + 10 * (rule_lists[l].n + 1));
    int wrong = 0;
    for (int t = 0; t < 2; t++)
      for (size_t a = 1; a < 8; a++)
        for (size_t ma = 0; ma < ARRAY_SIZE(majors); ma++)
          for (size_t mi = 0; mi < ARRAY_SIZE(minors); mi++) {
            unsigned type = t ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
            int got = bpf_run(p, n, type, (unsigned)a, majors[ma], minors[mi]);
            bool want = model_allows(rule_lists[l].v, rule_lists[l].n, t ? 'c' : 'b', (unsigned)a,
                                     majors[ma], minors[mi]);
            if (got != (want ? 1 : 0) && wrong++ < 3)
              fprintf(stderr, "  %s: %c %u:%u access %zu: program %d, want %d\n",
                      rule_lists[l].name, t ? 'c' : 'b', majors[ma], minors[mi], a, got, want);
          }
    CHECK(wrong == 0);
    free(p);
  }
  /* Spot checks of the meaning itself. */
  const unsigned R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
  const unsigned C = BPF_DEVCG_DEV_CHAR;
  CHECK(model_allows(rules_hole, 3, 'c', R, 136, 1) &&
        !model_allows(rules_hole, 3, 'c', R | W, 136, 1));
  CHECK(model_allows(rules_per_bit, 3, 'c', R | W, 1, 3) &&
        !model_allows(rules_per_bit, 3, 'c', M, 1, 3));
  CHECK(!model_allows(rules_later_deny, 3, 'c', R, 1, 3) &&
        model_allows(rules_later_deny, 3, 'c', W, 1, 5));
  CHECK(!model_allows(rules_reset_late, 2, 'c', W, 1, 3));
  struct bpf_insn *p;
  size_t n;
  nook_error_t e = NULL;
  CHECK(ok(cg_devices_bpf_build(NULL, 0, &p, &n, &e), &e));
  CHECK(n == 2 && bpf_run(p, n, C, R, 1, 3) == 0); /* deny all, two instructions */
  free(p);
  struct oci_device_cgroup bad[] = {DEV(true, 'c', 1, 3, "rwx")};
  CHECK(err_has(cg_devices_bpf_build(bad, 1, &p, &n, &e), &e, "devices[0].access: invalid `rwx`"));
  bad[0].access = "r";
  bad[0].type = 'x';
  CHECK(err_has(cg_devices_bpf_build(bad, 1, &p, &n, &e), &e, "devices[0].type: invalid `x`"));
}

TEST(cgroup_bpf_device_filter_loads)
{
  if (geteuid() != 0)
    SKIP("needs root for bpf(BPF_PROG_LOAD)");
  /* The verifier accepts every program the generator makes. */
  for (size_t l = 0; l < ARRAY_SIZE(rule_lists); l++) {
    struct bpf_insn *p = NULL;
    size_t n = 0;
    nook_error_t e = NULL;
    CHECK(ok(cg_devices_bpf_build(rule_lists[l].v, rule_lists[l].n, &p, &n, &e), &e));
    int fd = cg_devices_bpf_load(p, n, &e);
    if (!ok(fd, &e))
      fprintf(stderr, "  (rule list %s)\n", rule_lists[l].name);
    CHECK(fd >= 0);
    if (fd >= 0) {
      CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
      close(fd);
    }
    free(p);
  }
  /* A program the verifier refuses: its reason is in the error. */
  struct bpf_insn bad[] = {{.code = BPF_JMP | BPF_EXIT}};
  nook_error_t e = NULL;
  CHECK(err_has(cg_devices_bpf_load(bad, 1, &e), &e,
                "the kernel refused the device filter (1 instructions): R0 !read_ok"));
}

/* ---- live: the device filter, resources, stats, OOM ---- */

/* A child that waits until the parent has moved it into `dir`, runs fn and
 * exits with its result (0 or an errno). */
static int in_cgroup(const char *dir, int (*fn)(const void *), const void *arg)
{
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(pfd[1]);
    _exit(read(pfd[0], &c, 1) == 1 ? fn(arg) : 255);
  }
  close(pfd[0]);
  nook_error_t e = NULL;
  bool entered = ok(cg_enter(dir, pid, &e), &e);
  if (entered && write(pfd[1], "x", 1) != 1)
    entered = false;
  close(pfd[1]);
  int st;
  waitpid(pid, &st, 0);
  return entered && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct dev_try {
  const char *path;
  int flags;
};

static int try_open(const void *arg)
{
  const struct dev_try *t = arg;
  int fd = open(t->path, t->flags | O_CLOEXEC);
  if (fd < 0)
    return errno;
  close(fd);
  return 0;
}

static int try_mknod(const void *arg)
{
  if (mknod((const char *)arg, S_IFCHR | 0600, makedev(1, 3)) < 0)
    return errno;
  unlink((const char *)arg);
  return 0;
}

static int opens(const char *dir, const char *path, int flags)
{
  struct dev_try t = {path, flags};
  return in_cgroup(dir, try_open, &t);
}

/* The program, attached to a cgroup v2 directory, decides for real: on
 * this hybrid host the unified hierarchy has no controllers, but device
 * programs attach to any v2 cgroup; in the VM it is the container's. */
TEST(cgroup_live_bpf_devices)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&mode, &e), &e));
  const struct cgroup_manager *m = cgroup_manager_for(mode);
  char path[64], node[64];
  snprintf(path, sizeof(path), "nook-unit-%d/bpf", (int)getpid());
  struct cgroup_paths p;
  if (!ok(m->create(path, "x", &p, &e), &e) || p.unified == NULL) {
    CHECK(!"create");
    return;
  }
  char tmp[] = "/tmp/nook-unit-bpf-XXXXXX";
  CHECK(mkdtemp(tmp) != NULL);
  snprintf(node, sizeof(node), "%s/null", tmp);

  struct oci_device_cgroup r1[] = {DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 1, 3, "rw")};
  struct oci_resources r = {.devices = r1, .n_devices = ARRAY_SIZE(r1)};
  CHECK(ok(cg2_apply_devices(p.unified, &r, &e), &e));
  size_t total = 0, mine = 0;
  CHECK(ok(cg_devices_bpf_count(p.unified, &total, &mine, &e), &e));
  CHECK(total == 1 && mine == 1);
  CHECK_INT_EQ(opens(p.unified, "/dev/null", O_RDWR), 0);
  CHECK_INT_EQ(opens(p.unified, "/dev/zero", O_RDONLY), EPERM);
  CHECK_INT_EQ(in_cgroup(p.unified, try_mknod, node), EPERM);
  /* Outside the cgroup nothing changed. */
  CHECK(try_open(&(struct dev_try){"/dev/zero", O_RDONLY}) == 0);

  /* An update replaces nook's program: still one, with the new rules
   * (a deny after an allow takes the write bit back). */
  struct oci_device_cgroup r2[] = {DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 1, 3, "rwm"),
                                   DEV(true, 'c', 1, 5, "r"), DEV(false, 'c', 1, 3, "w")};
  r.devices = r2;
  r.n_devices = ARRAY_SIZE(r2);
  CHECK(ok(cg2_apply_devices(p.unified, &r, &e), &e));
  CHECK(ok(cg_devices_bpf_count(p.unified, &total, &mine, &e), &e));
  CHECK(total == 1 && mine == 1);
  CHECK_INT_EQ(opens(p.unified, "/dev/null", O_RDONLY), 0);
  CHECK_INT_EQ(opens(p.unified, "/dev/null", O_WRONLY), EPERM);
  CHECK_INT_EQ(opens(p.unified, "/dev/zero", O_RDONLY), 0);
  CHECK_INT_EQ(opens(p.unified, "/dev/zero", O_RDWR), EPERM);
  CHECK_INT_EQ(in_cgroup(p.unified, try_mknod, node), 0);

  /* Allow-all with one exception. */
  struct oci_device_cgroup r3[] = {DEV(true, 'a', -1, -1, "rwm"), DEV(false, 'c', 1, 5, "rwm")};
  r.devices = r3;
  r.n_devices = ARRAY_SIZE(r3);
  CHECK(ok(cg2_apply_devices(p.unified, &r, &e), &e));
  CHECK_INT_EQ(opens(p.unified, "/dev/null", O_RDWR), 0);
  CHECK_INT_EQ(opens(p.unified, "/dev/zero", O_RDONLY), EPERM);

  CHECK(ok(m->destroy(&p, &e), &e));
  cgroup_paths_clear(&p);
  rmdir(tmp);
}

/* A child in the container's cgroups that holds `mib` MiB of touched
 * memory until killed; returns once the memory is in use (and charged
 * there: v1 does not move charges with a task). */
static pid_t spawn_holder(const struct cgroup_manager *m, const struct cgroup_paths *p, size_t mib)
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
  if (!ok(m->enter(p, pid, &e), &e) || write(pfd[1], "x", 1) != 1 || read(rfd[0], &c, 1) != 1) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pid = -1;
  }
  close(pfd[1]);
  close(rfd[0]);
  return pid;
}

static void stop_child(pid_t pid)
{
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
}

static bool file_has(const char *dir, const char *file, const char *needle)
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

/* The first real block device: "MAJ:MIN" of /sys/block/<dev>/dev. */
static bool block_device(char *out, size_t size)
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

static void dev_numbers(const char *s, int64_t *major, int64_t *minor)
{
  long long a = 0, b = 0;
  sscanf(s, "%lld:%lld", &a, &b);
  *major = a;
  *minor = b;
}

/* Every v1 field on this hybrid host: written to its file (read back), or
 * an error naming field and file where the host cannot apply it. */
TEST(cgroup_live_resources_v1)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  if (host_is_v2())
    SKIP("no cgroup v1 hierarchy on a pure cgroup v2 host");
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_HYBRID);
  nook_error_t e = NULL;
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/res1", (int)getpid());
  struct cgroup_paths p;
  if (!ok(m->create(path, "x", &p, &e), &e)) {
    CHECK(!"create");
    return;
  }
  const char *mem = cg_v1_dir(&p, "memory"), *cpu = cg_v1_dir(&p, "cpu");
  const char *blk = cg_v1_dir(&p, "blkio");
  CHECK(mem && cpu && blk && p.unified);
  if (!(mem && cpu && blk && p.unified))
    goto out;

  /* memory */
  struct oci_resources r = {0};
  r.has_memory = true;
  r.memory = (struct oci_memory){.has_limit = true,
                                 .limit = 256 << 20,
                                 .has_kernel_tcp = true,
                                 .kernel_tcp = 16 << 20,
                                 .has_swappiness = true,
                                 .swappiness = 30,
                                 .has_disable_oom_killer = true,
                                 .disable_oom_killer = true,
                                 .has_use_hierarchy = true,
                                 .use_hierarchy = true,
                                 .has_kernel = true,
                                 .kernel = -1};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(mem, "memory.limit_in_bytes", "268435456"));
  CHECK(file_is(mem, "memory.kmem.tcp.limit_in_bytes", "16777216"));
  CHECK(file_is(mem, "memory.swappiness", "30"));
  CHECK(file_has(mem, "memory.oom_control", "oom_kill_disable 1"));
  CHECK(file_is(mem, "memory.use_hierarchy", "1"));
  r.memory = (struct oci_memory){.has_disable_oom_killer = true};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_has(mem, "memory.oom_control", "oom_kill_disable 0"));
  /* Kernel memory limits: the file is gone, or (6.x) there but ignored. */
  r.memory = (struct oci_memory){.has_kernel = true, .kernel = 64 << 20};
  int ret = m->apply(&p, &r, &e);
  CHECK(ret < 0 && e && strstr(e->msg, "linux.resources.memory.kernel: ") &&
        strstr(e->msg, "memory.kmem.limit_in_bytes"));
  nook_error_free(&e);
  r.memory = (struct oci_memory){.has_use_hierarchy = true, .use_hierarchy = false};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.memory.useHierarchy"));
  r.memory = (struct oci_memory){.has_swappiness = true, .swappiness = 101};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "memory.swappiness: 101 is not in 0-100"));
  /* checkBeforeUpdate: a limit below what the cgroup uses is refused. */
  pid_t holder = spawn_holder(m, &p, 24);
  CHECK(holder > 0);
  r.memory = (struct oci_memory){.has_limit = true,
                                 .limit = 4 << 20,
                                 .has_check_before_update = true,
                                 .check_before_update = true};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "is below the current usage"));
  CHECK(file_is(mem, "memory.limit_in_bytes", "268435456"));
  stop_child(holder);
  r.has_memory = false;

  /* cpu */
  r.has_cpu = true;
  r.cpu = (struct oci_cpu){.has_shares = true,
                           .shares = 512,
                           .has_quota = true,
                           .quota = 50000,
                           .has_period = true,
                           .period = 100000,
                           .has_burst = true,
                           .burst = 10000,
                           .has_realtime_period = true,
                           .realtime_period = 1000000,
                           .has_realtime_runtime = true,
                           .realtime_runtime = 10000};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(cpu, "cpu.shares", "512"));
  CHECK(file_is(cpu, "cpu.cfs_quota_us", "50000"));
  CHECK(file_is(cpu, "cpu.cfs_burst_us", "10000"));
  CHECK(file_is(cpu, "cpu.rt_period_us", "1000000"));
  CHECK(file_is(cpu, "cpu.rt_runtime_us", "10000"));
  /* The prefix nook created got the realtime budget its child needs. */
  cleanup_free char *prefix = xstrdup(cpu);
  *strrchr(prefix, '/') = '\0';
  CHECK(file_is(prefix, "cpu.rt_runtime_us", "10000"));
  r.cpu = (struct oci_cpu){.has_quota = true, .quota = 20000, .has_burst = true, .burst = 30000};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.cpu.burst: 30000 is above cpu.quota"));
  /* A burst above the old quota goes after the new, larger quota. */
  r.cpu = (struct oci_cpu){.has_quota = true, .quota = 200000, .has_burst = true, .burst = 150000};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(cpu, "cpu.cfs_burst_us", "150000"));
  r.cpu = (struct oci_cpu){.has_idle = true, .idle = 1};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(cpu, "cpu.idle", "1"));
  r.cpu = (struct oci_cpu){.has_idle = true, .idle = 0, .has_realtime_runtime = true};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(cpu, "cpu.idle", "0"));
  CHECK(file_is(cpu, "cpu.rt_runtime_us", "0"));
  r.has_cpu = false;

  /* blkio: throttling works whatever the scheduler; weights need CFQ or BFQ
   * group scheduling, which this kernel may not have. */
  char dev[32];
  r.has_blockio = true;
  if (block_device(dev, sizeof(dev))) {
    struct oci_throttle_device rbps = {.rate = 1 << 20}, wiops = {.rate = 100};
    dev_numbers(dev, &rbps.major, &rbps.minor);
    wiops.major = rbps.major;
    wiops.minor = rbps.minor;
    r.blockio = (struct oci_blockio){.throttle_read_bps = &rbps,
                                     .n_throttle_read_bps = 1,
                                     .throttle_write_iops = &wiops,
                                     .n_throttle_write_iops = 1};
    char want[64];
    CHECK(ok(m->apply(&p, &r, &e), &e));
    snprintf(want, sizeof(want), "%s 1048576", dev);
    CHECK(file_is(blk, "blkio.throttle.read_bps_device", want));
    snprintf(want, sizeof(want), "%s 100", dev);
    CHECK(file_is(blk, "blkio.throttle.write_iops_device", want));
  } else {
    printf("  skip: blkio throttling: no block device found\n");
  }
  r.blockio = (struct oci_blockio){.has_weight = true, .weight = 500};
  ret = m->apply(&p, &r, &e);
  char wfile[PATH_MAX];
  snprintf(wfile, sizeof(wfile), "%s/blkio.weight", blk);
  bool cfq = access(wfile, F_OK) == 0;
  snprintf(wfile, sizeof(wfile), "%s/blkio.bfq.weight", blk);
  bool bfq = access(wfile, F_OK) == 0;
  if (cfq || bfq) {
    CHECK(ok(ret, &e));
    CHECK(file_has(blk, cfq ? "blkio.weight" : "blkio.bfq.weight", "500"));
  } else {
    CHECK(ret < 0 && e && strstr(e->msg, "linux.resources.blockIO.weight: ") &&
          strstr(e->msg, "blkio.weight") && strstr(e->msg, "blkio.bfq.weight"));
    nook_error_free(&e);
  }
  r.blockio = (struct oci_blockio){.has_leaf_weight = true, .leaf_weight = 300};
  if (!cfq)
    CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.blockIO.leafWeight: "));
  r.has_blockio = false;

  /* Controllers this host does not have, as v1 or v2. */
  r.has_network = true;
  r.network = (struct oci_network_resources){.has_class_id = true, .class_id = 0x100001};
  if (!cg_v1_dir(&p, "net_cls"))
    CHECK(err_has(m->apply(&p, &r, &e), &e,
                  "linux.resources.network.classID: cannot write net_cls.classid: the net_cls "
                  "controller is not available here"));
  struct oci_net_priority prio = {.name = "eth0", .priority = 5};
  r.network = (struct oci_network_resources){.priorities = &prio, .n_priorities = 1};
  if (!cg_v1_dir(&p, "net_prio"))
    CHECK(err_has(m->apply(&p, &r, &e), &e,
                  "linux.resources.network.priorities: cannot write net_prio.ifpriomap"));
  r.network = (struct oci_network_resources){.has_class_id = true, .class_id = 0};
  CHECK(ok(m->apply(&p, &r, &e), &e)); /* the default: nothing to write */
  r.has_network = false;
  struct oci_rdma rdma = {.device = "mlx5_0", .has_hca_handles = true, .hca_handles = 2};
  r.rdma = &rdma;
  r.n_rdma = 1;
  if (!cg_v1_dir(&p, "rdma") && !cg2_has_controller("rdma"))
    CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.rdma: cannot write rdma.max"));
  r.n_rdma = 0;

  /* hugetlb lives on the unified side here: a bad size fails before
   * anything is enabled; a good one needs the controller enabled from the
   * v2 root, which is outside this test's prefix. */
  struct oci_hugepage_limit hp = {.page_size = "3MB", .limit = 4 << 20};
  r.hugepage_limits = &hp;
  r.n_hugepage_limits = 1;
  CHECK(err_has(m->apply(&p, &r, &e), &e, "hugepageLimits[0].pageSize: `3MB`"));
  hp.page_size = "2MB";
  char sc[256] = "";
  cg_read("/sys/fs/cgroup/unified", "cgroup.subtree_control", sc, sizeof(sc), &e);
  nook_error_free(&e);
  if (cg_v1_dir(&p, "hugetlb") || strstr(sc, "hugetlb")) {
    CHECK(ok(m->apply(&p, &r, &e), &e));
    const char *d = cg_v1_dir(&p, "hugetlb");
    CHECK(file_is(d ? d : p.unified, d ? "hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max",
                  "4194304"));
  } else {
    printf("  skip: hugepageLimits 2MB on hybrid: hugetlb is not enabled at the cgroup v2 root "
           "and enabling it there is outside the test prefix\n");
  }
  r.n_hugepage_limits = 0;

  /* unified: a file of the v2 hierarchy is written there; one of a v1
   * controller is an error saying so. */
  struct oci_kv kv[] = {{"cgroup.max.depth", "3"}, {"cgroup.max.descendants", "10"}};
  r.unified = kv;
  r.n_unified = 2;
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(p.unified, "cgroup.max.depth", "3"));
  CHECK(file_is(p.unified, "cgroup.max.descendants", "10"));
  r.n_unified = 1;
  kv[0] = (struct oci_kv){"memory.high", "100M"};
  CHECK(err_has(m->apply(&p, &r, &e), &e,
                "linux.resources.unified[\"memory.high\"]: /sys/fs/cgroup/unified/"));
  kv[0] = (struct oci_kv){"memory.high", "100M"};
  ret = m->apply(&p, &r, &e);
  CHECK(ret < 0 && e && strstr(e->msg, "the memory controller is not on the cgroup v2 hierarchy"));
  nook_error_free(&e);
  kv[0] = (struct oci_kv){"../cgroup.max.depth", "3"};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "is not a plain cgroup file name"));
  /* The pure v1 manager has no unified hierarchy at all. */
  kv[0] = (struct oci_kv){"cgroup.max.depth", "3"};
  CHECK(err_has(cg1_apply(&p, &r, NULL, &e), &e, "this host has no cgroup v2 hierarchy"));
  r.n_unified = 0;
out:
  CHECK(ok(m->destroy(&p, &e), &e));
  cgroup_paths_clear(&p);
}

/* stats() of a cgroup with a child that holds memory: each figure from
 * where its controller is (v1 hierarchies, or the unified one). */
TEST(cgroup_live_stats)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&mode, &e), &e));
  const struct cgroup_manager *m = cgroup_manager_for(mode);
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/stats", (int)getpid());
  struct cgroup_paths p;
  if (!ok(m->create(path, "x", &p, &e), &e)) {
    CHECK(!"create");
    return;
  }
  struct oci_resources r = {.has_pids = true, .pids_limit = 100, .has_memory = true};
  r.memory = (struct oci_memory){.has_limit = true, .limit = 256 << 20};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  /* The holder joins every hierarchy, as a container's init does. */
  pid_t holder = spawn_holder(m, &p, 16);
  CHECK(holder > 0);
  struct cgroup_stats s;
  memset(&s, 0xff, sizeof(s)); /* stats() must start from nothing */
  CHECK(ok(m->stats(&p, &s, &e), &e));
  CHECK(s.has_cpu);
  CHECK(s.has_memory && s.mem_usage >= (8u << 20));
  CHECK_INT_EQ(s.mem_limit, 256 << 20);
  CHECK(s.n_mem_raw > 5 && s.mem_raw[0].key && s.mem_raw[0].value);
  CHECK(s.has_pids && s.pids_current >= 1);
  CHECK_INT_EQ(s.pids_limit, 100);
  if (mode == CGROUP_MODE_UNIFIED) {
    CHECK(s.cpu_usage_total > 0);
    CHECK(s.has_mem_peak && s.mem_peak >= s.mem_usage && s.mem_max_usage == s.mem_peak);
    CHECK(s.has_mem_events && s.ev_oom_kill == 0);
    CHECK(s.has_psi_cpu && s.has_psi_memory && s.has_psi_io);
    CHECK(s.psi_cpu_some.avg10 >= 0 && s.psi_cpu_some.avg10 <= 100);
  } else {
    CHECK(s.n_percpu >= 1);
    CHECK(s.mem_max_usage >= s.mem_usage);
    /* PSI comes from the unified hierarchy, which has it without any
     * controller. */
    CHECK(s.has_psi_cpu && s.has_psi_memory && s.has_psi_io);
  }
  cgroup_stats_clear(&s);
  CHECK(s.mem_raw == NULL && s.n_mem_raw == 0 && s.cpu_percpu == NULL);
  cgroup_stats_clear(&s); /* twice is fine */
  stop_child(holder);
  CHECK(ok(m->destroy(&p, &e), &e));
  /* A cgroup that is gone has no figures, and that is no error. */
  CHECK(ok(m->stats(&p, &s, &e), &e));
  CHECK(!s.has_cpu && !s.has_memory && !s.has_pids && !s.has_psi_cpu && s.n_hugetlb == 0);
  cgroup_stats_clear(&s);
  cgroup_paths_clear(&p);
}

TEST(cgroup_stats_parsers)
{
  struct cgroup_psi some = {0}, full = {0};
  CHECK_INT_EQ(cg_parse_psi("some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\n"
                            "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
                            &some, &full),
               2);
  CHECK(some.avg10 == 1.5 && some.avg60 == 0.25 && some.total == 12345 && full.total == 7);
  CHECK_INT_EQ(cg_parse_psi("garbage\n", &some, &full), 0);
  uint64_t v = 0;
  CHECK(cg_kv_u64("low 0\nhigh 2\nmax 3\noom 4\noom_kill 5\n", "oom", &v) && v == 4);
  CHECK(cg_kv_u64("low 0\nhigh 2\nmax 3\noom 4\noom_kill 5", "oom_kill", &v) && v == 5);
  CHECK(cg_kv_u64("rsvd max\n", "rsvd", &v) && v == UINT64_MAX);
  CHECK(!cg_kv_u64("oom_kill 5\n", "oom", &v));
  for (char *const *sz = cg_hugetlb_sizes(); *sz; sz++)
    CHECK(strcmp(*sz, "2MB") == 0 || strcmp(*sz, "1GB") == 0 || has_suffix(*sz, "KB") ||
          has_suffix(*sz, "MB") || has_suffix(*sz, "GB"));
}

/* oom_notify_fd() fires when the kernel OOM-kills in the cgroup. */
TEST(cgroup_live_oom_notify)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&mode, &e), &e));
  const struct cgroup_manager *m = cgroup_manager_for(mode);
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/oom", (int)getpid());
  struct cgroup_paths p;
  if (!ok(m->create(path, "x", &p, &e), &e)) {
    CHECK(!"create");
    return;
  }
  /* No swap to escape to: memory+swap equals the limit. */
  struct oci_resources r = {.has_memory = true};
  r.memory =
      (struct oci_memory){.has_limit = true, .limit = 16 << 20, .has_swap = true, .swap = 16 << 20};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  int fd = m->oom_notify_fd(&p, &e);
  CHECK(ok(fd, &e));
  struct stat sb;
  bool is_file = fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
  CHECK(is_file == (mode == CGROUP_MODE_UNIFIED));
  CHECK(fd < 0 || (fcntl(fd, F_GETFD) & FD_CLOEXEC));
  const char *memdir = cg_v1_dir(&p, "memory") ? cg_v1_dir(&p, "memory") : p.unified;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    (void)c;
    size_t len = 256u << 20;
    char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
      _exit(2);
    usleep(100000); /* until the parent has moved it */
    for (size_t i = 0; i < len; i += 4096)
      mem[i] = 1;
    _exit(0);
  }
  CHECK(ok(m->enter(&p, pid, &e), &e));
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  if (fd >= 0) {
    struct pollfd pfd = {.fd = fd, .events = is_file ? POLLPRI : POLLIN};
    CHECK(poll(&pfd, 1, 5000) == 1);
    if (is_file) {
      struct cgroup_stats s;
      CHECK(ok(m->stats(&p, &s, &e), &e));
      CHECK(s.has_mem_events && s.ev_oom_kill >= 1 && s.ev_oom >= 1);
      cgroup_stats_clear(&s);
    } else {
      uint64_t n = 0;
      CHECK(read(fd, &n, sizeof(n)) == sizeof(n) && n >= 1);
      CHECK(file_has(memdir, "memory.oom_control", "oom_kill 1"));
    }
    close(fd);
  }
  CHECK(ok(m->destroy(&p, &e), &e));
  cgroup_paths_clear(&p);
}

/* Every field on pure cgroup v2 (the test VM): written to its v2 file, or
 * an error naming the field and the v1 file v2 has no equivalent of. */
TEST(cgroup_live_resources_v2)
{
  if (!live_ok())
    SKIP("needs root and a cgroup filesystem");
  if (!host_is_v2())
    SKIP("pure cgroup v2 only (run it in the VM: tests/vm/run build/tests/test_cgroup)");
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_UNIFIED);
  nook_error_t e = NULL;
  char path[64];
  snprintf(path, sizeof(path), "nook-unit-%d/res2", (int)getpid());
  struct cgroup_paths p;
  if (!ok(m->create(path, "x", &p, &e), &e)) {
    CHECK(!"create");
    return;
  }
  const char *d = p.unified;
  struct oci_device_cgroup devs[] = {DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 1, 3, "rwm")};
  struct oci_resources r = {.devices = devs, .n_devices = ARRAY_SIZE(devs)};
  r.has_memory = true;
  r.memory = (struct oci_memory){.has_limit = true,
                                 .limit = 64 << 20,
                                 .has_reservation = true,
                                 .reservation = 32 << 20,
                                 .has_swap = true,
                                 .swap = 96 << 20,
                                 .has_kernel = true,
                                 .kernel = -1,
                                 .has_use_hierarchy = true,
                                 .use_hierarchy = true,
                                 .has_disable_oom_killer = true,
                                 .disable_oom_killer = false};
  r.has_cpu = true;
  r.cpu = (struct oci_cpu){.has_shares = true,
                           .shares = 1024,
                           .has_quota = true,
                           .quota = 50000,
                           .has_period = true,
                           .period = 100000,
                           .has_burst = true,
                           .burst = 10000,
                           .cpus = "0",
                           .mems = "0"};
  r.has_pids = true;
  r.pids_limit = 42;
  struct oci_hugepage_limit hp = {.page_size = "2MB", .limit = 4 << 20};
  r.hugepage_limits = &hp;
  r.n_hugepage_limits = 1;
  struct oci_kv kv[] = {{"memory.high", "50331648"}, {"pids.max", "43"}};
  r.unified = kv;
  r.n_unified = ARRAY_SIZE(kv);
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(d, "memory.max", "67108864"));
  CHECK(file_is(d, "memory.low", "33554432"));
  CHECK(file_is(d, "memory.swap.max", "33554432"));
  CHECK(file_is(d, "memory.high", "50331648"));
  CHECK(file_is(d, "cpu.weight", "39"));
  CHECK(file_is(d, "cpu.max", "50000 100000"));
  CHECK(file_is(d, "cpu.max.burst", "10000"));
  CHECK(file_is(d, "cpuset.cpus", "0"));
  CHECK(file_is(d, "pids.max", "43")); /* unified goes last and wins */
  CHECK(file_is(d, "hugetlb.2MB.max", "4194304"));
  char rsvd[PATH_MAX];
  snprintf(rsvd, sizeof(rsvd), "%s/hugetlb.2MB.rsvd.max", d);
  if (access(rsvd, F_OK) == 0)
    CHECK(file_is(d, "hugetlb.2MB.rsvd.max", "4194304"));
  size_t total = 0, mine = 0;
  CHECK(ok(cg_devices_bpf_count(d, &total, &mine, &e), &e));
  CHECK(total == 1 && mine == 1);
  CHECK_INT_EQ(opens(d, "/dev/null", O_RDWR), 0);
  CHECK_INT_EQ(opens(d, "/dev/zero", O_RDONLY), EPERM);
  /* The device filter is replaced, not stacked, on update. */
  r.n_devices = 0;
  r.has_memory = r.has_cpu = r.has_pids = false;
  r.n_hugepage_limits = r.n_unified = 0;
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(ok(cg_devices_bpf_count(d, &total, &mine, &e), &e));
  CHECK(total == 1 && mine == 1);
  CHECK_INT_EQ(opens(d, "/dev/null", O_RDONLY), EPERM);
  r.devices = devs;
  r.n_devices = ARRAY_SIZE(devs);

  r.has_cpu = true;
  r.cpu = (struct oci_cpu){.has_idle = true, .idle = 1};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(d, "cpu.idle", "1"));
  r.cpu = (struct oci_cpu){.has_idle = true, .idle = 0, .has_quota = true, .quota = -1};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  CHECK(file_is(d, "cpu.idle", "0"));
  CHECK(file_is(d, "cpu.max", "max 100000"));
  r.cpu = (struct oci_cpu){.has_realtime_runtime = true, .realtime_runtime = 10000};
  CHECK(err_has(m->apply(&p, &r, &e), &e,
                "linux.resources.cpu.realtimeRuntime: cgroup v2 has "
                "no realtime group scheduling (no cpu.rt_runtime_us"));
  r.cpu = (struct oci_cpu){.has_realtime_runtime = true, .realtime_runtime = 0};
  CHECK(ok(m->apply(&p, &r, &e), &e)); /* the default */
  r.cpu = (struct oci_cpu){.has_quota = true, .quota = 20000, .has_burst = true, .burst = 30000};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.cpu.burst: 30000 is above"));
  r.has_cpu = false;

  r.has_memory = true;
  static const struct {
    struct oci_memory m;
    const char *want;
  } bad_mem[] = {
      {{.has_swappiness = true, .swappiness = 10}, "memory.swappiness: cgroup v2 has no"},
      {{.has_disable_oom_killer = true, .disable_oom_killer = true},
       "disableOOMKiller: cgroup v2 cannot disable the OOM killer (no memory.oom_control)"},
      {{.has_kernel = true, .kernel = 1 << 26},
       "memory.kernel: cgroup v2 has no kernel memory "
       "limit (no memory.kmem.limit_in_bytes)"},
      {{.has_kernel_tcp = true, .kernel_tcp = 1 << 26}, "memory.kmem.tcp.limit_in_bytes"},
      {{.has_use_hierarchy = true, .use_hierarchy = false}, "memory.use_hierarchy"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad_mem); i++) {
    r.memory = bad_mem[i].m;
    CHECK(err_has(m->apply(&p, &r, &e), &e, bad_mem[i].want));
  }
  /* checkBeforeUpdate: v2 would reclaim and OOM-kill; nook refuses. */
  r.memory = (struct oci_memory){.has_limit = true, .limit = 256 << 20};
  CHECK(ok(m->apply(&p, &r, &e), &e));
  pid_t holder = spawn_holder(m, &p, 24);
  CHECK(holder > 0);
  r.memory = (struct oci_memory){.has_limit = true,
                                 .limit = 4 << 20,
                                 .has_check_before_update = true,
                                 .check_before_update = true};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "is below the current usage"));
  CHECK(file_is(d, "memory.max", "268435456"));
  stop_child(holder);
  r.has_memory = false;

  r.has_network = true;
  r.network = (struct oci_network_resources){.has_class_id = true, .class_id = 7};
  CHECK(err_has(m->apply(&p, &r, &e), &e,
                "network.classID: cgroup v2 has no net_cls controller, "
                "so net_cls.classid"));
  struct oci_net_priority prio = {.name = "eth0", .priority = 5};
  r.network = (struct oci_network_resources){.priorities = &prio, .n_priorities = 1};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "net_prio.ifpriomap"));
  r.has_network = false;

  r.has_blockio = true;
  r.blockio = (struct oci_blockio){.has_leaf_weight = true, .leaf_weight = 100};
  CHECK(err_has(m->apply(&p, &r, &e), &e, "blockIO.leafWeight: cgroup v2 has no leaf weight"));
  char dev[32];
  if (block_device(dev, sizeof(dev))) {
    struct oci_throttle_device rbps = {.rate = 1 << 20}, wiops = {.rate = 100};
    dev_numbers(dev, &rbps.major, &rbps.minor);
    wiops.major = rbps.major;
    wiops.minor = rbps.minor;
    r.blockio = (struct oci_blockio){.throttle_read_bps = &rbps,
                                     .n_throttle_read_bps = 1,
                                     .throttle_write_iops = &wiops,
                                     .n_throttle_write_iops = 1};
    CHECK(ok(m->apply(&p, &r, &e), &e));
    char want[96];
    snprintf(want, sizeof(want), "%s rbps=1048576 wbps=max riops=max wiops=100", dev);
    CHECK(file_is(d, "io.max", want));
  } else {
    printf("  skip: io.max: no block device in this machine (/sys/block has none of vda, sda, "
           "nvme0n1, xvda, vdb, ram0)\n");
  }
  /* BFQ's weight as is, else io.weight (iocost) converted. */
  r.blockio = (struct oci_blockio){.has_weight = true, .weight = 500};
  snprintf(rsvd, sizeof(rsvd), "%s/io.bfq.weight", d);
  bool bfq = access(rsvd, F_OK) == 0;
  snprintf(rsvd, sizeof(rsvd), "%s/io.weight", d);
  if (bfq || access(rsvd, F_OK) == 0) {
    CHECK(ok(m->apply(&p, &r, &e), &e));
    CHECK(file_has(d, bfq ? "io.bfq.weight" : "io.weight", bfq ? "default 500" : "default 4950"));
  } else {
    CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.blockIO.weight: "));
  }
  r.has_blockio = false;

  struct oci_kv bad_kv[] = {{"nonexistent.file", "1"}};
  r.unified = bad_kv;
  r.n_unified = 1;
  CHECK(err_has(m->apply(&p, &r, &e), &e, "linux.resources.unified[\"nonexistent.file\"]: "));
  bad_kv[0].key = "../pids.max";
  CHECK(err_has(m->apply(&p, &r, &e), &e, "is not a plain cgroup file name"));
  r.n_unified = 0;

  CHECK(ok(m->destroy(&p, &e), &e));
  cgroup_paths_clear(&p);
}
