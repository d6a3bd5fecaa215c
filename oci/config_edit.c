/* oci_config_edit: the typed edits are turned into a list of (path, new
 * value) pairs and the document is re-emitted through its parsed tree, each
 * member copied as it was unless an edit names it or something below it;
 * objects an edit needs are made when absent. */
#include "config_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "json.h"

#define EDIT_MAX_DEPTH 6
/* plan() adds at most this many edits besides the annotations. */
#define EDIT_FIXED_MAX 24

enum edit_kind {
  EDIT_STR,
  EDIT_INT,
  EDIT_UINT,
  EDIT_BOOL,
  EDIT_STRV,
  EDIT_ENV,
  EDIT_MOUNTS,
  EDIT_NS
};

struct edit {
  const char *path[EDIT_MAX_DEPTH + 1]; /* NULL-terminated components */
  enum edit_kind kind;
  const char *str;
  long long num;
  uint64_t unum;
  bool flag;
};

struct editor {
  const struct oci_config_edit *e;
  struct edit *edits;
  size_t n;
};

static size_t path_len(const char *const *path)
{
  size_t n = 0;
  while (path[n] != NULL)
    n++;
  return n;
}

/* Whether the edit's path starts with cur[0..depth). */
static bool under(const struct edit *ed, const char *const *cur, size_t depth)
{
  for (size_t i = 0; i < depth; i++)
    if (ed->path[i] == NULL || strcmp(ed->path[i], cur[i]) != 0)
      return false;
  return true;
}

