/* The foreground wait shared by run and exec. */
#ifndef NOOK_FOREGROUND_H
#define NOOK_FOREGROUND_H

#include <signal.h>
#include <sys/types.h>

/* Block every signal but the synchronous ones (into *all, the previous mask
 * into *old), before the process to wait for exists, so none is lost. */
void block_signals_for_forwarding(sigset_t *all, sigset_t *old);
/* Forward each signal of set to pid until it exits, reaping whatever else
 * exits meanwhile (the runtime is a subreaper) and proxying its pty when
 * pty_master >= 0.  *exit_status as runc reports it: the code, or
 * 128+signal. */
void wait_foreground(pid_t pid, int pty_master, const sigset_t *set, int *exit_status);

/* What a supervisor (nook job) adds to the foreground wait: a deadline and
 * a say over each signal.  Any member may be NULL. */
struct foreground_policy {
  /* CLOCK_MONOTONIC ns of the next deadline, or < 0 for none; asked again
   * after every event. */
  long long (*deadline)(void *data);
  /* The deadline passed. */
  void (*expired)(void *data);
  /* A signal arrived for the process: the signal to forward (0: none). */
  int (*signal)(void *data, int sig);
  /* The process exited: called before the pty proxy is waited for (which
   * ends only once every holder of the terminal is gone). */
  void (*exited)(void *data, int wstatus);
  void *data;
};

/* wait_foreground() under a policy; *wstatus is the raw wait status. */
void wait_foreground_policy(pid_t pid, int pty_master, const sigset_t *set,
                            const struct foreground_policy *policy, int *wstatus);
/* A wait status as runc reports it: the code, or 128+signal. */
int foreground_exit_status(int wstatus);

#endif
