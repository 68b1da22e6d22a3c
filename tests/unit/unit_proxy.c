/* The PROXY protocol parser: every rule of the specification, the bugs
   of other receivers, and the promise never to ask for a byte past the
   header, at every split. */
#include <arpa/inet.h>
#include <stdlib.h>
#include "tap.h"
#include "addr.h"
#include "crc32c.h"
#include "proxy.h"

static struct proxy_header h;
static const char *why;

static int parse(const void *b, size_t n, unsigned accept, size_t *need)
{
  why = NULL;
  return proxy_parse(b, n, accept, &h, need, &why);
}

/* Every prefix shorter than the header asks for more without passing its
   end; the whole header (with client data after it) is complete; and a
   reader taking exactly what is asked for ends exactly on the header. */
static int splits_ok(const unsigned char *b, size_t hlen, unsigned accept)
{
  unsigned char data[PROXY_HEADER_MAX + 8];
  size_t need;
  if (hlen > PROXY_HEADER_MAX) return 0;
  memcpy(data, b, hlen);
  memcpy(data + hlen, "DATA\r\n\n\r", 8);
  for (size_t len = 0; len < hlen; len++) {
    if (parse(data, len, accept, &need) != 0) return 0;
    if (need < 1 || len + need > hlen) return 0;
  }
  if (parse(data, hlen + 8, accept, &need) != 1 || need != hlen || h.length != hlen) return 0;
  size_t got = 0;
  for (int steps = 0; steps <= (int) hlen; steps++) {
    int r = parse(data, got, accept, &need);
    if (r == 1) return got == hlen;
    if (r != 0) return 0;
    got += need;
  }
  return 0;
}

/* An invalid header is rejected once the first wrong byte has arrived,
   never asked to be read past, and stays rejected. */
static int rejected(const void *b, size_t n, unsigned accept, const char *want_why)
{
  size_t need;
  int seen = 0;
  for (size_t len = 0; len <= n; len++) {
    int r = parse(b, len, accept, &need);
    if (r == 1) return 0;
    if (r < 0) seen = 1;
    else if (seen) return 0;
  }
  if (!seen || !why) return 0;
  if (want_why && !strstr(why, want_why)) {
    printf("#   why: %s (expected %s)\n", why, want_why);
    return 0;
  }
  return 1;
}

static void v1_good(const char *line, int has, const char *src, unsigned sp,
                    const char *dst, unsigned dp, const char *name)
{
  size_t n = strlen(line), need;
  int r = parse(line, n, PROXY_ANY, &need);
  if (r != 1) {
    tap_ok(0, name);
    printf("#   r=%d why=%s\n", r, why ? why : "");
    return;
  }
  int ok = h.version == 1 && h.command == PROXY_CMD_PROXY && h.has_addresses == has && need == n;
  if (ok && has) {
    char a[IP_FMT_SIZE], b[IP_FMT_SIZE];
    ip_format(&h.src, a);
    ip_format(&h.dst, b);
    ok = strcmp(a, src) == 0 && strcmp(b, dst) == 0 && h.srcport == sp && h.dstport == dp
         && h.src.family == h.dst.family;
    if (!ok) printf("#   got %s:%u %s:%u\n", a, h.srcport, b, h.dstport);
  }
  tap_ok(ok && splits_ok((const unsigned char *) line, n, PROXY_ANY), name);
}

static void v1_bad(const char *line, const char *want_why, const char *name)
{
  tap_ok(rejected(line, strlen(line), PROXY_ANY, want_why), name);
}

