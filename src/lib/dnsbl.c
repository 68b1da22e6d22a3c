#include <arpa/inet.h>
#include <string.h>
#include "addr.h"
#include "dnsbl.h"

enum { TYPE_A = 1, TYPE_TXT = 16, CLASS_IN = 1, HEADER = 12 };

static const char hexdigit[] = "0123456789abcdef";

/* Appends s[0..n) at *len if it fits (keeping room for the NUL). */
static int put(char *name, size_t *len, const char *s, size_t n)
{
  if (n >= DNSBL_NAME_MAX - *len) return -1;
  memcpy(name + *len, s, n);
  *len += n;
  return 0;
}

static size_t reverse_nibbles(const unsigned char a[16], char *name)
{
  size_t len = 0;
  for (int i = 15; i >= 0; i--) {
    name[len++] = hexdigit[a[i] & 15];
    name[len++] = '.';
    name[len++] = hexdigit[a[i] >> 4];
    name[len++] = '.';
  }
  return len;
}

/* 0.88's reversal: the dot-separated parts of s, last first, each
   followed by a dot. */
static int reverse_parts(const char *s, char *name, size_t *len)
{
  size_t i = strlen(s);
  while (i) {
    size_t j = i;
    while (j > 0 && s[j - 1] != '.') j--;
    if (put(name, len, s + j, i - j) < 0 || put(name, len, ".", 1) < 0)
      return -1;
    if (!j) break;
    i = j - 1;
  }
  return 0;
}

size_t dnsbl_name(const char *ip, const char *base, char *name)
{
  struct ip_addr addr;
  size_t len = 0;
  if (ip_parse(ip, &addr) == 0 && addr.family == AF_INET6
      && !ip_is_v4mapped(&addr)) {
    len = reverse_nibbles(addr.a, name);
  } else {
    char v4[IP_FMT_SIZE];
    if (ip_parse(ip, &addr) == 0 && addr.family == AF_INET6) {
      ip_fold_v4mapped(&addr);
      ip_format(&addr, v4);
      ip = v4;
    }
    if (reverse_parts(ip, name, &len) < 0) return 0;
  }
  if (put(name, &len, base, strlen(base)) < 0) return 0;
  name[len] = 0;
  return len;
}

/* Position after the (possibly compressed) name at pos, or 0. */
static size_t skip_name(const unsigned char *pkt, size_t len, size_t pos)
{
  while (pos < len) {
    unsigned c = pkt[pos];
    if (c == 0) return pos + 1;
    if ((c & 0xc0) == 0xc0) return pos + 2 <= len ? pos + 2 : 0;
    if (c & 0xc0) return 0;
    pos += 1 + c;
  }
  return 0;
}

static unsigned get16(const unsigned char *p) { return (unsigned) p[0] << 8 | p[1]; }

typedef void record_fn(unsigned type, const unsigned char *rdata,
                       size_t rdlen, void *ctx);

/* Calls each() for every class IN record of the answer section. */
static int walk_answers(const unsigned char *pkt, size_t len,
                        record_fn *each, void *ctx)
{
  if (len < HEADER) return -1;
  unsigned questions = get16(pkt + 4), answers = get16(pkt + 6);
  size_t pos = HEADER;
  for (unsigned i = 0; i < questions; i++) {
    pos = skip_name(pkt, len, pos);
    if (!pos || len - pos < 4) return -1;
    pos += 4;
  }
  for (unsigned i = 0; i < answers; i++) {
    pos = skip_name(pkt, len, pos);
    if (!pos || len - pos < 10) return -1;
    unsigned type = get16(pkt + pos), class = get16(pkt + pos + 2);
    size_t rdlen = get16(pkt + pos + 8);
    pos += 10;
    if (len - pos < rdlen) return -1;
    if (class == CLASS_IN) each(type, pkt + pos, rdlen, ctx);
    pos += rdlen;
  }
  return 0;
}

/* A TXT rdata is a series of length-prefixed strings; a last string that
   claims more than is there gives what is there. */
static void append_txt(unsigned type, const unsigned char *rdata,
                       size_t rdlen, void *ctx)
{
  struct dnsbl_text *text = ctx;
  if (type != TYPE_TXT) return;
  size_t pending = 0;
  for (size_t i = 0; i < rdlen; i++) {
    if (!pending) {
      pending = rdata[i];
      continue;
    }
    pending--;
    if (text->len < sizeof text->s) text->s[text->len++] = (char) rdata[i];
  }
}

int dnsbl_answer_txt(const unsigned char *pkt, size_t len,
                     struct dnsbl_text *text)
{
  text->len = 0;
  return walk_answers(pkt, len, append_txt, text);
}

static void note_a(unsigned type, const unsigned char *rdata, size_t rdlen,
                   void *ctx)
{
  (void) rdata;
  if (type == TYPE_A && rdlen == 4) *(int *) ctx = 1;
}

int dnsbl_answer_has_a(const unsigned char *pkt, size_t len)
{
  int found = 0;
  if (walk_answers(pkt, len, note_a, &found) < 0) return -1;
  return found;
}

void dnsbl_sanitise(char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if ((unsigned char) s[i] < 32 || (unsigned char) s[i] > 126) s[i] = '?';
}

size_t dnsbl_reply(int permanent, const char *text, size_t len, char *line)
{
  if (len > DNSBL_TEXT_MAX) len = DNSBL_TEXT_MAX;
  memcpy(line, permanent ? "553 " : "451 ", 4);
  memcpy(line + 4, text, len);
  dnsbl_sanitise(line, 4 + len);
  line[4 + len] = 0;
  return 4 + len;
}
