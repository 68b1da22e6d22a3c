#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "num.h"

void ip_set_v4(struct ip_addr *ip, unsigned char a, unsigned char b,
               unsigned char c, unsigned char d)
{
  memset(ip, 0, sizeof *ip);
  ip->family = AF_INET;
  ip->a[0] = a; ip->a[1] = b; ip->a[2] = c; ip->a[3] = d;
}

/* ::ffff:0:0/96, the IPv4-mapped addresses. */
static const unsigned char v4mapped_prefix[12] =
  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int bytes_v4mapped(const unsigned char *a)
{
  return memcmp(a, v4mapped_prefix, sizeof v4mapped_prefix) == 0;
}

int ip_is_v4mapped(const struct ip_addr *ip)
{
  return ip->family == AF_INET6 && bytes_v4mapped(ip->a);
}

void ip_fold_v4mapped(struct ip_addr *ip)
{
  if (!ip_is_v4mapped(ip)) return;
  ip_set_v4(ip, ip->a[12], ip->a[13], ip->a[14], ip->a[15]);
}

void ip_v4mapped(struct ip_addr *ip)
{
  if (ip->family != AF_INET) return;
  memmove(ip->a + 12, ip->a, 4);
  memcpy(ip->a, v4mapped_prefix, sizeof v4mapped_prefix);
  ip->family = AF_INET6;
}

void ip_mask(struct ip_addr *ip, unsigned len)
{
  for (unsigned i = 0; i < sizeof ip->a; i++) {
    unsigned keep = len > 8 * i ? len - 8 * i : 0;
    if (keep < 8) ip->a[i] &= (unsigned char) (0xff00u >> keep);
  }
}

/* Strict dotted quad: four decimal parts 0..255, no leading junk. */
static int parse_v4(const char *s, unsigned char out[4])
{
  for (int part = 0; part < 4; part++) {
    unsigned v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
      v = v * 10 + (unsigned) (*s++ - '0');
      if (++digits > 3 || v > 255) return -1;
    }
    if (!digits) return -1;
    out[part] = (unsigned char) v;
    if (part < 3 && *s++ != '.') return -1;
  }
  return *s ? -1 : 0;
}

static int parse_scope(const char *s, uint32_t *scope)
{
  if (!*s) return -1;
  char *end;
  unsigned long n = strtoul(s, &end, 10);
  if (*end == 0 && s[0] >= '0' && s[0] <= '9') {
    *scope = (uint32_t) n;
    return 0;
  }
  unsigned idx = if_nametoindex(s);
  if (!idx) return -1;
  *scope = idx;
  return 0;
}

int ip_parse(const char *s, struct ip_addr *ip)
{
  char buf[IP_FMT_SIZE];
  size_t len = strlen(s);
  memset(ip, 0, sizeof *ip);
  if (parse_v4(s, ip->a) == 0) {
    ip->family = AF_INET;
    return 0;
  }
  if (len >= sizeof buf) return -1;
  if (s[0] == '[') {
    if (len < 2 || s[len - 1] != ']') return -1;
    memcpy(buf, s + 1, len - 2);
    buf[len - 2] = 0;
  } else {
    memcpy(buf, s, len + 1);
  }
  char *pct = strchr(buf, '%');
  if (pct) {
    *pct = 0;
    if (parse_scope(pct + 1, &ip->scope) < 0) return -1;
  }
  if (inet_pton(AF_INET6, buf, ip->a) != 1) return -1;
  ip->family = AF_INET6;
  return 0;
}

static size_t format_v4(const unsigned char *a, char *buf)
{
  size_t len = 0;
  for (int i = 0; i < 4; i++) {
    if (i) buf[len++] = '.';
    len += fmt_ulong(buf + len, a[i]);
  }
  buf[len] = 0;
  return len;
}

