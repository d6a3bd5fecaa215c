/* vmm/cpio.c: archives the kernel (and GNU cpio) unpack as written. */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../../base/utils.h"
#include "../../vmm/cpio.h"

TEST(a_file_entry_is_byte_exact_newc)
{
  char path[] = "/tmp/nook-cpio-XXXXXX";
  int fd = mkstemp(path);
  if (!CHECK(fd >= 0))
    return;
  unlink(path);
  struct cpio_writer w;
  nook_error_t err = NULL;
  cpio_init(&w, fd);
  CHECK_INT_EQ(cpio_add_data(&w, "ab", 0644, "xyz", 3, &err), 0);
  /* 110-byte header + "ab\0" = 113, padded to 116; data 3, padded to 4. */
  CHECK_INT_EQ(w.offset, 120);
  char buf[121] = {0};
  CHECK(pread(fd, buf, 120, 0) == 120);
  CHECK(memcmp(buf,
               "070701"
               "00000001"  /* ino */
               "000081A4"  /* S_IFREG | 0644 */
               "00000000"  /* uid */
               "00000000"  /* gid */
               "00000001"  /* nlink */
               "00000000"  /* mtime */
               "00000003"  /* filesize */
               "00000000"  /* devmajor */
               "00000000"  /* devminor */
               "00000000"  /* rdevmajor */
               "00000000"  /* rdevminor */
               "00000003"  /* namesize, with the NUL */
               "00000000", /* check */
               110) == 0);
  CHECK(memcmp(buf + 110, "ab\0\0\0\0xyz\0", 10) == 0);
  close(fd);
}

TEST(gnu_cpio_unpacks_what_was_written)
{
  if (access("/usr/bin/cpio", X_OK) != 0)
    SKIP("no /usr/bin/cpio (scripts/deps.sh installs it)");
  char dir[] = "/tmp/nook-cpio-XXXXXX";
  if (!CHECK(mkdtemp(dir) != NULL))
    return;
  cleanup_free char *archive = NULL, *cmd = NULL, *text = NULL;
  xasprintf(&archive, "%s/a.cpio", dir);
  int fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (!CHECK(fd >= 0))
    return;
  struct cpio_writer w;
  nook_error_t err = NULL;
  cpio_init(&w, fd);
  CHECK_INT_EQ(cpio_add_dir(&w, "d", 0750, &err), 0);
  CHECK_INT_EQ(cpio_add_data(&w, "d/f", 0640, "hello\n", 6, &err), 0);
  CHECK_INT_EQ(cpio_add_file(&w, "d/copy", 0755, "/etc/hostname", &err), 0);
  CHECK_INT_EQ(cpio_add_symlink(&w, "d/l", "f", &err), 0);
  CHECK_INT_EQ(cpio_add_data(&w, "d/empty", 0600, NULL, 0, &err), 0);
  CHECK_INT_EQ(cpio_finish(&w, &err), 0);
  CHECK(cpio_add_file(&w, "x", 0644, "/nonexistent", &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "cpio: open `/nonexistent`");
  nook_error_free(&err);
  close(fd);
  xasprintf(&cmd, "cd %s && mkdir out && cd out && cpio -id --quiet < ../a.cpio", dir);
  CHECK_INT_EQ(system(cmd), 0);

  size_t len;
  char p[256];
  struct stat st;
  snprintf(p, sizeof(p), "%s/out/d", dir);
  CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750);
  snprintf(p, sizeof(p), "%s/out/d/f", dir);
  CHECK(read_file_at(AT_FDCWD, p, &text, &len, NULL) == 0 && len == 6 &&
        strcmp(text, "hello\n") == 0);
  CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640);
  snprintf(p, sizeof(p), "%s/out/d/copy", dir);
  CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0755);
  struct stat orig;
  CHECK(stat("/etc/hostname", &orig) == 0 && st.st_size == orig.st_size);
  snprintf(p, sizeof(p), "%s/out/d/l", dir);
  char target[16] = {0};
  CHECK(readlink(p, target, sizeof(target) - 1) == 1 && strcmp(target, "f") == 0);
  snprintf(p, sizeof(p), "%s/out/d/empty", dir);
  CHECK(stat(p, &st) == 0 && st.st_size == 0);
  free(cmd);
  cmd = NULL;
  xasprintf(&cmd, "rm -rf %s", dir);
  CHECK_INT_EQ(system(cmd), 0);
}
