#include <stdio.h>
#include <stdlib.h>
#include "tap.h"
#include "tcpenv.h"

/* The forms of an IPv4 client, as ucspi-tcp-ipv6 gave them (observed). */
static void test_forms(void)
{
  struct envb e;
  struct tcpenv t = { .localport = 25, .remoteport = 4321, .localhost = "0" };
  char *base[] = { "TCP6REMOTEHOST=stale", NULL };
  envb_init(&e, base);
  ip_parse("127.0.0.1", &t.local);
  ip_parse("10.2.3.4", &t.remote);
  tcpenv_apply_form(&e, &t, TCPENV_COPIES);
  tap_is_str(envb_get(&e, "PROTO"), "TCP", "copies: PROTO=TCP");
  tap_is_str(envb_get(&e, "TCPREMOTEIP"), "10.2.3.4", "copies: TCPREMOTEIP dotted");
  tap_is_str(envb_get(&e, "TCP6REMOTEIP"), "::ffff:10.2.3.4", "copies: TCP6REMOTEIP mapped");
  tap_is_str(envb_get(&e, "TCPLOCALIP"), "127.0.0.1", "copies: TCPLOCALIP dotted");
  tap_is_str(envb_get(&e, "TCP6LOCALIP"), "::ffff:127.0.0.1", "copies: TCP6LOCALIP mapped");
  tap_is_str(envb_get(&e, "TCP6LOCALPORT"), "25", "copies: TCP6LOCALPORT");
  tap_is_str(envb_get(&e, "TCP6REMOTEPORT"), "4321", "copies: TCP6REMOTEPORT");
  tap_is_str(envb_get(&e, "TCP6LOCALHOST"), "0", "copies: TCP6LOCALHOST");
  tap_ok(!envb_get(&e, "TCP6REMOTEHOST"), "copies: unknown host, twin removed");
  envb_reset(&e);
  tcpenv_apply_form(&e, &t, TCPENV_MAPPED);
  tap_is_str(envb_get(&e, "PROTO"), "TCP6", "mapped: PROTO=TCP6");
  tap_is_str(envb_get(&e, "TCPREMOTEIP"), "::ffff:10.2.3.4", "mapped: TCPREMOTEIP");
  tap_is_str(envb_get(&e, "TCP6REMOTEIP"), "::ffff:10.2.3.4", "mapped: TCP6REMOTEIP");
  tap_is_str(envb_get(&e, "TCPLOCALIP"), "::ffff:127.0.0.1", "mapped: TCPLOCALIP");
  tap_ok(!envb_get(&e, "TCP6INTERFACE"), "mapped: no TCP6INTERFACE");
  envb_reset(&e);
  tcpenv_apply_form(&e, &t, TCPENV_PLAIN);
  tap_ok(!envb_get(&e, "TCP6LOCALIP") && !envb_get(&e, "TCP6LOCALHOST"), "plain: no twins");
  struct ip_addr buf;
  tap_ok(tcpenv_shown(&t.remote, TCPENV_COPIES, &buf) == &t.remote, "shown: copies keep IPv4");
  tap_ok(tcpenv_shown(&t.remote, TCPENV_MAPPED, &buf)->family == AF_INET6, "shown: mapped");
  envb_free(&e);
}

/* host, -4/-6, UCSPI_TCP_IPV6 to "any family v6only form". */
static const char *plan(const char *host, int option, const char *compat)
{
  static char out[64];
  static const char *const forms[] = { "plain", "copies", "mapped" };
  struct tcpenv_bind b;
  tcpenv_bind_plan(host, option, compat, &b);
  snprintf(out, sizeof out, "%s %s%s %s",
           b.any == AF_INET ? "0.0.0.0" : b.any == AF_INET6 ? "::" : "lookup",
           b.family == AF_INET ? "4" : b.family == AF_INET6 ? "6" : "any",
           b.any == AF_INET6 ? (b.v6only ? " v6only" : " dual") : "", forms[b.form]);
  return out;
}

static void test_plan(void)
{
  tap_is_str(plan("0", 0, NULL), "0.0.0.0 any plain", "0: 0.88's");
  tap_is_str(plan("", 0, NULL), "0.0.0.0 any plain", "empty: 0.88's");
  tap_is_str(plan("0", 0, "0"), "0.0.0.0 any plain", "0 with UCSPI_TCP_IPV6=0");
  tap_is_str(plan("0", 0, ""), "0.0.0.0 any plain", "0 with UCSPI_TCP_IPV6 empty");
  tap_is_str(plan("0", 0, "1"), ":: any dual copies", "0 with UCSPI_TCP_IPV6=1: ucspi-tcp-ipv6's");
  tap_is_str(plan("0", AF_INET6, NULL), ":: 6 dual mapped", "-6 0: ucspi-tcp-ipv6's");
  tap_is_str(plan("0", AF_INET6, "1"), ":: 6 dual mapped", "-6 0 with the variable");
  tap_is_str(plan("0", AF_INET, NULL), "0.0.0.0 4 copies", "-4 0: ucspi-tcp-ipv6's");
  tap_is_str(plan("::", 0, NULL), ":: any dual plain", ":: both families (ours)");
  tap_is_str(plan("[::]", 0, NULL), ":: any dual plain", "[::] too");
  tap_is_str(plan("::", 0, "1"), ":: any dual copies", ":: with the variable");
  tap_is_str(plan("::", AF_INET6, NULL), ":: 6 v6only mapped", "-6 :: IPv6 only");
  tap_is_str(plan("::", AF_INET, NULL), "lookup 4 copies", "-4 :: is looked up (and fails)");
  tap_is_str(plan("127.0.0.1", 0, NULL), "lookup any plain", "IPv4 address: 0.88's");
  tap_is_str(plan("127.0.0.1", 0, "1"), "lookup any copies", "IPv4 address, variable");
  tap_is_str(plan("127.0.0.1", AF_INET6, NULL), "lookup 6 mapped", "-6 127.0.0.1");
  tap_is_str(plan("::1", 0, NULL), "lookup any plain", "::1");
  tap_is_str(plan("name.example", AF_INET, NULL), "lookup 4 copies", "-4 name");
  struct tcpenv_bind b;
  tcpenv_bind_plan("::1", 0, NULL, &b);
  tap_ok(b.v6only, "a specific IPv6 address: v6only");
}

