/* config.json parsing and validation (oci/config.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oci_test.h"

/* ---- the runtime-spec test suite ----------------------------------------- */

TEST(spec_good_configs_parse_and_validate)
{
  cleanup_free char *dir = NULL;
  xasprintf(&dir, "%s/schema/test/config/good", spec_dir());
  DIR *d = opendir(dir);
  if (d == NULL)
    SKIP("runtime-spec test files not found (set NOOK_OCI_SPEC_DIR)");
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!has_suffix(de->d_name, ".json"))
      continue;
    cleanup_free char *rel = NULL, *json = NULL;
    xasprintf(&rel, "schema/test/config/good/%s", de->d_name);
    size_t len;
    json = spec_file(rel, &len);
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    if (!CHECK(oci_config_parse(json, len, de->d_name, &c, &err) == 0)) {
      printf("  %s: %s\n", de->d_name, err->msg);
      nook_error_free(&err);
      continue;
    }
    n++;
    bool linux_config = !has_prefix(de->d_name, "freebsd") && !has_prefix(de->d_name, "zos");
    if (linux_config && !CHECK(oci_config_validate(c, c->has_process, &err) == 0)) {
      printf("  %s: %s\n", de->d_name, err->msg);
      nook_error_free(&err);
    }
    oci_config_free(c);
  }
  closedir(d);
  CHECK(n >= 9);
}

TEST(spec_bad_configs_rejected)
{
  static const struct {
    const char *file, *want;
  } cases[] = {
      {"freebsd-vnet-disable.json", "bad.json: freebsd.jail.vnet: invalid value \"disable\""},
      {"invalid-json.json", "bad.json: invalid JSON at line 1, column 2: invalid object key"},
      {"linux-hugepage.json",
       "bad.json: linux.resources.hugepageLimits[0].pageSize: invalid page size \"64kB\""},
      {"linux-netdevice.json", "bad.json: linux.netDevices.eth0.name: expected a string, got 23"},
      {"linux-rdma.json", "bad.json: linux.resources.rdma.mlx5_1.hcaHandles: expected an "
                          "unsigned 32-bit integer, got \"not a uint32\""},
  };
  cleanup_free char *dir = NULL;
  xasprintf(&dir, "%s/schema/test/config/bad", spec_dir());
  if (access(dir, F_OK) < 0)
    SKIP("runtime-spec test files not found (set NOOK_OCI_SPEC_DIR)");
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    cleanup_free char *rel = NULL, *json = NULL;
    xasprintf(&rel, "schema/test/config/bad/%s", cases[i].file);
    size_t len;
    json = spec_file(rel, &len);
    if (!CHECK(json != NULL))
      continue;
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    CHECK(oci_config_parse(json, len, "bad.json", &c, &err) < 0);
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err ? err->msg : NULL, cases[i].want);
    nook_error_free(&err);
  }
  /* Every bad file is covered. */
  DIR *d = opendir(dir);
  struct dirent *de;
  size_t n = 0;
  while (d != NULL && (de = readdir(d)) != NULL)
    n += has_suffix(de->d_name, ".json");
  if (d != NULL)
    closedir(d);
  CHECK_INT_EQ(n, ARRAY_SIZE(cases));
}

