/* Unit tests of the rules-line parser (ruleparse.h): line splitting, the
   data encoding of assignments, range expansion and the stored form of
   IPv6 and CIDR keys. */
#include <netinet/in.h>
#include <stdio.h>
#include "tap.h"
#include "ruleparse.h"
#include "rules.h"

/* "SKIP", "BAD", or "ADDR|data" with NULs shown as '0'. */
static const char *parse(const char *line)
{
  static char out[512];
  char data[256];
  struct ruleline rl;
  int r = ruleparse_line(line, strlen(line), data, sizeof data, &rl);
  if (r == RULEPARSE_SKIP) return "SKIP";
  if (r == RULEPARSE_BAD) return "BAD";
  size_t n = 0;
  memcpy(out, rl.addr, rl.addrlen);
  n = rl.addrlen;
  out[n++] = '|';
  for (size_t i = 0; i < rl.datalen; i++) out[n++] = data[i] ? data[i] : '0';
  out[n] = 0;
  return out;
}

static const struct { const char *line, *want; } lines[] = {
  { "1.2.3.4:allow", "1.2.3.4|" },
  { "1.2.3.4:deny", "1.2.3.4|D0" },
  { "1.2.3.4:deny \t\n", "1.2.3.4|D0" },
  { "#1.2.3.4:deny", "SKIP" },
  { "", "SKIP" },
  { "   \t", "SKIP" },
  { "no colon here", "SKIP" },
  { ":allow", "|" },
  { " x:allow", " x|" },
  { "1:allow,A=/x/,B=\"y z\"", "1|+A=x0+B=y z0" },
  { "1:deny,A=+a:deny+", "1|D0+A=a:deny0" },
  { "1:allow,a=xx", "1|+a=0" },
  { "1:allow,,a=/b/", "1|+,a=b0" },
  { "1:allow,=x=", "BAD" },
  { "1:allow,", "BAD" },
  { "1:allow,a", "BAD" },
  { "1:allow,a=", "BAD" },
  { "1:allow,a=/x", "BAD" },
  { "1:allow ,a=/x/", "BAD" },
  { "1:allowed", "BAD" },
  { "1:Allow", "BAD" },
  { "1:allow\r", "BAD" },
  { "1:allow:allow", "1:allow|" },   /* the key is refused later */
  { "a:allow,X=:allow:", "a|+X=allow0" },
  { "2001:db8::1:allow", "2001:db8::1|" },
  { "::1:deny,A=/1/", "::1|D0+A=10" },
  { "::1:allowx", "BAD" },
  { "joe@::1:allow", "joe@::1|" },
  { "2001:db8::/32:deny", "2001:db8::/32|D0" },
};

static const char *canon(const char *key)
{
  static char out[256];
  size_t n;
  int fam;
  unsigned plen;
  if (rulekey_canon(key, strlen(key), out, sizeof out, &n, &fam, &plen) < 0) return "BAD";
  if (fam) snprintf(out + n, sizeof out - n, " fam%d len%u", fam == AF_INET ? 4 : 6, plen);
  else out[n] = 0;
  return out;
}

