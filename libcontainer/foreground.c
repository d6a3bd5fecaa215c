/* The foreground wait of run and exec: the runtime stays in front of the
 * container's process, forwarding signals to it and proxying its pty, and
 * reports how it ended. */
#include "foreground.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

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

int foreground_exit_status(int wstatus)
{
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return 128 + WTERMSIG(wstatus);
  return 255;
}

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The next signal of set, or 0 once the policy's deadline passed. */
static int next_signal(const sigset_t *set, const struct foreground_policy *p, siginfo_t *si)
{
  long long deadline = p && p->deadline ? p->deadline(p->data) : -1;
  if (deadline < 0)
    return sigwaitinfo(set, si);
  long long left = deadline - now_ns();
  if (left <= 0)
    return 0;
  struct timespec ts = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
  int sig = sigtimedwait(set, si, &ts);
  return sig < 0 && errno == EAGAIN ? 0 : sig;
}

/* Forward every signal we get to the container until it exits; reap
 * everything (we are a subreaper, so orphans come to us). */
static void wait_forwarding(pid_t pid, const sigset_t *set, const struct foreground_policy *p,
                            int *wstatus)
{
  for (;;) {
    siginfo_t si;
    int sig = next_signal(set, p, &si);
    if (sig < 0)
      continue;
    if (sig == 0) {
      if (p->expired)
        p->expired(p->data);
      continue;
    }
    if (sig == SIGCHLD) {
      int ws;
      pid_t r;
      while ((r = waitpid(-1, &ws, WNOHANG)) > 0)
        if (r == pid) {
          *wstatus = ws;
          return;
        }
      continue;
    }
    if (sig == SIGWINCH)
      continue;
    if (p && p->signal)
      sig = p->signal(p->data, sig);
    if (sig > 0)
      kill(pid, sig);
  }
}

void wait_foreground_policy(pid_t pid, int pty_master, const sigset_t *set,
                            const struct foreground_policy *policy, int *wstatus)
{
  pthread_t proxy;
  bool proxying = false;
  struct proxy_arg pa = {.master = pty_master};
  if (pty_master >= 0 && pthread_create(&proxy, NULL, proxy_thread, &pa) == 0)
    proxying = true;
  wait_forwarding(pid, set, policy, wstatus);
  if (policy && policy->exited)
    policy->exited(policy->data, *wstatus);
  if (proxying)
    pthread_join(proxy, NULL);
}

void wait_foreground(pid_t pid, int pty_master, const sigset_t *set, int *exit_status)
{
  int ws = 0;
  wait_foreground_policy(pid, pty_master, set, NULL, &ws);
  *exit_status = foreground_exit_status(ws);
}

void block_signals_for_forwarding(sigset_t *all, sigset_t *old)
{
  sigfillset(all);
  static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
  for (size_t i = 0; i < ARRAY_SIZE(sync_signals); i++)
    sigdelset(all, sync_signals[i]);
  sigprocmask(SIG_BLOCK, all, old);
}
