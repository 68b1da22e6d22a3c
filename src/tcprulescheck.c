/* tcprulescheck: say which rule of a cdb applies to the client described
   by TCPREMOTEIP, TCPREMOTEHOST and TCPREMOTEINFO, as tcpserver -x would
   find it. */
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "msg.h"
#include "opts.h"
#include "rules.h"
#include "ruleparse.h"

/* The rule's key, its assignments up to a 'D' item, the verdict. */
static void explain(const struct rules_found *f)
{
  size_t pos = 0, len;
  const char *item;
  fputs("rule ", stdout);
  fwrite(f->key, 1, f->keylen, stdout);
  fputs(":\n", stdout);
  while (rules_data_next(f->data, f->datalen, &pos, &item, &len)) {
    fputs("set environment variable ", stdout);
    fwrite(item, 1, len, stdout);
    fputs("\n", stdout);
  }
  fputs(rules_data_denies(f->data, f->datalen) ? "deny connection\n"
                                               : "allow connection\n", stdout);
}

/* On stderr, so that the answer stays ucspi-tcp-ipv6's byte for byte:
   how an IPv6 key matched when it could be read two ways. */
static void note_how(const struct rules_found *f, const char *ipstr,
                     const struct ip_addr *ip)
{
  char legacy[IP_FMT_SIZE];
  size_t n = f->keylen;
  if (!ip || ip->family != AF_INET6 || !memchr(f->key, ':', n) ||
      memchr(f->key, '/', n) || memchr(f->key, '@', n)) return;
  ip_format_legacy6(ip, legacy);
  int in_text = strncmp(ipstr, f->key, n) == 0;
  if (!in_text && strncmp(legacy, f->key, n) == 0)
    msg_line("note: ", f->key, " matched ", legacy,
             ", the text ucspi-tcp-ipv6 gave ", ipstr);
  else if (in_text && ipstr[n] &&
           rulekey_v6_kind(f->key, n) == RULEKEY_PREFIX_OR_ADDRESS)
    msg_line("note: ", f->key, " matched as a textual prefix of ", ipstr,
             " (ucspi-tcp-ipv6's meaning), not as an address");
}

int main(int argc, char **argv)
{
  msg_setprog("tcprulescheck");
#define USAGE "tcprulescheck rules.cdb"
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tcprulescheck", USAGE));
  if (argc < 2) msg_usage(USAGE);
  const char *file = argv[1];

  /* An IPv6 address is matched in the form tcpserver gives it. */
  struct ip_addr ip;
  char canon[IP_FMT_SIZE];
  struct rules_query q = { .ipstr = getenv("TCPREMOTEIP") };
  if (!q.ipstr) q.ipstr = "0.0.0.0";
  q.host = getenv("TCPREMOTEHOST");
  q.info = getenv("TCPREMOTEINFO");
  if (rulekey_parse_ip(q.ipstr, strlen(q.ipstr), &ip) == 0) {
    q.ip = &ip;
    if (strchr(q.ipstr, ':')) {
      ip_format(&ip, canon);
      q.ipstr = canon;
    }
  }

  struct rules_db db;
  struct rules_found f;
  if (rules_db_init(&db, file, rules_keycap(&q)) < 0)
    msg_fatal(111, "out of memory");
  int r = rules_db_lookup(&db, &q, &f);
  if (r < 0) msg_fatal_sys("unable to read ", file);
  if (r == 0) fputs("default:\nallow connection\n", stdout);
  else {
    explain(&f);
    note_how(&f, q.ipstr, q.ip);
  }
  fflush(stdout);
  rules_db_free(&db);
  return 0;
}