TEST(spec_example_values)
{
  size_t len;
  cleanup_free char *json = spec_file("schema/test/config/good/spec-example.json", &len);
  if (json == NULL)
    SKIP("runtime-spec test files not found");
  struct oci_config *c = NULL;
  nook_error_t err = NULL;
  if (!CHECK(oci_config_parse(json, len, "config.json", &c, &err) == 0)) {
    nook_error_free(&err);
    return;
  }
  CHECK_STR_EQ(c->oci_version, "0.5.0-dev");
  CHECK_STR_EQ(c->root_path, "rootfs");
  CHECK(c->root_readonly);
  CHECK_STR_EQ(c->hostname, "slartibartfast");
  CHECK_STR_EQ(c->domainname, "foobarbaz.test");

  const struct oci_process *p = &c->process;
  CHECK(c->has_process && p->terminal);
  CHECK_INT_EQ(p->user.uid, 1);
  CHECK_INT_EQ(p->user.n_additional_gids, 2);
  CHECK_INT_EQ(p->user.additional_gids[1], 6);
  CHECK_INT_EQ(p->n_args, 1);
  CHECK_STR_EQ(p->args[0], "sh");
  CHECK(p->args[1] == NULL);
  CHECK_STR_EQ(p->env[1], "TERM=xterm");
  CHECK(p->has_capabilities && p->capabilities.has_ambient);
  CHECK_INT_EQ(p->capabilities.bounding, (1 << 29) | (1 << 5) | (1 << 10));
  CHECK_INT_EQ(p->capabilities.effective, (1 << 29) | (1 << 5));
  CHECK_INT_EQ(p->capabilities.ambient, 1 << 10);
  CHECK_INT_EQ(p->n_rlimits, 2);
  CHECK_INT_EQ(p->rlimits[0].resource, RLIMIT_CORE);
  CHECK_STR_EQ(p->rlimits[1].type, "RLIMIT_NOFILE");
  CHECK_INT_EQ(p->rlimits[1].soft, 1024);
  CHECK(p->no_new_privileges);
  CHECK_STR_EQ(p->apparmor_profile, "acme_secure_profile");

  CHECK_INT_EQ(c->n_mounts, 7);
  CHECK_STR_EQ(c->mounts[2].destination, "/dev/pts");
  CHECK_INT_EQ(c->mounts[2].n_options, 6);
  CHECK_STR_EQ(c->mounts[2].options[5], "gid=5");
  CHECK(c->mounts[0].options == NULL);

  CHECK(c->has_hooks);
  CHECK_INT_EQ(c->hooks.n_prestart, 2);
  CHECK_STR_EQ(c->hooks.prestart[0].args[2], "arg2");
  CHECK(c->hooks.prestart[1].args == NULL);
  CHECK(c->hooks.poststart[0].has_timeout && c->hooks.poststart[0].timeout == 5);
  CHECK_INT_EQ(c->hooks.n_start_container, 1);

  CHECK_STR_EQ(oci_annotation(c, "com.example.key2"), "value2");
  CHECK(oci_annotation(c, "nope") == NULL);

  const struct oci_linux *l = &c->linux_;
  CHECK(c->has_linux);
  CHECK_INT_EQ(l->n_devices, 2);
  CHECK_INT_EQ(l->devices[0].type, 'c');
  CHECK_INT_EQ(l->devices[0].major, 10);
  CHECK_INT_EQ(l->devices[0].file_mode, 438);
  CHECK_INT_EQ(l->uid_mappings[0].host_id, 1000);
  CHECK_INT_EQ(l->gid_mappings[0].size, 32000);
  CHECK_INT_EQ(l->n_sysctl, 2);
  CHECK_STR_EQ(l->cgroups_path, "/myRuntime/myContainer");
  CHECK_STR_EQ(l->rootfs_propagation, "slave");
  CHECK_INT_EQ(l->rootfs_propagation_flags, MS_SLAVE);
  CHECK(l->has_time_offsets_boottime && l->time_boottime.secs == 604800);
  CHECK(l->has_time_offsets_monotonic && l->time_monotonic.secs == 172800);
  CHECK_INT_EQ(l->n_namespaces, 8);
  CHECK_INT_EQ(l->namespaces[1].type, OCI_NS_NETWORK);
  CHECK(l->namespaces[1].path == NULL);
  CHECK(oci_config_namespace(c, OCI_NS_TIME) != NULL);
  CHECK_INT_EQ(l->n_masked_paths, 4);
  CHECK_STR_EQ(l->readonly_paths[5], "/proc/sysrq-trigger");
  CHECK_STR_EQ(l->mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811");

  const struct oci_resources *r = &l->resources;
  CHECK(l->has_resources);
  CHECK(r->has_network && r->network.class_id == 1048577);
  CHECK_STR_EQ(r->network.priorities[1].name, "eth1");
  CHECK(r->has_pids && r->pids_limit == 32771);
  CHECK_INT_EQ(r->n_hugepage_limits, 2);
  CHECK_STR_EQ(r->hugepage_limits[1].page_size, "64KB");
  CHECK(r->hugepage_limits[0].limit == 9223372036854772000ULL);
  CHECK(r->has_memory && r->memory.limit == 536870912 && r->memory.kernel == -1);
  CHECK(r->memory.has_swappiness && r->memory.swappiness == 0);
  CHECK(r->memory.has_disable_oom_killer && !r->memory.disable_oom_killer);
  CHECK(r->has_cpu && r->cpu.shares == 1024 && r->cpu.quota == 1000000);
  CHECK(r->cpu.has_burst && !r->cpu.has_idle);
  CHECK_STR_EQ(r->cpu.cpus, "2-3");
  CHECK_INT_EQ(r->n_devices, 3);
  CHECK(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1);
  CHECK(!r->devices[0].has_major);
  CHECK_STR_EQ(r->devices[0].access, "rwm");
  CHECK(r->devices[2].type == 'b' && r->devices[2].major == 8 && r->devices[2].has_minor);
  CHECK(r->has_blockio && r->blockio.weight == 10);
  CHECK_INT_EQ(r->blockio.n_weight_device, 2);
  CHECK(r->blockio.weight_device[1].has_weight && !r->blockio.weight_device[1].has_leaf_weight);
  CHECK_INT_EQ(r->blockio.n_throttle_write_iops, 1);
  CHECK_INT_EQ(r->blockio.throttle_write_iops[0].rate, 300);

  const struct oci_seccomp *s = &l->seccomp;
  CHECK(l->has_seccomp);
  CHECK(s->default_action == SCMP_ACT_ALLOW);
  CHECK_INT_EQ(s->n_architectures, 2);
  CHECK(s->architectures[0] == SCMP_ARCH_X86 && s->architectures[1] == SCMP_ARCH_X32);
  CHECK_INT_EQ(s->n_syscalls, 1);
  CHECK(s->syscalls[0].action == SCMP_ACT_ERRNO(0));
  CHECK(!s->syscalls[0].has_errno_ret && s->syscalls[0].errno_ret == EPERM);
  CHECK_STR_EQ(s->syscalls[0].names[1], "chmod");
  oci_config_free(c);
}

/* ---- field-level errors -------------------------------------------------- */

TEST(unknown_capability)
{
  /* config.md: unknown names are warned about and left out, not an error. */
  struct oci_config *c = parse_ok(
      PROC("'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_TEST'], "
           "'ambient': ['chown']}"));
  CHECK(c != NULL && c->process.capabilities.bounding == ((1 << 5) | 1 | (1 << 13)));
  CHECK(c != NULL && c->process.capabilities.has_ambient && c->process.capabilities.ambient == 0);
  CHECK(c != NULL && c->process.n_unknown_caps == 2);
  if (c != NULL && c->process.n_unknown_caps == 2) {
    CHECK_STR_EQ(c->process.unknown_caps[0],
                 "process.capabilities.bounding[3]: unknown capability \"CAP_TEST\"");
    CHECK_STR_EQ(c->process.unknown_caps[1],
                 "process.capabilities.ambient[0]: unknown capability \"chown\"");
  }
  oci_config_free(c);
  CHECK_PARSE_ERROR(PROC("'capabilities': {'effective': [5]}"),
                    "process.capabilities.effective[0]: expected a string, got 5");
  c = parse_ok(PROC("'capabilities': {'permitted': ['CAP_CHECKPOINT_RESTORE', 'CAP_CHOWN']}"));
  CHECK(c != NULL && c->process.capabilities.permitted == ((1ULL << 40) | 1));
  CHECK(c != NULL && c->process.capabilities.has_permitted &&
        !c->process.capabilities.has_bounding && c->process.n_unknown_caps == 0);
  oci_config_free(c);
}

TEST(unknown_rlimit)
{
  CHECK_PARSE_ERROR(PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 2}, "
                         "{'type': 'RLIMIT_FOO', 'soft': 1, 'hard': 2}]"),
                    "config.json: process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
  CHECK_PARSE_ERROR(PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 2}]"),
                    "process.rlimits[0].soft: required field is missing");
  CHECK_PARSE_ERROR(PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': -1, 'hard': 2}]"),
                    "process.rlimits[0].soft: expected an unsigned 64-bit integer, got -1");
  struct oci_config *c =
      parse_ok(PROC("'rlimits': [{'type': 'RLIMIT_AS', 'soft': 18446744073709551615, 'hard': "
                    "18446744073709551615}]"));
  CHECK(c != NULL && c->process.rlimits[0].hard == UINT64_MAX);
  CHECK(c != NULL && c->process.rlimits[0].resource == RLIMIT_AS);
  oci_config_free(c);
  CHECK_PARSE_ERROR(PROC("'rlimits': [{'type': 'RLIMIT_AS', 'soft': 18446744073709551616, "
                         "'hard': 1}]"),
                    "expected an unsigned 64-bit integer, got 18446744073709551616");
}

