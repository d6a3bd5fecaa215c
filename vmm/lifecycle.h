/* What the host side of VM mode's lifecycle (lifecycle.c) shares with the
 * other host-side commands (commands.c): the request to a container's
 * monitor. */
#ifndef NOOK_VMM_LIFECYCLE_H
#define NOOK_VMM_LIFECYCLE_H

#include <stddef.h>

#include "../base/error.h"
#include "channel.h"

/* One request (type, value, len bytes of data) to the monitor of the
 * container whose state directory is dirfd, and its CHAN_OK in *reply.
 * -2 (err set) when there is no monitor to answer. */
int vmm_monitor_request(int dirfd, enum chan_type type, int value, const void *data, size_t len,
                        struct chan_msg *reply, nook_error_t *err);

/* The guest nook's warnings, one a line, as this CLI's own. */
void vmm_warn_lines(const char *text, size_t len);

#endif
