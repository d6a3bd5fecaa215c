/* linux.resources one group at a time, for a caller that may write only
 * part of a cgroup (a rootless runtime in a delegated subtree): each group
 * is applied, or reported as not applied, on its own. */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct cgroup_resource_group *add(struct cgroup_resource_group **v, size_t *n,
                                         const char *field, const char *controller)
{
  *v = xrealloc(*v, (*n + 1) * sizeof(**v));
  struct cgroup_resource_group *g = &(*v)[(*n)++];
  memset(g, 0, sizeof(*g));
  snprintf(g->field, sizeof(g->field), "%s", field);
  snprintf(g->controller, sizeof(g->controller), "%s", controller ? controller : "");
  return g;
}

/* A raw key's controller is its prefix ("memory" of "memory.high"); the
 * core files ("cgroup.*") belong to none. */
static const char *unified_controller(const char *key, char *buf, size_t size)
{
  const char *dot = strchr(key, '.');
  size_t n = dot ? (size_t)(dot - key) : strlen(key);
  if (n == 0 || n >= size || (n == 6 && strncmp(key, "cgroup", 6) == 0))
    return NULL;
  memcpy(buf, key, n);
  buf[n] = '\0';
  return buf;
}

void cgroup_resources_split(const struct oci_resources *r, struct cgroup_resource_group **out,
                            size_t *n)
{
  struct cgroup_resource_group *v = NULL, *g;
  *n = 0;
  if (r->devices != NULL) {
    g = add(&v, n, "linux.resources.devices", NULL);
    g->r.devices = r->devices;
    g->r.n_devices = r->n_devices;
    g->r.has_devices = r->has_devices;
  }
  if (cg_memory_set(r)) {
    g = add(&v, n, "linux.resources.memory", "memory");
    g->r.has_memory = true;
    g->r.memory = r->memory;
  }
  if (cg_cpu_set(r)) {
    g = add(&v, n, "linux.resources.cpu", "cpu");
    g->r.has_cpu = true;
    g->r.cpu = r->cpu;
    g->r.cpu.cpus = g->r.cpu.mems = NULL;
  }
  if (cg_cpuset_set(r)) {
    g = add(&v, n, "linux.resources.cpu.cpus/mems", "cpuset");
    g->r.has_cpu = true;
    g->r.cpu.cpus = r->cpu.cpus;
    g->r.cpu.mems = r->cpu.mems;
  }
  if (r->has_pids) {
    g = add(&v, n, "linux.resources.pids", "pids");
    g->r.has_pids = true;
    g->r.pids_limit = r->pids_limit;
  }
  if (cg_blkio_set(r)) {
    g = add(&v, n, "linux.resources.blockIO", "io");
    g->r.has_blockio = true;
    g->r.blockio = r->blockio;
  }
  if (r->n_hugepage_limits > 0) {
    g = add(&v, n, "linux.resources.hugepageLimits", "hugetlb");
    g->r.has_hugepage_limits = true;
    g->r.hugepage_limits = r->hugepage_limits;
    g->r.n_hugepage_limits = r->n_hugepage_limits;
  }
  if (cg_net_cls_set(r)) {
    g = add(&v, n, "linux.resources.network.classID", "net_cls");
    g->r.has_network = true;
    g->r.network.has_class_id = true;
    g->r.network.class_id = r->network.class_id;
  }
  if (cg_net_prio_set(r)) {
    g = add(&v, n, "linux.resources.network.priorities", "net_prio");
    g->r.has_network = true;
    g->r.network.has_priorities = true;
    g->r.network.priorities = r->network.priorities;
    g->r.network.n_priorities = r->network.n_priorities;
  }
  if (r->n_rdma > 0) {
    g = add(&v, n, "linux.resources.rdma", "rdma");
    g->r.has_rdma = true;
    g->r.rdma = r->rdma;
    g->r.n_rdma = r->n_rdma;
  }
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *key = r->unified[i].key ? r->unified[i].key : "";
    char field[sizeof(v->field)], ctl[sizeof(v->controller)];
    snprintf(field, sizeof(field), "linux.resources.unified[\"%s\"]", key);
    g = add(&v, n, field, unified_controller(key, ctl, sizeof(ctl)));
    g->r.has_unified = true;
    g->r.unified = &r->unified[i];
    g->r.n_unified = 1;
  }
  *out = v;
}

int cgroup_has_controller(const struct cgroup_paths *p, const char *controller, bool *out,
                          nook_error_t *err)
{
  *out = true;
  /* Only a pure v2 cgroup says in one file what it was given; a v1
   * hierarchy's files exist whenever the directory does. */
  if (p->mode != CGROUP_MODE_UNIFIED || p->unified == NULL || controller[0] == '\0')
    return 0;
  char buf[512];
  if (cg_read(p->unified, "cgroup.controllers", buf, sizeof(buf), err) < 0)
    return -1;
  for (char *c = buf; *c; c++)
    if (*c == ' ')
      *c = ',';
  *out = cg_list_has(buf, controller);
  return 0;
}
