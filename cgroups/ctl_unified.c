/* linux.resources.unified: raw writes of cgroup v2 files (pure v2, or the
 * unified hierarchy of a hybrid host); the router applies them last. */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cg_unified_check_key(const char *key, nook_error_t *err)
{
  if (key == NULL || *key == '\0' || strchr(key, '/') || strcmp(key, ".") == 0 || strstr(key, ".."))
    return nook_error(err, 0,
                      "linux.resources.unified: key `%s` is not a plain cgroup file name (no `/` "
                      "or `..`)",
                      key ? key : "");
  for (const char *c = key; *c; c++)
    if ((unsigned char)*c <= ' ' || *c == 0x7f)
      return nook_error(
          err, 0, "linux.resources.unified: key `%s` contains a space or control character", key);
  return 0;
}

int cg2_apply_unified(const char *dir, const struct oci_resources *r, bool hybrid,
                      nook_error_t *err)
{
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *key = r->unified[i].key, *val = r->unified[i].value ? r->unified[i].value : "";
    if (cg_unified_check_key(key, err) < 0)
      return -1;
    char field[160], ctl[64];
    snprintf(field, sizeof(field), "linux.resources.unified[\"%s\"]", key);
    const char *dot = strchr(key, '.');
    snprintf(ctl, sizeof(ctl), "%.*s", dot ? (int)(dot - key) : 0, key);
    int ret = cg_set(dir, key, val, field, NULL, err);
    if (ret == 0)
      continue;
    if (ret != -ENOENT)
      return -1;
    nook_error_free(err);
    /* Missing: the controller's files appear once it is enabled for the
     * cgroup.  Pure v2 enabled everything at create; a hybrid host enables
     * only what is asked for. */
    bool avail = ctl[0] && strcmp(ctl, "cgroup") != 0 && cg2_has_controller(ctl);
    if (hybrid && avail) {
      if (cg2_enable_controller(dir, ctl, err) < 0)
        return nook_error_wrap(err, "%s", field);
      if (cg_set(dir, key, val, field, NULL, err) < 0)
        return -1;
      continue;
    }
    bool is_ctl = ctl[0] && strcmp(ctl, "cgroup") != 0;
    if (hybrid && is_ctl)
      return nook_error(err, 0,
                        "%s: %s/%s does not exist: the %s controller is not on the cgroup v2 "
                        "hierarchy of this hybrid host (a cgroup v1 controller here, or none: set "
                        "it with the other linux.resources fields)",
                        field, dir, key, ctl);
    if (hybrid)
      return nook_error(err, 0,
                        "%s: %s/%s does not exist on this hybrid host's cgroup v2 hierarchy", field,
                        dir, key);
    return nook_error(err, 0, "%s: %s/%s does not exist (%s)", field, dir, key,
                      avail    ? "not a file of this kernel's cgroup v2"
                      : ctl[0] ? "is that controller available and enabled here?"
                               : "not a cgroup v2 file");
  }
  return 0;
}
