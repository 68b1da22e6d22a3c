/* tcpserver: wait for TCP connections and run a program for each one,
   with the connection on descriptors 0 and 1 (ucspi-tcp 0.88's interface).

   The parent never blocks on a lookup.  When none is asked for (-H -R
   -l NAME) it does the per-connection work itself and starts the program
   with vfork: the fast path.  Otherwise a forked child does 0.88's whole
   sequence (banner, names, ident, rules) before exec: the slow path.
   Both write the same log lines in the same order; the "pid" and
   "ok"/"deny" lines always come from the child, as in 0.88.

   Signals: SIGCHLD and SIGTERM stay blocked except inside ppoll, so a
   signal can never slip in between a check and a wait, and costs no
   system call per connection. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include "addr.h"
#include "port.h"
#include "env.h"
#include "errtext.h"
#include "fd.h"
#include "ident.h"
#include "logline.h"
#include "msg.h"
#include "names.h"
#include "num.h"
#include "opts.h"
#include "pathexec.h"
#include "resolve.h"
#include "rules.h"
#include "clock.h"
#include "tcpenv.h"

#define USAGE "tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] " \
  "[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] " \
  "[ -t timeout ] host port program"
#define OPTIONS "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO46I:SG:"

/* A banner longer than this may not fit the socket buffer at once, and
   the parent must not wait on a slow client: such a server takes the
   slow path. */
#define FAST_BANNER_MAX 4096
/* Accepts in a row before pending signals get their chance. */
#define ACCEPT_BURST 16
/* Pids cannot go beyond this (Linux's PID_MAX_LIMIT), nor can children. */
#define CHILDREN_MAX (1ul << 22)

extern char **environ;

static struct {
  int verbosity;                 /* -q 0, -Q 1, -v 2 */
  unsigned long limit, backlog, timeout;
  const char *rules;             /* -x */
  int rules_optional;            /* -X */
  const char *banner;
  size_t bannerlen;
  const char *localname;         /* -l; NULL: look it up */
  int remotehost, paranoid, remoteinfo;
  int killopts, nodelay, printport;
  unsigned long uid, gid;        /* 0: keep */
  int family;                    /* -4 AF_INET, -6 AF_INET6, else 0 */
  const char *ifname;            /* -I */
  int reuseport;                 /* -S */
  unsigned long drain_ms, kill_ms;  /* -G x+y; drain_ms 0: 0.88's SIGTERM */
  char **prog;
} opt = {
  .verbosity = 1, .limit = 40, .backlog = 20, .timeout = 26,
  .remotehost = 1, .remoteinfo = 1, .killopts = 1,
};

/* ---- messages ---- */

/* The reference's per-connection warning; the caller then ends the
   child with 111. */
static void drop(const char *what, const char *arg, int err)
{
  if (!opt.verbosity) return;
  if (err)
    msg_warn("dropping connection, ", what, arg, ": ", errtext(err));
  else
    msg_warn("dropping connection, ", what, arg);
}

/* ---- options ---- */

static unsigned long env_number(const char *name)
{
  const char *s = getenv(name);
  return s ? scan_leading_sat(s) : 0;
}

/* Seconds, as milliseconds that cannot overflow. */
static unsigned long seconds_ms(unsigned long secs)
{
  return clock_cap(secs) * 1000;
}

/* -G x[+y]: x seconds for the children to finish, then TERM, then y more
   (default 5) before KILL. */
static void parse_drain(const char *s)
{
  const char *plus = strchr(s, '+');
  opt.drain_ms = seconds_ms(scan_leading_sat(s));
  opt.kill_ms = seconds_ms(plus ? scan_leading_sat(plus + 1) : 5);
  if (!opt.drain_ms) opt.drain_ms = 1;   /* -G 0: TERM the children at once */
}

