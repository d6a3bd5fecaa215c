/* net/netlink.c: requests laid out as the kernel reads them, and replies
 * parsed defensively (a dump over several messages, errors, ACKs, and
 * messages or attributes that claim more bytes than arrived). */
#include "unit.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdalign.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../net/netlink.h"

/* A reply datagram assembled here, aligned as recvmsg's buffer is. */
struct reply {
  alignas(struct nlmsghdr) char buf[4096];
  size_t len;
};

static struct nlmsghdr *reply_msg(struct reply *r, uint16_t type, uint32_t seq, uint16_t flags)
{
  struct nlmsghdr *h = (struct nlmsghdr *)(r->buf + r->len);
  memset(h, 0, NLMSG_HDRLEN);
  h->nlmsg_len = NLMSG_HDRLEN;
  h->nlmsg_type = type;
  h->nlmsg_seq = seq;
  h->nlmsg_flags = flags;
  return h;
}

static void *msg_put(struct nlmsghdr *h, const void *data, size_t len)
{
  char *p = (char *)h + h->nlmsg_len;
  memset(p, 0, NLMSG_ALIGN(len));
  memcpy(p, data, len);
  h->nlmsg_len += (uint32_t)NLMSG_ALIGN(len);
  return p;
}

static void msg_attr(struct nlmsghdr *h, uint16_t type, const void *data, size_t len)
{
  struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
  char tmp[256];
  memcpy(tmp, &a, sizeof(a));
  memcpy(tmp + NLA_HDRLEN, data, len);
  msg_put(h, tmp, NLA_HDRLEN + len);
}

static void reply_end(struct reply *r, struct nlmsghdr *h)
{
  r->len += NLMSG_ALIGN(h->nlmsg_len);
}

static void reply_errmsg(struct reply *r, uint16_t type, uint32_t seq, int error)
{
  struct nlmsghdr *h = reply_msg(r, type, seq, 0);
  struct nlmsgerr e = {.error = error};
  msg_put(h, &e, type == NLMSG_ERROR ? sizeof(e) : sizeof(int));
  reply_end(r, h);
}

struct seen {
  int n;
  uint32_t index[8];
  char label[8][16];
};

static int addr_cb(const struct nlmsghdr *h, void *data)
{
  struct seen *s = data;
  const struct nlattr *tb[IFA_MAX + 1];
  if (nl_attrs(h, sizeof(struct ifaddrmsg), tb, IFA_MAX) < 0)
    return -1;
  const struct ifaddrmsg *ifa = NLMSG_DATA(h);
  if (s->n < 8) {
    s->index[s->n] = ifa->ifa_index;
    const char *l = tb[IFA_LABEL] ? nl_attr_str(tb[IFA_LABEL]) : NULL;
    snprintf(s->label[s->n], sizeof(s->label[0]), "%s", l ? l : "-");
  }
  s->n++;
  return 0;
}

static void put_addr(struct reply *r, uint32_t seq, uint32_t index, const char *label)
{
  struct nlmsghdr *h = reply_msg(r, RTM_NEWADDR, seq, NLM_F_MULTI);
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_index = index};
  msg_put(h, &ifa, sizeof(ifa));
  uint32_t addr = 0x0100000a;
  msg_attr(h, IFA_LOCAL, &addr, sizeof(addr));
  if (label)
    msg_attr(h, IFA_LABEL, label, strlen(label) + 1);
  reply_end(r, h);
}

TEST(a_dump_over_two_datagrams_reaches_every_message_and_ends_at_done)
{
  struct reply a = {0}, b = {0};
  struct seen s = {0};
  put_addr(&a, 7, 2, "eth0");
  put_addr(&a, 7, 2, "eth0:1");
  CHECK_INT_EQ(nl_parse(a.buf, a.len, 7, addr_cb, &s), 0); /* more to come */
  put_addr(&b, 7, 3, NULL);
  reply_errmsg(&b, NLMSG_DONE, 7, 0);
  CHECK_INT_EQ(nl_parse(b.buf, b.len, 7, addr_cb, &s), 1);
  CHECK_INT_EQ(s.n, 3);
  CHECK_STR_EQ(s.label[0], "eth0");
  CHECK_STR_EQ(s.label[1], "eth0:1");
  CHECK_STR_EQ(s.label[2], "-");
  CHECK_INT_EQ(s.index[2], 3);
}

TEST(an_error_message_is_errno_an_ack_ends_the_exchange)
{
  struct reply r = {0};
  reply_errmsg(&r, NLMSG_ERROR, 9, -EEXIST);
  errno = 0;
  CHECK_INT_EQ(nl_parse(r.buf, r.len, 9, NULL, NULL), -1);
  CHECK_INT_EQ(errno, EEXIST);
  struct reply ack = {0};
  reply_errmsg(&ack, NLMSG_ERROR, 9, 0);
  CHECK_INT_EQ(nl_parse(ack.buf, ack.len, 9, NULL, NULL), 1);
  /* A dump that failed midway says so in its DONE. */
  struct reply done = {0};
  reply_errmsg(&done, NLMSG_DONE, 9, -EINTR);
  CHECK_INT_EQ(nl_parse(done.buf, done.len, 9, NULL, NULL), -1);
  CHECK_INT_EQ(errno, EINTR);
}

