#ifndef TCPENV_H
#define TCPENV_H
#include "addr.h"
#include "env.h"

/* The environment a UCSPI TCP program gets from tcpserver and tcpclient
   (tcp-environ(5)).  One function serves both programs, so that the
   variables, their forms and what is removed never differ.

   Always set: PROTO, TCPLOCALIP, TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT.
   Set when known, removed when unknown (never inherited):
   TCPLOCALHOST, TCPREMOTEHOST, TCPREMOTEINFO.
   IPv4 connection (also a v4 client on a dual-stack socket): PROTO=TCP,
   dotted addresses, exactly as 0.88; the TCP6* variables are removed.
   IPv6 connection: PROTO=TCP6, RFC 5952 addresses (no scope), and the
   copies TCP6LOCALIP, TCP6LOCALPORT, TCP6LOCALHOST, TCP6REMOTEIP,
   TCP6REMOTEPORT, TCP6REMOTEHOST, TCP6REMOTEINFO (same rules), plus
   TCP6INTERFACE, the interface name of a link-local connection (removed
   otherwise). */

struct tcpenv {
  struct ip_addr local;
  unsigned localport;
  struct ip_addr remote;
  unsigned remoteport;
  const char *localhost;   /* NULL: unknown */
  const char *remotehost;  /* NULL: unknown */
  const char *remoteinfo;  /* NULL: unknown */
};

/* Apply the variables to e (on top of what e holds already).
   0, or -1 when out of memory. */
int tcpenv_apply(struct envb *e, const struct tcpenv *t);

/* The same for one string variable and its TCP6 twin: set both (IPv6) or
   just the TCP one, or remove them when value is NULL.  name is the TCP
   name without the "TCP" prefix, e.g. "REMOTEHOST". */
int tcpenv_apply_one(struct envb *e, int family, const char *name,
                     const char *value);
#endif
