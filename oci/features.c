/* `nook features` (features.md, features-linux.md).  The lists come from the
 * tables the parser uses, so what is advertised is what config.json may
 * contain. */
#include "features.h"

#include <ctype.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "names.h"

#ifndef NOOK_VERSION
#define NOOK_VERSION "unknown"
#endif
#ifndef NOOK_COMMIT
#define NOOK_COMMIT "unknown"
#endif

/* Here, not in the callers: this file is rebuilt when the commit changes. */
const char *nook_build_id(void)
{
  return NOOK_VERSION "+" NOOK_COMMIT;
}

/* config.md "Linux mount options". */
static const char *const mount_options[] = {
    "async",         "atime",        "bind",
    "defaults",      "dev",          "diratime",
    "dirsync",       "exec",         "idmap",
    "iversion",      "lazytime",     "loud",
    "mand",          "noatime",      "nodev",
    "nodiratime",    "noexec",       "noiversion",
    "nolazytime",    "nomand",       "norelatime",
    "nostrictatime", "nosuid",       "nosymfollow",
    "private",       "ratime",       "rbind",
    "rdev",          "rdiratime",    "relatime",
    "remount",       "rexec",        "ridmap",
    "rnoatime",      "rnodev",       "rnodiratime",
    "rnoexec",       "rnorelatime",  "rnostrictatime",
    "rnosuid",       "rnosymfollow", "ro",
    "rprivate",      "rrelatime",    "rro",
    "rrw",           "rshared",      "rslave",
    "rstrictatime",  "rsuid",        "rsymfollow",
    "runbindable",   "rw",           "shared",
    "silent",        "slave",        "strictatime",
    "suid",          "symfollow",    "sync",
    "tmpcopyup",     "unbindable",   NULL,
};

static const char *const hooks[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
    NULL};

static void gen_names(yajl_gen g, const char *key, const struct oci_name_table *t)
{
  jgen_str(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < t->n; i++)
    jgen_str(g, t->v[i].name);
  yajl_gen_array_close(g);
}

static void gen_enabled(yajl_gen g, const char *key, bool enabled)
{
  jgen_str(g, key);
  yajl_gen_map_open(g);
  jgen_key_bool(g, "enabled", enabled);
  yajl_gen_map_close(g);
}

/* Architectures the linked libseccomp can build filters for:
 * SCMP_ARCH_X86_64 is libseccomp's "x86_64". */
static void gen_archs(yajl_gen g)
{
  jgen_str(g, "archs");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < oci_seccomp_arches.n; i++) {
    const char *name = oci_seccomp_arches.v[i].name;
    char lower[32];
    size_t j = 0;
    for (const char *p = name + strlen("SCMP_ARCH_"); *p && j + 1 < sizeof(lower); p++)
      lower[j++] = (char)tolower((unsigned char)*p);
    lower[j] = '\0';
    if (seccomp_arch_resolve_name(lower) != 0)
      jgen_str(g, name);
  }
  yajl_gen_array_close(g);
}

/* Flags libseccomp can set for us: WAIT_KILLABLE_RECV needs libseccomp 2.6. */
static void gen_supported_flags(yajl_gen g)
{
  jgen_str(g, "supportedFlags");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < oci_seccomp_flags.n; i++) {
    const char *name = oci_seccomp_flags.v[i].name;
    bool wait_killable = strcmp(name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0;
    if (!wait_killable || SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6))
      jgen_str(g, name);
  }
  yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g)
{
  jgen_str(g, "linux");
  yajl_gen_map_open(g);

  jgen_str(g, "namespaces");
  yajl_gen_array_open(g);
  for (int t = 0; t < OCI_NS_COUNT; t++)
    jgen_str(g, oci_ns_type_name((enum oci_ns_type)t));
  yajl_gen_array_close(g);

  jgen_str(g, "capabilities");
  yajl_gen_array_open(g);
  for (int cap = 0; cap <= OCI_CAP_LAST; cap++)
    jgen_str(g, oci_cap_name(cap));
  yajl_gen_array_close(g);

  jgen_str(g, "cgroup");
  yajl_gen_map_open(g);
  jgen_key_bool(g, "v1", true);
  jgen_key_bool(g, "v2", true);
  jgen_key_bool(g, "systemd", true);
  jgen_key_bool(g, "systemdUser", false);
  jgen_key_bool(g, "rdma", true);
  yajl_gen_map_close(g);

  jgen_str(g, "seccomp");
  yajl_gen_map_open(g);
  jgen_key_bool(g, "enabled", true);
  gen_names(g, "actions", &oci_seccomp_actions);
  gen_names(g, "operators", &oci_seccomp_ops);
  gen_archs(g);
  gen_names(g, "knownFlags", &oci_seccomp_flags);
  gen_supported_flags(g);
  yajl_gen_map_close(g);

  gen_enabled(g, "apparmor", false);
  gen_enabled(g, "selinux", false);
  gen_enabled(g, "intelRdt", false);

  jgen_str(g, "memoryPolicy");
  yajl_gen_map_open(g);
  gen_names(g, "modes", &oci_mpol_modes);
  gen_names(g, "flags", &oci_mpol_flags);
  yajl_gen_map_close(g);

  jgen_str(g, "mountExtensions");
  yajl_gen_map_open(g);
  gen_enabled(g, "idmap", true);
  yajl_gen_map_close(g);

  gen_enabled(g, "netDevices", true);
  yajl_gen_map_close(g);
}

char *oci_features_json(const struct oci_kv *extra, size_t n_extra)
{
  yajl_gen g = jgen_new("    ");
  yajl_gen_map_open(g);
  jgen_key_str(g, "ociVersionMin", "1.0.0");
  jgen_key_str(g, "ociVersionMax", "1.3.0");
  jgen_key_strv(g, "hooks", hooks, 0);
  jgen_key_strv(g, "mountOptions", mount_options, 0);
  gen_linux(g);

  jgen_str(g, "annotations");
  yajl_gen_map_open(g);
  jgen_key_str(g, "io.github.nook.commit", NOOK_COMMIT);
  jgen_key_str(g, "io.github.nook.version", NOOK_VERSION);
  for (size_t i = 0; i < n_extra; i++)
    jgen_key_str(g, extra[i].key, extra[i].value);
  const struct scmp_version *v = seccomp_version();
  if (v != NULL) {
    char buf[48];
    snprintf(buf, sizeof(buf), "%u.%u.%u", v->major, v->minor, v->micro);
    jgen_key_str(g, "io.github.seccomp.libseccomp.version", buf);
  }
  yajl_gen_map_close(g);

  yajl_gen_map_close(g);
  return jgen_finish(g);
}