TEST(namespaces)
{
  CHECK_VALIDATE_ERROR(LINUX("'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': 'pid'}]"),
                       false, "linux.namespaces[2].type: duplicate namespace \"pid\"");
  CHECK_PARSE_ERROR(LINUX("'namespaces': [{'type': 'pid'}, {'type': 'net'}]"),
                    "config.json: linux.namespaces[1].type: unknown namespace type \"net\"");
  CHECK_PARSE_ERROR(LINUX("'namespaces': [{'path': '/proc/1/ns/pid'}]"),
                    "linux.namespaces[0].type: required field is missing");
  CHECK_VALIDATE_ERROR(LINUX("'namespaces': [{'type': 'network', 'path': 'run/netns/a'}]"), false,
                       "linux.namespaces[0].path: must be an absolute path, got \"run/netns/a\"");
  CHECK_VALID(LINUX("'namespaces': [{'type': 'network', 'path': '/run/netns/a'}, {'type': "
                    "'time'}, {'type': 'cgroup'}]"),
              false);
}

TEST(mount_destinations)
{
  /* config.md: relative destinations are deprecated but mean "from /". */
  struct oci_config *c =
      parse_ok("{" BASE ", 'mounts': [{'destination': 'tmp', 'type': 'tmpfs'}]}");
  CHECK(c != NULL && strcmp(c->mounts[0].destination, "/tmp") == 0);
  oci_config_free(c);
  c = parse_ok("{" BASE ", 'mounts': [{'destination': 'run//x/./'}, {'destination': '/dev/'}, "
               "{'destination': '/'}, {'destination': '/a/../b'}]}");
  if (CHECK(c != NULL && c->n_mounts == 4)) {
    CHECK_STR_EQ(c->mounts[0].destination, "/run/x");
    CHECK_STR_EQ(c->mounts[1].destination, "/dev");
    CHECK_STR_EQ(c->mounts[2].destination, "/");
    CHECK_STR_EQ(c->mounts[3].destination, "/a/../b");
  }
  oci_config_free(c);
  CHECK_PARSE_ERROR("{" BASE ", 'mounts': [{'destination': '/a'}, {'destination': ''}]}",
                    "config.json: mounts[1].destination: must not be empty");
  CHECK_PARSE_ERROR("{" BASE ", 'mounts': [{'type': 'tmpfs'}]}",
                    "mounts[0].destination: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'mounts': [{'destination': '/a', 'options': 'ro'}]}",
                    "mounts[0].options: expected an array, got \"ro\"");
  CHECK_PARSE_ERROR("{" BASE ", 'mounts': {'destination': '/a'}}",
                    "config.json: mounts: expected an array, got an object");
}

TEST(idmapped_mounts)
{
  CHECK_VALIDATE_ERROR("{" BASE ", 'mounts': [{'destination': '/a', 'source': '/b', 'options': "
                       "['rbind', 'idmap']}]}",
                       false, "mounts[0]: an idmap mount needs uidMappings and gidMappings");
  CHECK_VALIDATE_ERROR("{" BASE ", 'mounts': [{'destination': '/a', 'uidMappings': "
                       "[{'containerID': 0, 'hostID': 1000, 'size': 1}]}]}",
                       false, "mounts[0]: uidMappings and gidMappings must be given together");
  CHECK_PARSE_ERROR("{" BASE ", 'mounts': [{'destination': '/a', 'uidMappings': "
                    "[{'containerID': 0, 'hostID': 1000}]}]}",
                    "mounts[0].uidMappings[0].size: required field is missing");
  CHECK_VALID("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['ridmap'], 'uidMappings': "
              "[{'containerID': 0, 'hostID': 1000, 'size': 1}], 'gidMappings': "
              "[{'containerID': 0, 'hostID': 1000, 'size': 1}]}]}",
              false);
}