static const struct { const char *key, *want; } keys[] = {
  { "1.2.3.4", "1.2.3.4" },
  { "1.2.3.04", "1.2.3.04" },          /* plain IPv4 text: as written, as 0.88 */
  { "=host", "=host" },
  { "=a/b", "=a/b" },
  { "x=1/2", "x=1/2" },
  { "joe@1.2.3.4", "joe@1.2.3.4" },
  { "", "" },
  { "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
  { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
  { "::ffff:1.2.3.4", "::ffff:1.2.3.4" },   /* not folded: ucspi-tcp-ipv6's */
  { "2001:db8:", "2001:db8:" },              /* its textual prefixes */
  { "2001:0DB8:", "2001:db8:" },
  { "2001:db8::", "2001:db8::" },
  { "2001:db8:0:1::", "2001:db8:0:1::" },
  { "2001:", "2001:" },
  { "::", "::" },
  { ":", ":" },
  { "::ffff:127.", "::ffff:127." },
  { "::FFFF:10.1.", "::ffff:10.1." },
  { "1:2:3:4:5:6:7:", "1:2:3:4:5:6:7:" },
  { "1:2:3:4:5:6:7:8:", "BAD" },
  { "2001:db8", "BAD" },
  { "12345:", "BAD" },
  { "02100:1:00::", "BAD" },                 /* a group of 5 (found by fuzzing) */
  { "2001:0db8:", "2001:db8:" },
  { "2001::db8::", "BAD" },
  { "::ffff:127.0.0.1.", "BAD" },
  { "2001:db8:.", "BAD" },
  { "joe@2001:DB8::1", "joe@2001:db8::1" },
  { "a@b@::1", "a@b@::1" },
  { "10.1.2.3/8", "10.0.0.0/8 fam4 len8" },
  { "010.1.2.3/08", "10.0.0.0/8 fam4 len8" },
  { "1.2.3.4/32", "1.2.3.4/32 fam4 len32" },
  { "255.255.255.255/0", "0.0.0.0/0 fam4 len0" },
  { "2001:db8:ffff::/32", "2001:db8::/32 fam6 len32" },
  { "::/0", "::/0 fam6 len0" },
  { "::1/128", "::1/128 fam6 len128" },
  { "2001:db8::1/127", "2001:db8::/127 fam6 len127" },
  { "::ffff:10.1.2.3/104", "::ffff:10.0.0.0/104 fam6 len104" },
  { "10.0.0.0/33", "BAD" },
  { "::/129", "BAD" },
  { "10.0.0.0/8x", "BAD" },
  { "10.0.0.0/", "BAD" },
  { "10.0.0.0/0008", "BAD" },
  { "10.0.0.0/-1", "BAD" },
  { "10.0.0/8", "BAD" },
  { "10/8", "BAD" },
  { ":::", "BAD" },
  { ":::1", "BAD" },
  { "2001:db8::g", "BAD" },
  { "12345::1", "BAD" },
  { "[::1]", "BAD" },
  { "fe80::1%lo", "BAD" },
  { "a:b@1.2.3.4", "BAD" },
  { "=a:b", "BAD" },
  { "joe@10.0.0.0/8", "BAD" },
  { "joe@::1/128", "BAD" },
  { "x=::1", "BAD" },
  { "1:allow", "BAD" },
};

/* Every key of an address, joined by spaces; "BAD" on error. */
static const char *expand(const char *addr)
{
  static char out[4096];
  char key[512];
  size_t n = 0, klen;
  int fam, r;
  unsigned plen;
  struct rulekeys k;
  if (rulekeys_start(&k, addr, strlen(addr)) < 0) return "BAD";
  out[0] = 0;
  while ((r = rulekeys_next(&k, key, sizeof key, &klen, &fam, &plen)) > 0) {
    if (n) out[n++] = ' ';
    memcpy(out + n, key, klen);
    n += klen;
    out[n] = 0;
  }
  return r < 0 ? "BAD" : out;
}

static const struct { const char *addr, *want; } ranges[] = {
  { "1.2.3.4-7", "1.2.3.4 1.2.3.5 1.2.3.6 1.2.3.7" },
  { "10.0-2.", "10.0. 10.1. 10.2." },
  { "1.2.3.04-5", "1.2.3.4 1.2.3.5" },
  { "1.2.3.-1", "1.2.3.0 1.2.3.1" },
  { "1.2.3.4-", "" },
  { "5-2.", "" },
  { "1.2.3.254-300", "1.2.3.254 1.2.3.255" },
  { "1.2.3.18446744073709551617-2", "1.2.3.1 1.2.3.2" },   /* 0.88 wraps */
  { "1-2-3", "BAD" },
  { "1.2.3.a-5", "BAD" },
  { "1.2.3.4-5x", "BAD" },
  { "x=1-3", "x=1-3" },
  { "a-b@1", "a-b@1" },
  { "10.0-1.0.0/16", "10.0.0.0/16 10.1.0.0/16" },
  { "10.5-2.0.0/99", "BAD" },
  { "1.2.3.0/24-25", "BAD" },
  { "plain", "plain" },
};

/* The kind and the CIDR form tcprules suggests. */
static const char *kind(const char *key)
{
  static const char *const names[] = { "other", "text", "both", "mapped" };
  static char out[128];
  struct ip_addr ip;
  unsigned bits;
  char net[IP_FMT_SIZE];
  int k = rulekey_v6_kind(key, strlen(key));
  if (rulekey_cidr_equivalent(key, strlen(key), &ip, &bits) < 0) return names[k];
  ip_format(&ip, net);
  snprintf(out, sizeof out, "%s %s/%u", names[k], net, bits);
  return out;
}

static const struct { const char *key, *want; } kinds[] = {
  { "2001:db8:", "text 2001:db8::/32" },
  { "2001:", "text 2001::/16" },
  { "1:2:3:4:5:6:7:", "text 1:2:3:4:5:6:7:0/112" },
  { "2001:db8::", "both 2001:db8::/32" },
  { "2001:db8:0:1::", "both 2001:db8:0:1::/64" },
  { "::", "both" },
  { ":", "text" },
  { "::ffff:127.", "text" },
  { "::ffff:1.2.3.4", "mapped 1.2.3.4/32" },
  { "::ffff:10.0.0.0/104", "mapped 10.0.0.0/8" },
  { "2001:db8::7", "other" },
  { "2001:db8::/32", "other" },
  { "1.2.3.", "other" },
  { "joe@2001:db8::", "other" },
  { "", "other" },
};

int main(void)
{
  char name[300];
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    snprintf(name, sizeof name, "line '%s'", lines[i].line);
    for (char *c = name; *c; c++)
      if (*c < ' ') *c = '?';
    tap_is_str(parse(lines[i].line), lines[i].want, name);
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    snprintf(name, sizeof name, "key '%s'", keys[i].key);
    tap_is_str(canon(keys[i].key), keys[i].want, name);
  }
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    snprintf(name, sizeof name, "kind of '%s'", kinds[i].key);
    tap_is_str(kind(kinds[i].key), kinds[i].want, name);
  }
  static const struct { const char *text; unsigned bits; } bits[] = {
    { "2001:db8:0:1:", 64 }, { "2001:db8:", 32 }, { "2001:db8::", 32 },
    { "2001:db8::5:", 32 }, { "2001:", 16 }, { "::", 0 }, { ":", 0 },
    { "::ffff:", 96 }, { "::ffff:10.", 104 }, { "::ffff:10.1.2.", 120 },
    { "1:2:3:4:5:6:7:", 112 }, { "10.1.", 0 },
  };
  for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
    snprintf(name, sizeof name, "'%s' spells out %u bits", bits[i].text, bits[i].bits);
    tap_ok(rulekey_text_bits(bits[i].text, strlen(bits[i].text)) == bits[i].bits, name);
  }
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    snprintf(name, sizeof name, "range '%s'", ranges[i].addr);
    tap_is_str(expand(ranges[i].addr), ranges[i].want, name);
  }
  /* A NUL inside the line is data like any other byte. */
  char data[32];
  struct ruleline rl;
  tap_ok(ruleparse_line("a\0b:deny\n", 9, data, sizeof data, &rl) == RULEPARSE_RULE &&
         rl.addrlen == 3 && rl.linelen == 8, "NUL kept in the address, newline stripped");
  return tap_done();
}
