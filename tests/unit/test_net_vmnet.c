/* net/vmnet.c's wire form of a container's interface (CHAN_NET): what the
 * host encodes the guest decodes to the same link, and a malformed line is
 * refused, naming it, rather than half applied. */
#include "unit.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../net/vmnet.h"

static struct net_vm_link sample(void)
{
  struct net_vm_link l = {.mtu = 1400, .n_addrs = 2, .n_routes = 2};
  strcpy(l.name, "eth0");
  const uint8_t mac[6] = {0x02, 0x42, 0xc0, 0x00, 0x02, 0xff};
  memcpy(l.mac, mac, sizeof(mac));
  l.addrs[0] = (struct net_vm_addr){.family = AF_INET, .prefixlen = 24};
  inet_pton(AF_INET, "192.0.2.2", l.addrs[0].local);
  l.addrs[1] = (struct net_vm_addr){.family = AF_INET6, .prefixlen = 64};
  inet_pton(AF_INET6, "2001:db8::2", l.addrs[1].local);
  l.routes[0] = (struct net_vm_route){.family = AF_INET, .has_gateway = 1, .priority = 100};
  inet_pton(AF_INET, "192.0.2.1", l.routes[0].gateway);
  l.routes[1] = (struct net_vm_route){.family = AF_INET6, .dst_len = 48};
  inet_pton(AF_INET6, "2001:db8:1::", l.routes[1].dst);
  return l;
}

TEST(round_trip)
{
  struct net_vm_link l = sample(), back;
  char *text = net_vm_link_encode(&l);
  CHECK_STR_EQ(text, "nic eth0 02:42:c0:00:02:ff 1400\n"
                     "addr 4 192.0.2.2 24\n"
                     "addr 6 2001:db8::2 64\n"
                     "route 4 0.0.0.0 0 192.0.2.1 100\n"
                     "route 6 2001:db8:1:: 48 - 0\n");
  nook_error_t err = NULL;
  CHECK_INT_EQ(net_vm_link_decode(text, &back, &err), 0);
  CHECK_STR_EQ(back.name, "eth0");
  CHECK(memcmp(back.mac, l.mac, 6) == 0);
  CHECK_INT_EQ(back.mtu, 1400);
  CHECK_INT_EQ(back.n_addrs, 2);
  CHECK_INT_EQ(back.n_routes, 2);
  CHECK(memcmp(back.addrs[1].local, l.addrs[1].local, 16) == 0);
  CHECK_INT_EQ(back.routes[0].has_gateway, 1);
  CHECK(memcmp(back.routes[0].gateway, l.routes[0].gateway, 4) == 0);
  CHECK_INT_EQ(back.routes[1].has_gateway, 0);
  CHECK_INT_EQ(back.routes[1].dst_len, 48);
  char *again = net_vm_link_encode(&back);
  CHECK_STR_EQ(again, text);
  free(again);
  free(text);
}

static void refused(const char *text, const char *why)
{
  struct net_vm_link l;
  nook_error_t err = NULL;
  CHECK_INT_EQ(net_vm_link_decode(text, &l, &err), -1);
  if (err != NULL)
    CHECK_STR_CONTAINS(err->msg, why);
  nook_error_free(&err);
}

TEST(malformed_lines_are_refused_by_line)
{
  refused("", "no \"nic\" line");
  refused("addr 4 192.0.2.2 24\n", "line 1");
  refused("nic eth0 02:42:c0:00:02 1500\n", "line 1");
  refused("nic eth0 02:42:c0:00:02:fff 1500\n", "line 1");
  refused("nic eth0 02:42:c0:00:02:ff 1500\naddr 4 192.0.2.300 24\n", "line 2");
  refused("nic eth0 02:42:c0:00:02:ff 1500\naddr 4 192.0.2.2 33\n", "line 2");
  refused("nic eth0 02:42:c0:00:02:ff 1500\naddr 5 192.0.2.2 24\n", "line 2");
  refused("nic eth0 02:42:c0:00:02:ff 1500\nroute 4 0.0.0.0 0 2001:db8::1 0\n", "line 2");
  refused("nic eth0 02:42:c0:00:02:ff 1500\nroute 6 ::/0 0 - 0\n", "line 2");
  refused("nic eth0 02:42:c0:00:02:ff 1500\nlink up\n", "cannot parse \"link up\"");
}

TEST(record_round_trip_and_refusals)
{
  struct net_vm_link l = {.index = 2, .tap_index = 17}, back;
  char *text = net_vm_link_record(&l);
  CHECK_STR_EQ(text, "2 17\n");
  CHECK_INT_EQ(net_vm_link_from_record(text, &back), 0);
  CHECK_INT_EQ(back.index, 2);
  CHECK_INT_EQ(back.tap_index, 17);
  free(text);
  const char *bad[] = {"", "2\n", "2 17", "2 17\nx", "0 17\n", "2 -1\n", "a b\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK_INT_EQ(net_vm_link_from_record(bad[i], &back), -1);
}
