/* cgroups/: mode detection, cgroupsPath resolution against fake
 * /proc/self/cgroup and mountinfo text, the persisted form, and a live run
 * on this host (root) under a private prefix "nook-unit-<pid>": create,
 * enter, pids, freeze/thaw, kill, apply, destroy.  Nothing outside the
 * prefix is touched. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cgroups/cgroup.h"
#include "../../cgroups/internal.h"
#include "../../libcontainer/utils.h"

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

TEST(cgroup_detect_mode_hybrid)
{
  enum cgroup_mode m;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_detect_mode(&m, &e), &e));
  /* This host (notes/host.md): v1 hierarchies plus cgroup2 at unified. */
  CHECK(m == CGROUP_MODE_HYBRID);
  CHECK(strcmp(cgroup_manager_for(m)->name, "hybrid") == 0);
  CHECK(strcmp(cgroup_manager_for(CGROUP_MODE_LEGACY)->name, "v1") == 0);
  CHECK(strcmp(cgroup_manager_for(CGROUP_MODE_UNIFIED)->name, "v2") == 0);
  const struct cg_host *h;
  CHECK(ok(cg_host_get(&h, &e), &e));
  CHECK(h->has_unified && strcmp(h->unified.mountpoint, "/sys/fs/cgroup/unified") == 0);
  CHECK(h->n_v1 >= 8);
  const struct cg_host *again;
  CHECK(ok(cg_host_get(&again, &e), &e) && again == h);
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

  CHECK(ok(m->freeze(&q, true, &e), &e));
  CHECK(!counter_moves(ctr));
  if (q.unified)
    CHECK(file_is(q.unified, "cgroup.freeze", "1"));
  CHECK(ok(m->freeze(&q, false, &e), &e));
  CHECK(counter_moves(ctr));

  /* The v1 freezer, when there is one (hybrid uses the unified one). */
  const char *freezer = cg_v1_dir(&q, "freezer");
  if (freezer) {
    CHECK(ok(cg1_freeze(freezer, true, &e), &e));
    CHECK(file_is(freezer, "freezer.state", "FROZEN"));
    CHECK(!counter_moves(ctr));
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
  CHECK(err_has(cg1_apply_cpu(tmp, &cpu, &e), &e, "(CFS bandwidth control"));
  rmdir(tmp);
}
