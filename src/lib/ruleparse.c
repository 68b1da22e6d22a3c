#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include "addr.h"
#include "num.h"
#include "rules.h"
#include "ruleparse.h"

/* ---- one line ---- */

static size_t strip_trailing(const char *x, size_t len)
{
  while (len && (x[len - 1] == ' ' || x[len - 1] == '\t' || x[len - 1] == '\n'))
    len--;
  return len;
}

/* Length of the action at x ("allow" 5, "deny" 4), 0 if none. */
static size_t action_len(const char *x, size_t len)
{
  if (len >= 5 && memcmp(x, "allow", 5) == 0) return 5;
  if (len >= 4 && memcmp(x, "deny", 4) == 0) return 4;
  return 0;
}

/* The ':' that ends the address: the first one followed by an action and
   then ',' or the end.  Returns len if there is none. */
static size_t address_end(const char *x, size_t len)
{
  for (const char *c = memchr(x, ':', len); c; ) {
    size_t at = (size_t) (c - x), rest = len - at - 1;
    size_t act = action_len(c + 1, rest);
    if (act && (act == rest || c[1 + act] == ',')) return at;
    c = memchr(c + 1, ':', rest);
  }
  return len;
}

/* ",NAME=QvalueQ" repeated, as 0.88 reads it: NAME runs to the first
   '=', Q is any byte, the value runs to the next Q. */
static int parse_assignments(const char *x, size_t len, char *data,
                             size_t *dlen, size_t cap)
{
  while (len) {
    if (*x != ',') return -1;
    const char *eq = memchr(x, '=', len);
    if (!eq) return -1;
    const char *name = x + 1;
    size_t namelen = (size_t) (eq - name);
    len -= namelen + 2;
    x = eq + 1;
    if (!len) return -1;
    char quote = *x++;
    len--;
    const char *close = memchr(x, quote, len);
    if (!close) return -1;
    size_t valuelen = (size_t) (close - x);
    *dlen = rules_data_add_var(data, *dlen, cap, name, namelen, x, valuelen);
    if (*dlen == (size_t) -1) return -1;
    x = close + 1;
    len -= valuelen + 1;
  }
  return 0;
}

int ruleparse_line(const char *x, size_t len, char *data, size_t datacap,
                   struct ruleline *out)
{
  out->linelen = len;
  if (!len || x[0] == '#') return RULEPARSE_SKIP;
  len = strip_trailing(x, len);
  out->linelen = len;
  if (!memchr(x, ':', len)) return RULEPARSE_SKIP;
  size_t colon = address_end(x, len);
  if (colon == len) return RULEPARSE_BAD;
  out->addr = x;
  out->addrlen = colon;
  x += colon + 1;
  len -= colon + 1;
  size_t act = action_len(x, len), dlen = 0;
  if (act == 4) dlen = rules_data_add_deny(data, 0, datacap);
  if (dlen == (size_t) -1) return RULEPARSE_BAD;
  if (parse_assignments(x + act, len - act, data, &dlen, datacap) < 0)
    return RULEPARSE_BAD;
  out->datalen = dlen;
  return RULEPARSE_RULE;
}

/* ---- addresses ---- */

int rulekey_parse_ip(const char *s, size_t n, struct ip_addr *ip)
{
  char buf[IP_FMT_SIZE];
  if (n >= sizeof buf || memchr(s, 0, n) || memchr(s, '%', n) ||
      memchr(s, '[', n) || memchr(s, ']', n)) return -1;
  memcpy(buf, s, n);
  buf[n] = 0;
  return ip_parse(buf, ip);
}

/* A prefix length: 1 to 3 digits, at most max. */
static int parse_prefix_len(const char *s, size_t n, unsigned max,
                            unsigned *len)
{
  unsigned v = 0;
  if (n < 1 || n > 3) return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (unsigned) (s[i] - '0');
  }
  if (v > max) return -1;
  *len = v;
  return 0;
}

/* "ADDRESS/LEN" to "NETWORK/LEN", appended at out. */
static int canon_cidr(const char *s, size_t n, char *out, size_t *outlen,
                      int *family, unsigned *plen)
{
  const char *slash = memchr(s, '/', n);
  struct ip_addr ip;
  if (!slash || rulekey_parse_ip(s, (size_t) (slash - s), &ip) < 0) return -1;
  const char *digits = slash + 1;
  size_t ndigits = n - (size_t) (digits - s);
  if (parse_prefix_len(digits, ndigits, ip.family == AF_INET6 ? 128 : 32,
                       plen) < 0)
    return -1;
  ip_mask(&ip, *plen);
  size_t k = ip_format(&ip, out);
  out[k++] = '/';
  k += fmt_ulong(out + k, *plen);
  *outlen = k;
  *family = ip.family;
  return 0;
}