static void parse_options(int argc, char **argv)
{
  int c;
  while ((c = opts_next(argc, argv, OPTIONS)) != -1) {
    switch (c) {
      case 'b': opt.backlog = scan_leading_sat(optarg); break;
      case 'c': opt.limit = scan_leading_sat(optarg); break;
      case 'X': opt.rules_optional = 1; break;
      case 'x': opt.rules = optarg; break;
      case 'B': opt.banner = optarg; break;
      case 'd': opt.nodelay = 0; break;
      case 'D': opt.nodelay = 1; break;
      case 'v': opt.verbosity = 2; break;
      case 'q': opt.verbosity = 0; break;
      case 'Q': opt.verbosity = 1; break;
      case 'P': opt.paranoid = 0; break;
      case 'p': opt.paranoid = 1; break;
      case 'l': opt.localname = optarg; break;
      case 'h': opt.remotehost = 1; break;
      case 'H': opt.remotehost = 0; break;
      case 'r': opt.remoteinfo = 1; break;
      case 'R': opt.remoteinfo = 0; break;
      case 't': opt.timeout = scan_leading_sat(optarg); break;
      case 'U': opt.uid = env_number("UID"); opt.gid = env_number("GID"); break;
      case 'u': opt.uid = scan_leading_sat(optarg); break;
      case 'g': opt.gid = scan_leading_sat(optarg); break;
      case '1': opt.printport = 1; break;
      case 'o': opt.killopts = 0; break;
      case 'O': opt.killopts = 1; break;
      case '4': opt.family = AF_INET; break;
      case '6': opt.family = AF_INET6; break;
      case 'I': opt.ifname = optarg; break;
      case 'S': opt.reuseport = 1; break;
      case 'G': parse_drain(optarg); break;
      default: msg_usage(USAGE);   /* -q is not in force yet */
    }
  }
  /* As in 0.88, -q silences messages from the end of the options on. */
  if (!opt.verbosity) msg_quiet(1);
  if (argc - optind < 3) msg_usage(USAGE);
  if (opt.banner) opt.bannerlen = strlen(opt.banner);
}

/* ---- the listening socket ---- */

/* Without -4/-6 an IPv4 address is preferred, as 0.88 served IPv4 only. */
static void host_to_ip(const char *host, struct ip_addr *ip)
{
  if (!*host || !strcmp(host, "0")) {
    if (opt.family == AF_INET6) ip_parse("::", ip);
    else ip_set_v4(ip, 0, 0, 0, 0);
    return;
  }
  int r = resolve_host_one(host, opt.family ? opt.family : AF_UNSPEC, ip);
  if (r < 0)
    msg_fatal_sys("temporarily unable to figure out IP address for ", host);
  if (r == 0) msg_fatal(111, "no IP address for ", host);
}

/* 0.88 takes digits as a number, cut to 16 bits; else a service name. */
static unsigned resolve_port(const char *s)
{
  unsigned port;
  if (*s && s[strspn(s, "0123456789")] == 0)
    return (unsigned) (scan_leading_sat(s) & 0xffff);
  if (port_parse(s, &port) < 0)
    msg_fatal(111, "unable to figure out port number for ", s);
  return port;
}

static void apply_interface(struct ip_addr *ip)
{
  if (!opt.ifname || ip->family != AF_INET6 || ip->scope) return;
  ip->scope = if_nametoindex(opt.ifname);
  if (!ip->scope) msg_fatal(111, "unable to find interface ", opt.ifname);
}

