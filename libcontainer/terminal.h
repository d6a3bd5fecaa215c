/* Terminals: the container's pty, the console socket hand-off, and the pty
 * proxy `run` uses when no console socket is given. */
#ifndef NOOK_TERMINAL_H
#define NOOK_TERMINAL_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

#include "../base/error.h"

/* Container side: open a new pty pair from the devpts mounted at
 * /dev/pts (after pivot_root), make the slave the controlling terminal and
 * stdin/stdout/stderr, apply the console size when given, bind-mount the
 * slave over /dev/console when `console` and /dev/console exists in the
 * rootfs (the init process; exec leaves the container's console alone).
 * The slave is given to `owner`, the process's uid, group unchanged (tty).
 * Returns the master fd (to be sent to the parent). */
int terminal_setup_container(bool has_size, uint32_t height, uint32_t width, bool console,
                             uid_t owner, int *master_out, nook_error_t *err);

/* Runtime side: connect to the AF_UNIX console socket and send the master
 * with SCM_RIGHTS (as runc: one message, the fd, payload the pty name). */
int terminal_send_to_socket(const char *socket_path, int master, nook_error_t *err);

/* The other end, where nook itself holds the console socket (VM mode: the
 * guest init for the guest's nook, `run -t` for its monitor): accept one
 * connection on the listening socket lfd and take the master sent over it.
 * `where` names the socket in errors. */
int terminal_receive_from_socket(int lfd, const char *where, nook_error_t *err);

/* Runtime side, for `run` in the foreground: copy between our stdin/stdout
 * and the master until the master hangs up; put our tty in raw mode and
 * forward window size changes.  Returns when the container side closes. */
int terminal_proxy(int master, nook_error_t *err);

#endif
