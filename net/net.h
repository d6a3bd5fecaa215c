/* Network setup inside a new network namespace, through rtnetlink (netlink.h). */
#ifndef NOOK_NET_H
#define NOOK_NET_H

#include "../base/error.h"
#include "../oci/config.h"

/* Bring up `lo` in the caller's network namespace. */
int net_loopback_up(nook_error_t *err);

/* Move linux.netDevices from the runtime's network namespace into the one
 * referred to by netns_fd, renaming and bringing them up, keeping their
 * permanent global addresses (config-linux.md "Network Devices"). */
int net_move_devices(const struct oci_linux *l, int netns_fd, nook_error_t *err);

#endif
