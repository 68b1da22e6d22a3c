/* clientcount.c: the counts of the children's clients and networks,
   exact when children end in any order, a network length counted from
   when it is first asked for, and no key counted twice. */
#include <errno.h>
#include "tap.h"
#include "clientcount.h"

static struct ip_addr v4(unsigned char a, unsigned char b, unsigned char c, unsigned char d)
{
  struct ip_addr ip;
  ip_set_v4(&ip, a, b, c, d);
  return ip;
}

static pid_t next_pid = 100;

static pid_t connect_from(struct clientcount *cc, struct ip_addr ip)
{
  struct clientkey keys[CHILD_KEYS_MAX];
  unsigned n = clientcount_keys(cc, &ip, keys);
  pid_t pid = next_pid++;
  return clientcount_add(cc, pid, &ip, keys, n) ? pid : -1;
}

static unsigned long client(struct clientcount *cc, struct ip_addr ip)
{
  struct clientkey k;
  clientcount_client(cc, &ip, &k);
  return clientcount_get(cc, &k);
}

static unsigned long net(struct clientcount *cc, struct ip_addr ip, unsigned len, int track)
{
  struct clientkey k;
  clientkey_make(&k, &ip, len);
  return clientcount_net(cc, &k, track);
}

int main(void)
{
  struct clientcount cc;
  struct child_entry gone;
  tap_ok(clientcount_init(&cc, 10, 1, 32, 64) == 0, "init");
  pid_t a1 = connect_from(&cc, v4(10, 0, 0, 1));
  pid_t a2 = connect_from(&cc, v4(10, 0, 0, 1));
  pid_t b1 = connect_from(&cc, v4(10, 0, 0, 2));
  pid_t c1 = connect_from(&cc, v4(10, 1, 0, 3));
  tap_ok(client(&cc, v4(10, 0, 0, 1)) == 2 && client(&cc, v4(10, 0, 0, 2)) == 1,
         "per client");
  tap_ok(net(&cc, v4(10, 0, 0, 9), 24, 1) == 3, "the /24, counted always");
  tap_ok(net(&cc, v4(10, 0, 0, 1), 32, 1) == 2, "the client's own length: not counted twice");
  tap_ok(net(&cc, v4(10, 9, 9, 9), 8, 0) == 4, "a /8 by a walk (not tracked)");
  tap_ok(net(&cc, v4(10, 9, 9, 9), 8, 1) == 4 && cc.nnets_v4 == 1, "tracked from now on, with the live children");
  pid_t d1 = connect_from(&cc, v4(10, 2, 0, 1));
  tap_ok(net(&cc, v4(10, 0, 0, 0), 8, 1) == 5, "a new child counted under the tracked /8");
  tap_ok(clientcount_remove(&cc, a1, &gone) == 0 && client(&cc, v4(10, 0, 0, 1)) == 1,
         "the count that drops is the ending child's client's");
  tap_ok(net(&cc, v4(10, 0, 0, 0), 8, 1) == 4 && net(&cc, v4(10, 0, 0, 0), 24, 1) == 2,
         "and its networks'");
  tap_ok(net(&cc, v4(10, 1, 0, 0), 16, 1) == 1 && net(&cc, v4(10, 0, 0, 0), 12, 1) == 4,
         "a second and a third length (the third walks)");
  tap_ok(cc.nnets_v4 == 2, "two lengths tracked at most");
  clientcount_remove(&cc, b1, &gone);
  clientcount_remove(&cc, c1, &gone);
  clientcount_remove(&cc, d1, &gone);
  clientcount_remove(&cc, a2, &gone);
  tap_ok(clientcount_live(&cc) == 0 && net(&cc, v4(10, 0, 0, 0), 8, 1) == 0 &&
         cc.counts && conncount_live(cc.counts) == 0, "all gone: no key left");
  errno = 0;
  tap_ok(clientcount_remove(&cc, 9999, &gone) == -1 && errno == ENOENT, "an unknown pid");

  struct ip_addr x, y, z;
  ip_parse("2001:db8:1:1::1", &x);
  ip_parse("2001:db8:1:1::2", &y);
  ip_parse("2001:db8:1:2::1", &z);
  connect_from(&cc, x);
  connect_from(&cc, y);
  connect_from(&cc, z);
  tap_ok(client(&cc, x) == 2 && client(&cc, z) == 1, "IPv6: a /64 is one client");
  tap_ok(net(&cc, x, 48, 1) == 3, "IPv6: the /48");

  struct clientcount off;
  clientcount_init(&off, 4, 0, 32, 64);
  struct clientkey keys[CHILD_KEYS_MAX];
  struct ip_addr ip = v4(1, 2, 3, 4);
  tap_ok(clientcount_keys(&off, &ip, keys) == 0 && clientcount_add(&off, 7, &ip, keys, 0),
         "not counting: children only");
  tap_ok(net(&off, ip, 24, 1) == 1, "a network by a walk even then");
  clientcount_free(&off);
  clientcount_free(&cc);
  return tap_done();
}