int main(void)
{
  test_forms();
  test_plan();
  char *base[] = { "PATH=/bin", "TCPREMOTEHOST=stale", "TCPREMOTEINFO=old",
                   "TCPLOCALHOST=old", "TCP6REMOTEIP=::9", "TCP6INTERFACE=x",
                   NULL };
  struct envb e;
  struct tcpenv t = { .localport = 25, .remoteport = 4321 };
  envb_init(&e, base);
  ip_parse("127.0.0.1", &t.local);
  ip_parse("10.2.3.4", &t.remote);
  tap_ok(tcpenv_apply(&e, &t) == 0, "v4 applies");
  tap_is_str(envb_get(&e, "PROTO"), "TCP", "PROTO=TCP");
  tap_is_str(envb_get(&e, "TCPLOCALIP"), "127.0.0.1", "TCPLOCALIP");
  tap_is_str(envb_get(&e, "TCPLOCALPORT"), "25", "TCPLOCALPORT");
  tap_is_str(envb_get(&e, "TCPREMOTEIP"), "10.2.3.4", "TCPREMOTEIP");
  tap_is_str(envb_get(&e, "TCPREMOTEPORT"), "4321", "TCPREMOTEPORT");
  tap_ok(!envb_get(&e, "TCPREMOTEHOST"), "unknown host removed");
  tap_ok(!envb_get(&e, "TCPREMOTEINFO"), "unknown info removed");
  tap_ok(!envb_get(&e, "TCPLOCALHOST"), "unknown local host removed");
  tap_ok(!envb_get(&e, "TCP6REMOTEIP"), "v4: TCP6 copies removed");
  tap_ok(!envb_get(&e, "TCP6INTERFACE"), "v4: TCP6INTERFACE removed");
  tap_is_str(envb_get(&e, "PATH"), "/bin", "base kept");

  envb_reset(&e);
  t.localhost = "";
  t.remotehost = "peer.example";
  t.remoteinfo = "";
  tcpenv_apply(&e, &t);
  tap_is_str(envb_get(&e, "TCPLOCALHOST"), "", "empty local host kept");
  tap_is_str(envb_get(&e, "TCPREMOTEHOST"), "peer.example", "host set");
  tap_is_str(envb_get(&e, "TCPREMOTEINFO"), "", "empty info kept");

  envb_reset(&e);
  ip_parse("2001:DB8:0:0::1", &t.local);
  ip_parse("::1", &t.remote);
  t.remoteinfo = "joe";
  tcpenv_apply(&e, &t);
  tap_is_str(envb_get(&e, "PROTO"), "TCP6", "PROTO=TCP6");
  tap_is_str(envb_get(&e, "TCPLOCALIP"), "2001:db8::1", "RFC 5952 local");
  tap_is_str(envb_get(&e, "TCP6LOCALIP"), "2001:db8::1", "TCP6LOCALIP");
  tap_is_str(envb_get(&e, "TCP6LOCALPORT"), "25", "TCP6LOCALPORT");
  tap_is_str(envb_get(&e, "TCP6REMOTEIP"), "::1", "TCP6REMOTEIP");
  tap_is_str(envb_get(&e, "TCP6REMOTEPORT"), "4321", "TCP6REMOTEPORT");
  tap_is_str(envb_get(&e, "TCP6REMOTEHOST"), "peer.example", "TCP6REMOTEHOST");
  tap_is_str(envb_get(&e, "TCP6REMOTEINFO"), "joe", "TCP6REMOTEINFO");
  tap_is_str(envb_get(&e, "TCP6LOCALHOST"), "", "TCP6LOCALHOST");
  tap_ok(!envb_get(&e, "TCP6INTERFACE"), "no scope: no TCP6INTERFACE");

  envb_reset(&e);
  ip_parse("fe80::1%1", &t.remote);
  t.remotehost = NULL;
  tcpenv_apply(&e, &t);
  tap_ok(envb_get(&e, "TCP6INTERFACE") != NULL, "link-local: TCP6INTERFACE");
  tap_is_str(envb_get(&e, "TCPREMOTEIP"), "fe80::1", "no scope in the IP");
  tap_ok(!envb_get(&e, "TCP6REMOTEHOST") && !envb_get(&e, "TCPREMOTEHOST"),
         "unknown host: both removed");
  envb_free(&e);
  return tap_done();
}
