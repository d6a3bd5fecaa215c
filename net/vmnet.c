/* A VM-mode container's interface handed to the guest: see vmnet.h. */
#include "vmnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/utils.h"
#include "internal.h"

/* The taps nook makes: never taken for the container's own interface. */
#define TAP_PREFIX "nookvm"

/* ---- the host side -------------------------------------------------------- */

struct link_scan {
  bool any_state; /* down ones too (the guest's) */
  struct net_vm_link *v;
  size_t n;
};

static int links_cb(const struct nlmsghdr *h, void *data)
{
  struct link_scan *s = data;
  const struct nlattr *tb[IFLA_MTU + 1];
  if (h->nlmsg_type != RTM_NEWLINK)
    return 0;
  if (nl_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MTU) < 0)
    return -1;
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  const char *name = tb[IFLA_IFNAME] ? nl_attr_str(tb[IFLA_IFNAME]) : NULL;
  if (ifi->ifi_type != ARPHRD_ETHER || (!s->any_state && !(ifi->ifi_flags & IFF_UP)) ||
      name == NULL || strlen(name) >= IFNAMSIZ || has_prefix(name, TAP_PREFIX) ||
      tb[IFLA_ADDRESS] == NULL || nl_attr_len(tb[IFLA_ADDRESS]) != 6)
    return 0;
  s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
  struct net_vm_link *l = &s->v[s->n++];
  memset(l, 0, sizeof(*l));
  snprintf(l->name, sizeof(l->name), "%s", name);
  memcpy(l->mac, nl_attr_data(tb[IFLA_ADDRESS]), 6);
  l->mtu = 1500;
  if (tb[IFLA_MTU] != NULL)
    nl_attr_u32(tb[IFLA_MTU], &l->mtu);
  l->index = ifi->ifi_index;
  return 0;
}

/* The main table's routes the namespace's kernel did not make itself, by
 * interface, from one dump. */
struct route_scan {
  int default_oif; /* the first default route's interface */
  struct {
    int oif;
    struct net_vm_route r;
  } v[NET_VM_MAX_ROUTES];
  size_t n;
};

static int routes_cb(const struct nlmsghdr *h, void *data)
{
  struct route_scan *s = data;
  const struct nlattr *tb[RTA_TABLE + 1];
  if (h->nlmsg_type != RTM_NEWROUTE)
    return 0;
  if (nl_attrs(h, sizeof(struct rtmsg), tb, RTA_TABLE) < 0)
    return -1;
  const struct rtmsg *rt = NLMSG_DATA(h);
  uint32_t table = rt->rtm_table, oif = 0, prio = 0;
  if (tb[RTA_TABLE] != NULL)
    nl_attr_u32(tb[RTA_TABLE], &table);
  if (tb[RTA_OIF] != NULL)
    nl_attr_u32(tb[RTA_OIF], &oif);
  if (tb[RTA_PRIORITY] != NULL)
    nl_attr_u32(tb[RTA_PRIORITY], &prio);
  /* The kernel's own routes (a prefix's, the local table's) the guest's
   * kernel makes again from the addresses. */
  if (table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST || rt->rtm_protocol == RTPROT_KERNEL ||
      (rt->rtm_dst_len != 0 && tb[RTA_DST] == NULL))
    return 0;
  if (rt->rtm_dst_len == 0 && s->default_oif == 0)
    s->default_oif = (int)oif;
  if (s->n == NET_VM_MAX_ROUTES)
    return 0;
  s->v[s->n].oif = (int)oif;
  struct net_vm_route *r = &s->v[s->n++].r;
  memset(r, 0, sizeof(*r));
  r->family = rt->rtm_family;
  r->dst_len = rt->rtm_dst_len;
  r->priority = prio;
  uint8_t len;
  if (tb[RTA_DST] != NULL)
    net_copy_attr(tb[RTA_DST], r->dst, &len);
  if (tb[RTA_GATEWAY] != NULL) {
    net_copy_attr(tb[RTA_GATEWAY], r->gateway, &len);
    r->has_gateway = 1;
  }
  return 0;
}

