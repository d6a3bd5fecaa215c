/* The MUSTs of config.md and config-linux.md that involve more than one value
 * (single values are checked while parsing), and the checks runc makes that
 * keep a container from changing the host (hostname, sysctl without the
 * matching namespace). */
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "config.h"
#include "names.h"
#include "parse.h"

static int verr(nook_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int verr(nook_error_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = nook_verror(err, 0, fmt, ap);
  va_end(ap);
  return r;
}

static bool is_abs(const char *p)
{
  return p != NULL && p[0] == '/';
}

/* ---- SemVer 2.0.0 -------------------------------------------------------- */

static bool numeric_id(const char *s, size_t n)
{
  if (n == 0 || (n > 1 && s[0] == '0'))
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static bool ident_char(char ch)
{
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         ch == '-';
}

/* Dot-separated identifiers up to the end or a stop character; numeric
 * ones without leading zeros when `strict_numeric`. */
static const char *identifiers(const char *s, char stop, bool strict_numeric)
{
  for (;;) {
    size_t n = 0, digits = 0;
    while (ident_char(s[n])) {
      digits += s[n] >= '0' && s[n] <= '9';
      n++;
    }
    if (n == 0 || (strict_numeric && digits == n && !numeric_id(s, n)))
      return NULL;
    s += n;
    if (*s != '.')
      return *s == '\0' || *s == stop ? s : NULL;
    s++;
  }
}

static bool semver(const char *v)
{
  for (int part = 0; part < 3; part++) {
    size_t n = strspn(v, "0123456789");
    if (!numeric_id(v, n))
      return false;
    v += n;
    if (part < 2 && *v++ != '.')
      return false;
  }
  if (*v == '-' && (v = identifiers(v + 1, '+', true)) == NULL)
    return false;
  if (*v == '+' && (v = identifiers(v + 1, '\0', false)) == NULL)
    return false;
  return *v == '\0';
}

/* Major and minor of a version semver() accepted. */
static void version_parts(const char *v, unsigned long *major, unsigned long *minor)
{
  char *end;
  *major = strtoul(v, &end, 10);
  *minor = *end == '.' ? strtoul(end + 1, NULL, 10) : 0;
}

bool oci_version_newer_minor(const char *version)
{
  unsigned long major, minor;
  version_parts(version, &major, &minor);
  return major == OCI_VERSION_MAJOR && minor > OCI_VERSION_MINOR;
}

bool oci_version_draft(const char *version)
{
  unsigned long major, minor;
  version_parts(version, &major, &minor);
  return major == 0;
}

/* ---- process ------------------------------------------------------------- */

static int check_process(const struct oci_process *p, bool need_args, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  if (p->cwd == NULL || *p->cwd == '\0')
    return verr(err, "process.cwd: required field is missing");
  if (!is_abs(p->cwd))
    return verr(err, "process.cwd: must be an absolute path, got %s", quote(p->cwd, buf));
  if (need_args && p->n_args == 0)
    return verr(err, "process.args: at least one entry is required");
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const struct oci_rlimit *r = &p->rlimits[i];
    const char *name = r->type ? r->type : oci_rlimit_name(r->resource);
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[j].resource == r->resource)
        return verr(err, "process.rlimits[%zu].type: duplicate rlimit \"%s\"", i, name);
    if (r->soft > r->hard)
      return verr(err, "process.rlimits[%zu]: soft limit %ju exceeds hard limit %ju", i,
                  (uintmax_t)r->soft, (uintmax_t)r->hard);
  }
  return 0;
}

int oci_process_validate(const struct oci_process *p, nook_error_t *err)
{
  return check_process(p, true, err);
}

/* ---- mounts and hooks ---------------------------------------------------- */

static bool has_option(const struct oci_mount *m, const char *opt)
{
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp(m->options[i], opt) == 0)
      return true;
  return false;
}

