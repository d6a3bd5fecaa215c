#include "reap.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

void kill_and_reap(pid_t pid)
{
  if (pid <= 0)
    return;
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
    ;
}