static int dump_routes(struct nl_sock *nl, struct route_scan *s)
{
  struct nl_req r;
  struct rtmsg *rt = nl_req_init(&r, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rt));
  rt->rtm_family = AF_UNSPEC;
  return nl_talk(nl, &r, routes_cb, s);
}

/* A tap's queue; made in the container's namespace (net_fd_in()), as
 * TUNSETIFF makes the device in the caller's. */
static int make_tap(void *arg)
{
  (void)arg;
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), TAP_PREFIX "%%d");
  /* IFF_VNET_HDR: QEMU then passes checksum and segmentation offloads. */
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static int tap_index(int fd, struct nl_sock *nl, int *index)
{
  struct ifreq ifr = {0};
  if (ioctl(fd, TUNGETIFF, &ifr) < 0)
    return -1;
  struct link_info li;
  if (net_get_link(nl, 0, ifr.ifr_name, &li) < 0)
    return -1;
  *index = li.index;
  return 0;
}

static int set_mtu(struct nl_sock *nl, int index, uint32_t mtu)
{
  struct nl_req r;
  net_link_request(&r, RTM_NEWLINK, index);
  nl_put_u32(&r, IFLA_MTU, mtu);
  return nl_talk(nl, &r, NULL, NULL);
}

static struct tcmsg *tc_request(struct nl_req *r, uint16_t type, uint16_t flags, int index)
{
  struct tcmsg *t = nl_req_init(r, type, flags, sizeof(*t));
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = index;
  return t;
}

static int ingress_del(struct nl_sock *nl, int index)
{
  struct nl_req r;
  struct tcmsg *t = tc_request(&r, RTM_DELQDISC, 0, index);
  t->tcm_handle = TC_H_MAKE(TC_H_INGRESS, 0);
  t->tcm_parent = TC_H_INGRESS;
  return nl_talk(nl, &r, NULL, NULL);
}

/* `tc qdisc replace dev X ingress`, then `tc filter add dev X parent ffff:
 * protocol all u32 match u32 0 0 action mirred egress redirect dev TO`. */
static int redirect(struct nl_sock *nl, int from, int to)
{
  struct nl_req r;
  struct tcmsg *t = tc_request(&r, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, from);
  t->tcm_handle = TC_H_MAKE(TC_H_INGRESS, 0);
  t->tcm_parent = TC_H_INGRESS;
  nl_put_strz(&r, TCA_KIND, "ingress");
  if (nl_talk(nl, &r, NULL, NULL) < 0)
    return -1;

  t = tc_request(&r, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, from);
  t->tcm_parent = TC_H_MAKE(TC_H_INGRESS, 0);
  t->tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));
  nl_put_strz(&r, TCA_KIND, "u32");
  struct nlattr *opts = nl_nest_start(&r, TCA_OPTIONS);
  /* One key, all zeros: mask 0 at offset 0, which every frame matches. */
  struct tc_u32_sel sel = {.flags = TC_U32_TERMINAL, .nkeys = 1};
  uint8_t match[sizeof(sel) + sizeof(struct tc_u32_key)] = {0};
  memcpy(match, &sel, sizeof(sel));
  nl_put(&r, TCA_U32_SEL, match, sizeof(match));
  struct nlattr *acts = nl_nest_start(&r, TCA_U32_ACT);
  struct nlattr *act = nl_nest_start(&r, 1);
  nl_put_strz(&r, TCA_ACT_KIND, "mirred");
  struct nlattr *aopts = nl_nest_start(&r, TCA_ACT_OPTIONS);
  struct tc_mirred m = {.action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = (__u32)to};
  nl_put(&r, TCA_MIRRED_PARMS, &m, sizeof(m));
  nl_nest_end(&r, aopts);
  nl_nest_end(&r, act);
  nl_nest_end(&r, acts);
  nl_nest_end(&r, opts);
  return nl_talk(nl, &r, NULL, NULL);
}

static void to_vm_addrs(const struct addr_list *al, struct net_vm_link *l)
{
  for (size_t i = 0; i < al->n && l->n_addrs < NET_VM_MAX_ADDRS; i++) {
    const struct addr *a = &al->v[i];
    struct net_vm_addr *o = &l->addrs[l->n_addrs++];
    memset(o, 0, sizeof(*o));
    o->family = a->family;
    o->prefixlen = a->prefixlen;
    memcpy(o->local, a->local_len ? a->local : a->address,
           a->local_len ? a->local_len : a->address_len);
  }
}

