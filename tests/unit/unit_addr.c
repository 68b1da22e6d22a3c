#include <sys/socket.h>
#include <netinet/in.h>
#include "tap.h"
#include "addr.h"
#include "port.h"

static void canon(const char *in, const char *want)
{
  struct ip_addr ip;
  char buf[IP_FMT_SIZE];
  char name[200];
  snprintf(name, sizeof name, "%s formats as %s", in, want ? want : "error");
  if (ip_parse(in, &ip) < 0) { tap_ok(want == NULL, name); return; }
  ip_format(&ip, buf);
  tap_is_str(buf, want, name);
}

/* The text ucspi-tcp-ipv6 gave (observed with its tcpserver). */
static void legacy(const char *in, const char *want)
{
  struct ip_addr ip;
  char buf[IP_FMT_SIZE];
  char name[200];
  snprintf(name, sizeof name, "%s is %s to ucspi-tcp-ipv6", in, want);
  if (ip_parse(in, &ip) < 0) { tap_ok(0, name); return; }
  ip_format_legacy6(&ip, buf);
  tap_is_str(buf, want, name);
}

int main(void)
{
  legacy("2001:db8:0:1:1:1:1:1", "2001:db8::1:1:1:1:1");
  legacy("2001:0:1:0:1:1:1:1", "2001::1:0:1:1:1:1");
  legacy("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7::");
  legacy("0:1:2:3:4:5:6:7", "::1:2:3:4:5:6:7");
  legacy("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
  legacy("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1");
  legacy("2001:db8:1:0:0:1:0:1", "2001:db8:1::1:0:1");
  legacy("::ffff:127.0.0.1", "::ffff:127.0.0.1");
  legacy("127.0.0.1", "127.0.0.1");
  canon("1.2.3.4", "1.2.3.4");
  canon("0.0.0.0", "0.0.0.0");
  canon("255.255.255.255", "255.255.255.255");
  canon("256.1.1.1", NULL);
  canon("1.2.3", NULL);
  canon("1.2.3.4.5", NULL);
  canon("1.2.3.4 ", NULL);
  canon("::1", "::1");
  canon("::", "::");
  canon("[::1]", "::1");
  canon("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
  canon("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1");
  canon("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
  canon("2001:db8:1:1:1:1:0:1", "2001:db8:1:1:1:1:0:1");
  canon("::ffff:1.2.3.4", "::ffff:1.2.3.4");
  canon("1::", "1::");
  canon("fe80::1%1", "fe80::1");
  canon(":::", NULL);
  canon("2001:db8::g", NULL);
  canon("[::1", NULL);

  struct sockaddr_in6 s6;
  memset(&s6, 0, sizeof s6);
  s6.sin6_family = AF_INET6;
  s6.sin6_port = htons(4321);
  unsigned char mapped[16] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff,10,1,2,3 };
  memcpy(s6.sin6_addr.s6_addr, mapped, 16);
  struct ip_addr ip;
  unsigned port;
  ip_from_sockaddr((struct sockaddr *) &s6, &ip, &port);
  char buf[IP_FMT_SIZE];
  ip_format(&ip, buf);
  tap_is_str(buf, "10.1.2.3", "v4-mapped folds to IPv4");
  tap_ok(ip.family == AF_INET && port == 4321, "family and port");

  tap_ok(port_parse("25", &port) == 0 && port == 25, "port number");
  tap_ok(port_parse("65536", &port) < 0, "port out of range");
  tap_ok(port_parse("smtp", &port) == 0 && port == 25, "service name");
  tap_ok(port_parse("nosuchservice", &port) < 0, "unknown service");
  tap_ok(port_parse("", &port) < 0, "empty port");
  return tap_done();
}
