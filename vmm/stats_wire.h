/* CHAN_STATS's answer: a container's usage figures (struct cgroup_stats)
 * as the guest init read them, in a binary form the host turns into the
 * stats line itself (cgroups/stats_json.h).  The guest writes no JSON (its
 * JSON cost ~0.2 ms a request under emulation) and the host parses none;
 * the line is generated once, by the code namespace mode uses.  Both ends
 * are the same nook binary (the initramfs carries it), so the layout is
 * native; the host still checks every count and string against the
 * payload: what the guest says is not trusted. */
#ifndef NOOK_VMM_STATS_WIRE_H
#define NOOK_VMM_STATS_WIRE_H

#include <stddef.h>

#include "../base/error.h"
#include "../cgroups/cgroup.h"

/* s as a payload (allocated in *buf, *len bytes). */
void stats_wire_encode(const struct cgroup_stats *s, char **buf, size_t *len);
/* The payload back into *s (cleared on failure: EPROTO naming what is
 * wrong).  cgroup_stats_clear() frees it. */
int stats_wire_decode(const char *data, size_t len, struct cgroup_stats *s, nook_error_t *err);

#endif
