/* Placeholder until the seccomp implementation lands (same session). */
#include "seccomp.h"

#include <errno.h>
#include <sys/types.h>

int seccomp_compile(const struct oci_seccomp *s, struct seccomp_prog *out, nook_error_t *err)
{
  return nook_error(err, ENOSYS, "seccomp");
}
void seccomp_prog_clear(struct seccomp_prog *p)
{
}
int seccomp_install(const struct seccomp_prog *p, int *notify_fd, nook_error_t *err)
{
  return nook_error(err, ENOSYS, "seccomp");
}
int seccomp_send_notify_fd(const struct oci_seccomp *s, int notify_fd, const char *state_json,
                           pid_t pid, nook_error_t *err)
{
  return nook_error(err, ENOSYS, "seccomp");
}
