/* config.json: the linux object (config-linux.md) except its resources. */
#include <errno.h>
#include <net/if.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/utils.h"
#include "config.h"
#include "parse.h"

#define TRY(x)                                                                                     \
  do {                                                                                             \
    if ((x) < 0)                                                                                   \
      return -1;                                                                                   \
  } while (0)

static int opt(int r, bool *has)
{
  if (r > 0)
    *has = true;
  return r;
}

static int missing(struct pctx *c, const char *key)
{
  size_t mark = path_key(c, key);
  perr(c, "required field is missing");
  path_restore(c, mark);
  return -1;
}

/* ---- namespaces, devices, network devices -------------------------------- */

static int parse_ns_type(struct pctx *c, const struct json_value *v, void *out)
{
  if (v->type != JSON_STRING)
    return perr_type(c, v, "a string");
  int t = oci_ns_type_from_name(v->u.str);
  if (t < 0) {
    char buf[QUOTE_MAX];
    return perr(c, "unknown namespace type %s", quote(v->u.str, buf));
  }
  *(enum oci_ns_type *)out = (enum oci_ns_type)t;
  return 0;
}

static int parse_namespace(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_namespace *ns = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "type", parse_ns_type, &ns->type));
  TRY(jf(c, v, "path", jv_opt_str, &ns->path));
  return 0;
}

static int parse_device_type(struct pctx *c, const struct json_value *v, void *out)
{
  if (v->type != JSON_STRING)
    return perr_type(c, v, "a string");
  if (v->len != 1 || strchr("cbup", v->u.str[0]) == NULL) {
    char buf[QUOTE_MAX];
    return perr(c, "invalid device type %s (expected \"c\", \"b\", \"u\" or \"p\")",
                quote(v->u.str, buf));
  }
  *(char *)out = v->u.str[0];
  return 0;
}

/* FileMode in the schema: permission bits, written in decimal.  Engines
 * (podman) copy the host node's whole st_mode, file type included, as runc
 * accepts: the type bits may be there if they agree with the device's type
 * (checked in parse_device), and are dropped. */
static int parse_file_mode(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_u32(c, v, out));
  uint32_t m = *(uint32_t *)out;
  if ((m & ~(uint32_t)(S_IFMT | 07777)) != 0)
    return perr(c,
                "file mode %u is out of range (permission bits 0 to 07777, optionally with "
                "the file type bits of the device's type)",
                m);
  return 0;
}

static int check_file_type(struct pctx *c, struct oci_device *d)
{
  uint32_t fmt = d->file_mode & S_IFMT;
  if (fmt == 0)
    return 0;
  uint32_t want = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  if (fmt != want)
    return perr(c, "fileMode %#o: its file type bits disagree with type \"%c\"", d->file_mode,
                d->type);
  d->file_mode &= 07777;
  return 0;
}

static int parse_device(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_device *d = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "type", parse_device_type, &d->type));
  TRY(jf_req(c, v, "path", jv_str, &d->path));
  int has_major, has_minor;
  TRY(has_major = jf(c, v, "major", jv_i64, &d->major));
  TRY(has_minor = jf(c, v, "minor", jv_i64, &d->minor));
  if (d->type != 'p' && !has_major)
    return missing(c, "major");
  if (d->type != 'p' && !has_minor)
    return missing(c, "minor");
  TRY(opt(jf(c, v, "fileMode", parse_file_mode, &d->file_mode), &d->has_file_mode));
  if (d->has_file_mode)
    TRY(check_file_type(c, d));
  TRY(opt(jf(c, v, "uid", jv_u32, &d->uid), &d->has_uid));
  TRY(opt(jf(c, v, "gid", jv_u32, &d->gid), &d->has_gid));
  return 0;
}

/* The kernel's dev_valid_name(); a "%d" template is the kernel's to fill. */
static bool valid_ifname(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    return false;
  for (; *s; s++)
    if (*s == '/' || *s == ':' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
      return false;
  return true;
}

static int parse_ifname(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_str(c, v, out));
  const char *name = *(char **)out;
  if (!valid_ifname(name)) {
    char buf[QUOTE_MAX];
    return perr(c, "invalid network interface name %s", quote(name, buf));
  }
  return 0;
}

