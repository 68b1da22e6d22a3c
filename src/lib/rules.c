/* Rule data, the prefix index and the lookup (rules.h); the database
   that keeps a cdb mapped is rulesdb.c. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "rules.h"

/* ---- rule data ---- */

int rules_data_denies(const char *data, size_t len)
{
  size_t pos = 0;
  while (pos < len) {
    const char *end = memchr(data + pos, 0, len - pos);
    if (!end) return 0;
    if (data[pos] == 'D') return 1;
    pos = (size_t) (end - data) + 1;
  }
  return 0;
}

int rules_data_next(const char *data, size_t datalen, size_t *pos,
                    const char **item, size_t *len)
{
  while (*pos < datalen) {
    const char *start = data + *pos;
    const char *end = memchr(start, 0, datalen - *pos);
    if (!end || *start == 'D') {
      *pos = datalen;
      return 0;
    }
    *pos = (size_t) (end - data) + 1;
    if (*start == '+') {
      *item = start + 1;
      *len = (size_t) (end - start) - 1;
      return 1;
    }
  }
  return 0;
}

int rules_data_get(const char *data, size_t datalen, const char *name,
                   const char **value, size_t *len)
{
  size_t pos = 0, itemlen, namelen = strlen(name);
  const char *item;
  while (rules_data_next(data, datalen, &pos, &item, &itemlen))
    if (itemlen > namelen && item[namelen] == '=' &&
        memcmp(item, name, namelen) == 0) {
      *value = item + namelen + 1;
      *len = itemlen - namelen - 1;
      return 1;
    }
  return 0;
}

size_t rules_data_add_deny(char *buf, size_t len, size_t cap)
{
  if (len > cap || cap - len < 2) return (size_t) -1;
  buf[len] = 'D';
  buf[len + 1] = 0;
  return len + 2;
}

size_t rules_data_add_var(char *buf, size_t len, size_t cap,
                          const char *name, size_t namelen,
                          const char *value, size_t valuelen)
{
  if (len > cap || namelen > cap || valuelen > cap ||
      cap - len < 3 + namelen + valuelen) return (size_t) -1;
  buf[len++] = '+';
  memcpy(buf + len, name, namelen);
  len += namelen;
  buf[len++] = '=';
  memcpy(buf + len, value, valuelen);
  len += valuelen;
  buf[len++] = 0;
  return len;
}

/* ---- the prefix index ---- */

void rules_index_init(struct rules_index *ix)
{
  memset(ix, 0, sizeof *ix);
}

static void bit_set(unsigned char *map, unsigned n)
{
  map[n / 8] |= (unsigned char) (1u << (n % 8));
}

static int bit_isset(const unsigned char *map, unsigned n)
{
  return map[n / 8] >> (n % 8) & 1;
}

void rules_index_add(struct rules_index *ix, const char *key, size_t len,
                     int cidr_family, unsigned cidr_len)
{
  if (cidr_family == AF_INET && cidr_len <= 32) {
    bit_set(ix->v4, cidr_len);
    ix->flags |= RULES_HAS_CIDR;
  } else if (cidr_family == AF_INET6 && cidr_len <= 128) {
    bit_set(ix->v6, cidr_len);
    ix->flags |= RULES_HAS_CIDR;
  }
  if (len && key[len - 1] == '.') ix->flags |= RULES_HAS_DOT_END;
  if (len && key[len - 1] == ':') ix->flags |= RULES_HAS_COLON_END;
  if (memchr(key, '@', len)) ix->flags |= RULES_HAS_AT;
  if (len && key[0] == '=') ix->flags |= RULES_HAS_EQ;
  if (len > 1 && key[0] == '=' && key[1] == '.') ix->flags |= RULES_HAS_EQ_DOT;
}

/* Layout: "I1", a flags byte, the IPv4 map, the IPv6 map. */
void rules_index_encode(const struct rules_index *ix,
                        char out[RULES_INDEX_LEN])
{
  out[0] = 'I';
  out[1] = '1';
  out[2] = (char) ix->flags;
  memcpy(out + 3, ix->v4, sizeof ix->v4);
  memcpy(out + 3 + sizeof ix->v4, ix->v6, sizeof ix->v6);
}

/* What the lookup may skip.  No index: every text key kind, no CIDR (a
   0.88 file).  An index of an unknown layout: probe everything. */
static int index_load(struct cdb *c, struct rules_index *ix)
{
  rules_index_init(ix);
  int r = cdb_find(c, RULES_INDEX_KEY, RULES_INDEX_KEYLEN);
  if (r < 0) return -1;
  const unsigned char *d = NULL;
  if (r > 0 && cdb_datalen(c) >= RULES_INDEX_LEN)
    d = cdb_get(c, RULES_INDEX_LEN, cdb_datapos(c));
  if (d && d[0] == 'I' && d[1] == '1') {
    ix->flags = d[2];
    memcpy(ix->v4, d + 3, sizeof ix->v4);
    memcpy(ix->v6, d + 3 + sizeof ix->v4, sizeof ix->v6);
    return 0;
  }
  ix->flags = RULES_HAS_DOT_END | RULES_HAS_AT | RULES_HAS_EQ |
              RULES_HAS_EQ_DOT | RULES_HAS_COLON_END;
  if (r > 0) {
    memset(ix->v4, 0xff, sizeof ix->v4);
    memset(ix->v6, 0xff, sizeof ix->v6);
  }
  return 0;
}

