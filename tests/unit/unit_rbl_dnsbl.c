/* dnsbl: names under a DNSBL base, reading TXT and A records out of
   (hostile) answer packets, the client's reply line. */
#include <string.h>
#include "tap.h"
#include "dnsbl.h"

static const char *name_of(const char *ip, const char *base)
{
  static char name[DNSBL_NAME_MAX];
  return dnsbl_name(ip, base, name) ? name : "(none)";
}

/* A packet under construction. */
struct pkt { unsigned char b[4096]; size_t len; };

static void add(struct pkt *p, const void *s, size_t n)
{
  memcpy(p->b + p->len, s, n);
  p->len += n;
}

static void add16(struct pkt *p, unsigned v)
{
  unsigned char x[2] = { (unsigned char) (v >> 8), (unsigned char) v };
  add(p, x, 2);
}

/* Header with one question "4.3.2.1.bl.test" and ancount answers. */
static void start(struct pkt *p, unsigned ancount)
{
  p->len = 0;
  add(p, "\x12\x34\x81\x80", 4);
  add16(p, 1);
  add16(p, ancount);
  add16(p, 0);
  add16(p, 0);
  add(p, "\0014\0013\0012\0011\002bl\004test\0", 17);
  add16(p, 16);
  add16(p, 1);
}

/* An answer record owned by the question's name (compressed). */
static void record(struct pkt *p, unsigned type, unsigned class,
                   const void *rdata, size_t rdlen)
{
  add(p, "\xc0\x0c", 2);
  add16(p, type);
  add16(p, class);
  add(p, "\0\0\0\x3c", 4);
  add16(p, (unsigned) rdlen);
  add(p, rdata, rdlen);
}

static const char *txt_of(const struct pkt *p)
{
  static struct dnsbl_text t;
  static char out[DNSBL_TEXT_MAX + 1];
  if (dnsbl_answer_txt(p->b, p->len, &t) < 0) return "(malformed)";
  memcpy(out, t.s, t.len);
  out[t.len] = 0;
  return out;
}

static void test_names(void)
{
  tap_is_str(name_of("1.2.3.4", "bl.test"), "4.3.2.1.bl.test", "IPv4 reversed");
  tap_is_str(name_of("127.0.0.2", "zen.example."), "2.0.0.127.zen.example.", "trailing dot kept");
  tap_is_str(name_of("2001:db8::1", "bl.test"),
             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test",
             "IPv6 nibbles, least significant first");
  tap_is_str(name_of("2001:DB8:ABCD::FE", "x"),
             "e.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.b.d.0.1.0.0.2.x",
             "IPv6 in upper case: lower-case nibbles");
  tap_is_str(name_of("[::1]", "x"),
             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.x",
             "IPv6 in brackets");
  tap_is_str(name_of("::ffff:10.0.0.1", "bl.test"), "1.0.0.10.bl.test", "IPv4-mapped as IPv4");
  tap_is_str(name_of("", "bl.test"), "bl.test", "no address: the base itself (as 0.88)");
  tap_is_str(name_of("1.2.3", "b"), "3.2.1.b", "not an address: parts reversed (as 0.88)");
  tap_is_str(name_of("a..b.", "b"), ".b..a.b", "empty parts kept (as 0.88)");
  char base[DNSBL_NAME_MAX];
  memset(base, 'a', sizeof base - 1);
  base[sizeof base - 1] = 0;
  tap_is_str(name_of("1.2.3.4", base), "(none)", "too long: no name");
  base[DNSBL_NAME_MAX - 1 - 8 - 1] = 0;   /* exactly fits with "4.3.2.1." */
  tap_ok(strlen(name_of("1.2.3.4", base)) == DNSBL_NAME_MAX - 2, "longest name that fits");
}