static int check_mounts(const struct oci_config *c, nook_error_t *err)
{
  const bool userns = oci_config_namespace(c, OCI_NS_USER) != NULL;
  char buf[QUOTE_MAX];
  for (size_t i = 0; i < c->n_mounts; i++) {
    const struct oci_mount *m = &c->mounts[i];
    if (m->destination == NULL || *m->destination == '\0')
      return verr(err, "mounts[%zu].destination: required field is missing", i);
    if (!is_abs(m->destination))
      return verr(err, "mounts[%zu].destination: must be an absolute path, got %s", i,
                  quote(m->destination, buf));
    bool uid = m->uid_mappings != NULL, gid = m->gid_mappings != NULL;
    if (uid != gid)
      return verr(err, "mounts[%zu]: uidMappings and gidMappings must be given together", i);
    bool idmap = has_option(m, "idmap") || has_option(m, "ridmap");
    if (idmap && !uid && !userns)
      return verr(err,
                  "mounts[%zu]: an idmap mount needs uidMappings and gidMappings or a user "
                  "namespace",
                  i);
  }
  return 0;
}

static int check_hook_list(const char *name, const struct oci_hook *l, size_t n, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  for (size_t i = 0; i < n; i++) {
    if (!is_abs(l[i].path))
      return verr(err, "hooks.%s[%zu].path: must be an absolute path, got %s", name, i,
                  quote(l[i].path ? l[i].path : "", buf));
    if (l[i].has_timeout && l[i].timeout <= 0)
      return verr(err, "hooks.%s[%zu].timeout: must be greater than zero", name, i);
  }
  return 0;
}

static int check_hooks(const struct oci_hooks *h, nook_error_t *err)
{
  if (check_hook_list("prestart", h->prestart, h->n_prestart, err) < 0 ||
      check_hook_list("createRuntime", h->create_runtime, h->n_create_runtime, err) < 0 ||
      check_hook_list("createContainer", h->create_container, h->n_create_container, err) < 0 ||
      check_hook_list("startContainer", h->start_container, h->n_start_container, err) < 0 ||
      check_hook_list("poststart", h->poststart, h->n_poststart, err) < 0 ||
      check_hook_list("poststop", h->poststop, h->n_poststop, err) < 0)
    return -1;
  return 0;
}

/* ---- linux --------------------------------------------------------------- */

static int check_namespaces(const struct oci_linux *l, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  unsigned seen = 0;
  for (size_t i = 0; i < l->n_namespaces; i++) {
    const struct oci_namespace *ns = &l->namespaces[i];
    if ((unsigned)ns->type >= OCI_NS_COUNT)
      return verr(err, "linux.namespaces[%zu].type: unknown namespace type", i);
    if (seen & (1u << ns->type))
      return verr(err, "linux.namespaces[%zu].type: duplicate namespace \"%s\"", i,
                  oci_ns_type_name(ns->type));
    seen |= 1u << ns->type;
    if (ns->path != NULL && !is_abs(ns->path))
      return verr(err, "linux.namespaces[%zu].path: must be an absolute path, got %s", i,
                  quote(ns->path, buf));
  }
  return 0;
}

/* Which namespace makes a sysctl container-local (as runc and crun
 * decide); -1: none does, writing it would change the host. */
static int sysctl_namespace(const char *key)
{
  static const char *const ipc[] = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",          "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shm_rmid_forced", "kernel.shmmni",
  };
  cleanup_free char *k = xstrdup(key);
  /* net/ipv4/ip_forward is net.ipv4.ip_forward */
  for (char *p = k; *p; p++)
    if (*p == '/')
      *p = '.';
  for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
    if (strcmp(k, ipc[i]) == 0)
      return OCI_NS_IPC;
  if (has_prefix(k, "fs.mqueue."))
    return OCI_NS_IPC;
  if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
    return OCI_NS_UTS;
  if (has_prefix(k, "net."))
    return OCI_NS_NETWORK;
  return -1;
}

