/* Replaced libmnl (docs/design.md "Dependencies"): net.c's few rtnetlink
 * exchanges need a request builder, one send and a reply parser, and a reply,
 * though it comes from the kernel, is parsed as untrusted input: every
 * length is checked against the bytes actually received. */
#include "netlink.h"

#include <errno.h>
#include <stdalign.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What the kernel puts in one dump datagram when the reader offers at least
 * this much (netlink_recvmsg caps its allocation near 32 KiB). */
#define NL_RECV_SIZE 32768

void *nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t extra)
{
  memset(r, 0, sizeof(*r));
  size_t len = NLMSG_HDRLEN + NLMSG_ALIGN(extra);
  if (len > sizeof(r->u.buf)) {
    r->overflow = true;
    len = NLMSG_HDRLEN;
  }
  r->u.hdr.nlmsg_len = (uint32_t)len;
  r->u.hdr.nlmsg_type = type;
  r->u.hdr.nlmsg_flags = NLM_F_REQUEST | flags;
  return r->u.buf + NLMSG_HDRLEN;
}

static struct nlattr *put_header(struct nl_req *r, uint16_t type, size_t len)
{
  size_t at = r->u.hdr.nlmsg_len;
  if (r->overflow || len > UINT16_MAX - NLA_HDRLEN ||
      NLA_ALIGN(NLA_HDRLEN + len) > sizeof(r->u.buf) - at) {
    r->overflow = true;
    return NULL;
  }
  struct nlattr *a = (struct nlattr *)(r->u.buf + at);
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + len);
  r->u.hdr.nlmsg_len = (uint32_t)(at + NLA_ALIGN(NLA_HDRLEN + len));
  return a;
}

void nl_put(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
  struct nlattr *a = put_header(r, type, len);
  if (a != NULL && len > 0)
    memcpy((char *)a + NLA_HDRLEN, data, len);
}

void nl_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
  nl_put(r, type, &v, sizeof(v));
}

void nl_put_strz(struct nl_req *r, uint16_t type, const char *s)
{
  nl_put(r, type, s, strlen(s) + 1);
}

struct nlattr *nl_nest_start(struct nl_req *r, uint16_t type)
{
  return put_header(r, NLA_F_NESTED | type, 0);
}

void nl_nest_end(struct nl_req *r, struct nlattr *nest)
{
  if (nest == NULL || r->overflow)
    return;
  size_t len = (size_t)(r->u.buf + r->u.hdr.nlmsg_len - (char *)nest);
  if (len > UINT16_MAX)
    r->overflow = true;
  else
    nest->nla_len = (uint16_t)len;
}

int nl_sock_open(struct nl_sock *s, int fd)
{
  s->fd = fd >= 0 ? fd : socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s->fd < 0)
    return -1;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  socklen_t salen = sizeof(sa);
  /* nl_pid 0: the kernel picks the port id, read back for the record. */
  if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      getsockname(s->fd, (struct sockaddr *)&sa, &salen) < 0) {
    int e = errno;
    nl_sock_close(s);
    errno = e;
    return -1;
  }
  s->portid = sa.nl_pid;
  s->seq = (uint32_t)time(NULL);
  return 0;
}

void nl_sock_close(struct nl_sock *s)
{
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
}

/* A netlink error code as errno: 0 for an ACK, -1 for a value no kernel
 * sends. */
static int kernel_errno(const void *payload)
{
  int e;
  memcpy(&e, payload, sizeof(e));
  return e > 0 || e < -4095 ? -1 : -e;
}