static int parse_net_device(struct pctx *c, const char *key, const struct json_value *v, void *out)
{
  struct oci_net_device *nd = out;
  nd->host_name = xstrdup(key);
  if (!valid_ifname(key)) {
    char buf[QUOTE_MAX];
    return perr(c, "invalid network interface name %s", quote(key, buf));
  }
  if (v->type == JSON_NULL) /* Go decodes null as the zero value: {} */
    return 0;
  TRY(jv_object(c, v));
  TRY(jf(c, v, "name", parse_ifname, &nd->name));
  return 0;
}

/* ---- time namespace ------------------------------------------------------ */

static int parse_nanosecs(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_u32(c, v, out));
  if (*(uint32_t *)out >= 1000000000)
    return perr(c, "must be less than 1000000000, got %u", *(uint32_t *)out);
  return 0;
}

static int parse_time_offset(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_time_offset *t = out;
  TRY(jf(c, v, "secs", jv_i64, &t->secs));
  TRY(jf(c, v, "nanosecs", parse_nanosecs, &t->nanosecs));
  return 0;
}

static int parse_time_offsets(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_linux *l = out;
  /* The keys are clock names: the kernel offsets only these two. */
  for (size_t i = 0; i < v->len; i++) {
    const char *key = v->u.members[i].key;
    if (strcmp(key, "boottime") != 0 && strcmp(key, "monotonic") != 0) {
      path_key(c, key);
      return perr(c, "unknown clock (expected \"boottime\" or \"monotonic\")");
    }
  }
  TRY(opt(jf_obj(c, v, "boottime", parse_time_offset, &l->time_boottime),
          &l->has_time_offsets_boottime));
  TRY(opt(jf_obj(c, v, "monotonic", parse_time_offset, &l->time_monotonic),
          &l->has_time_offsets_monotonic));
  return 0;
}

/* ---- smaller objects ----------------------------------------------------- */

static int parse_propagation(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_linux *l = out;
  int64_t flags;
  /* "" is Go's zero value: the default propagation. */
  if (v->type == JSON_STRING && v->len == 0)
    return 0;
  TRY(jv_name(c, v, &oci_propagations, "rootfs propagation", &flags));
  l->rootfs_propagation = xstrdup(v->u.str);
  l->rootfs_propagation_flags = (unsigned long)flags;
  return 0;
}

static int no_newline(struct pctx *c, const char *s)
{
  if (strchr(s, '\n') != NULL) {
    char buf[QUOTE_MAX];
    return perr(c, "must not contain newlines: %s", quote(s, buf));
  }
  return 0;
}

static int parse_mem_bw_schema(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_str(c, v, out));
  const char *s = *(char **)out;
  if (strncmp(s, "MB:", 3) != 0) {
    char buf[QUOTE_MAX];
    return perr(c, "must start with \"MB:\", got %s", quote(s, buf));
  }
  return no_newline(c, s);
}

static int parse_intel_rdt(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_intel_rdt *r = out;
  TRY(jf(c, v, "closID", jv_opt_str, &r->clos_id));
  TRY(jf(c, v, "l3CacheSchema", jv_str, &r->l3_cache_schema));
  TRY(jf(c, v, "memBwSchema", parse_mem_bw_schema, &r->mem_bw_schema));
  TRY(jf_strv(c, v, "schemata", &r->schemata, &r->n_schemata));
  for (size_t i = 0; i < r->n_schemata; i++) {
    if (strchr(r->schemata[i], '\n') != NULL) {
      path_key(c, "schemata");
      path_index(c, i);
      return no_newline(c, r->schemata[i]);
    }
  }
  TRY(jf(c, v, "enableMonitoring", jv_bool, &r->enable_monitoring));
  return 0;
}

static int parse_mpol_mode(struct pctx *c, const struct json_value *v, void *out)
{
  int64_t mode;
  TRY(jv_name(c, v, &oci_mpol_modes, "memory policy mode", &mode));
  *(int *)out = (int)mode;
  return 0;
}

static int parse_memory_policy(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_memory_policy *m = out;
  uint64_t flags = 0;
  TRY(jf_req(c, v, "mode", parse_mpol_mode, &m->mode));
  TRY(jf(c, v, "nodes", jv_str, &m->nodes));
  TRY(jf_flags(c, v, "flags", &oci_mpol_flags, "memory policy flag", &flags));
  m->flags = (unsigned)flags;
  return 0;
}

static int parse_personality_domain(struct pctx *c, const struct json_value *v, void *out)
{
  int64_t d;
  TRY(jv_name(c, v, &oci_personality_domains, "personality domain", &d));
  *(unsigned long *)out = (unsigned long)d;
  return 0;
}