static int check_sysctl(const struct oci_config *c, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  const struct oci_linux *l = &c->linux_;
  for (size_t i = 0; i < l->n_sysctl; i++) {
    const char *key = l->sysctl[i].key;
    int ns = sysctl_namespace(key);
    if (ns < 0)
      return verr(err, "linux.sysctl: %s is not in a separate kernel namespace", quote(key, buf));
    if (oci_config_namespace(c, (enum oci_ns_type)ns) == NULL)
      return verr(err, "linux.sysctl: %s needs a %s namespace", quote(key, buf),
                  oci_ns_type_name((enum oci_ns_type)ns));
  }
  return 0;
}

static int check_paths(const char *what, char *const *v, size_t n, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  for (size_t i = 0; i < n; i++)
    if (!is_abs(v[i]))
      return verr(err, "%s[%zu]: must be an absolute path, got %s", what, i, quote(v[i], buf));
  return 0;
}

static int check_net_devices(const struct oci_config *c, nook_error_t *err)
{
  /* Whether a network namespace is required is left to the code that moves
   * the devices: the spec does not demand one, and its own examples omit it. */
  const struct oci_linux *l = &c->linux_;
  for (size_t i = 0; i < l->n_net_devices; i++) {
    const struct oci_net_device *a = &l->net_devices[i];
    const char *an = a->name ? a->name : a->host_name;
    if (strstr(an, "%d") != NULL)
      continue; /* a template: the kernel picks a free name */
    for (size_t j = 0; j < i; j++) {
      const struct oci_net_device *b = &l->net_devices[j];
      if (strcmp(an, b->name ? b->name : b->host_name) == 0)
        return verr(err, "linux.netDevices: \"%s\" and \"%s\" would both be named \"%s\"",
                    b->host_name, a->host_name, an);
    }
  }
  return 0;
}

