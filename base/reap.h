/* Ending a process this runtime started, on an error path. */
#ifndef NOOK_REAP_H
#define NOOK_REAP_H

#include <sys/types.h>

/* SIGKILL `pid` and wait until it is gone, so it leaves no zombie: the wait
 * blocks (a SIGKILLed process exits promptly; WNOHANG right after the kill
 * usually finds it still running), retries EINTR and uses __WALL so children
 * cloned without SIGCHLD count too.  A pid that is not our child (a
 * grandchild) is only killed: the wait fails with ECHILD at once.  pid <= 0
 * does nothing. */
void kill_and_reap(pid_t pid);

#endif
