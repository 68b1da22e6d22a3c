/* rulevars.c: a rule's limits read from its data (numbers, 0 and junk
   as no limit, DIEMSG, MAXCONNRATE), the rate syntax of -F and
   MAXCONNRATE, and the network a rule's key names for MAXCONNNET. */
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "rulevars.h"

/* Rule data as tcprules stores it: "+NAME=value\0" items. */
static void from(const char *data, size_t len, struct rulevars *l)
{
  rulevars_from_rule(data, len, l);
}
#define FROM(lit, l) from(lit, sizeof lit - 1, l)

static void rules(void)
{
  struct rulevars l;
  FROM("+MAXCONNIP=1\0+DIEMSG=too many\0", &l);
  tap_ok(l.maxconnip == 1 && !l.maxconnc && !l.maxconnnet, "MAXCONNIP=1 alone");
  tap_ok(l.diemsg && l.diemsglen == 8 && !memcmp(l.diemsg, "too many", 8), "DIEMSG read");
  tap_ok(rulevars_concurrent(&l), "MAXCONNIP is a limit on connections at once");
  tap_ok(!l.rate_milli && !l.burst, "no rate unless MAXCONNRATE");

  FROM("+MAXCONNIP=2\0+MAXCONNC=3\0+MAXCONNNET=40\0+DIEMSG=421 too many connections\0", &l);
  tap_ok(l.maxconnip == 2 && l.maxconnc == 3 && l.maxconnnet == 40, "the three counts");
  tap_ok(l.diemsglen == 24, "DIEMSG with spaces and digits");

  FROM("+MAXCONNIP=0\0+MAXCONNC=\0+MAXCONNNET=x1\0", &l);
  tap_ok(!l.maxconnip && !l.maxconnc && !l.maxconnnet, "0, empty and not-a-number: no limit");
  tap_ok(!rulevars_concurrent(&l), "then no limit on connections at once");
  FROM("+MAXCONNIP=3x\0+MAXCONNC= 3\0", &l);
  tap_ok(!l.maxconnip && !l.maxconnc, "trailing or leading junk: no limit");
  FROM("+MAXCONNIP=99999999999999999999999\0", &l);
  tap_ok(l.maxconnip == (unsigned long) -1, "a huge number saturates (as good as no limit)");

  FROM("+MAXCONNRATE=1/1\0", &l);
  tap_ok(l.rate_milli == 1000 && l.burst == 1, "MAXCONNRATE=1/1");
  tap_ok(!rulevars_concurrent(&l), "a rate is no limit on connections at once");
  FROM("+MAXCONNRATE=2.5\0", &l);
  tap_ok(l.rate_milli == 2500 && l.burst == 3, "MAXCONNRATE=2.5: burst rounded up");
  FROM("+MAXCONNRATE=1/1:msg\0", &l);
  tap_ok(!l.rate_milli && !l.burst, "MAXCONNRATE with anything after it: none");
  FROM("+MAXCONNRATE=1.2345\0", &l);
  tap_ok(!l.rate_milli && !l.burst, "MAXCONNRATE with 4 decimals: none");

  FROM("", &l);
  tap_ok(!rulevars_concurrent(&l) && !l.diemsg && !l.rate_milli && !l.proxy, "empty data: nothing");
  FROM("+TCPREMOTEHOST=x\0+MAXCONNIPX=1\0+XMAXCONNIP=1\0", &l);
  tap_ok(!l.maxconnip, "only the exact name MAXCONNIP counts");
  FROM("+MAXCONNIP=5\0+MAXCONNIP=1\0", &l);
  tap_ok(l.maxconnip == 5, "the first assignment wins");
  FROM("+DIEMSG=\0", &l);
  tap_ok(l.diemsg && l.diemsglen == 0, "an empty DIEMSG is a message of 0 bytes");
}

/* r and b after parsing s, or used 0. */
static void rate_is(const char *s, size_t want_used, unsigned long want_milli,
                    unsigned long want_burst)
{
  unsigned long milli = 12345, burst = 6789;
  size_t used = rulevars_parse_rate(s, strlen(s), &milli, &burst);
  char name[128];
  if (!want_used) {
    snprintf(name, sizeof name, "rate \"%s\" invalid", s);
    tap_ok(used == 0 && milli == 12345 && burst == 6789, name);
    return;
  }
  snprintf(name, sizeof name, "rate \"%s\": %zu bytes, %lu/1000 per s, burst %lu",
           s, want_used, want_milli, want_burst);
  tap_ok(used == want_used && milli == want_milli && burst == want_burst, name);
  if (used != want_used || milli != want_milli || burst != want_burst)
    printf("#   got %zu bytes, %lu, %lu\n", used, milli, burst);
}

