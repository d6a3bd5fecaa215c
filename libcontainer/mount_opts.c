#include "mount_opts.h"

#include <string.h>
#include <sys/mount.h>

#include "../base/syscalls.h"
#include "../base/utils.h"

enum kind { ATTR_SET, ATTR_CLR, RATTR_SET, RATTR_CLR, PROPAGATION, SB_FLAG, SPECIAL };

struct opt {
  const char *name;
  enum kind kind;
  uint64_t value;
};

enum { SP_BIND = 1, SP_RBIND, SP_REMOUNT, SP_IDMAP, SP_RIDMAP, SP_TMPCOPYUP, SP_DEFAULTS };

#define ATIME_MASK MOUNT_ATTR__ATIME

static const struct opt table[] = {
    {"ro", ATTR_SET, MOUNT_ATTR_RDONLY},
    {"rw", ATTR_CLR, MOUNT_ATTR_RDONLY},
    {"nosuid", ATTR_SET, MOUNT_ATTR_NOSUID},
    {"suid", ATTR_CLR, MOUNT_ATTR_NOSUID},
    {"nodev", ATTR_SET, MOUNT_ATTR_NODEV},
    {"dev", ATTR_CLR, MOUNT_ATTR_NODEV},
    {"noexec", ATTR_SET, MOUNT_ATTR_NOEXEC},
    {"exec", ATTR_CLR, MOUNT_ATTR_NOEXEC},
    {"noatime", ATTR_SET, MOUNT_ATTR_NOATIME},
    {"relatime", ATTR_SET, MOUNT_ATTR_RELATIME},
    {"strictatime", ATTR_SET, MOUNT_ATTR_STRICTATIME},
    {"atime", ATTR_SET, MOUNT_ATTR_RELATIME},
    {"norelatime", ATTR_SET, MOUNT_ATTR_STRICTATIME},
    {"nostrictatime", ATTR_SET, MOUNT_ATTR_RELATIME},
    {"nodiratime", ATTR_SET, MOUNT_ATTR_NODIRATIME},
    {"diratime", ATTR_CLR, MOUNT_ATTR_NODIRATIME},
    {"nosymfollow", ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"symfollow", ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW},
    {"rro", RATTR_SET, MOUNT_ATTR_RDONLY},
    {"rrw", RATTR_CLR, MOUNT_ATTR_RDONLY},
    {"rnosuid", RATTR_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", RATTR_CLR, MOUNT_ATTR_NOSUID},
    {"rnodev", RATTR_SET, MOUNT_ATTR_NODEV},
    {"rdev", RATTR_CLR, MOUNT_ATTR_NODEV},
    {"rnoexec", RATTR_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", RATTR_CLR, MOUNT_ATTR_NOEXEC},
    {"rnoatime", RATTR_SET, MOUNT_ATTR_NOATIME},
    {"rrelatime", RATTR_SET, MOUNT_ATTR_RELATIME},
    {"rstrictatime", RATTR_SET, MOUNT_ATTR_STRICTATIME},
    {"ratime", RATTR_SET, MOUNT_ATTR_RELATIME},
    {"rnodiratime", RATTR_SET, MOUNT_ATTR_NODIRATIME},
    {"rnorelatime", RATTR_SET, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", RATTR_SET, MOUNT_ATTR_RELATIME},
    {"rdiratime", RATTR_CLR, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", RATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", RATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW},
    {"private", PROPAGATION, MS_PRIVATE},
    {"rprivate", PROPAGATION, MS_PRIVATE | MS_REC},
    {"shared", PROPAGATION, MS_SHARED},
    {"rshared", PROPAGATION, MS_SHARED | MS_REC},
    {"slave", PROPAGATION, MS_SLAVE},
    {"rslave", PROPAGATION, MS_SLAVE | MS_REC},
    {"unbindable", PROPAGATION, MS_UNBINDABLE},
    {"runbindable", PROPAGATION, MS_UNBINDABLE | MS_REC},
    {"sync", SB_FLAG, 0},
    {"async", SB_FLAG, 0},
    {"dirsync", SB_FLAG, 0},
    {"mand", SB_FLAG, 0},
    {"nomand", SB_FLAG, 0},
    {"lazytime", SB_FLAG, 0},
    {"nolazytime", SB_FLAG, 0},
    {"silent", SB_FLAG, 0},
    {"loud", SB_FLAG, 0},
    /* The kernel manages i_version itself since 5.x (a mount flag from
     * userspace is ignored); accepted so configs written for runc work. */
    {"iversion", SPECIAL, SP_DEFAULTS},
    {"noiversion", SPECIAL, SP_DEFAULTS},
    {"bind", SPECIAL, SP_BIND},
    {"rbind", SPECIAL, SP_RBIND},
    {"remount", SPECIAL, SP_REMOUNT},
    {"idmap", SPECIAL, SP_IDMAP},
    {"ridmap", SPECIAL, SP_RIDMAP},
    {"tmpcopyup", SPECIAL, SP_TMPCOPYUP},
    {"defaults", SPECIAL, SP_DEFAULTS},
};

static void strv_push(char ***v, const char *s)
{
  size_t n = strv_len(*v);
  *v = xrealloc(*v, (n + 2) * sizeof(char *));
  (*v)[n] = xstrdup(s);
  (*v)[n + 1] = NULL;
}

/* atime is a 3-bit field: setting one value must clear the field first. */
static void set_attr(uint64_t *set, uint64_t *clr, bool *atime, uint64_t v, bool clear)
{
  if (v & ATIME_MASK || v == MOUNT_ATTR_RELATIME) {
    if (!clear) {
      *set = (*set & ~(uint64_t)ATIME_MASK) | v;
      *clr |= ATIME_MASK;
      *atime = true;
    }
    return;
  }
  if (clear) {
    *clr |= v;
    *set &= ~v;
  } else {
    *set |= v;
    *clr &= ~v;
  }
}

int mount_opts_parse(char *const *options, struct mount_opts *o, nook_error_t *err)
{
  memset(o, 0, sizeof(*o));
  for (size_t i = 0; options && options[i]; i++) {
    const char *name = options[i];
    const struct opt *hit = NULL;
    for (size_t k = 0; k < ARRAY_SIZE(table); k++)
      if (strcmp(table[k].name, name) == 0) {
        hit = &table[k];
        break;
      }
    if (hit == NULL) {
      strv_push(&o->data, name);
      continue;
    }
    switch (hit->kind) {
    case ATTR_SET:
    case ATTR_CLR:
      set_attr(&o->attr_set, &o->attr_clr, &o->atime_set, hit->value, hit->kind == ATTR_CLR);
      break;
    case RATTR_SET:
    case RATTR_CLR:
      set_attr(&o->rattr_set, &o->rattr_clr, &o->ratime_set, hit->value, hit->kind == RATTR_CLR);
      break;
    case PROPAGATION:
      o->propagation = hit->value & ~(unsigned long)MS_REC;
      o->propagation_recursive = (hit->value & MS_REC) != 0;
      break;
    case SB_FLAG:
      strv_push(&o->sb_flags, name);
      break;
    case SPECIAL:
      switch (hit->value) {
      case SP_BIND:
        o->bind = true;
        break;
      case SP_RBIND:
        o->bind = o->rbind = true;
        break;
      case SP_REMOUNT:
        o->remount = true;
        break;
      case SP_IDMAP:
        o->idmap = true;
        break;
      case SP_RIDMAP:
        o->idmap = o->ridmap = true;
        break;
      case SP_TMPCOPYUP:
        o->tmpcopyup = true;
        break;
      default:
        break;
      }
      break;
    }
  }
  (void)err;
  return 0;
}

void mount_opts_clear(struct mount_opts *o)
{
  strv_free(o->sb_flags);
  strv_free(o->data);
  memset(o, 0, sizeof(*o));
}
