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
   IPv4 connection (also a v4 client on a dual-stack socket), in one of
   three forms (tcpserver's -4, -6 and UCSPI_TCP_IPV6 choose):
   TCPENV_PLAIN: PROTO=TCP, dotted addresses, exactly as 0.88; the TCP6*
     variables are removed.
   TCPENV_COPIES: the same, plus the TCP6* copies with the addresses in
     IPv4-mapped form (TCP6REMOTEIP=::ffff:10.2.3.4), as ucspi-tcp-ipv6
     gave them without -6.
   TCPENV_MAPPED: as an IPv6 connection from ::ffff:10.2.3.4 (PROTO=TCP6,
     TCPREMOTEIP=TCP6REMOTEIP=::ffff:10.2.3.4), as ucspi-tcp-ipv6 -6.
   IPv6 connection: PROTO=TCP6, RFC 5952 addresses (no scope), and the
   copies TCP6LOCALIP, TCP6LOCALPORT, TCP6LOCALHOST, TCP6REMOTEIP,
   TCP6REMOTEPORT, TCP6REMOTEHOST, TCP6REMOTEINFO (same rules), plus
   TCP6INTERFACE, the interface name of a link-local connection (removed
   otherwise). */

enum tcpenv_form { TCPENV_PLAIN, TCPENV_COPIES, TCPENV_MAPPED };

struct tcpenv {
  struct ip_addr local;
  unsigned localport;
  struct ip_addr remote;
  unsigned remoteport;
  const char *localhost;   /* NULL: unknown */
  const char *remotehost;  /* NULL: unknown */
  const char *remoteinfo;  /* NULL: unknown */
};

/* The address as the program and the rules see it: an IPv4 address in
   TCPENV_MAPPED form is mapped into buf; anything else is ip itself. */
const struct ip_addr *tcpenv_shown(const struct ip_addr *ip,
                                   enum tcpenv_form form,
                                   struct ip_addr *buf);

/* What tcpserver's host argument, -4 and -6 mean (tcpserver(1)): 0.88's
   meaning where 0.88 defines it, ucspi-tcp-ipv6's where it does not, and
   ucspi-tcp-ipv6's for host 0 too when the variable UCSPI_TCP_IPV6 is
   set to a value other than "" and "0".
     host 0 (or empty), no option: 0.0.0.0, TCPENV_PLAIN (0.88);
       with UCSPI_TCP_IPV6: ::, both families, TCPENV_COPIES.
     -4: IPv4 only (names too), TCPENV_COPIES.
     -6: IPv6 form; with host 0 ::, both families, TCPENV_MAPPED.
     host ::, no option: both families (ours: ucspi-tcp-ipv6 refused ::),
       TCPENV_PLAIN, TCPENV_COPIES with UCSPI_TCP_IPV6; with -6 IPv6
       only (v6only).
     any other host: looked up (-4: IPv4 addresses only, -6: IPv6 ones,
       else IPv4 first), the form as above. */
#define TCPENV_IPV6_VAR "UCSPI_TCP_IPV6"
struct tcpenv_bind {
  int any;           /* AF_INET: bind 0.0.0.0; AF_INET6: ::; 0: look
                        the host up */
  int family;        /* when looking up: AF_INET, AF_INET6, AF_UNSPEC */
  int v6only;        /* IPV6_V6ONLY for an IPv6 socket */
  enum tcpenv_form form;
};
/* host: the argument; option: 0, AF_INET (-4) or AF_INET6 (-6), the last
   given; compat: the value of UCSPI_TCP_IPV6, or NULL when unset. */
void tcpenv_bind_plan(const char *host, int option, const char *compat,
                      struct tcpenv_bind *b);

/* Apply the variables to e (on top of what e holds already), an IPv4
   connection in the given form; tcpenv_apply is TCPENV_PLAIN.
   0, or -1 when out of memory. */
int tcpenv_apply(struct envb *e, const struct tcpenv *t);
int tcpenv_apply_form(struct envb *e, const struct tcpenv *t,
                      enum tcpenv_form form);

/* The same for one string variable and its TCP6 twin: set both (IPv6) or
   just the TCP one, or remove them when value is NULL.  name is the TCP
   name without the "TCP" prefix, e.g. "REMOTEHOST". */
int tcpenv_apply_one(struct envb *e, int family, const char *name,
                     const char *value);
#endif
