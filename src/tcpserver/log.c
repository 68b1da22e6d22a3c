/* The only writer to descriptor 2 once the server serves: every -v line
   and every warning, of the parent and of its children alike, one
   write(2) a line, under the same rules.

   A line blocks, as in 0.88, while the logger falls behind (it slows
   the server and loses nothing), with two exceptions that keep a
   stalled logger from holding the server for ever:
   - once SIGTERM asked for the drain, a logger that does not read is
     not waited for: the line is dropped, so that the drain can run;
   - a vfork child writes while the parent is suspended in vfork, where
     no SIGTERM can reach it: it waits a tenth of a second at a time and
     ends once the server has a SIGTERM pending, so that the server
     takes it (and ends, as in 0.88).  The vfork child may only use its
     stack and system calls: nothing here allocates. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errtext.h"
#include "logline.h"
#include "num.h"
#include "server.h"

static const char *prog = "tcpserver";
static pid_t server_pid;
static volatile sig_atomic_t stop_waiting;

void log_init(const char *name, pid_t server)
{
  prog = name;
  server_pid = server;
}

/* Once the drain is asked for (from a signal handler). */
void log_stop_waiting(void)
{
  stop_waiting = 1;
}

static int log_writable(int ms)
{
  struct pollfd out = { .fd = 2, .events = POLLOUT };
  return poll(&out, 1, ms) == 1;
}

/* 1 if "ShdPnd:" in /proc/PID/status has SIGTERM.  The file is read to
   its end in pieces (a long Groups line comes before it), keeping the
   tail of each piece, so that the field is found wherever it falls. */
static int server_term_pending(void)
{
  static const char field[] = "\nShdPnd:";
  char path[64] = "/proc/", buf[1024 + sizeof field + 24];
  size_t n = 6 + fmt_ulong(path + 6, (unsigned long) server_pid);
  memcpy(path + n, "/status", 8);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t kept = 0;
  int pending = 0;
  for (;;) {
    ssize_t got = read(fd, buf + kept, sizeof buf - 1 - kept);
    if (got <= 0) break;
    size_t len = kept + (size_t) got;
    buf[len] = 0;
    const char *line = strstr(buf, field);
    /* the mask's 16 hex digits must all be here */
    if (line && strlen(line) >= sizeof field + 16) {
      unsigned long long mask = strtoull(line + sizeof field - 1, NULL, 16);
      pending = (mask >> (SIGTERM - 1)) & 1;
      break;
    }
    kept = len < sizeof field + 24 ? len : sizeof field + 24;
    memmove(buf, buf + len - kept, kept);
  }
  close(fd);
  return pending;
}

static void child_wait_for_log(void)
{
  while (!log_writable(100))
    if (server_term_pending()) _exit(0);
}

static void log_write(struct logline *l)
{
  const char *p = l->buf;
  size_t n = l->len;
  int child = getpid() != server_pid;
  l->buf[n++] = '\n';   /* logline keeps a byte for it */
  while (n) {
    if (stop_waiting && !log_writable(0)) return;
    if (child && !log_writable(0)) child_wait_for_log();
    ssize_t w = write(2, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t) w;
    } else if (w == 0 || errno != EINTR) {
      return;
    }
  }
}

void log_line(struct logline *l)
{
  log_write(l);
}

/* "PROG: WHAT" */
static void start(struct logline *l, const char *what)
{
  l->len = 0;
  logline_str(l, prog);
  logline_str(l, ": ");
  logline_str(l, what);
}

void server_impossible(const char *file, int line, const char *what)
{
  struct logline l;
  char num[FMT_ULONG];
  num[fmt_ulong(num, (unsigned long) line)] = 0;
  start(&l, "fatal: impossible state at ");
  logline_str(&l, file);
  logline_str(&l, ":");
  logline_str(&l, num);
  logline_str(&l, ": ");
  logline_str(&l, what);
  log_write(&l);
  _exit(111);
}

void log_warn_parts(const struct options *opt, const char *const *parts)
{
  struct logline l;
  if (!opt->verbosity) return;
  start(&l, "warning: ");
  while (*parts) logline_str(&l, *parts++);
  log_write(&l);
}

void log_drop(const struct options *opt, const char *what, const char *arg, int err)
{
  if (err)
    log_warn(opt, "dropping connection, ", what, arg, ": ", errtext(err));
  else
    log_warn(opt, "dropping connection, ", what, arg);
}

