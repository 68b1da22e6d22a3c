/* Unit tests of the rules engine: data encoding and decoding, the
   lookup order of every step and the precedence between them, CIDR and
   IPv6 keys with the prefix index, and which probes the index skips. */
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "rules.h"
#include "ruleparse.h"
#include "ident.h"
#include "names.h"

static char path[] = "/tmp/unit_rules.XXXXXX";
static int fd = -1;
static struct cdb cdb;
static int mapped;

/* Compile rules lines (joined by '\n') the way tcprules does, into the
   test cdb, and map it. */
static void compile(const char *text)
{
  struct cdb_make cm;
  struct rules_index ix;
  char data[512], key[8192];
  if (mapped) cdb_free(&cdb);
  if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) || cdb_make_start(&cm, fd) < 0) abort();
  rules_index_init(&ix);
  while (*text) {
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t) (nl - text) : strlen(text);
    struct ruleline rl;
    struct rulekeys k;
    size_t keylen;
    int fam;
    unsigned plen;
    if (ruleparse_line(text, len, data, sizeof data, &rl) == RULEPARSE_RULE) {
      if (rulekeys_start(&k, rl.addr, rl.addrlen) < 0) abort();
      while (rulekeys_next(&k, key, sizeof key, &keylen, &fam, &plen) > 0) {
        if (cdb_make_add(&cm, key, (unsigned) keylen, data, (unsigned) rl.datalen) < 0) abort();
        rules_index_add(&ix, key, keylen, fam, plen);
      }
    }
    text += len + (nl != NULL);
  }
  if (ix.flags & RULES_HAS_CIDR) {
    char rec[RULES_INDEX_LEN];
    rules_index_encode(&ix, rec);
    cdb_make_add(&cm, RULES_INDEX_KEY, RULES_INDEX_KEYLEN, rec, RULES_INDEX_LEN);
  }
  if (cdb_make_finish(&cm) < 0 || cdb_init(&cdb, fd) < 0) abort();
  mapped = 1;
}

/* The key that matches ("-" for none), looked up with rules_find. */
static const char *which(const char *ipstr, const char *host, const char *info)
{
  static char key[4096];
  struct rules_found f;
  struct ip_addr ip;
  struct rules_query q = { NULL, ipstr, host, info };
  if (rulekey_parse_ip(ipstr, strlen(ipstr), &ip) == 0) q.ip = &ip;
  int r = rules_find(&cdb, &q, key, sizeof key, &f);
  if (r < 0) return "error";
  if (r == 0) return "-";
  if (strlen(f.key) != f.keylen) return "badlen";
  return f.key;
}

static void test_data_get(void)
{
  static const char data[] = "+MAXCONNIP=3\0+DIEMSG=busy\0+MAXCONNIP=9\0+X\0";
  const char *v;
  size_t n;
  tap_ok(rules_data_get(data, sizeof data - 1, "MAXCONNIP", &v, &n) == 1 && n == 1 && *v == '3',
         "rules_data_get: the first assignment");
  tap_ok(rules_data_get(data, sizeof data - 1, "DIEMSG", &v, &n) == 1 && n == 4 && !memcmp(v, "busy", 4),
         "rules_data_get: a later variable");
  tap_ok(rules_data_get(data, sizeof data - 1, "MAXCONN", &v, &n) == 0, "rules_data_get: no prefix match");
  tap_ok(rules_data_get(data, sizeof data - 1, "X", &v, &n) == 0, "rules_data_get: an item without = is no value");
  static const char denied[] = "D\0+A=1\0";
  tap_ok(rules_data_get(denied, sizeof denied - 1, "A", &v, &n) == 0, "rules_data_get stops at D");
}

