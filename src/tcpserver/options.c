/* The options: 0.88's, read as 0.88 reads them (numbers by their
   leading digits, -q in force from the end of the options on), and the
   extensions, whose values are checked: a bad one names the option and
   why, exit 100. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "clock.h"
#include "msg.h"
#include "num.h"
#include "opts.h"
#include "server.h"

/* 0.88's letters, then the extensions'. */
#define OPTIONS "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO46I:SG:C:L:F:W:0N:"

static const struct options option_defaults = {
  .verbosity = 1, .limit = 40, .backlog = 20, .timeout = 26,
  .remotehost = 1, .remoteinfo = 1, .killopts = 1,
  .v4prefix = 32, .v6prefix = 64, .proxy_ms = 5000, .notify_fd = -1,
};

static _Noreturn void bad_value(int letter, const char *arg, const char *why)
{
  char opt[3] = { '-', (char) letter, 0 };
  msg_fatal(100, "bad value for ", opt, ": ", arg, ": ", why);
}

static unsigned long env_number(const char *name)
{
  const char *s = getenv(name);
  return s ? scan_leading(s) : 0;
}

/* Seconds, as milliseconds that cannot overflow. */
static unsigned long seconds_ms(unsigned long secs)
{
  return clock_cap(secs) * 1000;
}

/* Whole seconds, all of s: the number of bytes used, 0 if not. */
static size_t scan_seconds(const char *s, unsigned long *secs)
{
  size_t used = scan_ulong_sat(s, secs);
  return used && (!s[used] || s[used] == '+') ? used : 0;
}

/* -G x[+y]: x seconds for the children to finish, then TERM, then y more
   (default 5) before KILL. */
static void parse_drain(struct options *opt, const char *s)
{
  unsigned long drain, kill = 5;
  size_t used = scan_seconds(s, &drain);
  if (!used) bad_value('G', s, "not drain[+kill] in whole seconds");
  if (s[used] == '+' && (scan_seconds(s + used + 1, &kill) == 0 ||
                         strchr(s + used + 1, '+')))
    bad_value('G', s, "not drain[+kill] in whole seconds");
  opt->drain_ms = seconds_ms(drain);
  opt->kill_ms = seconds_ms(kill);
  if (!opt->drain_ms) opt->drain_ms = 1;   /* -G 0: TERM the children at once */
}

/* The text after the first ':' of an option's argument, or NULL. */
static const char *after_colon(const char *s)
{
  const char *colon = strchr(s, ':');
  return colon ? colon + 1 : NULL;
}

/* -C n[:message] */
static void parse_client_limit(struct options *opt, const char *s)
{
  unsigned long n;
  size_t used = scan_ulong_sat(s, &n);
  if (!used || (s[used] && s[used] != ':'))
    bad_value('C', s, "not n[:message] with a whole number n");
  if (!n) bad_value('C', s, "the limit must be at least 1");
  opt->client_limit = n;
  opt->client_msg = after_colon(s);
}

/* -L v4[/v6]: the prefixes that make one client. */
static void parse_prefixes(struct options *opt, const char *s)
{
  unsigned long v4 = opt->v4prefix, v6 = opt->v6prefix;
  size_t used = 0;
  if (*s != '/') used = scan_ulong_sat(s, &v4);
  if (s[used] == '/') {
    size_t more = scan_ulong_sat(s + used + 1, &v6);
    if (!more) bad_value('L', s, "not v4[/v6] prefix lengths");
    used += 1 + more;
  }
  if (!used || s[used]) bad_value('L', s, "not v4[/v6] prefix lengths");
  if (v4 > 32 || v6 > 128) bad_value('L', s, "a prefix is longer than 32 (IPv4) or 128 (IPv6)");
  opt->v4prefix = (unsigned) v4;
  opt->v6prefix = (unsigned) v6;
}

/* -F rate[/burst][:message] */
static void parse_rate(struct options *opt, const char *s)
{
  size_t used = rulevars_parse_rate(s, strlen(s), &opt->rate_milli, &opt->burst);
  if (!used || (s[used] && s[used] != ':'))
    bad_value('F', s, "not rate[/burst][:message], rate from 0.001 to 1000000");
  opt->rate_msg = after_colon(s + used);
}

