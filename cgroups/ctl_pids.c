/* The pids controller: pids.max on v1 and v2. */
#include "ctl.h"
#include "internal.h"

int cg1_apply_pids(const char *dir, int64_t limit, nook_error_t *err)
{
  /* runtime-spec 1.3: -1 (any negative) is "max"; 0 is a real limit. */
  char buf[24];
  return cg_set(dir, "pids.max", cg_limit_str(limit, buf), "linux.resources.pids.limit", NULL, err);
}

int cg2_apply_pids(const char *dir, int64_t limit, nook_error_t *err)
{
  /* runtime-spec 1.3: -1 (any negative) is "max"; 0 is a real limit. */
  char buf[24], hint[128];
  return cg_set(dir, "pids.max", cg_limit_str(limit, buf), "linux.resources.pids.limit",
                CG2_HINT("pids"), err);
}
