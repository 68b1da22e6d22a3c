/* tcprules: compile access rules (standard input) into a cdb for
   tcpserver -x.  Writes TMP, fsyncs it, renames it over CDB: the old cdb
   stays untouched on any error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cdb.h>
#include "addr.h"
#include "fd.h"
#include "msg.h"
#include "opts.h"
#include "rules.h"
#include "ruleparse.h"

static const char *tmpname;

static _Noreturn void die_write(void)
{
  msg_fatal_sys("unable to write to ", tmpname);
}

static _Noreturn void die_nomem(void)
{
  msg_fatal(111, "out of memory");
}

/* The reference prints the line up to its first NUL, at any length. */
static _Noreturn void die_parse(const char *line, size_t len)
{
  static const char head[] = ": fatal: unable to parse this line: ";
  const char *nul = memchr(line, 0, len);
  if (nul) len = (size_t) (nul - line);
  size_t plen = strlen(msg_prog()), n = plen + sizeof head - 1;
  char *buf = malloc(n + len + 1);
  if (buf) {
    memcpy(buf, msg_prog(), plen);
    memcpy(buf + plen, head, sizeof head - 1);
    memcpy(buf + n, line, len);
    buf[n + len] = '\n';
    write_all(2, buf, n + len + 1);
  } else {
    msg_fatal(100, "unable to parse this line");
  }
  exit(100);
}

/* A buffer that only grows: one allocation per new longest line. */
static char *reserve(char **buf, size_t *cap, size_t need)
{
  if (need > *cap) {
    free(*buf);
    *buf = malloc(need);
    if (!*buf) die_nomem();
    *cap = need;
  }
  return *buf;
}

/* Standard input in big reads; a line is handed out in place.  The
   buffer grows only for a line longer than any before. */
struct reader {
  int fd, eof;
  char *buf;
  size_t cap, start, end, scanned;
};

static int fill(struct reader *r)
{
  if (r->start > 0) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->scanned -= r->start;
    r->start = 0;
  }
  if (r->end == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 1 << 16;
    char *b = realloc(r->buf, cap);
    if (!b) die_nomem();
    r->buf = b;
    r->cap = cap;
  }
  for (;;) {
    ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) r->eof = 1;
    r->end += (size_t) n;
    return 0;
  }
}

/* 1 with the next line (its newline included, if any), 0 at the end,
   -1 on a read error. */
static int next_line(struct reader *r, const char **line, size_t *len)
{
  for (;;) {
    /* Before the first read buf is NULL: memchr may not see it. */
    char *nl = r->end > r->scanned
                   ? memchr(r->buf + r->scanned, '\n', r->end - r->scanned)
                   : NULL;
    if (nl || (r->eof && r->start < r->end)) {
      size_t stop = nl ? (size_t) (nl - r->buf) + 1 : r->end;
      *line = r->buf + r->start;
      *len = stop - r->start;
      r->start = r->scanned = stop;
      return 1;
    }
    if (r->eof) return 0;
    r->scanned = r->end;
    if (fill(r) < 0) return -1;
  }
}

struct compiler {
  unsigned long lineno;
  struct cdb_make cm;
  struct rules_index ix;
  char *data, *key;
  size_t datacap, keycap;
};

/* "ADDRESS/BITS" of the network, in buf[IP_FMT_SIZE + 8]. */
static const char *cidr_text(const struct ip_addr *ip, unsigned bits, char *buf)
{
  size_t n = ip_format(ip, buf);
  if (ip->family == AF_INET && bits == 32) return buf;
  buf[n++] = '/';
  buf[n + fmt_ulong(buf + n, bits)] = 0;
  return buf;
}

/* A key that ucspi-tcp-ipv6 reads differently from what it would seem
   to say here: the rule is kept with ucspi-tcp-ipv6's meaning, and the
   line and the CIDR form that says what was probably meant are shown. */