static int listen_on(struct ip_addr *ip, unsigned *port)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int one = 1;
  int fd = socket(ip->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) msg_fatal_sys("unable to create socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* -S: an old and a new instance share the port in a rolling restart. */
  if (opt.reuseport &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
    msg_fatal_sys("unable to set SO_REUSEPORT");
  if (ip->family == AF_INET6) {
    int v6only = opt.family == AF_INET6;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  len = ip_to_sockaddr(ip, *port, &ss);
  if (bind(fd, (struct sockaddr *) &ss, len) < 0) msg_fatal_sys("unable to bind");
  len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
    msg_fatal_sys("unable to get local address");
  uint32_t scope = ip->scope;
  ip_from_sockaddr((struct sockaddr *) &ss, ip, port);
  if (!ip->scope) ip->scope = scope;
  int backlog = opt.backlog > INT_MAX ? INT_MAX : (int) opt.backlog;
  if (listen(fd, backlog) < 0) msg_fatal_sys("unable to listen");
  return fd;
}

/* Group first (with the supplementary groups), then user: 0 keeps. */
static void drop_privileges(void)
{
  if (opt.gid) {
    gid_t g = (gid_t) opt.gid;
    if (setgroups(1, &g) < 0 || setgid(g) < 0) msg_fatal_sys("unable to set gid");
  }
  if (opt.uid && setuid((uid_t) opt.uid) < 0) msg_fatal_sys("unable to set uid");
}

static void print_port(unsigned port)
{
  char buf[24];
  size_t n = fmt_ulong(buf, port);
  buf[n++] = '\n';
  write_all(1, buf, n);
}

/* ---- the server's state ---- */

/* A live child.  Its pidfd (when it has one) tells the parent that this
   child ended, so reaping never walks every child: waitpid(-1) costs the
   kernel a walk of all children each time, which made a server with
   thousands of connections slow for all of them. */
struct child { pid_t pid; int pidfd; };

struct server {
  int listen_fd;
  struct ip_addr bound_ip;
  unsigned bound_port;
  int fast_path;                 /* no lookups: the parent prepares, vfork */
  struct envb env;
  struct rules_db rules;
  struct child *children;        /* the live ones, packed */
  size_t nchildren, children_cap;
  int epfd;                      /* the listening socket, the pidfds */
  int accepting;                 /* the listening socket is in epfd */
  size_t unwatched;              /* children without a pidfd */
  size_t pidfds, pidfd_budget;   /* descriptors the pidfds may take */
  struct rlimit nofile;          /* as found, restored for the program */
  int nofile_raised;
  sigset_t startup_mask;         /* restored in the children */
  sigset_t waiting_mask;         /* inside epoll_pwait: TERM, CHLD open */
  sigset_t watched_mask;         /* the same with CHLD blocked */
  int draining;                  /* -G: SIGTERM came, no more accepting */
  int drain_stage;               /* 0 waiting, 1 TERM sent, 2 KILL sent */
  long long drain_next;          /* when the next stage starts (ms) */
};

/* ---- the children ---- */

static void children_init(struct server *srv)
{
  srv->children_cap = opt.limit < CHILDREN_MAX ? opt.limit : CHILDREN_MAX;
  if (!srv->children_cap) return;
  srv->children = calloc(srv->children_cap, sizeof *srv->children);
  if (!srv->children) {
    errno = ENOMEM;
    msg_fatal_sys("out of memory");
  }
}

static void print_status(size_t n)
{
  struct logline l = { .len = 0 };
  if (opt.verbosity < 2) return;
  logline_str(&l, "tcpserver: status: ");
  logline_num(&l, n);
  logline_add(&l, "/", 1);
  logline_num(&l, opt.limit);
  logline_write(&l, 2);
}

static void print_end(pid_t pid, int status)
{
  struct logline l = { .len = 0 };
  if (opt.verbosity < 2) return;
  logline_str(&l, "tcpserver: end ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " status ");
  logline_num(&l, (unsigned) status);
  logline_write(&l, 2);
}

/* The pidfd of a new child, registered with epoll; -1 when the
   descriptors it may take are used up (the child is then reaped through
   SIGCHLD, as in 0.88). */
static int watch_child(struct server *srv, pid_t pid)
{
  if (srv->pidfds >= srv->pidfd_budget) return -1;
  int fd = pidfd_open(pid, 0);
  if (fd < 0) return -1;
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t) pid };
  if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    close(fd);
    return -1;
  }
  srv->pidfds++;
  return fd;
}

