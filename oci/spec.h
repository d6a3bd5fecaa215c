/* `nook spec`: the default config.json (runc's defaults: /bin/sh with a
 * terminal, the default mounts, masked and read-only paths, namespaces). */
#ifndef NOOK_OCI_SPEC_H
#define NOOK_OCI_SPEC_H

#include <stdbool.h>

/* rootless: user namespace with mappings for the caller's uid/gid, no
 * network namespace, bind mounts of /sys, as runc --rootless.  cgroupns: list
 * a cgroup namespace (runc does where the host is pure cgroup v2; the caller
 * decides, oci/ knows nothing of the host).  Returns an allocated JSON
 * document, tab-indented when pretty (for people: `nook spec`), compact when
 * only nook reads it (`nook job`: a third of the bytes to write and lex). */
char *oci_default_spec(bool rootless, bool cgroupns, unsigned host_uid, unsigned host_gid,
                       bool pretty);

/* Internal to oci/spec*.c: write the "seccomp" member of linux
 * (spec_seccomp.c).  g is a yajl_gen. */
struct yajl_gen_t;
void oci_spec_gen_seccomp(struct yajl_gen_t *g);

#endif
