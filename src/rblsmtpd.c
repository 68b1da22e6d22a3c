/* rblsmtpd: block mail from clients listed in DNS blocklists.
   Decides from $RBLSMTPD or from -r/-a lookups of $TCPREMOTEIP, made in
   the order of the options as 0.88 does; then either runs the SMTP server
   untouched or holds a minimal SMTP conversation that refuses every
   message.  DNS goes through the system resolver (resquery), with
   $DNSCACHEIP naming the servers and all lookups together bounded by -T
   (each query runs in a child process killed at the deadline). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "dnsbl.h"
#include "fd.h"
#include "logline.h"
#include "msg.h"
#include "num.h"
#include "opts.h"
#include "pathexec.h"
#include "resquery.h"

#define USAGE "rblsmtpd [ -b ] [ -R ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]"
/* --help lists every option, the extension -T and 0.88's unlisted -B,
   -c, -C too; a usage error keeps 0.88's line. */
#define HELP "rblsmtpd [ -bBcC ] [ -t timeout ] [ -T seconds ] [ -r base ] [ -a base ]" \
  " smtpd [ arg ... ]"
#define LOOKUP_ERROR "temporary RBL lookup error"
/* Default bound on all lookups together, in seconds (-T). */
#define LOOKUP_BUDGET 30

enum decision { UNDECIDED, ACCEPT, BLOCK_TEMPORARY, BLOCK_PERMANENT };
enum lookup { FAILED = RESQUERY_FAILED, ABSENT = RESQUERY_ABSENT, PRESENT = RESQUERY_PRESENT };

/* Everything rblsmtpd knows, passed down from main. */
struct rbl {
  enum decision decision;
  struct dnsbl_text text;        /* the message when blocking */
  int must_not_bounce;           /* a lookup failed: 451, never 553 */
  int rbl_bounces;               /* -b */
  int fail_closed;               /* -c */
  unsigned long dialogue_seconds;  /* -t */
  const char *remote_ip;         /* $TCPREMOTEIP */
  struct resquery resolver;
  long long started_ms;
  long long budget_ms;           /* -T; 0: unbounded */
  unsigned char answer[65536];
};

/* ---- numbers ---- */

/* -T: seconds for all lookups together, 0 for no bound but the
   resolver's own; the library's longest timeout at most. */
static long long budget_from(const char *s)
{
  return (long long) clock_cap(scan_leading(s)) * 1000;
}

static void set_text(struct rbl *st, const char *s, size_t len)
{
  if (len > sizeof st->text.s) len = sizeof st->text.s;
  memcpy(st->text.s, s, len);
  st->text.len = len;
}

/* Asks for records of type under the name listing the client.  PRESENT
   with the answer in ans[*len], ABSENT for NXDOMAIN or no records,
   FAILED for everything else (SERVFAIL, silence, out of time). */
static enum lookup query(struct rbl *st, const char *base, int type, unsigned char *ans,
                         size_t *len)
{
  char name[DNSBL_NAME_MAX];
  if (!dnsbl_name(st->remote_ip, base, name)) return FAILED;
  if (resquery_open(&st->resolver, getenv("DNSCACHEIP")) < 0) return FAILED;
  long long deadline = st->budget_ms ? st->started_ms + st->budget_ms : 0;
  return (enum lookup) resquery_ask(&st->resolver, name, type, ans, len, deadline);
}

static enum lookup lookup_txt(struct rbl *st, const char *base,
                              struct dnsbl_text *txt)
{
  size_t len = sizeof st->answer;
  enum lookup r = query(st, base, T_TXT, st->answer, &len);
  txt->len = 0;
  if (r != PRESENT) return r;
  if (dnsbl_answer_txt(st->answer, len, txt) < 0) return FAILED;
  return txt->len ? PRESENT : ABSENT;
}

static enum lookup lookup_a(struct rbl *st, const char *base)
{
  size_t len = sizeof st->answer;
  enum lookup r = query(st, base, T_A, st->answer, &len);
  if (r != PRESENT) return r;
  int found = dnsbl_answer_has_a(st->answer, len);
  return found < 0 ? FAILED : found ? PRESENT : ABSENT;
}

/* ---- decisions, in the order of the options ---- */

