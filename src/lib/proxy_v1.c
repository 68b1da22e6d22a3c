/* The PROXY protocol, version 1: one text line (proxy.h has the rules). */
#include <netinet/in.h>
#include <string.h>
#include "proxy.h"
#include "proxy_parts.h"

struct v1_proto {
  const char *name;
  size_t namelen;
  int family;            /* 0 for UNKNOWN */
  size_t min[4];         /* shortest src, dst, sport, dport */
};

static const struct v1_proto v1_protos[] = {
  { "TCP4", 4, AF_INET, { 7, 7, 1, 1 } },     /* 0.0.0.0 */
  { "TCP6", 4, AF_INET6, { 2, 2, 1, 1 } },    /* :: */
  { "UNKNOWN", 7, 0, { 0, 0, 0, 0 } },
};
#define V1_NPROTOS (sizeof v1_protos / sizeof v1_protos[0])

/* Bytes at least still to come after field j of p is complete: the
   remaining fields with their spaces, and the CRLF. */
static size_t v1_tail(const struct v1_proto *p, unsigned j)
{
  size_t n = 2;
  if (!p->family) return n;
  for (unsigned k = j + 1; k < 4; k++) n += 1 + p->min[k];
  return n;
}

/* Dotted quad, no leading zeros.  With partial, s may be the start of
   one; *rest is then how many bytes it needs at least to be complete. */
static int v1_v4(const unsigned char *s, size_t n, int partial,
                 unsigned char a[4], size_t *rest)
{
  unsigned part = 0, v = 0, digits = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.') {
      if (!digits || part == 3) return -1;
      a[part++] = (unsigned char) v;
      v = digits = 0;
    } else if (s[i] >= '0' && s[i] <= '9') {
      if (digits && v == 0) return -1;          /* leading zero */
      v = v * 10 + (unsigned) (s[i] - '0');
      if (++digits > 3 || v > 255) return -1;
    } else {
      return -1;
    }
  }
  if (partial) {
    *rest = (digits ? 0 : 1) + (3 - part) * 2;
    return 0;
  }
  if (part != 3 || !digits) return -1;
  a[3] = (unsigned char) v;
  return 0;
}

/* Any text form of an IPv6 address ip_parse knows, except brackets and
   scopes: only hex digits, ':' and '.' may appear. */
#define V6_TEXT_MAX 45
static int v1_v6(const unsigned char *s, size_t n, int partial,
                 struct ip_addr *ip, size_t *rest)
{
  if (n > V6_TEXT_MAX) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = s[i];
    int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return -1;
  }
  if (partial) {
    *rest = n ? 0 : 2;
    return 0;
  }
  char text[V6_TEXT_MAX + 1];
  struct ip_addr parsed;
  memcpy(text, s, n);
  text[n] = 0;
  if (ip_parse(text, &parsed) < 0 || parsed.family != AF_INET6) return -1;
  proxy_set_ip6(ip, parsed.a);
  return 0;
}

static int v1_port(const unsigned char *s, size_t n, int partial,
                   unsigned *port, size_t *rest)
{
  unsigned v = 0;
  if (n > 5 || (n > 1 && s[0] == '0')) return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (unsigned) (s[i] - '0');
  }
  if (v > 65535) return -1;
  if (partial) {
    *rest = n ? 0 : 1;
    return 0;
  }
  if (!n) return -1;
  *port = v;
  return 0;
}

static const char *const v1_bad_field[4] = {
  "v1: bad source address", "v1: bad destination address",
  "v1: bad source port", "v1: bad destination port",
};

/* Field j (0 src, 1 dst, 2 sport, 3 dport) of a TCP4/TCP6 line. */
static int v1_field(const struct v1_proto *p, unsigned j,
                    const unsigned char *s, size_t n, int partial,
                    struct proxy_header *h, size_t *rest, const char **why)
{
  int r;
  if (!partial && !n) return proxy_fail(why, "v1: empty field (double space?)");
  if (j >= 2) {
    r = v1_port(s, n, partial, j == 2 ? &h->srcport : &h->dstport, rest);
  } else {
    struct ip_addr *ip = j == 0 ? &h->src : &h->dst;
    if (p->family == AF_INET) {
      unsigned char a[4];
      r = v1_v4(s, n, partial, a, rest);
      if (r == 0 && !partial) proxy_set_ip4(ip, a);
    } else {
      r = v1_v6(s, n, partial, ip, rest);
    }
  }
  return r < 0 ? proxy_fail(why, v1_bad_field[j]) : 0;
}

