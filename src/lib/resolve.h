#ifndef RESOLVE_H
#define RESOLVE_H
#include <stddef.h>
#include "addr.h"

/* The host argument of tcpserver and tcpclient to addresses, read as
   0.88 reads it, with IPv6 and the system resolver added:
   - a string of only digits, dots and brackets is a dotted literal the
     way 0.88's dns_ip4 takes it: brackets are ignored, each part between
     dots is a byte (modulo 256), every four bytes make an address
     ("[127.000.000.001]" is 127.0.0.1, "1.2.3" is none);
   - an IPv6 address in any textual form (ip_parse);
   - anything else a name, through getaddrinfo (/etc/hosts, nsswitch);
     a name that DNS cannot carry (a label over 63 bytes, more than 255
     bytes in all) fails with EPROTO, as in 0.88.
   The programs handle "" and "0" themselves (they differ).
   family (AF_INET, AF_INET6, AF_UNSPEC) is the family asked of
   getaddrinfo; literals come back whatever their family.
   Returns 0 with *n addresses in addrs[max] (duplicates dropped; *n may
   be 0: there is no address), or -1 with errno when the lookup failed
   for now (0.88: "temporarily unable to figure out IP address"). */
int resolve_host(const char *host, int family, struct ip_addr *addrs,
                 size_t max, size_t *n);

/* The one address a server binds: the first IPv4 address unless family
   is AF_INET6, else the first IPv6 address unless family is AF_INET,
   else the first address.  Returns 1 with *ip set, 0 when there is
   none, -1 with errno as resolve_host. */
int resolve_host_one(const char *host, int family, struct ip_addr *ip);
#endif
