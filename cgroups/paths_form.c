/* The persisted form of struct cgroup_paths: what state.json records of a
 * container's cgroups, so that any later command (and delete --force after
 * a killed create) finds exactly what was made. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"

/* ---- persisted form ----
 * One line: "1;mode=hybrid;u=<created>:<path>;h=<controllers>:<created>:<path>;..."
 * and, for the systemd driver, ";sd=<slice>:<unit>".  Paths go last in a
 * record and have '%', ';' and control bytes %-escaped, so any path
 * survives; controller names never contain ':' or ';', nor do the slice
 * and unit names of the systemd driver (sd_unit.c). */

static const char *mode_name(enum cgroup_mode m)
{
  return m == CGROUP_MODE_UNIFIED ? "unified" : m == CGROUP_MODE_LEGACY ? "legacy" : "hybrid";
}

static void put_escaped(FILE *f, const char *s)
{
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '%' || c == ';' || c < 0x20 || c == 0x7f)
      fprintf(f, "%%%02X", c);
    else
      fputc(c, f);
  }
}

char *cgroup_paths_serialize(const struct cgroup_paths *p)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    abort();
  fprintf(f, "1;mode=%s", mode_name(p->mode));
  if (p->unified) {
    fprintf(f, ";u=%u:", p->unified_created);
    put_escaped(f, p->unified);
  }
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++) {
    fprintf(f, ";h=%s:%u:", p->v1_controllers ? p->v1_controllers[i] : "",
            p->v1_created ? p->v1_created[i] : 0);
    put_escaped(f, p->v1_dirs[i]);
  }
  if (p->unit) {
    fputs(";sd=", f);
    put_escaped(f, p->slice ? p->slice : "");
    fputc(':', f);
    put_escaped(f, p->unit);
  }
  if (fclose(f) != 0)
    abort();
  return buf;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static char *unescape(const char *s, size_t n)
{
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
        free(out);
        return NULL;
      }
      *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  return out;
}

static bool parse_created(const char *s, size_t n, unsigned *out)
{
  char tmp[16];
  unsigned long long v;
  if (n == 0 || n >= sizeof(tmp))
    return false;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  if (parse_uint64(tmp, &v) < 0 || v > 4096)
    return false;
  *out = (unsigned)v;
  return true;
}

int cgroup_paths_parse(const char *s, struct cgroup_paths *out, nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  if (s == NULL || strncmp(s, "1;mode=", 7) != 0)
    return nook_error(err, 0, "cgroup paths: unknown format `%s`", s ? s : "(null)");
  const char *p = s + 7;
  const char *end = strchrnul(p, ';');
  size_t n = (size_t)(end - p);
  if (n == 7 && memcmp(p, "unified", 7) == 0)
    out->mode = CGROUP_MODE_UNIFIED;
  else if (n == 6 && memcmp(p, "legacy", 6) == 0)
    out->mode = CGROUP_MODE_LEGACY;
  else if (n == 6 && memcmp(p, "hybrid", 6) == 0)
    out->mode = CGROUP_MODE_HYBRID;
  else
    goto bad;
  size_t cap = 0, nv1 = 0;
  for (p = end; *p == ';';) {
    p++;
    end = strchrnul(p, ';');
    if (end - p > 2 && p[0] == 'u' && p[1] == '=' && out->unified == NULL) {
      const char *c = memchr(p + 2, ':', (size_t)(end - p - 2));
      if (c == NULL || !parse_created(p + 2, (size_t)(c - p - 2), &out->unified_created))
        goto bad;
      if ((out->unified = unescape(c + 1, (size_t)(end - c - 1))) == NULL || !out->unified[0])
        goto bad;
    } else if (end - p > 2 && p[0] == 'h' && p[1] == '=') {
      const char *c1 = memchr(p + 2, ':', (size_t)(end - p - 2));
      const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
      if (c2 == NULL)
        goto bad;
      if (nv1 + 1 >= cap) {
        cap = cap ? cap * 2 : 16;
        out->v1_dirs = xrealloc(out->v1_dirs, cap * sizeof(char *));
        out->v1_controllers = xrealloc(out->v1_controllers, cap * sizeof(char *));
        out->v1_created = xrealloc(out->v1_created, cap * sizeof(unsigned));
      }
      out->v1_dirs[nv1] = out->v1_controllers[nv1] = NULL;
      out->v1_dirs[nv1 + 1] = out->v1_controllers[nv1 + 1] = NULL;
      if (!parse_created(c1 + 1, (size_t)(c2 - c1 - 1), &out->v1_created[nv1]))
        goto bad;
      char *dir = unescape(c2 + 1, (size_t)(end - c2 - 1));
      if (dir == NULL || !dir[0]) {
        free(dir);
        goto bad;
      }
      out->v1_controllers[nv1] = xstrndup(p + 2, (size_t)(c1 - p - 2));
      out->v1_dirs[nv1++] = dir;
    } else if (end - p > 3 && strncmp(p, "sd=", 3) == 0 && out->unit == NULL) {
      const char *c = memchr(p + 3, ':', (size_t)(end - p - 3));
      if (c == NULL || (out->slice = unescape(p + 3, (size_t)(c - p - 3))) == NULL ||
          (out->unit = unescape(c + 1, (size_t)(end - c - 1))) == NULL || !out->unit[0])
        goto bad;
    } else {
      goto bad;
    }
    p = end;
  }
  if (*p != '\0')
    goto bad;
  return 0;
bad:
  cgroup_paths_clear(out);
  return nook_error(err, 0, "cgroup paths: malformed `%s`", s);
}

int cgroup_from_persisted(const char *s, const struct cgroup_manager **m, struct cgroup_paths *p,
                          nook_error_t *err)
{
  if (s == NULL)
    return 0;
  if (cgroup_paths_parse(s, p, err) < 0)
    return -1;
  *m = cgroup_manager_of(p);
  return 1;
}
