/* The JSON nook writes: state (oci/state.h), the default spec (oci/spec.h)
 * and features (oci/features.h). */
#include <seccomp.h>
#include <sys/resource.h>
#include <time.h>

#include "../../base/utils.h"
#include "../../cgroups/cgroup.h"
#include "../../cgroups/stats_json.h"
#include "../../oci/config.h"
#include "../../oci/features.h"
#include "../../oci/json.h"
#include "../../oci/spec.h"
#include "../../oci/state.h"
#include "unit.h"

static const struct json_value *parse_json(const char *text, struct json_doc **doc)
{
  const struct json_value *root = NULL;
  nook_error_t err = NULL;
  if (json_parse(text, strlen(text), "output", doc, &root, &err) < 0) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    *doc = NULL;
    return NULL;
  }
  return root;
}

static const char *str_at(const struct json_value *obj, const char *key)
{
  const struct json_value *v = json_get(obj, key);
  return v != NULL && v->type == JSON_STRING ? v->u.str : NULL;
}

static bool array_has(const struct json_value *arr, const char *s)
{
  for (size_t i = 0; arr != NULL && arr->type == JSON_ARRAY && i < arr->len; i++)
    if (arr->u.items[i].type == JSON_STRING && strcmp(arr->u.items[i].u.str, s) == 0)
      return true;
  return false;
}

/* ---- state --------------------------------------------------------------- */

TEST(state_pretty)
{
  const struct oci_kv ann[] = {{"org.b", "2"}, {"org.a", "1"}};
  struct oci_state s = {
      .oci_version = "1.3.0",
      .id = "c1",
      .status = "running",
      .pid = 4422,
      .bundle = "/containers/redis",
      .annotations = ann,
      .n_annotations = 2,
      .rootfs = "/containers/redis/rootfs",
      .created = "2024-01-02T03:04:05.123456789Z",
      .owner = "",
  };
  cleanup_free char *json = oci_state_to_json(&s, true);
  CHECK_STR_EQ(json, "{\n"
                     "  \"ociVersion\": \"1.3.0\",\n"
                     "  \"id\": \"c1\",\n"
                     "  \"pid\": 4422,\n"
                     "  \"status\": \"running\",\n"
                     "  \"bundle\": \"/containers/redis\",\n"
                     "  \"rootfs\": \"/containers/redis/rootfs\",\n"
                     "  \"created\": \"2024-01-02T03:04:05.123456789Z\",\n"
                     "  \"annotations\": {\n"
                     "    \"org.a\": \"1\",\n"
                     "    \"org.b\": \"2\"\n"
                     "  },\n"
                     "  \"owner\": \"\"\n"
                     "}");
}

TEST(state_compact)
{
  struct oci_state s = {
      .oci_version = "1.3.0", .id = "x\"y", .status = "stopped", .pid = 0, .bundle = "/b"};
  cleanup_free char *json = oci_state_to_json(&s, false);
  CHECK_STR_EQ(
      json,
      "{\"ociVersion\":\"1.3.0\",\"id\":\"x\\\"y\",\"status\":\"stopped\",\"bundle\":\"/b\"}");
  struct json_doc *doc;
  const struct json_value *root = parse_json(json, &doc);
  CHECK(root != NULL && json_get(root, "pid") == NULL);
  CHECK_STR_EQ(str_at(root, "id"), "x\"y");
  json_doc_free(doc);
}

TEST(state_created_for_hooks)
{
  /* What hooks get on stdin: the spec's fields only, pid while it lives. */
  struct oci_state s = {
      .oci_version = "1.3.0", .id = "h", .status = "created", .pid = 7, .bundle = "/b"};
  cleanup_free char *json = oci_state_to_json(&s, false);
  CHECK_STR_EQ(json, "{\"ociVersion\":\"1.3.0\",\"id\":\"h\",\"pid\":7,\"status\":\"created\","
                     "\"bundle\":\"/b\"}");
}

/* ---- spec ---------------------------------------------------------------- */

static struct oci_config *parse_spec(bool rootless, bool cgroupns)
{
  cleanup_free char *json = oci_default_spec(rootless, cgroupns, 1000, 1001, true);
  struct oci_config *c = NULL;
  nook_error_t err = NULL;
  if (oci_config_parse(json, strlen(json), "config.json", &c, &err) < 0) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    return NULL;
  }
  if (oci_config_validate(c, true, &err) < 0) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    oci_config_free(c);
    return NULL;
  }
  return c;
}

static const struct oci_mount *find_mount(const struct oci_config *c, const char *dest)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (strcmp(c->mounts[i].destination, dest) == 0)
      return &c->mounts[i];
  return NULL;
}

