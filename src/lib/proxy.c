#include <netinet/in.h>
#include <string.h>
#include "crc32c.h"
#include "proxy.h"

static int fail(const char **why, const char *text)
{
  if (why) *why = text;
  return -1;
}

/* An IPv6 address as sent; v4-mapped ones are folded later, by
   fold_endpoints, once both are known. */
static void set_ip6(struct ip_addr *ip, const unsigned char a[16])
{
  memset(ip, 0, sizeof *ip);
  ip->family = AF_INET6;
  memcpy(ip->a, a, 16);
}

/* Both endpoints to IPv4 when both are v4-mapped, else neither: the
   server derives PROTO from the client's family, so the two must stay
   one family (TCP6 ::ffff:192.0.2.1 2001:db8::1 is an IPv6 connection
   with TCPLOCALIP=2001:db8::1, never PROTO=TCP). */
static void fold_endpoints(struct proxy_header *h)
{
  if (!ip_is_v4mapped(&h->src) || !ip_is_v4mapped(&h->dst)) return;
  ip_fold_v4mapped(&h->src);
  ip_fold_v4mapped(&h->dst);
}

static void set_ip4(struct ip_addr *ip, const unsigned char a[4])
{
  ip_set_v4(ip, a[0], a[1], a[2], a[3]);
}

/* ---- Version 1: one text line ---------------------------------------- */

#define V1_MIN 15  /* "PROXY UNKNOWN\r\n" */

enum v1_field { F_V4, F_V6, F_PORT };

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
  set_ip6(ip, parsed.a);
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
  if (!partial && !n) return fail(why, "v1: empty field (double space?)");
  if (j >= 2) {
    r = v1_port(s, n, partial, j == 2 ? &h->srcport : &h->dstport, rest);
  } else {
    struct ip_addr *ip = j == 0 ? &h->src : &h->dst;
    if (p->family == AF_INET) {
      unsigned char a[4];
      r = v1_v4(s, n, partial, a, rest);
      if (r == 0 && !partial) set_ip4(ip, a);
    } else {
      r = v1_v6(s, n, partial, ip, rest);
    }
  }
  return r < 0 ? fail(why, v1_bad_field[j]) : 0;
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
  if (best == (size_t) -1) return fail(why, "v1: unknown protocol");
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
    return fail(why, "v1: bad signature");
  if (n < plen) {
    if (!partial) return fail(why, "v1: truncated line");
    *rest = V1_MIN - n;
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
      if (!partial) return fail(why, "v1: missing fields");
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
  if (pos != n) return fail(why, "v1: junk after the ports");
  if (partial) {
    *rest = 2;
  } else {
    h->has_addresses = 1;
    fold_endpoints(h);
  }
  return 0;
}

static int v1_parse(const unsigned char *buf, size_t len,
                    struct proxy_header *h, size_t *need, const char **why)
{
  size_t lim = len, i = 0, rest = 0;
  if (lim > PROXY_V1_MAX) lim = PROXY_V1_MAX;
  while (i < lim && buf[i] != '\r') {
    if (buf[i] == '\n') return fail(why, "v1: LF without CR");
    i++;
  }
  if (i == lim) {                    /* no CR yet */
    if (len >= PROXY_V1_MAX) return fail(why, "v1: line too long");
    struct proxy_header scratch;
    memset(&scratch, 0, sizeof scratch);
    if (v1_line(buf, len, 1, &scratch, &rest, why) < 0) return -1;
    if (rest > PROXY_V1_MAX - len) return fail(why, "v1: line too long");
    *need = rest;
    return 0;
  }
  if (i + 2 > PROXY_V1_MAX) return fail(why, "v1: line too long");
  if (i + 1 == len) {                /* CR last: the line must be whole */
    struct proxy_header scratch;
    memset(&scratch, 0, sizeof scratch);
    if (v1_line(buf, i, 0, &scratch, &rest, why) < 0) return -1;
    *need = 1;
    return 0;
  }
  if (buf[i + 1] != '\n') return fail(why, "v1: CR without LF");
  memset(h, 0, sizeof *h);
  if (v1_line(buf, i, 0, h, &rest, why) < 0) return -1;
  h->version = 1;
  h->command = PROXY_CMD_PROXY;
  h->length = i + 2;
  *need = h->length;
  return 1;
}

