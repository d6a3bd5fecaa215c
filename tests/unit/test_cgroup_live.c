/* cgroups/ live on this host, in whatever mode it has: create, enter,
 * pids, freeze/thaw, kill, destroy, apply, stats and OOM notification, each
 * under nook-unit-<pid> (cgroup_fixture.h).  On the hybrid build host this
 * runs the hybrid manager; in the pure cgroup v2 VM the v2 one:
 * tests/vm/run build/tests/test_cgroup_live. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_fixture.h"

TEST(cgroup_live_lifecycle)
{
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_ANY_HOST, CG_HOST_MODE, "c1");
  const struct cgroup_manager *m = f.m;
  nook_error_t e = NULL;
  int missing = 0;
  each_dir(&f.p, count_missing, &missing);
  CHECK(missing == 0);
  /* Both the prefix and the leaf were made here, in every hierarchy. */
  if (f.p.unified)
    CHECK(f.p.unified_created == 2);
  for (size_t i = 0; f.p.v1_dirs && f.p.v1_dirs[i]; i++)
    CHECK(f.p.v1_created[i] == 2);
  const char *cpuset = cg_v1_dir(&f.p, "cpuset");
  if (cpuset) {
    char cpus[64];
    CHECK(cg_read(cpuset, "cpuset.cpus", cpus, sizeof(cpus), &e) > 0);
    nook_error_free(&e);
  }
  /* The persisted form gives back a working handle: the rest of the test
   * goes through it. */
  char *ser = cgroup_paths_serialize(&f.p);
  struct cgroup_paths q;
  CHECK(ok(cgroup_paths_parse(ser, &q, &e), &e));
  free(ser);
  cgroup_paths_clear(&f.p);
  f.p = q;

  pid_t child = cg_fixture_counter(&f);
  CHECK(pids_are(m, &f.p, child));
  CHECK(counter_moves(f.ctr));

  bool frozen = true;
  CHECK(ok(m->frozen(&f.p, &frozen, &e), &e) && !frozen);
  CHECK(ok(m->freeze(&f.p, true, &e), &e));
  CHECK(counter_stays(f.ctr));
  if (f.p.unified)
    CHECK(file_is(f.p.unified, "cgroup.freeze", "1"));
  CHECK(ok(m->frozen(&f.p, &frozen, &e), &e) && frozen);
  CHECK(ok(m->freeze(&f.p, false, &e), &e));
  CHECK(counter_moves(f.ctr));
  CHECK(ok(m->frozen(&f.p, &frozen, &e), &e) && !frozen);

  /* The v1 freezer, when there is one (hybrid uses the unified one). */
  const char *freezer = cg_v1_dir(&f.p, "freezer");
  if (freezer) {
    CHECK(ok(cg1_freeze(freezer, true, &e), &e));
    CHECK(file_is(freezer, "freezer.state", "FROZEN"));
    CHECK(counter_stays(f.ctr));
    CHECK(ok(cgroup_manager_for(CGROUP_MODE_LEGACY)->frozen(&f.p, &frozen, &e), &e) && frozen);
    CHECK(ok(cg1_freeze(freezer, false, &e), &e));
    CHECK(counter_moves(f.ctr));
  }

  /* A non-fatal signal reaches every process and waits for nothing. */
  CHECK(ok(m->kill(&f.p, SIGSTOP, &e), &e));
  int st = 0;
  pid_t w = 0;
  for (int i = 0; i < 3000 && w == 0; i++) {
    w = waitpid(child, &st, WUNTRACED | WNOHANG);
    if (w == 0)
      usleep(10000);
  }
  CHECK(w == child && WIFSTOPPED(st));
  CHECK(ok(m->kill(&f.p, SIGCONT, &e), &e));
  CHECK(ok(m->kill(&f.p, SIGKILL, &e), &e));
  CHECK(pids_are(m, &f.p, 0));
  CHECK(reaped_by(child, SIGKILL, &f.p));

  /* The v1 kill loop (no cgroup.kill) on the same cgroup, also when the v1
   * freezer holds the process (it must be thawed to die). */
  if (f.p.v1_dirs) {
    const struct cgroup_manager *v1 = cgroup_manager_for(CGROUP_MODE_LEGACY);
    child = cg_fixture_counter(&f);
    CHECK(ok(v1->kill(&f.p, SIGKILL, &e), &e));
    CHECK(reaped_by(child, SIGKILL, &f.p));
    if (freezer) {
      child = cg_fixture_counter(&f);
      CHECK(ok(v1->freeze(&f.p, true, &e), &e));
      long long t0 = cg_now_ms();
      CHECK(ok(v1->kill(&f.p, SIGKILL, &e), &e));
      CHECK(cg_now_ms() - t0 < 1000);
      CHECK(reaped_by(child, SIGKILL, &f.p));
      CHECK(file_is(freezer, "freezer.state", "THAWED"));
    }
  }

  /* destroy kills what is left, then removes leaf and created prefix. */
  child = cg_fixture_counter(&f);
  cg_fixture_destroy(&f);
  CHECK(reaped_by(child, SIGKILL, &f.p));
  cg_fixture_check_gone(&f);
  /* Idempotent. */
  cg_fixture_destroy(&f);
  CHECK(pids_are(m, &f.p, 0));
  cg_fixture_clear(&f);
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

