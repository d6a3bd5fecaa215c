/* Helpers shared by the seccomp tests (test_seccomp.c,
 * test_seccomp_enosys.c): profiles from JSON, compile, and install in a
 * child process. */
#ifndef NOOK_SECCOMP_TEST_H
#define NOOK_SECCOMP_TEST_H

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../libcontainer/seccomp.h"
#include "oci_test.h"

#define SECCOMP(...) LINUX("'seccomp': {" __VA_ARGS__ "}")

__attribute__((unused)) static struct oci_config *config_of(const char *json)
{
  struct oci_config *c = parse_ok(json);
  if (c != NULL && !c->linux_.has_seccomp) {
    oci_config_free(c);
    return NULL;
  }
  return c;
}

/* Compile; NULL on success, else the error text. */
__attribute__((unused)) static char *compile(const struct oci_config *c, const char *cache,
                                             struct seccomp_prog *p)
{
  nook_error_t err = NULL;
  if (seccomp_compile(&c->linux_.seccomp, cache, p, &err) == 0)
    return NULL;
  char *t = nook_error_text(err);
  nook_error_free(&err);
  return t;
}

__attribute__((unused)) static void unit_default_crash_signals(void)
{
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    signal(sigs[i], SIG_DFL);
}

/* Fork, set no_new_privs, install p, run fn and exit with its result.
 * Returns the wait status.  fn runs under the filter: it may only use the
 * syscalls the profile leaves alone, so it reports through the exit code. */
__attribute__((unused)) static int in_child(const struct seccomp_prog *p, int (*fn)(int notify_fd))
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    /* A crash must show as the signal: the sanitizers' handlers would turn
     * it into exit 1, which reads as fn's first failed check. */
    unit_default_crash_signals();
    int notify = -1;
    nook_error_t err = NULL;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(p, &notify, &err) < 0)
      _exit(200);
    /* Not _exit: the sanitizers' version makes calls the filter may deny. */
    syscall(SYS_exit_group, fn(notify));
  }
  int status = -1;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}

__attribute__((unused)) static bool exited(int status, int code)
{
  return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* getppid and friends ignore their arguments, while the filter sees them:
 * ideal for checking conditions without side effects.  Returns the errno
 * the call failed with, 0 on success. */
__attribute__((unused)) static int probe(long nr, unsigned long a0, unsigned long a1)
{
  long r = syscall(nr, a0, a1, 0, 0, 0, 0);
  return r < 0 ? errno : 0;
}

#endif