static char *names_except(const struct link_scan *s, int index)
{
  char *out = NULL;
  for (size_t i = 0; i < s->n; i++) {
    if (s->v[i].index == index)
      continue;
    char *next = NULL;
    xasprintf(&next, "%s%s%s", out ? out : "", out ? ", " : "", s->v[i].name);
    free(out);
    out = next;
  }
  return out;
}

int net_vm_link_prepare(int netns_fd, struct net_vm_link *link, int *tap_fd, char **ignored,
                        nook_error_t *err)
{
  *tap_fd = -1;
  *ignored = NULL;
  struct nl_sock nl = {.fd = -1};
  if (net_nl_open_in(netns_fd, &nl, err) < 0)
    return -1;
  struct link_scan links = {0};
  struct route_scan rs = {0};
  int ret = -1;
  struct nl_req r;
  net_link_request(&r, RTM_GETLINK, 0);
  r.u.hdr.nlmsg_flags |= NLM_F_DUMP;
  if (nl_talk(&nl, &r, links_cb, &links) < 0 || dump_routes(&nl, &rs) < 0) {
    nook_error(err, errno, "list the container's network interfaces");
    goto out;
  }
  if (links.n == 0) {
    ret = 0;
    goto out;
  }
  size_t pick = 0;
  for (size_t i = 0; i < links.n; i++)
    if (links.v[i].index == rs.default_oif)
      pick = i;
  *link = links.v[pick];
  *ignored = names_except(&links, link->index);

  struct addr_list al = {.index = link->index};
  int ar = net_collect_addrs(&nl, &al);
  to_vm_addrs(&al, link);
  free(al.v);
  if (ar < 0) {
    nook_error(err, errno, "list the addresses of %s", link->name);
    goto out;
  }
  for (size_t i = 0; i < rs.n; i++)
    if (rs.v[i].oif == link->index)
      link->routes[link->n_routes++] = rs.v[i].r;
  if (net_fd_in(netns_fd, make_tap, NULL, tap_fd, err) < 0) {
    nook_error_wrap(err, "make a tap device");
    goto out;
  }
  if (tap_index(*tap_fd, &nl, &link->tap_index) < 0 ||
      set_mtu(&nl, link->tap_index, link->mtu) < 0 || net_link_up(&nl, link->tap_index) < 0) {
    nook_error(err, errno, "set up the tap beside %s", link->name);
    goto out;
  }
  /* A monitor killed before it could undo its redirection left it: its
   * filter would steal the frames before ours. */
  ingress_del(&nl, link->index);
  if (redirect(&nl, link->index, link->tap_index) < 0 ||
      redirect(&nl, link->tap_index, link->index) < 0) {
    nook_error(err, errno, "redirect %s to its tap (tc ingress, u32, mirred)", link->name);
    ingress_del(&nl, link->index);
    goto out;
  }
  ret = 1;
out:
  if (ret < 0 && *tap_fd >= 0) {
    close(*tap_fd);
    *tap_fd = -1;
  }
  if (ret <= 0)
    free(steal_pointer(ignored));
  free(links.v);
  nl_sock_close(&nl);
  return ret;
}

/* Whether a filter of the interface's ingress is a mirred redirect to
 * `to` or to a device that is gone (the dump then says ifindex 0). */
struct ours_scan {
  uint32_t to;
  bool found;
};

static int mirred_target(const struct nlattr *act, uint32_t *ifindex)
{
  const struct nlattr *a[TCA_ACT_OPTIONS + 1], *o[TCA_MIRRED_PARMS + 1];
  if (nl_attrs_nested(act, a, TCA_ACT_OPTIONS) < 0 || a[TCA_ACT_KIND] == NULL ||
      a[TCA_ACT_OPTIONS] == NULL)
    return -1;
  const char *kind = nl_attr_str(a[TCA_ACT_KIND]);
  if (kind == NULL || strcmp(kind, "mirred") != 0 ||
      nl_attrs_nested(a[TCA_ACT_OPTIONS], o, TCA_MIRRED_PARMS) < 0 || o[TCA_MIRRED_PARMS] == NULL ||
      nl_attr_len(o[TCA_MIRRED_PARMS]) < sizeof(struct tc_mirred))
    return -1;
  struct tc_mirred m;
  memcpy(&m, nl_attr_data(o[TCA_MIRRED_PARMS]), sizeof(m));
  *ifindex = m.ifindex;
  return 0;
}