TEST(cgroup_live_keeps_preexisting_parents)
{
  struct cg_fixture a, b;
  CG_LIVE_SETUP(&a, CG_ANY_HOST, CG_HOST_MODE, "a");
  if (!cg_fixture_create(&b, CG_HOST_MODE, "b")) {
    cg_fixture_end(&a);
    return;
  }
  for (size_t i = 0; b.p.v1_dirs && b.p.v1_dirs[i]; i++)
    CHECK(a.p.v1_created[i] == 2 && b.p.v1_created[i] == 1);
  /* a made the prefix but b still lives in it: it stays. */
  cg_fixture_destroy(&a);
  int present = 0;
  each_dir(&a.p, count_present, &present);
  CHECK(present == 0);
  int missing = 0;
  each_dir(&b.p, count_missing, &missing);
  CHECK(missing == 0);
  /* b did not make the prefix: it is not b's to remove. */
  cg_fixture_destroy(&b);
  present = 0;
  each_dir(&b.p, count_present, &present);
  CHECK(present == 0);
  int kept = 0, total = (int)strv_len(b.p.v1_dirs) + (b.p.unified ? 1 : 0);
  each_dir(&b.p, parent_exists, &kept);
  CHECK(kept == total && kept > 0);
  each_dir(&b.p, rm_parent, NULL);
  present = 0;
  each_dir(&b.p, count_present_parent, &present);
  CHECK(present == 0);
  cg_fixture_clear(&a);
  cg_fixture_clear(&b);
}

TEST(cgroup_live_apply)
{
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_ANY_HOST, CG_HOST_MODE, "apply");
  const struct cgroup_manager *m = f.m;
  nook_error_t e = NULL;
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
  CHECK(ok(m->apply(&f.p, &r, &e), &e));

  const char *d;
  if ((d = cg_v1_dir(&f.p, "devices")) != NULL)
    CHECK(file_is(d, "devices.list", "c 1:3 rwm\nc 1:5 rwm\nc 136:* rwm"));
  if ((d = cg_v1_dir(&f.p, "memory")) != NULL) {
    CHECK(file_is(d, "memory.limit_in_bytes", "67108864"));
    CHECK(file_is(d, "memory.soft_limit_in_bytes", "33554432"));
    if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
      CHECK(file_is(d, "memory.memsw.limit_in_bytes", "134217728"));
  }
  if ((d = cg_v1_dir(&f.p, "pids")) != NULL)
    CHECK(file_is(d, "pids.max", "42"));
  if ((d = cg_v1_dir(&f.p, "cpu")) != NULL) {
    CHECK(file_is(d, "cpu.shares", "512"));
    CHECK(file_is(d, "cpu.cfs_quota_us", "50000"));
    CHECK(file_is(d, "cpu.cfs_period_us", "100000"));
  }
  if ((d = cg_v1_dir(&f.p, "cpuset")) != NULL)
    CHECK(file_is(d, "cpuset.cpus", "0"));

  /* Lowering below the current limit orders the writes (limit first), and
   * -1 lifts both; pids -1 is "max". */
  r.n_devices = 0;
  r.has_cpu = false;
  r.memory.limit = 16 << 20;
  r.memory.swap = 32 << 20;
  r.memory.has_reservation = false;
  r.pids_limit = -1;
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  if ((d = cg_v1_dir(&f.p, "memory")) != NULL)
    CHECK(file_is(d, "memory.limit_in_bytes", "16777216"));
  if ((d = cg_v1_dir(&f.p, "pids")) != NULL)
    CHECK(file_is(d, "pids.max", "max"));
  /* An empty device list is deny-all, as runc. */
  if ((d = cg_v1_dir(&f.p, "devices")) != NULL)
    CHECK(file_is(d, "devices.list", ""));
  r.memory.limit = -1;
  r.memory.has_swap = false;
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  if ((d = cg_v1_dir(&f.p, "memory")) != NULL)
    CHECK(file_is(d, "memory.limit_in_bytes", "9223372036854771712"));

  /* Errors name the field. */
  r.has_memory = false;
  r.has_pids = false;
  r.has_cpu = true;
  r.cpu.has_shares = true;
  r.cpu.shares = 1;
  CHECK(err_has(m->apply(&f.p, &r, &e), &e, "linux.resources.cpu.shares"));
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
  if (cg_v1_dir(&f.p, "devices"))
    CHECK(err_has(m->apply(&f.p, &r, &e), &e, "linux.resources.devices[2]: cannot deny"));
  struct oci_device_cgroup badacc[] = {{.allow = true, .type = 'c', .access = "rwx"}};
  r.devices = badacc;
  r.n_devices = 1;
  if (cg_v1_dir(&f.p, "devices"))
    CHECK(err_has(m->apply(&f.p, &r, &e), &e, "devices[0].access"));

  cg_fixture_destroy(&f);
  cg_fixture_check_gone(&f);
  cg_fixture_clear(&f);
}

