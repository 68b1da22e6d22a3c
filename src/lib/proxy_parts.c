/* What the two versions' parsers share (proxy_parts.h). */
#include <netinet/in.h>
#include <string.h>
#include "proxy.h"
#include "proxy_parts.h"

int proxy_fail(const char **why, const char *text)
{
  if (why) *why = text;
  return -1;
}

/* An IPv6 address as sent; v4-mapped ones are folded later, by
   proxy_fold_endpoints, once both are known. */
void proxy_set_ip6(struct ip_addr *ip, const unsigned char a[16])
{
  memset(ip, 0, sizeof *ip);
  ip->family = AF_INET6;
  memcpy(ip->a, a, 16);
}

/* Both endpoints to IPv4 when both are v4-mapped, else neither: the
   server derives PROTO from the client's family, so the two must stay
   one family (TCP6 ::ffff:192.0.2.1 2001:db8::1 is an IPv6 connection
   with TCPLOCALIP=2001:db8::1, never PROTO=TCP). */
void proxy_fold_endpoints(struct proxy_header *h)
{
  if (!ip_is_v4mapped(&h->src) || !ip_is_v4mapped(&h->dst)) return;
  ip_fold_v4mapped(&h->src);
  ip_fold_v4mapped(&h->dst);
}

void proxy_set_ip4(struct ip_addr *ip, const unsigned char a[4])
{
  ip_set_v4(ip, a[0], a[1], a[2], a[3]);
}