static int ours_cb(const struct nlmsghdr *h, void *data)
{
  struct ours_scan *s = data;
  const struct nlattr *tb[TCA_OPTIONS + 1], *u[TCA_U32_ACT + 1], *acts[TCA_ACT_MAX_PRIO + 1];
  if (h->nlmsg_type != RTM_NEWTFILTER || nl_attrs(h, sizeof(struct tcmsg), tb, TCA_OPTIONS) < 0 ||
      tb[TCA_KIND] == NULL || tb[TCA_OPTIONS] == NULL)
    return 0;
  const char *kind = nl_attr_str(tb[TCA_KIND]);
  if (kind == NULL || strcmp(kind, "u32") != 0 ||
      nl_attrs_nested(tb[TCA_OPTIONS], u, TCA_U32_ACT) < 0 || u[TCA_U32_ACT] == NULL ||
      nl_attrs_nested(u[TCA_U32_ACT], acts, TCA_ACT_MAX_PRIO) < 0)
    return 0;
  for (int i = 1; i <= TCA_ACT_MAX_PRIO; i++) {
    uint32_t to;
    if (acts[i] != NULL && mirred_target(acts[i], &to) == 0 && (to == s->to || to == 0))
      s->found = true;
  }
  return 0;
}

static bool redirect_is_ours(struct nl_sock *nl, int index, int to)
{
  struct nl_req r;
  struct tcmsg *t = tc_request(&r, RTM_GETTFILTER, NLM_F_DUMP, index);
  t->tcm_parent = TC_H_MAKE(TC_H_INGRESS, 0);
  struct ours_scan s = {.to = (uint32_t)to};
  return nl_talk(nl, &r, ours_cb, &s) == 0 && s.found;
}

void net_vm_link_release(int netns_fd, const struct net_vm_link *link)
{
  struct nl_sock nl = {.fd = -1};
  if (net_nl_open_in(netns_fd, &nl, NULL) < 0)
    return;
  /* Only our own: another VM's monitor may have replaced it since. */
  if (redirect_is_ours(&nl, link->index, link->tap_index))
    ingress_del(&nl, link->index);
  nl_sock_close(&nl);
}

char *net_vm_link_record(const struct net_vm_link *link)
{
  char *text = NULL;
  xasprintf(&text, "%d %d\n", link->index, link->tap_index);
  return text;
}

int net_vm_link_from_record(const char *text, struct net_vm_link *link)
{
  memset(link, 0, sizeof(*link));
  int used = -1;
  if (sscanf(text, "%d %d\n%n", &link->index, &link->tap_index, &used) != 2 || used < 0 ||
      text[used] != '\0' || text[used - 1] != '\n' || link->index <= 0 || link->tap_index <= 0)
    return -1;
  return 0;
}

/* ---- the wire --------------------------------------------------------------- */

static size_t addr_len(uint8_t family)
{
  return family == AF_INET6 ? 16 : 4;
}

static void put_ip(char **out, uint8_t family, const uint8_t *a)
{
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family, a, buf, sizeof(buf));
  char *next = NULL;
  xasprintf(&next, "%s %s", *out, buf);
  free(*out);
  *out = next;
}

