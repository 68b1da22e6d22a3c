/* rblsmtpd: block mail from clients listed in DNS blocklists.
   Decides from $RBLSMTPD or from -r/-a lookups of $TCPREMOTEIP, made in
   the order of the options as 0.88 does; then either runs the SMTP server
   untouched or holds a minimal SMTP conversation that refuses every
   message.  DNS goes through the system resolver (res_nquery), with
   $DNSCACHEIP naming the servers and all lookups together bounded by -T. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "addr.h"
#include "dnsbl.h"
#include "msg.h"
#include "opts.h"
#include "pathexec.h"
#include "sock.h"

#define USAGE "rblsmtpd [ -b ] [ -R ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]"
#define LOOKUP_ERROR "temporary RBL lookup error"
/* Default bound on all lookups together, in seconds (-T). */
#define LOOKUP_BUDGET 30

enum decision { UNDECIDED, ACCEPT, BLOCK_TEMPORARY, BLOCK_PERMANENT };
enum lookup { FAILED = -1, ABSENT = 0, PRESENT = 1 };

static enum decision decision = UNDECIDED;
static struct dnsbl_text text;     /* the message when blocking */
static int must_not_bounce;        /* a lookup failed: 451, never 553 */
static int rbl_bounces;            /* -b */
static int fail_closed;            /* -c */
static unsigned long dialogue_seconds = 60;  /* -t */
static const char *remote_ip;

/* ---- numbers ---- */

/* Leading decimal digits, saturating; anything else ends it (0.88's
   scan_ulong: "abc" is 0). */
static unsigned long scan_seconds(const char *s)
{
  unsigned long n = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    unsigned d = (unsigned) (*s - '0');
    n = n > (ULONG_MAX - d) / 10 ? ULONG_MAX : n * 10 + d;
  }
  return n;
}

/* -T: seconds for all lookups together, 0 for no bound but the
   resolver's own; a day at most. */
static long long budget_from(const char *s)
{
  unsigned long n = scan_seconds(s);
  return (long long) (n > 86400 ? 86400 : n) * 1000;
}

static void set_text(const char *s, size_t len)
{
  if (len > sizeof text.s) len = sizeof text.s;
  memcpy(text.s, s, len);
  text.len = len;
}

/* ---- the resolver ---- */

static struct __res_state resolver;
static int resolver_state;         /* 0 untouched, 1 ready, -1 broken */
static long long started_ms;
static long long budget_ms = LOOKUP_BUDGET * 1000LL;  /* 0: unbounded */

/* $DNSCACHEIP: IPv4 addresses (djbdns style), separated by white space
   or commas, replace the servers of /etc/resolv.conf. */
static void use_dnscacheip(void)
{
  const char *env = getenv("DNSCACHEIP");
  char buf[256], *save = NULL;
  struct sockaddr_in list[MAXNS];
  int n = 0;
  if (!env || strlen(env) >= sizeof buf) return;
  strcpy(buf, env);
  for (char *tok = strtok_r(buf, " \t\n,", &save); tok && n < MAXNS;
       tok = strtok_r(NULL, " \t\n,", &save)) {
    struct ip_addr ip;
    if (ip_parse(tok, &ip) < 0 || ip.family != AF_INET) continue;
    struct sockaddr_storage ss;
    ip_to_sockaddr(&ip, NS_DEFAULTPORT, &ss);
    memcpy(&list[n++], &ss, sizeof list[0]);
  }
  if (!n) return;
  memcpy(resolver.nsaddr_list, list, sizeof list[0] * (size_t) n);
  resolver.nscount = n;
}

static int resolver_open(void)
{
  if (resolver_state) return resolver_state;
  resolver_state = res_ninit(&resolver) == 0 ? 1 : -1;
  if (resolver_state == 1) use_dnscacheip();
  return resolver_state;
}

static void resolver_close(void)
{
  if (resolver_state == 1) res_nclose(&resolver);
  resolver_state = 0;
}

static void interrupt(int sig) { (void) sig; }

/* The resolver's own timeouts cannot cover a stalled TCP fallback, so a
   timer interrupts any blocking call at the deadline and every 200 ms
   after it. */