static int parse_personality(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_personality *p = out;
  TRY(jf_req(c, v, "domain", parse_personality_domain, &p->domain));
  cleanup_strv char **flags = NULL;
  size_t n = 0;
  TRY(jf_strv(c, v, "flags", &flags, &n));
  if (n > 0) {
    /* config-linux.md: "Currently no flag values are supported." */
    char buf[QUOTE_MAX];
    path_key(c, "flags");
    path_index(c, 0);
    return perr(c, "unsupported personality flag %s", quote(flags[0], buf));
  }
  return 0;
}

/* ---- seccomp ------------------------------------------------------------- */

static int seccomp_action(struct pctx *c, const struct json_value *obj, const char *key,
                          uint32_t *action, char **name)
{
  const struct json_value *v = json_get(obj, key);
  if (v == NULL)
    return missing(c, key);
  size_t mark = path_key(c, key);
  int64_t a;
  int r = jv_name(c, v, &oci_seccomp_actions, "seccomp action", &a);
  if (r == 0) {
    *action = (uint32_t)a;
    *name = xstrdup(v->u.str);
  }
  path_restore(c, mark);
  return r;
}

static int parse_errno_ret(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_u32(c, v, out));
  /* The filter returns SECCOMP_RET_DATA: 16 bits. */
  if (*(uint32_t *)out > 0xffff)
    return perr(c, "must be at most 65535, got %u", *(uint32_t *)out);
  return 0;
}

static int seccomp_errno(struct pctx *c, const struct json_value *obj, const char *key,
                         uint32_t action, const char *action_name, bool *has, uint32_t *out)
{
  TRY(opt(jf(c, obj, key, parse_errno_ret, out), has));
  if (*has && !oci_seccomp_action_takes_errno(action)) {
    size_t mark = path_key(c, key);
    perr(c, "not supported with action %s", action_name);
    path_restore(c, mark);
    return -1;
  }
  if (!*has)
    *out = oci_seccomp_action_takes_errno(action) ? EPERM : 0;
  return 0;
}

static int parse_seccomp_arch(struct pctx *c, const struct json_value *v, void *out)
{
  int64_t arch;
  TRY(jv_name(c, v, &oci_seccomp_arches, "seccomp architecture", &arch));
  *(uint32_t *)out = (uint32_t)arch;
  return 0;
}

static int parse_seccomp_op(struct pctx *c, const struct json_value *v, void *out)
{
  int64_t op;
  TRY(jv_name(c, v, &oci_seccomp_ops, "seccomp operator", &op));
  *(int *)out = (int)op;
  return 0;
}

static int parse_arg_index(struct pctx *c, const struct json_value *v, void *out)
{
  uint32_t i;
  TRY(jv_u32(c, v, &i));
  if (i > 5)
    return perr(c, "a system call has 6 arguments (0 to 5), got %u", i);
  *(unsigned *)out = i;
  return 0;
}

static int parse_seccomp_arg(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_seccomp_arg *a = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "index", parse_arg_index, &a->index));
  TRY(jf_req(c, v, "value", jv_u64, &a->value));
  TRY(jf(c, v, "valueTwo", jv_u64, &a->value_two));
  TRY(jf_req(c, v, "op", parse_seccomp_op, &a->op));
  return 0;
}

static int parse_syscall(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_seccomp_syscall *s = out;
  TRY(jv_object(c, v));
  int r = jf_strv(c, v, "names", &s->names, &s->n_names);
  TRY(r);
  if (r == 0)
    return missing(c, "names");
  if (s->n_names == 0) {
    path_key(c, "names");
    return perr(c, "must contain at least one system call");
  }
  TRY(seccomp_action(c, v, "action", &s->action, &s->action_name));
  TRY(seccomp_errno(c, v, "errnoRet", s->action, s->action_name, &s->has_errno_ret, &s->errno_ret));
  TRY(jf_array(c, v, "args", sizeof(*s->args), &s->args, &s->n_args, parse_seccomp_arg));
  return 0;
}