static void test_v1(void)
{
  v1_good("PROXY TCP4 192.168.1.10 10.0.0.1 56324 443\r\n", 1,
          "192.168.1.10", 56324, "10.0.0.1", 443, "v1 TCP4");
  v1_good("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", 1,
          "0.0.0.0", 0, "255.255.255.255", 65535, "v1 TCP4 extremes, port 0 and 65535");
  v1_good("PROXY TCP6 2001:db8::1 ::1 1 2\r\n", 1, "2001:db8::1", 1, "::1", 2, "v1 TCP6");
  v1_good("PROXY TCP6 2001:DB8:0:0:0:0:0:1 :: 1 2\r\n", 1, "2001:db8::1", 1, "::", 2,
          "v1 TCP6 upper case, uncompressed: accepted");
  v1_good("PROXY TCP6 ::ffff:10.1.2.3 ::ffff:127.0.0.1 7 8\r\n", 1, "10.1.2.3", 7, "127.0.0.1", 8,
          "v1 TCP6 v4-mapped folds to IPv4");
  v1_good("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::1 1 2\r\n", 1, "::ffff:192.0.2.1", 1,
          "2001:db8::1", 2, "v1 TCP6 v4-mapped source, native destination: both stay IPv6");
  v1_good("PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 2\r\n", 1, "2001:db8::1", 1,
          "::ffff:192.0.2.1", 2, "v1 TCP6 native source, v4-mapped destination: both stay IPv6");
  v1_good("PROXY UNKNOWN\r\n", 0, NULL, 0, NULL, 0, "v1 UNKNOWN alone");
  v1_good("PROXY UNKNOWN ffff::1 whatever 1 2 3 junk\r\n", 0, NULL, 0, NULL, 0,
          "v1 UNKNOWN: rest of the line ignored");
  const char *longest = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    " ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n";
  tap_ok(strlen(longest) == 104, "longest TCP6 line is 104 bytes");
  v1_good(longest, 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, "v1 longest TCP6 line");
  v1_bad("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
         " ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n", "too long",
         "v1 TCP6 line over 107 bytes rejected");
  char unk107[PROXY_V1_MAX + 2];
  memset(unk107, 'x', sizeof unk107);
  memcpy(unk107, "PROXY UNKNOWN ", 14);
  memcpy(unk107 + 105, "\r\n", 3);
  v1_good(unk107, 0, NULL, 0, NULL, 0, "v1 UNKNOWN of exactly 107 bytes");
  memset(unk107, 'x', sizeof unk107);
  memcpy(unk107, "PROXY UNKNOWN ", 14);
  memcpy(unk107 + 106, "\r\n", 3);
  v1_bad(unk107, "too long", "v1 of 108 bytes rejected");

  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "LF without CR", "v1 bare LF rejected");
  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n", "CR without LF", "v1 lone CR rejected");
  v1_bad("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", NULL, "v1 CR inside the line rejected");
  v1_bad("PROXY UNKNOWN a\nb\r\n", "LF without CR", "v1 UNKNOWN with a bare LF inside rejected");
  v1_bad("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "double space", "v1 double space rejected");
  v1_bad("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "protocol", "v1 double space after PROXY rejected");
  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "junk", "v1 trailing space rejected");
  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "missing", "v1 missing port rejected");
  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "source port", "v1 leading zero in port rejected");
  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", "destination port", "v1 port 65536 rejected");
  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", "destination port", "v1 negative port rejected");
  v1_bad("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "source address", "v1 leading zero in IPv4 part rejected");
  v1_bad("PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n", "destination address", "v1 IPv4 part 256 rejected");
  v1_bad("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "source address", "v1 three-part IPv4 rejected");
  v1_bad("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "source address", "v1 TCP4 with IPv6 address rejected");
  v1_bad("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "source address", "v1 TCP6 with IPv4 address rejected");
  v1_bad("PROXY TCP6 [::1] ::1 1 2\r\n", "source address", "v1 TCP6 in brackets rejected");
  v1_bad("PROXY TCP6 fe80::1%1 ::1 1 2\r\n", "source address", "v1 TCP6 with scope rejected");
  v1_bad("PROXY TCP6 ::1::2 ::1 1 2\r\n", "source address", "v1 TCP6 not an address rejected");
  v1_bad("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "protocol", "v1 unknown protocol rejected");
  v1_bad("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "protocol", "v1 lower-case protocol rejected");
  v1_bad("PROXY UNKNOWNX\r\n", "protocol", "v1 UNKNOWN glued to junk rejected");
  v1_bad("PROXY\r\n", NULL, "v1 PROXY alone rejected");
  v1_bad("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "signature", "v1 without space after PROXY rejected");
  v1_bad("GET / HTTP/1.0\r\n", "not a PROXY header", "HTTP request rejected");
  v1_bad("PXOXY UNKNOWN\r\n", "signature", "v1 bad signature rejected at once");

  size_t need;
  const char *v1 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  tap_ok(parse(v1, strlen(v1), PROXY_V2, &need) < 0 && strstr(why, "only v2"),
         "v1 rejected when only v2 accepted");
  tap_ok(parse(v1, 1, PROXY_V2, &need) < 0, "... from its first byte");
  tap_ok(parse(v1, strlen(v1), PROXY_V1, &need) == 1, "v1 accepted when only v1 accepted");
  tap_ok(parse(v1, 0, PROXY_V1, &need) == 0 && need == 15, "nothing yet: 15 bytes may be read (v1)");
  tap_ok(parse(v1, 0, PROXY_ANY, &need) == 0 && need == 15, "nothing yet: 15 bytes may be read (any)");
  tap_ok(parse(v1, 0, PROXY_V2, &need) == 0 && need == 16, "nothing yet: 16 bytes may be read (v2)");
  tap_ok(parse(v1, strlen(v1), 0, &need) < 0, "no version accepted: rejected");

  /* A reader that reads what it is told takes few steps on usual lines. */
  const char *usual = "PROXY TCP4 192.168.1.10 10.0.0.1 56324 443\r\n";
  size_t got = 0;
  int steps = 0;
  while (parse(usual, got, PROXY_ANY, &need) == 0) { got += need; steps++; }
  tap_ok(got == strlen(usual) && steps <= 6, "v1 TCP4 line read in at most 6 reads");
  char text[IP_FMT_SIZE];
  ip_format(&h.src, text);
  tap_is_str(text, "192.168.1.10", "... and its source address");
  memset(&h, 0x55, sizeof h);
  struct proxy_header copy = h;
  parse(usual, 20, PROXY_ANY, &need);
  tap_ok(memcmp(&copy, &h, sizeof h) == 0, "header untouched while incomplete");
}

/* ---- v2 ---- */

struct v2b { unsigned char b[PROXY_HEADER_MAX + 64]; size_t n; };

static void v2_start(struct v2b *w, unsigned vercmd, unsigned fam)
{
  memcpy(w->b, "\r\n\r\n\0\r\nQUIT\n", 12);
  w->b[12] = (unsigned char) vercmd;
  w->b[13] = (unsigned char) fam;
  w->n = 16;
}

static void v2_put(struct v2b *w, const void *p, size_t n)
{
  memcpy(w->b + w->n, p, n);
  w->n += n;
}

static void v2_ip4(struct v2b *w)
{
  v2_put(w, "\x0a\x01\x02\x03" "\xc0\xa8\x00\x01" "\xdc\x04" "\x01\xbb", 12);
}

static void v2_tlv(struct v2b *w, unsigned type, const void *v, size_t n)
{
  unsigned char t[3] = { (unsigned char) type, (unsigned char) (n >> 8), (unsigned char) n };
  v2_put(w, t, 3);
  v2_put(w, v, n);
}

static void v2_end(struct v2b *w)
{
  size_t len = w->n - 16;
  w->b[14] = (unsigned char) (len >> 8);
  w->b[15] = (unsigned char) len;
}

/* A CRC32C TLV last, filled in once the header is complete. */
static void v2_end_crc(struct v2b *w, int wrong)
{
  v2_tlv(w, 0x03, "\0\0\0\0", 4);
  v2_end(w);
  uint32_t crc = crc32c(w->b, w->n) ^ (wrong ? 1u : 0u);
  unsigned char *f = w->b + w->n - 4;
  f[0] = (unsigned char) (crc >> 24); f[1] = (unsigned char) (crc >> 16);
  f[2] = (unsigned char) (crc >> 8); f[3] = (unsigned char) crc;
}

static int v2_ok(struct v2b *w)
{
  size_t need;
  int r = parse(w->b, w->n, PROXY_ANY, &need);
  if (r != 1) printf("#   r=%d why=%s\n", r, why ? why : "");
  if (r != 1 || need != w->n || h.version != 2) return 0;
  struct proxy_header whole = h;
  if (!splits_ok(w->b, w->n, PROXY_ANY)) return 0;
  h = whole;
  return 1;
}

static int v2_bad(struct v2b *w, const char *want_why)
{
  return rejected(w->b, w->n, PROXY_ANY, want_why);
}

static int addr_is(const struct ip_addr *ip, const char *want)
{
  char text[IP_FMT_SIZE];
  ip_format(ip, text);
  if (strcmp(text, want)) printf("#   got %s, expected %s\n", text, want);
  return strcmp(text, want) == 0;
}

static int value_is(const struct proxy_value *v, const char *want)
{
  return v->present && v->len == strlen(want) && memcmp(v->v, want, v->len) == 0;
}

static void test_v2_addresses(void)
{
  struct v2b w;
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.command == PROXY_CMD_PROXY && h.has_addresses &&
         addr_is(&h.src, "10.1.2.3") && addr_is(&h.dst, "192.168.0.1") &&
         h.srcport == 56324 && h.dstport == 443, "v2 PROXY TCP4");

  v2_start(&w, 0x21, 0x21);
  v2_put(&w, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
  v2_put(&w, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16);
  v2_put(&w, "\xff\xff\0\0", 4);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.has_addresses && addr_is(&h.src, "2001:db8::1") &&
         addr_is(&h.dst, "::ffff:127.0.0.1") && h.dst.family == AF_INET6 &&
         h.srcport == 65535 && h.dstport == 0,
         "v2 PROXY TCP6, v4-mapped destination of a native source stays IPv6");

  v2_start(&w, 0x21, 0x21);
  v2_put(&w, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x01\x02\x03", 16);
  v2_put(&w, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16);
  v2_put(&w, "\0\x07\0\x08", 4);
  v2_end(&w);
  tap_ok(v2_ok(&w) && addr_is(&h.src, "10.1.2.3") && addr_is(&h.dst, "127.0.0.1") &&
         h.src.family == AF_INET && h.dst.family == AF_INET,
         "v2 PROXY TCP6, both v4-mapped: both fold to IPv4");

  v2_start(&w, 0x21, 0x21);
  v2_ip4(&w);
  v2_end(&w);
  tap_ok(v2_bad(&w, "shorter than the addresses"),
         "v2 TCP6 with only 12 bytes of addresses rejected (truncated addresses)");
  v2_start(&w, 0x21, 0x11);
  v2_put(&w, "\x0a\x01\x02\x03\xc0\xa8\x00\x01", 8);
  v2_end(&w);
  tap_ok(v2_bad(&w, "shorter than the addresses"), "v2 TCP4 with 8 bytes of addresses rejected");
  v2_start(&w, 0x21, 0x11);
  v2_end(&w);
  tap_ok(v2_bad(&w, "shorter than the addresses"), "v2 TCP4 with length 0 rejected");

  v2_start(&w, 0x21, 0x00);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.command == PROXY_CMD_PROXY && !h.has_addresses,
         "v2 PROXY UNSPEC: no addresses, real endpoints");

  v2_start(&w, 0x20, 0x11);
  v2_ip4(&w);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.command == PROXY_CMD_LOCAL && !h.has_addresses,
         "v2 LOCAL with addresses: addresses ignored");
  v2_start(&w, 0x20, 0x00);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.command == PROXY_CMD_LOCAL && !h.has_addresses && h.length == 16,
         "v2 LOCAL health check (16 bytes)");
  v2_start(&w, 0x20, 0x77);
  v2_put(&w, "\xff\xff\xff", 3);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.command == PROXY_CMD_LOCAL && !h.has_addresses,
         "v2 LOCAL: family and rest discarded uninterpreted");

  static const struct { unsigned fam; const char *why; const char *name; } fams[] = {
    { 0x12, "datagram", "v2 UDP over IPv4 rejected" },
    { 0x22, "datagram", "v2 UDP over IPv6 rejected" },
    { 0x31, "UNIX", "v2 UNIX stream rejected" },
    { 0x32, "UNIX", "v2 UNIX datagram rejected" },
    { 0x10, "unknown address family", "v2 IPv4 with transport UNSPEC rejected" },
    { 0x13, "unknown address family", "v2 transport 3 rejected" },
    { 0x41, "unknown address family", "v2 family 4 rejected" },
  };
  for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
    v2_start(&w, 0x21, fams[i].fam);
    unsigned char unix_block[216] = { 0 };
    v2_put(&w, unix_block, sizeof unix_block);
    v2_end(&w);
    tap_ok(v2_bad(&w, fams[i].why), fams[i].name);
  }
}

static void test_v2_fixed(void)
{
  struct v2b w;
  size_t need;
  int all = 1;
  for (int i = 0; i < 12; i++) {
    v2_start(&w, 0x21, 0x11);
    v2_ip4(&w);
    v2_end(&w);
    w.b[i] ^= 0x20;
    if (!rejected(w.b, w.n, PROXY_ANY, NULL)) all = 0;
  }
  tap_ok(all, "v2 each byte of the signature checked");
  v2_start(&w, 0x11, 0x11);
  v2_ip4(&w);
  v2_end(&w);
  tap_ok(v2_bad(&w, "version"), "v2 version nibble 1 rejected");
  v2_start(&w, 0x31, 0x11);
  v2_ip4(&w);
  v2_end(&w);
  tap_ok(v2_bad(&w, "version"), "v2 version nibble 3 rejected");
  v2_start(&w, 0x22, 0x11);
  v2_ip4(&w);
  v2_end(&w);
  tap_ok(v2_bad(&w, "command"), "v2 command 2 rejected");
  tap_ok(parse(w.b, 13, PROXY_ANY, &need) < 0, "... as soon as the command byte is in");

  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_end(&w);
  tap_ok(parse(w.b, w.n, PROXY_V1, &need) < 0 && strstr(why, "only v1"),
         "v2 rejected when only v1 accepted");
  tap_ok(parse(w.b, w.n, PROXY_V2, &need) == 1, "v2 accepted when only v2 accepted");
  tap_ok(parse(w.b, 16, PROXY_ANY, &need) == 0 && need == 12, "after 16 bytes: the rest, 12");

  /* Big headers: much more than any 108-byte buffer, up to the bound. */
  unsigned char pad[PROXY_HEADER_MAX];
  memset(pad, 'z', sizeof pad);
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0xE0, pad, 480);
  v2_end(&w);
  tap_ok(w.n > 500 && v2_ok(&w) && h.has_addresses, "v2 header of 511 bytes with a custom TLV accepted");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x04, pad, PROXY_HEADER_MAX - 16 - 12 - 3);
  v2_end(&w);
  tap_ok(w.n == PROXY_HEADER_MAX && v2_ok(&w), "v2 header of exactly PROXY_HEADER_MAX accepted");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x04, pad, PROXY_HEADER_MAX - 16 - 12 - 2);
  v2_end(&w);
  tap_ok(v2_bad(&w, "oversized"), "v2 header of PROXY_HEADER_MAX + 1 rejected as oversized");
  tap_ok(parse(w.b, 16, PROXY_ANY, &need) < 0, "... as soon as the length is in");
  w.b[14] = 0xff; w.b[15] = 0xff;
  tap_ok(parse(w.b, 16, PROXY_ANY, &need) < 0 && strstr(why, "oversized"),
         "v2 length 0xffff (negative if signed) rejected as oversized");
}