TEST(user_namespace_mappings)
{
  CHECK_VALIDATE_ERROR(
      LINUX("'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}], 'namespaces': "
            "[{'type': 'mount'}]"),
      false, "linux.uidMappings: mappings need a user namespace");
  CHECK_VALIDATE_ERROR(LINUX("'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
                       false, "linux.gidMappings: mappings need a user namespace");
  CHECK_PARSE_ERROR(
      LINUX("'uidMappings': [{'containerID': 0, 'hostID': 4294967296, 'size': 1}]"),
      "linux.uidMappings[0].hostID: expected an unsigned 32-bit integer, got 4294967296");
  CHECK_VALID(LINUX("'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}], "
                    "'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}], "
                    "'namespaces': [{'type': 'user'}]"),
              false);
}

TEST(time_offsets)
{
  CHECK_VALIDATE_ERROR(LINUX("'timeOffsets': {'boottime': {'secs': 1}}"), false,
                       "linux.timeOffsets: offsets need a time namespace");
  CHECK_VALIDATE_ERROR(LINUX("'timeOffsets': {'boottime': {'secs': 1}}, 'namespaces': "
                             "[{'type': 'time', 'path': '/proc/1/ns/time'}]"),
                       false, "linux.timeOffsets: offsets cannot be set");
  CHECK_PARSE_ERROR(LINUX("'timeOffsets': {'realtime': {'secs': 1}}"),
                    "linux.timeOffsets.realtime: unknown clock");
  CHECK_PARSE_ERROR(LINUX("'timeOffsets': {'monotonic': {'nanosecs': 1000000000}}"),
                    "linux.timeOffsets.monotonic.nanosecs: must be less than 1000000000");
  struct oci_config *c =
      parse_ok(LINUX("'timeOffsets': {'monotonic': {'secs': -5, 'nanosecs': 7}}, 'namespaces': "
                     "[{'type': 'time'}]"));
  CHECK(c != NULL && c->linux_.has_time_offsets_monotonic && !c->linux_.has_time_offsets_boottime);
  CHECK(c != NULL && c->linux_.time_monotonic.secs == -5 && c->linux_.time_monotonic.nanosecs == 7);
  oci_config_free(c);
}

TEST(hostname_needs_uts_namespace)
{
  CHECK_VALIDATE_ERROR("{" BASE ", 'hostname': 'box'}", false,
                       "hostname: setting it needs a uts namespace");
  CHECK_VALIDATE_ERROR("{" BASE ", 'domainname': 'example.org', 'linux': {'namespaces': "
                       "[{'type': 'pid'}]}}",
                       false, "domainname: setting it needs a uts namespace");
  CHECK_VALID("{" BASE ", 'hostname': 'box', 'linux': {'namespaces': [{'type': 'uts'}]}}", false);
  CHECK_VALID("{" BASE ", 'hostname': ''}", false);
}

TEST(malformed_json_position)
{
  CHECK_PARSE_ERROR(
      "{\n  'ociVersion': '1.0.0'\n  'root': {}\n}",
      "config.json: invalid JSON at line 3, column 3: after key and value, inside map, "
      "I expect ',' or '}'");
  CHECK_PARSE_ERROR("{'ociVersion': '1.0.0',\n\n   'root': {'path': tru}}",
                    "config.json: invalid JSON at line 3, column ");
  CHECK_PARSE_ERROR("{'ociVersion': '1.0.0',", "invalid JSON at line 1, column 24: premature EOF");
  CHECK_PARSE_ERROR("", "config.json: invalid JSON at line 1, column 1");
  CHECK_PARSE_ERROR("{} {}", "invalid JSON at line 1, column 4: trailing garbage");
  CHECK_PARSE_ERROR("{'a': 'x\\u0000y'}", "strings must not contain NUL characters");
  CHECK_PARSE_ERROR("{'a\\u0000': 1}", "object keys must not contain NUL characters");
  CHECK_PARSE_ERROR("[]", "config.json: expected an object, got an array");
  CHECK_PARSE_ERROR("{'ociVersion': '1.0.0', 'x': '\xff'}", "invalid JSON at line 1, column");
}

TEST(wrong_types)
{
  static const struct {
    const char *json, *want;
  } cases[] = {
      {PROC("'terminal': 'yes'"), "config.json: process.terminal: expected a boolean, got \"yes\""},
      {PROC("'user': {'uid': -1}"),
       "process.user.uid: expected an unsigned 32-bit integer, got -1"},
      {PROC("'user': {'gid': 1.5}"),
       "process.user.gid: expected an unsigned 32-bit integer, got 1.5"},
      {PROC("'user': {'uid': 1e3}"),
       "process.user.uid: expected an unsigned 32-bit integer, got 1e3"},
      {PROC("'user': {'additionalGids': [1, '2']}"),
       "process.user.additionalGids[1]: expected an unsigned 32-bit integer, got \"2\""},
      {PROC("'user': []"), "process.user: expected an object, got an array"},
      {"{" BASE ", 'process': {'cwd': '/', 'args': 'sh'}}",
       "process.args: expected an array, got \"sh\""},
      {"{" BASE ", 'process': {'cwd': '/', 'args': ['sh', null]}}",
       "process.args[1]: expected a string, got null"},
      {"{" BASE ", 'process': {'cwd': 7}}", "process.cwd: expected a string, got 7"},
      {"{'ociVersion': 1}", "config.json: ociVersion: expected a string, got 1"},
      {"{'ociVersion': '1.0.0', 'root': 'rootfs'}", "root: expected an object, got \"rootfs\""},
      {"{" BASE ", 'hostname': false}", "hostname: expected a string, got false"},
      {"{" BASE ", 'annotations': {'a': 1}}", "annotations.a: expected a string, got 1"},
      {"{" BASE ", 'annotations': {'': 'x'}}", "annotations: keys must not be empty"},
      {"{" BASE ", 'annotations': ['a']}", "annotations: expected an object, got an array"},
      {PROC("'consoleSize': {'height': 70000, 'width': 80}"),
       "process.consoleSize.height: expected an unsigned 16-bit integer, got 70000"},
      {PROC("'consoleSize': {'height': 25}"),
       "process.consoleSize.width: required field is missing"},
      {PROC("'oomScoreAdj': 1001"),
       "process.oomScoreAdj: must be between -1000 and 1000, got 1001"},
      {PROC("'oomScoreAdj': 2147483648"),
       "process.oomScoreAdj: expected a 32-bit integer, got 2147483648"},
      {PROC("'scheduler': {'policy': 'SCHED_FOO'}"),
       "process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\""},
      {PROC("'scheduler': {'policy': 'SCHED_RR', 'flags': ['SCHED_FLAG_BAR']}"),
       "process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_BAR\""},
      {PROC("'scheduler': {'nice': 1}"), "process.scheduler.policy: required field is missing"},
      {PROC("'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 8}"),
       "process.ioPriority.priority: must be between 0 and 7, got 8"},
      {PROC("'ioPriority': {'class': 'IOPRIO_CLASS_NONE'}"),
       "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\""},
      {PROC("'execCPUAffinity': {'initial': '0-3,x'}"),
       "process.execCPUAffinity.initial: invalid CPU list \"0-3,x\""},
      {RES("'memory': {'limit': '1G'}"),
       "linux.resources.memory.limit: expected a 64-bit integer, got \"1G\""},
      {RES("'memory': {'limit': 9223372036854775808}"),
       "linux.resources.memory.limit: expected a 64-bit integer, got 9223372036854775808"},
      {RES("'memory': {'swap': -9223372036854775809}"),
       "linux.resources.memory.swap: expected a 64-bit integer, got -9223372036854775809"},
      {RES("'pids': {}"), "linux.resources.pids.limit: required field is missing"},
      {RES("'blockIO': {'weight': 65536}"),
       "linux.resources.blockIO.weight: expected an unsigned 16-bit integer, got 65536"},
      {RES("'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}]}"),
       "linux.resources.blockIO.weightDevice[0]: at least one of weight and leafWeight"},
      {RES("'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0}]}"),
       "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field is missing"},
      {RES("'rdma': {'mlx4_0': {}}"),
       "linux.resources.rdma.mlx4_0: at least one of hcaHandles and hcaObjects is required"},
      {RES("'devices': [{'allow': true, 'type': 'x'}]"),
       "linux.resources.devices[0].type: invalid device type \"x\""},
      {RES("'devices': [{'allow': true, 'access': 'rwx'}]"),
       "linux.resources.devices[0].access: invalid access \"rwx\""},
      {RES("'devices': [{'access': 'rwm'}]"),
       "linux.resources.devices[0].allow: required field is missing"},
      {RES("'hugepageLimits': [{'pageSize': '02MB', 'limit': 1}]"),
       "hugepageLimits[0].pageSize: invalid page size \"02MB\""},
      {RES("'hugepageLimits': [{'pageSize': '2MB'}]"),
       "hugepageLimits[0].limit: required field is missing"},
      {RES("'unified': {'memory.max': 5}"),
       "linux.resources.unified[\"memory.max\"]: expected a string, got 5"},
      {LINUX("'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1}]"),
       "linux.devices[0].minor: required field is missing"},
      {LINUX("'devices': [{'path': '/dev/x', 'type': 'q'}]"),
       "linux.devices[0].type: invalid device type \"q\""},
      {LINUX("'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1, 'minor': 3, 'fileMode': "
             "65536}]"),
       "linux.devices[0].fileMode: file mode 65536 is out of range"},
      {LINUX("'sysctl': {'net.ipv4.ip_forward': 1}"),
       "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got 1"},
      {LINUX("'netDevices': {'eth0/x': {}}"),
       "linux.netDevices[\"eth0/x\"]: invalid network interface name \"eth0/x\""},
      {LINUX("'netDevices': {'eth0': {'name': 'a-very-long-interface-name'}}"),
       "linux.netDevices.eth0.name: invalid network interface name"},
      {LINUX("'rootfsPropagation': 'bogus'"),
       "linux.rootfsPropagation: unknown rootfs propagation \"bogus\""},
      {LINUX("'personality': {'domain': 'LINUX64'}"),
       "linux.personality.domain: unknown personality domain \"LINUX64\""},
      {LINUX("'personality': {'domain': 'LINUX', 'flags': ['ADDR_NO_RANDOMIZE']}"),
       "linux.personality.flags[0]: unsupported personality flag \"ADDR_NO_RANDOMIZE\""},
      {LINUX("'memoryPolicy': {'nodes': '0'}"),
       "linux.memoryPolicy.mode: required field is missing"},
      {LINUX("'memoryPolicy': {'mode': 'MPOL_BIND', 'flags': ['MPOL_F_X']}"),
       "linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_X\""},
      {LINUX("'intelRdt': {'memBwSchema': 'L3:0=1'}"),
       "linux.intelRdt.memBwSchema: must start with \"MB:\""},
      {LINUX("'intelRdt': {'schemata': ['L3:0=7f0', 'MB:0=20\\nL2:0=f']}"),
       "linux.intelRdt.schemata[1]: must not contain newlines"},
      {"{" BASE ", 'hooks': {'poststart': [{'path': '/bin/true', 'timeout': 0}]}}",
       "hooks.poststart[0].timeout: must be greater than zero, got 0"},
      {"{" BASE ", 'hooks': {'prestart': [{'args': ['x']}]}}",
       "hooks.prestart[0].path: required field is missing"},
      {"{" BASE ", 'hooks': {'poststop': {}}}", "hooks.poststop: expected an array, got an object"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
    CHECK_PARSE_ERROR(cases[i].json, cases[i].want);
}

TEST(required_fields)
{
  CHECK_PARSE_ERROR("{'root': {'path': 'rootfs'}}",
                    "config.json: ociVersion: required field is missing");
  CHECK_PARSE_ERROR("{'ociVersion': '1.0.0', 'root': {}}", "root.path: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'process': {'args': ['sh']}}",
                    "process.cwd: required field is missing");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {}"),
                    "linux.seccomp.defaultAction: required field is missing");
  /* Not set and null are the same. */
  struct oci_config *c =
      parse_ok("{" BASE ", 'hostname': null, 'process': null, 'linux': {'resources': null}}");
  CHECK(c != NULL && c->hostname == NULL && !c->has_process && c->has_linux &&
        !c->linux_.has_resources);
  oci_config_free(c);
  CHECK_VALIDATE_ERROR("{'ociVersion': '1.0.0'}", false, "root.path: required field is missing");
}

TEST(go_zero_values_are_unset)
{
  /* Go cannot tell "" from absent; runc treats both as "not set". */
  struct oci_config *c = parse_ok(
      "{" BASE ", 'hostname': '', 'process': {'cwd': '/', 'apparmorProfile': '', "
      "'selinuxLabel': '', 'consoleSize': {'height': 25, 'width': 80}}, 'linux': {'namespaces': "
      "[{'type': 'pid', 'path': ''}], 'cgroupsPath': '', 'mountLabel': '', 'rootfsPropagation': "
      "'', 'intelRdt': {'closID': ''}, 'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', "
      "'listenerPath': ''}}}");
  if (CHECK(c != NULL)) {
    CHECK(c->hostname == NULL && c->process.apparmor_profile == NULL &&
          c->process.selinux_label == NULL);
    CHECK(c->linux_.namespaces[0].path == NULL && c->linux_.cgroups_path == NULL);
    CHECK(c->linux_.mount_label == NULL && c->linux_.rootfs_propagation == NULL &&
          c->linux_.rootfs_propagation_flags == 0);
    CHECK(c->linux_.has_intel_rdt && c->linux_.intel_rdt.clos_id == NULL);
    CHECK(c->linux_.seccomp.listener_path == NULL);
    /* config.md: consoleSize is ignored without a terminal */
    CHECK(!c->process.has_console_size);
  }
  oci_config_free(c);
  c = parse_ok(PROC("'terminal': true, 'consoleSize': {'height': 25, 'width': 80}"));
  CHECK(c != NULL && c->process.has_console_size && c->process.console_width == 80);
  oci_config_free(c);
}

TEST(seccomp)
{
  struct oci_config *c = parse_ok(LINUX(
      "'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38, 'flags': "
      "['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'], 'architectures': "
      "['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_LOONGARCH64'], 'syscalls': ["
      "{'names': ['ptrace'], 'action': 'SCMP_ACT_TRACE'}, "
      "{'names': ['kill'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 1, 'value': 9, 'op': "
      "'SCMP_CMP_EQ'}, {'index': 5, 'value': 255, 'valueTwo': 18446744073709551615, 'op': "
      "'SCMP_CMP_MASKED_EQ'}]}, "
      "{'names': ['mount'], 'action': 'SCMP_ACT_KILL_PROCESS'}, "
      "{'names': ['a', 'b'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}"));
  if (CHECK(c != NULL)) {
    const struct oci_seccomp *s = &c->linux_.seccomp;
    CHECK(s->default_action == SCMP_ACT_ERRNO(0));
    CHECK(s->has_default_errno_ret && s->default_errno_ret == 38);
    CHECK_STR_EQ(s->default_action_name, "SCMP_ACT_ERRNO");
    CHECK_INT_EQ(s->flags, 3);
    CHECK_INT_EQ(s->n_architectures, 3);
    CHECK(s->architectures[1] == SCMP_ARCH_AARCH64);
    CHECK(s->syscalls[0].action == SCMP_ACT_TRACE(0) && s->syscalls[0].errno_ret == EPERM);
    CHECK(s->syscalls[1].action == SCMP_ACT_ALLOW && s->syscalls[1].errno_ret == 0);
    CHECK_INT_EQ(s->syscalls[1].n_args, 2);
    CHECK(s->syscalls[1].args[0].index == 1 && s->syscalls[1].args[0].op == SCMP_CMP_EQ);
    CHECK(s->syscalls[1].args[1].value_two == UINT64_MAX);
    CHECK(s->syscalls[1].args[1].op == SCMP_CMP_MASKED_EQ);
    CHECK(s->syscalls[2].action == SCMP_ACT_KILL_PROCESS);
    CHECK(s->syscalls[3].has_errno_ret && s->syscalls[3].errno_ret == 1);
    CHECK_STR_EQ(s->syscalls[3].names[1], "b");
  }
  oci_config_free(c);

  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}"),
                    "linux.seccomp.defaultErrnoRet: not supported with action SCMP_ACT_ALLOW");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
                          "['x'], 'action': 'SCMP_ACT_KILL', 'errnoRet': 1}]}"),
                    "linux.seccomp.syscalls[0].errnoRet: not supported with action SCMP_ACT_KILL");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_DENY'}"),
                    "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_DENY\"");
  CHECK_PARSE_ERROR(
      LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': "
            "['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX']}"),
      "linux.seccomp.architectures[1]: unknown seccomp architecture \"SCMP_ARCH_VAX\"");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['X']}"),
                    "linux.seccomp.flags[0]: unknown seccomp flag \"X\"");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
                          "[], 'action': 'SCMP_ACT_KILL'}]}"),
                    "linux.seccomp.syscalls[0].names: must contain at least one system call");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
                          "['x'], 'action': 'SCMP_ACT_KILL', 'args': [{'index': 6, 'value': 1, "
                          "'op': 'SCMP_CMP_EQ'}]}]}"),
                    "linux.seccomp.syscalls[0].args[0].index: a system call has 6 arguments");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
                          "['x'], 'action': 'SCMP_ACT_KILL', 'args': [{'index': 0, 'value': 1, "
                          "'op': 'SCMP_CMP_XOR'}]}]}"),
                    "args[0].op: unknown seccomp operator \"SCMP_CMP_XOR\"");
  CHECK_PARSE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
                          "['x']}]}"),
                    "linux.seccomp.syscalls[0].action: required field is missing");
  CHECK_VALIDATE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', "
                             "'listenerMetadata': 'x'}"),
                       false,
                       "linux.seccomp.listenerMetadata: must not be set without listenerPath");
  CHECK_VALIDATE_ERROR(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': "
                             "[{'names': ['x'], 'action': 'SCMP_ACT_NOTIFY'}]}"),
                       false,
                       "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs listenerPath");
  CHECK_VALID(LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/a.sock', "
                    "'listenerMetadata': 'x', 'syscalls': [{'names': ['x'], 'action': "
                    "'SCMP_ACT_NOTIFY'}]}"),
              false);
}