static void decide_from_environment(struct rbl *st)
{
  const char *x = getenv("RBLSMTPD");
  if (!x) return;
  if (!*x) {
    st->decision = ACCEPT;
  } else if (*x == '-') {
    set_text(st, x + 1, strlen(x + 1));
    st->decision = BLOCK_PERMANENT;
  } else {
    set_text(st, x, strlen(x));
    st->decision = BLOCK_TEMPORARY;
  }
}

/* -r: a TXT record lists the client; its text is the message. */
static void rbl(struct rbl *st, const char *base)
{
  if (st->decision != UNDECIDED) return;
  enum lookup r = lookup_txt(st, base, &st->text);
  if (r == FAILED) {
    st->must_not_bounce = 1;
    if (st->fail_closed) {
      set_text(st, LOOKUP_ERROR, strlen(LOOKUP_ERROR));
      st->decision = BLOCK_TEMPORARY;
    }
    return;
  }
  if (r == PRESENT) st->decision = st->rbl_bounces ? BLOCK_PERMANENT : BLOCK_TEMPORARY;
}

/* -a: an A record anti-lists the client. */
static void antirbl(struct rbl *st, const char *base)
{
  if (st->decision != UNDECIDED) return;
  enum lookup r = lookup_a(st, base);
  if (r == FAILED) {
    st->must_not_bounce = 1;
    if (!st->fail_closed) st->decision = ACCEPT;
    return;
  }
  if (r == PRESENT) st->decision = ACCEPT;
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

/* "rblsmtpd: IP pid PID: 451 text", as 0.88 logs it (the address made
   printable, in case it is not one). */
static void log_block(const struct rbl *st, const char *reply)
{
  char ip[255];
  size_t len = strnlen(st->remote_ip, sizeof ip);
  memcpy(ip, st->remote_ip, len);
  dnsbl_sanitise(ip, len);
  struct logline l;
  logline_start(&l, "rblsmtpd: ");
  logline_add(&l, ip, len);
  logline_str(&l, " pid ");
  logline_num(&l, (unsigned long) getpid());
  logline_str(&l, ": ");
  logline_str(&l, reply);
  logline_write(&l, 2);
}

/* Logs, then refuses everything until QUIT, end of input or -t seconds. */
_Noreturn static void block(const struct rbl *st)
{
  char reply[DNSBL_REPLY_MAX + 3];
  int permanent = st->decision == BLOCK_PERMANENT && !st->must_not_bounce;
  size_t len = dnsbl_reply(permanent, st->text.s, st->text.len, reply);
  log_block(st, reply);
  memcpy(reply + len, "\r\n", 3);
  len += 2;

  if (!st->dialogue_seconds) {
    say(reply, len);
    _exit(0);
  }
  signal(SIGALRM, drop);
  alarm((unsigned) clock_cap(st->dialogue_seconds));
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
  static struct rbl state;   /* static: it holds a 64 KB answer buffer */
  struct rbl *st = &state;
  st->decision = UNDECIDED;
  st->dialogue_seconds = 60;
  st->budget_ms = LOOKUP_BUDGET * 1000LL;
  msg_setprog("rblsmtpd");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "rblsmtpd", HELP));
  st->started_ms = clock_ms();
  st->remote_ip = getenv("TCPREMOTEIP");
  if (!st->remote_ip) st->remote_ip = "";
  decide_from_environment(st);

  int opt;
  while ((opt = opts_next(argc, argv, "bBcCt:T:r:a:")) != -1) {
    switch (opt) {
    case 'b': st->rbl_bounces = 1; break;
    case 'B': st->rbl_bounces = 0; break;
    case 'c': st->fail_closed = 1; break;
    case 'C': st->fail_closed = 0; break;
    case 't': st->dialogue_seconds = scan_leading(optarg); break;
    case 'T': st->budget_ms = budget_from(optarg); break;
    case 'r': rbl(st, optarg); break;
    case 'a': antirbl(st, optarg); break;
    default: msg_usage(USAGE);
    }
  }
  argv += optind;
  if (!*argv) msg_usage(USAGE);
  resquery_close(&st->resolver);

  if (st->decision == BLOCK_TEMPORARY || st->decision == BLOCK_PERMANENT) block(st);
  pathexec(argv);
  msg_fatal_sys("unable to run ", argv[0]);
}
