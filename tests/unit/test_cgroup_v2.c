/* cgroups/ v2 code: enabling controllers top-down (on a fake tree of plain
 * files), the eBPF device filter (against a model, through the verifier,
 * and attached to a live v2 cgroup, which this hybrid host has too), and
 * every resource field on pure cgroup v2.  That last test skips itself
 * unless the host is pure v2: run it in the VM,
 * tests/vm/run build/tests/test_cgroup_v2. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_fixture.h"

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

/* ---- live: the device filter and resources on a v2 cgroup ---- */

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
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_ANY_HOST, CG_HOST_MODE, "bpf");
  nook_error_t e = NULL;
  if (!CHECK(f.p.unified != NULL)) {
    cg_fixture_end(&f);
    return;
  }
  char node[64];
  char tmp[] = "/tmp/nook-unit-bpf-XXXXXX";
  CHECK(mkdtemp(tmp) != NULL);
  snprintf(node, sizeof(node), "%s/null", tmp);

  struct oci_device_cgroup r1[] = {DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 1, 3, "rw")};
  struct oci_resources r = {.devices = r1, .n_devices = ARRAY_SIZE(r1)};
  CHECK(ok(cg2_apply_devices(f.p.unified, &r, &e), &e));
  size_t total = 0, mine = 0;
  CHECK(ok(cg_devices_bpf_count(f.p.unified, &total, &mine, &e), &e));
  CHECK(total == 1 && mine == 1);
  CHECK_INT_EQ(opens(f.p.unified, "/dev/null", O_RDWR), 0);
  CHECK_INT_EQ(opens(f.p.unified, "/dev/zero", O_RDONLY), EPERM);
  CHECK_INT_EQ(in_cgroup(f.p.unified, try_mknod, node), EPERM);
  /* Outside the cgroup nothing changed. */
  CHECK(try_open(&(struct dev_try){"/dev/zero", O_RDONLY}) == 0);

  /* An update replaces nook's program: still one, with the new rules
   * (a deny after an allow takes the write bit back). */
  struct oci_device_cgroup r2[] = {DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 1, 3, "rwm"),
                                   DEV(true, 'c', 1, 5, "r"), DEV(false, 'c', 1, 3, "w")};
  r.devices = r2;
  r.n_devices = ARRAY_SIZE(r2);
  CHECK(ok(cg2_apply_devices(f.p.unified, &r, &e), &e));
  CHECK(ok(cg_devices_bpf_count(f.p.unified, &total, &mine, &e), &e));
  CHECK(total == 1 && mine == 1);
  CHECK_INT_EQ(opens(f.p.unified, "/dev/null", O_RDONLY), 0);
  CHECK_INT_EQ(opens(f.p.unified, "/dev/null", O_WRONLY), EPERM);
  CHECK_INT_EQ(opens(f.p.unified, "/dev/zero", O_RDONLY), 0);
  CHECK_INT_EQ(opens(f.p.unified, "/dev/zero", O_RDWR), EPERM);
  CHECK_INT_EQ(in_cgroup(f.p.unified, try_mknod, node), 0);

  /* Allow-all with one exception. */
  struct oci_device_cgroup r3[] = {DEV(true, 'a', -1, -1, "rwm"), DEV(false, 'c', 1, 5, "rwm")};
  r.devices = r3;
  r.n_devices = ARRAY_SIZE(r3);
  CHECK(ok(cg2_apply_devices(f.p.unified, &r, &e), &e));
  CHECK_INT_EQ(opens(f.p.unified, "/dev/null", O_RDWR), 0);
  CHECK_INT_EQ(opens(f.p.unified, "/dev/zero", O_RDONLY), EPERM);

  cg_fixture_end(&f);
  rmdir(tmp);
}

/* Every field on pure cgroup v2 (the test VM): written to its v2 file, or
 * an error naming the field and the v1 file v2 has no equivalent of. */