TEST(vm_object)
{
  struct oci_config *c = parse_ok(
      "{" BASE ", 'vm': {'hypervisor': {'path': '/usr/bin/qemu-system-x86_64', 'parameters': "
      "['-device', 'virtio-rng-device']}, 'kernel': {'path': '/k/vmlinux', 'parameters': "
      "['foo=bar', 'hello world'], 'initrd': '/k/initrd.img'}, 'image': {'path': '/i/root.img', "
      "'format': 'qcow2'}, 'hwConfig': {'vcpus': 2, 'memory': 4194304}}}");
  if (!CHECK(c != NULL))
    return;
  const struct oci_vm *vm = &c->vm;
  CHECK(c->has_vm && vm->has_hypervisor && vm->has_image);
  CHECK_STR_EQ(vm->hypervisor_path, "/usr/bin/qemu-system-x86_64");
  CHECK_INT_EQ(vm->n_hypervisor_parameters, 2);
  CHECK_STR_EQ(vm->hypervisor_parameters[1], "virtio-rng-device");
  CHECK(vm->hypervisor_parameters[2] == NULL);
  CHECK_STR_EQ(vm->kernel_path, "/k/vmlinux");
  CHECK_INT_EQ(vm->n_kernel_parameters, 2);
  CHECK_STR_EQ(vm->kernel_parameters[1], "hello world");
  CHECK_STR_EQ(vm->kernel_initrd, "/k/initrd.img");
  CHECK_STR_EQ(vm->image_path, "/i/root.img");
  CHECK_STR_EQ(vm->image_format, "qcow2");
  CHECK(vm->has_vcpus && vm->vcpus == 2 && vm->has_memory && vm->memory == 4194304);
  CHECK(!vm->has_device_tree && !vm->has_dtdevs && !vm->has_iomems && !vm->has_irqs);
  oci_config_free(c);

  c = parse_ok("{" BASE ", 'vm': {'kernel': {'path': '/k'}, 'image': {'path': '/i'}}}");
  if (CHECK(c != NULL)) {
    CHECK(c->has_vm && !c->vm.has_hypervisor && !c->vm.has_vcpus && !c->vm.has_memory);
    CHECK(c->vm.image_format == NULL); /* raw */
    CHECK(c->vm.kernel_parameters == NULL && c->vm.hypervisor_path == NULL);
    oci_config_free(c);
  }
  c = parse_ok("{" BASE "}");
  if (CHECK(c != NULL)) {
    CHECK(!c->has_vm);
    oci_config_free(c);
  }

  CHECK_PARSE_ERROR("{" BASE ", 'vm': {}}", "config.json: vm.kernel: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': {'kernel': {}}}",
                    "config.json: vm.kernel.path: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': {'kernel': {'path': '/k'}, 'hypervisor': {}}}",
                    "config.json: vm.hypervisor.path: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': {'kernel': {'path': '/k'}, 'image': {'format': 'raw'}}}",
                    "config.json: vm.image.path: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': {'kernel': {'path': '/k', 'parameters': 'a'}}}",
                    "config.json: vm.kernel.parameters: expected an array");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': {'kernel': {'path': '/k'}, 'hwConfig': {'vcpus': -1}}}",
                    "config.json: vm.hwConfig.vcpus: expected an unsigned 32-bit integer");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': {'kernel': {'path': '/k'}, 'hwConfig': {'irqs': ['x']}}}",
                    "config.json: vm.hwConfig.irqs[0]: expected an unsigned 32-bit integer");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': []}", "config.json: vm: expected an object");
}