static void backstop_arm(long long remaining_ms)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = interrupt;   /* no SA_RESTART: calls return EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {
    .it_value = { .tv_sec = remaining_ms / 1000,
                  .tv_usec = (remaining_ms % 1000) * 1000 + 1 },
    .it_interval = { .tv_sec = 0, .tv_usec = 200000 },
  };
  setitimer(ITIMER_REAL, &it, NULL);
}

static void backstop_disarm(void)
{
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_DFL);
}

/* Fit the resolver's tries into what is left of the budget: with one
   try per server, each server gets retrans seconds. */
static void fit_tries(long long remaining_ms)
{
  long long worst = (long long) resolver.retrans * resolver.nscount;
  for (int k = 1; k < resolver.retry; k++) worst += (long long) resolver.retrans << k;
  if (worst * 1000 <= remaining_ms) return;
  int per_server = (int) (remaining_ms / 1000 / resolver.nscount);
  resolver.retry = 1;
  resolver.retrans = per_server > 0 ? per_server : 1;
}

/* Asks for records of type under the name listing the client.  PRESENT
   with the answer in ans[*len], ABSENT for NXDOMAIN or no records,
   FAILED for everything else (SERVFAIL, silence, out of time). */
static enum lookup query(const char *base, int type, unsigned char *ans,
                         size_t *len)
{
  char name[DNSBL_NAME_MAX];
  if (!dnsbl_name(remote_ip, base, name)) return FAILED;
  if (resolver_open() < 0) return FAILED;
  long long remaining = budget_ms ? started_ms + budget_ms - clock_ms() : 0;
  if (budget_ms && remaining < 1000) return FAILED;
  if (budget_ms) {
    fit_tries(remaining);
    backstop_arm(remaining);
  }
  int n = res_nquery(&resolver, name, C_IN, type, ans, (int) *len);
  int herr = resolver.res_h_errno;
  if (budget_ms) backstop_disarm();
  if (n < 0) return herr == HOST_NOT_FOUND || herr == NO_DATA ? ABSENT : FAILED;
  if ((size_t) n < *len) *len = (size_t) n;
  return PRESENT;
}

static unsigned char answer[65536];

static enum lookup lookup_txt(const char *base, struct dnsbl_text *txt)
{
  size_t len = sizeof answer;
  enum lookup r = query(base, T_TXT, answer, &len);
  txt->len = 0;
  if (r != PRESENT) return r;
  if (dnsbl_answer_txt(answer, len, txt) < 0) return FAILED;
  return txt->len ? PRESENT : ABSENT;
}

static enum lookup lookup_a(const char *base)
{
  size_t len = sizeof answer;
  enum lookup r = query(base, T_A, answer, &len);
  if (r != PRESENT) return r;
  int found = dnsbl_answer_has_a(answer, len);
  return found < 0 ? FAILED : found ? PRESENT : ABSENT;
}

/* ---- decisions, in the order of the options ---- */

static void decide_from_environment(void)
{
  const char *x = getenv("RBLSMTPD");
  if (!x) return;
  if (!*x) {
    decision = ACCEPT;
  } else if (*x == '-') {
    set_text(x + 1, strlen(x + 1));
    decision = BLOCK_PERMANENT;
  } else {
    set_text(x, strlen(x));
    decision = BLOCK_TEMPORARY;
  }
}

/* -r: a TXT record lists the client; its text is the message. */
static void rbl(const char *base)
{
  if (decision != UNDECIDED) return;
  enum lookup r = lookup_txt(base, &text);
  if (r == FAILED) {
    must_not_bounce = 1;
    if (fail_closed) {
      set_text(LOOKUP_ERROR, strlen(LOOKUP_ERROR));
      decision = BLOCK_TEMPORARY;
    }
    return;
  }
  if (r == PRESENT) decision = rbl_bounces ? BLOCK_PERMANENT : BLOCK_TEMPORARY;
}

/* -a: an A record anti-lists the client. */
static void antirbl(const char *base)
{
  if (decision != UNDECIDED) return;
  enum lookup r = lookup_a(base);
  if (r == FAILED) {
    must_not_bounce = 1;
    if (!fail_closed) decision = ACCEPT;
    return;
  }
  if (r == PRESENT) decision = ACCEPT;
}

/* ---- the SMTP conversation of a blocked client ---- */

static void drop(int sig) { (void) sig; _exit(0); }

static void say(const char *s, size_t len)
{
  if (write_all(1, s, len) < 0) _exit(0);
}