/* stats() of a cgroup with a child that holds memory: each figure from
 * where its controller is (v1 hierarchies, or the unified one). */
TEST(cgroup_live_stats)
{
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_ANY_HOST, CG_HOST_MODE, "stats");
  const struct cgroup_manager *m = f.m;
  nook_error_t e = NULL;
  struct oci_resources r = {.has_pids = true, .pids_limit = 100, .has_memory = true};
  r.memory = (struct oci_memory){.has_limit = true, .limit = 256 << 20};
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  /* The holder joins every hierarchy, as a container's init does. */
  pid_t holder = cg_fixture_holder(&f, 16);
  CHECK(holder > 0);
  struct cgroup_stats s;
  memset(&s, 0xff, sizeof(s)); /* stats() must start from nothing */
  CHECK(ok(m->stats(&f.p, &s, &e), &e));
  CHECK(s.has_cpu);
  CHECK(s.has_memory && s.mem_usage >= (8u << 20));
  CHECK_INT_EQ(s.mem_limit, 256 << 20);
  CHECK(s.n_mem_raw > 5 && s.mem_raw[0].key && s.mem_raw[0].value);
  CHECK(s.has_pids && s.pids_current >= 1);
  CHECK_INT_EQ(s.pids_limit, 100);
  if (f.mode == CGROUP_MODE_UNIFIED) {
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
  cg_fixture_destroy(&f);
  /* A cgroup that is gone has no figures, and that is no error. */
  CHECK(ok(m->stats(&f.p, &s, &e), &e));
  CHECK(!s.has_cpu && !s.has_memory && !s.has_pids && !s.has_psi_cpu && s.n_hugetlb == 0);
  cgroup_stats_clear(&s);
  cg_fixture_clear(&f);
}

/* Our open fds. */
static int fd_count(void)
{
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  for (struct dirent *de; d && (de = readdir(d)) != NULL;)
    n += de->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

/* With cgroup_paths_keep_open the files stay open between stats() and are
 * read anew from their start: the figures are today's, the fds do not
 * grow with the requests, a cgroup removed under them has no figures, and
 * cgroup_paths_clear closes them. */
TEST(cgroup_live_stats_keep_open)
{
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_ANY_HOST, CG_HOST_MODE, "stats-open");
  const struct cgroup_manager *m = f.m;
  nook_error_t e = NULL;
  struct oci_resources r = {.has_pids = true, .pids_limit = 100};
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  pid_t holder = cg_fixture_holder(&f, 1);
  CHECK(holder > 0);
  int before = fd_count();
  cgroup_paths_keep_open(&f.p);
  struct cgroup_stats s;
  CHECK(ok(m->stats(&f.p, &s, &e), &e));
  CHECK_INT_EQ(s.pids_limit, 100);
  cgroup_stats_clear(&s);
  int open = fd_count();
  CHECK(open > before + 3);
  r.pids_limit = 50;
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  for (int i = 0; i < 20; i++) {
    CHECK(ok(m->stats(&f.p, &s, &e), &e));
    CHECK(s.has_pids && s.pids_current >= 1);
    CHECK_INT_EQ(s.pids_limit, 50);
    CHECK(s.has_memory && s.n_mem_raw > 5);
    cgroup_stats_clear(&s);
  }
  CHECK_INT_EQ(fd_count(), open);
  stop_child(holder);
  cg_fixture_destroy(&f);
  CHECK(ok(m->stats(&f.p, &s, &e), &e));
  CHECK(!s.has_cpu && !s.has_memory && !s.has_pids && s.n_hugetlb == 0);
  cgroup_stats_clear(&s);
  cg_fixture_clear(&f);
  CHECK_INT_EQ(fd_count(), before);
}

