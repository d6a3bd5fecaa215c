/* cgroupsPath for the systemd driver: "slice:prefix:name", read as runc
 * reads it (docs/systemd.md of runc), into the scope's unit name, its slice
 * and where that slice's cgroup is. */
#include "systemd.h"

#include <string.h>

#include "../base/utils.h"

/* systemd's UNIT_NAME_MAX counts the NUL. */
#define SD_UNIT_NAME_MAX 255

void sd_unit_name_clear(struct sd_unit_name *u)
{
  free(u->slice);
  free(u->unit);
  free(u->slice_path);
  memset(u, 0, sizeof(*u));
}

int sd_expand_slice(const char *slice, char **out, nook_error_t *err)
{
  static const char suffix[] = ".slice";
  size_t len = strlen(slice), sl = sizeof(suffix) - 1;
  if (len <= sl || strcmp(slice + len - sl, suffix) != 0 || strchr(slice, '/') != NULL)
    return nook_error(err, 0,
                      "invalid slice name `%s`: a slice is NAME.slice, without `/` (nesting is "
                      "written with dashes: `a-b.slice` is in `a.slice`)",
                      slice);
  size_t n = len - sl;
  if (n == 1 && slice[0] == '-') {
    *out = xstrdup("");
    return 0;
  }
  /* Each dash-separated component adds one level: a-b.slice is
   * /a.slice/a-b.slice.  Empty components (a--b, -a, a-) are invalid. */
  char *path = xmalloc(n * (n + sl + 2) + 1), *o = path;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && slice[i] != '-')
      continue;
    if (i == 0 || slice[i - 1] == '-' || (i == n && slice[n - 1] == '-')) {
      free(path);
      return nook_error(err, 0, "invalid slice name `%s`: empty component between dashes", slice);
    }
    *o++ = '/';
    memcpy(o, slice, i);
    o += i;
    memcpy(o, suffix, sl);
    o += sl;
  }
  *o = '\0';
  *out = path;
  return 0;
}

static int check_unit_chars(const char *cgroups_path, const char *unit, nook_error_t *err)
{
  if (strlen(unit) > SD_UNIT_NAME_MAX)
    return nook_error(err, 0,
                      "cgroupsPath `%s`: the unit name `%s` is longer than systemd's %d "
                      "characters",
                      cgroups_path, unit, SD_UNIT_NAME_MAX);
  /* systemd's VALID_CHARS, plus `@` of an instance name. */
  for (const char *p = unit; *p; p++) {
    char c = *p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("-_.\\@", c) != NULL)
      continue;
    if ((unsigned char)c < 0x20 || c == 0x7f)
      return nook_error(err, 0,
                        "cgroupsPath `%s`: the unit name has a control character, which systemd "
                        "does not allow",
                        cgroups_path);
    return nook_error(err, 0,
                      "cgroupsPath `%s`: the unit name `%s` has `%c`, which systemd does not "
                      "allow (letters, digits and `-_.\\@` only)",
                      cgroups_path, unit, c);
  }
  return 0;
}

int sd_unit_parse(const char *cgroups_path, const char *id, struct sd_unit_name *out,
                  nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  const char *what = cgroups_path;
  cleanup_free char *slice = NULL, *prefix = NULL, *name = NULL;
  if (cgroups_path == NULL || *cgroups_path == '\0') {
    /* runc's default is ":runc:<id>"; nook names its own scopes. */
    if (id == NULL || *id == '\0')
      return nook_error(err, 0, "no cgroupsPath and no container id to derive a unit name from");
    what = "(default)";
    slice = xstrdup("");
    prefix = xstrdup("nook");
    name = xstrdup(id);
  } else {
    const char *c1 = strchr(cgroups_path, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
      return nook_error(err, 0,
                        "cgroupsPath `%s`: the systemd cgroup driver (--systemd-cgroup) expects "
                        "`slice:prefix:name`, e.g. `system.slice:nook:<id>`",
                        cgroups_path);
    slice = xstrndup(cgroups_path, (size_t)(c1 - cgroups_path));
    prefix = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
    name = xstrdup(c2 + 1);
  }
  /* runc would make a slice unit for a name ending in .slice; a slice
   * cannot hold the container's processes (systemd takes PIDs only for a
   * scope), so that is refused here rather than by systemd. */
  if (has_suffix(name, ".slice"))
    return nook_error(err, 0,
                      "cgroupsPath `%s`: the name `%s` is a slice, and a container's processes go "
                      "in a scope: give the slice as the first part (`%s:prefix:name`)",
                      what, name, name);
  out->slice = *slice ? steal_pointer(&slice) : xstrdup("system.slice");
  xasprintf(&out->unit, "%s-%s.scope", prefix, name);
  int r = check_unit_chars(what, out->unit, err);
  if (r == 0 && (r = sd_expand_slice(out->slice, &out->slice_path, err)) < 0)
    nook_error_wrap(err, "cgroupsPath `%s`", what);
  if (r < 0)
    sd_unit_name_clear(out);
  return r < 0 ? -1 : 0;
}
