/* linux.resources of config.json, also the document of `update --resources`. */
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

static int opt(int r, bool *has)
{
  if (r > 0)
    *has = true;
  return r;
}

static int parse_cgroup_device_type(struct pctx *c, const struct json_value *v, void *out)
{
  if (v->type != JSON_STRING)
    return perr_type(c, v, "a string");
  if (v->len != 1 || strchr("acb", v->u.str[0]) == NULL) {
    char buf[QUOTE_MAX];
    return perr(c, "invalid device type %s (expected \"a\", \"c\" or \"b\")", quote(v->u.str, buf));
  }
  *(char *)out = v->u.str[0];
  return 0;
}

static int parse_access(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_str(c, v, out));
  const char *s = *(char **)out;
  if (s[strspn(s, "rwm")] != '\0') {
    char buf[QUOTE_MAX];
    return perr(c, "invalid access %s (a combination of \"r\", \"w\" and \"m\")", quote(s, buf));
  }
  return 0;
}

static int parse_device_cgroup(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_device_cgroup *d = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "allow", jv_bool, &d->allow));
  d->type = 'a';
  TRY(opt(jf(c, v, "type", parse_cgroup_device_type, &d->type), &d->has_type));
  d->major = d->minor = -1;
  TRY(opt(jf(c, v, "major", jv_i64, &d->major), &d->has_major));
  TRY(opt(jf(c, v, "minor", jv_i64, &d->minor), &d->has_minor));
  TRY(jf(c, v, "access", parse_access, &d->access));
  return 0;
}

static int parse_memory(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_memory *m = out;
  TRY(opt(jf(c, v, "limit", jv_i64, &m->limit), &m->has_limit));
  TRY(opt(jf(c, v, "reservation", jv_i64, &m->reservation), &m->has_reservation));
  TRY(opt(jf(c, v, "swap", jv_i64, &m->swap), &m->has_swap));
  TRY(opt(jf(c, v, "kernel", jv_i64, &m->kernel), &m->has_kernel));
  TRY(opt(jf(c, v, "kernelTCP", jv_i64, &m->kernel_tcp), &m->has_kernel_tcp));
  TRY(opt(jf(c, v, "swappiness", jv_u64, &m->swappiness), &m->has_swappiness));
  TRY(opt(jf(c, v, "disableOOMKiller", jv_bool, &m->disable_oom_killer),
          &m->has_disable_oom_killer));
  TRY(opt(jf(c, v, "useHierarchy", jv_bool, &m->use_hierarchy), &m->has_use_hierarchy));
  TRY(opt(jf(c, v, "checkBeforeUpdate", jv_bool, &m->check_before_update),
          &m->has_check_before_update));
  return 0;
}

static int parse_cpu(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_cpu *cpu = out;
  TRY(opt(jf(c, v, "shares", jv_u64, &cpu->shares), &cpu->has_shares));
  TRY(opt(jf(c, v, "quota", jv_i64, &cpu->quota), &cpu->has_quota));
  TRY(opt(jf(c, v, "burst", jv_u64, &cpu->burst), &cpu->has_burst));
  TRY(opt(jf(c, v, "period", jv_u64, &cpu->period), &cpu->has_period));
  TRY(opt(jf(c, v, "realtimeRuntime", jv_i64, &cpu->realtime_runtime), &cpu->has_realtime_runtime));
  TRY(opt(jf(c, v, "realtimePeriod", jv_u64, &cpu->realtime_period), &cpu->has_realtime_period));
  TRY(jf(c, v, "cpus", jv_str, &cpu->cpus));
  TRY(jf(c, v, "mems", jv_str, &cpu->mems));
  TRY(opt(jf(c, v, "idle", jv_i64, &cpu->idle), &cpu->has_idle));
  return 0;
}

static int parse_pids(struct pctx *c, const struct json_value *v, void *out)
{
  return jf_req(c, v, "limit", jv_i64, out) < 0 ? -1 : 0;
}

static int parse_weight_device(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_weight_device *d = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "major", jv_i64, &d->major));
  TRY(jf_req(c, v, "minor", jv_i64, &d->minor));
  TRY(opt(jf(c, v, "weight", jv_u16, &d->weight), &d->has_weight));
  TRY(opt(jf(c, v, "leafWeight", jv_u16, &d->leaf_weight), &d->has_leaf_weight));
  if (!d->has_weight && !d->has_leaf_weight)
    return perr(c, "at least one of weight and leafWeight is required");
  return 0;
}

static int parse_throttle_device(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_throttle_device *d = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "major", jv_i64, &d->major));
  TRY(jf_req(c, v, "minor", jv_i64, &d->minor));
  TRY(jf_req(c, v, "rate", jv_u64, &d->rate));
  return 0;
}

