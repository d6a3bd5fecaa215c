/* `ps -ef`'s table made from /proc, for where ps(1) is missing: a VM-mode
 * guest (its initramfs holds only nook), or a host without procps. */
#ifndef NOOK_PS_TABLE_H
#define NOOK_PS_TABLE_H

#include <stddef.h>
#include <sys/types.h>

/* The header and a row per pid still there, to stdout: UID PID PPID C
 * STIME TTY TIME CMD, as procps prints them. */
void ps_table_print(const pid_t *pids, size_t n);

#endif
