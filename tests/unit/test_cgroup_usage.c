/* cgroup_usage (nook job's figures) on fake v1, hybrid and v2 trees: which
 * file each figure comes from, the units, and null (has_ false) for what a
 * host does not have. */
#include "cgroup_fixture.h"

static char *tree(void)
{
  char *t = xstrdup("/tmp/nook-unit-usage-XXXXXX");
  if (mkdtemp(t) == NULL) {
    free(t);
    return NULL;
  }
  return t;
}

static void put(const char *dir, const char *file, const char *text)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  nook_error_t e = NULL;
  if (write_file_at(AT_FDCWD, path, O_CREAT | O_TRUNC, 0644, text, strlen(text), &e) < 0)
    ok(-1, &e);
}

static char *sub(const char *t, const char *name)
{
  char *d;
  xasprintf(&d, "%s/%s", t, name);
  mkdir(d, 0755);
  return d;
}

TEST(cgroup_usage_v2)
{
  cleanup_free char *t = tree();
  if (!CHECK(t != NULL))
    return;
  put(t, "cpu.stat", "usage_usec 3500\nuser_usec 2500\nsystem_usec 1000\nnr_periods 0\n");
  put(t, "memory.peak", "67108864\n");
  put(t, "memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n");
  put(t, "pids.peak", "12\n");
  put(t, "io.stat",
      "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
      "8:16 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
  struct cgroup_paths p = {.mode = CGROUP_MODE_UNIFIED, .unified = t};
  struct cgroup_usage u;
  nook_error_t e = NULL;
  if (CHECK(ok(cgroup_usage(&p, &u, &e), &e))) {
    CHECK(u.has_cpu && u.cpu_user_ns == 2500000 && u.cpu_system_ns == 1000000);
    CHECK(u.has_memory_peak && u.memory_peak == 67108864);
    CHECK(u.has_oom && u.oom == 2 && u.has_oom_kill && u.oom_kill == 1);
    CHECK(u.has_pids_peak && u.pids_peak == 12);
    CHECK(u.has_io && u.io_read_bytes == 4196 && u.io_write_bytes == 8192);
  }
  /* A kernel without memory.peak and pids.peak (before 5.19 and 6.1),
   * and no io controller: null, not 0. */
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -f %s/memory.peak %s/pids.peak %s/io.stat", t, t, t);
  CHECK(system(cmd) == 0);
  if (CHECK(ok(cgroup_usage(&p, &u, &e), &e)))
    CHECK(!u.has_memory_peak && !u.has_pids_peak && !u.has_io && u.has_cpu && u.has_oom_kill);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", t);
  CHECK(system(cmd) == 0);
}

TEST(cgroup_usage_v1_and_hybrid)
{
  cleanup_free char *t = tree();
  if (!CHECK(t != NULL))
    return;
  cleanup_free char *cpu = sub(t, "cpu"), *mem = sub(t, "memory"), *pids = sub(t, "pids");
  cleanup_free char *blkio = sub(t, "blkio"), *uni = sub(t, "unified");
  long hz = sysconf(_SC_CLK_TCK);
  put(cpu, "cpuacct.stat", "user 150\nsystem 25\n");
  put(mem, "memory.max_usage_in_bytes", "33554432\n");
  put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  put(pids, "pids.peak", "48\n");
  put(blkio, "blkio.throttle.io_service_bytes_recursive",
      "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n8:0 Async 0\n8:0 Total 4608\n"
      "8:16 Read 4\nTotal 4612\n");
  /* The unified side of a hybrid host: its cpu.stat must not be used when
   * a v1 hierarchy has the controller. */
  put(uni, "cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
  char *dirs[] = {cpu, mem, pids, blkio, NULL};
  char *ctrls[] = {"cpu,cpuacct", "memory", "pids", "blkio", NULL};
  struct cgroup_paths p = {
      .mode = CGROUP_MODE_HYBRID, .unified = uni, .v1_dirs = dirs, .v1_controllers = ctrls};
  struct cgroup_usage u;
  nook_error_t e = NULL;
  if (CHECK(ok(cgroup_usage(&p, &u, &e), &e))) {
    CHECK(u.has_cpu && u.cpu_user_ns == 150 * (1000000000ULL / (uint64_t)hz) &&
          u.cpu_system_ns == 25 * (1000000000ULL / (uint64_t)hz));
    CHECK(u.has_memory_peak && u.memory_peak == 33554432);
    CHECK(!u.has_oom && u.has_oom_kill && u.oom_kill == 3);
    CHECK(u.has_pids_peak && u.pids_peak == 48);
    CHECK(u.has_io && u.io_read_bytes == 4100 && u.io_write_bytes == 512);
  }
  /* Legacy v1 without a unified hierarchy, and a kernel without
   * pids.peak. */
  p.mode = CGROUP_MODE_LEGACY;
  p.unified = NULL;
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -f %s/pids.peak", pids);
  CHECK(system(cmd) == 0);
  if (CHECK(ok(cgroup_usage(&p, &u, &e), &e)))
    CHECK(u.has_cpu && u.cpu_user_ns > 1000 && !u.has_pids_peak && u.has_memory_peak);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", t);
  CHECK(system(cmd) == 0);
}