static void warn_ambiguous(unsigned long lineno, const char *key, size_t len)
{
  int kind = rulekey_v6_kind(key, len);
  if (kind != RULEKEY_PREFIX_OR_ADDRESS && kind != RULEKEY_V4MAPPED) return;
  char k[IP_FMT_SIZE + 8], num[24], net[IP_FMT_SIZE + 8], one[IP_FMT_SIZE + 8];
  struct ip_addr ip;
  unsigned bits;
  if (len >= sizeof k) return;
  memcpy(k, key, len);
  k[len] = 0;
  num[fmt_ulong(num, lineno)] = 0;
  int has_net = rulekey_cidr_equivalent(key, len, &ip, &bits) == 0;
  if (kind == RULEKEY_V4MAPPED) {
    if (has_net)
      msg_warn("line ", num, ": ", k, " matches only clients presented in "
               "IPv6 form (tcpserver -6), as in ucspi-tcp-ipv6; for IPv4 "
               "clients write ", cidr_text(&ip, bits, net));
    return;
  }
  struct ip_addr addr;
  if (rulekey_parse_ip(key, len, &addr) < 0) return;
  cidr_text(&addr, 128, one);
  if (has_net)
    msg_warn("line ", num, ": ", k, " is a textual prefix, as in "
             "ucspi-tcp-ipv6: it matches the addresses written ", k,
             "..., such as ", k, "7; for the network write ",
             cidr_text(&ip, bits, net), ", for the address alone ", one);
  else
    msg_warn("line ", num, ": ", k, " is a textual prefix, as in "
             "ucspi-tcp-ipv6: it matches the addresses written ", k,
             "..., such as ", k, "7; for the address alone write ", one);
}

static void add_rule(struct compiler *cc, const char *line, size_t len)
{
  struct ruleline rl;
  cc->lineno++;
  reserve(&cc->data, &cc->datacap, RULEPARSE_DATA_CAP(len));
  int r = ruleparse_line(line, len, cc->data, cc->datacap, &rl);
  if (r == RULEPARSE_SKIP) return;
  if (r == RULEPARSE_BAD) die_parse(line, rl.linelen);
  struct rulekeys k;
  if (rulekeys_start(&k, rl.addr, rl.addrlen) < 0) die_parse(line, rl.linelen);
  reserve(&cc->key, &cc->keycap, RULEKEYS_CAP(rl.addrlen));
  size_t keylen;
  int family;
  unsigned plen;
  while ((r = rulekeys_next(&k, cc->key, cc->keycap, &keylen, &family, &plen)) > 0) {
    if (cdb_make_add(&cc->cm, cc->key, (unsigned) keylen, cc->data,
                     (unsigned) rl.datalen) < 0) die_write();
    rules_index_add(&cc->ix, cc->key, keylen, family, plen);
    warn_ambiguous(cc->lineno, cc->key, keylen);
  }
  if (r < 0) die_parse(line, rl.linelen);
}

/* The index record only when a CIDR rule needs it: the cdb of any 0.88
   rules file stays byte for byte what 0.88 writes. */
static void add_index(struct compiler *cc)
{
  if (!(cc->ix.flags & RULES_HAS_CIDR)) return;
  char rec[RULES_INDEX_LEN];
  rules_index_encode(&cc->ix, rec);
  if (cdb_make_add(&cc->cm, RULES_INDEX_KEY, RULES_INDEX_KEYLEN, rec,
                   RULES_INDEX_LEN) < 0) die_write();
}

int main(int argc, char **argv)
{
  msg_setprog("tcprules");
#define USAGE "tcprules rules.cdb rules.tmp"
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tcprules", USAGE));
  if (argc < 3) msg_usage(USAGE);
  const char *cdbname = argv[1];
  tmpname = argv[2];

  int fd = open(tmpname, O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) msg_fatal_sys("unable to create ", tmpname);
  struct compiler cc = { .data = NULL };
  rules_index_init(&cc.ix);
  if (cdb_make_start(&cc.cm, fd) < 0) die_write();

  struct reader in = { .fd = 0 };
  const char *line;
  size_t len;
  int r;
  while ((r = next_line(&in, &line, &len)) > 0)
    add_rule(&cc, line, len);
  if (r < 0) msg_fatal_sys("unable to read input");

  add_index(&cc);
  if (cdb_make_finish(&cc.cm) < 0) die_write();
  if (fsync(fd) < 0) die_write();
  if (close(fd) < 0) die_write();
  if (rename(tmpname, cdbname) < 0)
    msg_fatal_sys("unable to move ", tmpname, " to ", cdbname);
  free(in.buf);
  free(cc.data);
  free(cc.key);
  return 0;
}
