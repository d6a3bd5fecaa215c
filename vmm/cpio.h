/* A writer of "newc" cpio archives, the format the kernel unpacks into the
 * initramfs.  Entries are written in the order given; a directory must come
 * before what it holds.  Names are relative ("init", "usr/lib/x.so"). */
#ifndef NOOK_VMM_CPIO_H
#define NOOK_VMM_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"

struct cpio_writer {
  int fd;
  uint32_t next_ino;
  uint64_t offset; /* bytes written so far (the padding depends on it) */
};

void cpio_init(struct cpio_writer *w, int fd);
int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t perm, nook_error_t *err);
int cpio_add_data(struct cpio_writer *w, const char *name, mode_t perm, const void *data,
                  size_t len, nook_error_t *err);
/* A regular file with the contents of host_path (symlinks followed). */
int cpio_add_file(struct cpio_writer *w, const char *name, mode_t perm, const char *host_path,
                  nook_error_t *err);
int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target,
                     nook_error_t *err);
int cpio_add_chardev(struct cpio_writer *w, const char *name, mode_t perm, unsigned major,
                     unsigned minor, nook_error_t *err);
/* The trailer; the archive is complete after it. */
int cpio_finish(struct cpio_writer *w, nook_error_t *err);

#endif