TEST(default_spec_round_trip)
{
  struct oci_config *c = parse_spec(false, false);
  if (!CHECK(c != NULL))
    return;
  const uint64_t caps = (1ULL << 29) | (1ULL << 5) | (1ULL << 10);
  CHECK_STR_EQ(c->oci_version, "1.3.0");
  CHECK_STR_EQ(c->root_path, "rootfs");
  CHECK(c->root_readonly);
  CHECK_STR_EQ(c->hostname, "nook");
  CHECK(c->process.terminal && c->process.user.uid == 0 && c->process.user.gid == 0);
  CHECK_STR_EQ(c->process.args[0], "sh");
  CHECK_STR_EQ(c->process.env[1], "TERM=xterm");
  CHECK_STR_EQ(c->process.cwd, "/");
  CHECK(c->process.no_new_privileges);
  CHECK(c->process.capabilities.bounding == caps && c->process.capabilities.effective == caps &&
        c->process.capabilities.permitted == caps);
  CHECK(!c->process.capabilities.has_inheritable && !c->process.capabilities.has_ambient);
  CHECK(c->process.n_rlimits == 1 && c->process.rlimits[0].resource == RLIMIT_NOFILE &&
        c->process.rlimits[0].hard == 1024 && c->process.rlimits[0].soft == 1024);
  CHECK_INT_EQ(c->n_mounts, 7);
  const struct oci_mount *m = find_mount(c, "/dev/pts");
  CHECK(m != NULL && m->n_options == 6 && strcmp(m->options[5], "gid=5") == 0);
  m = find_mount(c, "/sys");
  CHECK(m != NULL && strcmp(m->type, "sysfs") == 0);
  m = find_mount(c, "/dev/shm");
  CHECK(m != NULL && strcmp(m->source, "shm") == 0 && strcmp(m->options[4], "size=65536k") == 0);
  CHECK(find_mount(c, "/sys/fs/cgroup") != NULL && find_mount(c, "/dev/mqueue") != NULL);
  CHECK(c->linux_.has_resources && c->linux_.resources.n_devices == 1);
  CHECK(!c->linux_.resources.devices[0].allow);
  CHECK_STR_EQ(c->linux_.resources.devices[0].access, "rwm");
  CHECK_INT_EQ(c->linux_.n_namespaces, 5);
  CHECK(oci_config_namespace(c, OCI_NS_CGROUP) == NULL);
  CHECK(oci_config_namespace(c, OCI_NS_NETWORK) != NULL);
  CHECK(oci_config_namespace(c, OCI_NS_USER) == NULL);
  CHECK(c->linux_.n_uid_mappings == 0);
  CHECK_INT_EQ(c->linux_.n_masked_paths, 11);
  CHECK_STR_EQ(c->linux_.masked_paths[0], "/proc/acpi");
  CHECK_INT_EQ(c->linux_.n_readonly_paths, 5);
  oci_config_free(c);
}

/* The caller (src/spec.c) decides on a cgroup namespace: a pure cgroup v2
 * host gets one, as with runc. */
TEST(default_spec_cgroupns)
{
  struct oci_config *c = parse_spec(false, true);
  if (!CHECK(c != NULL))
    return;
  CHECK_INT_EQ(c->linux_.n_namespaces, 6);
  CHECK(oci_config_namespace(c, OCI_NS_CGROUP) != NULL);
  oci_config_free(c);
}

TEST(default_spec_rootless_round_trip)
{
  struct oci_config *c = parse_spec(true, false);
  if (!CHECK(c != NULL))
    return;
  CHECK(oci_config_namespace(c, OCI_NS_USER) != NULL);
  CHECK(oci_config_namespace(c, OCI_NS_NETWORK) == NULL);
  CHECK_INT_EQ(c->linux_.namespaces[c->linux_.n_namespaces - 1].type, OCI_NS_USER);
  CHECK(c->linux_.n_uid_mappings == 1 && c->linux_.uid_mappings[0].host_id == 1000 &&
        c->linux_.uid_mappings[0].container_id == 0 && c->linux_.uid_mappings[0].size == 1);
  CHECK(c->linux_.n_gid_mappings == 1 && c->linux_.gid_mappings[0].host_id == 1001);
  CHECK(!c->linux_.has_resources);
  const struct oci_mount *m = find_mount(c, "/sys");
  CHECK(m != NULL && strcmp(m->type, "none") == 0 && strcmp(m->source, "/sys") == 0 &&
        strcmp(m->options[0], "rbind") == 0);
  m = find_mount(c, "/dev/pts");
  for (size_t i = 0; m != NULL && i < m->n_options; i++)
    CHECK(strncmp(m->options[i], "gid=", 4) != 0);
  oci_config_free(c);
}

