#include <netdb.h>
#include <string.h>
#include "names.h"

static int kept_as_is(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

size_t names_safe(const char *raw, size_t len, char out[NAMES_MAX + 1])
{
  size_t n = 0;
  if (len > NAMES_RAW_MAX) len = NAMES_RAW_MAX;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char) raw[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char) (c + 32);
    if (kept_as_is(c)) {
      out[n++] = (char) c;
      continue;
    }
    out[n++] = '\\';
    out[n++] = (char) ('0' + (c >> 6));
    out[n++] = (char) ('0' + ((c >> 3) & 7));
    out[n++] = (char) ('0' + (c & 7));
  }
  out[n] = 0;
  return n;
}

/* The raw reverse name, NUL-terminated; 0 when there is none. */
static int reverse_raw(const struct ip_addr *ip, char raw[NI_MAXHOST])
{
  struct sockaddr_storage ss;
  socklen_t len = ip_to_sockaddr(ip, 0, &ss);
  if (getnameinfo((struct sockaddr *) &ss, len, raw, NI_MAXHOST, NULL, 0,
                  NI_NAMEREQD) != 0)
    return 0;
  return raw[0] != 0;
}

int names_reverse(const struct ip_addr *ip, char name[NAMES_MAX + 1])
{
  char raw[NI_MAXHOST];
  if (!reverse_raw(ip, raw)) return 0;
  names_safe(raw, strnlen(raw, NAMES_RAW_MAX), name);
  return 1;
}

int names_confirm(const char *name, const struct ip_addr *ip)
{
  struct addrinfo hints, *res, *r;
  int found = 0;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = ip->family;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(name, NULL, &hints, &res) != 0) return 0;
  for (r = res; r && !found; r = r->ai_next) {
    struct ip_addr a;
    unsigned port;
    ip_from_sockaddr(r->ai_addr, &a, &port);
    found = ip_equal(&a, ip);
  }
  freeaddrinfo(res);
  return found;
}

int names_remote(const struct ip_addr *ip, int paranoid,
                 char name[NAMES_MAX + 1])
{
  char raw[NI_MAXHOST];
  if (!reverse_raw(ip, raw)) return 0;
  size_t len = strnlen(raw, NAMES_RAW_MAX);
  raw[len] = 0;
  if (paranoid && !names_confirm(raw, ip)) return 0;
  names_safe(raw, len, name);
  return 1;
}
