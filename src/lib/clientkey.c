#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "clientkey.h"

int clientkey_make(struct clientkey *k, const struct ip_addr *ip,
                   unsigned prefix)
{
  unsigned max;
  memset(k, 0, sizeof *k);
  if (ip->family == AF_INET) {
    k->family = CLIENTKEY_V4;
    max = 32;
  } else if (ip->family == AF_INET6) {
    k->family = CLIENTKEY_V6;
    max = 128;
  } else {
    errno = EINVAL;
    return -1;
  }
  if (prefix > max) {
    errno = EINVAL;
    return -1;
  }
  struct ip_addr net = *ip;
  ip_mask(&net, prefix);
  k->prefix = (uint8_t) prefix;
  memcpy(k->a, net.a, max / 8);
  return 0;
}

int clientkey_equal(const struct clientkey *x, const struct clientkey *y)
{
  return memcmp(x, y, sizeof *x) == 0;
}

uint64_t clientkey_hash(const struct clientkey *k,
                        const struct siphash_key *seed)
{
  return siphash13(seed, k, sizeof *k);
}

size_t clientkey_format(const struct clientkey *k, char *buf)
{
  struct ip_addr ip;
  memset(&ip, 0, sizeof ip);
  ip.family = k->family == CLIENTKEY_V4 ? AF_INET : AF_INET6;
  memcpy(ip.a, k->a, sizeof k->a);
  size_t n = ip_format(&ip, buf);
  buf[n++] = '/';
  n += fmt_ulong(buf + n, k->prefix);
  buf[n] = 0;
  return n;
}