TEST(default_spec_layout)
{
  /* runc writes the spec with tabs and Go's field order; keep both. */
  cleanup_free char *json = oci_default_spec(false, false, 0, 0, true);
  CHECK(strncmp(json, "{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {\n\t\t\"terminal\": true,",
                strlen("{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {\n\t\t\"terminal\": "
                       "true,")) == 0);
  const char *process = strstr(json, "\"process\""), *root = strstr(json, "\"root\"");
  const char *mounts = strstr(json, "\"mounts\""), *linux_ = strstr(json, "\"linux\"");
  CHECK(process && root && mounts && linux_ && process < root && root < mounts && mounts < linux_);
  CHECK(json[strlen(json) - 1] == '}');
}

/* ---- features ------------------------------------------------------------ */

TEST(features_json)
{
  cleanup_free char *json = oci_features_json(NULL, 0);
  struct json_doc *doc;
  const struct json_value *root = parse_json(json, &doc);
  if (!CHECK(root != NULL && root->type == JSON_OBJECT))
    return;
  CHECK_STR_EQ(str_at(root, "ociVersionMin"), "1.0.0");
  CHECK_STR_EQ(str_at(root, "ociVersionMax"), "1.3.0");
  const struct json_value *hooks = json_get(root, "hooks");
  CHECK(hooks != NULL && hooks->len == 6 && array_has(hooks, "createRuntime"));
  const struct json_value *mo = json_get(root, "mountOptions");
  CHECK(array_has(mo, "rbind") && array_has(mo, "idmap") && array_has(mo, "tmpcopyup") &&
        array_has(mo, "rnosymfollow") && !array_has(mo, "mode=755"));
  const struct json_value *l = json_get(root, "linux");
  const struct json_value *ns = json_get(l, "namespaces");
  CHECK(ns != NULL && ns->len == 8 && array_has(ns, "time") && array_has(ns, "cgroup"));
  const struct json_value *caps = json_get(l, "capabilities");
  CHECK(caps != NULL && caps->len == OCI_CAP_LAST + 1);
  for (int i = 0; i <= OCI_CAP_LAST; i++)
    CHECK(array_has(caps, oci_cap_name(i)));
  const struct json_value *cg = json_get(l, "cgroup");
  CHECK(json_get(cg, "v2") && json_get(cg, "v2")->type == JSON_TRUE);
  CHECK(json_get(cg, "systemd") && json_get(cg, "systemd")->type == JSON_TRUE);
  CHECK(json_get(cg, "systemdUser") && json_get(cg, "systemdUser")->type == JSON_FALSE);
  const struct json_value *sc = json_get(l, "seccomp");
  CHECK(json_get(sc, "enabled")->type == JSON_TRUE);
  CHECK(json_get(sc, "actions")->len == 9 && array_has(json_get(sc, "actions"), "SCMP_ACT_NOTIFY"));
  CHECK(json_get(sc, "operators")->len == 7);
  CHECK(array_has(json_get(sc, "archs"), "SCMP_ARCH_X86_64") &&
        array_has(json_get(sc, "archs"), "SCMP_ARCH_AARCH64"));
  CHECK(json_get(sc, "knownFlags")->len == 4);
  CHECK(array_has(json_get(sc, "supportedFlags"), "SECCOMP_FILTER_FLAG_TSYNC"));
  CHECK(json_get(json_get(l, "apparmor"), "enabled")->type == JSON_FALSE);
  CHECK(json_get(json_get(json_get(l, "mountExtensions"), "idmap"), "enabled")->type == JSON_TRUE);
  CHECK(json_get(json_get(l, "netDevices"), "enabled")->type == JSON_TRUE);
  CHECK(json_get(json_get(l, "memoryPolicy"), "modes")->len == 7);
  const struct json_value *ann = json_get(root, "annotations");
  CHECK(str_at(ann, "io.github.nook.version") != NULL);
  CHECK(str_at(ann, "io.github.seccomp.libseccomp.version") != NULL);
  json_doc_free(doc);
}