static void test_v2_tlvs(void)
{
  struct v2b w;
  unsigned char buf[300];
  memset(buf, 'u', sizeof buf);

  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x01, "h2", 2);
  v2_tlv(&w, 0x02, "example.com", 11);
  v2_tlv(&w, 0x05, buf, 128);
  v2_tlv(&w, 0x04, "\0\0\0", 3);
  v2_tlv(&w, 0x30, "ns1", 3);
  v2_tlv(&w, 0xE5, "cloud", 5);
  v2_tlv(&w, 0x06, "", 0);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.has_addresses && value_is(&h.alpn, "h2") &&
         value_is(&h.authority, "example.com") && h.unique_id.present &&
         h.unique_id.len == 128 && !h.has_ssl && !h.has_crc32c,
         "v2 TLVs with PROXY: ALPN, AUTHORITY, UNIQUE_ID of 128 kept, others skipped");

  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x05, buf, 129);
  v2_end(&w);
  tap_ok(v2_bad(&w, "UNIQUE_ID"), "v2 UNIQUE_ID of 129 bytes rejected");

  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x02, buf, 256);
  v2_end(&w);
  tap_ok(v2_bad(&w, "too long"), "v2 AUTHORITY over PROXY_VALUE_MAX rejected");

  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x01, "h2", 2);
  v2_tlv(&w, 0x01, "h2", 2);
  v2_end(&w);
  tap_ok(v2_bad(&w, "repeated"), "v2 repeated ALPN rejected");

  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x02, "example.com", 11);
  w.n -= 3;
  v2_end(&w);
  tap_ok(v2_bad(&w, "runs past"), "v2 TLV overrunning the length rejected");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_put(&w, "\x02\x00", 2);
  v2_end(&w);
  tap_ok(v2_bad(&w, "truncated TLV"), "v2 TLV header cut short rejected");
  v2_start(&w, 0x21, 0x00);
  v2_put(&w, "\x02\x00\x05" "ab", 5);
  v2_end(&w);
  tap_ok(v2_bad(&w, "runs past"), "v2 UNSPEC: TLVs checked too");

  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x05, "id-1", 4);
  v2_end_crc(&w, 0);
  tap_ok(v2_ok(&w) && h.has_crc32c && value_is(&h.unique_id, "id-1"), "v2 good CRC32C accepted");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x05, "id-1", 4);
  v2_end_crc(&w, 1);
  tap_ok(v2_bad(&w, "CRC32C mismatch"), "v2 bad CRC32C rejected");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_end_crc(&w, 0);
  w.b[20] ^= 1;
  tap_ok(v2_bad(&w, "CRC32C mismatch"), "v2 CRC32C covers the addresses");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x03, "\0\0\0", 3);
  v2_end(&w);
  tap_ok(v2_bad(&w, "not 4 bytes"), "v2 CRC32C TLV of 3 bytes rejected");

  /* SSL with its sub-TLVs. */
  struct v2b ssl;
  ssl.n = 0;
  v2_put(&ssl, "\x07\0\0\0\0", 5);
  v2_tlv(&ssl, 0x21, "TLSv1.3", 7);
  v2_tlv(&ssl, 0x22, "client.example", 14);
  v2_tlv(&ssl, 0x23, "TLS_AES_256_GCM_SHA384", 22);
  v2_tlv(&ssl, 0x24, "SHA256", 6);
  v2_tlv(&ssl, 0x25, "RSA2048", 7);
  v2_tlv(&ssl, 0x99, "?", 1);
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x20, ssl.b, ssl.n);
  v2_end_crc(&w, 0);
  tap_ok(v2_ok(&w) && h.has_ssl && h.ssl_client == 7 && h.ssl_verify == 0 &&
         value_is(&h.ssl_version, "TLSv1.3") && value_is(&h.ssl_cn, "client.example") &&
         value_is(&h.ssl_cipher, "TLS_AES_256_GCM_SHA384") &&
         value_is(&h.ssl_sig_alg, "SHA256") && value_is(&h.ssl_key_alg, "RSA2048") && h.has_crc32c,
         "v2 SSL TLV with VERSION, CN, CIPHER, SIG_ALG, KEY_ALG");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x20, "\x01\0\0\0\x01\x22\x00\x09" "abc", 11);
  v2_end(&w);
  tap_ok(v2_bad(&w, "runs past"), "v2 SSL sub-TLV overrunning the SSL TLV rejected");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x20, "\x01\0\0\0", 4);
  v2_end(&w);
  tap_ok(v2_bad(&w, "too short"), "v2 SSL TLV of 4 bytes rejected");
  v2_start(&w, 0x21, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x20, "\x01\0\0\0\x02", 5);
  v2_end(&w);
  tap_ok(v2_ok(&w) && h.has_ssl && h.ssl_client == 1 && h.ssl_verify == 2 && !h.ssl_cn.present,
         "v2 SSL TLV without sub-TLVs, verify failed");

  v2_start(&w, 0x20, 0x11);
  v2_ip4(&w);
  v2_tlv(&w, 0x05, buf, 200);
  v2_end(&w);
  tap_ok(v2_ok(&w) && !h.unique_id.present, "v2 LOCAL: TLVs not interpreted");
}

static void test_env(void)
{
  struct proxy_value v;
  char out[8];
  memset(&v, 0, sizeof v);
  memcpy(v.v, "a\x01=\x80 \n", 6);
  v.len = 6;
  v.present = 1;
  tap_ok(proxy_value_env(&v, out, sizeof out) == 6, "env rendering keeps the length");
  tap_is_str(out, "a?=? ?", "control and high bytes become ?");
  memcpy(v.v, "0123456789", 10);
  v.len = 10;
  tap_ok(proxy_value_env(&v, out, sizeof out) == 7, "env rendering bounded by the buffer");
  tap_is_str(out, "0123456", "... and cut");
  memcpy(v.v, "\0x", 2);
  v.len = 2;
  proxy_value_env(&v, out, sizeof out);
  tap_is_str(out, "?x", "NUL byte becomes ?");
}

int main(void)
{
  test_v1();
  test_v2_addresses();
  test_v2_fixed();
  test_v2_tlvs();
  test_env();
  return tap_done();
}
