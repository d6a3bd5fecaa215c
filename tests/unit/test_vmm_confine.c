/* vmm/confine.c: what the VMM's root holds (the loader's view of a
 * program's libraries), and a child confined as the VMM would be, seen from
 * inside. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../base/utils.h"
#include "../../vmm/confine.h"

static bool has(char **v, const char *s)
{
  for (; v && *v; v++) {
    if (strcmp(*v, s) == 0)
      return true;
  }
  return false;
}

TEST(loader_list_is_parsed_to_files)
{
  nook_error_t err = NULL;
  char **libs = NULL;
  CHECK_INT_EQ(vmm_parse_loader_list("\tlinux-vdso.so.1 (0x00007ffd)\n"
                                     "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x7f00)\n"
                                     "\t/lib64/ld-linux-x86-64.so.2 (0x7f01)\n"
                                     "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x7f00)\n",
                                     &libs, &err),
               0);
  CHECK_INT_EQ(strv_len(libs), 2);
  CHECK(has(libs, "/lib/x86_64-linux-gnu/libz.so.1"));
  CHECK(has(libs, "/lib64/ld-linux-x86-64.so.2"));
  strv_free(libs);
  libs = NULL;
  CHECK_INT_EQ(vmm_parse_loader_list("\tlibq.so.3 => not found\n", &libs, &err), -1);
  CHECK_STR_CONTAINS(err->msg, "libq.so.3");
  nook_error_free(&err);
}

TEST(program_libraries_come_from_its_loader)
{
  nook_error_t err = NULL;
  char **libs = NULL;
  cleanup_free char *self = realpath("/proc/self/exe", NULL);
  CHECK_INT_EQ(vmm_program_libraries(self, &libs, &err), 0);
  bool libc = false;
  for (char **l = libs; l && *l; l++)
    libc = libc || (strstr(*l, "/libc.so.") != NULL && (*l)[0] == '/');
  CHECK(libc);
  strv_free(libs);
  libs = NULL;
  if (access("/bin/busybox", X_OK) == 0) {
    /* Statically linked (Debian's busybox-static): nothing to bind. */
    char **none = NULL;
    if (vmm_program_libraries("/bin/busybox", &none, &err) == 0)
      CHECK_INT_EQ(strv_len(none), 0);
    else
      nook_error_free(&err);
    strv_free(none);
  }
  CHECK_INT_EQ(vmm_program_libraries("/etc/hostname", &libs, &err), -1);
  nook_error_free(&err);
}

/* Run in the confined child; the number of the first check that fails. */
static int inside(const char *kernel, const char *share, int leaked_fd)
{
  if (access("/etc/passwd", F_OK) == 0 || errno != ENOENT)
    return 10;
  int fd = open(kernel, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 11;
  close(fd);
  if (open(kernel, O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS)
    return 12;
  if (mkdir("/new", 0755) == 0 || errno != EROFS)
    return 13;
  cleanup_free char *written = NULL;
  xasprintf(&written, "%s/written", share);
  fd = open(written, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return 14;
  close(fd);
  /* A writable share: exactly the file capabilities, every set. */
  uint32_t want =
      (1u << CAP_CHOWN) | (1u << CAP_DAC_OVERRIDE) | (1u << CAP_FOWNER) | (1u << CAP_FSETID);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0 || d[0].effective != want || d[0].permitted != want ||
      d[0].inheritable != want || d[1].effective || d[1].permitted || d[1].inheritable)
    return 15;
  if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
      prctl(PR_CAPBSET_READ, CAP_DAC_READ_SEARCH, 0, 0, 0) != 0 ||
      prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) != 1 ||
      prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_FOWNER, 0, 0) != 1)
    return 16;
  /* Root's file semantics on the share: another uid's 0700 directory, chown. */
  cleanup_free char *secret = NULL;
  xasprintf(&secret, "%s/secret/file", share);
  fd = open(secret, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 22;
  close(fd);
  if (chown(written, 4321, 4321) < 0)
    return 23;
  /* ... and nothing on the host's device nodes. */
  if (chmod("/dev/null", 0600) == 0 || errno != EROFS)
    return 24;
  /* Alone in its pid namespace, with its own fds at /proc/self/fd. */
  if (getpid() != 1 || getppid() != 0)
    return 25;
  cleanup_free char *fdpath = NULL;
  xasprintf(&fdpath, "/proc/self/fd/%d", leaked_fd);
  struct stat viaproc, direct;
  if (stat(fdpath, &viaproc) < 0 || fstat(leaked_fd, &direct) < 0 ||
      viaproc.st_ino != direct.st_ino || viaproc.st_dev != direct.st_dev)
    return 26;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
    return 17;
  if (access("/proc/self/fd", F_OK) < 0 || access("/proc/1", F_OK) == 0)
    return 18;
  if (!(fcntl(leaked_fd, F_GETFD) & FD_CLOEXEC))
    return 19;
  if (getenv("HOME") != NULL)
    return 20;
  if (access("/dev/null", W_OK) < 0)
    return 21;
  return 0;
}

