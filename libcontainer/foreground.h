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

#endif
