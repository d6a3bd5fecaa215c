#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "utils.h"

extern char **environ;

int run_capture(char *const argv[], char *const envp[], bool quiet, char **out, nook_error_t *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return nook_error(err, errno, "pipe");
  cleanup_close int rd = p[0];
  cleanup_close int wr = p[1];
  /* Opened before the fork: the child only dups. */
  cleanup_close int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return nook_error(err, errno, "open /dev/null");
  pid_t pid = fork();
  if (pid < 0)
    return nook_error(err, errno, "fork");
  if (pid == 0) {
    if (dup2(null, 0) < 0 || dup2(wr, 1) < 0 || (quiet && dup2(null, 2) < 0))
      _exit(127);
    execve(argv[0], argv, envp ? envp : environ);
    _exit(127);
  }
  close(steal_fd(&wr));
  cleanup_free char *text = NULL;
  size_t len = 0;
  int r = read_fd_all(rd, &text, &len, err);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return nook_error(err, errno, "wait for `%s`", argv[0]);
  }
  if (r < 0)
    return nook_error_wrap(err, "read the output of `%s`", argv[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return nook_error(err, 0, "`%s` failed (status %d)", argv[0],
                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  *out = text ? steal_pointer(&text) : xstrdup("");
  return 0;
}
