/* The cgroups/ APIs that other layers used to do by hand, without a live
 * cgroup: the container's /sys/fs/cgroup mount plan from fake
 * /proc/self/cgroup and mountinfo text, and `exec --cgroup` sub-cgroup
 * specs applied to a container's paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_fixture.h"

/* A hybrid host as systemd lays it out (this host), plus a joined
 * cpu,cpuacct, a hierarchy mounted from below its root and one mounted
 * outside /sys/fs/cgroup. */
static const char self_hybrid[] = "12:net_cls,net_prio:/\n"
                                  "11:perf_event:/docker/x/sub\n"
                                  "9:name=systemd:/user.slice/ctr\n"
                                  "8:pids:/ctr\n"
                                  "4:memory:/process_api/8e87/ctr\n"
                                  "1:cpu,cpuacct:/\n"
                                  "13:rdma:/\n"
                                  "0::/ctr\n";
static const char mi_hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "43 31 0:40 /docker/x /sys/fs/cgroup/perf_event rw - cgroup cgroup rw,perf_event\n"
    "50 22 0:39 / /mnt/other/net_cls rw - cgroup cgroup rw,net_cls,net_prio\n";

static const struct cgroup_mount *mount_at(const struct cgroup_mount_plan *p, const char *dir)
{
  for (size_t i = 0; i < p->n; i++)
    if (p->mounts[i].dir && strcmp(p->mounts[i].dir, dir) == 0)
      return &p->mounts[i];
  return NULL;
}

static bool options_are(const struct cgroup_mount *m, const char *want)
{
  char buf[256] = "";
  for (size_t i = 0; m && m->options && m->options[i]; i++) {
    if (i > 0)
      strcat(buf, ",");
    strcat(buf, m->options[i]);
  }
  if (strcmp(buf, want) != 0)
    printf("  options: got `%s`, want `%s`\n", buf, want);
  return m != NULL && strcmp(buf, want) == 0;
}

/* ---- mount plan ---- */

TEST(cgroup_mount_plan_hybrid_bind)
{
  struct cgroup_mount_plan p;
  nook_error_t e = NULL;
  CHECK(
      ok(cgroup_mount_plan_build(CGROUP_MODE_HYBRID, false, false, self_hybrid, mi_hybrid, &p, &e),
         &e));
  CHECK(p.tmpfs);
  /* Not mounted (rdma) or not right below /sys/fs/cgroup (net_cls): left
   * out; the unified hierarchy comes last. */
  CHECK_INT_EQ(p.n, 6);
  CHECK(mount_at(&p, "net_cls,net_prio") == NULL && mount_at(&p, "rdma") == NULL);
  CHECK_STR_EQ(p.mounts[p.n - 1].dir, "unified");
  const struct cgroup_mount *m = mount_at(&p, "memory");
  CHECK(m && !m->v2 && m->options == NULL);
  CHECK_STR_EQ(m ? m->bind : NULL, "/sys/fs/cgroup/memory/process_api/8e87/ctr");
  m = mount_at(&p, "cpu,cpuacct");
  CHECK_STR_EQ(m ? m->bind : NULL, "/sys/fs/cgroup/cpu,cpuacct");
  m = mount_at(&p, "systemd");
  CHECK_STR_EQ(m ? m->bind : NULL, "/sys/fs/cgroup/systemd/user.slice/ctr");
  /* Mounted from /docker/x: the own cgroup is shown relative to it. */
  m = mount_at(&p, "perf_event");
  CHECK_STR_EQ(m ? m->bind : NULL, "/sys/fs/cgroup/perf_event/sub");
  m = mount_at(&p, "unified");
  CHECK(m && m->v2);
  CHECK_STR_EQ(m ? m->bind : NULL, "/sys/fs/cgroup/unified/ctr");
  cgroup_mount_plan_clear(&p);
}

