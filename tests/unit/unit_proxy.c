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
  char a[IP_FMT_SIZE], b[IP_FMT_SIZE];
  int r = parse(line, n, PROXY_ANY, &need);
  if (r != 1) {
    tap_ok(0, name);
    printf("#   r=%d why=%s\n", r, why ? why : "");
    return;
  }
  int ok = h.version == 1 && h.command == PROXY_CMD_PROXY && h.has_addresses == has && need == n;
  if (ok && has) {
    ip_format(&h.src, a);
    ip_format(&h.dst, b);
    ok = strcmp(a, src) == 0 && strcmp(b, dst) == 0 && h.srcport == sp && h.dstport == dp;
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

int main(void)
{
  test_v1();
  return tap_done();
}