TEST(vm_object_validation)
{
#define VM(...) "{" BASE ", 'vm': {'kernel': {'path': '/k'}, " __VA_ARGS__ "}}"
  CHECK_VALID(VM("'image': {'path': '/i', 'format': 'raw'}"), false);
  CHECK_VALID(VM("'image': {'path': '/i', 'format': 'qcow2'}"), false);
  CHECK_VALIDATE_ERROR("{" BASE ", 'vm': {'kernel': {'path': 'vmlinux'}}}", false,
                       "vm.kernel.path: must be an absolute path, got \"vmlinux\"");
  CHECK_VALIDATE_ERROR(VM("'hypervisor': {'path': 'qemu-system-x86_64'}"), false,
                       "vm.hypervisor.path: must be an absolute path, got \"qemu-system-x86_64\"");
  CHECK_VALIDATE_ERROR("{" BASE ", 'vm': {'kernel': {'path': '/k', 'initrd': 'i'}}}", false,
                       "vm.kernel.initrd: must be an absolute path, got \"i\"");
  CHECK_VALIDATE_ERROR(VM("'image': {'path': 'i.img'}"), false,
                       "vm.image.path: must be an absolute path, got \"i.img\"");
  static const char *const formats[] = {"vdi", "vmdk", "vhd", "iso"};
  for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
    cleanup_free char *json = NULL, *want = NULL;
    xasprintf(&json, VM("'image': {'path': '/i', 'format': '%s'}"), formats[i]);
    xasprintf(&want,
              "vm.image.format: \"%s\" is not supported: nook's VM backends take \"raw\" or "
              "\"qcow2\"",
              formats[i]);
    CHECK_VALIDATE_ERROR(json, false, want);
  }
  static const struct {
    const char *hw, *field;
  } foreign[] = {
      {"'deviceTree': '/d.dtb'", "deviceTree"},
      {"'dtdevs': ['a']", "dtdevs"},
      {"'iomems': [{'firstMFN': 1, 'nrMFNs': 1}]", "iomems"},
      {"'irqs': [11]", "irqs"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(foreign); i++) {
    cleanup_free char *json = NULL, *want = NULL;
    xasprintf(&json, VM("'hwConfig': {'vcpus': 1, %s}"), foreign[i].hw);
    xasprintf(&want, "vm.hwConfig.%s: not supported by nook's VM backends (QEMU microvm)",
              foreign[i].field);
    CHECK_VALIDATE_ERROR(json, false, want);
  }
#undef VM
}

