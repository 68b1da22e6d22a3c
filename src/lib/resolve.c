#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include "resolve.h"

#define RESOLVE_ONE_MAX 64

static int is_dotted_literal(const char *s)
{
  return s[strspn(s, "0123456789.[]")] == 0;
}

/* 0.88's dns_ip4 on a literal: bytes between dots, brackets skipped. */
static size_t dotted_literal(const char *s, struct ip_addr *addrs, size_t max)
{
  unsigned char bytes[4];
  size_t nbytes = 0, n = 0;
  unsigned char code = 0;
  for (;; s++) {
    if (*s == '[' || *s == ']') continue;
    if (*s >= '0' && *s <= '9') {
      code = (unsigned char) (code * 10 + (*s - '0'));
      continue;
    }
    bytes[nbytes++] = code;   /* a dot, or the end */
    code = 0;
    if (nbytes == 4) {
      if (n < max) ip_set_v4(&addrs[n++], bytes[0], bytes[1], bytes[2], bytes[3]);
      nbytes = 0;
    }
    if (!*s) return n;
  }
}

/* What DNS can carry: labels of at most 63 bytes, 255 bytes in all
   (each label with its length byte, and the root). */
static int fits_dns(const char *s)
{
  size_t total = 1;
  while (*s) {
    size_t label = strcspn(s, ".");
    if (label > 63) return 0;
    if (label) total += label + 1;
    if (total > 255) return 0;
    s += label;
    if (*s) s++;
  }
  return 1;
}

static int seen(const struct ip_addr *addrs, size_t n, const struct ip_addr *ip)
{
  for (size_t k = 0; k < n; k++)
    if (ip_equal(&addrs[k], ip)) return 1;
  return 0;
}

/* getaddrinfo's failures: no such name, or errno for a temporary one. */
static int lookup_failed(int eai, size_t *n)
{
  if (eai == EAI_NONAME || eai == EAI_NODATA || eai == EAI_ADDRFAMILY) {
    *n = 0;
    return 0;
  }
  if (eai == EAI_MEMORY) errno = ENOMEM;
  else if (eai == EAI_AGAIN) errno = EAGAIN;
  else if (eai != EAI_SYSTEM) errno = EIO;
  return -1;
}

static int lookup_name(const char *host, int family, struct ip_addr *addrs,
                       size_t max, size_t *n)
{
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  int eai = getaddrinfo(host, NULL, &hints, &res);
  if (eai) return lookup_failed(eai, n);
  *n = 0;
  for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    ip_from_sockaddr(ai->ai_addr, &addrs[*n], NULL);
    if (!seen(addrs, *n, &addrs[*n])) (*n)++;
  }
  freeaddrinfo(res);
  return 0;
}

int resolve_host(const char *host, int family, struct ip_addr *addrs,
                 size_t max, size_t *n)
{
  *n = 0;
  if (!max) return 0;
  if (is_dotted_literal(host)) {
    *n = dotted_literal(host, addrs, max);
    return 0;
  }
  if (ip_parse(host, &addrs[0]) == 0) {
    *n = 1;
    return 0;
  }
  if (!fits_dns(host)) {
    errno = EPROTO;
    return -1;
  }
  return lookup_name(host, family, addrs, max, n);
}

static const struct ip_addr *first_of(const struct ip_addr *addrs, size_t n,
                                      int family)
{
  for (size_t i = 0; i < n; i++)
    if (addrs[i].family == family) return &addrs[i];
  return NULL;
}

int resolve_host_one(const char *host, int family, struct ip_addr *ip)
{
  struct ip_addr addrs[RESOLVE_ONE_MAX];
  size_t n;
  if (resolve_host(host, family, addrs, RESOLVE_ONE_MAX, &n) < 0) return -1;
  if (!n) return 0;
  const struct ip_addr *pick = NULL;
  if (family != AF_INET6) pick = first_of(addrs, n, AF_INET);
  if (!pick && family != AF_INET) pick = first_of(addrs, n, AF_INET6);
  *ip = pick ? *pick : addrs[0];
  return 1;
}