/* ---- lookup ---- */

struct search {
  struct cdb *c;
  char *key;
  size_t cap;
  struct rules_found *f;
};

#define NO_ROOM SIZE_MAX

/* Append n bytes to the key being built at length at; NO_ROOM sticks. */
static size_t put(struct search *s, size_t at, const char *str, size_t n)
{
  if (at == NO_ROOM || n >= s->cap - at) return NO_ROOM;
  memcpy(s->key + at, str, n);
  return at + n;
}

static size_t puts_(struct search *s, size_t at, const char *str)
{
  return put(s, at, str, strlen(str));
}

/* Look key[0..len) up: 1 found (s->f filled), 0 not, -1 error. */
static int probe(struct search *s, size_t len)
{
  if (len == NO_ROOM) return 0;
  int r = cdb_find(s->c, s->key, (unsigned) len);
  if (r <= 0) return r;
  size_t dlen = cdb_datalen(s->c);
  const char *d = cdb_get(s->c, (unsigned) dlen, cdb_datapos(s->c));
  if (!d) {
    errno = EPROTO;
    return -1;
  }
  s->key[len] = 0;
  s->f->key = s->key;
  s->f->keylen = len;
  s->f->data = d;
  s->f->datalen = dlen;
  return 1;
}

static int try_cidr(struct search *s, const struct ip_addr *ip, unsigned len)
{
  struct ip_addr net = *ip;
  ip_mask(&net, len);
  char text[IP_FMT_SIZE + 8];
  size_t n = ip_format(&net, text);
  text[n++] = '/';
  n += fmt_ulong(text + n, len);
  return probe(s, put(s, 0, text, n));
}

/* Where ipstr's k-th dot is, for a dotted quad; 0 when it is not one. */
static int dotted_quad_dots(const char *ipstr, size_t dots[3])
{
  int k = 0;
  for (size_t i = 0; ipstr[i]; i++)
    if (ipstr[i] == '.') {
      if (k == 3) return 0;
      dots[k++] = i;
    }
  return k == 3;
}

unsigned rulekey_text_bits(const char *t, size_t n)
{
  unsigned count = 0;
  if (n >= 7 && memcmp(t, "::ffff:", 7) == 0 && memchr(t, '.', n)) {
    for (size_t i = 7; i < n; i++) count += t[i] == '.';
    return 96 + 8 * count;
  }
  if (n == 7 && memcmp(t, "::ffff:", 7) == 0) return 96;
  if (!n || t[0] == ':' || t[n - 1] == '.') return 0;
  size_t upto = n;
  for (size_t i = 0; i + 1 < n; i++)
    if (t[i] == ':' && t[i + 1] == ':') { upto = i; break; }
  for (size_t i = 0; i < upto; i++) count += t[i] == ':';
  return 16 * (upto < n ? count + 1 : count);
}

/* A textual prefix of the client's address text (the 0.88 step for
   '.', ucspi-tcp-ipv6's for ':'), with the bits it spells out
   (rulekey_text_bits). */
struct textprefix { const char *text; size_t len; unsigned bits; };
#define MAX_TEXT_PREFIXES (2 * IP_FMT_SIZE)

/* Add text's prefixes ending in '.' or ':' (as the index allows) that
   are not in the list yet; the list stays sorted by bits, then length,
   both descending. */
static size_t add_text_prefixes(struct textprefix *list, size_t count,
                                const char *text, const struct rules_index *ix)
{
  for (size_t n = strlen(text); n > 0 && count < MAX_TEXT_PREFIXES; n--) {
    char c = text[n - 1];
    if (!((c == '.' && (ix->flags & RULES_HAS_DOT_END)) ||
          (c == ':' && (ix->flags & RULES_HAS_COLON_END)))) continue;
    int dup = 0;
    for (size_t i = 0; i < count && !dup; i++)
      dup = list[i].len == n && memcmp(list[i].text, text, n) == 0;
    if (dup) continue;
    struct textprefix p = { text, n, rulekey_text_bits(text, n) };
    size_t at = count++;
    while (at > 0 && (list[at - 1].bits < p.bits ||
                      (list[at - 1].bits == p.bits && list[at - 1].len < n))) {
      list[at] = list[at - 1];
      at--;
    }
    list[at] = p;
  }
  return count;
}

/* Not IPv4: the textual prefixes of both texts and the IPv6 CIDR keys,
   longest first, text before CIDR at the same length. */
