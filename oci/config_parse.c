/* config.json: the document, root, mounts, process, hooks, annotations.
 * The linux object is in config_linux_parse.c, its resources in
 * resources_parse.c, the vm object in config_vm.c, the other platforms'
 * objects in config_other.c. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "config.h"
#include "parse.h"

#define TRY(x)                                                                                     \
  do {                                                                                             \
    if ((x) < 0)                                                                                   \
      return -1;                                                                                   \
  } while (0)

/* For optional members with a has_ flag. */
static int opt(int r, bool *has)
{
  if (r > 0)
    *has = true;
  return r;
}

int parse_idmap(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_id_mapping *m = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "containerID", jv_u32, &m->container_id));
  TRY(jf_req(c, v, "hostID", jv_u32, &m->host_id));
  TRY(jf_req(c, v, "size", jv_u32, &m->size));
  return 0;
}

/* ---- root and mounts ----------------------------------------------------- */

static int parse_root(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_config *cfg = out;
  TRY(jf_req(c, v, "path", jv_str, &cfg->root_path));
  TRY(jf(c, v, "readonly", jv_bool, &cfg->root_readonly));
  return 0;
}

/* config.md: on Linux a relative destination is deprecated but valid, and
 * means the path from "/"; store it absolute (and clean) so every consumer
 * agrees on what it names. */
static int parse_destination(struct pctx *c, const struct json_value *v, void *out)
{
  char **d = out;
  TRY(jv_str(c, v, d));
  if (**d == '\0')
    return perr(c, "must not be empty");
  /* ".." stays: the mount code resolves it inside the rootfs. */
  char *clean = path_clean(*d, false);
  free(*d);
  *d = clean;
  return 0;
}

static int parse_mount(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_mount *m = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "destination", parse_destination, &m->destination));
  TRY(jf(c, v, "source", jv_str, &m->source));
  TRY(jf(c, v, "type", jv_str, &m->type));
  TRY(jf_strv(c, v, "options", &m->options, &m->n_options));
  TRY(jf_array(c, v, "uidMappings", sizeof(*m->uid_mappings), &m->uid_mappings, &m->n_uid_mappings,
               parse_idmap));
  TRY(jf_array(c, v, "gidMappings", sizeof(*m->gid_mappings), &m->gid_mappings, &m->n_gid_mappings,
               parse_idmap));
  return 0;
}

static void mount_clear(struct oci_mount *m)
{
  free(m->destination);
  free(m->source);
  free(m->type);
  strv_free(m->options);
  free(m->uid_mappings);
  free(m->gid_mappings);
}

/* ---- process ------------------------------------------------------------- */

static int parse_console_size(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_process *p = out;
  uint16_t h, w; /* struct winsize holds unsigned shorts */
  TRY(jf_req(c, v, "height", jv_u16, &h));
  TRY(jf_req(c, v, "width", jv_u16, &w));
  p->console_height = h;
  p->console_width = w;
  return 0;
}

static int parse_rlimit_type(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_rlimit *rl = out;
  int64_t res;
  TRY(jv_name(c, v, &oci_rlimits, "rlimit", &res));
  rl->resource = (int)res;
  rl->type = xstrdup(v->u.str);
  return 0;
}

static int parse_rlimit(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_rlimit *rl = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "type", parse_rlimit_type, rl));
  TRY(jf_req(c, v, "soft", jv_u64, &rl->soft));
  TRY(jf_req(c, v, "hard", jv_u64, &rl->hard));
  return 0;
}

/* config.md: a capability the kernel or nook does not know MUST be logged
 * and SHOULD NOT fail the container, so an unknown name is recorded for a
 * warning and left out; a value that is not a string stays an error. */
static int parse_capset(struct pctx *c, const struct json_value *caps, const char *key, bool *has,
                        uint64_t *mask, struct oci_process *p)
{
  const struct json_value *v = json_get(caps, key);
  if (v == NULL)
    return 0;
  size_t mark = path_key(c, key);
  int r = jv_array(c, v);
  for (size_t i = 0; r == 0 && i < v->len; i++) {
    const struct json_value *e = &v->u.items[i];
    size_t m = path_index(c, i);
    if (e->type != JSON_STRING) {
      r = perr_type(c, e, "a string");
    } else {
      int cap = oci_cap_from_name(e->u.str);
      if (cap >= 0) {
        *mask |= UINT64_C(1) << cap;
      } else {
        char buf[QUOTE_MAX];
        cleanup_free char *where = path_text(c);
        p->unknown_caps = xrealloc(p->unknown_caps, (p->n_unknown_caps + 1) * sizeof(char *));
        xasprintf(&p->unknown_caps[p->n_unknown_caps++], "%s: unknown capability %s", where,
                  quote(e->u.str, buf));
      }
    }
    path_restore(c, m);
  }
  path_restore(c, mark);
  if (r == 0)
    *has = true;
  return r;
}