int nl_parse(const void *buf, size_t len, uint32_t seq, nl_cb cb, void *data)
{
  const char *p = buf;
  while (len > 0) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)p;
    if (len < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
      goto bad;
    size_t plen = h->nlmsg_len - NLMSG_HDRLEN;
    if (h->nlmsg_seq == seq) {
      int e;
      switch (h->nlmsg_type) {
      case NLMSG_NOOP:
        break;
      case NLMSG_ERROR:
        if (plen < sizeof(struct nlmsgerr) || (e = kernel_errno(NLMSG_DATA(h))) < 0)
          goto bad;
        if (e == 0)
          return 1;
        errno = e;
        return -1;
      case NLMSG_DONE:
        /* A dump that failed midway says why here. */
        if (plen >= sizeof(int) && (e = kernel_errno(NLMSG_DATA(h))) != 0) {
          if (e < 0)
            goto bad;
          errno = e;
          return -1;
        }
        return 1;
      case NLMSG_OVERRUN:
        errno = ENOBUFS;
        return -1;
      default:
        if (cb != NULL && cb(h, data) < 0)
          return -1;
      }
    }
    size_t step = NLMSG_ALIGN(h->nlmsg_len);
    if (step > len)
      step = len;
    p += step;
    len -= step;
  }
  return 0;
bad:
  errno = EPROTO;
  return -1;
}

int nl_talk(struct nl_sock *s, struct nl_req *r, nl_cb cb, void *data)
{
  if (r->overflow) {
    errno = EMSGSIZE;
    return -1;
  }
  struct nlmsghdr *h = &r->u.hdr;
  /* Every exchange ends in a message of netlink's own: the ACK (or error),
   * or for a dump DONE (the kernel sends no ACK for a dump it started).
   * Whether a request is a dump cannot be told from its flags alone
   * (NLM_F_MATCH is NLM_F_EXCL's bit), so the ACK is always asked for. */
  h->nlmsg_flags |= NLM_F_ACK;
  h->nlmsg_seq = ++s->seq;
  h->nlmsg_pid = s->portid;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do
    n = sendto(s->fd, h, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if ((size_t)n != h->nlmsg_len) {
    errno = EMSGSIZE;
    return -1;
  }
  alignas(struct nlmsghdr) char buf[NL_RECV_SIZE];
  for (;;) {
    struct sockaddr_nl from;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr msg = {
        .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
    n = recvmsg(s->fd, &msg, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (msg.msg_flags & MSG_TRUNC) {
      errno = EMSGSIZE;
      return -1;
    }
    /* Only the kernel (port 0) answers requests. */
    if (msg.msg_namelen != sizeof(from) || from.nl_pid != 0)
      continue;
    int r2 = nl_parse(buf, (size_t)n, s->seq, cb, data);
    if (r2 != 0)
      return r2 < 0 ? -1 : 0;
  }
}

static int parse_attrs(const char *p, size_t len, const struct nlattr **tb, uint16_t max)
{
  memset(tb, 0, ((size_t)max + 1) * sizeof(*tb));
  while (len > 0) {
    const struct nlattr *a = (const struct nlattr *)p;
    if (len < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > len) {
      errno = EPROTO;
      return -1;
    }
    uint16_t type = a->nla_type & NLA_TYPE_MASK;
    if (type <= max)
      tb[type] = a;
    size_t step = NLA_ALIGN(a->nla_len);
    if (step > len)
      step = len;
    p += step;
    len -= step;
  }
  return 0;
}

int nl_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, uint16_t max)
{
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);
  if (h->nlmsg_len < off) {
    errno = EPROTO;
    return -1;
  }
  return parse_attrs((const char *)h + off, h->nlmsg_len - off, tb, max);
}

int nl_attrs_nested(const struct nlattr *a, const struct nlattr **tb, uint16_t max)
{
  return parse_attrs((const char *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN, tb, max);
}

const void *nl_attr_data(const struct nlattr *a)
{
  return (const char *)a + NLA_HDRLEN;
}

size_t nl_attr_len(const struct nlattr *a)
{
  return a->nla_len - NLA_HDRLEN;
}

bool nl_attr_u32(const struct nlattr *a, uint32_t *v)
{
  if (nl_attr_len(a) != sizeof(*v))
    return false;
  memcpy(v, nl_attr_data(a), sizeof(*v));
  return true;
}

const char *nl_attr_str(const struct nlattr *a)
{
  size_t n = nl_attr_len(a);
  const char *s = nl_attr_data(a);
  return n > 0 && memchr(s, '\0', n) != NULL ? s : NULL;
}
