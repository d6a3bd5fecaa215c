/* Loopback up (an ioctl), and linux.netDevices moved into the container's
 * network namespace with their permanent global addresses (rtnetlink through
 * libmnl). */
#include "net.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/fdpass.h"
#include "../base/utils.h"

#ifndef MNL_SOCKET_DUMP_SIZE
#define MNL_SOCKET_DUMP_SIZE 32768
#endif

struct nl {
  struct mnl_socket *sock;
  unsigned portid, seq;
};

static void nl_close(struct nl *nl)
{
  if (nl->sock != NULL)
    mnl_socket_close(nl->sock);
  nl->sock = NULL;
}

static int nl_open(struct nl *nl, nook_error_t *err)
{
  nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl->sock == NULL)
    return nook_error(err, errno, "open a netlink socket");
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    nl_close(nl);
    return nook_error(err, e, "bind the netlink socket");
  }
  nl->portid = mnl_socket_get_portid(nl->sock);
  nl->seq = (unsigned)time(NULL);
  return 0;
}

/* Sends one request and feeds the replies to cb until the ACK or the end of
 * the dump; a netlink error comes back as errno. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  char buf[MNL_SOCKET_DUMP_SIZE];
  nlh->nlmsg_seq = ++nl->seq;
  if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
    return -1;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    int r = mnl_cb_run(buf, (size_t)n, nl->seq, nl->portid, cb, data);
    if (r <= MNL_CB_STOP)
      return r;
  }
}

static struct ifinfomsg *link_request(char *buf, uint16_t type, uint16_t flags, int index)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return ifi;
}

/* index 0: by name. */
static int link_up(struct nl *nl, int index, const char *name)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifinfomsg *ifi = link_request(buf, RTM_NEWLINK, NLM_F_ACK, index);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
  if (index == 0)
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  return nl_talk(nl, nlh, NULL, NULL);
}

/* One ioctl, not a netlink round trip: the same dev_change_flags in the
 * kernel without the netlink socket's set-up, bind and reply (about 0.1 ms of
 * a ~5 ms run, docs/benchmarks.md).  AF_UNIX: every family's socket reaches
 * the device ioctls, and a unix socket is the cheapest to make. */
int net_loopback_up(nook_error_t *err)
{
  cleanup_close int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return nook_error(err, errno, "bring up the loopback device: socket");
  struct ifreq ifr = {0};
  memcpy(ifr.ifr_name, "lo", sizeof("lo"));
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return nook_error(err, errno, "bring up the loopback device");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    return nook_error(err, errno, "bring up the loopback device");
  return 0;
}

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

static void copy_attr(const struct nlattr *a, uint8_t *dst, uint8_t *len)
{
  uint16_t n = mnl_attr_get_payload_len(a);
  if (n <= 16) {
    memcpy(dst, mnl_attr_get_payload(a), n);
    *len = (uint8_t)n;
  }
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
  struct addr_list *l = data;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
  if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != l->index ||
      ifa->ifa_scope != RT_SCOPE_UNIVERSE)
    return MNL_CB_OK;
  struct addr a = {.family = ifa->ifa_family, .prefixlen = ifa->ifa_prefixlen};
  a.flags = ifa->ifa_flags;
  const struct nlattr *attr;
  mnl_attr_for_each(attr, nlh, sizeof(*ifa))
  {
    switch (mnl_attr_get_type(attr)) {
    case IFA_FLAGS: /* the full 32 bits; ifa_flags has only 8 */
      if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        a.flags = mnl_attr_get_u32(attr);
      break;
    case IFA_LOCAL:
      copy_attr(attr, a.local, &a.local_len);
      break;
    case IFA_ADDRESS:
      copy_attr(attr, a.address, &a.address_len);
      break;
    case IFA_BROADCAST:
      copy_attr(attr, a.broadcast, &a.broadcast_len);
      break;
    }
  }
  /* config-linux.md: only permanent addresses of global scope move along. */
  if (!(a.flags & IFA_F_PERMANENT) || (a.local_len == 0 && a.address_len == 0))
    return MNL_CB_OK;
  l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
  l->v[l->n++] = a;
  return MNL_CB_OK;
}

