#ifndef RULEPARSE_H
#define RULEPARSE_H
#include <stddef.h>
#include "addr.h"

/* The rules-line language of tcprules(1), as pure functions over byte
   buffers: no globals, no allocation, no exits.  The caller owns every
   buffer (sizes below). */

enum { RULEPARSE_SKIP, RULEPARSE_RULE, RULEPARSE_BAD };

struct ruleline {
  const char *addr;   /* the address part, pointing into the line */
  size_t addrlen;
  size_t datalen;     /* the encoded data written to the caller's buffer */
  size_t linelen;     /* the line without trailing space, tab, newline */
};

/* Bytes of data buffer that any line of len bytes may need. */
#define RULEPARSE_DATA_CAP(len) ((len) + 2)

/* Parse one line (its newline may be included).  Returns RULEPARSE_SKIP
   for a comment, a blank line or a line without ':'; RULEPARSE_RULE with
   *out filled and the rule data ("D\0", "+NAME=value\0"...) in data;
   RULEPARSE_BAD when the line is malformed.  The address ends at the
   first ':' followed by "allow" or "deny" and then ',' or the end; with
   0.88's lines that is always the first ':'. */
int ruleparse_line(const char *line, size_t len, char *data, size_t datacap,
                   struct ruleline *out);

/* The keys of one address: the range expansion of 0.88 (1.2.3.4-7), then
   each key in its stored form (IPv6 canonical, CIDR as network/length,
   ucspi-tcp-ipv6's textual prefixes "2001:db8:" with their hex groups in
   lower case without leading zeros, everything else as written).  An
   IPv4-mapped address stays IPv6: it matches only a client presented in
   that form (tcpserver -6), as in ucspi-tcp-ipv6. */
struct rulekeys {
  const char *addr;
  size_t len;
  int range;                  /* 0: a single key */
  size_t left, right;         /* the range's number spans [left, right) */
  unsigned long bot, top;
  int done;
};

/* Bytes of key buffer that rulekeys_next needs for an address of len
   bytes, and that rulekey_canon needs for a key of len bytes. */
#define RULEKEYS_CAP(len) (2 * (len) + 200)
#define RULEKEY_CANON_CAP(len) ((len) + 80)

/* 0, or -1 if the address has a malformed range. */
int rulekeys_start(struct rulekeys *k, const char *addr, size_t len);
/* The next key into buf (cap >= RULEKEYS_CAP(len)): returns 1 with
   *keylen set, and *cidr_family (AF_INET, AF_INET6, or 0 when the key is
   not a CIDR key) and *cidr_len; 0 when there are no more; -1 when the
   address is malformed (a bad IPv6 or CIDR form, a stray ':'). */
int rulekeys_next(struct rulekeys *k, char *buf, size_t cap, size_t *keylen,
                  int *cidr_family, unsigned *cidr_len);

/* The stored form of one key (no range expansion): returns 0 with the
   result in out (cap >= RULEKEY_CANON_CAP(len)), or -1 if malformed. */
int rulekey_canon(const char *key, size_t len, char *out, size_t cap,
                  size_t *outlen, int *cidr_family, unsigned *cidr_len);

/* An address as rules write it: an IPv4 dotted quad or IPv6 in any
   textual form, without brackets or scope (IPv4-mapped stays IPv6).
   0, or -1. */
int rulekey_parse_ip(const char *s, size_t n, struct ip_addr *ip);

/* What a stored key means where ucspi-tcp-ipv6 and this suite could read
   it differently, for tcprules' warnings:
   RULEKEY_TEXT_PREFIX: "2001:db8:", "::ffff:10.", a textual prefix (as
     in ucspi-tcp-ipv6; "2001:db8:" is exactly 2001:db8::/32);
   RULEKEY_PREFIX_OR_ADDRESS: "2001:db8::", an address that is also a
     textual prefix, matching 2001:db8::7 but not 2001:db8:1::7;
   RULEKEY_V4MAPPED: "::ffff:1.2.3.4" or "::ffff:10.0.0.0/104", which
     matches only clients presented in IPv6 form;
   RULEKEY_OTHER: anything else. */
enum { RULEKEY_OTHER, RULEKEY_TEXT_PREFIX, RULEKEY_PREFIX_OR_ADDRESS,
       RULEKEY_V4MAPPED };
int rulekey_v6_kind(const char *key, size_t len);

/* The CIDR network to write instead of such a key: for "2001:db8:" and
   "2001:db8::" 2001:db8:: and 32 (the groups before any "::"); for
   "::ffff:10.1.2.3" or "::ffff:10.0.0.0/104" the IPv4 10.1.2.3/32 or
   10.0.0.0/8.  0, or -1 when there is none ("::", "::ffff:10."). */
int rulekey_cidr_equivalent(const char *key, size_t len, struct ip_addr *ip,
                            unsigned *bits);

#endif
