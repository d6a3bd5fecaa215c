#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "utils.h"

extern char **environ;

enum err_to { ERR_OURS, ERR_NULL, ERR_OUT };

static int capture(char *const argv[], char *const envp[], enum err_to err_to, char **out,
                   nook_error_t *err)
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
    if (dup2(null, 0) < 0 || dup2(wr, 1) < 0 || (err_to == ERR_NULL && dup2(null, 2) < 0) ||
        (err_to == ERR_OUT && dup2(wr, 2) < 0))
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
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    /* Its own words say why, when they were captured. */
    while (err_to == ERR_OUT && len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
      text[--len] = '\0';
    if (err_to == ERR_OUT && len > 0)
      return nook_error(err, 0, "`%s` failed (status %d): %s", argv[0], code, text);
    return nook_error(err, 0, "`%s` failed (status %d)", argv[0], code);
  }
  *out = text ? steal_pointer(&text) : xstrdup("");
  return 0;
}

int run_capture(char *const argv[], char *const envp[], bool quiet, char **out, nook_error_t *err)
{
  return capture(argv, envp, quiet ? ERR_NULL : ERR_OURS, out, err);
}

int run_capture_merged(char *const argv[], char **out, nook_error_t *err)
{
  return capture(argv, NULL, ERR_OUT, out, err);
}