static void test_encoding(void)
{
  char buf[64];
  size_t len = rules_data_add_deny(buf, 0, sizeof buf);
  len = rules_data_add_var(buf, len, sizeof buf, "A", 1, "x y", 3);
  tap_ok(len == 9 && memcmp(buf, "D\0+A=x y\0", 9) == 0, "encode: D then +A=x y");
  tap_ok(rules_data_denies(buf, len), "decode: deny");
  tap_ok(!rules_data_denies(buf + 2, len - 2), "decode: allow without D");
  tap_ok(rules_data_add_var(buf, 0, 5, "AB", 2, "c", 1) == (size_t) -1, "encode: too long refused");
  tap_ok(rules_data_add_deny(buf, 63, 64) == (size_t) -1, "encode: deny needs two bytes");

  static const char d[] = "+a=1\0+b\0Xjunk\0+c=3\0D\0+e=5\0+tail";
  size_t pos = 0, ilen;
  const char *item;
  char got[64] = "";
  while (rules_data_next(d, sizeof d - 1, &pos, &item, &ilen)) {
    strncat(got, item, ilen);
    strcat(got, "|");
  }
  tap_is_str(got, "a=1|b|c=3|", "decode: items to the D, others skipped, item without = kept");
  tap_ok(rules_data_denies(d, sizeof d - 1), "decode: D in the middle denies");
  tap_ok(!rules_data_denies("+a=1\0D", 6), "decode: D without its NUL is ignored, as 0.88");
  tap_ok(rules_data_denies("Dx\0", 3), "decode: any item starting with D denies");
}

static const char order_rules[] =
  "joe@1.2.3.4:deny\n"
  "joe@=h.x.com:allow\n"
  "1.2.3.4:allow\n"
  "=h.x.com:allow\n"
  "1.2.3.:allow\n"
  "1.2.:allow\n"
  "1.:allow\n"
  "=.x.com:allow\n"
  "=.com:allow\n"
  "=:allow\n"
  ":allow\n";

static void test_order(void)
{
  compile(order_rules);
  tap_is_str(which("1.2.3.4", "h.x.com", "joe"), "joe@1.2.3.4", "1: info@ip first");
  tap_is_str(which("1.2.3.5", "h.x.com", "joe"), "joe@=h.x.com", "2: info@=host");
  tap_is_str(which("1.2.3.4", "h.x.com", "ann"), "1.2.3.4", "3: ip before =host");
  tap_is_str(which("1.2.3.5", "h.x.com", "ann"), "=h.x.com", "4: =host before prefixes");
  tap_is_str(which("1.2.3.5", "a.x.com", NULL), "1.2.3.", "5: a.b.c. before host suffixes");
  tap_is_str(which("1.2.9.5", NULL, NULL), "1.2.", "5: a.b.");
  tap_is_str(which("1.9.9.5", NULL, NULL), "1.", "5: a.");
  tap_is_str(which("9.9.9.9", "a.x.com", NULL), "=.x.com", "6: longest host suffix");
  tap_is_str(which("9.9.9.9", "a.y.com", NULL), "=.com", "6: shorter suffix");
  tap_is_str(which("9.9.9.9", "a.y.org", NULL), "=", "6: = for any known host");
  tap_is_str(which("9.9.9.9", "", NULL), "=", "6: empty host is known: =");
  tap_is_str(which("9.9.9.9", NULL, NULL), "", "7: empty key last");
  tap_is_str(which("1.2.3.4", NULL, ""), "1.2.3.4", "empty info looks up @ip, then ip");
  compile("@1.2.3.4:deny\n");
  tap_is_str(which("1.2.3.4", NULL, ""), "@1.2.3.4", "empty info matches @ip");
  tap_is_str(which("1.2.3.4", NULL, NULL), "-", "no info: no @ip");
  compile("=:deny\n1.2.3.:allow\n");
  tap_is_str(which("1.2.3.4", "", NULL), "=", "empty host: = beats the ip prefixes (step 4)");
  compile("x:deny\nx:allow,A=/1/\n");
  struct rules_found f;
  char key[64];
  struct rules_query q = { NULL, "x", NULL, NULL };
  tap_ok(rules_find(&cdb, &q, key, sizeof key, &f) == 1 && f.datalen == 2, "duplicate keys: the first line wins");
  compile("");
  tap_is_str(which("1.2.3.4", "h", "i"), "-", "empty file: no match");
  /* 0.88's dotted loop on any text, e.g. tcprulescheck's TCPREMOTEIP. */
  compile("a.b.:deny\na.:deny\n");
  tap_is_str(which("a.b.c", NULL, NULL), "a.b.", "dotted prefixes of any text");
}

