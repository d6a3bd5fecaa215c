/* The systemd cgroup driver without systemd: cgroupsPath in systemd form,
 * slice nesting, the unit properties made from linux.resources and from
 * org.systemd.property.* annotations (GVariant text), and the persisted
 * form of a systemd-managed cgroup.  The D-Bus side runs in the systemd
 * test VM (tests/systemd). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cgroups/systemd.h"
#include "cgroup_fixture.h"

/* ---- cgroupsPath ---- */

static bool unit_is(const char *path, const char *id, const char *slice, const char *unit,
                    const char *slice_path)
{
  struct sd_unit_name u;
  nook_error_t e = NULL;
  if (!ok(sd_unit_parse(path, id, &u, &e), &e))
    return false;
  bool same = strcmp(u.slice, slice) == 0 && strcmp(u.unit, unit) == 0 &&
              strcmp(u.slice_path, slice_path) == 0;
  if (!same)
    fprintf(stdout, "  %s: got %s %s %s\n", path ? path : "(null)", u.slice, u.unit, u.slice_path);
  sd_unit_name_clear(&u);
  return same;
}

static bool unit_refused(const char *path, const char *needle)
{
  struct sd_unit_name u;
  nook_error_t e = NULL;
  return err_has(sd_unit_parse(path, "id", &u, &e), &e, needle);
}