static void child_add(struct server *srv, pid_t pid)
{
  if (srv->nchildren >= srv->children_cap) return;
  struct child *ch = &srv->children[srv->nchildren++];
  ch->pid = pid;
  ch->pidfd = watch_child(srv, pid);
  if (ch->pidfd < 0) srv->unwatched++;
}

static struct child *child_find(struct server *srv, pid_t pid)
{
  for (size_t i = 0; i < srv->nchildren; i++)
    if (srv->children[i].pid == pid) return &srv->children[i];
  return NULL;
}

static void child_remove(struct server *srv, struct child *ch)
{
  if (ch->pidfd >= 0) {
    close(ch->pidfd);   /* also takes it out of epfd */
    srv->pidfds--;
  } else {
    srv->unwatched--;
  }
  *ch = srv->children[--srv->nchildren];
}

static void child_ended(struct server *srv, pid_t pid, int status)
{
  struct child *ch = child_find(srv, pid);
  if (ch) child_remove(srv, ch);
  print_end(pid, status);
  print_status(srv->nchildren);
}

/* One child whose pidfd became readable. */
static void reap_one(struct server *srv, pid_t pid)
{
  int status;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    child_ended(srv, pid, status);
  } else if (r < 0 && errno == ECHILD) {   /* reaped already: forget it */
    struct child *ch = child_find(srv, pid);
    if (ch) child_remove(srv, ch);
  }
}

/* Every child that ended, for the ones without a pidfd. */
static void reap_any(struct server *srv)
{
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) child_ended(srv, pid, status);
}

/* ---- descriptors and signals ---- */

/* Descriptors 0, 1 and 2 open (on /dev/null when they were closed), so
   that the listening socket cannot land on 0 or 1, which are closed once
   listening. */
static void standard_fds_open(void)
{
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    int n = open("/dev/null", O_RDWR);
    if (n < 0) msg_fatal_sys("unable to open /dev/null");
    if (n != fd) {   /* cannot happen (the lower ones are open): be sure */
      dup2(n, fd);
      close(n);
    }
  }
}

/* Descriptors kept free for the listening socket's new connections and
   the server's own files; the pidfds may take the rest. */
#define FDS_RESERVED 64

/* Room for a pidfd per child: the soft descriptor limit is raised toward
   the hard one when -c needs it, and restored for the program. */
static void descriptor_budget(struct server *srv)
{
  if (getrlimit(RLIMIT_NOFILE, &srv->nofile) < 0) return;
  rlim_t want = (rlim_t) srv->children_cap + FDS_RESERVED + 16;
  rlim_t soft = srv->nofile.rlim_cur;
  if (soft != RLIM_INFINITY && soft < want && srv->nofile.rlim_max > soft) {
    struct rlimit raised = srv->nofile;
    raised.rlim_cur = srv->nofile.rlim_max == RLIM_INFINITY ||
                      srv->nofile.rlim_max > want ? want : srv->nofile.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      soft = raised.rlim_cur;
      srv->nofile_raised = 1;
    }
  }
  if (soft == RLIM_INFINITY || soft > (rlim_t) SIZE_MAX) soft = (rlim_t) SIZE_MAX;
  srv->pidfd_budget = soft > FDS_RESERVED ? (size_t) soft - FDS_RESERVED : 0;
}

static volatile sig_atomic_t got_child, got_term;

static void on_child(int sig) { (void) sig; got_child = 1; }
/* -G: SIGTERM starts the drain (blocked outside the wait, like SIGCHLD). */
static void on_term_drain(int sig) { (void) sig; got_term = 1; }
/* As in 0.88, SIGTERM ends the server at once, whatever it is doing:
   also while a log write blocks on a reader that stopped reading. */
static void on_term(int sig) { (void) sig; _exit(0); }