static int parse_blockio(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_blockio *b = out;
  TRY(opt(jf(c, v, "weight", jv_u16, &b->weight), &b->has_weight));
  TRY(opt(jf(c, v, "leafWeight", jv_u16, &b->leaf_weight), &b->has_leaf_weight));
  TRY(opt(jf_array(c, v, "weightDevice", sizeof(*b->weight_device), &b->weight_device,
                   &b->n_weight_device, parse_weight_device),
          &b->has_weight_device));
  TRY(opt(jf_array(c, v, "throttleReadBpsDevice", sizeof(*b->throttle_read_bps),
                   &b->throttle_read_bps, &b->n_throttle_read_bps, parse_throttle_device),
          &b->has_throttle_read_bps));
  TRY(opt(jf_array(c, v, "throttleWriteBpsDevice", sizeof(*b->throttle_write_bps),
                   &b->throttle_write_bps, &b->n_throttle_write_bps, parse_throttle_device),
          &b->has_throttle_write_bps));
  TRY(opt(jf_array(c, v, "throttleReadIOPSDevice", sizeof(*b->throttle_read_iops),
                   &b->throttle_read_iops, &b->n_throttle_read_iops, parse_throttle_device),
          &b->has_throttle_read_iops));
  TRY(opt(jf_array(c, v, "throttleWriteIOPSDevice", sizeof(*b->throttle_write_iops),
                   &b->throttle_write_iops, &b->n_throttle_write_iops, parse_throttle_device),
          &b->has_throttle_write_iops));
  return 0;
}

/* The schema's ^[1-9][0-9]*[KMG]B$ */
static int parse_page_size(struct pctx *c, const struct json_value *v, void *out)
{
  TRY(jv_str(c, v, out));
  const char *s = *(char **)out;
  size_t digits = strspn(s, "0123456789");
  if (digits == 0 || s[0] == '0' || s[digits] == '\0' || strchr("KMG", s[digits]) == NULL ||
      strcmp(s + digits + 1, "B") != 0) {
    char buf[QUOTE_MAX];
    return perr(c, "invalid page size %s", quote(s, buf));
  }
  return 0;
}

static int parse_hugepage(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_hugepage_limit *h = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "pageSize", parse_page_size, &h->page_size));
  TRY(jf_req(c, v, "limit", jv_u64, &h->limit));
  return 0;
}

static int parse_net_priority(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_net_priority *p = out;
  TRY(jv_object(c, v));
  TRY(jf_req(c, v, "name", jv_str, &p->name));
  TRY(jf_req(c, v, "priority", jv_u32, &p->priority));
  return 0;
}

static int parse_network(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_network_resources *n = out;
  TRY(opt(jf(c, v, "classID", jv_u32, &n->class_id), &n->has_class_id));
  TRY(opt(jf_array(c, v, "priorities", sizeof(*n->priorities), &n->priorities, &n->n_priorities,
                   parse_net_priority),
          &n->has_priorities));
  return 0;
}

static int parse_rdma(struct pctx *c, const char *key, const struct json_value *v, void *out)
{
  struct oci_rdma *r = out;
  r->device = xstrdup(key);
  TRY(jv_object(c, v));
  TRY(opt(jf(c, v, "hcaHandles", jv_u32, &r->hca_handles), &r->has_hca_handles));
  TRY(opt(jf(c, v, "hcaObjects", jv_u32, &r->hca_objects), &r->has_hca_objects));
  if (!r->has_hca_handles && !r->has_hca_objects)
    return perr(c, "at least one of hcaHandles and hcaObjects is required");
  return 0;
}

int parse_resources(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_resources *r = out;
  TRY(opt(jf_array(c, v, "devices", sizeof(*r->devices), &r->devices, &r->n_devices,
                   parse_device_cgroup),
          &r->has_devices));
  TRY(opt(jf_obj(c, v, "memory", parse_memory, &r->memory), &r->has_memory));
  TRY(opt(jf_obj(c, v, "cpu", parse_cpu, &r->cpu), &r->has_cpu));
  TRY(opt(jf_obj(c, v, "pids", parse_pids, &r->pids_limit), &r->has_pids));
  TRY(opt(jf_obj(c, v, "blockIO", parse_blockio, &r->blockio), &r->has_blockio));
  TRY(opt(jf_array(c, v, "hugepageLimits", sizeof(*r->hugepage_limits), &r->hugepage_limits,
                   &r->n_hugepage_limits, parse_hugepage),
          &r->has_hugepage_limits));
  TRY(opt(jf_obj(c, v, "network", parse_network, &r->network), &r->has_network));
  TRY(opt(jf_map(c, v, "rdma", sizeof(*r->rdma), &r->rdma, &r->n_rdma, parse_rdma), &r->has_rdma));
  TRY(opt(jf_strmap(c, v, "unified", &r->unified, &r->n_unified), &r->has_unified));
  return 0;
}

void oci_resources_clear(struct oci_resources *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_devices; i++)
    free(r->devices[i].access);
  free(r->devices);
  free(r->cpu.cpus);
  free(r->cpu.mems);
  free(r->blockio.weight_device);
  free(r->blockio.throttle_read_bps);
  free(r->blockio.throttle_write_bps);
  free(r->blockio.throttle_read_iops);
  free(r->blockio.throttle_write_iops);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free(r->hugepage_limits[i].page_size);
  free(r->hugepage_limits);
  for (size_t i = 0; i < r->network.n_priorities; i++)
    free(r->network.priorities[i].name);
  free(r->network.priorities);
  for (size_t i = 0; i < r->n_rdma; i++)
    free(r->rdma[i].device);
  free(r->rdma);
  oci_kv_free(r->unified, r->n_unified);
  memset(r, 0, sizeof(*r));
}