static int canon_exact(const char *s, size_t n, char *out, size_t *outlen)
{
  struct ip_addr ip;
  if (rulekey_parse_ip(s, n, &ip) < 0) return -1;
  *outlen = ip_format(&ip, out);
  return 0;
}

/* ucspi-tcp-ipv6's textual IPv6 prefix, "2001:db8:" or "2001:db8::"
   (matched against the start of the client's address text), or one of
   the IPv4-mapped text "::ffff:10.": each hex group in lower case
   without leading zeros, the form addresses are written in.  0, or -1
   when no address text could start with it. */
static int canon_text_prefix(const char *s, size_t n, char *out, size_t *outlen)
{
  char probe[IP_FMT_SIZE + 8];
  size_t k = 0;
  struct ip_addr ip;
  if (n == 0 || n > IP_FMT_SIZE || (s[n - 1] != ':' && s[n - 1] != '.'))
    return -1;
  for (size_t i = 0; i < n;) {
    size_t end = i;
    while (end < n && s[end] != ':') end++;
    int dotted = memchr(s + i, '.', end - i) != NULL;
    if (!dotted && end - i > 4) return -1;   /* as inet_pton: 4 digits */
    while (!dotted && end - i > 1 && s[i] == '0') i++;
    for (; i < end; i++)
      out[k++] = dotted ? s[i] : (char) (s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
    if (i < n) out[k++] = s[i++];
  }
  /* Some address starts with it: completed by "1", ":1", "0", "0.0"... */
  static const char *const tails[] = { "1", ":1", "0", "0.0", "0.0.0" };
  for (size_t t = 0; t < sizeof tails / sizeof *tails; t++) {
    size_t tl = strlen(tails[t]);
    memcpy(probe, out, k);
    memcpy(probe + k, tails[t], tl);
    if (rulekey_parse_ip(probe, k + tl, &ip) == 0 && ip.family == AF_INET6) {
      *outlen = k;
      return 0;
    }
  }
  return -1;
}

int rulekey_v6_kind(const char *key, size_t len)
{
  if (!len || memchr(key, '@', len) || key[0] == '=' || !memchr(key, ':', len))
    return RULEKEY_OTHER;
  if (len >= 7 && memcmp(key, "::ffff:", 7) == 0 && memchr(key, '.', len) &&
      key[len - 1] != '.')
    return RULEKEY_V4MAPPED;
  if (len >= 2 && key[len - 1] == ':' && key[len - 2] == ':')
    return RULEKEY_PREFIX_OR_ADDRESS;
  if (key[len - 1] == ':' || key[len - 1] == '.') return RULEKEY_TEXT_PREFIX;
  return RULEKEY_OTHER;
}

int rulekey_cidr_equivalent(const char *key, size_t len, struct ip_addr *ip,
                            unsigned *bits)
{
  int kind = rulekey_v6_kind(key, len);
  const char *slash = memchr(key, '/', len);
  if (kind == RULEKEY_V4MAPPED) {
    *bits = 128;
    if (slash && parse_prefix_len(slash + 1, len - (size_t) (slash + 1 - key),
                                  128, bits) < 0) return -1;
    if (rulekey_parse_ip(key, slash ? (size_t) (slash - key) : len, ip) < 0 ||
        *bits < 96) return -1;
    ip_fold_v4mapped(ip);
    *bits -= 96;
    return 0;
  }
  if (kind != RULEKEY_PREFIX_OR_ADDRESS && kind != RULEKEY_TEXT_PREFIX)
    return -1;
  if (key[len - 1] == '.' || key[0] == ':') return -1;   /* ::ffff:10. :: : */
  *bits = rulekey_text_bits(key, len);
  /* The groups spelled out (bits / 16 of them), then zeros. */
  char text[IP_FMT_SIZE + 4];
  size_t upto = 0;
  for (unsigned groups = 0; upto < len && groups < *bits / 16; upto++)
    groups += key[upto] == ':';
  if (upto > IP_FMT_SIZE) return -1;
  memcpy(text, key, upto);
  memcpy(text + upto, ":", 2);
  return ip_parse(text, ip);
}

/* Where a key holds the bytes that decide its form, found in one pass
   (tcprules calls this for every key).  NONE when absent. */
#define NONE SIZE_MAX
struct shape { size_t last_at, first_colon, last_colon, last_slash; int eq; };

static void key_shape(const char *s, size_t n, struct shape *sh)
{
  sh->last_at = sh->first_colon = sh->last_colon = sh->last_slash = NONE;
  sh->eq = 0;
  for (size_t i = 0; i < n; i++)
    switch (s[i]) {
      case '@': sh->last_at = i; break;
      case '=': sh->eq = 1; break;
      case '/': sh->last_slash = i; break;
      case ':':
        if (sh->first_colon == NONE) sh->first_colon = i;
        sh->last_colon = i;
        break;
    }
}

static int after(size_t pos, size_t at) { return pos != NONE && pos > at; }

int rulekey_canon(const char *key, size_t len, char *out, size_t cap,
                  size_t *outlen, int *cidr_family, unsigned *cidr_len)
{
  struct shape sh;
  *cidr_family = 0;
  *cidr_len = 0;
  if (cap < RULEKEY_CANON_CAP(len)) return -1;
  key_shape(key, len, &sh);
  if (sh.last_at != NONE) {
    /* info@ip: an address with ':' or '/' must be an exact IPv6 one. */
    size_t head = sh.last_at + 1, tail = len - head;
    if (sh.first_colon < sh.last_at) return -1;
    memcpy(out, key, head);
    if (!after(sh.last_colon, sh.last_at) && !after(sh.last_slash, sh.last_at)) {
      memcpy(out + head, key + head, tail);
      *outlen = len;
      return 0;
    }
    if (canon_exact(key + head, tail, out + head, outlen) < 0) return -1;
    *outlen += head;
    return 0;
  }
  if (!sh.eq && sh.last_slash != NONE)
    return canon_cidr(key, len, out, outlen, cidr_family, cidr_len);
  if (sh.first_colon == NONE) {
    memcpy(out, key, len);
    *outlen = len;
    return 0;
  }
  if (sh.eq) return -1;
  if (canon_exact(key, len, out, outlen) == 0) return 0;
  if (canon_text_prefix(key, len, out, outlen) < 0) return -1;
  /* Stored forms are canonical: an address stays in the address form. */
  char again[IP_FMT_SIZE + 8];
  size_t n;
  if (*outlen < IP_FMT_SIZE && canon_exact(out, *outlen, again, &n) == 0) {
    memcpy(out, again, n);
    *outlen = n;
  }
  return 0;
}

/* ---- range expansion ---- */

int rulekeys_start(struct rulekeys *k, const char *addr, size_t len)
{
  memset(k, 0, sizeof *k);
  k->addr = addr;
  k->len = len;
  const char *dash = memchr(addr, '-', len);
  if (!dash || memchr(addr, '=', len) || memchr(addr, '@', len)) return 0;
  size_t i = (size_t) (dash - addr);
  k->left = i;
  while (k->left > 0 && addr[k->left - 1] != '.') k->left--;
  const char *dot = memchr(dash + 1, '.', len - i - 1);
  k->right = dot ? (size_t) (dot - addr) : len;
  /* 0.88's scan_ulong: wrapping. */
  if (scan_ulong_flags(addr + k->left, i - k->left, 0, &k->bot) != i - k->left)
    return -1;
  if (scan_ulong_flags(dash + 1, k->right - i - 1, 0, &k->top) != k->right - i - 1)
    return -1;
  if (k->top > 255) k->top = 255;
  k->range = 1;
  return 0;
}

/* The range's key for number n: the text before, n, the text after. */
static size_t range_key(const struct rulekeys *k, unsigned long n, char *buf)
{
  memcpy(buf, k->addr, k->left);
  size_t len = k->left + fmt_ulong(buf + k->left, n);
  memcpy(buf + len, k->addr + k->right, k->len - k->right);
  return len + k->len - k->right;
}

int rulekeys_next(struct rulekeys *k, char *buf, size_t cap, size_t *keylen,
                  int *cidr_family, unsigned *cidr_len)
{
  if (cap < RULEKEYS_CAP(k->len)) return -1;
  if (k->done) return 0;
  const char *key = k->addr;
  size_t len = k->len;
  char *raw = buf + cap / 2;   /* the expanded text, before its canon form */
  if (!k->range) {
    k->done = 1;
  } else if (k->bot > k->top) {
    /* Nothing to write, as 0.88; still reject a bad form. */
    k->done = 1;
    len = range_key(k, 0, raw);
    key = raw;
    if (rulekey_canon(key, len, buf, cap / 2, keylen, cidr_family, cidr_len) < 0)
      return -1;
    return 0;
  } else {
    len = range_key(k, k->bot, raw);
    key = raw;
    if (k->bot++ == k->top) k->done = 1;
  }
  if (rulekey_canon(key, len, buf, key == raw ? cap / 2 : cap, keylen,
                    cidr_family, cidr_len) < 0)
    return -1;
  return 1;
}
