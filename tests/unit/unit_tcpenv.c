#include <stdlib.h>
#include "tap.h"
#include "tcpenv.h"

int main(void)
{
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
