/* config.json validation (oci_config_validate) and the parser's behaviour
 * on hostile input. */
#include <string.h>

#include <sys/mount.h>
#include <sys/personality.h>

#include "oci_test.h"

/* ---- validation ---------------------------------------------------------- */

TEST(validate_process)
{
  CHECK_VALIDATE_ERROR("{" BASE "}", true, "process: required to start the container");
  CHECK_VALID("{" BASE "}", false);
  CHECK_VALIDATE_ERROR("{" BASE ", 'process': {'cwd': '/'}}", true,
                       "process.args: at least one entry is required");
  CHECK_VALIDATE_ERROR("{" BASE ", 'process': {'cwd': '/', 'args': []}}", true,
                       "process.args: at least one entry is required");
  CHECK_VALID("{" BASE ", 'process': {'cwd': '/'}}", false);
  CHECK_VALIDATE_ERROR("{" BASE ", 'process': {'cwd': 'root', 'args': ['sh']}}", false,
                       "process.cwd: must be an absolute path, got \"root\"");
  CHECK_VALIDATE_ERROR(PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 2}, {'type': "
                            "'RLIMIT_CORE', 'soft': 1, 'hard': 2}, {'type': 'RLIMIT_NOFILE', "
                            "'soft': 1, 'hard': 1}]"),
                       true, "process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\"");
  CHECK_VALIDATE_ERROR(PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 3, 'hard': 2}]"), true,
                       "process.rlimits[0]: soft limit 3 exceeds hard limit 2");
}

TEST(validate_version)
{
  static const char *const good[] = {
      "1.0.0", "1.3.0-rc.1+build.5", "1.0.0-alpha-a.b-c", "1.0.0+0.build.1-rc.10000aaa-kk", "1.4.0",
      "1.99.7"};
  static const char *const bad[] = {"1.0",    "01.0.0",     "1.0.0-01", "1.0.0-", "v1.0.0",
                                    "1.0.0+", "1.0.0-a..b", "",         "1.0.0 "};
  /* Valid SemVer, but not runtime-spec 1.x. */
  static const char *const other_major[] = {"2.0.0", "2.0.0-rc.1", "10.20.30", "11.0.0"};
  for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
    cleanup_free char *json = NULL;
    xasprintf(&json, "{'ociVersion': '%s', 'root': {'path': 'r'}}", good[i]);
    CHECK_VALID(json, false);
  }
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    cleanup_free char *json = NULL;
    xasprintf(&json, "{'ociVersion': '%s', 'root': {'path': 'r'}}", bad[i]);
    CHECK_VALIDATE_ERROR(json, false, "is not a SemVer 2.0.0 version");
  }
  for (size_t i = 0; i < ARRAY_SIZE(other_major); i++) {
    cleanup_free char *json = NULL, *want = NULL;
    xasprintf(&json, "{'ociVersion': '%s', 'root': {'path': 'r'}}", other_major[i]);
    xasprintf(&want, "ociVersion: \"%s\" is not supported: nook implements runtime-spec 1.x",
              other_major[i]);
    CHECK_VALIDATE_ERROR(json, false, want);
  }
  CHECK(oci_version_newer_minor("1.4.0"));
  CHECK(oci_version_newer_minor("1.10.0-rc.1"));
  CHECK(!oci_version_newer_minor("1.3.0"));
  CHECK(!oci_version_newer_minor("1.3.9"));
  CHECK(!oci_version_newer_minor("1.0.2-dev"));
  CHECK(!oci_version_newer_minor("2.0.0"));
  /* The drafts before 1.0.0 (the spec's own example config): read as 1.x. */
  CHECK_VALID("{'ociVersion': '0.5.0-dev', 'root': {'path': 'r'}}", false);
  CHECK(oci_version_draft("0.5.0-dev"));
  CHECK(!oci_version_draft("1.0.0"));
  CHECK(!oci_version_newer_minor("0.9.0"));
}

TEST(validate_rootfs_propagation_needs_mntns)
{
  CHECK_VALIDATE_ERROR(LINUX("'rootfsPropagation': 'shared', 'namespaces': [{'type': 'pid'}]"),
                       false, "linux.rootfsPropagation: needs a mount namespace");
  CHECK_VALID(LINUX("'rootfsPropagation': 'shared', 'namespaces': [{'type': 'mount'}]"), false);
  CHECK_VALID(LINUX("'rootfsPropagation': 'rslave', 'namespaces': [{'type': 'mount', 'path': "
                    "'/proc/1/ns/mnt'}]"),
              false);
  CHECK_VALID(LINUX("'namespaces': [{'type': 'pid'}]"), false);
}

