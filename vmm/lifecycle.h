/* What the host side of VM mode's lifecycle (lifecycle.c) shares with the
 * other host-side commands (commands.c): the request to a container's
 * monitor. */
#ifndef NOOK_VMM_LIFECYCLE_H
#define NOOK_VMM_LIFECYCLE_H

#include <stddef.h>

#include "../base/error.h"
#include "../libcontainer/state.h"
#include "../oci/config.h"
#include "channel.h"

/* One request (type, value, len bytes of data) to the monitor of the
 * container whose state directory is dirfd, and its CHAN_OK in *reply.
 * -2 (err set) when there is no monitor to answer. */
int vmm_monitor_request(int dirfd, enum chan_type type, int value, const void *data, size_t len,
                        struct chan_msg *reply, nook_error_t *err);

/* CHAN_NOOK: the guest's nook with argv (after its global options) and
 * `in` as its stdin, through the monitor of dirfd; its warnings logged as
 * ours, *out (when out is not NULL) its stdout.  -2 (err set) when no
 * monitor answers. */
int vmm_monitor_nook(int dirfd, char *const *argv, const char *in, size_t in_len, char **out,
                     size_t *out_len, nook_error_t *err);

/* The guest nook's warnings, one a line, as this CLI's own. */
void vmm_warn_lines(const char *text, size_t len);

/* A VM-mode container's state directory made under root (not published:
 * the caller adds its files, writes *st and publishes sn) with the config
 * text the host's hooks and delete read later, and *st's fields filled. */
int vmm_state_begin(const char *root, const char *id, const char *bundle, const char *rootfs,
                    const char *backend, const char *text, size_t len, struct state_new *sn,
                    struct nook_state *st, nook_error_t *err);

/* The state the host's hooks get on their stdin, with status. */
char *vmm_hook_state_json(const struct oci_config *c, const struct nook_state *st,
                          const char *status);

#endif