TEST(cgroup_mount_plan_cgroupns_fresh)
{
  /* In a cgroup namespace every own cgroup reads "/", and the mounts are
   * fresh ones with the hierarchy's options. */
  static const char self_ns[] = "9:name=systemd:/\n"
                                "4:memory:/\n"
                                "1:cpu,cpuacct:/\n"
                                "0::/\n";
  struct cgroup_mount_plan p;
  nook_error_t e = NULL;
  CHECK(
      ok(cgroup_mount_plan_build(CGROUP_MODE_HYBRID, true, false, self_ns, mi_hybrid, &p, &e), &e));
  CHECK(p.tmpfs);
  CHECK_INT_EQ(p.n, 4);
  for (size_t i = 0; i < p.n; i++)
    CHECK(p.mounts[i].bind == NULL);
  CHECK(options_are(mount_at(&p, "memory"), "memory"));
  CHECK(options_are(mount_at(&p, "cpu,cpuacct"), "cpu,cpuacct"));
  CHECK(options_are(mount_at(&p, "systemd"), "none,name=systemd"));
  const struct cgroup_mount *m = mount_at(&p, "unified");
  CHECK(m && m->v2 && m->options == NULL);
  cgroup_mount_plan_clear(&p);

  /* Legacy: no unified mount even if the text has a 0:: line. */
  static const char mi_legacy[] =
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  CHECK(
      ok(cgroup_mount_plan_build(CGROUP_MODE_LEGACY, true, false, self_ns, mi_legacy, &p, &e), &e));
  CHECK(p.tmpfs && p.n == 1);
  CHECK(options_are(mount_at(&p, "memory"), "memory"));
  cgroup_mount_plan_clear(&p);
}

TEST(cgroup_mount_plan_cgroup2)
{
  /* Pure v2, or a config asking for cgroup2: one fresh cgroup2 mount at
   * /sys/fs/cgroup itself, with or without a cgroup namespace. */
  struct cgroup_mount_plan p;
  nook_error_t e = NULL;
  for (int ns = 0; ns < 2; ns++) {
    CHECK(ok(cgroup_mount_plan_build(CGROUP_MODE_UNIFIED, ns, false, "0::/x\n", NULL, &p, &e), &e));
    CHECK(!p.tmpfs && p.n == 1 && p.mounts[0].v2 && p.mounts[0].dir == NULL &&
          p.mounts[0].bind == NULL);
    cgroup_mount_plan_clear(&p);
    CHECK(ok(cgroup_mount_plan_build(CGROUP_MODE_HYBRID, ns, true, self_hybrid, mi_hybrid, &p, &e),
             &e));
    CHECK(!p.tmpfs && p.n == 1 && p.mounts[0].v2 && p.mounts[0].bind == NULL);
    cgroup_mount_plan_clear(&p);
  }
  CHECK(err_has(
      cgroup_mount_plan_build(CGROUP_MODE_HYBRID, false, false, "garbage\n", mi_hybrid, &p, &e), &e,
      "malformed"));
}

TEST(cgroup_mount_plan_live)
{
  /* This process, without a cgroup namespace: every bind is a directory. */
  struct cgroup_mount_plan p;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_mount_plan(false, false, false, &p, &e), &e));
  CHECK(p.tmpfs == !host_is_v2());
  CHECK(p.n >= 1);
  for (size_t i = 0; i < p.n; i++)
    CHECK(p.mounts[i].bind == NULL || is_dir(p.mounts[i].bind));
  /* host_mounts: the same plan from the mount table the runtime read
   * (cg_host_get) as from a fresh read. */
  const struct cg_host *h;
  CHECK(ok(cg_host_get(&h, &e), &e));
  CHECK(host_is_v2() || cg_host_mountinfo() != NULL);
  struct cgroup_mount_plan q;
  CHECK(ok(cgroup_mount_plan(false, false, true, &q, &e), &e));
  CHECK(q.tmpfs == p.tmpfs && q.n == p.n);
  for (size_t i = 0; i < p.n && i < q.n; i++) {
    CHECK(q.mounts[i].v2 == p.mounts[i].v2);
    CHECK((q.mounts[i].dir == NULL) == (p.mounts[i].dir == NULL));
    CHECK(p.mounts[i].dir == NULL || strcmp(q.mounts[i].dir, p.mounts[i].dir) == 0);
    CHECK((q.mounts[i].bind == NULL) == (p.mounts[i].bind == NULL));
    CHECK(p.mounts[i].bind == NULL || strcmp(q.mounts[i].bind, p.mounts[i].bind) == 0);
  }
  cgroup_mount_plan_clear(&q);
  cgroup_mount_plan_clear(&p);
}

