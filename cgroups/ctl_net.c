/* The v1-only network controllers: net_cls.classid and
 * net_prio.ifpriomap (cgroup v2 has neither; the router refuses them
 * there). */
#include "ctl.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

bool cg_net_cls_set(const struct oci_resources *r)
{
  /* classid 0 is the kernel's "no class", a new cgroup's value. */
  return r->has_network && r->network.has_class_id && r->network.class_id != 0;
}

bool cg_net_prio_set(const struct oci_resources *r)
{
  return r->has_network && r->network.n_priorities > 0;
}

int cg1_apply_net_cls(const char *dir, const struct oci_network_resources *n, nook_error_t *err)
{
  return cg_set_num(dir, "net_cls.classid", n->class_id, "linux.resources.network.classID", NULL,
                    err) < 0
             ? -1
             : 0;
}

int cg1_apply_net_prio(const char *dir, const struct oci_network_resources *n, nook_error_t *err)
{
  for (size_t i = 0; i < n->n_priorities; i++) {
    const char *name = n->priorities[i].name ? n->priorities[i].name : "";
    if (*name == '\0' || strlen(name) > 15 || strpbrk(name, " \t\n/"))
      return nook_error(err, 0, "linux.resources.network.priorities[%zu].name: invalid `%s`", i,
                        name);
    char buf[64];
    snprintf(buf, sizeof(buf), "%s %u", name, n->priorities[i].priority);
    if (cg_set(dir, "net_prio.ifpriomap", buf, "linux.resources.network.priorities", NULL, err) < 0)
      return -1;
  }
  return 0;
}
