/* The hugetlb controller: hugetlb.<size>.limit_in_bytes on v1,
 * hugetlb.<size>.max on v2, and the page size check both need. */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* hugepageLimits on either hierarchy: v1 and v2 differ only in the file
 * names.  As runc: the usage (fault) limit and, where the kernel has it
 * (5.7+), the reservation limit, to the same value. */
static int cg_apply_hugetlb(const char *dir, const struct oci_resources *r, const char *limit_file,
                            const char *rsvd_file, const char *hint, nook_error_t *err)
{
  bool rsvd = true;
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
    char file[64], field[64];
    snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
    snprintf(file, sizeof(file), "hugetlb.%s.%s", h->page_size, limit_file);
    if (cg_set_num(dir, file, (long long)h->limit, field, hint, err) < 0)
      return -1;
    if (!rsvd)
      continue;
    snprintf(file, sizeof(file), "hugetlb.%s.%s", h->page_size, rsvd_file);
    int ret = cg_set_num(dir, file, (long long)h->limit, field, NULL, err);
    if (ret == -ENOENT) {
      nook_error_free(err);
      rsvd = false;
    } else if (ret < 0) {
      return -1;
    }
  }
  return 0;
}

int cg_hugetlb_check_size(const char *size, size_t idx, nook_error_t *err)
{
  /* The size names a cgroup file: only digits and a unit, nothing that
   * could leave the directory. */
  const char *p = size ? size : "";
  unsigned long long n = 0;
  while (*p >= '0' && *p <= '9' && n < (1ULL << 40))
    n = n * 10 + (unsigned long long)(*p++ - '0');
  unsigned long long kb = 0;
  if (p != size && n > 0 && (strcmp(p, "KB") == 0 || strcmp(p, "kB") == 0))
    kb = n;
  else if (p != size && n > 0 && strcmp(p, "MB") == 0)
    kb = n << 10;
  else if (p != size && n > 0 && strcmp(p, "GB") == 0)
    kb = n << 20;
  if (kb == 0)
    return nook_error(err, 0,
                      "linux.resources.hugepageLimits[%zu].pageSize: `%s` is not a size such as "
                      "`2MB` or `1GB`",
                      idx, size ? size : "");
  char path[96];
  snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB", kb);
  if (access(path, F_OK) < 0)
    return nook_error(err, 0,
                      "linux.resources.hugepageLimits[%zu].pageSize: `%s` is not a huge page size "
                      "of this host (%s does not exist)",
                      idx, size, path);
  return 0;
}

int cg1_apply_hugetlb(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  return cg_apply_hugetlb(dir, r, "limit_in_bytes", "rsvd.limit_in_bytes", NULL, err);
}

int cg2_apply_hugetlb(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  char hint[128];
  return cg_apply_hugetlb(dir, r, "max", "rsvd.max", CG2_HINT("hugetlb"), err);
}