TEST(other_platforms)
{
  CHECK_PARSE_ERROR("{" BASE ", 'windows': {}}", "windows.layerFolders: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'windows': {'layerFolders': []}}",
                    "windows.layerFolders: must have at least 1 entries");
  CHECK_PARSE_ERROR("{" BASE ", 'windows': {'layerFolders': ['c:'], 'devices': [{'id': 'x', "
                    "'idType': 'vpci'}]}}",
                    "windows.devices[0].idType: invalid value \"vpci\"");
  CHECK_PARSE_ERROR("{" BASE ", 'vm': {'hypervisor': {'path': '/x'}}}",
                    "vm.kernel: required field is missing");
  CHECK_PARSE_ERROR("{" BASE
                    ", 'vm': {'kernel': {'path': '/k'}, 'hwConfig': {'iomems': [{'nrMFNs': "
                    "1}]}}}",
                    "vm.hwConfig.iomems[0].firstMFN: required field is missing");
  CHECK_PARSE_ERROR("{" BASE ", 'zos': {'namespaces': [{'type': 'network'}]}}",
                    "zos.namespaces[0].type: invalid value \"network\"");
  CHECK_PARSE_ERROR("{" BASE ", 'freebsd': {'jail': {'enforceStatfs': 256}}}",
                    "freebsd.jail.enforceStatfs: expected an unsigned 8-bit integer, got 256");
  CHECK_PARSE_ERROR("{" BASE ", 'solaris': {'anet': [{'linkname': 1}]}}",
                    "solaris.anet[0].linkname: expected a string, got 1");
  struct oci_config *c = parse_ok("{" BASE ", 'solaris': {'milestone': 'x'}, 'windows': "
                                  "{'layerFolders': ['c:\\\\l'], 'credentialSpec': {'a': 1}}, "
                                  "'unknownTopLevel': [1, {'x': null}]}");
  CHECK(c != NULL);
  oci_config_free(c);
}

TEST(duplicate_keys_last_wins)
{
  struct oci_config *c = parse_ok("{" BASE ", 'hostname': 'a', 'hostname': 'b', 'annotations': "
                                  "{'k': '1', 'j': '2', 'k': '3'}}");
  if (CHECK(c != NULL)) {
    CHECK_STR_EQ(c->hostname, "b");
    CHECK_INT_EQ(c->n_annotations, 2);
    CHECK_STR_EQ(oci_annotation(c, "k"), "3");
  }
  oci_config_free(c);
  /* Enough keys for the sort-based duplicate detection. */
  cleanup_free char *json = xstrdup("{" BASE ", 'annotations': {");
  for (int i = 0; i < 100; i++) {
    char *next;
    xasprintf(&next, "%s%s'k%d': 'v%d'", json, i ? ", " : "", i % 40, i);
    free(json);
    json = next;
  }
  char *full;
  xasprintf(&full, "%s}}", json);
  c = parse_ok(full);
  free(full);
  if (CHECK(c != NULL)) {
    CHECK_INT_EQ(c->n_annotations, 40);
    CHECK_STR_EQ(oci_annotation(c, "k5"), "v85");
    CHECK_STR_EQ(oci_annotation(c, "k39"), "v79");
  }
  oci_config_free(c);
}

/* ---- the other entry points ---------------------------------------------- */

TEST(process_parse)
{
  cleanup_free char *json =
      J("{'cwd': '/srv', 'args': ['ls', '-l'], 'env': ['A=1'], 'terminal': true, 'consoleSize': "
        "{'height': 24, 'width': 80}, 'user': {'uid': 1000, 'gid': 100, 'umask': 18}, "
        "'capabilities': {'bounding': ['CAP_KILL']}, 'noNewPrivileges': true, 'oomScoreAdj': "
        "-999, 'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 10, 'deadline': 20, 'period': "
        "30, 'flags': ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM']}, 'ioPriority': {'class': "
        "'IOPRIO_CLASS_RT', 'priority': 2}, 'execCPUAffinity': {'initial': '7', 'final': '0-3,7'}, "
        "'selinuxLabel': 'l', 'apparmorProfile': 'p'}");
  struct oci_process p;
  nook_error_t err = NULL;
  if (!CHECK(oci_process_parse(json, strlen(json), "process.json", &p, &err) == 0)) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    return;
  }
  CHECK_STR_EQ(p.cwd, "/srv");
  CHECK_STR_EQ(p.args[1], "-l");
  CHECK(p.terminal && p.has_console_size && p.console_height == 24 && p.console_width == 80);
  CHECK(p.user.uid == 1000 && p.user.gid == 100 && p.user.has_umask && p.user.umask == 18);
  CHECK(p.has_capabilities && p.capabilities.bounding == (1 << 5));
  CHECK(!p.capabilities.has_effective);
  CHECK(p.has_oom_score_adj && p.oom_score_adj == -999);
  CHECK(p.has_scheduler && p.scheduler.policy == 6 && p.scheduler.flags == 3);
  CHECK(p.scheduler.runtime == 10 && p.scheduler.period == 30);
  CHECK(p.has_io_priority && p.io_priority.klass == 1 && p.io_priority.priority == 2);
  CHECK(p.has_exec_cpu_affinity);
  CHECK_STR_EQ(p.exec_cpu_affinity.final, "0-3,7");
  CHECK(oci_process_validate(&p, &err) == 0);
  oci_process_clear(&p);
  CHECK(p.cwd == NULL && p.args == NULL);

  cleanup_free char *bad = J("{'cwd': '/', 'args': ['x'], 'rlimits': [{'type': 'RLIMIT_X'}]}");
  CHECK(oci_process_parse(bad, strlen(bad), "process.json", &p, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "process.json: rlimits[0].type: unknown rlimit \"RLIMIT_X\"");
  nook_error_free(&err);
  CHECK(p.cwd == NULL && p.rlimits == NULL);

  cleanup_free char *rel = J("{'cwd': 'x', 'args': ['x']}");
  CHECK(oci_process_parse(rel, strlen(rel), "process.json", &p, &err) == 0);
  CHECK(oci_process_validate(&p, &err) < 0);
  CHECK_STR_CONTAINS(err ? err->msg : NULL, "process.cwd: must be an absolute path");
  nook_error_free(&err);
  oci_process_clear(&p);

  CHECK(oci_process_parse("[", 1, "process.json", &p, &err) < 0);
  CHECK_STR_CONTAINS(err ? err->msg : NULL, "process.json: invalid JSON at line 1");
  nook_error_free(&err);
}