#define SAYS(s) say(s, sizeof s - 1)

/* The verb of a line: up to the first space, one CR before the LF
   removed; only 4-letter verbs matter. */
struct verb {
  char s[6];
  size_t len;       /* may exceed sizeof s: then it matches nothing */
  int ended;        /* a space was seen */
};

static void verb_add(struct verb *v, char c)
{
  if (v->ended) return;
  if (c == ' ') v->ended = 1;
  else if (v->len < sizeof v->s) v->s[v->len++] = c;
  else v->len = sizeof v->s + 1;
}

static int verb_is(const struct verb *v, const char *word)
{
  size_t len = v->len;
  if (!v->ended && len >= 1 && len <= sizeof v->s && v->s[len - 1] == '\r') len--;
  if (len != 4) return 0;
  for (size_t i = 0; i < 4; i++) {
    char c = v->s[i];
    if (c >= 'A' && c <= 'Z') c = (char) (c - 'A' + 'a');
    if (c != word[i]) return 0;
  }
  return 1;
}

static void answer_line(const struct verb *v, const char *reply, size_t len)
{
  static const char *const harmless[] = { "helo", "ehlo", "mail", "rset", "noop" };
  if (verb_is(v, "quit")) {
    SAYS("221 rblsmtpd.local\r\n");
    _exit(0);
  }
  for (size_t i = 0; i < sizeof harmless / sizeof harmless[0]; i++)
    if (verb_is(v, harmless[i])) {
      SAYS("250 rblsmtpd.local\r\n");
      return;
    }
  say(reply, len);
}

static unsigned alarm_seconds(unsigned long s)
{
  return s > INT_MAX ? INT_MAX : (unsigned) s;
}

/* "rblsmtpd: IP pid PID: 451 text", as 0.88 logs it (the address made
   printable, in case it is not one). */
static void log_block(const char *reply)
{
  char ip[256], pid[21];
  size_t len = strnlen(remote_ip, sizeof ip - 1);
  memcpy(ip, remote_ip, len);
  ip[len] = 0;
  dnsbl_sanitise(ip, len);
  fmt_ulong(pid, (unsigned long) getpid());
  msg_line(ip, " pid ", pid, ": ", reply, NULL);
}

/* Logs, then refuses everything until QUIT, end of input or -t seconds. */
_Noreturn static void block(void)
{
  char reply[DNSBL_REPLY_MAX + 3];
  int permanent = decision == BLOCK_PERMANENT && !must_not_bounce;
  size_t len = dnsbl_reply(permanent, text.s, text.len, reply);
  log_block(reply);
  memcpy(reply + len, "\r\n", 3);
  len += 2;

  if (!dialogue_seconds) {
    say(reply, len);
    _exit(0);
  }
  signal(SIGALRM, drop);
  alarm(alarm_seconds(dialogue_seconds));
  SAYS("220 rblsmtpd.local\r\n");
  struct verb v = { .len = 0 };
  for (;;) {
    char buf[1024];
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) _exit(0);
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] != '\n') {
        verb_add(&v, buf[i]);
        continue;
      }
      answer_line(&v, reply, len);
      v = (struct verb) { .len = 0 };
    }
  }
}

/* ---- main ---- */

int main(int argc, char **argv)
{
  msg_setprog("rblsmtpd");
  started_ms = clock_ms();
  remote_ip = getenv("TCPREMOTEIP");
  if (!remote_ip) remote_ip = "";
  decide_from_environment();

  int opt;
  while ((opt = opts_next(argc, argv, "bBcCt:T:r:a:")) != -1) {
    switch (opt) {
    case 'b': rbl_bounces = 1; break;
    case 'B': rbl_bounces = 0; break;
    case 'c': fail_closed = 1; break;
    case 'C': fail_closed = 0; break;
    case 't': dialogue_seconds = scan_seconds(optarg); break;
    case 'T': budget_ms = budget_from(optarg); break;
    case 'r': rbl(optarg); break;
    case 'a': antirbl(optarg); break;
    default: msg_usage(USAGE);
    }
  }
  argv += optind;
  if (!*argv) msg_usage(USAGE);
  resolver_close();

  if (decision == BLOCK_TEMPORARY || decision == BLOCK_PERMANENT) block();
  pathexec(argv);
  msg_fatal_sys("unable to run ", argv[0], NULL);
}
