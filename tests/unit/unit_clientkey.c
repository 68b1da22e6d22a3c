/* siphash.c and clientkey.c: the published SipHash-2-4 vectors, key
   derivation and prefix masking for both families. */
#include <errno.h>
#include <sys/socket.h>
#include "tap.h"
#include "clientkey.h"

static const struct siphash_key vector_key = {
  0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull,
};

static void sip_vector(size_t len, uint64_t want)
{
  unsigned char msg[64];
  char name[80];
  for (size_t i = 0; i < len; i++) msg[i] = (unsigned char) i;
  snprintf(name, sizeof name, "SipHash-2-4 vector of %zu bytes", len);
  tap_ok(siphash(&vector_key, 2, 4, msg, len) == want, name);
}

/* The key of addr/prefix, formatted. */
static void keyed(const char *addr, unsigned prefix, const char *want)
{
  struct ip_addr ip;
  struct clientkey k;
  char buf[CLIENTKEY_FMT_SIZE], name[200];
  snprintf(name, sizeof name, "%s/%u is %s", addr, prefix, want ? want : "refused");
  if (ip_parse(addr, &ip) < 0) { tap_ok(0, name); return; }
  if (clientkey_make(&k, &ip, prefix) < 0) { tap_ok(want == NULL && errno == EINVAL, name); return; }
  clientkey_format(&k, buf);
  tap_is_str(buf, want, name);
}

static int same_key(const char *x, unsigned px, const char *y, unsigned py)
{
  struct ip_addr a, b;
  struct clientkey ka, kb;
  if (ip_parse(x, &a) < 0 || ip_parse(y, &b) < 0) return -1;
  if (clientkey_make(&ka, &a, px) < 0 || clientkey_make(&kb, &b, py) < 0) return -1;
  return clientkey_equal(&ka, &kb);
}

int main(void)
{
  sip_vector(0, 0x726fdb47dd0e0e31ull);
  sip_vector(8, 0x93f5f5799a932462ull);
  sip_vector(15, 0xa129ca6149be45e5ull);

  keyed("10.1.2.3", 32, "10.1.2.3/32");
  keyed("10.1.2.3", 24, "10.1.2.0/24");
  keyed("10.1.2.3", 16, "10.1.0.0/16");
  keyed("10.1.2.3", 0, "0.0.0.0/0");
  keyed("10.1.2.255", 25, "10.1.2.128/25");
  keyed("10.1.2.3", 33, NULL);
  keyed("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::/64");
  keyed("2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6/128");
  keyed("2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::/48");
  keyed("2001:db8:1:2:3:4:5:6", 0, "::/0");
  keyed("2001:db8:1:ffff::", 57, "2001:db8:1:ff80::/57");
  keyed("2001:db8::1", 129, NULL);
  /* A mapped address the caller did not fold stays IPv6 (see clientkey.h). */
  keyed("::ffff:10.1.2.3", 128, "::ffff:10.1.2.3/128");
  tap_ok(same_key("::ffff:10.1.2.3", 128, "10.1.2.3", 32) == 0,
         "an unfolded mapped address is not its IPv4 key");

  tap_ok(same_key("2001:db8:1:2::1", 64, "2001:db8:1:2:ffff:ffff:ffff:ffff", 64) == 1,
         "one /64 is one IPv6 client");
  tap_ok(same_key("2001:db8:1:2::1", 64, "2001:db8:1:3::1", 64) == 0,
         "the next /64 is another client");
  tap_ok(same_key("10.1.2.3", 24, "10.1.2.200", 24) == 1, "one /24");
  tap_ok(same_key("10.1.2.3", 24, "10.1.3.3", 24) == 0, "another /24");
  tap_ok(same_key("10.1.2.0", 24, "10.1.2.0", 32) == 0,
         "the prefix length is part of the key");
  tap_ok(same_key("0.0.0.0", 0, "::", 0) == 0, "the family is part of the key");
  tap_ok(same_key("1.2.3.4", 0, "200.1.1.1", 0) == 1, "/0 is one key per family");

  struct ip_addr ip;
  struct clientkey k1, k2;
  ip_parse("fe80::1%1", &ip);
  clientkey_make(&k1, &ip, 128);
  ip.scope = 2;
  clientkey_make(&k2, &ip, 128);
  tap_ok(clientkey_equal(&k1, &k2), "the scope is not part of the key");
  ip.family = AF_UNIX;
  tap_ok(clientkey_make(&k1, &ip, 0) < 0 && errno == EINVAL, "another family is refused");

  struct siphash_key s1, s2;
  tap_ok(siphash_key_random(&s1) == 0 && siphash_key_random(&s2) == 0, "random seeds");
  tap_ok(s1.k0 != s2.k0 || s1.k1 != s2.k1, "two seeds differ");
  tap_ok(clientkey_hash(&k2, &s1) == clientkey_hash(&k2, &s1), "the hash is a function");
  tap_ok(clientkey_hash(&k2, &s1) != clientkey_hash(&k2, &s2), "the seed changes the hash");
  return tap_done();
}