TEST(messages_of_another_request_are_skipped)
{
  struct reply r = {0};
  struct seen s = {0};
  reply_errmsg(&r, NLMSG_ERROR, 8, -ENODEV); /* a stale reply */
  put_addr(&r, 8, 5, NULL);
  put_addr(&r, 9, 6, NULL);
  reply_errmsg(&r, NLMSG_ERROR, 9, 0);
  CHECK_INT_EQ(nl_parse(r.buf, r.len, 9, addr_cb, &s), 1);
  CHECK_INT_EQ(s.n, 1);
  CHECK_INT_EQ(s.index[0], 6);
}

TEST(a_callback_error_ends_the_exchange_with_its_errno)
{
  struct reply r = {0};
  /* An address message cut before its family header is complete. */
  struct nlmsghdr *h = reply_msg(&r, RTM_NEWADDR, 3, NLM_F_MULTI);
  msg_put(h, "ab", 2);
  reply_end(&r, h);
  struct seen s = {0};
  errno = 0;
  CHECK_INT_EQ(nl_parse(r.buf, r.len, 3, addr_cb, &s), -1);
  CHECK_INT_EQ(errno, EPROTO);
  CHECK_INT_EQ(s.n, 0);
}

TEST(lengths_beyond_what_arrived_are_refused)
{
  struct reply r = {0};
  put_addr(&r, 4, 1, "x");
  struct nlmsghdr *h = (struct nlmsghdr *)r.buf;
  struct seen s = {0};
  /* The message claims more than the datagram holds. */
  errno = 0;
  CHECK_INT_EQ(nl_parse(r.buf, h->nlmsg_len - 1, 4, addr_cb, &s), -1);
  CHECK_INT_EQ(errno, EPROTO);
  /* Shorter than a header. */
  CHECK_INT_EQ(nl_parse(r.buf, NLMSG_HDRLEN - 1, 4, addr_cb, &s), -1);
  /* A header claiming less than itself. */
  uint32_t len = h->nlmsg_len;
  h->nlmsg_len = 4;
  CHECK_INT_EQ(nl_parse(r.buf, r.len, 4, addr_cb, &s), -1);
  h->nlmsg_len = len;
  /* An attribute longer than its message. */
  struct nlattr *a =
      (struct nlattr *)((char *)h + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifaddrmsg)));
  a->nla_len = 200;
  CHECK_INT_EQ(nl_parse(r.buf, r.len, 4, addr_cb, &s), -1);
  CHECK_INT_EQ(errno, EPROTO);
  /* An attribute shorter than its own header. */
  a->nla_len = 2;
  CHECK_INT_EQ(nl_parse(r.buf, r.len, 4, addr_cb, &s), -1);
  CHECK_INT_EQ(s.n, 0);
  /* An error message without its nlmsgerr, and an errno no kernel sends. */
  struct reply e = {0};
  reply_errmsg(&e, NLMSG_DONE, 4, 0);
  ((struct nlmsghdr *)e.buf)->nlmsg_type = NLMSG_ERROR;
  CHECK_INT_EQ(nl_parse(e.buf, e.len, 4, NULL, NULL), -1);
  CHECK_INT_EQ(errno, EPROTO);
  struct reply big = {0};
  reply_errmsg(&big, NLMSG_ERROR, 4, 5);
  CHECK_INT_EQ(nl_parse(big.buf, big.len, 4, NULL, NULL), -1);
  CHECK_INT_EQ(errno, EPROTO);
}

TEST(string_and_u32_attributes_check_their_payload)
{
  struct reply r = {0};
  struct nlmsghdr *h = reply_msg(&r, RTM_NEWLINK, 1, 0);
  struct ifinfomsg ifi = {.ifi_index = 4};
  msg_put(h, &ifi, sizeof(ifi));
  msg_attr(h, IFLA_IFNAME, "eth0", 4); /* no NUL */
  uint16_t mtu16 = 1500;
  msg_attr(h, IFLA_MTU, &mtu16, sizeof(mtu16)); /* too short for a u32 */
  const struct nlattr *tb[IFLA_MAX + 1];
  CHECK_INT_EQ(nl_attrs(h, sizeof(ifi), tb, IFLA_MAX), 0);
  CHECK(tb[IFLA_IFNAME] != NULL && nl_attr_str(tb[IFLA_IFNAME]) == NULL);
  uint32_t v = 7;
  CHECK(tb[IFLA_MTU] != NULL && !nl_attr_u32(tb[IFLA_MTU], &v) && v == 7);
  CHECK(tb[IFLA_ADDRESS] == NULL);
  /* A family header longer than the message. */
  CHECK_INT_EQ(nl_attrs(h, h->nlmsg_len, tb, IFLA_MAX), -1);
}