/* -W seconds: at least 1 (the PROXY specification's advice is 3). */
static void parse_proxy_wait(struct options *opt, const char *s)
{
  unsigned long secs;
  size_t used = scan_ulong_sat(s, &secs);
  if (!used || s[used]) bad_value('W', s, "not a whole number of seconds");
  opt->proxy_ms = secs ? seconds_ms(secs) : 1000;
}

/* -N fd: a descriptor number, not one of the standard three. */
static void parse_notify_fd(struct options *opt, const char *s)
{
  unsigned long fd;
  size_t used = scan_ulong_sat(s, &fd);
  if (!used || s[used] || fd < 3 || fd > INT_MAX)
    bad_value('N', s, "not a descriptor number above 2");
  opt->notify_fd = (int) fd;
}

/* 0.88's options: 1 if c was one. */
static int classic_option(struct options *opt, int c, const char *arg)
{
  switch (c) {
    case 'b': opt->backlog = scan_leading(arg); break;
    case 'c': opt->limit = scan_leading(arg); break;
    case 'X': opt->rules_optional = 1; break;
    case 'x': opt->rules = arg; break;
    case 'B': opt->banner = arg; break;
    case 'd': opt->nodelay = 0; break;
    case 'D': opt->nodelay = 1; break;
    case 'v': opt->verbosity = 2; break;
    case 'q': opt->verbosity = 0; break;
    case 'Q': opt->verbosity = 1; break;
    case 'P': opt->paranoid = 0; break;
    case 'p': opt->paranoid = 1; break;
    case 'l': opt->localname = arg; break;
    case 'h': opt->remotehost = 1; break;
    case 'H': opt->remotehost = 0; break;
    case 'r': opt->remoteinfo = 1; break;
    case 'R': opt->remoteinfo = 0; break;
    case 't': opt->timeout = scan_leading(arg); break;
    case 'U': opt->uid = env_number("UID"); opt->gid = env_number("GID"); break;
    case 'u': opt->uid = scan_leading(arg); break;
    case 'g': opt->gid = scan_leading(arg); break;
    case '1': opt->printport = 1; break;
    case 'o': opt->killopts = 0; break;
    case 'O': opt->killopts = 1; break;
    default: return 0;
  }
  return 1;
}

/* The extensions' options: 1 if c was one. */
static int extended_option(struct options *opt, int c, const char *arg)
{
  switch (c) {
    case '4': opt->family = AF_INET; break;
    case '6': opt->family = AF_INET6; break;
    case 'I': opt->ifname = arg; break;
    case 'S': opt->reuseport = 1; break;
    case 'G': parse_drain(opt, arg); break;
    case 'C': parse_client_limit(opt, arg); break;
    case 'L': parse_prefixes(opt, arg); break;
    case 'F': parse_rate(opt, arg); break;
    case 'W': parse_proxy_wait(opt, arg); break;
    case '0': opt->socket_on_0 = 1; break;
    case 'N': parse_notify_fd(opt, arg); break;
    default: return 0;
  }
  return 1;
}

/* The options of srv's program, then host port program. */
void options_parse(struct server *srv, const struct server_program *p,
                   int argc, char **argv)
{
  struct options *opt = &srv->opt;
  char letters[128];
  size_t base = sizeof OPTIONS - 1, extra = p->options ? strlen(p->options) : 0;
  X(base + extra < sizeof letters);
  memcpy(letters, OPTIONS, base);
  memcpy(letters + base, p->options ? p->options : "", extra + 1);
  *opt = option_defaults;
  srv->program = p;
  msg_setprog(p->name);
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, p->name, p->help));
  int c;
  while ((c = opts_next(argc, argv, letters)) != -1) {
    if (classic_option(opt, c, optarg) || extended_option(opt, c, optarg)) continue;
    if (c == '?' || !p->option || p->option(srv, c, optarg) < 0)
      msg_usage(p->usage);   /* -q is not in force yet */
  }
  /* As in 0.88, -q silences messages from the end of the options on. */
  if (!opt->verbosity) msg_quiet(1);
  if (argc - optind < 3) msg_usage(p->usage);
  if (opt->banner) opt->bannerlen = strlen(opt->banner);
  opt->prog = argv + optind + 2;
}