TEST(validate_linux_paths_and_hooks)
{
  CHECK_VALIDATE_ERROR(LINUX("'maskedPaths': ['/proc/kcore', 'proc/keys']"), false,
                       "linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\"");
  CHECK_VALIDATE_ERROR(LINUX("'readonlyPaths': ['']"), false,
                       "linux.readonlyPaths[0]: must be an absolute path");
  CHECK_VALIDATE_ERROR(LINUX("'devices': [{'path': 'dev/fuse', 'type': 'c', 'major': 10, "
                             "'minor': 229}]"),
                       false, "linux.devices[0].path: must be an absolute path");
  CHECK_VALIDATE_ERROR("{" BASE ", 'hooks': {'createRuntime': [{'path': '/bin/a'}, {'path': "
                       "'hook.sh'}]}}",
                       false,
                       "hooks.createRuntime[1].path: must be an absolute path, got \"hook.sh\"");
  CHECK_VALIDATE_ERROR(LINUX("'intelRdt': {'closID': '../x'}"), false,
                       "linux.intelRdt.closID: invalid name \"../x\"");
  CHECK_VALID(LINUX("'intelRdt': {'closID': '/'}"), false);
  CHECK_VALIDATE_ERROR(RES("'cpu': {'quota': 1000, 'burst': 2000}"), false,
                       "linux.resources.cpu.burst: 2000 is larger than quota 1000");
  CHECK_VALID(RES("'cpu': {'quota': -1, 'burst': 2000}"), false);
}

TEST(validate_sysctl)
{
  CHECK_VALIDATE_ERROR(LINUX("'sysctl': {'net.ipv4.ip_forward': '1'}"), false,
                       "linux.sysctl: \"net.ipv4.ip_forward\" needs a network namespace");
  CHECK_VALIDATE_ERROR(LINUX("'sysctl': {'vm.swappiness': '1'}, 'namespaces': [{'type': 'ipc'}]"),
                       false,
                       "linux.sysctl: \"vm.swappiness\" is not in a separate kernel namespace");
  CHECK_VALIDATE_ERROR(LINUX("'sysctl': {'kernel.shmmax': '1'}"), false, "needs a ipc namespace");
  CHECK_VALID(LINUX("'sysctl': {'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10', "
                    "'net/ipv4/ip_forward': '1', 'kernel.hostname': 'x'}, 'namespaces': [{'type': "
                    "'ipc'}, {'type': 'network'}, {'type': 'uts'}]"),
              false);
}

TEST(validate_net_devices_and_memory_policy)
{
  CHECK_VALIDATE_ERROR(LINUX("'netDevices': {'eth0': {'name': 'ctr0'}, 'eth1': {'name': 'ctr0'}}"),
                       false,
                       "linux.netDevices: \"eth0\" and \"eth1\" would both be named \"ctr0\"");
  CHECK_VALID(LINUX("'netDevices': {'eth0': {'name': 'ctr%d'}, 'eth1': {'name': 'ctr%d'}, 'eth2': "
                    "null}, 'namespaces': [{'type': 'network'}]"),
              false);
  CHECK_VALIDATE_ERROR(LINUX("'memoryPolicy': {'mode': 'MPOL_BIND'}"), false,
                       "linux.memoryPolicy.nodes: MPOL_BIND needs at least one node");
  CHECK_VALIDATE_ERROR(LINUX("'memoryPolicy': {'mode': 'MPOL_LOCAL', 'nodes': '0'}"), false,
                       "linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes");
  CHECK_VALIDATE_ERROR(LINUX("'memoryPolicy': {'mode': 'MPOL_INTERLEAVE', 'nodes': '0-1', "
                             "'flags': ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES']}"),
                       false, "exclude each other");
  struct oci_config *c = parse_ok(LINUX(
      "'memoryPolicy': {'mode': 'MPOL_WEIGHTED_INTERLEAVE', 'nodes': '0-3', 'flags': "
      "['MPOL_F_NUMA_BALANCING']}, 'personality': {'domain': 'LINUX32'}, 'rootfsPropagation': "
      "'rshared'"));
  if (CHECK(c != NULL)) {
    CHECK(c->linux_.has_memory_policy && c->linux_.memory_policy.mode == 6);
    CHECK_INT_EQ(c->linux_.memory_policy.flags, 1 << 13);
    CHECK(c->linux_.has_personality && c->linux_.personality.domain == PER_LINUX32);
    CHECK_INT_EQ(c->linux_.rootfs_propagation_flags, MS_SHARED | MS_REC);
  }
  oci_config_free(c);
}