static void test_cidr(void)
{
  compile("10.0.0.0/8:deny\n10.1.0.0/16:allow\n10.1.2.:allow\n10.1.2.0/24:allow\n"
          "10.1.2.128/25:allow\n10.2.:allow\n10.2.0.0/15:allow\n0.0.0.0/0:allow\n"
          "=h:allow\n=.h:allow\n");
  tap_is_str(which("10.9.9.9", NULL, NULL), "10.0.0.0/8", "CIDR /8");
  tap_is_str(which("10.1.9.9", NULL, NULL), "10.1.0.0/16", "CIDR /16 beats /8");
  tap_is_str(which("10.1.2.3", NULL, NULL), "10.1.2.", "same length: dotted before CIDR");
  tap_is_str(which("10.1.2.200", NULL, NULL), "10.1.2.128/25", "longest prefix wins across notations");
  tap_is_str(which("10.3.0.1", NULL, NULL), "10.2.0.0/15", "CIDR /15 beats dotted /8-equivalent");
  tap_is_str(which("10.2.0.1", NULL, NULL), "10.2.", "dotted /16 beats CIDR /15");
  tap_is_str(which("11.0.0.1", "h", NULL), "=h", "=host beats every prefix");
  tap_is_str(which("11.0.0.1", "a.h", NULL), "0.0.0.0/0", "a prefix (even /0) beats host suffixes");
  compile("1.2.3.4/32:allow\n1.2.3.4:deny\n=h:deny\n");
  tap_is_str(which("1.2.3.4", NULL, NULL), "1.2.3.4", "exact ip beats /32");
  tap_is_str(which("1.2.3.4", "h", NULL), "1.2.3.4", "exact ip beats =host");
  tap_is_str(which("1.2.3.5", "h", NULL), "=h", "=host beats the prefixes");
  compile("1.2.3.4/32:allow\n");
  tap_is_str(which("1.2.3.4", "z", NULL), "1.2.3.4/32", "/32 matches");
  tap_is_str(which("1.2.3.5", "z", NULL), "-", "/32 matches one address");
}

static void test_v6(void)
{
  compile("2001:db8::/32:deny\n2001:DB8:0:0::1:allow\n2001:db8:1::/48:allow\n"
          "joe@2001:db8::5:deny\n::/0:allow\n=h6:allow\n=.h6:allow\n");
  tap_is_str(which("2001:db8::1", NULL, NULL), "2001:db8::1", "v6 exact, stored canonical");
  tap_is_str(which("2001:db8::2", NULL, NULL), "2001:db8::/32", "v6 /32");
  tap_is_str(which("2001:db8:1::9", NULL, NULL), "2001:db8:1::/48", "v6 /48 beats /32");
  tap_is_str(which("2001:db8::5", NULL, "joe"), "joe@2001:db8::5", "info@v6");
  tap_is_str(which("3::1", NULL, NULL), "::/0", "::/0 catches all v6");
  tap_is_str(which("3::1", "h6", NULL), "=h6", "=host beats v6 prefixes");
  tap_is_str(which("3::1", "x.h6", NULL), "::/0", "v6 prefix beats host suffix");
  tap_is_str(which("1.2.3.4", NULL, NULL), "-", "::/0 does not match IPv4");
  /* As in ucspi-tcp-ipv6: a mapped key is for clients shown mapped (-6). */
  compile("::ffff:10.0.0.0/104:allow\n::ffff:1.2.3.4:deny\n");
  tap_is_str(which("10.9.8.7", NULL, NULL), "-", "mapped CIDR: not an IPv4 client");
  tap_is_str(which("1.2.3.4", NULL, NULL), "-", "mapped exact: not an IPv4 client");
  tap_is_str(which("::ffff:10.9.8.7", NULL, NULL), "::ffff:10.0.0.0/104", "mapped CIDR: a mapped client");
  tap_is_str(which("::ffff:1.2.3.4", NULL, NULL), "::ffff:1.2.3.4", "mapped exact: a mapped client");
}

/* ucspi-tcp-ipv6's textual prefixes, among themselves (longest text
   first, as it tries them) and against CIDR keys (by the bits spelled
   out: 2001:db8: and 2001:db8:: are 32), in both address texts. */
