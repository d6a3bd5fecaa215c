/* Translation of config.json mount options into what the new mount API takes:
 * mount attributes (per mount, optionally recursive), propagation, and the
 * filesystem data options that pass through to fsconfig(). */
#ifndef NOOK_MOUNT_OPTS_H
#define NOOK_MOUNT_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/error.h"

struct mount_opts {
  uint64_t attr_set, attr_clr;   /* MOUNT_ATTR_* on the mount itself */
  uint64_t rattr_set, rattr_clr; /* MOUNT_ATTR_* on it and every submount (r* options) */
  bool atime_set, ratime_set;    /* an atime option was given (atime is a field, not bits) */
  unsigned long propagation;     /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE, or 0 */
  bool propagation_recursive;
  bool bind, rbind;
  bool remount;
  bool idmap, ridmap;
  bool tmpcopyup;
  char **sb_flags; /* superblock flags passed as fsconfig flags: sync, dirsync, mand, ... */
  char **data;     /* everything else: "key=value" or "key", in order */
};

int mount_opts_parse(char *const *options, struct mount_opts *out, nook_error_t *err);
void mount_opts_clear(struct mount_opts *o);

#endif