/* ---- Version 2: binary ----------------------------------------------- */

static const unsigned char v2_signature[12] = {
  '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n'
};

static size_t be16(const unsigned char *p)
{
  return (size_t) p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* The family/transport byte of a PROXY command: the length of its
   address block, or -1 (why set). */
static int v2_family(unsigned fam, size_t *block, const char **why)
{
  switch (fam) {
  case 0x00: *block = 0; return 0;             /* UNSPEC */
  case 0x11: *block = 12; return 0;            /* TCP over IPv4 */
  case 0x21: *block = 36; return 0;            /* TCP over IPv6 */
  case 0x12: case 0x22: return fail(why, "v2: datagram transport not usable");
  case 0x31: case 0x32: return fail(why, "v2: UNIX addresses not usable");
  default: return fail(why, "v2: unknown address family");
  }
}

/* The next TLV of p[*off..end): 1 with its type and value, 0 at the end,
   -1 when it does not fit. */
static int tlv_next(const unsigned char *p, size_t *off, size_t end,
                    unsigned *type, size_t *voff, size_t *vlen, const char **why)
{
  if (*off == end) return 0;
  if (end - *off < 3) return fail(why, "v2: truncated TLV");
  *type = p[*off];
  *vlen = be16(p + *off + 1);
  *voff = *off + 3;
  if (*vlen > end - *voff) return fail(why, "v2: TLV runs past the header");
  *off = *voff + *vlen;
  return 1;
}

static int keep(struct proxy_value *v, const unsigned char *p, size_t n,
                size_t max, const char **why)
{
  if (v->present) return fail(why, "v2: repeated TLV");
  if (n > max) return fail(why, "v2: TLV value too long");
  v->present = 1;
  v->len = n;
  memcpy(v->v, p, n);
  v->v[n] = 0;
  return 0;
}

/* The SSL TLV: client flags, verify result, then sub-TLVs. */
static int v2_ssl(const unsigned char *p, size_t n, struct proxy_header *h,
                  const char **why)
{
  if (h->has_ssl) return fail(why, "v2: repeated TLV");
  if (n < 5) return fail(why, "v2: SSL TLV too short");
  h->has_ssl = 1;
  h->ssl_client = p[0];
  h->ssl_verify = be32(p + 1);
  size_t off = 5, voff = 0, vlen = 0;
  unsigned type = 0;
  int r;
  while ((r = tlv_next(p, &off, n, &type, &voff, &vlen, why)) > 0) {
    struct proxy_value *v;
    switch (type) {
    case 0x21: v = &h->ssl_version; break;
    case 0x22: v = &h->ssl_cn; break;
    case 0x23: v = &h->ssl_cipher; break;
    case 0x24: v = &h->ssl_sig_alg; break;
    case 0x25: v = &h->ssl_key_alg; break;
    default: continue;
    }
    if (keep(v, p + voff, vlen, PROXY_VALUE_MAX, why) < 0) return -1;
  }
  return r;
}

/* The checksum of the whole header with the CRC32C field as zeros. */
static int crc_matches(const unsigned char *hdr, size_t total, size_t at)
{
  static const unsigned char zeros[4];
  uint32_t crc = crc32c_update(0, hdr, at);
  crc = crc32c_update(crc, zeros, 4);
  crc = crc32c_update(crc, hdr + at + 4, total - at - 4);
  return crc == be32(hdr + at);
}

static int v2_tlvs(const unsigned char *hdr, size_t off, size_t total,
                   struct proxy_header *h, const char **why)
{
  size_t voff = 0, vlen = 0, crc_at = 0;
  unsigned type = 0;
  int r;
  while ((r = tlv_next(hdr, &off, total, &type, &voff, &vlen, why)) > 0) {
    const unsigned char *v = hdr + voff;
    switch (type) {
    case 0x01: r = keep(&h->alpn, v, vlen, PROXY_VALUE_MAX, why); break;
    case 0x02: r = keep(&h->authority, v, vlen, PROXY_VALUE_MAX, why); break;
    case 0x03:
      if (vlen != 4) return fail(why, "v2: CRC32C TLV not 4 bytes");
      if (h->has_crc32c) return fail(why, "v2: repeated TLV");
      h->has_crc32c = 1;
      crc_at = voff;
      break;
    case 0x05:
      if (vlen > PROXY_UNIQUE_ID_MAX) return fail(why, "v2: UNIQUE_ID over 128 bytes");
      r = keep(&h->unique_id, v, vlen, PROXY_UNIQUE_ID_MAX, why);
      break;
    case 0x20: r = v2_ssl(v, vlen, h, why); break;
    default: break;                    /* NOOP, NETNS, custom, unknown */
    }
    if (r < 0) return -1;
  }
  if (r < 0) return -1;
  if (h->has_crc32c && !crc_matches(hdr, total, crc_at))
    return fail(why, "v2: CRC32C mismatch");
  return 0;
}

static int v2_parse(const unsigned char *buf, size_t len,
                    struct proxy_header *h, size_t *need, const char **why)
{
  size_t block = 0;
  if (memcmp(buf, v2_signature, len < 12 ? len : 12) != 0)
    return fail(why, "v2: bad signature");
  if (len > 12 && buf[12] >> 4 != 2) return fail(why, "v2: version not 2");
  if (len > 12 && (buf[12] & 15) > PROXY_CMD_PROXY) return fail(why, "v2: unknown command");
  unsigned command = len > 12 ? buf[12] & 15u : 0;
  if (len > 13 && command == PROXY_CMD_PROXY && v2_family(buf[13], &block, why) < 0)
    return -1;
  if (len < PROXY_V2_FIXED) {
    *need = PROXY_V2_FIXED - len;
    return 0;
  }
  size_t total = PROXY_V2_FIXED + be16(buf + 14);
  if (total > PROXY_HEADER_MAX) return fail(why, "v2: header oversized");
  if (command == PROXY_CMD_PROXY && total - PROXY_V2_FIXED < block)
    return fail(why, "v2: length shorter than the addresses");
  if (len < total) {
    *need = total - len;
    return 0;
  }
  memset(h, 0, sizeof *h);
  h->version = 2;
  h->command = (int) command;
  h->length = total;
  *need = total;
  if (command == PROXY_CMD_LOCAL) return 1;   /* the rest is discarded */
  const unsigned char *a = buf + PROXY_V2_FIXED;
  if (block == 12) {
    set_ip4(&h->src, a);
    set_ip4(&h->dst, a + 4);
    h->srcport = (unsigned) be16(a + 8);
    h->dstport = (unsigned) be16(a + 10);
  } else if (block == 36) {
    set_ip6(&h->src, a);
    set_ip6(&h->dst, a + 16);
    h->srcport = (unsigned) be16(a + 32);
    h->dstport = (unsigned) be16(a + 34);
    fold_endpoints(h);
  }
  h->has_addresses = block != 0;
  if (v2_tlvs(buf, PROXY_V2_FIXED + block, total, h, why) < 0) return -1;
  return 1;
}

/* ---- Both ------------------------------------------------------------ */

int proxy_parse(const unsigned char *buf, size_t len, unsigned accept,
                struct proxy_header *h, size_t *need, const char **why)
{
  *need = 0;
  accept &= PROXY_ANY;
  if (!accept) return fail(why, "no PROXY version accepted");
  if (!len) {
    *need = accept & PROXY_V1 ? V1_MIN : PROXY_V2_FIXED;
    return 0;
  }
  int r;
  size_t n = 0;
  if (buf[0] == 'P') {
    if (!(accept & PROXY_V1)) return fail(why, "v1 header, only v2 accepted");
    r = v1_parse(buf, len, h, &n, why);
  } else if (buf[0] == '\r') {
    if (!(accept & PROXY_V2)) return fail(why, "v2 header, only v1 accepted");
    r = v2_parse(buf, len, h, &n, why);
  } else {
    return fail(why, "not a PROXY header");
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
