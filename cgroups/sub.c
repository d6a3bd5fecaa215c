/* `exec --cgroup [CONTROLLERS:]PATH`: the sub-cgroups of a container's
 * cgroup that an exec'd process joins instead of the container's own. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"

/* A sub-cgroup path: relative, no "." or ".." components, no "//". */
static bool valid_subpath(const char *s)
{
  if (*s == '\0' || *s == '/')
    return false;
  for (const char *c = s; *c;) {
    size_t n = strcspn(c, "/");
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return false;
    c += n;
    if (*c == '/')
      c++;
  }
  return s[strlen(s) - 1] != '/';
}

/* Whether the v1 hierarchy with controllers `have` ("cpu,cpuacct") has one
 * of `want` ("cpu" or "memory,pids"; wlen bytes, not NUL-terminated). */
static bool controllers_match(const char *have, const char *want, size_t wlen)
{
  for (const char *w = want; w < want + wlen;) {
    size_t n = strcspn(w, ",");
    if (n > (size_t)(want + wlen - w))
      n = (size_t)(want + wlen - w);
    for (const char *h = have; *h;) {
      size_t m = strcspn(h, ",");
      if (m == n && strncmp(h, w, n) == 0)
        return true;
      h += m;
      if (*h == ',')
        h++;
    }
    w += n + 1;
  }
  return false;
}

/* Whether every controller of `want` ("memory,pids") is available in the v2
 * cgroup `dir` (its cgroup.controllers). */
static bool v2_has_controllers(const char *dir, const char *want, size_t wlen)
{
  cleanup_free char *path = NULL, *text = NULL;
  xasprintf(&path, "%s/cgroup.controllers", dir);
  if (read_file_at(AT_FDCWD, path, &text, NULL, NULL) < 0)
    return false;
  for (char *c = text; *c; c++)
    if (*c == ' ' || *c == '\n')
      *c = ',';
  for (const char *w = want; w < want + wlen;) {
    size_t n = strcspn(w, ",");
    if (n > (size_t)(want + wlen - w))
      n = (size_t)(want + wlen - w);
    if (!controllers_match(text, w, n))
      return false;
    w += n + 1;
  }
  return true;
}

static void descend(char **dir, const char *sub)
{
  if (sub == NULL || *sub == '\0')
    return;
  char *d;
  xasprintf(&d, "%s/%s", *dir, sub);
  free(*dir);
  *dir = d;
}

int cgroup_paths_sub(struct cgroup_paths *p, char *const *specs, size_t n, nook_error_t *err)
{
  size_t nv1 = p->v1_dirs ? strv_len(p->v1_dirs) : 0;
  /* On pure cgroup v2 every controller is in the one hierarchy: a
   * controller prefix names it too. */
  bool pure_v2 = nv1 == 0;
  const char *unified_sub = NULL;
  cleanup_free const char **v1_sub = xmalloc((nv1 + 1) * sizeof(char *));
  for (size_t k = 0; k < nv1; k++)
    v1_sub[k] = NULL;
  for (size_t i = 0; i < n; i++) {
    const char *spec = specs[i];
    const char *colon = strchr(spec, ':');
    const char *path = colon ? colon + 1 : spec;
    size_t clen = colon ? (size_t)(colon - spec) : 0;
    /* "/" names the container's cgroup itself (runc accepts it); an entry
     * later on the command line may use it to undo an earlier one. */
    if (strcmp(path, "/") == 0)
      path = "";
    else if (!valid_subpath(path))
      return nook_error(err, 0,
                        "--cgroup \"%s\": expected [CONTROLLER[,...]:]PATH with a relative PATH "
                        "without \".\" or \"..\", or \"/\" for the container's cgroup",
                        spec);
    bool used = false;
    if (p->unified && (clen == 0 || (pure_v2 && v2_has_controllers(p->unified, spec, clen)))) {
      unified_sub = path;
      used = true;
    }
    for (size_t k = 0; k < nv1; k++)
      if (clen == 0 || (p->v1_controllers && controllers_match(p->v1_controllers[k], spec, clen))) {
        v1_sub[k] = path;
        used = true;
      }
    if (!used)
      return nook_error(err, 0, "--cgroup \"%s\": the container has no such controller", spec);
  }
  /* Nothing is changed before every entry was checked. */
  if (p->unified)
    descend(&p->unified, unified_sub);
  for (size_t k = 0; k < nv1; k++)
    descend(&p->v1_dirs[k], v1_sub[k]);
  return 0;
}