static int parse_capabilities(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_process *p = out;
  struct oci_capabilities *caps = &p->capabilities;
  TRY(parse_capset(c, v, "bounding", &caps->has_bounding, &caps->bounding, p));
  TRY(parse_capset(c, v, "effective", &caps->has_effective, &caps->effective, p));
  TRY(parse_capset(c, v, "inheritable", &caps->has_inheritable, &caps->inheritable, p));
  TRY(parse_capset(c, v, "permitted", &caps->has_permitted, &caps->permitted, p));
  TRY(parse_capset(c, v, "ambient", &caps->has_ambient, &caps->ambient, p));
  return 0;
}

static int parse_oom_score_adj(struct pctx *c, const struct json_value *v, void *out)
{
  int32_t adj;
  TRY(jv_i32(c, v, &adj));
  /* The kernel's range; the spec requires the value to be set as given. */
  if (adj < -1000 || adj > 1000)
    return perr(c, "must be between -1000 and 1000, got %d", adj);
  *(int *)out = adj;
  return 0;
}

static int parse_sched_policy(struct pctx *c, const struct json_value *v, void *out)
{
  int64_t policy;
  TRY(jv_name(c, v, &oci_sched_policies, "scheduler policy", &policy));
  *(int *)out = (int)policy;
  return 0;
}

static int parse_scheduler(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_scheduler *s = out;
  TRY(jf_req(c, v, "policy", parse_sched_policy, &s->policy));
  TRY(jf(c, v, "nice", jv_i32, &s->nice));
  TRY(jf(c, v, "priority", jv_i32, &s->priority));
  TRY(jf_flags(c, v, "flags", &oci_sched_flags, "scheduler flag", &s->flags));
  TRY(jf(c, v, "runtime", jv_u64, &s->runtime));
  TRY(jf(c, v, "deadline", jv_u64, &s->deadline));
  TRY(jf(c, v, "period", jv_u64, &s->period));
  return 0;
}

static int parse_ioprio_class(struct pctx *c, const struct json_value *v, void *out)
{
  int64_t klass;
  TRY(jv_name(c, v, &oci_ioprio_classes, "I/O priority class", &klass));
  *(int *)out = (int)klass;
  return 0;
}

static int parse_ioprio_level(struct pctx *c, const struct json_value *v, void *out)
{
  int32_t prio;
  TRY(jv_i32(c, v, &prio));
  if (prio < 0 || prio > 7)
    return perr(c, "must be between 0 and 7, got %d", prio);
  *(int *)out = prio;
  return 0;
}

static int parse_io_priority(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_io_priority *io = out;
  TRY(jf_req(c, v, "class", parse_ioprio_class, &io->klass));
  /* config.md calls priority REQUIRED, the schema does not: absent is 0 as
   * with runc. */
  TRY(jf(c, v, "priority", parse_ioprio_level, &io->priority));
  return 0;
}

/* The schema's ^[0-9, -]*$ */
static int parse_cpu_list(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_str(c, v, out));
  const char *s = *(char **)out;
  if (s[strspn(s, "0123456789, -")] != '\0') {
    char buf[QUOTE_MAX];
    return perr(c, "invalid CPU list %s", quote(s, buf));
  }
  return 0;
}

static int parse_cpu_affinity(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_exec_cpu_affinity *a = out;
  TRY(jf(c, v, "initial", parse_cpu_list, &a->initial));
  TRY(jf(c, v, "final", parse_cpu_list, &a->final));
  return 0;
}

static int parse_user(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_user *u = out;
  TRY(jf(c, v, "uid", jv_u32, &u->uid));
  TRY(jf(c, v, "gid", jv_u32, &u->gid));
  TRY(opt(jf(c, v, "umask", jv_u32, &u->umask), &u->has_umask));
  TRY(jf_array(c, v, "additionalGids", sizeof(*u->additional_gids), &u->additional_gids,
               &u->n_additional_gids, jv_u32));
  TRY(jf(c, v, "username", jv_str, &u->username));
  return 0;
}