void log_status(const struct server *srv, size_t n)
{
  struct logline l;
  if (srv->opt.verbosity < 2) return;
  /* A status line of a server that drains would read as the next
     instance's: its count says what the drain still waits for. */
  if (srv->draining) {
    if (n) log_drain(&srv->opt, "waiting for ", n, " children");
    return;
  }
  start(&l, "status: ");
  logline_num(&l, n);
  logline_add(&l, "/", 1);
  logline_num(&l, srv->opt.limit);
  log_write(&l);
}

void log_end(const struct server *srv, pid_t pid, int status)
{
  struct logline l;
  if (srv->opt.verbosity < 2) return;
  start(&l, "end ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " status ");
  logline_num(&l, (unsigned) status);
  log_write(&l);
}

/* The two address fields of the ok/deny line:
   LOCALHOST:LOCALIP:LOCALPORT REMOTEHOST:REMOTEIP:REMOTEINFO:REMOTEPORT */
static void log_addresses(struct logline *l, const struct peer *p)
{
  logline_field(l, p->localhost);
  logline_add(l, ":", 1);
  logline_ip(l, &p->local);
  logline_add(l, ":", 1);
  logline_num(l, p->localport);
  logline_add(l, " ", 1);
  logline_field(l, p->remotehost);
  logline_add(l, ":", 1);
  logline_ip(l, &p->remote);
  logline_add(l, ":", 1);
  logline_field(l, p->remoteinfo);
  logline_add(l, ":", 1);
  logline_num(l, p->remoteport);
}

void log_pid(pid_t pid, const struct peer *p)
{
  struct logline l;
  start(&l, "pid ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " from ");
  logline_ip(&l, &p->remote);
  log_write(&l);
}

/* "PROG: proxy PID from IP:PORT": the proxy a client came through. */
void log_proxy(pid_t pid, const struct peer *p)
{
  struct logline l;
  start(&l, "proxy ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " from ");
  logline_ip(&l, &p->proxy_ip);
  logline_add(&l, ":", 1);
  logline_num(&l, p->proxy_port);
  log_write(&l);
}

void log_verdict(pid_t pid, const struct conn *c)
{
  struct logline l;
  start(&l, c->v.outcome == OUT_DENY ? "deny " : "ok ");
  logline_num(&l, (unsigned long) pid);
  logline_add(&l, " ", 1);
  log_addresses(&l, &c->peer);
  log_write(&l);
}

const char *const limit_names[] = {
  [LIMIT_CLIENT] = "client", [LIMIT_RATE] = "rate",
  [LIMIT_MAXCONNIP] = "MAXCONNIP", [LIMIT_MAXCONNC] = "MAXCONNC",
  [LIMIT_MAXCONNNET] = "MAXCONNNET",
};

/* A rate in thousandths per second: "2", "0.5", "1.25". */
static void add_rate(struct logline *l, unsigned long milli)
{
  logline_num(l, milli / 1000);
  if (!(milli % 1000)) return;
  char frac[4] = { '.', (char) ('0' + milli % 1000 / 100),
                   (char) ('0' + milli % 100 / 10), (char) ('0' + milli % 10) };
  logline_add(l, frac, frac[3] != '0' ? 4 : frac[2] != '0' ? 3 : 2);
}

/* "PROG: limit PID LOCAL REMOTE WHAT COUNT/MAX" (PID 0: the parent
   refused, no process); for the rate, WHAT is "rate" and the figures
   are the rate per second and the burst. */
void log_limit(const struct options *opt, pid_t pid, const struct conn *c)
{
  struct logline l;
  if (opt->verbosity < 2) return;
  start(&l, "limit ");
  logline_num(&l, (unsigned long) pid);
  logline_add(&l, " ", 1);
  log_addresses(&l, &c->peer);
  logline_add(&l, " ", 1);
  logline_str(&l, limit_names[c->v.limit]);
  logline_add(&l, " ", 1);
  if (c->v.limit == LIMIT_RATE) add_rate(&l, c->v.limit_count);
  else logline_num(&l, c->v.limit_count);
  logline_add(&l, "/", 1);
  logline_num(&l, c->v.limit_max);
  log_write(&l);
}

/* "PROG: drain: WHAT N TAIL"; tail NULL: just WHAT.  A tail that names
   children says "child" for one. */
void log_drain(const struct options *opt, const char *what, size_t n, const char *tail)
{
  struct logline l;
  if (!opt->verbosity) return;
  start(&l, "drain: ");
  logline_str(&l, what);
  if (tail) {
    logline_num(&l, n);
    if (n == 1 && !strncmp(tail, " children", 9)) {
      logline_str(&l, " child");
      tail += 9;
    }
    logline_str(&l, tail);
  }
  log_write(&l);
}
