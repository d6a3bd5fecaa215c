/* Loopback up (an ioctl), and linux.netDevices moved into the container's
 * network namespace with their permanent global addresses (rtnetlink,
 * netlink.c). */
#include "net.h"

#include <errno.h>
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
#include <unistd.h>

#include "../base/fdpass.h"
#include "../base/utils.h"
#include "internal.h"
#include "netlink.h"

int net_nl_open(struct nl_sock *nl, nook_error_t *err)
{
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return nook_error(err, errno, "open a netlink socket");
  if (nl_sock_open(nl, fd) < 0)
    return nook_error(err, errno, "bind the netlink socket");
  return 0;
}

struct ifinfomsg *net_link_request(struct nl_req *r, uint16_t type, int index)
{
  struct ifinfomsg *ifi = nl_req_init(r, type, 0, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return ifi;
}

int net_link_up(struct nl_sock *nl, int index)
{
  struct nl_req r;
  struct ifinfomsg *ifi = net_link_request(&r, RTM_NEWLINK, index);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return nl_talk(nl, &r, NULL, NULL);
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

void net_copy_attr(const struct nlattr *a, uint8_t *dst, uint8_t *len)
{
  size_t n = nl_attr_len(a);
  if (n <= 16) {
    memcpy(dst, nl_attr_data(a), n);
    *len = (uint8_t)n;
  }
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
  struct addr_list *l = data;
  const struct nlattr *tb[IFA_FLAGS + 1];
  if (nlh->nlmsg_type != RTM_NEWADDR)
    return 0;
  if (nl_attrs(nlh, sizeof(struct ifaddrmsg), tb, IFA_FLAGS) < 0)
    return -1;
  const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
  if ((int)ifa->ifa_index != l->index || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
    return 0;
  struct addr a = {.family = ifa->ifa_family, .prefixlen = ifa->ifa_prefixlen};
  a.flags = ifa->ifa_flags;
  /* IFA_FLAGS: the full 32 bits; ifa_flags has only 8. */
  if (tb[IFA_FLAGS] != NULL)
    nl_attr_u32(tb[IFA_FLAGS], &a.flags);
  if (tb[IFA_LOCAL] != NULL)
    net_copy_attr(tb[IFA_LOCAL], a.local, &a.local_len);
  if (tb[IFA_ADDRESS] != NULL)
    net_copy_attr(tb[IFA_ADDRESS], a.address, &a.address_len);
  if (tb[IFA_BROADCAST] != NULL)
    net_copy_attr(tb[IFA_BROADCAST], a.broadcast, &a.broadcast_len);
  /* config-linux.md: only permanent addresses of global scope move along. */
  if (!(a.flags & IFA_F_PERMANENT) || (a.local_len == 0 && a.address_len == 0))
    return 0;
  l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
  l->v[l->n++] = a;
  return 0;
}

int net_collect_addrs(struct nl_sock *nl, struct addr_list *l)
{
  struct nl_req r;
  struct ifaddrmsg *ifa = nl_req_init(&r, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
  ifa->ifa_family = AF_UNSPEC;
  return nl_talk(nl, &r, addr_cb, l);
}

int net_add_addr(struct nl_sock *nl, int index, const struct addr *a)
{
  /* Flags a user may set; the rest describe state the kernel owns. */
  const uint32_t settable = IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE |
                            IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN;
  struct nl_req r;
  struct ifaddrmsg *ifa = nl_req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
  ifa->ifa_family = a->family;
  ifa->ifa_prefixlen = a->prefixlen;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)index;
  ifa->ifa_flags = (uint8_t)(a->flags & settable);
  if (a->local_len)
    nl_put(&r, IFA_LOCAL, a->local, a->local_len);
  if (a->address_len)
    nl_put(&r, IFA_ADDRESS, a->address, a->address_len);
  if (a->broadcast_len)
    nl_put(&r, IFA_BROADCAST, a->broadcast, a->broadcast_len);
  nl_put_u32(&r, IFA_FLAGS, a->flags & settable);
  if (nl_talk(nl, &r, NULL, NULL) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
  struct link_info *li = data;
  const struct nlattr *tb[IFLA_IFNAME + 1];
  if (nlh->nlmsg_type != RTM_NEWLINK)
    return 0;
  if (nl_attrs(nlh, sizeof(struct ifinfomsg), tb, IFLA_IFNAME) < 0)
    return -1;
  const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
  li->index = ifi->ifi_index;
  const char *name = tb[IFLA_IFNAME] ? nl_attr_str(tb[IFLA_IFNAME]) : NULL;
  if (name != NULL)
    snprintf(li->name, sizeof(li->name), "%s", name);
  return 0;
}

/* index 0: by name. */
int net_get_link(struct nl_sock *nl, int index, const char *name, struct link_info *li)
{
  struct nl_req r;
  net_link_request(&r, RTM_GETLINK, index);
  if (index == 0)
    nl_put_strz(&r, IFLA_IFNAME, name);
  memset(li, 0, sizeof(*li));
  return nl_talk(nl, &r, link_cb, li);
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
static int setup_moved(struct nl_sock *nl, int index, const char *name,
                       const struct addr_list *addrs, nook_error_t *err)
{
  struct link_info li;
  bool tmpl = strstr(name, "%d") != NULL;
  if (net_get_link(nl, tmpl ? index : 0, name, &li) < 0 || (tmpl && !name_matches(li.name, name)))
    return nook_error(err, tmpl ? 0 : errno, "find it in the container's network namespace");
  for (size_t i = 0; i < addrs->n; i++)
    if (net_add_addr(nl, li.index, &addrs->v[i]) < 0)
      return nook_error(err, errno, "add address #%zu to %s", i, li.name);
  if (net_link_up(nl, li.index) < 0)
    return nook_error(err, errno, "bring up %s", li.name);
  return 0;
}

/* The fd and errno a helper sends back; see net_fd_in(). */
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

int net_fd_in(int netns_fd, net_fd_maker *make, void *arg, int *out, nook_error_t *err)
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
    if (setns(netns_fd, CLONE_NEWNET) < 0 || (fd = make(arg)) < 0)
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
    return nook_error(err, recv_errno, "receive an fd from the helper in the namespace");
  if (fd < 0)
    return nook_error(err, e, "in the container's network namespace");
  *out = fd;
  return 0;
}

static int netlink_socket(void *arg)
{
  (void)arg;
  return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

int net_nl_open_in(int netns_fd, struct nl_sock *nl, nook_error_t *err)
{
  int fd;
  if (net_fd_in(netns_fd, netlink_socket, NULL, &fd, err) < 0)
    return nook_error_wrap(err, "open a netlink socket");
  if (nl_sock_open(nl, fd) < 0)
    return nook_error(err, errno, "bind the netlink socket");
  return 0;
}

static int move_device(struct nl_sock *host, struct nl_sock *target, const struct oci_net_device *d,
                       int netns_fd, nook_error_t *err)
{
  const char *name = d->name ? d->name : d->host_name;
  int index = (int)if_nametoindex(d->host_name);
  if (index == 0)
    return nook_error(err, errno, "find it in the runtime's network namespace");

  /* The kernel moves first and renames after, so a taken name would fail
   * only once the device is gone from the host: check before. */
  struct link_info li;
  if (strstr(name, "%d") == NULL && net_get_link(target, 0, name, &li) == 0)
    return nook_error(err, EEXIST, "a device \"%s\" exists in the container's network namespace",
                      name);

  struct addr_list addrs = {.index = index};
  int r = net_collect_addrs(host, &addrs);
  cleanup_free struct addr *owned = addrs.v;
  (void)owned; /* only there to be freed */
  if (r < 0)
    return nook_error(err, errno, "list its addresses");

  /* Rename and move in one request: the new name is applied in the target
   * namespace, so it cannot clash with a host device. */
  struct nl_req move;
  net_link_request(&move, RTM_NEWLINK, index);
  nl_put_u32(&move, IFLA_NET_NS_FD, (uint32_t)netns_fd);
  nl_put_strz(&move, IFLA_IFNAME, name);
  if (nl_talk(host, &move, NULL, NULL) < 0)
    return nook_error(err, errno, "move it into the container's network namespace as \"%s\"", name);
  return setup_moved(target, index, name, &addrs, err);
}

int net_move_devices(const struct oci_linux *l, int netns_fd, nook_error_t *err)
{
  if (l == NULL || l->n_net_devices == 0)
    return 0;
  struct nl_sock host = {.fd = -1}, target = {.fd = -1};
  if (net_nl_open(&host, err) < 0)
    return -1;
  int r = net_nl_open_in(netns_fd, &target, err);
  for (size_t i = 0; i < l->n_net_devices && r == 0; i++) {
    const struct oci_net_device *d = &l->net_devices[i];
    if (strlen(d->host_name) >= IFNAMSIZ || (d->name && strlen(d->name) >= IFNAMSIZ))
      r = nook_error(err, 0, "linux.netDevices[\"%s\"]: name too long", d->host_name);
    else if (move_device(&host, &target, d, netns_fd, err) < 0)
      r = nook_error_wrap(err, "linux.netDevices[\"%s\"]", d->host_name);
  }
  nl_sock_close(&target);
  nl_sock_close(&host);
  return r < 0 ? -1 : 0;
}