static void test_text_prefixes(void)
{
  compile("2001:db8:::deny\n2001:db8::allow,A=/b/\n2001::allow\n:::allow\n"
          "2001:db8:0:1::allow\n2001:db8::/48:allow\n2001:d00::/24:allow\n"
          "::ffff:127.:allow\n::ffff::allow\n127.:allow\n");
  tap_is_str(which("2001:db8::7", NULL, NULL), "2001:db8::/48", "CIDR /48 beats 2001:db8:: (32)");
  tap_is_str(which("2001:db8:0:1::7", NULL, NULL), "2001:db8:0:1:", "2001:db8:0:1: is 64");
  tap_is_str(which("2001:db8:5::7", NULL, NULL), "2001:db8:", "2001:db8: catches the /32");
  tap_is_str(which("2001:dbf::1", NULL, NULL), "2001:d00::/24", "CIDR /24 beats 2001: (16)");
  tap_is_str(which("2001:1::1", NULL, NULL), "2001:", "2001: is a /16");
  tap_is_str(which("::1", NULL, NULL), "::", ":: matches text starting ::");
  tap_is_str(which("::ffff:127.0.0.1", NULL, NULL), "::ffff:127.", "mapped: dotted text prefix");
  tap_is_str(which("::ffff:10.0.0.1", NULL, NULL), "::ffff:", "mapped: ::ffff:");
  tap_is_str(which("127.0.0.1", NULL, NULL), "127.", "IPv4: 0.88's prefixes only");
  compile("2001:db8::allow\n2001:db8:::deny\n");
  tap_is_str(which("2001:db8::9", NULL, NULL), "2001:db8::", "same bits: the longer text first");
  tap_is_str(which("2001:db8:1::9", NULL, NULL), "2001:db8:", "2001:db8:: is not the /32");
  /* 2001:db8:0:1:1:1:1:1 was 2001:db8::1:1:1:1:1 to ucspi-tcp-ipv6. */
  compile("2001:db8:::deny\n2001:db8::1:1:1:1:1:allow\n");
  tap_is_str(which("2001:db8:0:1:1:1:1:2", NULL, NULL), "2001:db8::", "a prefix of the legacy text");
  compile("2001:db8:::deny\n2001:db8:0:1:1:1:1:1:allow\n");
  tap_is_str(which("2001:db8:0:1:1:1:1:1", NULL, NULL), "2001:db8:0:1:1:1:1:1", "exact first");
  compile("2001:db8:::deny\n2001:db8:0:1::allow\n");
  tap_is_str(which("2001:db8:0:1:1:1:1:1", NULL, NULL), "2001:db8:0:1:", "the RFC text's /64 beats the legacy text's 32");
}

/* A probe counter through a cdb whose index says "no such keys": the
   lookup must not find keys the index denies, and must find the rest. */
static void test_index(void)
{
  compile("10.0.0.0/8:allow\n");
  struct cdb_find cf;
  tap_ok(cdb_findinit(&cf, &cdb, RULES_INDEX_KEY, RULES_INDEX_KEYLEN) > 0 &&
         cdb_findnext(&cf) > 0, "index record written with a CIDR rule");
  compile("1.2.3.:allow\n");
  tap_ok(cdb_find(&cdb, RULES_INDEX_KEY, RULES_INDEX_KEYLEN) == 0, "no index without CIDR (0.88 bytes)");
  struct rules_index ix;
  rules_index_init(&ix);
  rules_index_add(&ix, "1.2.", 4, 0, 0);
  rules_index_add(&ix, "a@b", 3, 0, 0);
  rules_index_add(&ix, "=.x", 3, 0, 0);
  rules_index_add(&ix, "::/0", 4, AF_INET6, 0);
  rules_index_add(&ix, "10.0.0.0/8", 10, AF_INET, 8);
  char rec[RULES_INDEX_LEN];
  rules_index_encode(&ix, rec);
  tap_ok(rec[0] == 'I' && rec[1] == '1' && rec[2] == (RULES_HAS_DOT_END | RULES_HAS_AT |
         RULES_HAS_EQ | RULES_HAS_EQ_DOT | RULES_HAS_CIDR), "index flags");
  tap_ok(rec[3 + 1] == 1 && rec[3] == 0 && rec[3 + 5] == 1, "index bitmaps: v4 /8, v6 /0");
  /* With the index, keys of kinds the index does not name are skipped:
     a cdb claiming no '=' keys must not return =h even if present. */
  compile("10.0.0.0/8:allow\n");
  tap_is_str(which("11.0.0.1", "h", "joe"), "-", "index: nothing else probed, no false match");
  compile("10.0.0.0/8:allow\n=h:deny\njoe@11.0.0.1:deny\n11.:deny\n=.h:deny\n");
  tap_is_str(which("11.0.0.1", "h", "joe"), "joe@11.0.0.1", "index: info kept");
  tap_is_str(which("11.0.0.1", "h", NULL), "=h", "index: =host kept");
  tap_is_str(which("11.0.0.1", "x", NULL), "11.", "index: dotted kept");
  tap_is_str(which("12.0.0.1", "x.h", NULL), "=.h", "index: suffix kept");
}