TEST(features_names_are_accepted_by_the_parser)
{
  /* features.md: the runtime MUST recognize every name it advertises. */
  cleanup_free char *json = oci_features_json(NULL, 0);
  struct json_doc *doc;
  const struct json_value *root = parse_json(json, &doc);
  if (!CHECK(root != NULL))
    return;
  const struct json_value *sc = json_get(json_get(root, "linux"), "seccomp");
  const struct json_value *archs = json_get(sc, "archs"), *flags = json_get(sc, "knownFlags");
  const struct json_value *acts = json_get(sc, "actions");
  for (size_t i = 0; i < archs->len + flags->len + acts->len; i++) {
    const char *name = i < archs->len ? archs->u.items[i].u.str
                       : i < archs->len + flags->len
                           ? flags->u.items[i - archs->len].u.str
                           : acts->u.items[i - archs->len - flags->len].u.str;
    cleanup_free char *field = NULL, *cfg = NULL;
    if (i < archs->len)
      xasprintf(&field, "'architectures': ['%s']", name);
    else if (i < archs->len + flags->len)
      xasprintf(&field, "'flags': ['%s']", name);
    else
      xasprintf(&field, "'syscalls': [{'names': ['x'], 'action': '%s'}], 'listenerPath': '/l'",
                name);
    xasprintf(&cfg,
              "{\"ociVersion\": \"1.3.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"seccomp\": "
              "{\"defaultAction\": \"SCMP_ACT_ALLOW\", %s}}}",
              field);
    for (char *p = cfg; *p; p++)
      if (*p == '\'')
        *p = '"';
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    if (!CHECK(oci_config_parse(cfg, strlen(cfg), "config.json", &c, &err) == 0)) {
      printf("  %s\n", err->msg);
      nook_error_free(&err);
    }
    oci_config_free(c);
  }
  json_doc_free(doc);
}

/* rfc3339_format computes the date itself (glibc's gmtime_r reads
 * /etc/localtime): it must agree with gmtime_r + strftime everywhere,
 * leap days and century years included. */
TEST(rfc3339_matches_gmtime)
{
  static const long long stamps[] = {0,          1,          86399,       86400,      951782400,
                                     951868799,  951868800,  4107542399,  4107542400, 1709164800,
                                     1709251199, 1795328321, 253402300799};
  for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
    for (long long step = 0; step < 86400LL * 366 * 500; step += 86400 * 13 + 3601) {
      struct timespec ts = {.tv_sec = (time_t)(stamps[i] + (i == 0 ? step : 0)), .tv_nsec = 5};
      char got[64], want[64], date[40];
      struct tm tm;
      gmtime_r(&ts.tv_sec, &tm);
      strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
      snprintf(want, sizeof(want), "%s.000000005Z", date);
      rfc3339_format(&ts, got, sizeof(got));
      CHECK_STR_EQ(got, want);
      if (i != 0)
        break;
    }
  }
}

/* One lexical clean serves config destinations and host paths (".." kept)
 * and lookups inside the rootfs (".." folded, never above "/"). */
TEST(path_clean)
{
  static const struct {
    const char *in;
    bool fold;
    const char *want;
  } cases[] = {
      {"/", false, "/"},
      {"", false, "/"},
      {"a/b", false, "/a/b"},
      {"//a//./b/", false, "/a/b"},
      {"/a/./", false, "/a"},
      {"/.", false, "/"},
      {"/a/../b", false, "/a/../b"},
      {"/...", false, "/..."},
      {"/.a/b.", false, "/.a/b."},
      {"/a/../b", true, "/b"},
      {"/../../a", true, "/a"},
      {"a/b/c/../../d/.", true, "/a/d"},
      {"/a/..", true, "/"},
      {"..", true, "/"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cleanup_free char *got = path_clean(cases[i].in, cases[i].fold);
    CHECK_STR_EQ(got, cases[i].want);
  }
}

/* The numbers of a stats line as Go prints a uint64: memory.stat's digits
 * pass through when canonical, others are parsed and printed, what is not
 * a number is left out; per-cpu figures and the extremes by hand. */
TEST(stats_json_numbers)
{
  struct oci_kv raw[] = {{"b_zero", "0"},
                         {"a_plain", "123456789"},
                         {"c_padded", "007"},
                         {"d_max", "18446744073709551615"},
                         {"e_over", "18446744073709551616"},
                         {"f_text", "12ab"},
                         {"g_empty", ""}};
  uint64_t percpu[] = {0, UINT64_MAX, 10};
  struct cgroup_stats s = {.has_memory = true,
                           .mem_raw = raw,
                           .n_mem_raw = ARRAY_SIZE(raw),
                           .cpu_percpu = percpu,
                           .n_percpu = ARRAY_SIZE(percpu),
                           .cpu_usage_total = 1000000000,
                           .mem_limit = UINT64_MAX};
  char *json = stats_event_json("c1", &s);
  CHECK(strstr(json, "\"raw\":{\"a_plain\":123456789,\"b_zero\":0,\"c_padded\":7,"
                     "\"d_max\":18446744073709551615}") != NULL);
  CHECK(strstr(json, "\"percpu\":[0,18446744073709551615,10]") != NULL);
  CHECK(strstr(json, "\"total\":1000000000") != NULL);
  CHECK(strstr(json, "\"usage\":{\"limit\":18446744073709551615,\"failcnt\":0}") != NULL);
  struct json_doc *doc = NULL;
  CHECK(parse_json(json, &doc) != NULL);
  json_doc_free(doc);
  free(json);
}