static size_t format_hex(char *buf, unsigned v)
{
  static const char hex[] = "0123456789abcdef";
  size_t len = 0;
  int started = 0;
  for (int shift = 12; shift >= 0; shift -= 4) {
    unsigned d = (v >> shift) & 15;
    if (d || started || shift == 0) {
      buf[len++] = hex[d];
      started = 1;
    }
  }
  return len;
}

/* The longest run of zero groups of at least minrun is compressed,
   the first on a tie: RFC 5952 says 2, ucspi-tcp-ipv6 used 1. */
static size_t format_v6(const unsigned char *a, char *buf, int minrun)
{
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = (unsigned) (a[2 * i] << 8 | a[2 * i + 1]);
  if (bytes_v4mapped(a)) {
    memcpy(buf, "::ffff:", 7);
    return 7 + format_v4(a + 12, buf + 7);
  }
  int best = -1, bestlen = minrun - 1;
  for (int i = 0; i < 8;) {
    if (g[i]) { i++; continue; }
    int j = i;
    while (j < 8 && !g[j]) j++;
    if (j - i > bestlen) { best = i; bestlen = j - i; }
    i = j;
  }
  size_t len = 0;
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      buf[len++] = ':';
      if (i == 0) buf[len++] = ':';
      i += bestlen - 1;
      continue;
    }
    len += format_hex(buf + len, g[i]);
    if (i < 7) buf[len++] = ':';
  }
  buf[len] = 0;
  return len;
}

size_t ip_format(const struct ip_addr *ip, char *buf)
{
  if (ip->family == AF_INET) return format_v4(ip->a, buf);
  return format_v6(ip->a, buf, 2);
}

size_t ip_format_legacy6(const struct ip_addr *ip, char *buf)
{
  if (ip->family == AF_INET) return format_v4(ip->a, buf);
  return format_v6(ip->a, buf, 1);
}

size_t ip_scope_name(const struct ip_addr *ip, char *buf)
{
  char name[IF_NAMESIZE];
  buf[0] = 0;
  if (ip->family != AF_INET6 || !ip->scope) return 0;
  if (if_indextoname(ip->scope, name)) {
    size_t n = strlen(name);
    memcpy(buf, name, n + 1);
    return n;
  }
  return fmt_ulong(buf, ip->scope);
}

void ip_from_sockaddr(const struct sockaddr *sa, struct ip_addr *ip,
                      unsigned *port)
{
  memset(ip, 0, sizeof *ip);
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) (const void *) sa;
    if (port) *port = ntohs(s6->sin6_port);
    if (bytes_v4mapped(s6->sin6_addr.s6_addr)) {
      ip->family = AF_INET;
      memcpy(ip->a, s6->sin6_addr.s6_addr + 12, 4);
      return;
    }
    ip->family = AF_INET6;
    memcpy(ip->a, s6->sin6_addr.s6_addr, 16);
    ip->scope = s6->sin6_scope_id;
    return;
  }
  const struct sockaddr_in *s4 = (const struct sockaddr_in *) (const void *) sa;
  if (port) *port = ntohs(s4->sin_port);
  ip->family = AF_INET;
  memcpy(ip->a, &s4->sin_addr, 4);
}

socklen_t ip_to_sockaddr(const struct ip_addr *ip, unsigned port,
                         struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  if (ip->family == AF_INET6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) (void *) ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t) port);
    memcpy(s6->sin6_addr.s6_addr, ip->a, 16);
    s6->sin6_scope_id = ip->scope;
    return sizeof *s6;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *) (void *) ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons((uint16_t) port);
  memcpy(&s4->sin_addr, ip->a, 4);
  return sizeof *s4;
}

int ip_is_any(const struct ip_addr *ip)
{
  static const unsigned char zero[16];
  return memcmp(ip->a, zero, ip->family == AF_INET ? 4 : 16) == 0;
}

int ip_equal(const struct ip_addr *x, const struct ip_addr *y)
{
  if (x->family != y->family) return 0;
  return memcmp(x->a, y->a, x->family == AF_INET ? 4 : 16) == 0;
}