static void catch_signal(int sig, void (*handler)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* SIGCHLD stays blocked except while waiting, so that it can never slip
   in between a check and a wait, and costs no system call per
   connection; while every child has a pidfd it stays blocked there too. */
static void signals_init(struct server *srv)
{
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGCHLD);
  if (opt.drain_ms) sigaddset(&blocked, SIGTERM);
  sigprocmask(SIG_BLOCK, &blocked, &srv->startup_mask);
  srv->waiting_mask = srv->startup_mask;
  sigdelset(&srv->waiting_mask, SIGCHLD);
  sigdelset(&srv->waiting_mask, SIGTERM);
  srv->watched_mask = srv->waiting_mask;
  sigaddset(&srv->watched_mask, SIGCHLD);
  catch_signal(SIGCHLD, on_child);
  catch_signal(SIGTERM, opt.drain_ms ? on_term_drain : on_term);
  catch_signal(SIGPIPE, SIG_IGN);
}

#define LISTEN_TAG UINT64_MAX

static void events_init(struct server *srv)
{
  srv->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (srv->epfd < 0) msg_fatal_sys("unable to create epoll instance");
}

/* The listening socket is watched only while a child may be started, as
   0.88 stops accepting at the limit. */
static void watch_listener(struct server *srv, int on)
{
  if (on == srv->accepting) return;
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
  if (epoll_ctl(srv->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
                srv->listen_fd, &ev) == 0)
    srv->accepting = on;
}

/* ---- the drain (-G) ---- */

/* "tcpserver: drain: WHAT N TAIL"; tail NULL: just WHAT. */
static void log_drain(const char *what, size_t n, const char *tail)
{
  struct logline l = { .len = 0 };
  if (!opt.verbosity) return;
  logline_str(&l, "tcpserver: drain: ");
  logline_str(&l, what);
  if (tail) {
    logline_num(&l, n);
    logline_str(&l, tail);
  }
  logline_write(&l, 2);
}

static void signal_children(const struct server *srv, int sig)
{
  for (size_t i = 0; i < srv->nchildren; i++) {
    kill(srv->children[i].pid, sig);
    if (sig == SIGTERM) kill(srv->children[i].pid, SIGCONT);
  }
}

/* The first SIGTERM: no more connections, and the port is free for the
   next instance at once.  A second one: TERM the children now. */
static void drain_begin(struct server *srv)
{
  if (srv->draining) {
    if (!srv->drain_stage) srv->drain_next = clock_ms();
    return;
  }
  srv->draining = 1;
  watch_listener(srv, 0);
  close(srv->listen_fd);
  srv->listen_fd = -1;
  srv->drain_next = clock_ms() + (long long) opt.drain_ms;
  log_drain("stopped accepting, waiting for ", srv->nchildren, " children");
}

/* Wait for a child's end or a signal, and for a new connection when
   listen is set, at most ms (-1: no limit), and act on what came. */
static void wait_for(struct server *srv, int ms, int listen)
{
  struct epoll_event ev[64];
  watch_listener(srv, listen && srv->nchildren < opt.limit);
  const sigset_t *mask = srv->unwatched ? &srv->waiting_mask
                                        : &srv->watched_mask;
  int n = epoll_pwait(srv->epfd, ev, 64, ms, mask);
  for (int i = 0; i < n; i++)
    if (ev[i].data.u64 != LISTEN_TAG) reap_one(srv, (pid_t) ev[i].data.u64);
  if (got_child) {
    got_child = 0;
    reap_any(srv);
  }
  if (got_term) {
    got_term = 0;
    drain_begin(srv);
  }
}

/* One step of the drain: exit 0 once no child is left; at each deadline
   the next stage (TERM and CONT, then KILL, then give up). */
static void drain_step(struct server *srv)
{
  if (!srv->nchildren) {
    log_drain("done", 0, NULL);
    _exit(0);
  }
  long long now = clock_ms();
  if (now >= srv->drain_next) {
    switch (srv->drain_stage++) {
      case 0:
        log_drain("deadline, sending TERM to ", srv->nchildren, " children");
        signal_children(srv, SIGTERM);
        srv->drain_next = now + (long long) opt.kill_ms;
        break;
      case 1:
        log_drain("sending KILL to ", srv->nchildren, " children");
        signal_children(srv, SIGKILL);
        srv->drain_next = now + 1000;   /* for the kernel to end them */
        break;
      default:
        log_drain("giving up, ", srv->nchildren, " children left");
        _exit(0);
    }
  }
  long long left = srv->drain_next - now;
  wait_for(srv, left > 0 && left < 60000 ? (int) left : 1000, 0);
}