static void test_find_buffer(void)
{
  char host[3000];
  memset(host, 'a', sizeof host - 1);
  host[sizeof host - 1] = 0;
  char line[3100] = "=";
  strcat(line, host);
  strcat(line, ":deny\n");
  compile(line);
  struct rules_query q = { NULL, "1.2.3.4", host, NULL };
  char small[1100];
  struct rules_found f;
  tap_ok(rules_find(&cdb, &q, small, sizeof small, &f) == 0, "rules_find skips a key longer than its buffer");
  size_t cap = rules_keycap(&q);
  char *key = malloc(cap);
  tap_ok(rules_find(&cdb, &q, key, cap, &f) == 1 && f.keylen == sizeof host, "rules_find with rules_keycap finds it");
  free(key);
}

/* tcpserver sizes its keys from the longest host and info it can have:
   the longest info@=host key (1,279 bytes here) matches there as it does
   in tcprulescheck (it did not when tcpserver had a fixed 1,100). */
static void test_server_keycap(void)
{
  char info[IDENT_INFO_MAX + 1], host[1021], line[1400];
  memset(info, 'u', sizeof info - 1);
  info[sizeof info - 1] = 0;
  memset(host, 'h', sizeof host - 1);
  host[sizeof host - 1] = 0;
  snprintf(line, sizeof line, "%s@=%s:deny\n", info, host);
  compile(line);
  struct rules_query q = { NULL, "1.2.3.4", host, info };
  size_t cap = rules_keycap_for(IP_FMT_SIZE, NAMES_MAX, IDENT_INFO_MAX);
  char *key = malloc(cap);
  struct rules_found f;
  tap_ok(strlen(line) - 6 == 1279, "an info@=host key of 1,279 bytes");
  tap_ok(rules_find(&cdb, &q, key, cap, &f) == 1 && f.keylen == 1279,
         "found with tcpserver's key capacity");
  tap_ok(cap >= rules_keycap(&q), "tcpserver's capacity covers tcprulescheck's");
  free(key);
}

static void test_file(void)
{
  struct rules_db db;
  struct rules_found f;
  struct rules_query q = { NULL, "1.2.3.4", NULL, NULL };
  tap_ok(rules_db_init(&db, "/nonexistent/rules.cdb", rules_keycap(&q)) == 0, "db init");
  errno = 0;
  tap_ok(rules_db_lookup(&db, &q, &f) == -1 && errno == ENOENT, "missing file: -1 ENOENT");
  rules_db_free(&db);
  compile("1.2.3.4:deny\n");
  rules_db_init(&db, path, rules_keycap(&q));
  tap_ok(rules_db_lookup(&db, &q, &f) == 1 && rules_data_denies(f.data, f.datalen),
         "rules_db_lookup finds and decodes");
  int first_fd = db.fd;
  tap_ok(rules_db_lookup(&db, &q, &f) == 1 && db.fd == first_fd, "the same file stays open");
  /* The result is a copy: it survives the file changing. */
  const char *data = f.data;
  compile("1.2.3.4:allow,X=\"y\"\n");
  tap_ok(data[0] == 'D', "the copied record outlives a rewrite in place");
  tap_ok(rules_db_lookup(&db, &q, &f) == 1 && !rules_data_denies(f.data, f.datalen),
         "a file changed in place applies to the next lookup");
  /* A header whose tables point past the end: the lookup fails. */
  cdb_free(&cdb);
  mapped = 0;
  unsigned char junk[3000];
  memset(junk, 0xee, sizeof junk);
  if (ftruncate(fd, 0) || pwrite(fd, junk, sizeof junk, 0) != (ssize_t) sizeof junk) abort();
  errno = 0;
  tap_ok(rules_db_lookup(&db, &q, &f) == -1 && errno == EPROTO && db.fd == -1,
         "corrupt cdb: -1 EPROTO, file closed");
  if (ftruncate(fd, 0)) abort();
  errno = 0;
  tap_ok(rules_db_lookup(&db, &q, &f) == -1 && errno == EINVAL, "empty file: EINVAL, as 0.88");
  rules_db_free(&db);
}

int main(void)
{
  fd = mkstemp(path);
  if (fd < 0) return 111;
  test_encoding();
  test_data_get();
  test_order();
  test_cidr();
  test_v6();
  test_text_prefixes();
  test_index();
  test_find_buffer();
  test_server_keycap();
  test_file();
  unlink(path);
  return tap_done();
}
