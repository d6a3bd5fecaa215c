/* rtnetlink requests and replies: a bounded request builder, one
 * request/reply exchange, and a parser that checks every length of what the
 * kernel sends back.  Written from <linux/netlink.h>; all that net.c needs
 * and no more.  Failing calls return -1 with errno set. */
#ifndef NOOK_NETLINK_H
#define NOOK_NETLINK_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Requests nook sends are a header, a family header and a few short
 * attributes. */
#define NL_REQ_SIZE 512

struct nl_req {
  union {
    struct nlmsghdr hdr;
    char buf[NL_REQ_SIZE];
  } u;
  bool overflow; /* an attribute did not fit: the request is refused */
};

/* Starts a request; returns its family header (extra bytes, zeroed). */
void *nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t extra);
void nl_put(struct nl_req *r, uint16_t type, const void *data, size_t len);
void nl_put_u32(struct nl_req *r, uint16_t type, uint32_t v);
void nl_put_strz(struct nl_req *r, uint16_t type, const char *s);
/* A nested attribute: its length is fixed by nl_nest_end once the attributes
 * inside are in. */
struct nlattr *nl_nest_start(struct nl_req *r, uint16_t type);
void nl_nest_end(struct nl_req *r, struct nlattr *nest);

struct nl_sock {
  int fd;
  uint32_t portid, seq;
};

/* Takes over fd, a NETLINK_ROUTE socket (-1: make one here); closes it on
 * failure. */
int nl_sock_open(struct nl_sock *s, int fd);
void nl_sock_close(struct nl_sock *s);

/* Called for every reply message that is not netlink's own (ACK, error,
 * done); returns negative with errno set to end the exchange with that
 * error. */
typedef int (*nl_cb)(const struct nlmsghdr *h, void *data);

/* Sends r and feeds the replies to cb (may be NULL) until the ACK, the end
 * of the dump or an error, which comes back as errno. */
int nl_talk(struct nl_sock *s, struct nl_req *r, nl_cb cb, void *data);

/* One datagram of replies to request seq: 1 when the exchange is over, 0
 * when more is to come, -1 with errno (EPROTO: a malformed message).
 * Messages of other requests are skipped. */
int nl_parse(const void *buf, size_t len, uint32_t seq, nl_cb cb, void *data);

/* The attributes after a message's family header of `hdrlen` bytes, by type:
 * tb[0..max] (NULL where absent, the last one where repeated; types above
 * max ignored).  -1/EPROTO when the message or an attribute is cut short. */
int nl_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, uint16_t max);
/* The same for the attributes inside a nested one. */
int nl_attrs_nested(const struct nlattr *a, const struct nlattr **tb, uint16_t max);

const void *nl_attr_data(const struct nlattr *a);
size_t nl_attr_len(const struct nlattr *a);
/* false unless the payload is exactly 4 bytes. */
bool nl_attr_u32(const struct nlattr *a, uint32_t *v);
/* NULL unless the payload is a NUL-terminated string. */
const char *nl_attr_str(const struct nlattr *a);

#endif
