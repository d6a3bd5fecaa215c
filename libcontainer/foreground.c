/* The foreground wait of run and exec: the runtime stays in front of the
 * container's process, forwarding signals to it and proxying its pty, and
 * reports how it ended. */
#include "foreground.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "../base/error.h"
#include "../base/utils.h"
#include "terminal.h"

struct proxy_arg {
  int master;
};

static void *proxy_thread(void *arg)
{
  struct proxy_arg *pa = arg;
  nook_error_t err = NULL;
  if (terminal_proxy(pa->master, &err) < 0)
    nook_error_free(&err);
  return NULL;
}

static int exit_status_of(int wstatus)
{
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return 128 + WTERMSIG(wstatus);
  return 255;
}

/* Forward every signal we get to the container until it exits; reap
 * everything (we are a subreaper, so orphans come to us). */
static int wait_forwarding(pid_t pid, const sigset_t *set, int *exit_status)
{
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(set, &si);
    if (sig < 0)
      continue;
    if (sig == SIGCHLD) {
      int ws;
      pid_t r;
      while ((r = waitpid(-1, &ws, WNOHANG)) > 0)
        if (r == pid) {
          *exit_status = exit_status_of(ws);
          return 0;
        }
      continue;
    }
    if (sig == SIGWINCH)
      continue;
    kill(pid, sig);
  }
}

void wait_foreground(pid_t pid, int pty_master, const sigset_t *set, int *exit_status)
{
  pthread_t proxy;
  bool proxying = false;
  struct proxy_arg pa = {.master = pty_master};
  if (pty_master >= 0 && pthread_create(&proxy, NULL, proxy_thread, &pa) == 0)
    proxying = true;
  wait_forwarding(pid, set, exit_status);
  if (proxying)
    pthread_join(proxy, NULL);
}

void block_signals_for_forwarding(sigset_t *all, sigset_t *old)
{
  sigfillset(all);
  static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
  for (size_t i = 0; i < ARRAY_SIZE(sync_signals); i++)
    sigdelset(all, sync_signals[i]);
  sigprocmask(SIG_BLOCK, all, old);
}