/* ---- one connection ---- */

enum outcome { OUT_OK, OUT_DENY, OUT_DROP };

struct conn {
  int fd;
  struct ip_addr local, remote;
  unsigned localport, remoteport;
  int local_known;
  const char *localhost, *remotehost, *remoteinfo;
  char remotehost_buf[NAMES_MAX + 1], localhost_buf[NAMES_MAX + 1];
  char info_buf[IDENT_INFO_MAX + 1];
  enum outcome outcome;
  const char *drop_what, *drop_arg;
  int drop_err;
  char **envp;
};

static void set_drop(struct conn *c, const char *what, const char *arg, int err)
{
  c->outcome = OUT_DROP;
  c->drop_what = what;
  c->drop_arg = arg;
  c->drop_err = err;
}

static int local_address(struct conn *c)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (c->local_known) return 0;
  if (getsockname(c->fd, (struct sockaddr *) &ss, &len) < 0) return -1;
  ip_from_sockaddr((struct sockaddr *) &ss, &c->local, &c->localport);
  c->local_known = 1;
  return 0;
}

/* The lookups that may block: only ever in a forked child. */
static void look_up_names(struct conn *c)
{
  c->localhost = opt.localname;
  if (!c->localhost && names_reverse(&c->local, c->localhost_buf))
    c->localhost = c->localhost_buf;
  c->remotehost = NULL;
  if (opt.remotehost &&
      names_remote(&c->remote, opt.paranoid, c->remotehost_buf))
    c->remotehost = c->remotehost_buf;
  c->remoteinfo = NULL;
  if (opt.remoteinfo &&
      ident_lookup(&c->local, c->localport, &c->remote, c->remoteport,
                   opt.timeout,
                   c->info_buf))
    c->remoteinfo = c->info_buf;
}

/* The rule's verdict and variables; -1 with errno on a read error. */
static int use_rule(struct server *srv, const struct rules_query *q,
                    struct conn *c)
{
  struct rules_found f;
  int r = rules_db_lookup(&srv->rules, q, &f);
  if (r <= 0) return r;
  if (rules_data_denies(f.data, f.datalen)) {
    c->outcome = OUT_DENY;
    return 1;
  }
  size_t pos = 0, len;
  const char *item;
  while (rules_data_next(f.data, f.datalen, &pos, &item, &len))
    if (memchr(item, '=', len)) envb_put(&srv->env, item, len);
  return 1;
}

/* Rules (-x): sets c->outcome, adds the rule's variables to the
   environment. */
static void apply_rules(struct server *srv, struct conn *c, const char *ipstr)
{
  struct rules_query q = { &c->remote, ipstr, c->remotehost, c->remoteinfo };
  c->outcome = OUT_OK;
  if (!opt.rules) return;
  if (use_rule(srv, &q, c) < 0 && (errno != ENOENT || !opt.rules_optional))
    set_drop(c, "unable to read ", opt.rules, errno);
}

/* Everything between the banner and the log line: local address, names,
   ident, rules, the environment.  In the parent (fast path) or in a
   forked child (slow path). */
static void prepare(struct server *srv, struct conn *c)
{
  char ipstr[IP_FMT_SIZE];
  if (local_address(c) < 0) {
    set_drop(c, "unable to get local address", "", errno);
    return;
  }
  if (srv->fast_path) {
    c->localhost = opt.localname;
    c->remotehost = c->remoteinfo = NULL;
  } else {
    look_up_names(c);
  }
  ip_format(&c->remote, ipstr);
  envb_reset(&srv->env);
  struct tcpenv t = { c->local, c->localport, c->remote, c->remoteport,
                      c->localhost, c->remotehost, c->remoteinfo };
  tcpenv_apply(&srv->env, &t);
  apply_rules(srv, c, ipstr);
  if (c->outcome != OUT_OK) return;
  c->envp = envb_vec(&srv->env);
  if (!c->envp) set_drop(c, "out of memory", "", 0);
}

