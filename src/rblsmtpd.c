/* rblsmtpd: block mail from clients listed in DNS blocklists.
   Decides from $RBLSMTPD or from -r/-a lookups of $TCPREMOTEIP, made in
   the order of the options as 0.88 does; then either runs the SMTP server
   untouched or holds a minimal SMTP conversation that refuses every
   message.  DNS goes through the system resolver (res_nquery), with
   $DNSCACHEIP naming the servers and all lookups together bounded by -T
   (each query runs in a child process killed at the deadline). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "addr.h"
#include "clock.h"
#include "dnsbl.h"
#include "fd.h"
#include "logline.h"
#include "msg.h"
#include "num.h"
#include "opts.h"
#include "pathexec.h"

#define USAGE "rblsmtpd [ -b ] [ -R ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]"
/* --help lists every option, the extension -T and 0.88's unlisted -B,
   -c, -C too; a usage error keeps 0.88's line. */
#define HELP "rblsmtpd [ -bBcC ] [ -t timeout ] [ -T seconds ] [ -r base ] [ -a base ]" \
  " smtpd [ arg ... ]"
#define LOOKUP_ERROR "temporary RBL lookup error"
/* Default bound on all lookups together, in seconds (-T). */
#define LOOKUP_BUDGET 30

enum decision { UNDECIDED, ACCEPT, BLOCK_TEMPORARY, BLOCK_PERMANENT };
enum lookup { FAILED = -1, ABSENT = 0, PRESENT = 1 };

/* Everything rblsmtpd knows, passed down from main. */
struct rbl {
  enum decision decision;
  struct dnsbl_text text;        /* the message when blocking */
  int must_not_bounce;           /* a lookup failed: 451, never 553 */
  int rbl_bounces;               /* -b */
  int fail_closed;               /* -c */
  unsigned long dialogue_seconds;  /* -t */
  const char *remote_ip;         /* $TCPREMOTEIP */
  struct __res_state resolver;
  int resolver_state;            /* 0 untouched, 1 ready, -1 broken */
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

/* ---- the resolver ---- */


/* Adds the IPv4 address s (length len) to the server list. */
static void add_server(const char *s, size_t len, struct sockaddr_in *list,
                       int *n)
{
  char buf[IP_FMT_SIZE];
  struct ip_addr ip;
  struct sockaddr_storage ss;
  if (len >= sizeof buf || *n >= MAXNS) return;
  memcpy(buf, s, len);
  buf[len] = 0;
  if (ip_parse(buf, &ip) < 0 || ip.family != AF_INET) return;
  ip_to_sockaddr(&ip, NS_DEFAULTPORT, &ss);
  memcpy(&list[(*n)++], &ss, sizeof list[0]);
}

/* $DNSCACHEIP: IPv4 addresses separated by white space, commas, or dots
   as djbdns reads them ("10.0.0.1.10.0.0.2": every fourth dot ends one);
   they replace the servers of /etc/resolv.conf. */
static void use_dnscacheip(struct rbl *st)
{
  const char *s = getenv("DNSCACHEIP");
  struct sockaddr_in list[MAXNS];
  int n = 0;
  while (s && *s) {
    size_t len = strcspn(s, " \t\n,"), end = 0;
    for (int dots = 0; end < len && dots < 4; end++)
      if (s[end] == '.' && ++dots == 4) break;
    add_server(s, end, list, &n);
    s += end < len ? end + 1 : len;
    s += strspn(s, " \t\n,");
  }
  if (!n) return;
  memcpy(st->resolver.nsaddr_list, list, sizeof list[0] * (size_t) n);
  st->resolver.nscount = n;
}

static int resolver_open(struct rbl *st)
{
  if (st->resolver_state) return st->resolver_state;
  st->resolver_state = res_ninit(&st->resolver) == 0 ? 1 : -1;
  if (st->resolver_state == 1) use_dnscacheip(st);
  return st->resolver_state;
}

static void resolver_close(struct rbl *st)
{
  if (st->resolver_state == 1) res_nclose(&st->resolver);
  st->resolver_state = 0;
}

/* Fit the resolver's tries into what is left of the budget: with one
   try per server, each server gets retrans seconds. */
static void fit_tries(struct rbl *st, long long remaining_ms)
{
  long long worst = (long long) st->resolver.retrans * st->resolver.nscount;
  for (int k = 1; k < st->resolver.retry; k++) worst += (long long) st->resolver.retrans << k;
  if (worst * 1000 <= remaining_ms) return;
  int per_server = (int) (remaining_ms / 1000 / st->resolver.nscount);
  st->resolver.retry = 1;
  st->resolver.retrans = per_server > 0 ? per_server : 1;
}

/* Reads fd to its end into buf (at most size bytes) before deadline
   (0: none).  Returns the length, or -1 (timeout, error). */
static ssize_t read_to_end(int fd, unsigned char *buf, size_t size,
                           long long deadline)
{
  size_t len = 0;
  while (len < size) {
    if (clock_wait_fd(fd, POLLIN, deadline ? deadline : CLOCK_FOREVER)
        != CLOCK_WAIT_READY) return -1;
    ssize_t n = read(fd, buf + len, size - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    len += (size_t) n;
  }
  return (ssize_t) len;
}

/* res_nquery runs in a child that is killed at the deadline: nothing in
   the resolver (its TCP fallback has no timeout at all) can outlast the
   budget.  The child writes the answer to a pipe and exits with 0, or
   with 1 + h_errno when there is none. */
static enum lookup query_in_child(struct rbl *st, const char *name, int type,
                                  unsigned char *ans, size_t *len,
                                  long long deadline)
{
  int fd[2];
  if (pipe2(fd, O_CLOEXEC) < 0) return FAILED;
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    return FAILED;
  }
  if (pid == 0) {
    close(fd[0]);
    int n = res_nquery(&st->resolver, name, C_IN, type, ans, (int) *len);
    if (n < 0) _exit(1 + st->resolver.res_h_errno);
    _exit(write_all(fd[1], ans, (size_t) n < *len ? (size_t) n : *len) < 0);
  }
  close(fd[1]);
  ssize_t got = read_to_end(fd[0], ans, *len, deadline);
  close(fd[0]);
  int status;
  if (got < 0) kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (got < 0 || !WIFEXITED(status)) return FAILED;
  int code = WEXITSTATUS(status);
  if (code == 1 + HOST_NOT_FOUND || code == 1 + NO_DATA) return ABSENT;
  if (code || got == 0) return FAILED;
  *len = (size_t) got;
  return PRESENT;
}

/* Asks for records of type under the name listing the client.  PRESENT
   with the answer in ans[*len], ABSENT for NXDOMAIN or no records,
   FAILED for everything else (SERVFAIL, silence, out of time). */
static enum lookup query(struct rbl *st, const char *base, int type, unsigned char *ans,
                         size_t *len)
{
  char name[DNSBL_NAME_MAX];
  if (!dnsbl_name(st->remote_ip, base, name)) return FAILED;
  if (resolver_open(st) < 0) return FAILED;
  long long deadline = 0;
  if (st->budget_ms) {
    deadline = st->started_ms + st->budget_ms;
    long long remaining = deadline - clock_ms();
    if (remaining < 1000) return FAILED;
    fit_tries(st, remaining);
  }
  return query_in_child(st, name, type, ans, len, deadline);
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
  resolver_close(st);

  if (st->decision == BLOCK_TEMPORARY || st->decision == BLOCK_PERMANENT) block(st);
  pathexec(argv);
  msg_fatal_sys("unable to run ", argv[0]);
}
