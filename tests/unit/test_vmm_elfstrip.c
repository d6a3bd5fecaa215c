/* vmm/elfstrip.c: the initramfs's copies of nook and its libraries keep
 * what the loaders read and nothing else. */
#include "unit.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../base/utils.h"
#include "../../vmm/elfstrip.h"

/* This test binary is built with -g: its debug info is past its segments. */
TEST(a_program_built_with_debug_info_shrinks_and_still_runs)
{
  struct stat st;
  if (!CHECK(stat("/proc/self/exe", &st) == 0))
    return;
  cleanup_free char *data = NULL;
  size_t len = 0;
  nook_error_t err = NULL;
  if (!CHECK_INT_EQ(elf_strip_read("/proc/self/exe", &data, &len, &err), 0))
    return;
  CHECK(len < (size_t)st.st_size);
  Elf64_Ehdr eh;
  memcpy(&eh, data, sizeof(eh));
  CHECK(memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0);
  CHECK_INT_EQ(eh.e_shnum, 0);
  CHECK_INT_EQ(eh.e_shoff, 0);
  /* The stripped copy is a program the kernel and ld.so still load. */
  char path[] = "/tmp/nook-elfstrip-XXXXXX";
  int fd = mkstemp(path);
  if (!CHECK(fd >= 0))
    return;
  CHECK(write(fd, data, len) == (ssize_t)len);
  CHECK(fchmod(fd, 0700) == 0);
  close(fd);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    /* A test name that matches none: it exits after loading. */
    execl(path, path, "no-such-test", (char *)NULL);
    _exit(127);
  }
  int status = -1;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 127);
  unlink(path);
}

TEST(a_file_that_is_not_elf_is_kept_whole)
{
  char path[] = "/tmp/nook-elfstrip-XXXXXX";
  int fd = mkstemp(path);
  if (!CHECK(fd >= 0))
    return;
  CHECK(write(fd, "\177ELF but not really", 20) == 20);
  close(fd);
  cleanup_free char *data = NULL;
  size_t len = 0;
  nook_error_t err = NULL;
  CHECK_INT_EQ(elf_strip_read(path, &data, &len, &err), 0);
  CHECK_INT_EQ(len, 20);
  CHECK(data != NULL && memcmp(data, "\177ELF but not really", 20) == 0);
  unlink(path);
}
