#include <netinet/in.h>
#include <string.h>
#include "proxy.h"
#include "proxy_parts.h"

/* The parts both versions share, and the entry points; each version's
   parser is a file of its own (proxy_v1.c, proxy_v2.c). */

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

/* ---- Either version ------------------------------------------------- */

int proxy_parse(const unsigned char *buf, size_t len, unsigned accept,
                struct proxy_header *h, size_t *need, const char **why)
{
  *need = 0;
  accept &= PROXY_ANY;
  if (!accept) return proxy_fail(why, "no PROXY version accepted");
  if (!len) {
    *need = accept & PROXY_V1 ? PROXY_V1_MIN : PROXY_V2_FIXED;
    return 0;
  }
  int r;
  size_t n = 0;
  if (buf[0] == 'P') {
    if (!(accept & PROXY_V1)) return proxy_fail(why, "v1 header, only v2 accepted");
    r = proxy_v1_parse(buf, len, h, &n, why);
  } else if (buf[0] == '\r') {
    if (!(accept & PROXY_V2)) return proxy_fail(why, "v2 header, only v1 accepted");
    r = proxy_v2_parse(buf, len, h, &n, why);
  } else {
    return proxy_fail(why, "not a PROXY header");
  }
  if (r >= 0) *need = n;
  return r;
}

size_t proxy_value_env(const struct proxy_value *v, char *out, size_t size)
{
  size_t n = v->len < size - 1 ? v->len : size - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = v->v[i];
    out[i] = c >= 32 && c <= 126 ? (char) c : '?';
  }
  out[n] = 0;
  return n;
}
