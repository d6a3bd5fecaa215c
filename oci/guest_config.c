/* config.json as a VM-mode guest sees it (oci_config_for_guest). */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "json.h"

/* The hooks the guest runs: those the spec places in the container's
 * namespaces.  The others run on the host. */
static bool guest_hook(const char *kind)
{
  return strcmp(kind, "createContainer") == 0 || strcmp(kind, "startContainer") == 0;
}

static void gen_object_with(yajl_gen g, const struct json_value *obj, const char *key,
                            const char *value)
{
  yajl_gen_map_open(g);
  bool done = false;
  for (size_t i = 0; i < obj->len; i++) {
    const struct json_member *m = &obj->u.members[i];
    jgen_str(g, m->key);
    if (value != NULL && strcmp(m->key, key) == 0) {
      jgen_str(g, value);
      done = true;
    } else {
      jgen_value(g, &m->value);
    }
  }
  if (value != NULL && !done)
    jgen_key_str(g, key, value);
  yajl_gen_map_close(g);
}

/* linux with the network namespace's path dropped: the host's namespace
 * is QEMU's, its interface the guest's (net/vmnet.h), and the container
 * gets a namespace of its own in the guest, where that interface goes.
 * A pod's member (join_pid > 0) joins instead, for every namespace given
 * by path, the one of the guest's process join_pid (its sandbox's init). */
static void gen_linux(yajl_gen g, const struct json_value *linux_, int join_pid)
{
  yajl_gen_map_open(g);
  for (size_t i = 0; i < linux_->len; i++) {
    const struct json_member *m = &linux_->u.members[i];
    jgen_str(g, m->key);
    if (strcmp(m->key, "namespaces") != 0 || m->value.type != JSON_ARRAY) {
      jgen_value(g, &m->value);
      continue;
    }
    yajl_gen_array_open(g);
    for (size_t j = 0; j < m->value.len; j++) {
      const struct json_value *ns = &m->value.u.items[j];
      const struct json_value *type = json_get(ns, "type");
      const struct json_value *path = json_get(ns, "path");
      int t = type != NULL && type->type == JSON_STRING ? oci_ns_type_from_name(type->u.str) : -1;
      if (t < 0 || path == NULL || (join_pid <= 0 && t != OCI_NS_NETWORK)) {
        jgen_value(g, ns);
        continue;
      }
      yajl_gen_map_open(g);
      for (size_t k = 0; k < ns->len; k++) {
        if (strcmp(ns->u.members[k].key, "path") == 0)
          continue;
        jgen_str(g, ns->u.members[k].key);
        jgen_value(g, &ns->u.members[k].value);
      }
      if (join_pid > 0) {
        char joined[64];
        snprintf(joined, sizeof(joined), "/proc/%d/ns/%s", join_pid,
                 oci_ns_proc_name((enum oci_ns_type)t));
        jgen_key_str(g, "path", joined);
      }
      yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
}

int oci_config_for_guest(const char *json, size_t len, const char *origin, const char *root_path,
                         char *const *mount_sources, size_t n_sources, const char *drop_annotation,
                         int join_pid, char **out, nook_error_t *err)
{
  struct json_doc *doc = NULL;
  const struct json_value *root = NULL;
  if (json_parse(json, len, origin, &doc, &root, err) < 0)
    return -1;
  if (root->type != JSON_OBJECT) {
    json_doc_free(doc);
    return nook_error(err, 0, "%s: not a JSON object", origin);
  }
  yajl_gen g = jgen_new("\t");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < root->len; i++) {
    const struct json_member *m = &root->u.members[i];
    const struct json_value *v = &m->value;
    /* The guest is not asked to make another VM. */
    if (strcmp(m->key, "vm") == 0)
      continue;
    jgen_str(g, m->key);
    if (strcmp(m->key, "root") == 0 && v->type == JSON_OBJECT) {
      gen_object_with(g, v, "path", root_path);
    } else if (strcmp(m->key, "linux") == 0 && v->type == JSON_OBJECT) {
      gen_linux(g, v, join_pid);
    } else if (strcmp(m->key, "mounts") == 0 && v->type == JSON_ARRAY) {
      yajl_gen_array_open(g);
      for (size_t j = 0; j < v->len; j++) {
        const struct json_value *mnt = &v->u.items[j];
        const char *src = j < n_sources ? mount_sources[j] : NULL;
        if (mnt->type == JSON_OBJECT)
          gen_object_with(g, mnt, "source", src);
        else
          jgen_value(g, mnt);
      }
      yajl_gen_array_close(g);
    } else if ((strcmp(m->key, "hooks") == 0 || strcmp(m->key, "annotations") == 0) &&
               v->type == JSON_OBJECT) {
      bool hooks = m->key[0] == 'h';
      yajl_gen_map_open(g);
      for (size_t j = 0; j < v->len; j++) {
        const struct json_member *h = &v->u.members[j];
        if (hooks ? !guest_hook(h->key)
                  : drop_annotation != NULL && strcmp(h->key, drop_annotation) == 0)
          continue;
        jgen_str(g, h->key);
        jgen_value(g, &h->value);
      }
      yajl_gen_map_close(g);
    } else {
      jgen_value(g, v);
    }
  }
  yajl_gen_map_close(g);
  *out = jgen_finish(g);
  json_doc_free(doc);
  return 0;
}