static int parse_process_obj(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_process *p = out;
  TRY(jf(c, v, "terminal", jv_bool, &p->terminal));
  TRY(opt(jf_obj(c, v, "consoleSize", parse_console_size, p), &p->has_console_size));
  TRY(jf_req(c, v, "cwd", jv_str, &p->cwd));
  TRY(jf_strv(c, v, "env", &p->env, &p->n_env));
  TRY(jf_strv(c, v, "args", &p->args, &p->n_args));
  TRY(jf(c, v, "commandLine", jv_str, &p->command_line));
  TRY(jf_array(c, v, "rlimits", sizeof(*p->rlimits), &p->rlimits, &p->n_rlimits, parse_rlimit));
  TRY(jf(c, v, "apparmorProfile", jv_opt_str, &p->apparmor_profile));
  TRY(opt(jf_obj(c, v, "capabilities", parse_capabilities, p), &p->has_capabilities));
  TRY(jf(c, v, "noNewPrivileges", jv_bool, &p->no_new_privileges));
  TRY(opt(jf(c, v, "oomScoreAdj", parse_oom_score_adj, &p->oom_score_adj), &p->has_oom_score_adj));
  TRY(opt(jf_obj(c, v, "scheduler", parse_scheduler, &p->scheduler), &p->has_scheduler));
  TRY(jf(c, v, "selinuxLabel", jv_opt_str, &p->selinux_label));
  TRY(opt(jf_obj(c, v, "ioPriority", parse_io_priority, &p->io_priority), &p->has_io_priority));
  TRY(opt(jf_obj(c, v, "execCPUAffinity", parse_cpu_affinity, &p->exec_cpu_affinity),
          &p->has_exec_cpu_affinity));
  TRY(jf_obj(c, v, "user", parse_user, &p->user));
  /* config.md: consoleSize MUST be ignored without a terminal. */
  if (!p->terminal)
    p->has_console_size = false;
  return 0;
}

void oci_process_clear(struct oci_process *p)
{
  if (p == NULL)
    return;
  free(p->cwd);
  strv_free(p->env);
  strv_free(p->args);
  free(p->command_line);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free(p->rlimits[i].type);
  free(p->rlimits);
  free(p->apparmor_profile);
  free(p->selinux_label);
  free(p->exec_cpu_affinity.initial);
  free(p->exec_cpu_affinity.final);
  free(p->user.additional_gids);
  free(p->user.username);
  for (size_t i = 0; i < p->n_unknown_caps; i++)
    free(p->unknown_caps[i]);
  free(p->unknown_caps);
  memset(p, 0, sizeof(*p));
}

/* ---- hooks --------------------------------------------------------------- */

static int parse_hook_timeout(struct pctx *c, const struct json_value *v, void *out)
{
  int32_t t;
  TRY(jv_i32(c, v, &t));
  if (t <= 0)
    return perr(c, "must be greater than zero, got %d", t);
  *(int *)out = t;
  return 0;
}

static int parse_hook(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_hook *h = out;
  size_t n;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "path", jv_str, &h->path));
  TRY(jf_strv(c, v, "args", &h->args, &n));
  TRY(jf_strv(c, v, "env", &h->env, &n));
  TRY(opt(jf(c, v, "timeout", parse_hook_timeout, &h->timeout), &h->has_timeout));
  return 0;
}

#define HOOK_LISTS(X)                                                                              \
  X("prestart", prestart)                                                                          \
  X("createRuntime", create_runtime)                                                               \
  X("createContainer", create_container)                                                           \
  X("startContainer", start_container)                                                             \
  X("poststart", poststart)                                                                        \
  X("poststop", poststop)

static int parse_hooks(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_hooks *h = out;
#define PARSE_LIST(key, f) TRY(jf_array(c, v, key, sizeof(*h->f), &h->f, &h->n_##f, parse_hook));
  HOOK_LISTS(PARSE_LIST)
#undef PARSE_LIST
  return 0;
}

static void hook_list_free(struct oci_hook *l, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(l[i].path);
    strv_free(l[i].args);
    strv_free(l[i].env);
  }
  free(l);
}

