#ifndef ADDR_H
#define ADDR_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "num.h"   /* fmt_ulong, which every address user needs */

/* An IP address of either family.  IPv4-mapped IPv6 addresses are folded
   to plain IPv4 wherever they enter (ip_from_sockaddr), so that a v4
   client on a dual-stack socket looks exactly as on a v4 socket. */
struct ip_addr {
  int family;            /* AF_INET or AF_INET6 */
  unsigned char a[16];   /* AF_INET: the first 4 bytes */
  uint32_t scope;        /* IPv6 scope id (link-local), else 0 */
};

/* Enough for any formatted address, with "%" and an interface name. */
#define IP_FMT_SIZE 64

/* Parse a numeric address: dotted IPv4 (strict, four parts), or IPv6 in
   any textual form, optionally in brackets and with "%scope" (interface
   name or number).  Returns 0, or -1 if s is not an address. */
int ip_parse(const char *s, struct ip_addr *ip);

/* Format: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, longest
   run of zero groups as "::", v4-mapped as ::ffff:a.b.c.d).  No scope.
   Returns the length; buf holds at least IP_FMT_SIZE bytes. */
size_t ip_format(const struct ip_addr *ip, char *buf);
/* The text ucspi-tcp-ipv6 gave the same address: as ip_format, except
   that a lone zero group is compressed too when no longer run exists
   (2001:db8::1:1:1:1:1, where RFC 5952 writes 2001:db8:0:1:1:1:1:1).
   Rules written for it matched their textual prefixes against this. */
size_t ip_format_legacy6(const struct ip_addr *ip, char *buf);

/* The scope's interface name (e.g. "eth0") into buf[IP_FMT_SIZE], or ""
   when there is none.  Returns the length. */
size_t ip_scope_name(const struct ip_addr *ip, char *buf);

/* sockaddr (AF_INET or AF_INET6) to address and port; v4-mapped folds. */
void ip_from_sockaddr(const struct sockaddr *sa, struct ip_addr *ip,
                      unsigned *port);
/* Address and port to a sockaddr; returns its length. */
socklen_t ip_to_sockaddr(const struct ip_addr *ip, unsigned port,
                         struct sockaddr_storage *ss);

/* 1 if ip is 0.0.0.0 or ::. */
int ip_is_any(const struct ip_addr *ip);
/* 1 if both are the same address (scope ignored). */
int ip_equal(const struct ip_addr *x, const struct ip_addr *y);
/* IPv4 0.0.0.0 and 127.0.0.1. */
void ip_set_v4(struct ip_addr *ip, unsigned char a, unsigned char b,
               unsigned char c, unsigned char d);

/* IPv4-mapped IPv6 (::ffff:0:0/96), the one place that knows the prefix:
   1 if ip is such an address; fold it to plain IPv4 (anything else is
   left alone); an IPv4 address to its mapped IPv6 form (likewise). */
int ip_is_v4mapped(const struct ip_addr *ip);
void ip_fold_v4mapped(struct ip_addr *ip);
void ip_v4mapped(struct ip_addr *ip);

/* Clear every bit after the first len (the host part of a network of
   prefix length len); len beyond the family's bits clears nothing. */
void ip_mask(struct ip_addr *ip, unsigned len);
#endif
