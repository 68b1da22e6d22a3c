#ifndef RULEVARS_H
#define RULEVARS_H
#include <stddef.h>
#include "addr.h"
#include "clientkey.h"

/* The variables a rule sets for tcpserver itself, beyond the program's
   environment: its client's limits and whether it is a trusted proxy.
     MAXCONNIP=N     at most N connections at once per client
     MAXCONNC=N      at most N at once from the client's /24 (IPv6: /48)
     MAXCONNNET=N    at most N at once from the network the rule names,
                     all its clients together (an address, a dotted
                     prefix, a CIDR network, or the empty rule: everyone)
     MAXCONNRATE=R/B at most R new connections per second per client,
                     with bursts of B (R may have 3 decimals)
     DIEMSG=text     what a client refused for a limit is told
     PROXYPROTOCOL=v1|v2|any   the connecting address is a trusted proxy
   N is decimal; 0, an empty value or one that is not a number means no
   limit (the limits patch for 0.88 treats unset and 0 alike).  The
   variables still reach the program, as the limits patch left them. */

struct rulevars {
  unsigned long maxconnip, maxconnc, maxconnnet;   /* 0: none */
  unsigned long rate_milli, burst;                 /* rate_milli 0: none */
  const char *diemsg;                              /* NULL: none */
  size_t diemsglen;
  int proxy;        /* 0 none, else PROXY_V1 | PROXY_V2 bits; -1 a bad value */
};

/* The limits of a rule from its data (as rules_find returns it); the
   pointers point into data. */
void rulevars_from_rule(const char *data, size_t datalen,
                          struct rulevars *l);

/* 1 if the rule sets a limit on connections at once. */
int rulevars_concurrent(const struct rulevars *l);

/* "R[/B]": R connections per second with up to 3 decimals (0.001 to
   1000000), B a whole burst (default: R rounded up).  Returns the bytes
   used (the rest of s, e.g. ":message", is the caller's), or 0 when s does
   not start with a valid rate. */
size_t rulevars_parse_rate(const char *s, size_t len,
                             unsigned long *rate_milli, unsigned long *burst);

/* The network a rule's key names, for MAXCONNNET, as a client key of
   client's family: "10.0.0.0/8", "2001:db8::/32", "10.66." (/16),
   "10.1.2.3" (/32), "2001:db8::1" (/128), "" (/0: every client of the
   family).  Returns 0, or -1 when the key names no network (a host name
   or ident rule) or not one of the client's family. */
int rulevars_rule_network(const char *key, size_t keylen,
                            const struct ip_addr *client,
                            struct clientkey *net);
#endif