TEST(systemd_cgroups_path_as_runc)
{
  CHECK(
      unit_is("system.slice:docker:abc", "x", "system.slice", "docker-abc.scope", "/system.slice"));
  CHECK(unit_is("machine.slice:libpod:f00", "x", "machine.slice", "libpod-f00.scope",
                "/machine.slice"));
  CHECK(unit_is("kubepods-besteffort-pod123.slice:cri-containerd:c1", "x",
                "kubepods-besteffort-pod123.slice", "cri-containerd-c1.scope",
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod123.slice"));
  /* An empty slice is system.slice; -.slice is the root. */
  CHECK(unit_is(":nook:c2", "x", "system.slice", "nook-c2.scope", "/system.slice"));
  CHECK(unit_is("-.slice:p:n", "x", "-.slice", "p-n.scope", ""));
  /* No cgroupsPath: nook-<id>.scope in system.slice (runc: runc-<id>). */
  CHECK(unit_is(NULL, "ctr", "system.slice", "nook-ctr.scope", "/system.slice"));
  CHECK(unit_is("", "ctr", "system.slice", "nook-ctr.scope", "/system.slice"));
}

TEST(systemd_cgroups_path_refused)
{
  CHECK(unit_refused("a:b", "expects `slice:prefix:name`"));
  CHECK(unit_refused("a:b:c:d", "expects `slice:prefix:name`"));
  CHECK(unit_refused("/sys/fs/cgroup/x", "expects `slice:prefix:name`"));
  CHECK(unit_refused("system.slice:p:pod.slice", "is a slice"));
  CHECK(unit_refused("foo:p:n", "invalid slice name `foo`"));
  CHECK(unit_refused(".slice:p:n", "invalid slice name"));
  CHECK(unit_refused("a--b.slice:p:n", "empty component"));
  CHECK(unit_refused("-a.slice:p:n", "empty component"));
  CHECK(unit_refused("a-.slice:p:n", "empty component"));
  CHECK(unit_refused("a/b.slice:p:n", "without `/`"));
  CHECK(unit_refused("system.slice:p:a/b", "has `/`"));
  CHECK(unit_refused("system.slice:p:a b", "has ` `"));
  CHECK(unit_refused("system.slice:p:a\nb", "control character"));
  char long_name[300];
  memset(long_name, 'x', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  char path[400];
  snprintf(path, sizeof(path), "system.slice:p:%s", long_name);
  CHECK(unit_refused(path, "longer than systemd's"));
  struct sd_unit_name u;
  nook_error_t e = NULL;
  CHECK(err_has(sd_unit_parse(NULL, NULL, &u, &e), &e, "no cgroupsPath"));
}

/* ---- properties from linux.resources ---- */

static char *props_of(const struct oci_resources *r, bool v2, int version,
                      struct oci_resources *adj)
{
  struct sd_host h = {.v2 = v2, .version = version};
  struct sdp_list l = {0};
  struct oci_resources tmp;
  nook_error_t e = NULL;
  if (!ok(sdp_from_resources(r, &h, &l, adj ? adj : &tmp, &e), &e))
    return xstrdup("(error)");
  char *s = sdp_format(&l);
  sdp_list_clear(&l);
  return s;
}

TEST(systemd_props_v2)
{
  struct oci_resources r = {.has_memory = true,
                            .memory = {.has_limit = true,
                                       .limit = 67108864,
                                       .has_reservation = true,
                                       .reservation = 1048576,
                                       .has_swap = true,
                                       .swap = 100663296},
                            .has_cpu = true,
                            .cpu = {.has_shares = true,
                                    .shares = 1024,
                                    .has_quota = true,
                                    .quota = 12345,
                                    .has_period = true,
                                    .period = 100000,
                                    .cpus = "0-2,9",
                                    .mems = "0"},
                            .has_pids = true,
                            .pids_limit = 0,
                            .has_blockio = true,
                            .blockio = {.has_weight = true, .weight = 500}};
  struct oci_resources adj;
  char *s = props_of(&r, true, 252, &adj);
  CHECK_STR_EQ(s, "MemoryMax=t 67108864\n"
                  "MemoryLow=t 1048576\n"
                  "MemorySwapMax=t 33554432\n"
                  "CPUWeight=t 39\n"
                  "CPUQuotaPeriodUSec=t 100000\n"
                  "CPUQuotaPerSecUSec=t 130000\n"
                  "AllowedCPUs=ay [7, 2]\n"
                  "AllowedMemoryNodes=ay [1]\n"
                  "TasksMax=t 1\n"
                  "IOWeight=t 4950\n");
  /* systemd keeps whole percent: the quota written to cpu.max follows. */
  CHECK_INT_EQ(adj.cpu.quota, 13000);
  free(s);

  /* Older systemd: no CPUQuotaPeriodUSec (242), no AllowedCPUs (244). */
  s = props_of(&r, true, 241, NULL);
  CHECK(strstr(s, "CPUQuotaPeriodUSec") == NULL && strstr(s, "AllowedCPUs") == NULL);
  CHECK(strstr(s, "CPUQuotaPerSecUSec=t 130000") != NULL);
  free(s);

  /* Unlimited: infinity (UINT64_MAX) for memory, swap and tasks. */
  struct oci_resources u = {.has_memory = true,
                            .memory = {.has_limit = true, .limit = -1},
                            .has_pids = true,
                            .pids_limit = -1};
  s = props_of(&u, true, 252, NULL);
  CHECK_STR_EQ(s, "MemoryMax=t 18446744073709551615\n"
                  "MemorySwapMax=t 18446744073709551615\n"
                  "TasksMax=t 18446744073709551615\n");
  free(s);

  /* A period alone: the quota stays unlimited. */
  struct oci_resources p = {.has_cpu = true, .cpu = {.has_period = true, .period = 50000}};
  s = props_of(&p, true, 252, NULL);
  CHECK_STR_EQ(s, "CPUQuotaPeriodUSec=t 50000\nCPUQuotaPerSecUSec=t 18446744073709551615\n");
  free(s);
}

TEST(systemd_props_v1)
{
  struct oci_resources r = {.has_memory = true,
                            .memory = {.has_limit = true, .limit = 1 << 20},
                            .has_cpu = true,
                            .cpu = {.has_shares = true, .shares = 512},
                            .has_blockio = true,
                            .blockio = {.has_weight = true, .weight = 300},
                            .has_pids = true,
                            .pids_limit = 10};
  char *s = props_of(&r, false, 252, NULL);
  CHECK_STR_EQ(s, "MemoryLimit=t 1048576\n"
                  "CPUShares=t 512\n"
                  "TasksMax=t 10\n"
                  "BlockIOWeight=t 300\n");
  free(s);
}

TEST(systemd_props_unified)
{
  struct oci_kv kv[] = {{"memory.high", "1000000"},  {"memory.min", "max"}, {"pids.max", "0"},
                        {"cpu.max", "50000 200000"}, {"cpu.weight", "77"},  {"cpuset.cpus", "1"},
                        {"io.max", "8:0 rbps=1"}};
  struct oci_resources r = {.has_unified = true, .unified = kv, .n_unified = ARRAY_SIZE(kv)};
  char *s = props_of(&r, true, 252, NULL);
  CHECK_STR_EQ(s, "MemoryHigh=t 1000000\n"
                  "MemoryMin=t 18446744073709551615\n"
                  "TasksMax=t 1\n"
                  "CPUQuotaPeriodUSec=t 200000\n"
                  "CPUQuotaPerSecUSec=t 250000\n"
                  "CPUWeight=t 77\n"
                  "AllowedCPUs=ay [2]\n");
  free(s);
  /* cpu.idle 1 is CPUWeight=0 (systemd 252), and then cpu.weight is not sent. */
  struct oci_kv idle[] = {{"cpu.weight", "77"}, {"cpu.idle", "1"}};
  struct oci_resources ri = {.has_unified = true, .unified = idle, .n_unified = 2};
  s = props_of(&ri, true, 252, NULL);
  CHECK_STR_EQ(s, "CPUWeight=t 0\n");
  free(s);
  struct oci_kv bad[] = {{"memory.max", "lots"}};
  struct oci_resources rb = {.has_unified = true, .unified = bad, .n_unified = 1};
  struct sd_host h = {.v2 = true, .version = 252};
  struct sdp_list l = {0};
  struct oci_resources adj;
  nook_error_t e = NULL;
  CHECK(err_has(sdp_from_resources(&rb, &h, &l, &adj, &e), &e, "\"memory.max\""));
  sdp_list_clear(&l);
}

/* ---- devices ---- */

#define DEV(allow_, type_, major_, minor_, access_)                                                \
  {                                                                                                \
    .allow = allow_, .type = type_, .has_type = true, .has_major = major_ >= 0,                    \
    .has_minor = minor_ >= 0, .major = major_, .minor = minor_, .access = access_                  \
  }

static char *device_props(struct oci_device_cgroup *rules, size_t n, bool v2)
{
  struct oci_resources r = {.devices = rules, .n_devices = n, .has_devices = true};
  return props_of(&r, v2, 252, NULL);
}

TEST(systemd_props_devices)
{
  /* The usual list: deny all, then what is allowed. */
  struct oci_device_cgroup usual[] = {DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'c', 1, 3, "rwm"),
                                      DEV(true, 'c', 136, -1, "rw"), DEV(true, 'b', -1, -1, "m"),
                                      DEV(false, 'c', 5, 1, "rwm")};
  char *s = device_props(usual, ARRAY_SIZE(usual), true);
  CHECK_STR_EQ(s, "DeviceAllow=a(ss) []\n"
                  "DevicePolicy=s 'strict'\n"
                  "DeviceAllow=a(ss) [('/dev/char/1:3', 'rwm'), ('char-136', 'rw'), "
                  "('block-*', 'm')]\n");
  free(s);
  /* Allow all: systemd's "auto" with no list. */
  struct oci_device_cgroup all[] = {DEV(false, 'a', -1, -1, "rwm"), DEV(true, 'a', -1, -1, "rwm"),
                                    DEV(true, 'c', 1, 3, "rwm")};
  s = device_props(all, ARRAY_SIZE(all), true);
  CHECK_STR_EQ(s, "DeviceAllow=a(ss) []\nDevicePolicy=s 'auto'\n");
  free(s);
  /* A deny inside what is allowed, or *:N: systemd cannot say it, nook's
   * own filter does; systemd is told to allow everything. */
  struct oci_device_cgroup carve[] = {DEV(true, 'a', -1, -1, "rwm"), DEV(false, 'c', 1, 3, "w")};
  s = device_props(carve, ARRAY_SIZE(carve), true);
  CHECK_STR_EQ(s, "DeviceAllow=a(ss) []\nDevicePolicy=s 'auto'\n");
  free(s);
  struct oci_device_cgroup over[] = {DEV(true, 'c', 1, -1, "rwm"), DEV(false, 'c', 1, 3, "r")};
  s = device_props(over, ARRAY_SIZE(over), true);
  CHECK(strstr(s, "'auto'") != NULL);
  free(s);
  struct oci_device_cgroup wild[] = {DEV(true, 'c', -1, 3, "rwm")};
  s = device_props(wild, ARRAY_SIZE(wild), true);
  CHECK(strstr(s, "'auto'") != NULL);
  free(s);
}

/* ---- annotations ---- */

static char *annotation_props(const char *key, const char *value)
{
  struct oci_kv kv = {(char *)key, (char *)value};
  struct sdp_list l = {0};
  nook_error_t e = NULL;
  if (sdp_from_annotations(&kv, 1, &l, &e) < 0) {
    char *t = nook_error_text(e);
    nook_error_free(&e);
    char *r;
    xasprintf(&r, "error: %s", t);
    free(t);
    return r;
  }
  char *s = sdp_format(&l);
  sdp_list_clear(&l);
  return s;
}

static bool annotation_is(const char *name, const char *value, const char *want)
{
  char key[128];
  snprintf(key, sizeof(key), "org.systemd.property.%s", name);
  char *got = annotation_props(key, value);
  bool same =
      strncmp(want, "error: ", 7) == 0 ? strstr(got, want + 7) != NULL : strcmp(got, want) == 0;
  if (!same)
    fprintf(stdout, "  %s=%s: got `%s`, want `%s`\n", name, value, got, want);
  free(got);
  return same;
}

/* runc's TestInitSystemdProps cases, and more of GVariant's text format. */
TEST(systemd_annotations_as_runc)
{
  CHECK(annotation_is("TimeoutStopUSec", "uint64 123456789", "TimeoutStopUSec=t 123456789\n"));
  CHECK(annotation_is("TimeoutStopSec", "456", "TimeoutStopUSec=t 456000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "byte 234", "TimeoutStopUSec=t 234000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "int16 234", "TimeoutStopUSec=t 234000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "uint16 234", "TimeoutStopUSec=t 234000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "int32 234", "TimeoutStopUSec=t 234000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "uint32 234", "TimeoutStopUSec=t 234000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "int64 234", "TimeoutStopUSec=t 234000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "uint64 234", "TimeoutStopUSec=t 234000000\n"));
  CHECK(annotation_is("TimeoutStopSec", "234.789", "TimeoutStopUSec=t 234789000\n"));
  CHECK(annotation_is("TimeoutStopSec", "false", "error: must be a number"));
  CHECK(annotation_is("TimeoutStopSec", "'covfefe'", "error: must be a number"));
  CHECK(annotation_is("FOOSec", "123", "FOOSec=i 123\n"));
  CHECK(annotation_is("Sec", "123", "Sec=i 123\n"));
  CHECK(
      annotation_is("CollectMode", "'inactive-or-failed'", "CollectMode=s 'inactive-or-failed'\n"));
  CHECK(annotation_is("ab", "1", "error: 3 or more latin letters"));
  CHECK(annotation_is("Foo1", "1", "error: 3 or more latin letters"));
}

TEST(systemd_annotations_gvariant)
{
  CHECK(annotation_is("Names", "['a', \"b\\\"c\"]", "Names=as ['a', 'b\"c']\n"));
  CHECK(annotation_is("Empty", "@as []", "Empty=as []\n"));
  CHECK(annotation_is("Nums", "@at [1, 2]", "Nums=at [1, 2]\n"));
  CHECK(annotation_is("Nums", "[uint64 1, 2]", "Nums=at [1, 2]\n"));
  CHECK(annotation_is("Pair", "('a', 7)", "Pair=(si) ('a', 7)\n"));
  CHECK(annotation_is("Pairs", "@a(ss) [('/dev/null', 'rw')]",
                      "Pairs=a(ss) [('/dev/null', 'rw')]\n"));
  CHECK(annotation_is("Flag", " true ", "Flag=b true\n"));
  CHECK(annotation_is("Hex", "uint32 0x10", "Hex=u 16\n"));
  CHECK(annotation_is("Neg", "int64 -5", "Neg=x -5\n"));
  CHECK(annotation_is("Big", "uint32 5000000000", "error: out of range"));
  CHECK(annotation_is("Big", "2147483648", "error: out of range"));
  CHECK(annotation_is("Neg", "uint64 -1", "error: out of range"));
  CHECK(annotation_is("Mixed", "[1, 'a']", "error: a string where"));
  CHECK(annotation_is("Empty", "[]", "error: an empty array needs its type"));
  CHECK(annotation_is("Two", "1 2", "error: trailing characters"));
  CHECK(annotation_is("Open", "'abc", "error: unterminated string"));
  CHECK(annotation_is("Nothing", "", "error: no value"));
  CHECK(annotation_is("Bad", "@q 'x'", "error: a string where"));
  CHECK(annotation_is("Bad", "@z 1", "error: unknown type"));
  /* Other annotations are not properties. */
  char *s = annotation_props("org.example.x", "whatever");
  CHECK_STR_EQ(s, "");
  free(s);
}

/* ---- the persisted form ---- */

TEST(systemd_paths_roundtrip)
{
  struct cgroup_paths p = {.mode = CGROUP_MODE_UNIFIED,
                           .unified = "/sys/fs/cgroup/system.slice/docker-a.scope",
                           .unit = "docker-a.scope",
                           .slice = "system.slice"};
  char *s = cgroup_paths_serialize(&p);
  CHECK(strstr(s, ";sd=system.slice:docker-a.scope") != NULL);
  struct cgroup_paths q;
  nook_error_t e = NULL;
  CHECK(ok(cgroup_paths_parse(s, &q, &e), &e));
  CHECK_STR_EQ(q.unit, "docker-a.scope");
  CHECK_STR_EQ(q.slice, "system.slice");
  CHECK_STR_EQ(q.unified, p.unified);
  CHECK(cgroup_manager_of(&q) == &cg_systemd_manager);
  free(s);
  cgroup_paths_clear(&q);
  /* Without a unit: the cgroupfs manager of the mode. */
  struct cgroup_paths f = {.mode = CGROUP_MODE_UNIFIED, .unified = "/sys/fs/cgroup/x"};
  CHECK(cgroup_manager_of(&f) == cgroup_manager_for(CGROUP_MODE_UNIFIED));
  const char *bad[] = {"1;mode=unified;sd=nocolon",
                       "1;mode=unified;sd=system.slice:", "1;mode=unified;sd=a:b;sd=c:d"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    CHECK(cgroup_paths_parse(bad[i], &q, &e) < 0);
    CHECK(q.unit == NULL && q.slice == NULL);
    nook_error_free(&e);
  }
}

TEST(systemd_plan_needs_systemd)
{
  /* This host (and CI's) has no systemd as PID 1. */
  if (access("/run/systemd/system", F_OK) == 0)
    SKIP("systemd is the init system here");
  struct cgroup_paths p;
  nook_error_t e = NULL;
  CHECK(err_has(cgroup_plan(CGROUP_DRIVER_SYSTEMD, "system.slice:x:y", "y", &p, &e), &e,
                "systemd is not the init system here"));
}