/* The name of an environment entry: what comes before its '='. */
static size_t env_name_len(const char *entry)
{
  const char *eq = strchr(entry, '=');
  return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* Whether env[i]'s name is set again later in the edit (the last wins), or
 * an old entry (i == n) of that name is replaced. */
static bool env_overridden(const struct oci_config_edit *e, const char *entry, size_t from)
{
  size_t n = env_name_len(entry);
  for (size_t j = from; j < e->n_env; j++)
    if (env_name_len(e->env[j]) == n && strncmp(e->env[j], entry, n) == 0)
      return true;
  return false;
}

static void gen_env(yajl_gen g, const struct json_value *old, const struct oci_config_edit *e)
{
  yajl_gen_array_open(g);
  for (size_t i = 0; old != NULL && old->type == JSON_ARRAY && i < old->len; i++) {
    const struct json_value *v = &old->u.items[i];
    if (v->type == JSON_STRING && env_overridden(e, v->u.str, 0))
      continue;
    jgen_value(g, v);
  }
  for (size_t i = 0; i < e->n_env; i++)
    if (!env_overridden(e, e->env[i], i + 1))
      jgen_str(g, e->env[i]);
  yajl_gen_array_close(g);
}

static void gen_mounts(yajl_gen g, const struct json_value *old, const struct oci_config_edit *e)
{
  yajl_gen_array_open(g);
  for (size_t i = 0; old != NULL && old->type == JSON_ARRAY && i < old->len; i++)
    jgen_value(g, &old->u.items[i]);
  for (size_t i = 0; i < e->n_mounts; i++) {
    const struct oci_edit_mount *m = &e->mounts[i];
    jgen_mount(g, m->destination, m->type, m->source, m->options);
  }
  yajl_gen_array_close(g);
}

static bool is_netns_entry(const struct json_value *v)
{
  const struct json_value *t = v->type == JSON_OBJECT ? json_get(v, "type") : NULL;
  return t != NULL && t->type == JSON_STRING && strcmp(t->u.str, "network") == 0;
}

static void gen_namespaces(yajl_gen g, const struct json_value *old,
                           const struct oci_config_edit *e)
{
  yajl_gen_array_open(g);
  for (size_t i = 0; old != NULL && old->type == JSON_ARRAY && i < old->len; i++)
    if (!is_netns_entry(&old->u.items[i]))
      jgen_value(g, &old->u.items[i]);
  if (e->netns == OCI_EDIT_NETNS_NEW) {
    yajl_gen_map_open(g);
    jgen_key_str(g, "type", "network");
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_edit(yajl_gen g, const struct edit *ed, const struct json_value *old,
                     const struct oci_config_edit *e)
{
  switch (ed->kind) {
  case EDIT_STR:
    jgen_str(g, ed->str);
    break;
  case EDIT_INT:
    yajl_gen_integer(g, ed->num);
    break;
  case EDIT_UINT: {
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ed->unum);
    yajl_gen_number(g, buf, (size_t)n);
    break;
  }
  case EDIT_BOOL:
    yajl_gen_bool(g, ed->flag);
    break;
  case EDIT_STRV:
    yajl_gen_array_open(g);
    for (size_t i = 0; i < e->n_args; i++)
      jgen_str(g, e->args[i]);
    yajl_gen_array_close(g);
    break;
  case EDIT_ENV:
    gen_env(g, old, e);
    break;
  case EDIT_MOUNTS:
    gen_mounts(g, old, e);
    break;
  case EDIT_NS:
    gen_namespaces(g, old, e);
    break;
  }
}

/* The value at path cur[0..depth) (v, or NULL when absent), edited. */
static void gen_at(yajl_gen g, const struct editor *ed, const struct json_value *v,
                   const char **cur, size_t depth)
{
  if (v != NULL && v->type == JSON_NULL)
    v = NULL; /* null means "not set": an edit below makes the object */
  bool below = false;
  for (size_t i = 0; i < ed->n; i++) {
    if (!under(&ed->edits[i], cur, depth))
      continue;
    if (path_len(ed->edits[i].path) == depth) {
      gen_edit(g, &ed->edits[i], v, ed->e);
      return;
    }
    below = true;
  }
  if (!below || (v != NULL && v->type != JSON_OBJECT) || depth == EDIT_MAX_DEPTH) {
    /* Nothing to change here, or a value the validator will refuse. */
    if (v != NULL)
      jgen_value(g, v);
    else
      yajl_gen_null(g);
    return;
  }
  yajl_gen_map_open(g);
  cleanup_free bool *shadowed = v ? json_shadowed(v) : NULL;
  for (size_t i = 0; v != NULL && i < v->len; i++) {
    if (shadowed && shadowed[i])
      continue;
    const struct json_member *m = &v->u.members[i];
    cur[depth] = m->key;
    jgen_str(g, m->key);
    gen_at(g, ed, &m->value, cur, depth + 1);
  }
  /* What the edits need that is not there (each name once). */
  for (size_t i = 0; i < ed->n; i++) {
    const struct edit *x = &ed->edits[i];
    if (!under(x, cur, depth) || x->path[depth] == NULL)
      continue;
    const char *name = x->path[depth];
    bool seen = false;
    for (size_t j = 0; v != NULL && j < v->len && !seen; j++)
      seen = strcmp(v->u.members[j].key, name) == 0;
    for (size_t j = 0; j < i && !seen; j++)
      seen = under(&ed->edits[j], cur, depth) && ed->edits[j].path[depth] != NULL &&
             strcmp(ed->edits[j].path[depth], name) == 0;
    if (seen)
      continue;
    cur[depth] = name;
    jgen_str(g, name);
    gen_at(g, ed, NULL, cur, depth + 1);
  }
  yajl_gen_map_close(g);
}

static struct edit *add(struct editor *ed, enum edit_kind kind, const char *p0, const char *p1,
                        const char *p2, const char *p3)
{
  struct edit *x = &ed->edits[ed->n++];
  memset(x, 0, sizeof(*x));
  x->kind = kind;
  x->path[0] = p0;
  x->path[1] = p1;
  x->path[2] = p1 ? p2 : NULL;
  x->path[3] = p1 && p2 ? p3 : NULL;
  return x;
}

/* The edits, in a fixed order (an absent object is made in that order). */
static void plan(struct editor *ed)
{
  const struct oci_config_edit *e = ed->e;
  if (e->terminal >= 0)
    add(ed, EDIT_BOOL, "process", "terminal", NULL, NULL)->flag = e->terminal;
  if (e->has_user) {
    add(ed, EDIT_UINT, "process", "user", "uid", NULL)->unum = e->uid;
    add(ed, EDIT_UINT, "process", "user", "gid", NULL)->unum = e->gid;
  }
  if (e->n_args > 0)
    add(ed, EDIT_STRV, "process", "args", NULL, NULL);
  if (e->n_env > 0)
    add(ed, EDIT_ENV, "process", "env", NULL, NULL);
  if (e->cwd)
    add(ed, EDIT_STR, "process", "cwd", NULL, NULL)->str = e->cwd;
  if (e->root_path)
    add(ed, EDIT_STR, "root", "path", NULL, NULL)->str = e->root_path;
  if (e->root_readonly >= 0)
    add(ed, EDIT_BOOL, "root", "readonly", NULL, NULL)->flag = e->root_readonly;
  if (e->hostname)
    add(ed, EDIT_STR, "hostname", NULL, NULL, NULL)->str = e->hostname;
  if (e->n_mounts > 0)
    add(ed, EDIT_MOUNTS, "mounts", NULL, NULL, NULL);
  if (e->cgroups_path)
    add(ed, EDIT_STR, "linux", "cgroupsPath", NULL, NULL)->str = e->cgroups_path;
  if (e->has_memory_limit)
    add(ed, EDIT_INT, "linux", "resources", "memory", "limit")->num = e->memory_limit;
  if (e->has_memory_swap)
    add(ed, EDIT_INT, "linux", "resources", "memory", "swap")->num = e->memory_swap;
  if (e->has_cpu_quota) {
    add(ed, EDIT_INT, "linux", "resources", "cpu", "quota")->num = e->cpu_quota;
    add(ed, EDIT_UINT, "linux", "resources", "cpu", "period")->unum = e->cpu_period;
  }
  if (e->cpu_cpus)
    add(ed, EDIT_STR, "linux", "resources", "cpu", "cpus")->str = e->cpu_cpus;
  if (e->has_pids_limit)
    add(ed, EDIT_INT, "linux", "resources", "pids", "limit")->num = e->pids_limit;
  if (e->has_blkio_weight)
    add(ed, EDIT_UINT, "linux", "resources", "blockIO", "weight")->unum = e->blkio_weight;
  if (e->netns != OCI_EDIT_NETNS_KEEP)
    add(ed, EDIT_NS, "linux", "namespaces", NULL, NULL);
  for (size_t i = 0; i < e->n_annotations; i++)
    add(ed, EDIT_STR, "annotations", e->annotation_keys[i], NULL, NULL)->str =
        e->annotation_values[i];
}

int oci_config_edit(const char *json, size_t len, const char *origin,
                    const struct oci_config_edit *e, char **out, nook_error_t *err)
{
  struct json_doc *doc = NULL;
  const struct json_value *root;
  if (json_parse(json, len, origin, &doc, &root, err) < 0)
    return -1;
  if (root->type != JSON_OBJECT) {
    json_doc_free(doc);
    return nook_error(err, 0, "%s: not a JSON object", origin);
  }
  struct editor ed = {.e = e,
                      .edits = xcalloc(EDIT_FIXED_MAX + e->n_annotations, sizeof(struct edit))};
  plan(&ed);
  const char *cur[EDIT_MAX_DEPTH + 1] = {0};
  yajl_gen g = jgen_new(NULL);
  gen_at(g, &ed, root, cur, 0);
  *out = jgen_finish(g);
  free(ed.edits);
  json_doc_free(doc);
  return 0;
}