static void hooks_clear(struct oci_hooks *h)
{
#define FREE_LIST(key, f) hook_list_free(h->f, h->n_##f);
  HOOK_LISTS(FREE_LIST)
#undef FREE_LIST
}

/* ---- the document -------------------------------------------------------- */

static int parse_config(struct pctx *c, const struct json_value *root, struct oci_config *cfg)
{
  TRY(jv_object(c, root));
  TRY(jf_req(c, root, "ociVersion", jv_str, &cfg->oci_version));
  TRY(jf_obj(c, root, "root", parse_root, cfg));
  TRY(jf_array(c, root, "mounts", sizeof(*cfg->mounts), &cfg->mounts, &cfg->n_mounts, parse_mount));
  TRY(opt(jf_obj(c, root, "process", parse_process_obj, &cfg->process), &cfg->has_process));
  TRY(jf(c, root, "hostname", jv_opt_str, &cfg->hostname));
  TRY(jf(c, root, "domainname", jv_opt_str, &cfg->domainname));
  TRY(opt(jf_obj(c, root, "hooks", parse_hooks, &cfg->hooks), &cfg->has_hooks));
  TRY(jf_strmap(c, root, "annotations", &cfg->annotations, &cfg->n_annotations));
  TRY(opt(jf_obj(c, root, "linux", parse_linux, &cfg->linux_), &cfg->has_linux));
  TRY(opt(jf_obj(c, root, "vm", parse_vm, &cfg->vm), &cfg->has_vm));
  return parse_other_platforms(c, root);
}

/* Parse a document whose top level `fn` handles into `out`. */
static int parse_document(const char *json, size_t len, const char *origin, jv_fn fn, void *out,
                          nook_error_t *err)
{
  struct json_doc *doc;
  const struct json_value *root;
  if (json_parse(json, len, origin, &doc, &root, err) < 0)
    return -1;
  struct pctx c;
  pctx_init(&c, origin, err);
  int r = jv_object(&c, root);
  if (r == 0)
    r = fn(&c, root, out);
  pctx_fini(&c);
  json_doc_free(doc);
  return r;
}

static int parse_config_fn(struct pctx *c, const struct json_value *v, void *out)
{
  return parse_config(c, v, out);
}

int oci_config_parse(const char *json, size_t len, const char *origin, struct oci_config **out,
                     nook_error_t *err)
{
  struct oci_config *cfg = xcalloc(1, sizeof(*cfg));
  if (parse_document(json, len, origin, parse_config_fn, cfg, err) < 0) {
    oci_config_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

int oci_config_load(const char *path, struct oci_config **out, nook_error_t *err)
{
  cleanup_free char *json = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, path, &json, &len, err) < 0)
    return -1;
  return oci_config_parse(json, len, path, out, err);
}

void oci_config_free(struct oci_config *c)
{
  if (c == NULL)
    return;
  free(c->oci_version);
  free(c->root_path);
  for (size_t i = 0; i < c->n_mounts; i++)
    mount_clear(&c->mounts[i]);
  free(c->mounts);
  oci_process_clear(&c->process);
  free(c->hostname);
  free(c->domainname);
  hooks_clear(&c->hooks);
  oci_kv_free(c->annotations, c->n_annotations);
  oci_linux_clear(&c->linux_);
  oci_vm_clear(&c->vm);
  free(c);
}

int oci_process_parse(const char *json, size_t len, const char *origin, struct oci_process *out,
                      nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  if (parse_document(json, len, origin, parse_process_obj, out, err) < 0) {
    oci_process_clear(out);
    return -1;
  }
  return 0;
}

int oci_resources_parse(const char *json, size_t len, const char *origin, struct oci_resources *out,
                        nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  if (parse_document(json, len, origin, parse_resources, out, err) < 0) {
    oci_resources_clear(out);
    return -1;
  }
  return 0;
}

const char *oci_annotation(const struct oci_config *c, const char *key)
{
  for (size_t i = 0; i < c->n_annotations; i++)
    if (strcmp(c->annotations[i].key, key) == 0)
      return c->annotations[i].value;
  return NULL;
}

const struct oci_namespace *oci_config_namespace(const struct oci_config *c, enum oci_ns_type t)
{
  if (!c->has_linux)
    return NULL;
  for (size_t i = 0; i < c->linux_.n_namespaces; i++)
    if (c->linux_.namespaces[i].type == t)
      return &c->linux_.namespaces[i];
  return NULL;
}