TEST(capabilities_follow_the_shares)
{
  struct vmm_share sh[2] = {{.tag = "a", .path = "/a", .readonly = true},
                            {.tag = "b", .path = "/b"}};
  struct vmm_spec spec = {.shares = sh};
  CHECK(vmm_confine_caps(&spec) == 0);
  spec.nshares = 1;
  CHECK(vmm_confine_caps(&spec) == UINT64_C(1) << CAP_DAC_OVERRIDE);
  spec.nshares = 2;
  CHECK(vmm_confine_caps(&spec) == ((UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_DAC_OVERRIDE) |
                                    (UINT64_C(1) << CAP_FOWNER) | (UINT64_C(1) << CAP_FSETID)));
}

TEST(a_confined_child_sees_only_its_binds)
{
  if (geteuid() != 0)
    SKIP("needs root (mount namespaces, pivot_root)");
  char dir[] = "/tmp/nook-confine-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  cleanup_free char *kernel = NULL, *initrd = NULL, *share = NULL, *work = NULL, *sock = NULL,
                    *console = NULL;
  xasprintf(&kernel, "%s/vmlinux", dir);
  xasprintf(&initrd, "%s/initrd", dir);
  xasprintf(&share, "%s/share", dir);
  xasprintf(&work, "%s/work", dir);
  xasprintf(&sock, "%s/work/chan.sock", dir);
  xasprintf(&console, "%s/work/console.log", dir);
  nook_error_t err = NULL;
  CHECK_INT_EQ(write_file_at(AT_FDCWD, kernel, O_CREAT, 0644, "k", 1, &err), 0);
  CHECK_INT_EQ(write_file_at(AT_FDCWD, initrd, O_CREAT, 0644, "i", 1, &err), 0);
  CHECK_INT_EQ(mkdir(share, 0755), 0);
  cleanup_free char *secret_dir = NULL, *secret = NULL;
  xasprintf(&secret_dir, "%s/secret", share);
  xasprintf(&secret, "%s/secret/file", share);
  CHECK_INT_EQ(mkdir(secret_dir, 0700), 0);
  CHECK_INT_EQ(write_file_at(AT_FDCWD, secret, O_CREAT, 0600, "s", 1, &err), 0);
  CHECK_INT_EQ(chown(secret, 1234, 1234), 0);
  CHECK_INT_EQ(chown(secret_dir, 1234, 1234), 0);
  CHECK_INT_EQ(mkdir(work, 0700), 0);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
  CHECK_INT_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);

  char *ro[] = {"/bin/true", NULL};
  struct vmm_confinement c = {.program = "/bin/true", .ro_files = ro, .netns_fd = -1};
  struct vmm_share sh = {.tag = "s", .path = share};
  struct vmm_spec spec = {.kernel = kernel,
                          .initrd = initrd,
                          .shares = &sh,
                          .nshares = 1,
                          .channel_socket = sock,
                          .console_path = console,
                          .accel = VMM_ACCEL_TCG};
  int leaked = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
  /* Created as the QEMU backend creates the VMM's process. */
  pid_t pid =
      (pid_t)syscall(__NR_clone, vmm_confine_clone_flags(&c) | SIGCHLD, NULL, NULL, NULL, NULL);
  CHECK(pid >= 0);
  if (pid == 0) {
    nook_error_t cerr = NULL;
    if (vmm_confine_enter(&c, &spec, &cerr) < 0) {
      fprintf(stdout, "  enter: %s\n", cerr->msg);
      _exit(1);
    }
    _exit(inside(kernel, share, leaked));
  }
  close(leaked);
  close(lfd);
  int status = -1;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK_INT_EQ(WEXITSTATUS(status), 0);
  cleanup_free char *written = NULL;
  xasprintf(&written, "%s/written", share);
  CHECK_INT_EQ(access(written, F_OK), 0);
  struct stat w;
  CHECK_INT_EQ(stat(written, &w), 0);
  CHECK_INT_EQ(w.st_uid, 4321);
  unlink(secret);
  rmdir(secret_dir);
  /* Nothing of the child's mounts reached the host. */
  struct stat a, b;
  CHECK_INT_EQ(stat(work, &a), 0);
  CHECK_INT_EQ(stat(dir, &b), 0);
  CHECK(a.st_dev == b.st_dev);
  CHECK_INT_EQ(access(console, F_OK), 0);
  unlink(written);
  unlink(console);
  unlink(sock);
  rmdir(work);
  rmdir(share);
  unlink(kernel);
  unlink(initrd);
  rmdir(dir);
}
