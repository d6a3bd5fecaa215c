/* What net.c and vmnet.c share: rtnetlink sockets (also in another network
 * namespace), links and their permanent global addresses. */
#ifndef NOOK_NET_INTERNAL_H
#define NOOK_NET_INTERNAL_H

#include <net/if.h>
#include <stdint.h>

#include "../base/error.h"
#include "netlink.h"

/* One address to carry over: the attributes `ip addr add` would need. */
struct addr {
  uint8_t family, prefixlen;
  uint32_t flags;
  uint8_t local_len, address_len, broadcast_len;
  uint8_t local[16], address[16], broadcast[16];
};

struct addr_list {
  int index;
  struct addr *v;
  size_t n;
};

struct link_info {
  int index;
  char name[IFNAMSIZ];
};

int net_nl_open(struct nl_sock *nl, nook_error_t *err);

/* Makes an fd (or -1 with errno) in the helper of net_fd_in(). */
typedef int net_fd_maker(void *arg);
/* *out: make(arg)'s fd, made in the network namespace of netns_fd by a
 * forked helper that joins it and passes the fd back: the caller never
 * leaves its own namespace, and sockets and taps keep the namespace they
 * were made in. */
int net_fd_in(int netns_fd, net_fd_maker *make, void *arg, int *out, nook_error_t *err);
/* A netlink socket in the network namespace of netns_fd (net_fd_in()). */
int net_nl_open_in(int netns_fd, struct nl_sock *nl, nook_error_t *err);
/* An address attribute's bytes (at most 16) into dst, its length in *len. */
void net_copy_attr(const struct nlattr *a, uint8_t *dst, uint8_t *len);
struct ifinfomsg *net_link_request(struct nl_req *r, uint16_t type, int index);
int net_link_up(struct nl_sock *nl, int index);
/* Every permanent address of global scope of link l->index. */
int net_collect_addrs(struct nl_sock *nl, struct addr_list *l);
int net_add_addr(struct nl_sock *nl, int index, const struct addr *a);
/* index 0: by name. */
int net_get_link(struct nl_sock *nl, int index, const char *name, struct link_info *li);

#endif