static int collect_addrs(struct nl *nl, struct addr_list *l)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
  ifa->ifa_family = AF_UNSPEC;
  return nl_talk(nl, nlh, addr_cb, l);
}

static int add_addr(struct nl *nl, int index, const struct addr *a)
{
  /* Flags a user may set; the rest describe state the kernel owns. */
  const uint32_t settable = IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE |
                            IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
  ifa->ifa_family = a->family;
  ifa->ifa_prefixlen = a->prefixlen;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)index;
  ifa->ifa_flags = (uint8_t)(a->flags & settable);
  if (a->local_len)
    mnl_attr_put(nlh, IFA_LOCAL, a->local_len, a->local);
  if (a->address_len)
    mnl_attr_put(nlh, IFA_ADDRESS, a->address_len, a->address);
  if (a->broadcast_len)
    mnl_attr_put(nlh, IFA_BROADCAST, a->broadcast_len, a->broadcast);
  mnl_attr_put_u32(nlh, IFA_FLAGS, a->flags & settable);
  if (nl_talk(nl, nlh, NULL, NULL) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

struct link_info {
  int index;
  char name[IFNAMSIZ];
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
  struct link_info *li = data;
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  if (nlh->nlmsg_type != RTM_NEWLINK)
    return MNL_CB_OK;
  li->index = ifi->ifi_index;
  const struct nlattr *attr;
  mnl_attr_for_each(attr, nlh, sizeof(*ifi))
  {
    if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
      snprintf(li->name, sizeof(li->name), "%s", mnl_attr_get_str(attr));
  }
  return MNL_CB_OK;
}

/* index 0: by name. */
static int get_link(struct nl *nl, int index, const char *name, struct link_info *li)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  link_request(buf, RTM_GETLINK, NLM_F_ACK, index);
  struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
  if (index == 0)
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  memset(li, 0, sizeof(*li));
  return nl_talk(nl, nlh, link_cb, li);
}

/* Does `name` fit the template `pat` ("eth%d")? */
static bool name_matches(const char *name, const char *pat)
{
  const char *p = strstr(pat, "%d");
  size_t pre = (size_t)(p - pat), post = strlen(p + 2), n = strlen(name);
  if (n <= pre + post || strncmp(name, pat, pre) != 0 || strcmp(name + n - post, p + 2) != 0)
    return false;
  for (size_t i = pre; i < n - post; i++)
    if (name[i] < '0' || name[i] > '9')
      return false;
  return true;
}

/* Configures a device just moved into the namespace nl talks to.  With a name
 * template the kernel picked the name: find the device by its index, which a
 * move keeps unless it is taken, and check the name fits. */
static int setup_moved(struct nl *nl, int index, const char *name, const struct addr_list *addrs,
                       nook_error_t *err)
{
  struct link_info li;
  bool tmpl = strstr(name, "%d") != NULL;
  if (get_link(nl, tmpl ? index : 0, name, &li) < 0 || (tmpl && !name_matches(li.name, name)))
    return nook_error(err, tmpl ? 0 : errno, "find it in the container's network namespace");
  for (size_t i = 0; i < addrs->n; i++)
    if (add_addr(nl, li.index, &addrs->v[i]) < 0)
      return nook_error(err, errno, "add address #%zu to %s", i, li.name);
  if (link_up(nl, li.index, NULL) < 0)
    return nook_error(err, errno, "bring up %s", li.name);
  return 0;
}

/* The fd and errno a helper sends back; see nl_open_in(). */
static int recv_fd(int sock, int *fd, int *e)
{
  struct iovec iov = {.iov_base = e, .iov_len = sizeof(*e)};
  int passed = -1;
  ssize_t r = fdpass_recv(sock, &iov, 1, 0, &passed);
  if (r != sizeof(*e)) {
    if (passed >= 0)
      close(passed);
    return -1;
  }
  if (passed >= 0)
    *fd = passed;
  return 0;
}

