/* Linked into nook-guest only (Makefile, GUEST_LDFLAGS's --wrap): the
 * static guest init has no shared libraries to load, so glibc's dlopen (the
 * systemd cgroup driver's libsystemd, cgroups/sdbus.c) and the NSS behind
 * getpwuid (user names for `ps` and `list`) could only fail there; they
 * fail here at once instead, with the callers' own fallbacks (an error
 * naming libsystemd, a numeric uid), and glibc's static-link warnings about
 * them go with them because libc's versions are never linked. */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>

void *__wrap_dlopen(const char *file, int mode);
char *__wrap_dlerror(void);
struct passwd *__wrap_getpwuid(uid_t uid);

void *__wrap_dlopen(const char *file, int mode)
{
  return NULL;
}

char *__wrap_dlerror(void)
{
  return (char *)"the static guest nook loads no shared libraries";
}

struct passwd *__wrap_getpwuid(uid_t uid)
{
  errno = ENOENT;
  return NULL;
}