/* ---- exec --cgroup ---- */

static void hybrid_paths(struct cgroup_paths *p)
{
  static const char *const dirs[] = {"/cg/cpu,cpuacct/c", "/cg/memory/c", "/cg/systemd/c", NULL};
  static const char *const ctrls[] = {"cpu,cpuacct", "memory", "name=systemd", NULL};
  memset(p, 0, sizeof(*p));
  p->mode = CGROUP_MODE_HYBRID;
  p->unified = xstrdup("/cg/unified/c");
  p->v1_dirs = xmalloc(4 * sizeof(char *));
  p->v1_controllers = xmalloc(4 * sizeof(char *));
  for (size_t i = 0; i < 4; i++) {
    p->v1_dirs[i] = dirs[i] ? xstrdup(dirs[i]) : NULL;
    p->v1_controllers[i] = ctrls[i] ? xstrdup(ctrls[i]) : NULL;
  }
}

TEST(cgroup_paths_sub_v1)
{
  struct cgroup_paths p;
  nook_error_t e = NULL;
  hybrid_paths(&p);
  char *specs[] = {"a/b", "cpuacct,pids:x", "memory:/", "name=systemd:s"};
  CHECK(ok(cgroup_paths_sub(&p, specs, 4, &e), &e));
  CHECK_STR_EQ(p.v1_dirs[0], "/cg/cpu,cpuacct/c/x");
  /* "/" undoes the earlier entry for memory. */
  CHECK_STR_EQ(p.v1_dirs[1], "/cg/memory/c");
  CHECK_STR_EQ(p.v1_dirs[2], "/cg/systemd/c/s");
  /* A controller prefix names v1 hierarchies only on a hybrid host. */
  CHECK_STR_EQ(p.unified, "/cg/unified/c/a/b");
  cgroup_paths_clear(&p);

  /* Bad entries fail with the spec named and leave the paths alone. */
  static const char *const bad[] = {"/abs", "a/../b", "./a", "a//b", "a/", "memory:", "cpu:.."};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    hybrid_paths(&p);
    char *one[] = {"x", (char *)bad[i]};
    CHECK(err_has(cgroup_paths_sub(&p, one, 2, &e), &e, "expected [CONTROLLER[,...]:]PATH"));
    CHECK_STR_EQ(p.v1_dirs[1], "/cg/memory/c");
    CHECK_STR_EQ(p.unified, "/cg/unified/c");
    cgroup_paths_clear(&p);
  }
  hybrid_paths(&p);
  char *missing[] = {"rdma:x"};
  CHECK(err_has(cgroup_paths_sub(&p, missing, 1, &e), &e,
                "--cgroup \"rdma:x\": the container has no such controller"));
  cgroup_paths_clear(&p);
}

TEST(cgroup_paths_sub_v2)
{
  /* Pure v2: a controller prefix names the one hierarchy when the
   * container's cgroup has every controller of it. */
  char tmpl[] = "/tmp/nook-unit-sub-XXXXXX";
  if (!CHECK(mkdtemp(tmpl) != NULL))
    return;
  char file[128];
  snprintf(file, sizeof(file), "%s/cgroup.controllers", tmpl);
  FILE *f = fopen(file, "w");
  if (!CHECK(f != NULL))
    return;
  fputs("cpuset cpu io memory pids\n", f);
  fclose(f);

  struct cgroup_paths p = {.mode = CGROUP_MODE_UNIFIED};
  nook_error_t e = NULL;
  p.unified = xstrdup(tmpl);
  char *specs[] = {"memory,pids:sub"};
  CHECK(ok(cgroup_paths_sub(&p, specs, 1, &e), &e));
  char want[128];
  snprintf(want, sizeof(want), "%s/sub", tmpl);
  CHECK_STR_EQ(p.unified, want);
  char *rdma[] = {"memory,rdma:sub"};
  CHECK(err_has(cgroup_paths_sub(&p, rdma, 1, &e), &e, "the container has no such controller"));
  CHECK_STR_EQ(p.unified, want);
  cgroup_paths_clear(&p);
  unlink(file);
  rmdir(tmpl);
}