/* ---- robustness ---------------------------------------------------------- */

TEST(every_truncation_fails_cleanly)
{
  size_t len;
  cleanup_free char *json = spec_file("schema/test/config/good/spec-example.json", &len);
  if (json == NULL)
    SKIP("runtime-spec test files not found");
  size_t end = len;
  while (end > 0 && json[end - 1] != '}')
    end--;
  for (size_t n = 0; n <= len; n++) {
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    int r = oci_config_parse(json, n, "config.json", &c, &err);
    if (n < end) {
      if (!CHECK(r < 0 && c == NULL && err != NULL)) {
        printf("  prefix of %zu bytes was accepted\n", n);
        oci_config_free(c);
        break;
      }
      if (!CHECK(strstr(err->msg, "config.json: invalid JSON at line ") == err->msg))
        printf("  %s\n", err->msg);
      nook_error_free(&err);
    } else {
      CHECK(r == 0);
      oci_config_free(c);
    }
  }
}

/* A small deterministic generator, so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

TEST(garbage_inputs)
{
  char buf[512];
  for (int i = 0; i < 2000; i++) {
    size_t n = rng() % sizeof(buf);
    for (size_t j = 0; j < n; j++)
      buf[j] = i % 2 ? (char)rng() : " {}[]\":,0123456789-.eE\\tfnul\"x"[rng() % 31];
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    if (oci_config_parse(buf, n, "config.json", &c, &err) == 0)
      oci_config_free(c);
    else
      CHECK(err != NULL && err->msg != NULL);
    nook_error_free(&err);
  }
}

TEST(mutated_configs)
{
  size_t len;
  cleanup_free char *orig = spec_file("schema/test/config/good/spec-example.json", &len);
  if (orig == NULL)
    SKIP("runtime-spec test files not found");
  static const char tokens[] = "{}[],:\"-0123456789aeflnrstu \\";
  cleanup_free char *buf = xmalloc(len);
  int parsed = 0;
  for (int i = 0; i < 3000; i++) {
    memcpy(buf, orig, len);
    for (int k = 0; k < 1 + i % 4; k++)
      buf[rng() % len] = tokens[rng() % (sizeof(tokens) - 1)];
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    if (oci_config_parse(buf, len, "config.json", &c, &err) == 0) {
      parsed++;
      if (oci_config_validate(c, true, &err) < 0)
        nook_error_free(&err);
      oci_config_free(c);
    } else {
      CHECK(err != NULL && strncmp(err->msg, "config.json: ", 13) == 0);
      nook_error_free(&err);
    }
  }
  CHECK(parsed > 0);
}

static char *nested(size_t depth, const char *open, const char *close)
{
  size_t o = strlen(open), cl = strlen(close);
  char *s = xmalloc(depth * (o + cl) + 64);
  size_t n = 0;
  n += (size_t)sprintf(s, "{\"ociVersion\": \"1.0.0\", \"x\": ");
  for (size_t i = 0; i < depth; i++, n += o)
    memcpy(s + n, open, o);
  for (size_t i = 0; i < depth; i++, n += cl)
    memcpy(s + n, close, cl);
  strcpy(s + n, "}");
  return s;
}

TEST(deep_nesting_rejected)
{
  static const char *const shapes[][2] = {{"[", "]"}, {"{\"a\":", "}"}, {"[{\"b\":", "}]"}};
  for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
    cleanup_free char *deep = nested(10000, shapes[i][0], shapes[i][1]);
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    CHECK(oci_config_parse(deep, strlen(deep), "config.json", &c, &err) < 0);
    CHECK_STR_CONTAINS(err ? err->msg : NULL, "nested more than 128 levels deep");
    nook_error_free(&err);
  }
  /* Deep but reasonable nesting in an unknown field is fine. */
  cleanup_free char *ok = nested(100, "[", "]");
  struct oci_config *c = NULL;
  nook_error_t err = NULL;
  CHECK(oci_config_parse(ok, strlen(ok), "config.json", &c, &err) == 0);
  oci_config_free(c);
  nook_error_free(&err);
}
