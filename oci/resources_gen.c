/* linux.resources back to JSON, for the config.json `update` keeps: what
 * the parser read (resources_parse.c), field for field, keys in the spec's
 * order; absent fields stay absent. */
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "config.h"
#include "json.h"

static void gen_devices(yajl_gen g, const struct oci_resources *r)
{
  if (!r->has_devices && r->n_devices == 0)
    return;
  jgen_str(g, "devices");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < r->n_devices; i++) {
    const struct oci_device_cgroup *d = &r->devices[i];
    yajl_gen_map_open(g);
    jgen_key_bool(g, "allow", d->allow);
    if (d->has_type) {
      char t[2] = {d->type, '\0'};
      jgen_key_str(g, "type", t);
    }
    if (d->has_major)
      jgen_key_int(g, "major", d->major);
    if (d->has_minor)
      jgen_key_int(g, "minor", d->minor);
    if (d->access != NULL)
      jgen_key_str(g, "access", d->access);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_memory(yajl_gen g, const struct oci_memory *m)
{
  jgen_str(g, "memory");
  yajl_gen_map_open(g);
  if (m->has_limit)
    jgen_key_int(g, "limit", m->limit);
  if (m->has_reservation)
    jgen_key_int(g, "reservation", m->reservation);
  if (m->has_swap)
    jgen_key_int(g, "swap", m->swap);
  if (m->has_kernel)
    jgen_key_int(g, "kernel", m->kernel);
  if (m->has_kernel_tcp)
    jgen_key_int(g, "kernelTCP", m->kernel_tcp);
  if (m->has_swappiness)
    jgen_key_uint(g, "swappiness", m->swappiness);
  if (m->has_disable_oom_killer)
    jgen_key_bool(g, "disableOOMKiller", m->disable_oom_killer);
  if (m->has_use_hierarchy)
    jgen_key_bool(g, "useHierarchy", m->use_hierarchy);
  if (m->has_check_before_update)
    jgen_key_bool(g, "checkBeforeUpdate", m->check_before_update);
  yajl_gen_map_close(g);
}

static void gen_cpu(yajl_gen g, const struct oci_cpu *c)
{
  jgen_str(g, "cpu");
  yajl_gen_map_open(g);
  if (c->has_shares)
    jgen_key_uint(g, "shares", c->shares);
  if (c->has_quota)
    jgen_key_int(g, "quota", c->quota);
  if (c->has_burst)
    jgen_key_uint(g, "burst", c->burst);
  if (c->has_period)
    jgen_key_uint(g, "period", c->period);
  if (c->has_realtime_runtime)
    jgen_key_int(g, "realtimeRuntime", c->realtime_runtime);
  if (c->has_realtime_period)
    jgen_key_uint(g, "realtimePeriod", c->realtime_period);
  if (c->cpus != NULL)
    jgen_key_str(g, "cpus", c->cpus);
  if (c->mems != NULL)
    jgen_key_str(g, "mems", c->mems);
  if (c->has_idle)
    jgen_key_int(g, "idle", c->idle);
  yajl_gen_map_close(g);
}

static void gen_throttle(yajl_gen g, const char *key, bool given,
                         const struct oci_throttle_device *d, size_t n)
{
  if (!given && n == 0)
    return;
  jgen_str(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++) {
    yajl_gen_map_open(g);
    jgen_key_int(g, "major", d[i].major);
    jgen_key_int(g, "minor", d[i].minor);
    jgen_key_uint(g, "rate", d[i].rate);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_blockio(yajl_gen g, const struct oci_blockio *b)
{
  jgen_str(g, "blockIO");
  yajl_gen_map_open(g);
  if (b->has_weight)
    jgen_key_uint(g, "weight", b->weight);
  if (b->has_leaf_weight)
    jgen_key_uint(g, "leafWeight", b->leaf_weight);
  if (b->has_weight_device || b->n_weight_device > 0) {
    jgen_str(g, "weightDevice");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < b->n_weight_device; i++) {
      const struct oci_weight_device *d = &b->weight_device[i];
      yajl_gen_map_open(g);
      jgen_key_int(g, "major", d->major);
      jgen_key_int(g, "minor", d->minor);
      if (d->has_weight)
        jgen_key_uint(g, "weight", d->weight);
      if (d->has_leaf_weight)
        jgen_key_uint(g, "leafWeight", d->leaf_weight);
      yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
  }
  gen_throttle(g, "throttleReadBpsDevice", b->has_throttle_read_bps, b->throttle_read_bps,
               b->n_throttle_read_bps);
  gen_throttle(g, "throttleWriteBpsDevice", b->has_throttle_write_bps, b->throttle_write_bps,
               b->n_throttle_write_bps);
  gen_throttle(g, "throttleReadIOPSDevice", b->has_throttle_read_iops, b->throttle_read_iops,
               b->n_throttle_read_iops);
  gen_throttle(g, "throttleWriteIOPSDevice", b->has_throttle_write_iops, b->throttle_write_iops,
               b->n_throttle_write_iops);
  yajl_gen_map_close(g);
}

static void gen_hugepages(yajl_gen g, const struct oci_resources *r)
{
  if (!r->has_hugepage_limits && r->n_hugepage_limits == 0)
    return;
  jgen_str(g, "hugepageLimits");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    yajl_gen_map_open(g);
    jgen_key_str(g, "pageSize", r->hugepage_limits[i].page_size);
    jgen_key_uint(g, "limit", r->hugepage_limits[i].limit);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_network(yajl_gen g, const struct oci_network_resources *n)
{
  jgen_str(g, "network");
  yajl_gen_map_open(g);
  if (n->has_class_id)
    jgen_key_uint(g, "classID", n->class_id);
  if (n->has_priorities || n->n_priorities > 0) {
    jgen_str(g, "priorities");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n->n_priorities; i++) {
      yajl_gen_map_open(g);
      jgen_key_str(g, "name", n->priorities[i].name);
      jgen_key_uint(g, "priority", n->priorities[i].priority);
      yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
}

static void gen_rdma(yajl_gen g, const struct oci_resources *r)
{
  if (!r->has_rdma && r->n_rdma == 0)
    return;
  jgen_str(g, "rdma");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct oci_rdma *d = &r->rdma[i];
    jgen_str(g, d->device);
    yajl_gen_map_open(g);
    if (d->has_hca_handles)
      jgen_key_uint(g, "hcaHandles", d->hca_handles);
    if (d->has_hca_objects)
      jgen_key_uint(g, "hcaObjects", d->hca_objects);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
}

static void gen_unified(yajl_gen g, const struct oci_resources *r)
{
  if (!r->has_unified && r->n_unified == 0)
    return;
  jgen_str(g, "unified");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < r->n_unified; i++)
    jgen_key_str(g, r->unified[i].key, r->unified[i].value);
  yajl_gen_map_close(g);
}

static void gen_resources(yajl_gen g, const struct oci_resources *r)
{
  yajl_gen_map_open(g);
  gen_devices(g, r);
  if (r->has_memory)
    gen_memory(g, &r->memory);
  if (r->has_cpu)
    gen_cpu(g, &r->cpu);
  if (r->has_blockio)
    gen_blockio(g, &r->blockio);
  gen_hugepages(g, r);
  if (r->has_network)
    gen_network(g, &r->network);
  if (r->has_pids) {
    jgen_str(g, "pids");
    yajl_gen_map_open(g);
    jgen_key_int(g, "limit", r->pids_limit);
    yajl_gen_map_close(g);
  }
  gen_rdma(g, r);
  gen_unified(g, r);
  yajl_gen_map_close(g);
}

char *oci_resources_json(const struct oci_resources *r)
{
  yajl_gen g = jgen_new(NULL);
  gen_resources(g, r);
  return jgen_finish(g);
}

/* The "linux" object with "resources" replaced; `res` is the member
 * json_get() finds (the others of that name, null or shadowed, are
 * dropped), NULL to add one at the end. */
static void gen_linux(yajl_gen g, const struct json_value *linux_v, const struct json_value *res,
                      const struct oci_resources *r)
{
  yajl_gen_map_open(g);
  for (size_t i = 0; linux_v != NULL && i < linux_v->len; i++) {
    const struct json_member *m = &linux_v->u.members[i];
    if (strcmp(m->key, "resources") != 0) {
      jgen_str(g, m->key);
      jgen_value(g, &m->value);
    } else if (&m->value == res) {
      jgen_str(g, "resources");
      gen_resources(g, r);
    }
  }
  if (res == NULL) {
    jgen_str(g, "resources");
    gen_resources(g, r);
  }
  yajl_gen_map_close(g);
}

int oci_config_with_resources(const char *json, size_t len, const char *origin,
                              const struct oci_resources *r, char **out, nook_error_t *err)
{
  struct json_doc *doc = NULL;
  const struct json_value *root;
  if (json_parse(json, len, origin, &doc, &root, err) < 0)
    return -1;
  const struct json_value *linux_v = json_get(root, "linux");
  if (root->type != JSON_OBJECT || (linux_v != NULL && linux_v->type != JSON_OBJECT)) {
    json_doc_free(doc);
    return nook_error(err, 0, "%s: not an object with a \"linux\" object", origin);
  }
  const struct json_value *res = linux_v ? json_get(linux_v, "resources") : NULL;
  yajl_gen g = jgen_new("\t");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < root->len; i++) {
    const struct json_member *m = &root->u.members[i];
    if (strcmp(m->key, "linux") != 0) {
      jgen_str(g, m->key);
      jgen_value(g, &m->value);
    } else if (&m->value == linux_v) { /* not null, nor shadowed by a later "linux" */
      jgen_str(g, "linux");
      gen_linux(g, linux_v, res, r);
    }
  }
  if (linux_v == NULL) {
    jgen_str(g, "linux");
    gen_linux(g, NULL, NULL, r);
  }
  yajl_gen_map_close(g);
  *out = jgen_finish(g);
  json_doc_free(doc);
  return 0;
}
