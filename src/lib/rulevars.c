#include <string.h>
#include "ratelimit.h"
#include "rulevars.h"
#include "num.h"
#include "proxy.h"
#include "rules.h"
#include "ruleparse.h"

/* A whole decimal number filling exactly s[0..len); 0 otherwise. */
static unsigned long whole_number(const char *s, size_t len)
{
  unsigned long n;
  if (!len || scan_ulong_flags(s, len, SCAN_SATURATE, &n) != len) return 0;
  return n;
}

static int proxy_versions(const char *v, size_t len)
{
  if (len == 2 && !memcmp(v, "v1", 2)) return PROXY_V1;
  if (len == 2 && !memcmp(v, "v2", 2)) return PROXY_V2;
  if (len == 3 && !memcmp(v, "any", 3)) return PROXY_ANY;
  return -1;
}

void rulevars_from_rule(const char *data, size_t datalen,
                          struct rulevars *l)
{
  const char *v;
  size_t n;
  memset(l, 0, sizeof *l);
  if (rules_data_get(data, datalen, "MAXCONNIP", &v, &n))
    l->maxconnip = whole_number(v, n);
  if (rules_data_get(data, datalen, "MAXCONNC", &v, &n))
    l->maxconnc = whole_number(v, n);
  if (rules_data_get(data, datalen, "MAXCONNNET", &v, &n))
    l->maxconnnet = whole_number(v, n);
  if (rules_data_get(data, datalen, "MAXCONNRATE", &v, &n) &&
      rulevars_parse_rate(v, n, &l->rate_milli, &l->burst) != n)
    l->rate_milli = l->burst = 0;
  if (rules_data_get(data, datalen, "DIEMSG", &v, &n)) {
    l->diemsg = v;
    l->diemsglen = n;
  }
  if (rules_data_get(data, datalen, "PROXYPROTOCOL", &v, &n))
    l->proxy = proxy_versions(v, n);
}

int rulevars_concurrent(const struct rulevars *l)
{
  return l->maxconnip || l->maxconnc || l->maxconnnet;
}

size_t rulevars_parse_rate(const char *s, size_t len,
                             unsigned long *rate_milli, unsigned long *burst)
{
  unsigned long whole, frac = 0;
  size_t i = scan_ulong_flags(s, len, SCAN_SATURATE, &whole);
  if (!i || whole > RATELIMIT_RATE_MAX / 1000) return 0;
  if (i < len && s[i] == '.') {
    size_t digits = 0;
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
      if (digits >= 3) return 0;
      frac = frac * 10 + (unsigned long) (s[i] - '0');
    }
    if (!digits) return 0;
    while (digits++ < 3) frac *= 10;
  }
  unsigned long milli = whole * 1000 + frac;
  if (!milli || milli > RATELIMIT_RATE_MAX) return 0;
  unsigned long b = (milli + 999) / 1000;
  if (i < len && s[i] == '/') {
    size_t used = scan_ulong_flags(s + i + 1, len - i - 1, SCAN_SATURATE, &b);
    if (!used || !b || b > RATELIMIT_BURST_MAX) return 0;
    i += 1 + used;
  }
  if (b > RATELIMIT_BURST_MAX) b = RATELIMIT_BURST_MAX;
  *rate_milli = milli;
  *burst = b;
  return i;
}

/* "a.b." style: the octets given and their count; -1 if not one. */
static int dotted_prefix(const char *key, size_t len, struct ip_addr *ip,
                         unsigned *bits)
{
  unsigned char a[4] = { 0, 0, 0, 0 };
  unsigned octets = 0;
  size_t i = 0;
  if (!len || key[len - 1] != '.') return -1;
  while (i < len) {
    unsigned long v;
    size_t used = scan_ulong_flags(key + i, len - i, SCAN_SATURATE, &v);
    if (!used || used > 3 || v > 255 || octets >= 3 || key[i + used] != '.')
      return -1;
    a[octets++] = (unsigned char) v;
    i += used + 1;
  }
  ip_set_v4(ip, a[0], a[1], a[2], a[3]);
  *bits = 8 * octets;
  return 0;
}

int rulevars_rule_network(const char *key, size_t keylen,
                            const struct ip_addr *client,
                            struct clientkey *net)
{
  struct ip_addr ip;
  unsigned bits;
  const char *slash = memchr(key, '/', keylen);
  if (!keylen) {
    ip = *client;
    bits = 0;
  } else if (slash) {
    unsigned long n;
    size_t digits = keylen - (size_t) (slash - key) - 1;
    if (rulekey_parse_ip(key, (size_t) (slash - key), &ip) < 0 || !digits ||
        scan_ulong_flags(slash + 1, digits, SCAN_SATURATE, &n) != digits ||
        n > 128)
      return -1;
    bits = (unsigned) n;
  } else if (rulekey_v6_kind(key, keylen) == RULEKEY_TEXT_PREFIX) {
    /* ucspi-tcp-ipv6's 2001:db8: is 2001:db8::/32 */
    if (rulekey_cidr_equivalent(key, keylen, &ip, &bits) < 0) return -1;
  } else if (dotted_prefix(key, keylen, &ip, &bits) < 0) {
    if (rulekey_parse_ip(key, keylen, &ip) < 0) return -1;
    bits = ip.family == AF_INET ? 32 : 128;
  }
  /* 2001:db8:: matched as a textual prefix names no network. */
  if (rulekey_v6_kind(key, keylen) == RULEKEY_PREFIX_OR_ADDRESS &&
      !ip_equal(&ip, client)) return -1;
  /* A ::ffff: key matched a client shown mapped (tcpserver -6), which
     the server counts as the IPv4 client it is. */
  if (client->family == AF_INET && ip_is_v4mapped(&ip) && bits >= 96) {
    ip_fold_v4mapped(&ip);
    bits -= 96;
  }
  if (ip.family != client->family) return -1;
  return clientkey_make(net, &ip, bits);
}
