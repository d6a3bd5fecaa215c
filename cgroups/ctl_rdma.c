/* The rdma controller: rdma.max, the same format on v1 and v2. */
#include "ctl.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

int cg2_apply_rdma(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  char hint[128];
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct oci_rdma *d = &r->rdma[i];
    const char *name = d->device ? d->device : "";
    if (*name == '\0' || strpbrk(name, " \t\n/="))
      return nook_error(err, 0, "linux.resources.rdma: invalid device name `%s`", name);
    if (!d->has_hca_handles && !d->has_hca_objects)
      return nook_error(err, 0, "linux.resources.rdma[\"%s\"]: neither hcaHandles nor hcaObjects",
                        name);
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "%.100s", name);
    if (d->has_hca_handles)
      n += snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_handle=%u", d->hca_handles);
    if (d->has_hca_objects)
      snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_object=%u", d->hca_objects);
    if (cg_set(dir, "rdma.max", buf, "linux.resources.rdma", CG2_HINT("rdma"), err) < 0)
      return -1;
  }
  return 0;
}

int cg1_apply_rdma(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  /* rdma.max reads the same on v1 and v2. */
  return cg2_apply_rdma(dir, r, err);
}
