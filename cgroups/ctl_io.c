/* Block I/O: v1's blkio controller (CFQ or BFQ weights, blk-throttle) and
 * v2's io controller (io.bfq.weight or io.weight, io.max). */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/utils.h"

bool cg_blkio_set(const struct oci_resources *r)
{
  const struct oci_blockio *b = &r->blockio;
  return r->has_blockio &&
         ((b->has_weight && b->weight != 0) || (b->has_leaf_weight && b->leaf_weight != 0) ||
          b->n_weight_device || b->n_throttle_read_bps || b->n_throttle_write_bps ||
          b->n_throttle_read_iops || b->n_throttle_write_iops);
}

/* runc: 1 + (weight - 10) * 9999 / 990, v1's [10, 1000] onto [1, 10000]. */
uint64_t cg_blkio_to_io_weight(uint64_t weight)
{
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + ((weight - 10) * 9999) / 990;
}

static int check_dev(const char *field, size_t i, int64_t major, int64_t minor, nook_error_t *err)
{
  if (major < 0 || minor < 0 || major > 0xfffffff || minor > 0xfffffff)
    return nook_error(err, 0, "%s[%zu]: invalid device %lld:%lld", field, i, (long long)major,
                      (long long)minor);
  return 0;
}

/* ---- v1: blkio ---- */

/* CFQ's files (blkio.weight, ...) went with CFQ in Linux 5.0; BFQ has its
 * own (blkio.bfq.weight).  Write the first that exists. */
static int set_either(const char *dir, const char *f1, const char *f2, const char *val,
                      const char *field, nook_error_t *err)
{
  int r = cg_set(dir, f1, val, field, NULL, err);
  if (r != -ENOENT)
    return r;
  nook_error_free(err);
  r = cg_set(dir, f2, val, field, NULL, err);
  if (r != -ENOENT)
    return r;
  nook_error_free(err);
  return nook_error(err, 0,
                    "%s: neither %s/%s nor %s exists (no CFQ or BFQ group scheduling in this "
                    "kernel)",
                    field, dir, f1, f2);
}

static int throttle(const char *dir, const char *file, const char *field,
                    const struct oci_throttle_device *v, size_t n, nook_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    char buf[80];
    if (check_dev(field, i, v[i].major, v[i].minor, err) < 0)
      return -1;
    snprintf(buf, sizeof(buf), "%lld:%lld %llu", (long long)v[i].major, (long long)v[i].minor,
             (unsigned long long)v[i].rate);
    if (cg_set(dir, file, buf, field, "blk-throttle (CONFIG_BLK_DEV_THROTTLING) not in the kernel?",
               err) < 0)
      return -1;
  }
  return 0;
}

int cg1_apply_blkio(const char *dir, const struct oci_blockio *b, nook_error_t *err)
{
  char buf[80];
  if (b->has_weight && b->weight != 0) {
    snprintf(buf, sizeof(buf), "%u", b->weight);
    if (set_either(dir, "blkio.weight", "blkio.bfq.weight", buf, "linux.resources.blockIO.weight",
                   err) < 0)
      return -1;
  }
  if (b->has_leaf_weight && b->leaf_weight != 0) {
    snprintf(buf, sizeof(buf), "%u", b->leaf_weight);
    if (cg_set(dir, "blkio.leaf_weight", buf, "linux.resources.blockIO.leafWeight",
               "leaf weights were CFQ's, gone since Linux 5.0", err) < 0)
      return -1;
  }
  const char *wf = "linux.resources.blockIO.weightDevice";
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct oci_weight_device *w = &b->weight_device[i];
    if (check_dev(wf, i, w->major, w->minor, err) < 0)
      return -1;
    if (w->has_weight && w->weight != 0) {
      snprintf(buf, sizeof(buf), "%lld:%lld %u", (long long)w->major, (long long)w->minor,
               w->weight);
      if (set_either(dir, "blkio.weight_device", "blkio.bfq.weight_device", buf, wf, err) < 0)
        return -1;
    }
    if (w->has_leaf_weight && w->leaf_weight != 0) {
      snprintf(buf, sizeof(buf), "%lld:%lld %u", (long long)w->major, (long long)w->minor,
               w->leaf_weight);
      if (cg_set(dir, "blkio.leaf_weight_device", buf,
                 "linux.resources.blockIO.weightDevice "
                 "leafWeight",
                 "leaf weights were CFQ's, gone since Linux 5.0", err) < 0)
        return -1;
    }
  }
  if (throttle(dir, "blkio.throttle.read_bps_device",
               "linux.resources.blockIO.throttleReadBpsDevice", b->throttle_read_bps,
               b->n_throttle_read_bps, err) < 0 ||
      throttle(dir, "blkio.throttle.write_bps_device",
               "linux.resources.blockIO.throttleWriteBpsDevice", b->throttle_write_bps,
               b->n_throttle_write_bps, err) < 0 ||
      throttle(dir, "blkio.throttle.read_iops_device",
               "linux.resources.blockIO.throttleReadIOPSDevice", b->throttle_read_iops,
               b->n_throttle_read_iops, err) < 0 ||
      throttle(dir, "blkio.throttle.write_iops_device",
               "linux.resources.blockIO.throttleWriteIOPSDevice", b->throttle_write_iops,
               b->n_throttle_write_iops, err) < 0)
    return -1;
  return 0;
}