TEST(cgroup_live_resources_v2)
{
  struct cg_fixture f;
  CG_LIVE_SETUP(&f, CG_V2_HOST, CGROUP_MODE_UNIFIED, "res2");
  const struct cgroup_manager *m = f.m;
  nook_error_t e = NULL;
  const char *d = f.p.unified;
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
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
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
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  CHECK(ok(cg_devices_bpf_count(d, &total, &mine, &e), &e));
  CHECK(total == 1 && mine == 1);
  CHECK_INT_EQ(opens(d, "/dev/null", O_RDONLY), EPERM);
  r.devices = devs;
  r.n_devices = ARRAY_SIZE(devs);

  r.has_cpu = true;
  r.cpu = (struct oci_cpu){.has_idle = true, .idle = 1};
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  CHECK(file_is(d, "cpu.idle", "1"));
  r.cpu = (struct oci_cpu){.has_idle = true, .idle = 0, .has_quota = true, .quota = -1};
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  CHECK(file_is(d, "cpu.idle", "0"));
  CHECK(file_is(d, "cpu.max", "max 100000"));
  r.cpu = (struct oci_cpu){.has_realtime_runtime = true, .realtime_runtime = 10000};
  CHECK(err_has(m->apply(&f.p, &r, &e), &e,
                "linux.resources.cpu.realtimeRuntime: cgroup v2 has "
                "no realtime group scheduling (no cpu.rt_runtime_us"));
  r.cpu = (struct oci_cpu){.has_realtime_runtime = true, .realtime_runtime = 0};
  CHECK(ok(m->apply(&f.p, &r, &e), &e)); /* the default */
  r.cpu = (struct oci_cpu){.has_quota = true, .quota = 20000, .has_burst = true, .burst = 30000};
  CHECK(err_has(m->apply(&f.p, &r, &e), &e, "linux.resources.cpu.burst: 30000 is above"));
  r.has_cpu = false;

  r.has_memory = true;
  static const struct {
    struct oci_memory m;
    const char *want;
  } bad_mem[] = {
      {{.has_swappiness = true, .swappiness = 10}, "memory.swappiness: cgroup v2 has no"},
      {{.has_disable_oom_killer = true, .disable_oom_killer = true},
       "disableOOMKiller: cgroup v2 cannot disable the OOM killer (no memory.oom_control)"},
      {{.has_use_hierarchy = true, .use_hierarchy = false}, "memory.use_hierarchy"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad_mem); i++) {
    r.memory = bad_mem[i].m;
    CHECK(err_has(m->apply(&f.p, &r, &e), &e, bad_mem[i].want));
  }
  /* Kernel memory limits (NOT RECOMMENDED): a warning on v2, not an error. */
  r.memory = (struct oci_memory){
      .has_kernel = true, .kernel = 1 << 26, .has_kernel_tcp = true, .kernel_tcp = 1 << 26};
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  /* checkBeforeUpdate: v2 would reclaim and OOM-kill; nook refuses. */
  r.memory = (struct oci_memory){.has_limit = true, .limit = 256 << 20};
  CHECK(ok(m->apply(&f.p, &r, &e), &e));
  pid_t holder = cg_fixture_holder(&f, 24);
  CHECK(holder > 0);
  r.memory = (struct oci_memory){.has_limit = true,
                                 .limit = 4 << 20,
                                 .has_check_before_update = true,
                                 .check_before_update = true};
  CHECK(err_has(m->apply(&f.p, &r, &e), &e, "is below the current usage"));
  CHECK(file_is(d, "memory.max", "268435456"));
  stop_child(holder);
  r.has_memory = false;

  r.has_network = true;
  r.network = (struct oci_network_resources){.has_class_id = true, .class_id = 7};
  CHECK(err_has(m->apply(&f.p, &r, &e), &e,
                "network.classID: cgroup v2 has no net_cls controller, "
                "so net_cls.classid"));
  struct oci_net_priority prio = {.name = "eth0", .priority = 5};
  r.network = (struct oci_network_resources){.priorities = &prio, .n_priorities = 1};
  CHECK(err_has(m->apply(&f.p, &r, &e), &e, "net_prio.ifpriomap"));
  r.has_network = false;

  r.has_blockio = true;
  r.blockio = (struct oci_blockio){.has_leaf_weight = true, .leaf_weight = 100};
  CHECK(err_has(m->apply(&f.p, &r, &e), &e, "blockIO.leafWeight: cgroup v2 has no leaf weight"));
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
    CHECK(ok(m->apply(&f.p, &r, &e), &e));
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
    CHECK(ok(m->apply(&f.p, &r, &e), &e));
    CHECK(file_has(d, bfq ? "io.bfq.weight" : "io.weight", bfq ? "default 500" : "default 4950"));
  } else {
    CHECK(err_has(m->apply(&f.p, &r, &e), &e, "linux.resources.blockIO.weight: "));
  }
  r.has_blockio = false;

  struct oci_kv bad_kv[] = {{"nonexistent.file", "1"}};
  r.unified = bad_kv;
  r.n_unified = 1;
  CHECK(err_has(m->apply(&f.p, &r, &e), &e, "linux.resources.unified[\"nonexistent.file\"]: "));
  bad_kv[0].key = "../pids.max";
  CHECK(err_has(m->apply(&f.p, &r, &e), &e, "is not a plain cgroup file name"));
  r.n_unified = 0;

  cg_fixture_end(&f);
}