int oci_seccomp_check_actions(const struct oci_seccomp *s, nook_error_t *err)
{
  if (s->has_default_errno_ret && !oci_seccomp_action_takes_errno(s->default_action))
    return verr(err,
                "linux.seccomp.defaultAction: %s with defaultErrnoRet %u: the action returns no "
                "errno",
                s->default_action_name ? s->default_action_name : "?", s->default_errno_ret);
  /* The notify fd exists only once the filter is in; a default NOTIFY would
   * trap the calls that hand it over. */
  if (s->default_action == SCMP_ACT_NOTIFY)
    return verr(err, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  for (size_t i = 0; i < s->n_syscalls; i++) {
    const struct oci_seccomp_syscall *sc = &s->syscalls[i];
    if (sc->has_errno_ret && !oci_seccomp_action_takes_errno(sc->action))
      return verr(err, "linux.seccomp.syscalls[%zu].errnoRet: not supported with action %s", i,
                  sc->action_name ? sc->action_name : "?");
  }
  return 0;
}

static int check_seccomp(const struct oci_seccomp *s, nook_error_t *err)
{
  if (s->listener_metadata != NULL && s->listener_path == NULL)
    return verr(err, "linux.seccomp.listenerMetadata: must not be set without listenerPath");
  if (oci_seccomp_check_actions(s, err) < 0)
    return -1;
  for (size_t i = 0; i < s->n_syscalls; i++) {
    if (s->syscalls[i].action == SCMP_ACT_NOTIFY && s->listener_path == NULL)
      return verr(err, "linux.seccomp.syscalls[%zu].action: SCMP_ACT_NOTIFY needs listenerPath", i);
    if (s->syscalls[i].n_names == 0)
      return verr(err, "linux.seccomp.syscalls[%zu].names: must contain at least one system call",
                  i);
  }
  return 0;
}

static int check_memory_policy(const struct oci_memory_policy *m, nook_error_t *err)
{
  const char *mode = oci_name_of(&oci_mpol_modes, m->mode);
  bool nodes = m->nodes != NULL && *m->nodes != '\0';
  int64_t def = 0, local = 0, preferred = 0;
  oci_name_lookup(&oci_mpol_modes, "MPOL_DEFAULT", &def);
  oci_name_lookup(&oci_mpol_modes, "MPOL_LOCAL", &local);
  oci_name_lookup(&oci_mpol_modes, "MPOL_PREFERRED", &preferred);
  if (mode == NULL)
    return verr(err, "linux.memoryPolicy.mode: unknown mode %d", m->mode);
  /* set_mempolicy(2) */
  if ((m->mode == def || m->mode == local) && nodes)
    return verr(err, "linux.memoryPolicy.nodes: %s takes no nodes", mode);
  if (m->mode != def && m->mode != local && m->mode != preferred && !nodes)
    return verr(err, "linux.memoryPolicy.nodes: %s needs at least one node", mode);
  int64_t fstatic = 0, frelative = 0;
  oci_name_lookup(&oci_mpol_flags, "MPOL_F_STATIC_NODES", &fstatic);
  oci_name_lookup(&oci_mpol_flags, "MPOL_F_RELATIVE_NODES", &frelative);
  if ((m->flags & fstatic) && (m->flags & frelative))
    return verr(err, "linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES "
                     "exclude each other");
  return 0;
}

static int check_linux(const struct oci_config *c, nook_error_t *err)
{
  const struct oci_linux *l = &c->linux_;
  char buf[QUOTE_MAX];
  if (check_namespaces(l, err) < 0)
    return -1;
  /* Without a mount namespace "/" is the caller's own. */
  if (l->rootfs_propagation && oci_config_namespace(c, OCI_NS_MOUNT) == NULL)
    return verr(err, "linux.rootfsPropagation: needs a mount namespace (without one it would "
                     "change the caller's mounts)");
  const struct oci_namespace *userns = oci_config_namespace(c, OCI_NS_USER);
  if ((l->n_uid_mappings > 0 || l->n_gid_mappings > 0) && userns == NULL)
    return verr(err, "linux.%s: mappings need a user namespace",
                l->n_uid_mappings > 0 ? "uidMappings" : "gidMappings");
  if (l->has_time_offsets_boottime || l->has_time_offsets_monotonic) {
    const struct oci_namespace *timens = oci_config_namespace(c, OCI_NS_TIME);
    if (timens == NULL)
      return verr(err, "linux.timeOffsets: offsets need a time namespace");
    if (timens->path != NULL)
      return verr(err, "linux.timeOffsets: offsets cannot be set on the existing time namespace "
                       "the container joins");
  }
  for (size_t i = 0; i < l->n_devices; i++)
    if (!is_abs(l->devices[i].path))
      return verr(err, "linux.devices[%zu].path: must be an absolute path, got %s", i,
                  quote(l->devices[i].path ? l->devices[i].path : "", buf));
  if (check_net_devices(c, err) < 0 || check_sysctl(c, err) < 0 ||
      check_paths("linux.maskedPaths", l->masked_paths, l->n_masked_paths, err) < 0 ||
      check_paths("linux.readonlyPaths", l->readonly_paths, l->n_readonly_paths, err) < 0)
    return -1;
  if (l->has_seccomp && check_seccomp(&l->seccomp, err) < 0)
    return -1;
  if (l->has_memory_policy && check_memory_policy(&l->memory_policy, err) < 0)
    return -1;
  const struct oci_cpu *cpu = &l->resources.cpu;
  if (l->has_resources && l->resources.has_cpu && cpu->has_burst && cpu->has_quota &&
      cpu->quota > 0 && cpu->burst > (uint64_t)cpu->quota)
    return verr(err, "linux.resources.cpu.burst: %ju is larger than quota %jd",
                (uintmax_t)cpu->burst, (intmax_t)cpu->quota);
  const char *clos = l->intel_rdt.clos_id;
  if (l->has_intel_rdt && clos != NULL && strcmp(clos, "/") != 0 &&
      (*clos == '\0' || strchr(clos, '/') != NULL || strcmp(clos, ".") == 0 ||
       strcmp(clos, "..") == 0))
    return verr(err, "linux.intelRdt.closID: invalid name %s", quote(clos, buf));
  return 0;
}

/* ---- vm ------------------------------------------------------------------ */

static int check_vm_path(const char *field, const char *path, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  if (path != NULL && !is_abs(path))
    return verr(err, "vm.%s: must be an absolute path, got %s", field, quote(path, buf));
  return 0;
}

/* config-vm.md's MUSTs, and the fields nook's one backend (QEMU's microvm
 * machine) has no use for: Xen's device-tree and pass-through settings, and
 * image formats QEMU reads too slowly or only for conversion. */
static int check_vm(const struct oci_vm *vm, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  if (check_vm_path("hypervisor.path", vm->hypervisor_path, err) < 0 ||
      check_vm_path("kernel.path", vm->kernel_path, err) < 0 ||
      check_vm_path("kernel.initrd", vm->kernel_initrd, err) < 0 ||
      check_vm_path("image.path", vm->image_path, err) < 0)
    return -1;
  const struct {
    const char *name;
    bool given;
  } foreign[] = {
      {"deviceTree", vm->has_device_tree},
      {"dtdevs", vm->has_dtdevs},
      {"iomems", vm->has_iomems},
      {"irqs", vm->has_irqs},
  };
  for (size_t i = 0; i < ARRAY_SIZE(foreign); i++)
    if (foreign[i].given)
      return verr(err, "vm.hwConfig.%s: not supported by nook's VM backends (QEMU microvm)",
                  foreign[i].name);
  const char *format = vm->image_format;
  if (format != NULL && strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0)
    return verr(err,
                "vm.image.format: %s is not supported: nook's VM backends take \"raw\" or "
                "\"qcow2\"",
                quote(format, buf));
  return 0;
}

/* ---- the document -------------------------------------------------------- */

int oci_config_validate(const struct oci_config *c, bool for_start, nook_error_t *err)
{
  char buf[QUOTE_MAX];
  if (c->oci_version == NULL)
    return verr(err, "ociVersion: required field is missing");
  if (!semver(c->oci_version))
    return verr(err, "ociVersion: %s is not a SemVer 2.0.0 version", quote(c->oci_version, buf));
  unsigned long major, minor;
  version_parts(c->oci_version, &major, &minor);
  if (major > OCI_VERSION_MAJOR)
    return verr(err,
                "ociVersion: %s is not supported: nook implements runtime-spec %d.x (up to "
                "%d.%d.0)",
                quote(c->oci_version, buf), OCI_VERSION_MAJOR, OCI_VERSION_MAJOR,
                OCI_VERSION_MINOR);
  if (c->root_path == NULL)
    return verr(err, "root.path: required field is missing");
  if (*c->root_path == '\0')
    return verr(err, "root.path: must not be empty");
  if (for_start && !c->has_process)
    return verr(err, "process: required to start the container");
  if (c->has_process && check_process(&c->process, for_start, err) < 0)
    return -1;
  if (check_mounts(c, err) < 0 || check_hooks(&c->hooks, err) < 0)
    return -1;
  for (size_t i = 0; i < c->n_annotations; i++)
    if (c->annotations[i].key == NULL || *c->annotations[i].key == '\0')
      return verr(err, "annotations: keys must not be empty");
  if ((c->hostname != NULL && *c->hostname != '\0') ||
      (c->domainname != NULL && *c->domainname != '\0')) {
    if (oci_config_namespace(c, OCI_NS_UTS) == NULL)
      return verr(err, "%s: setting it needs a uts namespace",
                  c->hostname != NULL && *c->hostname ? "hostname" : "domainname");
  }
  if (c->has_linux && check_linux(c, err) < 0)
    return -1;
  if (c->has_vm && check_vm(&c->vm, err) < 0)
    return -1;
  return 0;
}
