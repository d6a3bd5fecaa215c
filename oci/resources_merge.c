/* `update`: typed linux.resources overridden by a typed update (the rules
 * are in config.h, at oci_resources_merge). */
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "config.h"

/* A value given in the update replaces dst's. */
#define TAKE(d, u, f)                                                                              \
  do {                                                                                             \
    if ((u)->has_##f) {                                                                            \
      (d)->has_##f = true;                                                                         \
      (d)->f = (u)->f;                                                                             \
    }                                                                                              \
  } while (0)

/* Same, for the fields where 0 means "leave unchanged". */
#define TAKE_NONZERO(d, u, f)                                                                      \
  do {                                                                                             \
    if ((u)->has_##f && (u)->f != 0) {                                                             \
      (d)->has_##f = true;                                                                         \
      (d)->f = (u)->f;                                                                             \
    }                                                                                              \
  } while (0)

/* An array given in the update, even empty, replaces dst's: the entries are
 * plain values, so a byte copy is a deep one but for strings, which the
 * callers duplicate. */
static void *copy_array(const void *src, size_t n, size_t size)
{
  if (n == 0)
    return NULL;
  void *a = xcalloc(n, size);
  memcpy(a, src, n * size);
  return a;
}

/* cpus and mems: "" (and absent) leaves them unchanged. */
static void take_str(char **dst, const char *u)
{
  if (u == NULL || *u == '\0')
    return;
  free(*dst);
  *dst = xstrdup(u);
}

static void merge_memory(struct oci_memory *d, const struct oci_memory *u)
{
  TAKE_NONZERO(d, u, limit);
  TAKE_NONZERO(d, u, reservation);
  TAKE_NONZERO(d, u, swap);
  TAKE_NONZERO(d, u, kernel);
  TAKE_NONZERO(d, u, kernel_tcp);
  TAKE(d, u, swappiness);
  TAKE(d, u, disable_oom_killer);
  TAKE(d, u, use_hierarchy);
  TAKE(d, u, check_before_update);
}

static void merge_cpu(struct oci_cpu *d, const struct oci_cpu *u)
{
  TAKE_NONZERO(d, u, shares);
  TAKE_NONZERO(d, u, quota);
  TAKE(d, u, burst);
  TAKE_NONZERO(d, u, period);
  TAKE_NONZERO(d, u, realtime_runtime);
  TAKE_NONZERO(d, u, realtime_period);
  TAKE(d, u, idle);
  take_str(&d->cpus, u->cpus);
  take_str(&d->mems, u->mems);
}

#define TAKE_ARRAY(d, u, f)                                                                        \
  do {                                                                                             \
    if ((u)->has_##f) {                                                                            \
      free((d)->f);                                                                                \
      (d)->has_##f = true;                                                                         \
      (d)->f = copy_array((u)->f, (u)->n_##f, sizeof(*(u)->f));                                    \
      (d)->n_##f = (u)->n_##f;                                                                     \
    }                                                                                              \
  } while (0)

static void merge_blockio(struct oci_blockio *d, const struct oci_blockio *u)
{
  TAKE_NONZERO(d, u, weight);
  TAKE_NONZERO(d, u, leaf_weight);
  TAKE_ARRAY(d, u, weight_device);
  TAKE_ARRAY(d, u, throttle_read_bps);
  TAKE_ARRAY(d, u, throttle_write_bps);
  TAKE_ARRAY(d, u, throttle_read_iops);
  TAKE_ARRAY(d, u, throttle_write_iops);
}

static void merge_hugepages(struct oci_resources *d, const struct oci_resources *u)
{
  if (!u->has_hugepage_limits)
    return;
  for (size_t i = 0; i < d->n_hugepage_limits; i++)
    free(d->hugepage_limits[i].page_size);
  free(d->hugepage_limits);
  d->has_hugepage_limits = true;
  d->hugepage_limits =
      copy_array(u->hugepage_limits, u->n_hugepage_limits, sizeof(*u->hugepage_limits));
  d->n_hugepage_limits = u->n_hugepage_limits;
  for (size_t i = 0; i < d->n_hugepage_limits; i++)
    d->hugepage_limits[i].page_size = xstrdup(u->hugepage_limits[i].page_size);
}

static void merge_network(struct oci_network_resources *d, const struct oci_network_resources *u)
{
  TAKE(d, u, class_id);
  if (!u->has_priorities)
    return;
  for (size_t i = 0; i < d->n_priorities; i++)
    free(d->priorities[i].name);
  free(d->priorities);
  d->has_priorities = true;
  d->priorities = copy_array(u->priorities, u->n_priorities, sizeof(*u->priorities));
  d->n_priorities = u->n_priorities;
  for (size_t i = 0; i < d->n_priorities; i++)
    d->priorities[i].name = xstrdup(u->priorities[i].name);
}

/* rdma is a map of devices: a device's fields merge one by one, a new
 * device is added after the saved ones. */
static void merge_rdma(struct oci_resources *d, const struct oci_resources *u)
{
  d->has_rdma = d->has_rdma || u->has_rdma;
  for (size_t i = 0; i < u->n_rdma; i++) {
    const struct oci_rdma *ur = &u->rdma[i];
    size_t j = 0;
    while (j < d->n_rdma && strcmp(d->rdma[j].device, ur->device) != 0)
      j++;
    if (j == d->n_rdma) {
      d->rdma = xrealloc(d->rdma, (d->n_rdma + 1) * sizeof(*d->rdma));
      d->rdma[d->n_rdma++] = (struct oci_rdma){.device = xstrdup(ur->device)};
    }
    TAKE(&d->rdma[j], ur, hca_handles);
    TAKE(&d->rdma[j], ur, hca_objects);
  }
}

static void merge_unified(struct oci_resources *d, const struct oci_resources *u)
{
  d->has_unified = d->has_unified || u->has_unified;
  for (size_t i = 0; i < u->n_unified; i++) {
    const struct oci_kv *kv = &u->unified[i];
    size_t j = 0;
    while (j < d->n_unified && strcmp(d->unified[j].key, kv->key) != 0)
      j++;
    if (j == d->n_unified) {
      d->unified = xrealloc(d->unified, (d->n_unified + 1) * sizeof(*d->unified));
      d->unified[d->n_unified++] = (struct oci_kv){.key = xstrdup(kv->key)};
    }
    free(d->unified[j].value);
    d->unified[j].value = xstrdup(kv->value);
  }
}

void oci_resources_merge(struct oci_resources *dst, const struct oci_resources *update)
{
  const struct oci_resources *u = update;
  if (u->has_memory) {
    dst->has_memory = true;
    merge_memory(&dst->memory, &u->memory);
  }
  if (u->has_cpu) {
    dst->has_cpu = true;
    merge_cpu(&dst->cpu, &u->cpu);
  }
  if (u->has_pids) {
    dst->has_pids = true;
    dst->pids_limit = u->pids_limit;
  }
  if (u->has_blockio) {
    dst->has_blockio = true;
    merge_blockio(&dst->blockio, &u->blockio);
  }
  merge_hugepages(dst, u);
  if (u->has_network) {
    dst->has_network = true;
    merge_network(&dst->network, &u->network);
  }
  merge_rdma(dst, u);
  merge_unified(dst, u);
}