static void rates(void)
{
  rate_is("1", 1, 1000, 1);
  rate_is("0.5/3", 5, 500, 3);
  rate_is("2.125", 5, 2125, 3);
  rate_is("0.5", 3, 500, 1);
  rate_is("1/2", 3, 1000, 2);
  rate_is("10/20:slow down", 5, 10000, 20);
  rate_is("1000000", 7, 1000000000, 1000000);
  rate_is("0.001", 5, 1, 1);
  rate_is("0", 0, 0, 0);
  rate_is("0.000", 0, 0, 0);
  rate_is("1.2345", 0, 0, 0);
  rate_is("1/0", 0, 0, 0);
  rate_is("1.", 0, 0, 0);
  rate_is(".5", 0, 0, 0);
  rate_is("", 0, 0, 0);
  rate_is("x", 0, 0, 0);
  rate_is("1/", 0, 0, 0);
  rate_is("1000001", 0, 0, 0);
  rate_is("1/1000001", 0, 0, 0);
}

static struct ip_addr ip_of(const char *s)
{
  struct ip_addr ip;
  if (ip_parse(s, &ip) < 0) memset(&ip, 0, sizeof ip);
  return ip;
}

/* The network key's text for rule key `key` and client `client`, or
   "-1". */
static void network_is(const char *key, const char *client, const char *want)
{
  struct ip_addr ip = ip_of(client);
  struct clientkey k;
  char buf[CLIENTKEY_FMT_SIZE], name[160];
  const char *got = "-1";
  if (rulevars_rule_network(key, strlen(key), &ip, &k) == 0) {
    clientkey_format(&k, buf);
    got = buf;
  }
  snprintf(name, sizeof name, "rule key \"%s\", client %s: network %s", key, client, want);
  tap_is_str(got, want, name);
}

static void networks(void)
{
  network_is("127.0.0.0/8", "127.0.0.3", "127.0.0.0/8");
  network_is("10.1.2.3/8", "10.9.9.9", "10.0.0.0/8");
  network_is("10.0.0.0/32", "10.0.0.0", "10.0.0.0/32");
  network_is("0.0.0.0/0", "192.0.2.1", "0.0.0.0/0");
  network_is("2001:db8::/32", "2001:db8:1::1", "2001:db8::/32");
  network_is("2001:db8::/129", "2001:db8::1", "-1");
  network_is("10.0.0.0/", "10.0.0.1", "-1");
  network_is("10.0.0.0/8x", "10.0.0.1", "-1");
  network_is("10.0.0.0/8", "2001:db8::1", "-1");
  network_is("10.66.", "10.66.1.2", "10.66.0.0/16");
  network_is("10.", "10.66.1.2", "10.0.0.0/8");
  network_is("127.0.0.", "127.0.0.9", "127.0.0.0/24");
  network_is("10.66.", "2001:db8::1", "-1");
  network_is("1.2.3.4.", "1.2.3.4", "-1");
  network_is("256.", "1.2.3.4", "-1");
  network_is("10.1.2.3", "10.1.2.3", "10.1.2.3/32");
  network_is("2001:db8::1", "2001:db8::1", "2001:db8::1/128");
  network_is("", "192.0.2.7", "0.0.0.0/0");
  network_is("", "2001:db8::7", "::/0");
  network_is("=mail.example.org", "10.1.2.3", "-1");
  network_is("mail.example.org", "10.1.2.3", "-1");
  network_is("joe@10.1.2.3", "10.1.2.3", "-1");
  network_is("joe@", "10.1.2.3", "-1");
  /* ucspi-tcp-ipv6's forms */
  network_is("2001:db8:", "2001:db8:1::1", "2001:db8::/32");
  network_is("2001:db8::", "2001:db8::1", "-1");   /* no network */
  network_is("2001:db8::", "2001:db8::", "2001:db8::/128");
  network_is("::ffff:10.0.0.0/104", "10.1.2.3", "10.0.0.0/8");
  network_is("::ffff:10.1.2.3", "10.1.2.3", "10.1.2.3/32");
}

int main(void)
{
  rules();
  rates();
  networks();
  return tap_done();
}
