/* The devices controller: v1's devices.allow/deny from a model of the
 * kernel's exception list, v2's device filter (built, loaded and attached
 * by ebpf.c). */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"

/* ---- v1 ----
 * runc's semantics: rules apply in order to a model of the kernel's list
 * (a default policy plus exceptions); a rule of type `a` resets the
 * default, and removing access that a wildcard exception grants is an
 * error, because v1 would silently keep it.  The result is then written as
 * the default followed by the exceptions. */

enum { DEV_R = 1, DEV_W = 2, DEV_M = 4 };

struct dev_ex {
  char type;
  int64_t major, minor; /* -1: any */
  unsigned perms;
};

struct dev_model {
  bool allow_all;
  struct dev_ex *v;
  size_t n, cap;
};

static void dev_fmt(char *buf, size_t size, char type, int64_t major, int64_t minor, unsigned perms)
{
  char maj[24] = "*", min[24] = "*";
  if (major >= 0)
    snprintf(maj, sizeof(maj), "%lld", (long long)major);
  if (minor >= 0)
    snprintf(min, sizeof(min), "%lld", (long long)minor);
  snprintf(buf, size, "%c %s:%s %s%s%s", type, maj, min, perms & DEV_R ? "r" : "",
           perms & DEV_W ? "w" : "", perms & DEV_M ? "m" : "");
}

static struct dev_ex *dev_find(struct dev_model *m, char type, int64_t major, int64_t minor)
{
  for (size_t i = 0; i < m->n; i++)
    if (m->v[i].type == type && m->v[i].major == major && m->v[i].minor == minor)
      return &m->v[i];
  return NULL;
}

static int dev_rule(struct dev_model *m, size_t idx, const struct oci_device_cgroup *d,
                    nook_error_t *err)
{
  unsigned perms = 0;
  for (const char *a = d->access ? d->access : "rwm"; *a; a++) {
    switch (*a) {
    case 'r':
      perms |= DEV_R;
      break;
    case 'w':
      perms |= DEV_W;
      break;
    case 'm':
      perms |= DEV_M;
      break;
    default:
      return nook_error(err, 0, "linux.resources.devices[%zu].access: invalid `%s`", idx,
                        d->access);
    }
  }
  if (d->type == 'a' || d->type == '\0') {
    m->allow_all = d->allow;
    m->n = 0;
    return 0;
  }
  if (d->type != 'c' && d->type != 'b')
    return nook_error(err, 0, "linux.resources.devices[%zu].type: invalid `%c`", idx, d->type);
  int64_t major = d->has_major && d->major >= 0 ? d->major : -1;
  int64_t minor = d->has_minor && d->minor >= 0 ? d->minor : -1;
  struct dev_ex *ex = dev_find(m, d->type, major, minor);
  if (d->allow != m->allow_all) {
    /* An exception to the default: add (merge) it. */
    if (ex) {
      ex->perms |= perms;
      return 0;
    }
    if (m->n == m->cap) {
      m->cap = m->cap ? m->cap * 2 : 16;
      m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
    }
    m->v[m->n++] = (struct dev_ex){d->type, major, minor, perms};
    return 0;
  }
  /* Back to the default: take the access out of the matching exception. */
  const int64_t wild[3][2] = {{-1, minor}, {major, -1}, {-1, -1}};
  for (size_t i = 0; i < 3; i++) {
    if (wild[i][0] == major && wild[i][1] == minor)
      continue;
    struct dev_ex *w = dev_find(m, d->type, wild[i][0], wild[i][1]);
    if (w && (w->perms & perms)) {
      char want[64], have[64];
      dev_fmt(want, sizeof(want), d->type, major, minor, perms);
      dev_fmt(have, sizeof(have), w->type, w->major, w->minor, w->perms);
      return nook_error(err, 0,
                        "linux.resources.devices[%zu]: cannot %s `%s` inside the wildcard rule "
                        "`%s` (cgroup v1 cannot punch a hole in a wildcard exception)",
                        idx, d->allow ? "allow" : "deny", want, have);
    }
  }
  if (ex) {
    ex->perms &= ~perms;
    if (ex->perms == 0)
      *ex = m->v[--m->n];
  }
  return 0;
}

/* Write model m to dir's devices.allow and devices.deny.  Apart from
 * cg1_apply_devices so that no jump out of a failed rule crosses the
 * cleanup_close fds (which would close whatever the stack held). */
static int dev_model_write(const char *dir, const struct dev_model *m, nook_error_t *err)
{
  char path_allow[PATH_MAX], path_deny[PATH_MAX];
  snprintf(path_allow, sizeof(path_allow), "%s/devices.allow", dir);
  snprintf(path_deny, sizeof(path_deny), "%s/devices.deny", dir);
  /* One open per file; each write() is one rule to the kernel. */
  cleanup_close int fd_allow = open(path_allow, O_WRONLY | O_CLOEXEC);
  if (fd_allow < 0)
    return nook_error(err, errno, "linux.resources.devices: open `%s`", path_allow);
  cleanup_close int fd_deny = open(path_deny, O_WRONLY | O_CLOEXEC);
  if (fd_deny < 0)
    return nook_error(err, errno, "linux.resources.devices: open `%s`", path_deny);
  int fd_default = m->allow_all ? fd_allow : fd_deny, fd_ex = m->allow_all ? fd_deny : fd_allow;
  const char *p_default = m->allow_all ? path_allow : path_deny;
  const char *p_ex = m->allow_all ? path_deny : path_allow;
  if (write(fd_default, "a", 1) < 0)
    return nook_error(err, errno, "linux.resources.devices: write `a` to `%s`", p_default);
  for (size_t i = 0; i < m->n; i++) {
    char rule[80];
    dev_fmt(rule, sizeof(rule), m->v[i].type, m->v[i].major, m->v[i].minor, m->v[i].perms);
    if (write(fd_ex, rule, strlen(rule)) < 0)
      return nook_error(err, errno, "linux.resources.devices: write `%s` to `%s`", rule, p_ex);
  }
  return 0;
}

int cg1_apply_devices(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  /* A new cgroup's default is its parent's (allow-all at the root); an
   * empty rule list therefore means deny-all, as in runc. */
  struct dev_model m = {0};
  int ret = 0;
  for (size_t i = 0; i < r->n_devices && ret == 0; i++)
    ret = dev_rule(&m, i, &r->devices[i], err);
  if (ret == 0)
    ret = dev_model_write(dir, &m, err);
  free(m.v);
  return ret < 0 ? -1 : 0;
}

/* ---- v2 ---- */

int cg2_apply_devices(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  cleanup_free struct bpf_insn *insns = NULL;
  size_t n;
  if (cg_devices_bpf_build(r->devices, r->n_devices, &insns, &n, err) < 0)
    return -1;
  cleanup_close int fd = cg_devices_bpf_load(insns, n, err);
  if (fd < 0)
    return -1;
  return cg_devices_bpf_attach(dir, fd, err);
}