TEST(a_request_with_a_nested_attribute_is_laid_out_as_the_kernel_reads_it)
{
  struct nl_req r;
  struct ifinfomsg *ifi = nl_req_init(&r, RTM_NEWLINK, NLM_F_CREATE, sizeof(*ifi));
  ifi->ifi_index = 3;
  nl_put_strz(&r, IFLA_IFNAME, "ab");
  struct nlattr *info = nl_nest_start(&r, IFLA_LINKINFO);
  nl_put_strz(&r, IFLA_INFO_KIND, "veth");
  nl_nest_end(&r, info);
  nl_put_u32(&r, IFLA_MTU, 1400);
  CHECK(!r.overflow);
  /* 16 header + 16 ifinfomsg + 8 ifname + (4 + 12) linkinfo + 8 mtu. */
  CHECK_INT_EQ(r.u.hdr.nlmsg_len, 64);
  CHECK_INT_EQ(r.u.hdr.nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE);
  const struct nlattr *tb[IFLA_MAX + 1], *nested[IFLA_INFO_MAX + 1];
  CHECK_INT_EQ(nl_attrs(&r.u.hdr, sizeof(*ifi), tb, IFLA_MAX), 0);
  CHECK_STR_EQ(nl_attr_str(tb[IFLA_IFNAME]), "ab");
  CHECK(tb[IFLA_LINKINFO] != NULL && (tb[IFLA_LINKINFO]->nla_type & NLA_F_NESTED));
  CHECK_INT_EQ(tb[IFLA_LINKINFO]->nla_len, 16);
  CHECK_INT_EQ(nl_attrs_nested(tb[IFLA_LINKINFO], nested, IFLA_INFO_MAX), 0);
  CHECK_STR_EQ(nl_attr_str(nested[IFLA_INFO_KIND]), "veth");
  uint32_t mtu = 0;
  CHECK(nl_attr_u32(tb[IFLA_MTU], &mtu) && mtu == 1400);
}

TEST(a_request_that_does_not_fit_is_refused_not_cut)
{
  struct nl_req r;
  nl_req_init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
  char big[NL_REQ_SIZE];
  memset(big, 'x', sizeof(big));
  nl_put(&r, IFLA_IFALIAS, big, sizeof(big) - 20);
  CHECK(r.overflow);
  struct nl_sock s = {.fd = -1};
  errno = 0;
  CHECK_INT_EQ(nl_talk(&s, &r, NULL, NULL), -1);
  CHECK_INT_EQ(errno, EMSGSIZE);
}

static int link_cb(const struct nlmsghdr *h, void *data)
{
  const struct nlattr *tb[IFLA_MAX + 1];
  if (h->nlmsg_type != RTM_NEWLINK || nl_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX) < 0)
    return -1;
  const char *name = tb[IFLA_IFNAME] ? nl_attr_str(tb[IFLA_IFNAME]) : NULL;
  snprintf(data, IFNAMSIZ, "%s", name ? name : "?");
  return 0;
}

/* The whole exchange against the kernel: the loopback exists in every
 * network namespace, so no privilege is needed. */
TEST(the_kernel_answers_a_link_request_and_a_dump)
{
  struct nl_sock s;
  if (!CHECK(nl_sock_open(&s, -1) == 0))
    return;
  CHECK(s.portid != 0);
  unsigned lo = if_nametoindex("lo");
  struct nl_req r;
  struct ifinfomsg *ifi = nl_req_init(&r, RTM_GETLINK, 0, sizeof(*ifi));
  ifi->ifi_index = (int)lo;
  char name[IFNAMSIZ] = "";
  CHECK_INT_EQ(nl_talk(&s, &r, link_cb, name), 0);
  CHECK_STR_EQ(name, "lo");
  nl_req_init(&r, RTM_GETLINK, 0, sizeof(*ifi));
  nl_put_strz(&r, IFLA_IFNAME, "nook-nodev");
  errno = 0;
  CHECK_INT_EQ(nl_talk(&s, &r, NULL, NULL), -1);
  CHECK_INT_EQ(errno, ENODEV);
  /* The loopback's 127.0.0.1 and ::1 are in the dump. */
  struct seen seen = {0};
  struct ifaddrmsg *ifa = nl_req_init(&r, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
  ifa->ifa_family = AF_UNSPEC;
  CHECK_INT_EQ(nl_talk(&s, &r, addr_cb, &seen), 0);
  bool found = false;
  for (int i = 0; i < seen.n && i < 8; i++)
    found |= seen.index[i] == lo;
  CHECK(found);
  nl_sock_close(&s);
  CHECK_INT_EQ(s.fd, -1);
}

/* NLM_F_EXCL is NLM_F_MATCH's bit: a create request taken for a dump got no
 * ACK and its exchange waited for ever. */
TEST(every_request_asks_for_the_ack_that_ends_its_exchange)
{
  struct nl_req r;
  nl_req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
  struct nl_sock s = {.fd = -1};
  CHECK_INT_EQ(nl_talk(&s, &r, NULL, NULL), -1);
  CHECK(r.u.hdr.nlmsg_flags & NLM_F_ACK);
}
