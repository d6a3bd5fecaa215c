/* The JSON lines of `events`, in runc's format (runc's types/events.go as
 * runc 1.1 writes it, Go's omitempty rules included), plus what cgroup v2
 * adds; see nook-events(8) for the extra keys. */
#ifndef NOOK_CGROUPS_STATS_JSON_H
#define NOOK_CGROUPS_STATS_JSON_H

#include <yajl/yajl_gen.h>

#include "cgroup.h"

/* {"type":"stats","id":ID,"data":{...}}, compact, allocated. */
char *stats_event_json(const char *id, const struct cgroup_stats *s);
/* The same with nook's data.vmm (VM mode: the VMM's own usage on the host,
 * in the same shape as the container's), when vmm is not NULL. */
char *stats_event_json_vmm(const char *id, const struct cgroup_stats *s,
                           const struct cgroup_stats *vmm);
/* The members cpu, memory, pids, blkio and hugetlb of the data object into
 * an open map of g. */
void stats_gen_usage(yajl_gen g, const struct cgroup_stats *s);
/* {"type":"oom","id":ID} */
char *oom_event_json(const char *id);

#endif
