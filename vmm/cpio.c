#include "cpio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/utils.h"

void cpio_init(struct cpio_writer *w, int fd)
{
  *w = (struct cpio_writer){.fd = fd, .next_ino = 1};
}

static int put(struct cpio_writer *w, const void *data, size_t len, nook_error_t *err)
{
  if (len == 0)
    return 0;
  if (safe_write(w->fd, data, len) < 0)
    return nook_error(err, errno, "cpio: write");
  w->offset += len;
  return 0;
}

/* newc aligns every header and every file's data to 4 bytes. */
static int pad(struct cpio_writer *w, nook_error_t *err)
{
  static const char zeros[4];
  return put(w, zeros, (4 - (w->offset & 3)) & 3, err);
}

static int header(struct cpio_writer *w, const char *name, mode_t mode, uint64_t size,
                  unsigned rmajor, unsigned rminor, nook_error_t *err)
{
  if (size > 0xffffffffu)
    return nook_error(err, EFBIG, "cpio: `%s`: %llu bytes, more than newc can hold", name,
                      (unsigned long long)size);
  size_t namesize = strlen(name) + 1;
  char h[111];
  /* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
   * rdevmajor, rdevminor, namesize, check.  Owner root, mtime 0: the
   * archive's bytes depend only on its contents. */
  snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
           w->next_ino++, (unsigned)mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, (unsigned)size, 0u,
           0u, rmajor, rminor, (unsigned)namesize, 0u);
  if (put(w, h, 110, err) < 0 || put(w, name, namesize, err) < 0 || pad(w, err) < 0)
    return -1;
  return 0;
}

int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t perm, nook_error_t *err)
{
  return header(w, name, S_IFDIR | (perm & 07777), 0, 0, 0, err);
}

int cpio_add_data(struct cpio_writer *w, const char *name, mode_t perm, const void *data,
                  size_t len, nook_error_t *err)
{
  if (header(w, name, S_IFREG | (perm & 07777), len, 0, 0, err) < 0 || put(w, data, len, err) < 0 ||
      pad(w, err) < 0)
    return -1;
  return 0;
}

int cpio_add_file(struct cpio_writer *w, const char *name, mode_t perm, const char *host_path,
                  nook_error_t *err)
{
  cleanup_close int fd = open(host_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "cpio: open `%s`", host_path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return nook_error(err, errno, "cpio: stat `%s`", host_path);
  if (!S_ISREG(st.st_mode))
    return nook_error(err, 0, "cpio: `%s` is not a regular file", host_path);
  if (header(w, name, S_IFREG | (perm & 07777), (uint64_t)st.st_size, 0, 0, err) < 0)
    return -1;
  char buf[65536];
  uint64_t left = (uint64_t)st.st_size;
  while (left > 0) {
    ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return nook_error(err, errno, "cpio: read `%s`", host_path);
    /* The size is in the header already: a file that shrank meanwhile
     * would leave a corrupt archive. */
    if (r == 0)
      return nook_error(err, EIO, "cpio: `%s` changed while being archived", host_path);
    if (put(w, buf, (size_t)r, err) < 0)
      return -1;
    left -= (uint64_t)r;
  }
  return pad(w, err);
}

int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target, nook_error_t *err)
{
  size_t len = strlen(target);
  if (header(w, name, S_IFLNK | 0777, len, 0, 0, err) < 0 || put(w, target, len, err) < 0 ||
      pad(w, err) < 0)
    return -1;
  return 0;
}

int cpio_add_chardev(struct cpio_writer *w, const char *name, mode_t perm, unsigned major,
                     unsigned minor, nook_error_t *err)
{
  return header(w, name, S_IFCHR | (perm & 07777), 0, major, minor, err);
}

int cpio_finish(struct cpio_writer *w, nook_error_t *err)
{
  w->next_ino = 0;
  return header(w, "TRAILER!!!", 0, 0, 0, 0, err);
}
