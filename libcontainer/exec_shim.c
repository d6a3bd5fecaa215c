/* Loading and calling the exec shim (see shim/exec_shim.c for why). */
#include "exec_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/syscalls.h"
#include "../base/utils.h"

extern const char nook_exec_shim_start[], nook_exec_shim_end[];

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int exec_shim_open(int *fd, nook_error_t *err)
{
  /* MFD_EXEC: a host with vm.memfd_noexec=1 would otherwise make it
   * unexecutable; kernels before 6.3 do not know the flag. */
  cleanup_close int m = memfd_create("nook-exec-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (m < 0 && errno == EINVAL)
    m = memfd_create("nook-exec-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (m < 0)
    return nook_error(err, errno, "memfd_create for the exec shim");
  size_t len = (size_t)(nook_exec_shim_end - nook_exec_shim_start);
  if (safe_write(m, nook_exec_shim_start, len) < 0)
    return nook_error(err, errno, "write the exec shim");
  if (fchmod(m, 0555) < 0 ||
      fcntl(m, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    return nook_error(err, errno, "seal the exec shim");
  *fd = steal_fd(&m);
  return 0;
}

int exec_shim_exec(int shim_fd, int report_fd, const char *exe, char *const argv[],
                   char *const envp[], nook_error_t *err)
{
  size_t n = strv_len(argv);
  cleanup_free char **v = xmalloc((n + 4) * sizeof(char *));
  char fdbuf[16];
  snprintf(fdbuf, sizeof(fdbuf), "%d", report_fd);
  v[0] = "nook-exec-shim";
  v[1] = fdbuf;
  v[2] = (char *)exe;
  for (size_t i = 0; i <= n; i++)
    v[3 + i] = argv[i];
  if (report_fd >= 0) {
    int fl = fcntl(report_fd, F_GETFD);
    if (fl < 0 || fcntl(report_fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
      return nook_error(err, errno, "exec shim: keep the sync socket");
  }
  execveat(shim_fd, "", v, envp, AT_EMPTY_PATH);
  int e = errno;
  if (report_fd >= 0)
    fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  return nook_error(err, e, "exec: \"%s\": the exec shim", argv[0]);
}