static void test_txt(void)
{
  struct pkt p;
  start(&p, 0);
  tap_is_str(txt_of(&p), "", "no answer: empty text");

  start(&p, 1);
  record(&p, 16, 1, "\005hello", 6);
  tap_is_str(txt_of(&p), "hello", "one string");
  tap_ok(dnsbl_answer_has_a(p.b, p.len) == 0, "TXT is not an A");

  start(&p, 2);
  record(&p, 16, 1, "\003abc\003def", 8);
  record(&p, 16, 1, "\000\003ghi", 5);
  tap_is_str(txt_of(&p), "abcdefghi", "strings and records concatenated");

  start(&p, 2);
  record(&p, 5, 1, "\002cn\0", 4);           /* a CNAME first */
  record(&p, 16, 1, "\002ok", 3);
  tap_is_str(txt_of(&p), "ok", "other record types skipped");

  start(&p, 1);
  record(&p, 16, 3, "\002ch", 3);
  tap_is_str(txt_of(&p), "", "class CH ignored");

  start(&p, 1);
  record(&p, 16, 1, "\011abc", 4);
  tap_is_str(txt_of(&p), "abc", "string longer than its record: what is there");

  start(&p, 1);
  record(&p, 16, 1, "", 0);
  tap_is_str(txt_of(&p), "", "empty TXT rdata");

  start(&p, 2);
  unsigned char big[256];
  big[0] = 255;
  memset(big + 1, 'x', 255);
  record(&p, 16, 1, big, sizeof big);
  record(&p, 16, 1, big, sizeof big);
  struct dnsbl_text t;
  tap_ok(dnsbl_answer_txt(p.b, p.len, &t) == 0 && t.len == DNSBL_TEXT_MAX, "cut at DNSBL_TEXT_MAX");

  start(&p, 1);
  record(&p, 16, 1, "\002a\001", 3);
  tap_is_str(txt_of(&p), "a\001", "bytes kept raw (sanitised later)");
}

static void test_malformed(void)
{
  struct pkt p;
  start(&p, 1);
  tap_is_str(txt_of(&p), "(malformed)", "announced answer missing");
  tap_ok(dnsbl_answer_has_a(p.b, p.len) == -1, "announced answer missing (A)");

  start(&p, 1);
  record(&p, 16, 1, "\005hello", 6);
  p.len -= 2;
  tap_is_str(txt_of(&p), "(malformed)", "rdata cut short");

  tap_ok(dnsbl_answer_txt(p.b, 11, &(struct dnsbl_text) { .len = 0 }) == -1, "short header");

  start(&p, 1);
  p.len = 12;                                 /* question name missing */
  tap_is_str(txt_of(&p), "(malformed)", "question cut short");

  start(&p, 1);
  add(&p, "\x80", 1);                         /* label type 10: invalid */
  tap_is_str(txt_of(&p), "(malformed)", "bad label type");

  start(&p, 1);
  add(&p, "\xc0", 1);                         /* pointer cut short */
  tap_is_str(txt_of(&p), "(malformed)", "pointer cut short");

  start(&p, 1);
  add(&p, "\077", 1);                         /* label beyond the end */
  tap_is_str(txt_of(&p), "(malformed)", "label beyond the end");
}

static void test_a(void)
{
  struct pkt p;
  start(&p, 1);
  record(&p, 1, 1, "\177\0\0\2", 4);
  tap_ok(dnsbl_answer_has_a(p.b, p.len) == 1, "A record found");
  tap_is_str(txt_of(&p), "", "an A has no text");

  start(&p, 1);
  record(&p, 1, 1, "\177\0\0", 3);
  tap_ok(dnsbl_answer_has_a(p.b, p.len) == 0, "A with 3 bytes is no A");

  start(&p, 2);
  record(&p, 16, 1, "\001x", 2);
  record(&p, 1, 1, "\177\0\0\2", 4);
  tap_ok(dnsbl_answer_has_a(p.b, p.len) == 1, "A after a TXT");

  start(&p, 1);
  record(&p, 1, 3, "\177\0\0\2", 4);
  tap_ok(dnsbl_answer_has_a(p.b, p.len) == 0, "A of class CH ignored");
}

static void test_reply(void)
{
  char line[DNSBL_REPLY_MAX + 1];
  dnsbl_reply(0, "listed", 6, line);
  tap_is_str(line, "451 listed", "temporary");
  dnsbl_reply(1, "listed", 6, line);
  tap_is_str(line, "553 listed", "permanent");
  dnsbl_reply(1, "", 0, line);
  tap_is_str(line, "553 ", "empty text");
  dnsbl_reply(0, "a\tb\177c\303\251\r\n\0d", 11, line);
  tap_is_str(line, "451 a?b?c?????d", "outside 32..126 becomes ?");
  char text[300];
  memset(text, 'y', sizeof text);
  size_t n = dnsbl_reply(0, text, sizeof text, line);
  tap_ok(n == 4 + DNSBL_TEXT_MAX && strlen(line) == n, "cut at 200");
}

int main(void)
{
  test_names();
  test_txt();
  test_malformed();
  test_a();
  test_reply();
  return tap_done();
}