/* A netlink socket that lives in the network namespace of netns_fd.  A
 * forked helper joins the namespace and makes it, so the runtime itself never
 * leaves its own; sockets keep the namespace they were made in. */
static int nl_open_in(int netns_fd, struct nl *nl, nook_error_t *err)
{
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
    return nook_error(err, errno, "socketpair");
  cleanup_close int mine = sp[0], theirs = sp[1];
  pid_t pid = fork();
  if (pid < 0)
    return nook_error(err, errno, "fork");
  if (pid == 0) {
    int fd = -1, e = 0;
    if (setns(netns_fd, CLONE_NEWNET) < 0 ||
        (fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0)
      e = errno;
    struct iovec iov = {.iov_base = &e, .iov_len = sizeof(e)};
    _exit(fdpass_send(theirs, &iov, 1, fd) < 0);
  }
  close(steal_fd(&theirs));
  int fd = -1, e = 0;
  int r = recv_fd(mine, &fd, &e);
  int recv_errno = errno;
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return nook_error(err, recv_errno, "receive a netlink socket from the helper");
  if (fd < 0)
    return nook_error(err, e, "open a netlink socket in the container's network namespace");
  nl->sock = mnl_socket_fdopen(fd);
  if (nl->sock == NULL) {
    int e2 = errno;
    close(fd);
    return nook_error(err, e2, "mnl_socket_fdopen");
  }
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e2 = errno;
    nl_close(nl);
    return nook_error(err, e2, "bind the netlink socket");
  }
  nl->portid = mnl_socket_get_portid(nl->sock);
  nl->seq = (unsigned)time(NULL);
  return 0;
}

static int move_device(struct nl *host, struct nl *target, const struct oci_net_device *d,
                       int netns_fd, nook_error_t *err)
{
  const char *name = d->name ? d->name : d->host_name;
  int index = (int)if_nametoindex(d->host_name);
  if (index == 0)
    return nook_error(err, errno, "find it in the runtime's network namespace");

  /* The kernel moves first and renames after, so a taken name would fail
   * only once the device is gone from the host: check before. */
  struct link_info li;
  if (strstr(name, "%d") == NULL && get_link(target, 0, name, &li) == 0)
    return nook_error(err, EEXIST, "a device \"%s\" exists in the container's network namespace",
                      name);

  struct addr_list addrs = {.index = index};
  int r = collect_addrs(host, &addrs);
  cleanup_free struct addr *owned = addrs.v;
  (void)owned; /* only there to be freed */
  if (r < 0)
    return nook_error(err, errno, "list its addresses");

  /* Rename and move in one request: the new name is applied in the target
   * namespace, so it cannot clash with a host device. */
  char buf[MNL_SOCKET_BUFFER_SIZE];
  link_request(buf, RTM_NEWLINK, NLM_F_ACK, index);
  struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (nl_talk(host, nlh, NULL, NULL) < 0)
    return nook_error(err, errno, "move it into the container's network namespace as \"%s\"", name);
  return setup_moved(target, index, name, &addrs, err);
}

int net_move_devices(const struct oci_linux *l, int netns_fd, nook_error_t *err)
{
  if (l == NULL || l->n_net_devices == 0)
    return 0;
  struct nl host = {0}, target = {0};
  if (nl_open(&host, err) < 0)
    return -1;
  int r = nl_open_in(netns_fd, &target, err);
  for (size_t i = 0; i < l->n_net_devices && r == 0; i++) {
    const struct oci_net_device *d = &l->net_devices[i];
    if (strlen(d->host_name) >= IFNAMSIZ || (d->name && strlen(d->name) >= IFNAMSIZ))
      r = nook_error(err, 0, "linux.netDevices[\"%s\"]: name too long", d->host_name);
    else if (move_device(&host, &target, d, netns_fd, err) < 0)
      r = nook_error_wrap(err, "linux.netDevices[\"%s\"]", d->host_name);
  }
  nl_close(&target);
  nl_close(&host);
  return r < 0 ? -1 : 0;
}