TEST(resources_parse)
{
  cleanup_free char *json =
      J("{'memory': {'limit': 1048576, 'swap': -1, 'checkBeforeUpdate': true}, 'cpu': {'quota': "
        "-1, 'period': 100000, 'idle': 1, 'mems': '0'}, 'pids': {'limit': -1}, 'blockIO': "
        "{'throttleWriteBpsDevice': [{'major': 8, 'minor': 16, 'rate': 1}]}, 'rdma': {'mlx5_1': "
        "{'hcaHandles': 3}}, 'unified': {'io.max': '8:0 rbps=1'}}");
  struct oci_resources r;
  nook_error_t err = NULL;
  if (!CHECK(oci_resources_parse(json, strlen(json), "resources.json", &r, &err) == 0)) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    return;
  }
  CHECK(r.has_memory && r.memory.has_limit && r.memory.limit == 1048576);
  CHECK(r.memory.has_swap && r.memory.swap == -1 && !r.memory.has_reservation);
  CHECK(r.memory.has_check_before_update && r.memory.check_before_update);
  CHECK(r.has_cpu && r.cpu.quota == -1 && r.cpu.has_period && !r.cpu.has_shares);
  CHECK(r.cpu.has_idle && r.cpu.idle == 1);
  CHECK(r.has_pids && r.pids_limit == -1);
  CHECK(r.has_blockio && r.blockio.n_throttle_write_bps == 1);
  CHECK(r.n_rdma == 1 && r.rdma[0].has_hca_handles && !r.rdma[0].has_hca_objects);
  CHECK_STR_EQ(r.rdma[0].device, "mlx5_1");
  CHECK(r.n_unified == 1);
  CHECK_STR_EQ(r.unified[0].value, "8:0 rbps=1");
  CHECK(!r.has_network && r.n_devices == 0);
  oci_resources_clear(&r);

  cleanup_free char *bad = J("{'cpu': {'shares': -2}}");
  CHECK(oci_resources_parse(bad, strlen(bad), "resources.json", &r, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL,
               "resources.json: cpu.shares: expected an unsigned 64-bit integer, got -2");
  nook_error_free(&err);
}

TEST(config_load)
{
  char path[] = "/tmp/nook-unit-XXXXXX";
  int fd = mkstemp(path);
  if (!CHECK(fd >= 0))
    return;
  static const char doc[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"/r\"}}";
  CHECK(write(fd, doc, sizeof(doc) - 1) == (ssize_t)sizeof(doc) - 1);
  close(fd);
  struct oci_config *c = NULL;
  nook_error_t err = NULL;
  CHECK(oci_config_load(path, &c, &err) == 0);
  CHECK(c != NULL && strcmp(c->root_path, "/r") == 0);
  oci_config_free(c);
  unlink(path);
  CHECK(oci_config_load(path, &c, &err) < 0);
  CHECK(err != NULL && err->status == ENOENT);
  nook_error_free(&err);
}

TEST(names)
{
  CHECK_INT_EQ(oci_signal_from_name("KILL"), SIGKILL);
  CHECK_INT_EQ(oci_signal_from_name("SIGKILL"), SIGKILL);
  CHECK_INT_EQ(oci_signal_from_name("9"), 9);
  CHECK_INT_EQ(oci_signal_from_name("sigterm"), SIGTERM);
  CHECK_INT_EQ(oci_signal_from_name("SIGRTMIN+2"), SIGRTMIN + 2);
  CHECK_INT_EQ(oci_signal_from_name("RTMAX-1"), SIGRTMAX - 1);
  CHECK_INT_EQ(oci_signal_from_name("RTMAX+1"), -1);
  CHECK_INT_EQ(oci_signal_from_name("0"), -1);
  CHECK_INT_EQ(oci_signal_from_name("65"), -1);
  CHECK_INT_EQ(oci_signal_from_name("FOO"), -1);
  CHECK_INT_EQ(oci_signal_from_name(""), -1);

  CHECK_INT_EQ(oci_cap_from_name("CAP_CHOWN"), 0);
  CHECK_INT_EQ(oci_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  CHECK_INT_EQ(oci_cap_from_name("CHOWN"), -1);
  CHECK_INT_EQ(oci_cap_from_name("CAP_"), -1);
  CHECK_STR_EQ(oci_cap_name(21), "CAP_SYS_ADMIN");
  CHECK(oci_cap_name(41) == NULL && oci_cap_name(-1) == NULL);
  for (int i = 0; i <= OCI_CAP_LAST; i++)
    CHECK_INT_EQ(oci_cap_from_name(oci_cap_name(i)), i);

  CHECK_INT_EQ(oci_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  CHECK_INT_EQ(oci_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  CHECK_INT_EQ(oci_rlimit_from_name("NOFILE"), -1);
  CHECK_STR_EQ(oci_rlimit_name(RLIMIT_MEMLOCK), "RLIMIT_MEMLOCK");

  CHECK_INT_EQ(oci_ns_type_from_name("network"), OCI_NS_NETWORK);
  CHECK_INT_EQ(oci_ns_type_from_name("net"), -1);
  CHECK_STR_EQ(oci_ns_proc_name(OCI_NS_MOUNT), "mnt");
  CHECK_STR_EQ(oci_ns_type_name(OCI_NS_TIME), "time");
  CHECK_INT_EQ(oci_ns_clone_flag(OCI_NS_USER), 0x10000000);
  CHECK_INT_EQ(oci_ns_clone_flag(OCI_NS_TIME), 0x80);
  CHECK(oci_ns_type_name(OCI_NS_COUNT) == NULL);
}
