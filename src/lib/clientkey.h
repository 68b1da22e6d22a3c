#ifndef CLIENTKEY_H
#define CLIENTKEY_H
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "siphash.h"

/* The key of a client or of a network in the per-client limit tables:
   family, prefix length and the address masked to that prefix, in a
   small fixed-size value that is compared and hashed as bytes.  The same
   address gives different keys for different prefix lengths, so that one
   table can count the client (/32, or /64 for IPv6), its /24 and any
   network a rule names side by side.

   IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are NOT folded here: the
   caller passes addresses from ip_from_sockaddr(), which folds them
   (addr.h).  A mapped address that reaches clientkey_make() unfolded
   (ip_parse() keeps it) is keyed as the IPv6 address it is. */

#define CLIENTKEY_V4 4
#define CLIENTKEY_V6 6

struct clientkey {
  uint8_t family;        /* CLIENTKEY_V4 or CLIENTKEY_V6 */
  uint8_t prefix;        /* 0..32 or 0..128 */
  uint8_t a[16];         /* the masked address; bytes past it are 0 */
};

/* "255.255.255.255/32" and the longest IPv6 with "/128". */
#define CLIENTKEY_FMT_SIZE (IP_FMT_SIZE + 5)

/* The key of ip's network of prefix length prefix (0..32 for IPv4,
   0..128 for IPv6).  The scope id is ignored.  Returns 0, or -1 with
   errno EINVAL for another family or a longer prefix. */
int clientkey_make(struct clientkey *k, const struct ip_addr *ip,
                   unsigned prefix);

/* 1 if x and y are the same key (family, prefix and network). */
int clientkey_equal(const struct clientkey *x, const struct clientkey *y);

/* The keyed hash of k (SipHash-1-3 of its bytes). */
uint64_t clientkey_hash(const struct clientkey *k,
                        const struct siphash_key *seed);

/* "10.1.2.0/24", "2001:db8::/64"; buf holds CLIENTKEY_FMT_SIZE bytes,
   NUL-terminated.  Returns the length. */
size_t clientkey_format(const struct clientkey *k, char *buf);
#endif