int parse_seccomp(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_seccomp *s = out;
  uint64_t flags = 0;
  TRY(seccomp_action(c, v, "defaultAction", &s->default_action, &s->default_action_name));
  TRY(seccomp_errno(c, v, "defaultErrnoRet", s->default_action, s->default_action_name,
                    &s->has_default_errno_ret, &s->default_errno_ret));
  TRY(jf_array(c, v, "architectures", sizeof(*s->architectures), &s->architectures,
               &s->n_architectures, parse_seccomp_arch));
  TRY(jf_flags(c, v, "flags", &oci_seccomp_flags, "seccomp flag", &flags));
  s->flags = (unsigned)flags;
  TRY(jf(c, v, "listenerPath", jv_opt_str, &s->listener_path));
  TRY(jf(c, v, "listenerMetadata", jv_opt_str, &s->listener_metadata));
  TRY(jf_array(c, v, "syscalls", sizeof(*s->syscalls), &s->syscalls, &s->n_syscalls,
               parse_syscall));
  return 0;
}

void oci_seccomp_clear(struct oci_seccomp *s)
{
  free(s->default_action_name);
  free(s->architectures);
  free(s->listener_path);
  free(s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++) {
    strv_free(s->syscalls[i].names);
    free(s->syscalls[i].action_name);
    free(s->syscalls[i].args);
  }
  free(s->syscalls);
  memset(s, 0, sizeof(*s));
}

/* ---- the linux object ---------------------------------------------------- */

int parse_linux(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_linux *l = out;
  TRY(jf_array(c, v, "devices", sizeof(*l->devices), &l->devices, &l->n_devices, parse_device));
  TRY(jf_map(c, v, "netDevices", sizeof(*l->net_devices), &l->net_devices, &l->n_net_devices,
             parse_net_device));
  TRY(jf_array(c, v, "uidMappings", sizeof(*l->uid_mappings), &l->uid_mappings, &l->n_uid_mappings,
               parse_idmap));
  TRY(jf_array(c, v, "gidMappings", sizeof(*l->gid_mappings), &l->gid_mappings, &l->n_gid_mappings,
               parse_idmap));
  TRY(jf_array(c, v, "namespaces", sizeof(*l->namespaces), &l->namespaces, &l->n_namespaces,
               parse_namespace));
  TRY(opt(jf_obj(c, v, "resources", parse_resources, &l->resources), &l->has_resources));
  TRY(jf(c, v, "cgroupsPath", jv_opt_str, &l->cgroups_path));
  TRY(jf(c, v, "rootfsPropagation", parse_propagation, l));
  TRY(opt(jf_obj(c, v, "seccomp", parse_seccomp, &l->seccomp), &l->has_seccomp));
  TRY(jf_strmap(c, v, "sysctl", &l->sysctl, &l->n_sysctl));
  TRY(jf_strv(c, v, "maskedPaths", &l->masked_paths, &l->n_masked_paths));
  TRY(jf_strv(c, v, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths));
  TRY(jf(c, v, "mountLabel", jv_opt_str, &l->mount_label));
  TRY(opt(jf_obj(c, v, "intelRdt", parse_intel_rdt, &l->intel_rdt), &l->has_intel_rdt));
  TRY(opt(jf_obj(c, v, "memoryPolicy", parse_memory_policy, &l->memory_policy),
          &l->has_memory_policy));
  TRY(opt(jf_obj(c, v, "personality", parse_personality, &l->personality), &l->has_personality));
  TRY(jf_obj(c, v, "timeOffsets", parse_time_offsets, l));
  return 0;
}

void oci_linux_clear(struct oci_linux *l)
{
  for (size_t i = 0; i < l->n_namespaces; i++)
    free(l->namespaces[i].path);
  free(l->namespaces);
  free(l->uid_mappings);
  free(l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++)
    free(l->devices[i].path);
  free(l->devices);
  for (size_t i = 0; i < l->n_net_devices; i++) {
    free(l->net_devices[i].host_name);
    free(l->net_devices[i].name);
  }
  free(l->net_devices);
  free(l->cgroups_path);
  oci_resources_clear(&l->resources);
  free(l->intel_rdt.clos_id);
  free(l->intel_rdt.l3_cache_schema);
  free(l->intel_rdt.mem_bw_schema);
  strv_free(l->intel_rdt.schemata);
  free(l->memory_policy.nodes);
  oci_kv_free(l->sysctl, l->n_sysctl);
  oci_seccomp_clear(&l->seccomp);
  free(l->rootfs_propagation);
  strv_free(l->masked_paths);
  strv_free(l->readonly_paths);
  free(l->mount_label);
  memset(l, 0, sizeof(*l));
}