static void put_text(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_text(char **out, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *add = NULL;
  if (vasprintf(&add, fmt, ap) < 0)
    abort();
  va_end(ap);
  char *next = NULL;
  xasprintf(&next, "%s%s", *out, add);
  free(add);
  free(*out);
  *out = next;
}

char *net_vm_link_encode(const struct net_vm_link *l)
{
  const uint8_t *m = l->mac;
  char *out = NULL;
  xasprintf(&out, "nic %s %02x:%02x:%02x:%02x:%02x:%02x %u\n", l->name, m[0], m[1], m[2], m[3],
            m[4], m[5], l->mtu);
  for (size_t i = 0; i < l->n_addrs; i++) {
    const struct net_vm_addr *a = &l->addrs[i];
    put_text(&out, "addr %u", a->family == AF_INET6 ? 6 : 4);
    put_ip(&out, a->family, a->local);
    put_text(&out, " %u\n", a->prefixlen);
  }
  for (size_t i = 0; i < l->n_routes; i++) {
    const struct net_vm_route *r = &l->routes[i];
    put_text(&out, "route %u", r->family == AF_INET6 ? 6 : 4);
    put_ip(&out, r->family, r->dst);
    put_text(&out, " %u", r->dst_len);
    if (r->has_gateway)
      put_ip(&out, r->family, r->gateway);
    else
      put_text(&out, " -");
    put_text(&out, " %u\n", r->priority);
  }
  return out;
}

static int parse_ip(const char *s, unsigned fam, uint8_t *family, uint8_t *out)
{
  if (fam != 4 && fam != 6)
    return -1;
  *family = fam == 6 ? AF_INET6 : AF_INET;
  return inet_pton(*family, s, out) == 1 ? 0 : -1;
}

int net_vm_link_decode(const char *text, struct net_vm_link *l, nook_error_t *err)
{
  memset(l, 0, sizeof(*l));
  cleanup_free char *copy = xstrdup(text);
  char *save = NULL;
  unsigned lineno = 0;
  bool nic = false;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    char a[64], b[64];
    unsigned fam, len, prio, mac[6];
    bool ok = false;
    if (!nic) {
      ok = sscanf(line, "nic %15s %x:%x:%x:%x:%x:%x %u", l->name, &mac[0], &mac[1], &mac[2],
                  &mac[3], &mac[4], &mac[5], &l->mtu) == 8;
      for (int i = 0; ok && i < 6; i++) {
        ok = mac[i] <= 0xff;
        l->mac[i] = (uint8_t)mac[i];
      }
      nic = ok;
    } else if (has_prefix(line, "addr ") && l->n_addrs < NET_VM_MAX_ADDRS) {
      struct net_vm_addr *ad = &l->addrs[l->n_addrs];
      ok = sscanf(line, "addr %u %63s %u", &fam, a, &len) == 3 &&
           parse_ip(a, fam, &ad->family, ad->local) == 0 && len <= addr_len(ad->family) * 8;
      ad->prefixlen = (uint8_t)len;
      l->n_addrs += ok;
    } else if (has_prefix(line, "route ") && l->n_routes < NET_VM_MAX_ROUTES) {
      struct net_vm_route *r = &l->routes[l->n_routes];
      ok = sscanf(line, "route %u %63s %u %63s %u", &fam, a, &len, b, &prio) == 5 &&
           parse_ip(a, fam, &r->family, r->dst) == 0 && len <= addr_len(r->family) * 8;
      if (ok && strcmp(b, "-") != 0) {
        uint8_t gf;
        ok = parse_ip(b, fam, &gf, r->gateway) == 0;
        r->has_gateway = 1;
      }
      r->dst_len = (uint8_t)len;
      r->priority = prio;
      l->n_routes += ok;
    }
    if (!ok)
      return nook_error(err, 0, "network link, line %u: cannot parse \"%s\"", lineno, line);
  }
  if (!nic)
    return nook_error(err, 0, "network link: no \"nic\" line");
  return 0;
}

/* ---- the guest side ------------------------------------------------------- */

/* The guest's interface: its one Ethernet device (virtio-net), still down. */
static int guest_nic(struct nl_sock *nl, int *index)
{
  struct link_scan s = {.any_state = true};
  struct nl_req r;
  net_link_request(&r, RTM_GETLINK, 0);
  r.u.hdr.nlmsg_flags |= NLM_F_DUMP;
  int ret = nl_talk(nl, &r, links_cb, &s);
  if (ret == 0 && s.n != 1) {
    errno = s.n == 0 ? ENODEV : ENOTUNIQ;
    ret = -1;
  }
  if (ret == 0)
    *index = s.v[0].index;
  free(s.v);
  return ret;
}

