/* A VM-mode container's network: the interface an engine (CNI, podman,
 * docker) set up in the container's network namespace on the host reaches
 * the guest as a virtio-net device, and the guest gives it the same MAC,
 * MTU, addresses and routes inside the container.
 *
 * On the host, a tap device is made beside the interface and traffic is
 * redirected both ways with tc (an ingress qdisc on each, a u32 filter that
 * matches every frame, mirred to the other), so the namespace's own stack
 * sees none of the interface's frames: the guest answers for its address.
 * The interface keeps its configuration, which the engine reads back. */
#ifndef NOOK_NET_VMNET_H
#define NOOK_NET_VMNET_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"

#define NET_VM_MAX_ADDRS 16
#define NET_VM_MAX_ROUTES 32

struct net_vm_addr {
  uint8_t family, prefixlen;
  uint8_t local[16];
};

struct net_vm_route {
  uint8_t family, dst_len;
  uint8_t has_gateway;
  uint8_t dst[16], gateway[16];
  uint32_t priority;
};

/* The interface the guest takes over. */
struct net_vm_link {
  char name[IFNAMSIZ];
  uint8_t mac[6];
  uint32_t mtu;
  struct net_vm_addr addrs[NET_VM_MAX_ADDRS];
  size_t n_addrs;
  struct net_vm_route routes[NET_VM_MAX_ROUTES];
  size_t n_routes;
  int index;     /* on the host, in the container's namespace */
  int tap_index; /* the tap beside it */
};

/* In the network namespace of netns_fd: find the interface the guest gets
 * (the one with the default route, else the first Ethernet one that is up),
 * make a tap beside it, redirect the two into each other, and describe it
 * in *link.  Returns 1 with *tap_fd (the tap's queue, for the VMM), 0 when
 * the namespace has no such interface (only loopback: nothing to do), -1 on
 * error.  *ignored (allocated, or NULL) names other interfaces the guest
 * does not get. */
int net_vm_link_prepare(int netns_fd, struct net_vm_link *link, int *tap_fd, char **ignored,
                        nook_error_t *err);

/* Undo the redirection on the interface (the tap goes with its last fd)
 * if it is still this link's: a redirect to its tap, or to a device that
 * is gone; best effort: the namespace may be gone. */
void net_vm_link_release(int netns_fd, const struct net_vm_link *link);

/* What release needs, as a line kept beside the container's state ("INDEX
 * TAP_INDEX"), so that a delete after a killed monitor can undo it; the
 * parse returns -1 on anything else. */
char *net_vm_link_record(const struct net_vm_link *link);
int net_vm_link_from_record(const char *text, struct net_vm_link *link);

/* The link as text for the control channel, and back ("nic NAME MAC MTU",
 * then "addr ..." and "route ..." lines); decode checks every field. */
char *net_vm_link_encode(const struct net_vm_link *link);
int net_vm_link_decode(const char *text, struct net_vm_link *link, nook_error_t *err);

/* In the guest: move its (one) virtio-net interface into the network
 * namespace of process pid, named, addressed and routed as the host's. */
int net_vm_link_apply(const struct net_vm_link *link, pid_t pid, nook_error_t *err);

#endif