/* oom_notify_fd() fires when the kernel OOM-kills in the cgroup. */
TEST(cgroup_live_oom_notify)
{
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_ANY_HOST, CG_HOST_MODE, "oom");
  const struct cgroup_manager *m = f.m;
  nook_error_t e = NULL;
  /* No swap to escape to: memory+swap equals the limit. */
  struct oci_resources r = {.has_memory = true};
  r.memory =
      (struct oci_memory){.has_limit = true, .limit = 16 << 20, .has_swap = true, .swap = 16 << 20};
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  int fd = m->oom_notify_fd(&f.p, &e);
  CHECK(ok(fd, &e));
  struct stat sb;
  bool is_file = fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
  CHECK(is_file == (f.mode == CGROUP_MODE_UNIFIED));
  CHECK(fd < 0 || (fcntl(fd, F_GETFD) & FD_CLOEXEC));
  const char *memdir = cg_v1_dir(&f.p, "memory") ? cg_v1_dir(&f.p, "memory") : f.p.unified;
  /* The child touches its memory only once it is in the cgroup: a fixed
   * delay would race the parent's enter on a loaded machine. */
  int go[2];
  if (!CHECK(pipe2(go, O_CLOEXEC) == 0))
    return;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(go[1]);
    size_t len = 256u << 20;
    char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || read(go[0], &c, 1) != 1)
      _exit(2);
    for (size_t i = 0; i < len; i += 4096)
      mem[i] = 1;
    _exit(0);
  }
  close(go[0]);
  CHECK(ok(m->enter(&f.p, pid, &e), &e));
  CHECK(write(go[1], "x", 1) == 1);
  close(go[1]);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  if (fd >= 0) {
    struct pollfd pfd = {.fd = fd, .events = is_file ? POLLPRI : POLLIN};
    CHECK(poll(&pfd, 1, 30000) == 1);
    if (is_file) {
      struct cgroup_stats s;
      CHECK(ok(m->stats(&f.p, &s, &e), &e));
      CHECK(s.has_mem_events && s.ev_oom_kill >= 1 && s.ev_oom >= 1);
      cgroup_stats_clear(&s);
    } else {
      uint64_t n = 0;
      CHECK(read(fd, &n, sizeof(n)) == sizeof(n) && n >= 1);
      CHECK(file_has(memdir, "memory.oom_control", "oom_kill 1"));
    }
    close(fd);
  }
  cg_fixture_end(&f);
}

/* A cgroup removed while nook reads or waits on its files (systemd removes
 * a scope the moment it empties, under delete's kill): gone, -ENOENT, as
 * when it was gone before the open, never an error.  The kernel's answer
 * to the read is ENODEV (CI saw delete fail on it). */
TEST(cgroup_live_removed_under_open_fd)
{
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_ANY_HOST, CG_HOST_MODE, "gone");
  if (f.p.unified == NULL) {
    cg_fixture_end(&f);
    SKIP("no cgroup v2 hierarchy on this host");
  }
  nook_error_t e = NULL;
  char sub[PATH_MAX], events[PATH_MAX + 16];
  snprintf(sub, sizeof(sub), "%s/sub", f.p.unified);
  snprintf(events, sizeof(events), "%s/cgroup.events", sub);
  CHECK(mkdir(sub, 0755) == 0);
  int fd = open(events, O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  CHECK(rmdir(sub) == 0);
  char buf[64];
  CHECK(pread(fd, buf, sizeof(buf), 0) < 0 && errno == ENODEV);
  bool timed_out = true;
  int r = cg2_wait_event_fd(fd, events, "populated", 0, 1000, &timed_out, &e);
  CHECK(r == -ENOENT && !timed_out);
  nook_error_free(&e);
  close(fd);
  /* And the whole kill of a cgroup already gone succeeds. */
  CHECK(ok(cg2_kill(sub, SIGKILL, &e), &e));
  cg_fixture_end(&f);
}