static void log_pid(pid_t pid, const struct conn *c)
{
  struct logline l = { .len = 0 };
  logline_str(&l, "tcpserver: pid ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " from ");
  logline_ip(&l, &c->remote);
  logline_write(&l, 2);
}

static void log_verdict(pid_t pid, const struct conn *c)
{
  struct logline l = { .len = 0 };
  logline_str(&l, c->outcome == OUT_DENY ? "tcpserver: deny " : "tcpserver: ok ");
  logline_num(&l, (unsigned long) pid);
  logline_add(&l, " ", 1);
  logline_field(&l, c->localhost);
  logline_add(&l, ":", 1);
  logline_ip(&l, &c->local);
  logline_add(&l, ":", 1);
  logline_num(&l, c->localport);
  logline_add(&l, " ", 1);
  logline_field(&l, c->remotehost);
  logline_add(&l, ":", 1);
  logline_ip(&l, &c->remote);
  logline_add(&l, ":", 1);
  logline_field(&l, c->remoteinfo);
  logline_add(&l, ":", 1);
  logline_num(&l, c->remoteport);
  logline_write(&l, 2);
}

static void socket_options(int fd, const struct conn *c)
{
  int one = 1;
  if (opt.killopts && c->remote.family == AF_INET)
    setsockopt(fd, IPPROTO_IP, IP_OPTIONS, NULL, 0);
  if (opt.nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The socket on 0 and 1, without close-on-exec; nothing else survives
   exec but 2. */
static int socket_to_stdio(int fd)
{
  if (fd_move(0, fd) < 0) return -1;
  return dup2(0, 1) < 0 ? -1 : 0;
}

/* What the program gets as it was when tcpserver started. */
static void restore_for_program(const struct server *srv)
{
  catch_signal(SIGCHLD, SIG_DFL);
  catch_signal(SIGTERM, SIG_DFL);
  catch_signal(SIGPIPE, SIG_DFL);
  if (srv->nofile_raised) setrlimit(RLIMIT_NOFILE, &srv->nofile);
  sigprocmask(SIG_SETMASK, &srv->startup_mask, NULL);
}

/* The child's part, 0.88's order: pid line, banner, (slow path: the
   lookups and rules), verdict line, then exit 100 on deny or exec.
   Runs after vfork (fast path: only the stack and system calls, no
   allocation) or after fork. */
static _Noreturn void run_child(struct server *srv, struct conn *c)
{
  pid_t pid = getpid();
  if (!srv->fast_path) {   /* SIGTERM ends the lookups, as in 0.88 */
    catch_signal(SIGTERM, on_term);
    sigprocmask(SIG_SETMASK, &srv->startup_mask, NULL);
  }
  if (opt.verbosity >= 2) log_pid(pid, c);
  socket_options(c->fd, c);
  if (opt.bannerlen && write_all(c->fd, opt.banner, opt.bannerlen) < 0) {
    drop("unable to print banner", "", errno);
    _exit(111);
  }
  if (!srv->fast_path) prepare(srv, c);
  if (c->outcome == OUT_DROP) {
    drop(c->drop_what, c->drop_arg, c->drop_err);
    _exit(111);
  }
  if (opt.verbosity >= 2) log_verdict(pid, c);
  if (c->outcome == OUT_DENY) _exit(100);
  if (socket_to_stdio(c->fd) < 0) {
    drop("unable to set up descriptors", "", errno);
    _exit(111);
  }
  restore_for_program(srv);
  pathexec_run(opt.prog[0], opt.prog, c->envp);
  drop("unable to run ", opt.prog[0], errno);
  _exit(111);
}

/* vfork: the parent waits until the child has exec'd or exited, so the
   child may use the connection and the environment as they are. */
static pid_t spawn_fast(struct server *srv, struct conn *c)
{
  pid_t pid = vfork();
  if (pid == 0) run_child(srv, c);
  return pid;
}

static pid_t spawn_slow(struct server *srv, struct conn *c)
{
  pid_t pid = fork();
  if (pid == 0) run_child(srv, c);
  return pid;
}

static void handle(struct server *srv, int fd,
                   const struct sockaddr_storage *peer)
{
  struct conn c = { .fd = fd };
  ip_from_sockaddr((const struct sockaddr *) peer, &c.remote, &c.remoteport);
  c.local_known = !ip_is_any(&srv->bound_ip);
  if (c.local_known) {
    c.local = srv->bound_ip;
    c.localport = srv->bound_port;
  }
  if (srv->fast_path) prepare(srv, &c);
  print_status(srv->nchildren + 1);
  pid_t pid = srv->fast_path ? spawn_fast(srv, &c) : spawn_slow(srv, &c);
  if (pid < 0) {
    if (opt.verbosity)
      msg_warn("dropping connection, unable to fork: ", errtext(errno));
    print_status(srv->nchildren);
  } else {
    child_add(srv, pid);
  }
  close(fd);
}

/* Accept errors that belong to one connection (it is gone, or the network
   path broke): the next one may be fine at once.  Any other error (out of
   resources, or a socket that cannot accept) would stay: wait a little
   instead of spinning. */
static int connection_error(int err)
{
  return err == ECONNABORTED || err == EPROTO || err == EPERM ||
         err == EINTR || err == ENETDOWN || err == ENETUNREACH ||
         err == EHOSTDOWN || err == EHOSTUNREACH || err == ENONET ||
         err == ENOPROTOOPT || err == EOPNOTSUPP || err == ETIMEDOUT;
}

static _Noreturn void serve(struct server *srv)
{
  int burst = 0;
  for (;;) {
    if (srv->draining) {
      drain_step(srv);
      continue;
    }
    if (srv->nchildren >= opt.limit) {
      wait_for(srv, -1, 0);
      continue;
    }
    if (++burst > ACCEPT_BURST) {
      burst = 0;
      wait_for(srv, 0, 0);
      continue;
    }
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = accept4(srv->listen_fd, (struct sockaddr *) &peer, &len,
                     SOCK_CLOEXEC);
    if (fd >= 0) {
      handle(srv, fd, &peer);
      continue;
    }
    burst = 0;
    if (errno == EAGAIN) wait_for(srv, -1, 1);
    else if (connection_error(errno)) wait_for(srv, 0, 0);
    else wait_for(srv, 100, 0);
  }
}

int main(int argc, char **argv)
{
  static struct server srv;
  msg_setprog("tcpserver");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tcpserver", USAGE));
  parse_options(argc, argv);
  opt.prog = argv + optind + 2;
  host_to_ip(argv[optind], &srv.bound_ip);
  srv.bound_port = resolve_port(argv[optind + 1]);
  apply_interface(&srv.bound_ip);
  children_init(&srv);
  srv.fast_path = !opt.remotehost && !opt.remoteinfo && opt.localname &&
                  opt.bannerlen <= FAST_BANNER_MAX;
  envb_init(&srv.env, environ);
  standard_fds_open();
  descriptor_budget(&srv);
  signals_init(&srv);
  if (opt.rules &&
      rules_db_init(&srv.rules, opt.rules,
                    rules_keycap_for(IP_FMT_SIZE, NAMES_MAX, IDENT_INFO_MAX)) < 0)
    msg_fatal_sys("out of memory");
  events_init(&srv);
  srv.listen_fd = listen_on(&srv.bound_ip, &srv.bound_port);
  drop_privileges();
  if (opt.printport) print_port(srv.bound_port);
  close(0);
  close(1);
  print_status(srv.nchildren);
  serve(&srv);
}