static int try_text_and_cidr(struct search *s, const char *ipstr,
                             const char *legacy, const struct ip_addr *ip,
                             const struct rules_index *ix)
{
  if (!ip) {   /* not an address: every prefix, as 0.88, however many */
    for (size_t n = strlen(ipstr); n > 0; n--) {
      char c = ipstr[n - 1];
      if ((c == '.' && (ix->flags & RULES_HAS_DOT_END)) ||
          (c == ':' && (ix->flags & RULES_HAS_COLON_END))) {
        int r = probe(s, put(s, 0, ipstr, n));
        if (r) return r;
      }
    }
    return 0;
  }
  struct textprefix list[MAX_TEXT_PREFIXES];
  size_t count = add_text_prefixes(list, 0, ipstr, ix), i = 0;
  if (legacy) count = add_text_prefixes(list, count, legacy, ix);
  int v6 = ip->family == AF_INET6;
  for (unsigned len = 129; len-- > 0;) {
    for (; i < count && list[i].bits >= len; i++) {
      int r = probe(s, put(s, 0, list[i].text, list[i].len));
      if (r) return r;
    }
    if (v6 && bit_isset(ix->v6, len)) {
      int r = try_cidr(s, ip, len);
      if (r) return r;
    }
  }
  return 0;
}

/* The address prefixes, longest first; for IPv4 at each length the
   dotted prefix (a.b.c. is length 24) before the CIDR key. */
static int try_prefixes(struct search *s, const struct rules_query *q,
                        const char *legacy, const struct ip_addr *ip,
                        const struct rules_index *ix)
{
  int dotted = (ix->flags & RULES_HAS_DOT_END) != 0;
  size_t dots[3];
  if (ip && ip->family == AF_INET && dotted_quad_dots(q->ipstr, dots)) {
    for (unsigned len = 33; len-- > 0;) {
      if (dotted && len % 8 == 0 && len >= 8 && len <= 24) {
        int r = probe(s, put(s, 0, q->ipstr, dots[len / 8 - 1] + 1));
        if (r) return r;
      }
      if (bit_isset(ix->v4, len)) {
        int r = try_cidr(s, ip, len);
        if (r) return r;
      }
    }
    return 0;
  }
  return try_text_and_cidr(s, q->ipstr, legacy, ip, ix);
}

/* "=" then each suffix of host starting with '.', longest first. */
static int try_host_suffixes(struct search *s, const char *host,
                             const struct rules_index *ix)
{
  if (ix->flags & RULES_HAS_EQ_DOT)
    for (const char *h = host; *h; h++)
      if (*h == '.') {
        int r = probe(s, puts_(s, put(s, 0, "=", 1), h));
        if (r) return r;
      }
  return probe(s, put(s, 0, "=", 1));
}

size_t rules_keycap_for(size_t ip, size_t host, size_t info)
{
  size_t need = IP_FMT_SIZE + 8;   /* a CIDR key */
  if (ip > need) need = ip;
  if (info + 1 + ip > need) need = info + 1 + ip;
  if (info + 2 + host > need) need = info + 2 + host;
  if (1 + host > need) need = 1 + host;
  return need + 1;
}

size_t rules_keycap(const struct rules_query *q)
{
  return rules_keycap_for(strlen(q->ipstr), q->host ? strlen(q->host) : 0,
                          q->info ? strlen(q->info) : 0);
}

int rules_find(struct cdb *c, const struct rules_query *q,
               char *key, size_t keycap, struct rules_found *f)
{
  struct search s = { c, key, keycap, f };
  struct rules_index ix;
  struct ip_addr parsed;
  const struct ip_addr *ip = q->ip;
  int r;
  if (!ip && ip_parse(q->ipstr, &parsed) == 0) ip = &parsed;
  if (index_load(c, &ix) < 0) return -1;
  /* The text ucspi-tcp-ipv6 gave an IPv6 client, when it differs. */
  char legacy[IP_FMT_SIZE];
  const char *alt = NULL;
  if (ip && ip->family == AF_INET6) {
    ip_format_legacy6(ip, legacy);
    if (strcmp(legacy, q->ipstr)) alt = legacy;
  }

  if (q->info && (ix.flags & RULES_HAS_AT)) {
    size_t at = put(&s, puts_(&s, 0, q->info), "@", 1);
    if ((r = probe(&s, puts_(&s, at, q->ipstr)))) return r;
    if (q->host)
      if ((r = probe(&s, puts_(&s, put(&s, at, "=", 1), q->host)))) return r;
  }
  if ((r = probe(&s, puts_(&s, 0, q->ipstr)))) return r;
  if (alt && (r = probe(&s, puts_(&s, 0, alt)))) return r;
  int host_rules = q->host && (ix.flags & RULES_HAS_EQ);
  if (host_rules)
    if ((r = probe(&s, puts_(&s, put(&s, 0, "=", 1), q->host)))) return r;
  if ((r = try_prefixes(&s, q, alt, ip, &ix))) return r;
  if (host_rules)
    if ((r = try_host_suffixes(&s, q->host, &ix))) return r;
  return probe(&s, 0);
}
