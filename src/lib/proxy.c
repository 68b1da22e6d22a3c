#include <netinet/in.h>
#include <string.h>
#include "proxy.h"
#include "proxy_parts.h"

/* The entry points; each version's parser is a file of its own
   (proxy_v1.c, proxy_v2.c), what they share is proxy_parts.c. */

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