static int set_mac_mtu(struct nl_sock *nl, int index, const struct net_vm_link *l)
{
  struct nl_req r;
  net_link_request(&r, RTM_NEWLINK, index);
  nl_put(&r, IFLA_ADDRESS, l->mac, sizeof(l->mac));
  nl_put_u32(&r, IFLA_MTU, l->mtu);
  return nl_talk(nl, &r, NULL, NULL);
}

static int add_route(struct nl_sock *nl, int index, const struct net_vm_route *rt)
{
  struct nl_req r;
  struct rtmsg *m = nl_req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*m));
  m->rtm_family = rt->family;
  m->rtm_dst_len = rt->dst_len;
  m->rtm_table = RT_TABLE_MAIN;
  m->rtm_protocol = RTPROT_BOOT;
  m->rtm_scope = rt->has_gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  m->rtm_type = RTN_UNICAST;
  size_t n = addr_len(rt->family);
  if (rt->dst_len > 0)
    nl_put(&r, RTA_DST, rt->dst, n);
  if (rt->has_gateway)
    nl_put(&r, RTA_GATEWAY, rt->gateway, n);
  nl_put_u32(&r, RTA_OIF, (uint32_t)index);
  if (rt->priority)
    nl_put_u32(&r, RTA_PRIORITY, rt->priority);
  if (nl_talk(nl, &r, NULL, NULL) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

static int configure_moved(struct nl_sock *nl, const struct net_vm_link *l, nook_error_t *err)
{
  struct link_info li;
  if (net_get_link(nl, 0, l->name, &li) < 0)
    return nook_error(err, errno, "find %s in the container's network namespace", l->name);
  for (size_t i = 0; i < l->n_addrs; i++) {
    const struct net_vm_addr *a = &l->addrs[i];
    struct addr ad = {.family = a->family, .prefixlen = a->prefixlen};
    size_t n = addr_len(a->family);
    memcpy(ad.local, a->local, n);
    ad.local_len = (uint8_t)n;
    /* The host's namespace has checked it is unique; a guest waiting
     * for duplicate address detection would start without it. */
    ad.flags = a->family == AF_INET6 ? IFA_F_NODAD : 0;
    if (a->family == AF_INET6) {
      memcpy(ad.address, a->local, n);
      ad.address_len = (uint8_t)n;
      ad.local_len = 0;
    }
    if (net_add_addr(nl, li.index, &ad) < 0)
      return nook_error(err, errno, "add address #%zu to %s", i, l->name);
  }
  if (net_link_up(nl, li.index) < 0)
    return nook_error(err, errno, "bring up %s", l->name);
  /* Routes to the link first: a gateway must be reachable when its route
   * is added. */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < l->n_routes; i++)
      if (l->routes[i].has_gateway == pass && add_route(nl, li.index, &l->routes[i]) < 0)
        return nook_error(err, errno, "add route #%zu via %s", i, l->name);
  return 0;
}

int net_vm_link_apply(const struct net_vm_link *l, pid_t pid, nook_error_t *err)
{
  struct nl_sock nl = {.fd = -1}, target = {.fd = -1};
  int index = 0, ret = -1;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
  cleanup_close int netns = open(path, O_RDONLY | O_CLOEXEC);
  if (netns < 0)
    return nook_error(err, errno, "open the container's network namespace");
  if (net_nl_open(&nl, err) < 0)
    return -1;
  if (guest_nic(&nl, &index) < 0) {
    nook_error(err, errno, "find the guest's network device");
    goto out;
  }
  if (set_mac_mtu(&nl, index, l) < 0) {
    nook_error(err, errno, "give the guest's network device the MAC and MTU of %s", l->name);
    goto out;
  }
  struct nl_req move;
  net_link_request(&move, RTM_NEWLINK, index);
  nl_put_u32(&move, IFLA_NET_NS_FD, (uint32_t)netns);
  nl_put_strz(&move, IFLA_IFNAME, l->name);
  if (nl_talk(&nl, &move, NULL, NULL) < 0) {
    nook_error(err, errno, "move the guest's network device into the container as %s", l->name);
    goto out;
  }
  if (net_nl_open_in(netns, &target, err) < 0)
    goto out;
  ret = configure_moved(&target, l, err);
out:
  nl_sock_close(&target);
  nl_sock_close(&nl);
  return ret;
}
