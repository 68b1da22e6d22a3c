/* The PROXY protocol, version 2: binary, with TLVs (proxy.h has the
   rules). */
#include <netinet/in.h>
#include <string.h>
#include "crc32c.h"
#include "proxy.h"
#include "proxy_parts.h"

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
  case 0x12: case 0x22: return proxy_fail(why, "v2: datagram transport not usable");
  case 0x31: case 0x32: return proxy_fail(why, "v2: UNIX addresses not usable");
  default: return proxy_fail(why, "v2: unknown address family");
  }
}

/* The next TLV of p[*off..end): 1 with its type and value, 0 at the end,
   -1 when it does not fit. */
static int tlv_next(const unsigned char *p, size_t *off, size_t end,
                    unsigned *type, size_t *voff, size_t *vlen, const char **why)
{
  if (*off == end) return 0;
  if (end - *off < 3) return proxy_fail(why, "v2: truncated TLV");
  *type = p[*off];
  *vlen = be16(p + *off + 1);
  *voff = *off + 3;
  if (*vlen > end - *voff) return proxy_fail(why, "v2: TLV runs past the header");
  *off = *voff + *vlen;
  return 1;
}

static int keep(struct proxy_value *v, const unsigned char *p, size_t n,
                size_t max, const char **why)
{
  if (v->present) return proxy_fail(why, "v2: repeated TLV");
  if (n > max) return proxy_fail(why, "v2: TLV value too long");
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
  if (h->has_ssl) return proxy_fail(why, "v2: repeated TLV");
  if (n < 5) return proxy_fail(why, "v2: SSL TLV too short");
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
      if (vlen != 4) return proxy_fail(why, "v2: CRC32C TLV not 4 bytes");
      if (h->has_crc32c) return proxy_fail(why, "v2: repeated TLV");
      h->has_crc32c = 1;
      crc_at = voff;
      break;
    case 0x05:
      if (vlen > PROXY_UNIQUE_ID_MAX) return proxy_fail(why, "v2: UNIQUE_ID over 128 bytes");
      r = keep(&h->unique_id, v, vlen, PROXY_UNIQUE_ID_MAX, why);
      break;
    case 0x20: r = v2_ssl(v, vlen, h, why); break;
    default: break;                    /* NOOP, NETNS, custom, unknown */
    }
    if (r < 0) return -1;
  }
  if (r < 0) return -1;
  if (h->has_crc32c && !crc_matches(hdr, total, crc_at))
    return proxy_fail(why, "v2: CRC32C mismatch");
  return 0;
}

int proxy_v2_parse(const unsigned char *buf, size_t len,
                    struct proxy_header *h, size_t *need, const char **why)
{
  size_t block = 0;
  if (memcmp(buf, v2_signature, len < 12 ? len : 12) != 0)
    return proxy_fail(why, "v2: bad signature");
  if (len > 12 && buf[12] >> 4 != 2) return proxy_fail(why, "v2: version not 2");
  if (len > 12 && (buf[12] & 15) > PROXY_CMD_PROXY) return proxy_fail(why, "v2: unknown command");
  unsigned command = len > 12 ? buf[12] & 15u : 0;
  if (len > 13 && command == PROXY_CMD_PROXY && v2_family(buf[13], &block, why) < 0)
    return -1;
  if (len < PROXY_V2_FIXED) {
    *need = PROXY_V2_FIXED - len;
    return 0;
  }
  size_t total = PROXY_V2_FIXED + be16(buf + 14);
  if (total > PROXY_HEADER_MAX) return proxy_fail(why, "v2: header oversized");
  if (command == PROXY_CMD_PROXY && total - PROXY_V2_FIXED < block)
    return proxy_fail(why, "v2: length shorter than the addresses");
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
    proxy_set_ip4(&h->src, a);
    proxy_set_ip4(&h->dst, a + 4);
    h->srcport = (unsigned) be16(a + 8);
    h->dstport = (unsigned) be16(a + 10);
  } else if (block == 36) {
    proxy_set_ip6(&h->src, a);
    proxy_set_ip6(&h->dst, a + 16);
    h->srcport = (unsigned) be16(a + 32);
    h->dstport = (unsigned) be16(a + 34);
    proxy_fold_endpoints(h);
  }
  h->has_addresses = block != 0;
  if (v2_tlvs(buf, PROXY_V2_FIXED + block, total, h, why) < 0) return -1;
  return 1;
}