/* The protocol word; with partial, possibly the start of one.  Returns
   the protocol (NULL when incomplete, *rest set) or fails. */
static int v1_protocol(const unsigned char *s, size_t n, int partial,
                       const struct v1_proto **proto, size_t *rest,
                       const char **why)
{
  size_t best = (size_t) -1;
  *proto = NULL;
  for (unsigned i = 0; i < V1_NPROTOS; i++) {
    const struct v1_proto *p = &v1_protos[i];
    if (n == p->namelen && memcmp(s, p->name, n) == 0) {
      *proto = p;
      return 0;
    }
    if (partial && n < p->namelen && memcmp(s, p->name, n) == 0) {
      size_t need = p->namelen - n + (p->family ? 1 + p->min[0] + v1_tail(p, 0) : 2);
      if (need < best) best = need;
    }
  }
  if (best == (size_t) -1) return proxy_fail(why, "v1: unknown protocol");
  *rest = best;
  return 0;
}

/* The line s[0..n) without its CRLF, or with partial the bytes so far of
   a line (no CR or LF among them).  Complete: fills h.  Partial: sets
   *rest to the bytes at least still to come, CRLF included. */
static int v1_line(const unsigned char *s, size_t n, int partial,
                   struct proxy_header *h, size_t *rest, const char **why)
{
  static const char prefix[] = "PROXY ";
  const size_t plen = sizeof prefix - 1;
  if (memcmp(s, prefix, n < plen ? n : plen) != 0)
    return proxy_fail(why, "v1: bad signature");
  if (n < plen) {
    if (!partial) return proxy_fail(why, "v1: truncated line");
    *rest = PROXY_V1_MIN - n;
    return 0;
  }
  size_t pos = plen, end = pos;
  while (end < n && s[end] != ' ') end++;
  const struct v1_proto *p;
  if (v1_protocol(s + pos, end - pos, partial && end == n, &p, rest, why) < 0)
    return -1;
  if (!p) return 0;
  if (!p->family) {                  /* UNKNOWN: the rest is ignored */
    if (partial) *rest = 2;
    else h->has_addresses = 0;
    return 0;
  }
  pos = end;
  for (unsigned j = 0; j < 4; j++) {
    if (pos == n) {                  /* no space after the previous field */
      if (!partial) return proxy_fail(why, "v1: missing fields");
      *rest = 1 + p->min[j] + v1_tail(p, j);
      return 0;
    }
    pos++;                           /* the space */
    end = pos;
    while (end < n && s[end] != ' ') end++;
    int open = partial && end == n;
    size_t more = 0;
    if (v1_field(p, j, s + pos, end - pos, open, h, &more, why) < 0) return -1;
    if (open) {
      *rest = more + v1_tail(p, j);
      return 0;
    }
    pos = end;
  }
  if (pos != n) return proxy_fail(why, "v1: junk after the ports");
  if (partial) {
    *rest = 2;
  } else {
    h->has_addresses = 1;
    proxy_fold_endpoints(h);
  }
  return 0;
}

int proxy_v1_parse(const unsigned char *buf, size_t len,
                    struct proxy_header *h, size_t *need, const char **why)
{
  size_t lim = len, i = 0, rest = 0;
  if (lim > PROXY_V1_MAX) lim = PROXY_V1_MAX;
  while (i < lim && buf[i] != '\r') {
    if (buf[i] == '\n') return proxy_fail(why, "v1: LF without CR");
    i++;
  }
  if (i == lim) {                    /* no CR yet */
    if (len >= PROXY_V1_MAX) return proxy_fail(why, "v1: line too long");
    struct proxy_header scratch;
    memset(&scratch, 0, sizeof scratch);
    if (v1_line(buf, len, 1, &scratch, &rest, why) < 0) return -1;
    if (rest > PROXY_V1_MAX - len) return proxy_fail(why, "v1: line too long");
    *need = rest;
    return 0;
  }
  if (i + 2 > PROXY_V1_MAX) return proxy_fail(why, "v1: line too long");
  if (i + 1 == len) {                /* CR last: the line must be whole */
    struct proxy_header scratch;
    memset(&scratch, 0, sizeof scratch);
    if (v1_line(buf, i, 0, &scratch, &rest, why) < 0) return -1;
    *need = 1;
    return 0;
  }
  if (buf[i + 1] != '\n') return proxy_fail(why, "v1: CR without LF");
  memset(h, 0, sizeof *h);
  if (v1_line(buf, i, 0, h, &rest, why) < 0) return -1;
  h->version = 1;
  h->command = PROXY_CMD_PROXY;
  h->length = i + 2;
  *need = h->length;
  return 1;
}