/* ---- v2: io ---- */

/* BFQ's io.bfq.weight takes v1's scale (1-1000) as is; io.weight (the
 * io.cost controller) gets runc's conversion to 1-10000. */
static int io_weight(const char *dir, const char *dev, uint16_t weight, const char *field,
                     nook_error_t *err)
{
  char buf[64], hint[128];
  snprintf(buf, sizeof(buf), "%s%s%u", dev ? dev : "", dev ? " " : "", weight);
  int r = cg_set(dir, "io.bfq.weight", buf, field, NULL, err);
  if (r != -ENOENT)
    return r;
  nook_error_free(err);
  snprintf(buf, sizeof(buf), "%s%s%llu", dev ? dev : "", dev ? " " : "",
           (unsigned long long)cg_blkio_to_io_weight(weight));
  return cg_set(dir, "io.weight", buf, field, CG2_HINT("io"), err);
}

struct io_max {
  int64_t major, minor;
  char line[160];
  size_t len;
};

static int io_max_add(struct io_max **v, size_t *n, const char *field, size_t i,
                      const struct oci_throttle_device *t, const char *key, nook_error_t *err)
{
  if (check_dev(field, i, t->major, t->minor, err) < 0)
    return -1;
  struct io_max *e = NULL;
  for (size_t k = 0; k < *n && e == NULL; k++)
    if ((*v)[k].major == t->major && (*v)[k].minor == t->minor)
      e = &(*v)[k];
  if (e == NULL) {
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    e = &(*v)[(*n)++];
    e->major = t->major;
    e->minor = t->minor;
    e->len = (size_t)snprintf(e->line, sizeof(e->line), "%lld:%lld", (long long)t->major,
                              (long long)t->minor);
  }
  /* A rate of 0 lifts the limit on v1; "max" does that on v2. */
  char val[24];
  if (t->rate == 0)
    strcpy(val, "max");
  else
    snprintf(val, sizeof(val), "%llu", (unsigned long long)t->rate);
  e->len += (size_t)snprintf(e->line + e->len, sizeof(e->line) - e->len, " %s=%s", key, val);
  return 0;
}

int cg2_apply_io(const char *dir, const struct oci_blockio *b, nook_error_t *err)
{
  char hint[128];
  if (b->has_leaf_weight && b->leaf_weight != 0)
    return nook_error(err, 0,
                      "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight (no "
                      "blkio.leaf_weight)");
  if (b->has_weight && b->weight != 0 &&
      io_weight(dir, NULL, b->weight, "linux.resources.blockIO.weight", err) < 0)
    return -1;
  const char *wf = "linux.resources.blockIO.weightDevice";
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct oci_weight_device *w = &b->weight_device[i];
    if (check_dev(wf, i, w->major, w->minor, err) < 0)
      return -1;
    if (w->has_leaf_weight && w->leaf_weight != 0)
      return nook_error(err, 0,
                        "%s[%zu].leafWeight: cgroup v2 has no leaf weight (no "
                        "blkio.leaf_weight_device)",
                        wf, i);
    char dev[48];
    snprintf(dev, sizeof(dev), "%lld:%lld", (long long)w->major, (long long)w->minor);
    if (w->has_weight && w->weight != 0 && io_weight(dir, dev, w->weight, wf, err) < 0)
      return -1;
  }
  /* All four throttles of a device go in one io.max line. */
  cleanup_free struct io_max *v = NULL;
  size_t n = 0;
  static const struct {
    const char *field, *key;
  } kinds[] = {{"linux.resources.blockIO.throttleReadBpsDevice", "rbps"},
               {"linux.resources.blockIO.throttleWriteBpsDevice", "wbps"},
               {"linux.resources.blockIO.throttleReadIOPSDevice", "riops"},
               {"linux.resources.blockIO.throttleWriteIOPSDevice", "wiops"}};
  const struct oci_throttle_device *lists[] = {b->throttle_read_bps, b->throttle_write_bps,
                                               b->throttle_read_iops, b->throttle_write_iops};
  size_t counts[] = {b->n_throttle_read_bps, b->n_throttle_write_bps, b->n_throttle_read_iops,
                     b->n_throttle_write_iops};
  for (size_t k = 0; k < 4; k++)
    for (size_t i = 0; i < counts[k]; i++)
      if (io_max_add(&v, &n, kinds[k].field, i, &lists[k][i], kinds[k].key, err) < 0)
        return -1;
  for (size_t i = 0; i < n; i++)
    if (cg_set(dir, "io.max", v[i].line, "linux.resources.blockIO.throttle*", CG2_HINT("io"), err) <
        0)
      return -1;
  return 0;
}
