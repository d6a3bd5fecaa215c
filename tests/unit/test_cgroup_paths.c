/* cgroups/ without a live cgroup: mode detection, cgroupsPath parsing and
 * resolution against fake /proc/self/cgroup and mountinfo text, the
 * persisted form, and the pure conversions, checks and parsers.  The live
 * tests are in test_cgroup_live.c, _v1.c and _v2.c. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_fixture.h"

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
  CHECK(rejected("system.slice:nook:ctr", "pass --systemd-cgroup"));
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

/* ---- errors that name the field, on an empty directory ---- */

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

/* ---- stats ---- */

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

/* ---- which cgroups a create made ---- */

TEST(cgroup_paths_fresh)
{
  char *dirs[] = {"/cg/memory/c", "/cg/pids/c", NULL};
  unsigned made[] = {1, 2};
  struct cgroup_paths p = {.mode = CGROUP_MODE_HYBRID,
                           .unified = "/cg/unified/c",
                           .v1_dirs = dirs,
                           .v1_created = made,
                           .unified_created = 1};
  CHECK(cgroup_paths_fresh(&p));
  made[1] = 0; /* pids' leaf existed: someone may be in it */
  CHECK(!cgroup_paths_fresh(&p));
  made[1] = 1;
  p.unified_created = 0;
  CHECK(!cgroup_paths_fresh(&p));
  p.unified = NULL; /* no v2 hierarchy */
  CHECK(cgroup_paths_fresh(&p));
  p.v1_created = NULL; /* systemd's scope: systemd made it, not nook */
  CHECK(!cgroup_paths_fresh(&p));
  struct cgroup_paths none = {0};
  CHECK(!cgroup_paths_fresh(&none));
}
