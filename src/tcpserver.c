/* tcpserver: wait for TCP connections and run a program for each one,
   with the connection on descriptors 0 and 1 (ucspi-tcp 0.88's interface).

   The parent never blocks on a lookup.  When none is asked for (-H -R
   -l NAME) it does the per-connection work itself and starts the program
   with vfork: the fast path.  Otherwise a forked child does 0.88's whole
   sequence (banner, names, ident, rules) before exec: the slow path.
   Both write the same log lines in the same order; the "pid" and
   "ok"/"deny" lines always come from the child, as in 0.88.

   Around that chain, and only when asked for: per-client limits decided
   from the parent's counts (clientcount, ratelimit), PROXY headers read
   by the parent as they arrive (proxywait), a reaper thread naming the
   children that ended (reaper), socket activation, readiness and the
   drain of -G.

   Signals: SIGCHLD stays blocked except inside epoll_pwait, so that it
   can never slip in between a check and a wait, and costs no system
   call per connection; SIGTERM is never blocked (it ends the server at
   once, or with -G starts the drain). */
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
#include "listenfd.h"
#include "names.h"
#include "notify.h"
#include "num.h"
#include "opts.h"
#include "pathexec.h"
#include "proxy.h"
#include "proxywait.h"
#include "ratelimit.h"
#include "reaper.h"
#include "resolve.h"
#include "rules.h"
#include "clock.h"
#include "clientcount.h"
#include "connlimits.h"
#include "tcpenv.h"

#define USAGE "tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] " \
  "[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] " \
  "[ -t timeout ] host port program"
#define OPTIONS "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO46I:SG:C:L:F:W:0N:"

/* A banner longer than this may not fit the socket buffer at once, and
   the parent must not wait on a slow client: such a server takes the
   slow path. */
#define FAST_BANNER_MAX 4096
/* Accepts in a row before pending signals get their chance. */
#define ACCEPT_BURST 16
/* Pids cannot go beyond this (Linux's PID_MAX_LIMIT), nor can children. */
#define CHILDREN_MAX (1ul << 22)

extern char **environ;

/* The options, as parsed; read-only from then on. */
struct options {
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
  unsigned long client_limit;    /* -C n; 0: none */
  const char *client_msg;        /* -C n:message; NULL: none */
  unsigned v4prefix, v6prefix;   /* -L: the prefixes that make one client */
  unsigned long rate_milli, burst;  /* -F rate/burst; 0: none */
  const char *rate_msg;          /* -F ...:message */
  unsigned long proxy_ms;        /* -W: how long a PROXY header may take */
  int socket_on_0;               /* -0: serve the listening socket on fd 0 */
  int notify_fd;                 /* -N fd: s6's notification fd; -1 none */
  unsigned long drain_ms, kill_ms;  /* -G x+y; drain_ms 0: 0.88's SIGTERM */
  char **prog;
};

static const struct options option_defaults = {
  .verbosity = 1, .limit = 40, .backlog = 20, .timeout = 26,
  .remotehost = 1, .remoteinfo = 1, .killopts = 1,
  .v4prefix = 32, .v6prefix = 64, .proxy_ms = 5000, .notify_fd = -1,
};

/* ---- messages ---- */

/* The reference's per-connection warning; the caller then ends the
   child with 111. */
static void drop(const struct options *opt, const char *what, const char *arg, int err)
{
  if (!opt->verbosity) return;
  if (err)
    msg_warn("dropping connection, ", what, arg, ": ", errtext(err));
  else
    msg_warn("dropping connection, ", what, arg);
}

/* ---- options ---- */

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

/* -G x[+y]: x seconds for the children to finish, then TERM, then y more
   (default 5) before KILL. */
static void parse_drain(struct options *opt, const char *s)
{
  const char *plus = strchr(s, '+');
  opt->drain_ms = seconds_ms(scan_leading_sat(s));
  opt->kill_ms = seconds_ms(plus ? scan_leading_sat(plus + 1) : 5);
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
  if (!used || !n || (s[used] && s[used] != ':')) msg_usage(USAGE);
  opt->client_limit = n;
  opt->client_msg = after_colon(s);
}

/* -L v4[/v6]: the prefix lengths that make one client. */
static void parse_prefixes(struct options *opt, const char *s)
{
  unsigned long v4 = opt->v4prefix, v6 = opt->v6prefix;
  size_t used = 0;
  if (*s != '/') used = scan_ulong_sat(s, &v4);
  if (s[used] == '/') {
    size_t more = scan_ulong_sat(s + used + 1, &v6);
    if (!more) msg_usage(USAGE);
    used += 1 + more;
  }
  if (!used || s[used] || v4 > 32 || v6 > 128) msg_usage(USAGE);
  opt->v4prefix = (unsigned) v4;
  opt->v6prefix = (unsigned) v6;
}

/* -F rate[/burst][:message] */
static void parse_rate(struct options *opt, const char *s)
{
  size_t used = connlimits_parse_rate(s, strlen(s), &opt->rate_milli, &opt->burst);
  if (!used || (s[used] && s[used] != ':')) msg_usage(USAGE);
  opt->rate_msg = after_colon(s + used);
}

/* -N fd: a descriptor number, not one of the standard three. */
static void parse_notify_fd(struct options *opt, const char *s)
{
  unsigned long fd;
  size_t used = scan_ulong_sat(s, &fd);
  if (!used || s[used] || fd < 3 || fd > INT_MAX) msg_usage(USAGE);
  opt->notify_fd = (int) fd;
}

static void parse_options(struct options *opt, int argc, char **argv)
{
  int c;
  while ((c = opts_next(argc, argv, OPTIONS)) != -1) {
    switch (c) {
      case 'b': opt->backlog = scan_leading(optarg); break;
      case 'c': opt->limit = scan_leading(optarg); break;
      case 'X': opt->rules_optional = 1; break;
      case 'x': opt->rules = optarg; break;
      case 'B': opt->banner = optarg; break;
      case 'd': opt->nodelay = 0; break;
      case 'D': opt->nodelay = 1; break;
      case 'v': opt->verbosity = 2; break;
      case 'q': opt->verbosity = 0; break;
      case 'Q': opt->verbosity = 1; break;
      case 'P': opt->paranoid = 0; break;
      case 'p': opt->paranoid = 1; break;
      case 'l': opt->localname = optarg; break;
      case 'h': opt->remotehost = 1; break;
      case 'H': opt->remotehost = 0; break;
      case 'r': opt->remoteinfo = 1; break;
      case 'R': opt->remoteinfo = 0; break;
      case 't': opt->timeout = scan_leading(optarg); break;
      case 'U': opt->uid = env_number("UID"); opt->gid = env_number("GID"); break;
      case 'u': opt->uid = scan_leading(optarg); break;
      case 'g': opt->gid = scan_leading(optarg); break;
      case '1': opt->printport = 1; break;
      case 'o': opt->killopts = 0; break;
      case 'O': opt->killopts = 1; break;
      case '4': opt->family = AF_INET; break;
      case '6': opt->family = AF_INET6; break;
      case 'I': opt->ifname = optarg; break;
      case 'S': opt->reuseport = 1; break;
      case 'G': parse_drain(opt, optarg); break;
      case 'C': parse_client_limit(opt, optarg); break;
      case 'L': parse_prefixes(opt, optarg); break;
      case 'F': parse_rate(opt, optarg); break;
      case 'W': opt->proxy_ms = seconds_ms(scan_leading_sat(optarg)); break;
      case '0': opt->socket_on_0 = 1; break;
      case 'N': parse_notify_fd(opt, optarg); break;
      default: msg_usage(USAGE);   /* -q is not in force yet */
    }
  }
  /* As in 0.88, -q silences messages from the end of the options on. */
  if (!opt->verbosity) msg_quiet(1);
  if (argc - optind < 3) msg_usage(USAGE);
  if (opt->banner) opt->bannerlen = strlen(opt->banner);
  if (!opt->proxy_ms) opt->proxy_ms = 1000;
}

/* ---- the listening socket ---- */

/* Without -4/-6 an IPv4 address is preferred, as 0.88 served IPv4 only. */
static void host_to_ip(const struct options *opt, const char *host, struct ip_addr *ip)
{
  if (!*host || !strcmp(host, "0")) {
    if (opt->family == AF_INET6) ip_parse("::", ip);
    else ip_set_v4(ip, 0, 0, 0, 0);
    return;
  }
  int r = resolve_host_one(host, opt->family ? opt->family : AF_UNSPEC, ip);
  if (r < 0)
    msg_fatal_sys("temporarily unable to figure out IP address for ", host);
  if (r == 0) msg_fatal(111, "no IP address for ", host);
}

/* 0.88 takes digits as a number, cut to 16 bits; else a service name. */
static unsigned resolve_port(const char *s)
{
  unsigned port;
  if (*s && s[strspn(s, "0123456789")] == 0)
    return (unsigned) (scan_leading(s) & 0xffff);
  if (port_parse(s, &port) < 0)
    msg_fatal(111, "unable to figure out port number for ", s);
  return port;
}

static void apply_interface(const struct options *opt, struct ip_addr *ip)
{
  if (!opt->ifname || ip->family != AF_INET6 || ip->scope) return;
  ip->scope = if_nametoindex(opt->ifname);
  if (!ip->scope) msg_fatal(111, "unable to find interface ", opt->ifname);
}

static int listen_on(const struct options *opt, struct ip_addr *ip, unsigned *port)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int one = 1;
  int fd = socket(ip->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) msg_fatal_sys("unable to create socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* -S: an old and a new instance share the port in a rolling restart. */
  if (opt->reuseport &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
    msg_fatal_sys("unable to set SO_REUSEPORT");
  if (ip->family == AF_INET6) {
    int v6only = opt->family == AF_INET6;
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
  int backlog = opt->backlog > INT_MAX ? INT_MAX : (int) opt->backlog;
  if (listen(fd, backlog) < 0) msg_fatal_sys("unable to listen");
  return fd;
}

/* A listening socket handed over instead of bound here: made
   non-blocking and close-on-exec, its address learned. */
static int adopt_listener(int fd, struct ip_addr *ip, unsigned *port)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
      fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
      getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
    return -1;
  ip_from_sockaddr((struct sockaddr *) &ss, ip, port);
  return 0;
}

/* 1 if a socket bound to ip:port is what host and port ask for: 0 (or
   ::) and port 0 match any. */
static int wanted_address(const struct ip_addr *want, unsigned wantport,
                          const struct ip_addr *ip, unsigned port)
{
  return (ip_is_any(want) || ip_equal(want, ip)) && (!wantport || wantport == port);
}

/* systemd's sockets (LISTEN_FDS): the first that host and port match is
   served, the others are closed. */
static int systemd_listener(int n, struct ip_addr *ip, unsigned *port)
{
  int chosen = -1;
  for (int fd = LISTENFD_FIRST; fd < LISTENFD_FIRST + n; fd++) {
    struct ip_addr got;
    unsigned gotport;
    if (chosen < 0 && listenfd_check(fd) == 0 &&
        adopt_listener(fd, &got, &gotport) == 0 &&
        wanted_address(ip, *port, &got, gotport)) {
      chosen = fd;
      *ip = got;
      *port = gotport;
    } else {
      close(fd);
    }
  }
  if (chosen < 0) msg_fatal(111, "no socket passed by systemd matches the host and port");
  return chosen;
}

/* -0: the listening socket on descriptor 0, moved off it (0 and 1 are
   closed once listening). */
static int socket_from_fd0(struct ip_addr *ip, unsigned *port)
{
  if (listenfd_check(0) < 0) msg_fatal_sys("unable to use descriptor 0 as a listening socket");
  int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
  if (fd < 0 || adopt_listener(fd, ip, port) < 0)
    msg_fatal_sys("unable to use descriptor 0 as a listening socket");
  close(0);
  return fd;
}

/* Tell the supervisor that the socket is listening: -N's descriptor,
   systemd's NOTIFY_SOCKET.  A supervisor that cannot be told is worth a
   warning, not the service. */
static void notify_ready(const struct options *opt, const char *notify_socket)
{
  if (opt->notify_fd >= 0 && notify_fd_ready(opt->notify_fd) < 0) {
    char fd[FMT_ULONG];
    fmt_ulong(fd, (unsigned long) opt->notify_fd);
    msg_warn("unable to notify readiness on descriptor ", fd, ": ", errtext(errno));
  }
  if (notify_socket && *notify_socket &&
      notify_send(notify_socket, "READY=1") < 0)
    msg_warn("unable to notify readiness to ", notify_socket, ": ", errtext(errno));
}

/* Group first (with the supplementary groups), then user: 0 keeps. */
static void drop_privileges(const struct options *opt)
{
  if (opt->gid) {
    gid_t g = (gid_t) opt->gid;
    if (setgroups(1, &g) < 0 || setgid(g) < 0) msg_fatal_sys("unable to set gid");
  }
  if (opt->uid && setuid((uid_t) opt->uid) < 0) msg_fatal_sys("unable to set uid");
}

static void print_port(unsigned port)
{
  char buf[24];
  size_t n = fmt_ulong(buf, port);
  buf[n++] = '\n';
  write_all(1, buf, n);
}

/* ---- the log ---- */

static volatile sig_atomic_t drain_asked;

/* One log line, in one write.  It blocks, as in 0.88, when the logger
   falls behind (it slows the server and loses nothing); but once a drain
   is asked for, a logger that does not read is not waited for: that
   line is dropped, so that the drain can run and the server end. */
static pid_t server_pid;

static int log_writable(int ms)
{
  struct pollfd out = { .fd = 2, .events = POLLOUT };
  return poll(&out, 1, ms) == 1;
}

/* 1 if the server has a SIGTERM pending (it cannot take it while its
   vfork child runs), from /proc: only asked while the log is blocked. */
static int server_term_pending(void)
{
  char path[64] = "/proc/", buf[2048];
  size_t n = 6 + fmt_ulong(path + 6, (unsigned long) server_pid);
  memcpy(path + n, "/status", 8);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t got = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (got <= 0) return 0;
  buf[got] = 0;
  const char *line = strstr(buf, "\nShdPnd:");
  if (!line) return 0;
  unsigned long long mask = strtoull(line + 8, NULL, 16);
  return (mask >> (SIGTERM - 1)) & 1;
}

/* A vfork child whose log write would block holds the server in its
   vfork, where a SIGTERM cannot reach it: it waits for the logger a
   tenth of a second at a time, and ends once the server has a SIGTERM
   pending, so that the server takes it (and ends, as in 0.88). */
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
    if (drain_asked && !log_writable(0)) return;
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

/* ---- the server's state ---- */

/* Connections waiting for their PROXY header at most; a new one beyond
   drops the oldest, so that silent connections can only hasten each
   other's end. */
#define PENDING_MAX 1024

/* A connection at a concurrency limit is looked at again this much
   later before it is refused: the program that made it the client's
   last one too many may be ending (its socket closed, the client
   already connecting again) while the server cannot reap it yet. */
#define SECOND_LOOK_MS 20
#define SECOND_LOOK_MAX 1024
struct second_look {
  int fd;
  struct sockaddr_storage peer;
  long long when;
};

struct server {
  struct options opt;
  int listen_fd;
  struct ip_addr bound_ip;
  unsigned bound_port;
  int fast_path;                 /* no lookups: the parent prepares, vfork */
  struct envb env;
  struct rules_db rules;
  struct clientcount clients;    /* the children, counted (-C or -x) */
  size_t children_cap;
  struct ratelimit *rates;       /* the token buckets of -F, MAXCONNRATE */
  /* The reaper says which child ended, so reaping never walks every
     child: waitpid(-1) costs the kernel a walk of all children each
     time, which made a server with thousands of connections slow for
     all of them. */
  struct reaper reaper;
  int epfd;                      /* the listening socket, reaper, headers */
  int accepting;                 /* the listening socket is in epfd */
  size_t unwatched;              /* children the reaper does not watch */
  struct rlimit nofile;          /* as found, restored for the program */
  int nofile_raised;
  sigset_t startup_mask;         /* restored in the children */
  sigset_t waiting_mask;         /* inside epoll_pwait: TERM, CHLD open */
  sigset_t watched_mask;         /* the same with CHLD blocked */
  /* Connections from trusted proxies whose PROXY header has not fully
     arrived: read as it comes, never waited for, in order of arrival
     (which is the order of their deadlines). */
  struct proxywait pending;
  /* Connections at a limit, to be looked at again (oldest first). */
  struct second_look *looks;     /* SECOND_LOOK_MAX, with the counts */
  size_t looks_first, nlooks;
  int draining;                  /* -G: SIGTERM came, no more accepting */
  int drain_stage;               /* 0 waiting, 1 TERM sent, 2 KILL sent */
  long long drain_next;          /* when the next stage starts (ms) */
};

static size_t live_children(const struct server *srv)
{
  return clientcount_live(&srv->clients);
}

/* ---- the tables, allocated once ---- */

/* Rate buckets: many more than children, so that a flood of addresses
   forgets the buckets of full (idle) clients, not the limited ones. */
#define RATE_BUCKETS_MIN 4096
#define RATE_BUCKETS_MAX (1ul << 20)

static void tables_init(struct server *srv)
{
  struct siphash_key seed;
  srv->children_cap = srv->opt.limit < CHILDREN_MAX ? srv->opt.limit : CHILDREN_MAX;
  if (clientcount_init(&srv->clients, srv->children_cap,
                       srv->opt.client_limit || srv->opt.rules,
                       srv->opt.v4prefix, srv->opt.v6prefix) < 0 ||
      siphash_key_random(&seed) < 0)
    msg_fatal_sys("unable to set up the client tables");
  proxywait_init(&srv->pending, srv->opt.rules ? PENDING_MAX : 0);
  if (srv->clients.counts &&
      !(srv->looks = calloc(SECOND_LOOK_MAX, sizeof *srv->looks)))
    msg_fatal_sys("out of memory");
  if (srv->opt.rate_milli || srv->opt.rules) {
    size_t buckets = 8 * srv->children_cap;
    if (buckets < RATE_BUCKETS_MIN) buckets = RATE_BUCKETS_MIN;
    if (buckets > RATE_BUCKETS_MAX) buckets = RATE_BUCKETS_MAX;
    srv->rates = ratelimit_new(buckets, srv->opt.rate_milli ? srv->opt.rate_milli : 1000,
                               srv->opt.rate_milli ? srv->opt.burst : 1, &seed);
    if (!srv->rates) msg_fatal_sys("out of memory");
  }
}

/* ---- the children ---- */

static void print_status(const struct options *opt, size_t n)
{
  struct logline l = { .len = 0 };
  if (opt->verbosity < 2) return;
  logline_str(&l, "tcpserver: status: ");
  logline_num(&l, n);
  logline_add(&l, "/", 1);
  logline_num(&l, opt->limit);
  log_write(&l);
}

static void print_end(const struct options *opt, pid_t pid, int status)
{
  struct logline l = { .len = 0 };
  if (opt->verbosity < 2) return;
  logline_str(&l, "tcpserver: end ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " status ");
  logline_num(&l, (unsigned) status);
  log_write(&l);
}

/* Children the reaper could not be given, or could not watch: reaped
   through SIGCHLD, as in 0.88. */
static void mark_unwatched(struct server *srv, pid_t pid)
{
  struct child_entry *ch = children_find(srv->clients.children, pid);
  if (ch && ch->pidfd > 0) {
    ch->pidfd = -1;
    srv->unwatched++;
  }
}

static void flush_watches(struct server *srv)
{
  pid_t failed[REAPER_BATCH];
  size_t n = reaper_flush(&srv->reaper, failed);
  for (size_t i = 0; i < n; i++) mark_unwatched(srv, failed[i]);
}

/* 1 when the reaper is to watch pid (the field pidfd says so). */
static int watch_child(struct server *srv, pid_t pid)
{
  if (srv->reaper.fd < 0) return 0;
  if (srv->reaper.nbatch == REAPER_BATCH) flush_watches(srv);
  reaper_watch(&srv->reaper, pid);
  return 1;
}

/* A new child, counted under the keys of its connection. */
static void child_add(struct server *srv, pid_t pid, const struct ip_addr *ip,
                      const struct clientkey *keys, unsigned nkeys)
{
  struct child_entry *ch = clientcount_add(&srv->clients, pid, ip, keys, nkeys);
  if (!ch) return;
  ch->pidfd = watch_child(srv, pid) ? 1 : -1;   /* 1: the reaper's */
  if (ch->pidfd < 0) srv->unwatched++;
}

/* Forget pid, and its counts (those of ITS client). */
static int child_forget(struct server *srv, pid_t pid)
{
  struct child_entry gone;
  if (clientcount_remove(&srv->clients, pid, &gone) < 0) return -1;
  if (gone.pidfd < 0) srv->unwatched--;
  return 0;
}

static void child_ended(struct server *srv, pid_t pid, int status)
{
  child_forget(srv, pid);
  print_end(&srv->opt, pid, status);
  print_status(&srv->opt, live_children(srv));
}

/* One child the reaper saw end. */
static void reap_one(struct server *srv, pid_t pid)
{
  int status;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) child_ended(srv, pid, status);
  else if (r < 0 && errno == ECHILD) child_forget(srv, pid);  /* reaped already */
}

/* Every child that ended, for the ones without a pidfd. */
static void reap_any(struct server *srv)
{
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) child_ended(srv, pid, status);
}

/* Without the reaper every child is reaped the old way. */
static void reaper_gone(struct server *srv)
{
  for (size_t i = 0; i < live_children(srv); i++) {
    struct child_entry *ch = children_at(srv->clients.children, i);
    if (ch->pidfd > 0) {
      ch->pidfd = -1;
      srv->unwatched++;
    }
  }
}

/* Every child that has ended by now, so that the counts are as fresh as
   they can be (a client that reconnects as soon as its program ended
   must not find itself still counted). */
static void reap_ready(struct server *srv)
{
  pid_t news[REAPER_BATCH];
  long n;
  flush_watches(srv);
  while ((n = reaper_news(&srv->reaper, news, REAPER_BATCH)) > 0)
    for (long i = 0; i < n; i++) {
      if (news[i] > 0) reap_one(srv, news[i]);
      else mark_unwatched(srv, -news[i]);
    }
  if (n < 0) reaper_gone(srv);
  if (srv->unwatched) reap_any(srv);
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

/* Room in the reaper's own descriptor table for a pidfd per child: the
   soft descriptor limit is raised toward the hard one when -c needs it,
   and restored for the program. */
static void descriptor_budget(struct server *srv)
{
  if (getrlimit(RLIMIT_NOFILE, &srv->nofile) < 0) return;
  rlim_t want = (rlim_t) srv->children_cap + 64;
  rlim_t soft = srv->nofile.rlim_cur;
  if (soft == RLIM_INFINITY || soft >= want || srv->nofile.rlim_max <= soft) return;
  struct rlimit raised = srv->nofile;
  raised.rlim_cur = srv->nofile.rlim_max == RLIM_INFINITY ||
                    srv->nofile.rlim_max > want ? want : srv->nofile.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0) srv->nofile_raised = 1;
}

static volatile sig_atomic_t got_child, got_term;
static int term_pipe[2] = { -1, -1 };   /* -G: wakes the wait on SIGTERM */

static void on_child(int sig) { (void) sig; got_child = 1; }
/* -G: SIGTERM starts the drain.  It is never blocked, so that it also
   gets through a log write that blocks on a logger that stopped
   reading; the pipe wakes the wait however it came in between.  A
   child not yet running its program ends, as in 0.88. */
static void on_term_drain(int sig)
{
  int e = errno;
  (void) sig;
  if (getpid() != server_pid) _exit(0);
  got_term = drain_asked = 1;
  if (write(term_pipe[1], "", 1) < 0) {}   /* full: a wake-up is pending */
  errno = e;
}
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
  sigprocmask(SIG_BLOCK, &blocked, &srv->startup_mask);
  srv->waiting_mask = srv->startup_mask;
  sigdelset(&srv->waiting_mask, SIGCHLD);
  sigdelset(&srv->waiting_mask, SIGTERM);
  srv->watched_mask = srv->waiting_mask;
  sigaddset(&srv->watched_mask, SIGCHLD);
  catch_signal(SIGCHLD, on_child);
  server_pid = getpid();
  if (srv->opt.drain_ms && pipe2(term_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
    msg_fatal_sys("unable to create pipe");
  catch_signal(SIGTERM, srv->opt.drain_ms ? on_term_drain : on_term);
  catch_signal(SIGPIPE, SIG_IGN);
}

/* What an epoll event is about: the listening socket, a pending PROXY
   header (its slot), else a child's pidfd (its pid). */
#define LISTEN_TAG UINT64_MAX
#define PENDING_TAG (1ull << 62)
#define CHILDREN_TAG (1ull << 61)
#define TERM_TAG (1ull << 60)

static int pending_wait_ms(const struct server *srv, int ms);
static int looks_wait_ms(const struct server *srv, int ms);
static void looks_due(struct server *srv);
static void pending_readable(struct server *srv, size_t slot);
static void pending_expire(struct server *srv);

static void events_init(struct server *srv)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TERM_TAG };
  srv->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (srv->epfd < 0 ||
      (term_pipe[0] >= 0 && epoll_ctl(srv->epfd, EPOLL_CTL_ADD, term_pipe[0], &ev) < 0))
    msg_fatal_sys("unable to create epoll instance");
  srv->reaper.fd = -1;
}

/* The reaper, once the server's descriptors are what they will stay;
   without one, children are reaped the old way. */
static void reaper_init(struct server *srv)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CHILDREN_TAG };
  if (reaper_start(&srv->reaper) == 0 &&
      epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->reaper.fd, &ev) < 0) {
    close(srv->reaper.fd);
    srv->reaper.fd = -1;
  }
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
static void log_drain(const struct options *opt, const char *what, size_t n, const char *tail)
{
  struct logline l = { .len = 0 };
  if (!opt->verbosity) return;
  logline_str(&l, "tcpserver: drain: ");
  logline_str(&l, what);
  if (tail) {
    logline_num(&l, n);
    logline_str(&l, tail);
  }
  log_write(&l);
}

static void signal_children(const struct server *srv, int sig)
{
  for (size_t i = 0; i < live_children(srv); i++) {
    pid_t pid = children_at(srv->clients.children, i)->pid;
    kill(pid, sig);
    if (sig == SIGTERM) kill(pid, SIGCONT);
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
  srv->drain_next = clock_ms() + (long long) srv->opt.drain_ms;
  log_drain(&srv->opt, "stopped accepting, waiting for ", live_children(srv), " children");
}

/* Wait for a child's end or a signal, and for a new connection when
   listen is set, at most ms (-1: no limit), and act on what came. */
static void wait_for(struct server *srv, int ms, int listen)
{
  struct epoll_event ev[64];
  watch_listener(srv, listen && live_children(srv) < srv->opt.limit);
  const sigset_t *mask = srv->unwatched ? &srv->waiting_mask
                                        : &srv->watched_mask;
  flush_watches(srv);
  if (srv->pending.n) ms = pending_wait_ms(srv, ms);
  if (srv->nlooks) ms = looks_wait_ms(srv, ms);
  int n = epoll_pwait(srv->epfd, ev, 64, ms, mask);
  for (int i = 0; i < n; i++) {
    uint64_t tag = ev[i].data.u64;
    if (tag == LISTEN_TAG) continue;
    if (tag == TERM_TAG) {
      char buf[64];
      while (read(term_pipe[0], buf, sizeof buf) > 0) {}
    } else if (tag == CHILDREN_TAG) reap_ready(srv);
    else if (tag & PENDING_TAG) pending_readable(srv, (size_t) (tag & ~PENDING_TAG));
    else reap_one(srv, (pid_t) tag);
  }
  if (srv->pending.n) pending_expire(srv);
  if (srv->nlooks) looks_due(srv);
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
  if (!live_children(srv)) {
    log_drain(&srv->opt, "done", 0, NULL);
    _exit(0);
  }
  long long now = clock_ms();
  if (now >= srv->drain_next) {
    switch (srv->drain_stage++) {
      case 0:
        log_drain(&srv->opt, "deadline, sending TERM to ", live_children(srv), " children");
        signal_children(srv, SIGTERM);
        srv->drain_next = now + (long long) srv->opt.kill_ms;
        break;
      case 1:
        log_drain(&srv->opt, "sending KILL to ", live_children(srv), " children");
        signal_children(srv, SIGKILL);
        srv->drain_next = now + 1000;   /* for the kernel to end them */
        break;
      default:
        log_drain(&srv->opt, "giving up, ", live_children(srv), " children left");
        _exit(0);
    }
  }
  long long left = srv->drain_next - now;
  wait_for(srv, left > 0 && left < 60000 ? (int) left : 1000, 0);
}

/* ---- one connection ---- */

enum outcome { OUT_OK, OUT_DENY, OUT_DROP, OUT_LIMIT };

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
  /* The limits: the keys the connection is counted under (the client,
     its /24 or /48, the tracked networks), what its rule says, and for a
     refusal which limit and the count against it. */
  struct clientkey keys[CHILD_KEYS_MAX];
  unsigned nkeys;
  struct rules_found found;      /* the rule's record, until the next look-up */
  int address_rule_known;        /* found is the rule of the address alone */
  struct connlimits rule;
  int rule_found;
  struct clientkey rule_net;     /* MAXCONNNET's network */
  int rule_has_net;
  const char *limit_what;
  unsigned long limit_count, limit_max;
  const char *limit_msg;
  size_t limit_msglen;
  int second_look;               /* looked at again after a limit */
  /* Behind a proxy: its address (and ours as it reached us), the header. */
  int proxied;
  struct ip_addr proxy_ip, proxy_local;
  unsigned proxy_port, proxy_localport;
  const struct proxy_header *proxy;
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
static void look_up_names(const struct options *opt, struct conn *c)
{
  c->localhost = opt->localname;
  if (!c->localhost && names_reverse(&c->local, c->localhost_buf))
    c->localhost = c->localhost_buf;
  c->remotehost = NULL;
  if (opt->remotehost &&
      names_remote(&c->remote, opt->paranoid, c->remotehost_buf))
    c->remotehost = c->remotehost_buf;
  c->remoteinfo = NULL;
  /* No ident through a proxy: the query would go to the client from an
     address that is not ours. */
  if (opt->remoteinfo && !c->proxied &&
      ident_lookup(&c->local, c->localport, &c->remote, c->remoteport,
                   (unsigned) clock_cap(opt->timeout), c->info_buf))
    c->remoteinfo = c->info_buf;
}

/* ---- per-client limits ---- */

static void set_limit(struct conn *c, const char *what, unsigned long count,
                      unsigned long max, const char *msg, size_t msglen)
{
  c->outcome = OUT_LIMIT;
  c->limit_what = what;
  c->limit_count = count;
  c->limit_max = max;
  c->limit_msg = msg;
  c->limit_msglen = msglen;
}

static const char *option_message(const char *msg, size_t *len)
{
  *len = msg ? strlen(msg) : 0;
  return msg;
}

/* -C, from the parent's own counts: 1 if refused.  The counts are those
   of the live children; this connection is not among them yet. */
/* Live connections under key; at the limit, the parent first reaps what
   has ended.  (A forked child has only its copy.) */
static unsigned long fresh_count(struct server *srv, const struct clientkey *key,
                                 unsigned long limit, int in_parent)
{
  unsigned long n = clientcount_get(&srv->clients, key);
  if (n >= limit && in_parent) {
    reap_ready(srv);
    n = clientcount_get(&srv->clients, key);
  }
  return n;
}

static int over_client_limit(struct server *srv, struct conn *c)
{
  if (!srv->opt.client_limit || !c->nkeys) return 0;
  unsigned long n = fresh_count(srv, &c->keys[0], srv->opt.client_limit, 1);
  if (n < srv->opt.client_limit) return 0;
  size_t len;
  const char *msg = option_message(srv->opt.client_msg, &len);
  set_limit(c, "client", n, srv->opt.client_limit, msg, len);
  return 1;
}

/* -F, or the rule's MAXCONNRATE: 1 if refused. */
static int over_rate(struct server *srv, struct conn *c)
{
  unsigned long rate = srv->opt.rate_milli, burst = srv->opt.burst;
  const char *msg = srv->opt.rate_msg;
  size_t len = msg ? strlen(msg) : 0;
  if (c->rule_found && c->rule.rate_milli) {
    rate = c->rule.rate_milli;
    burst = c->rule.burst;
    msg = c->rule.diemsg;
    len = c->rule.diemsglen;
  }
  if (!rate || !srv->rates) return 0;
  struct clientkey k;
  if (clientcount_client(&srv->clients, &c->remote, &k) < 0) return 0;
  if (ratelimit_take_with(srv->rates, &k, clock_ms(), rate, burst) != 0) return 0;
  set_limit(c, "rate", rate, burst, msg, len);
  return 1;
}

/* The rule's MAXCONNIP, MAXCONNC, MAXCONNNET against the parent's counts
   (in a forked child: its copy of them, exact as of the fork). */
static int over_rule_limits(struct server *srv, struct conn *c, int in_parent)
{
  const struct connlimits *r = &c->rule;
  if (!c->rule_found || !connlimits_concurrent(r) || c->nkeys < 2) return 0;
  unsigned long n = r->maxconnip ?
      fresh_count(srv, &c->keys[0], r->maxconnip, in_parent) : 0;
  if (r->maxconnip && n >= r->maxconnip) {
    set_limit(c, "MAXCONNIP", n, r->maxconnip, r->diemsg, r->diemsglen);
    return 1;
  }
  n = r->maxconnc ? fresh_count(srv, &c->keys[1], r->maxconnc, in_parent) : 0;
  if (r->maxconnc && n >= r->maxconnc) {
    set_limit(c, "MAXCONNC", n, r->maxconnc, r->diemsg, r->diemsglen);
    return 1;
  }
  if (r->maxconnnet && c->rule_has_net) {
    n = clientcount_net(&srv->clients, &c->rule_net, in_parent);
    if (n >= r->maxconnnet && in_parent) {
      reap_ready(srv);
      n = clientcount_net(&srv->clients, &c->rule_net, in_parent);
    }
    if (n >= r->maxconnnet) {
      set_limit(c, "MAXCONNNET", n, r->maxconnnet, r->diemsg, r->diemsglen);
      return 1;
    }
  }
  return 0;
}

/* TCPCONNNUM: the client's connections at once, this one included; set
   where a limit applies (-C, or a rule with MAXCONN...). */
static void set_connnum(struct server *srv, const struct conn *c)
{
  if (!c->nkeys || (!srv->opt.client_limit &&
                    !(c->rule_found && connlimits_concurrent(&c->rule))))
    return;
  char buf[FMT_ULONG];
  size_t n = fmt_ulong(buf, clientcount_get(&srv->clients, &c->keys[0]) + 1);
  envb_setn(&srv->env, "TCPCONNNUM", 10, buf, n);
}

/* ---- rules ---- */

/* Look the rule up and read what it says about limits and proxies; the
   record stays in c->found until the next look-up.  -1 with errno on a
   read error. */
static int look_up_rule(struct server *srv, const struct rules_query *q,
                        struct conn *c)
{
  int r = rules_db_lookup(&srv->rules, q, &c->found);
  c->rule_found = r == 1;
  if (r <= 0) return r;
  connlimits_from_rule(c->found.data, c->found.datalen, &c->rule);
  c->rule_has_net = c->rule.maxconnnet &&
      connlimits_rule_network(c->found.key, c->found.keylen, &c->remote,
                              &c->rule_net) == 0;
  return 1;
}

/* The rule's verdict, and its variables into the environment. */
static void use_rule(struct server *srv, struct conn *c)
{
  const struct rules_found *f = &c->found;
  if (!c->rule_found) return;
  if (rules_data_denies(f->data, f->datalen)) {
    c->outcome = OUT_DENY;
    return;
  }
  size_t pos = 0, len;
  const char *item;
  while (rules_data_next(f->data, f->datalen, &pos, &item, &len))
    if (memchr(item, '=', len)) envb_put(&srv->env, item, len);
}

/* Rules (-x): sets c->outcome, adds the rule's variables to the
   environment.  Without names and ident the rule is that of the address
   alone, which the parent has looked up already. */
static void apply_rules(struct server *srv, struct conn *c, const char *ipstr)
{
  struct rules_query q = { &c->remote, ipstr, c->remotehost, c->remoteinfo };
  c->outcome = OUT_OK;
  if (!srv->opt.rules) return;
  if (!(c->address_rule_known && !c->remotehost && !c->remoteinfo) &&
      look_up_rule(srv, &q, c) < 0) {
    if (errno != ENOENT || !srv->opt.rules_optional)
      set_drop(c, "unable to read ", srv->opt.rules, errno);
    return;
  }
  use_rule(srv, c);
}

/* The parent: the rule of the client's address alone (no names, no
   ident), for what the parent itself must decide (the rate, a PROXY
   header).  A read error is left for prepare to report. */
static void address_rule(struct server *srv, struct conn *c)
{
  char ipstr[IP_FMT_SIZE];
  ip_format(&c->remote, ipstr);
  struct rules_query q = { &c->remote, ipstr, NULL, NULL };
  c->address_rule_known = srv->opt.rules && look_up_rule(srv, &q, c) >= 0;
}

/* Behind a proxy: where it connected from, and what its header says
   beyond the addresses, bounded and made printable. */
static void put_proxy_value(struct envb *env, const char *name,
                            const struct proxy_value *v)
{
  char buf[PROXY_VALUE_MAX + 1];
  if (!v->present) {
    envb_unset(env, name);
    return;
  }
  size_t n = proxy_value_env(v, buf, sizeof buf);
  envb_setn(env, name, strlen(name), buf, n);
}

static void put_address(struct envb *env, const char *ipname,
                        const char *portname, const struct ip_addr *ip,
                        unsigned port)
{
  char buf[IP_FMT_SIZE];
  size_t n = ip_format(ip, buf);
  envb_setn(env, ipname, strlen(ipname), buf, n);
  n = fmt_ulong(buf, port);
  envb_setn(env, portname, strlen(portname), buf, n);
}

static void proxy_env(struct envb *env, const struct conn *c)
{
  const struct proxy_header *h = c->proxy;
  put_address(env, "PROXYREMOTEIP", "PROXYREMOTEPORT", &c->proxy_ip, c->proxy_port);
  put_address(env, "PROXYLOCALIP", "PROXYLOCALPORT", &c->proxy_local,
              c->proxy_localport);
  envb_set(env, "PROXYVERSION", h->version == 2 ? "2" : "1");
  put_proxy_value(env, "PROXYUNIQUEID", &h->unique_id);
  put_proxy_value(env, "PROXYAUTHORITY", &h->authority);
  put_proxy_value(env, "PROXYALPN", &h->alpn);
  if (h->has_ssl && (h->ssl_client & PROXY_SSL_CLIENT_SSL)) {
    envb_set(env, "PROXYSSL", "1");
    put_proxy_value(env, "PROXYSSLVERSION", &h->ssl_version);
    put_proxy_value(env, "PROXYSSLCN", &h->ssl_cn);
    put_proxy_value(env, "PROXYSSLCIPHER", &h->ssl_cipher);
  } else {
    envb_unset(env, "PROXYSSL");
    envb_unset(env, "PROXYSSLVERSION");
    envb_unset(env, "PROXYSSLCN");
    envb_unset(env, "PROXYSSLCIPHER");
  }
}

/* Everything between the banner and the log line: local address, names,
   ident, rules, limits, the environment.  In the parent (fast path) or
   in a forked child (slow path). */
static void prepare(struct server *srv, struct conn *c)
{
  char ipstr[IP_FMT_SIZE];
  if (local_address(c) < 0) {
    set_drop(c, "unable to get local address", "", errno);
    return;
  }
  if (srv->fast_path) {
    c->localhost = srv->opt.localname;
    c->remotehost = c->remoteinfo = NULL;
  } else {
    look_up_names(&srv->opt, c);
  }
  ip_format(&c->remote, ipstr);
  envb_reset(&srv->env);
  struct tcpenv t = { c->local, c->localport, c->remote, c->remoteport,
                      c->localhost, c->remotehost, c->remoteinfo };
  tcpenv_apply(&srv->env, &t);
  if (c->proxied) proxy_env(&srv->env, c);
  apply_rules(srv, c, ipstr);
  if (c->outcome != OUT_OK) return;
  if (srv->fast_path && over_rate(srv, c)) return;
  if (over_rule_limits(srv, c, srv->fast_path)) return;
  set_connnum(srv, c);
  c->envp = envb_vec(&srv->env);
  if (!c->envp) set_drop(c, "out of memory", "", 0);
}

/* The two address fields of the ok/deny line:
   LOCALHOST:LOCALIP:LOCALPORT REMOTEHOST:REMOTEIP:REMOTEINFO:REMOTEPORT */
static void log_addresses(struct logline *l, const struct conn *c)
{
  logline_field(l, c->localhost);
  logline_add(l, ":", 1);
  logline_ip(l, &c->local);
  logline_add(l, ":", 1);
  logline_num(l, c->localport);
  logline_add(l, " ", 1);
  logline_field(l, c->remotehost);
  logline_add(l, ":", 1);
  logline_ip(l, &c->remote);
  logline_add(l, ":", 1);
  logline_field(l, c->remoteinfo);
  logline_add(l, ":", 1);
  logline_num(l, c->remoteport);
}

static void log_pid(pid_t pid, const struct conn *c)
{
  struct logline l = { .len = 0 };
  logline_str(&l, "tcpserver: pid ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " from ");
  logline_ip(&l, &c->remote);
  log_write(&l);
}

/* "tcpserver: proxy PID from IP:PORT": the proxy a client came through. */
static void log_proxy(pid_t pid, const struct conn *c)
{
  struct logline l = { .len = 0 };
  logline_str(&l, "tcpserver: proxy ");
  logline_num(&l, (unsigned long) pid);
  logline_str(&l, " from ");
  logline_ip(&l, &c->proxy_ip);
  logline_add(&l, ":", 1);
  logline_num(&l, c->proxy_port);
  log_write(&l);
}

static void log_verdict(pid_t pid, const struct conn *c)
{
  struct logline l = { .len = 0 };
  logline_str(&l, c->outcome == OUT_DENY ? "tcpserver: deny " : "tcpserver: ok ");
  logline_num(&l, (unsigned long) pid);
  logline_add(&l, " ", 1);
  log_addresses(&l, c);
  log_write(&l);
}

/* "tcpserver: limit PID LOCAL REMOTE WHAT COUNT/MAX" (PID 0: the parent
   refused, no process); for the rate, WHAT is "rate" and the figures
   are the rate per second and the burst. */
static void log_limit(const struct options *opt, pid_t pid, const struct conn *c)
{
  struct logline l = { .len = 0 };
  if (opt->verbosity < 2) return;
  logline_str(&l, "tcpserver: limit ");
  logline_num(&l, (unsigned long) pid);
  logline_add(&l, " ", 1);
  log_addresses(&l, c);
  logline_add(&l, " ", 1);
  logline_str(&l, c->limit_what);
  logline_add(&l, " ", 1);
  if (!strcmp(c->limit_what, "rate")) {
    logline_num(&l, c->limit_count / 1000);
    if (c->limit_count % 1000) {   /* the thousandths, without trailing 0s */
      char frac[4] = { '.', (char) ('0' + c->limit_count % 1000 / 100),
                       (char) ('0' + c->limit_count % 100 / 10),
                       (char) ('0' + c->limit_count % 10) };
      logline_add(&l, frac, frac[3] != '0' ? 4 : frac[2] != '0' ? 3 : 2);
    }
  } else {
    logline_num(&l, c->limit_count);
  }
  logline_add(&l, "/", 1);
  logline_num(&l, c->limit_max);
  log_write(&l);
}

/* The refused client gets the message and CRLF, if the socket takes them
   at once (a new connection's buffer always does: the message is cut to
   fit), never waiting on it; what it sent is read away, so that the
   close does not reset the connection before the message arrives. */
#define REFUSAL_MSG_MAX 1000
static void tell_refused(const struct conn *c)
{
  char buf[REFUSAL_MSG_MAX + 2];
  size_t n = c->limit_msg ? c->limit_msglen : 0;
  if (!c->limit_msg) return;   /* nothing to tell: the close says it all */
  if (n > REFUSAL_MSG_MAX) n = REFUSAL_MSG_MAX;
  memcpy(buf, c->limit_msg, n);
  buf[n++] = '\r';
  buf[n++] = '\n';
  send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(c->fd, SHUT_WR);
  recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
}

/* A refusal for a limit: logged, told, no program. */
static void refuse(const struct options *opt, const struct conn *c, pid_t pid)
{
  log_limit(opt, pid, c);
  tell_refused(c);
}

static void socket_options(const struct options *opt, int fd, const struct conn *c)
{
  int one = 1;
  if (opt->killopts && c->remote.family == AF_INET)
    setsockopt(fd, IPPROTO_IP, IP_OPTIONS, NULL, 0);
  if (opt->nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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
  if (srv->opt.verbosity >= 2) {
    log_pid(pid, c);
    if (c->proxied) log_proxy(pid, c);
  }
  socket_options(&srv->opt, c->fd, c);
  if (srv->opt.bannerlen && write_all(c->fd, srv->opt.banner, srv->opt.bannerlen) < 0) {
    drop(&srv->opt, "unable to print banner", "", errno);
    _exit(111);
  }
  if (!srv->fast_path) prepare(srv, c);
  if (c->outcome == OUT_LIMIT) {
    refuse(&srv->opt, c, pid);
    _exit(100);
  }
  if (c->outcome == OUT_DROP) {
    drop(&srv->opt, c->drop_what, c->drop_arg, c->drop_err);
    _exit(111);
  }
  if (srv->opt.verbosity >= 2) log_verdict(pid, c);
  if (c->outcome == OUT_DENY) _exit(100);
  if (socket_to_stdio(c->fd) < 0) {
    drop(&srv->opt, "unable to set up descriptors", "", errno);
    _exit(111);
  }
  restore_for_program(srv);
  pathexec_run(srv->opt.prog[0], srv->opt.prog, c->envp);
  drop(&srv->opt, "unable to run ", srv->opt.prog[0], errno);
  _exit(111);
}

/* vfork: the parent waits until the child has exec'd or exited, so the
   child may use the connection and the environment as they are.  With
   -G a fork instead: a vfork child blocked in a log write would hold the
   parent, and with it the drain, for as long as the logger reads
   nothing (a signal does not end the wait of a vfork). */
static pid_t spawn_fast(struct server *srv, struct conn *c)
{
  pid_t pid = srv->opt.drain_ms ? fork() : vfork();
  if (pid == 0) run_child(srv, c);
  return pid;
}

static pid_t spawn_slow(struct server *srv, struct conn *c)
{
  pid_t pid = fork();
  if (pid == 0) run_child(srv, c);
  return pid;
}

/* A refusal decided by the parent: no process. */
static void refuse_here(const struct options *opt, struct conn *c)
{
  if (opt->verbosity >= 2 && local_address(c) == 0) c->localhost = opt->localname;
  refuse(opt, c, 0);
}

/* From the accepted connection to its child: the limits the parent
   decides, the rule (fast path: all of it), the child. */
static int look_again_later(struct server *srv, const struct conn *c);

/* Returns 1 when it kept the connection for a second look, else the
   caller closes it. */
static int admit(struct server *srv, struct conn *c)
{
  if (over_client_limit(srv, c)) {
    if (look_again_later(srv, c)) return 1;
    refuse_here(&srv->opt, c);
    return 0;
  }
  if (srv->fast_path) prepare(srv, c);
  else over_rate(srv, c);
  if (c->outcome == OUT_LIMIT) {
    if (strcmp(c->limit_what, "rate") && look_again_later(srv, c)) return 1;
    refuse_here(&srv->opt, c);
    return 0;
  }
  if (!srv->fast_path && c->nkeys) reap_ready(srv);   /* the child's copy */
  print_status(&srv->opt, live_children(srv) + 1);
  pid_t pid = srv->fast_path ? spawn_fast(srv, c) : spawn_slow(srv, c);
  if (pid < 0) {
    if (srv->opt.verbosity)
      msg_warn("dropping connection, unable to fork: ", errtext(errno));
    print_status(&srv->opt, live_children(srv));
  } else {
    /* Again: a rule may have made its network's length counted since. */
    c->nkeys = clientcount_keys(&srv->clients, &c->remote, c->keys);
    child_add(srv, pid, &c->remote, c->keys, c->nkeys);
  }
  return 0;
}

/* ---- PROXY headers (rules' PROXYPROTOCOL) ---- */

/* "dropping connection, unable to read PROXY header from IP: WHY" */
static void pending_failed(const struct options *opt, int fd,
                           const struct ip_addr *peer, const char *why)
{
  if (opt->verbosity) {
    char ip[IP_FMT_SIZE];
    ip_format(peer, ip);
    msg_warn("dropping connection, unable to read PROXY header from ", ip,
             ": ", why);
  }
  close(fd);   /* also takes it out of epfd */
}

static void pending_drop(struct server *srv, size_t i, const char *why)
{
  const struct proxywait_slot *p = proxywait_get(&srv->pending, i);
  int fd = p->fd;
  struct ip_addr peer = p->peer;
  proxywait_remove(&srv->pending, i);
  pending_failed(&srv->opt, fd, &peer, why);
}

/* A connection from a trusted proxy: its header is read as it comes. */
static void pending_add(struct server *srv, int fd, const struct conn *c,
                        unsigned accept)
{
  if (proxywait_full(&srv->pending))
    pending_drop(srv, proxywait_oldest(&srv->pending), "too many waiting");
  size_t i = proxywait_add(&srv->pending, fd, &c->remote, c->remoteport, accept,
                           clock_ms() + (long long) srv->opt.proxy_ms);
  if (i == PROXYWAIT_NONE) {
    pending_failed(&srv->opt, fd, &c->remote, errtext(errno));
    return;
  }
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
                            .data.u64 = PENDING_TAG | i };
  if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) pending_drop(srv, i, errtext(errno));
}

static int pending_wait_ms(const struct server *srv, int ms)
{
  const struct proxywait_slot *p =
      proxywait_get(&srv->pending, proxywait_oldest(&srv->pending));
  long long left = p->deadline - clock_ms();
  if (left < 0) left = 0;
  return ms < 0 || left < ms ? (int) left : ms;
}

static void pending_expire(struct server *srv)
{
  long long now = clock_ms();
  size_t i;
  while ((i = proxywait_oldest(&srv->pending)) != PROXYWAIT_NONE &&
         proxywait_get(&srv->pending, i)->deadline <= now)
    pending_drop(srv, i, "timed out");
}

static void admit_proxied(struct server *srv, int fd, const struct ip_addr *peer,
                          unsigned peerport, const struct proxy_header *h);

static void pending_readable(struct server *srv, size_t i)
{
  const struct proxywait_slot *p = proxywait_get(&srv->pending, i);
  if (!p) return;
  int fd = p->fd;
  struct ip_addr peer = p->peer;
  unsigned peerport = p->peerport;
  struct proxy_header h;
  const char *why;
  int r = proxywait_read(&srv->pending, i, &h, &why);
  if (r < 0) {
    pending_failed(&srv->opt, fd, &peer, why);
  } else if (r == 1) {
    epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);
    admit_proxied(srv, fd, &peer, peerport, &h);
  }
}

/* After the header the connection is the client's: its addresses, its
   rule (the proxy's PROXYPROTOCOL is not applied again), its limits. */
static void admit_proxied(struct server *srv, int fd, const struct ip_addr *peer,
                          unsigned peerport, const struct proxy_header *h)
{
  struct conn c = { .fd = fd, .proxied = 1, .proxy = h };
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  c.proxy_ip = *peer;
  c.proxy_port = peerport;
  if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0)
    ip_from_sockaddr((struct sockaddr *) &ss, &c.proxy_local, &c.proxy_localport);
  if (h->has_addresses) {
    c.remote = h->src;
    c.remoteport = h->srcport;
    c.local = h->dst;
    c.localport = h->dstport;
  } else {   /* LOCAL, UNKNOWN: the connection's own endpoints */
    c.remote = *peer;
    c.remoteport = peerport;
    c.local = c.proxy_local;
    c.localport = c.proxy_localport;
  }
  c.local_known = 1;
  c.nkeys = clientcount_keys(&srv->clients, &c.remote, c.keys);
  address_rule(srv, &c);
  if (!admit(srv, &c)) close(fd);
}

/* A new connection (second: its second look after a limit). */
static void serve_connection(struct server *srv, int fd,
                             const struct sockaddr_storage *peer, int second)
{
  struct conn c = { .fd = fd, .second_look = second };
  ip_from_sockaddr((const struct sockaddr *) peer, &c.remote, &c.remoteport);
  c.local_known = !ip_is_any(&srv->bound_ip);
  if (c.local_known) {
    c.local = srv->bound_ip;
    c.localport = srv->bound_port;
  }
  if (srv->opt.rules) {
    address_rule(srv, &c);
    if (c.rule_found && c.rule.proxy) {
      if (c.rule.proxy > 0) {
        pending_add(srv, fd, &c, (unsigned) c.rule.proxy);
        return;
      }
      drop(&srv->opt, "bad PROXYPROTOCOL in ", srv->opt.rules, 0);
      close(fd);
      return;
    }
  }
  c.nkeys = clientcount_keys(&srv->clients, &c.remote, c.keys);
  if (!admit(srv, &c)) close(fd);
}

static void handle(struct server *srv, int fd,
                   const struct sockaddr_storage *peer)
{
  serve_connection(srv, fd, peer, 0);
}

/* ---- second looks ---- */

static struct second_look *look_at(struct server *srv, size_t k)
{
  return &srv->looks[(srv->looks_first + k) % SECOND_LOOK_MAX];
}

static void look_now(struct server *srv)
{
  struct second_look l = *look_at(srv, 0);
  srv->looks_first = (srv->looks_first + 1) % SECOND_LOOK_MAX;
  srv->nlooks--;
  serve_connection(srv, l.fd, &l.peer, 1);
}

/* 1 if the connection waits for its second look (its first only, not
   through a proxy, and while there is room: else the oldest waiting
   one has its look at once). */
static int look_again_later(struct server *srv, const struct conn *c)
{
  if (c->second_look || c->proxied || !srv->looks) return 0;
  if (srv->nlooks == SECOND_LOOK_MAX) look_now(srv);
  struct second_look *l = look_at(srv, srv->nlooks);
  l->fd = c->fd;
  l->when = clock_ms() + SECOND_LOOK_MS;
  ip_to_sockaddr(&c->remote, c->remoteport, &l->peer);
  srv->nlooks++;
  return 1;
}

static int looks_wait_ms(const struct server *srv, int ms)
{
  long long left = srv->looks[srv->looks_first].when - clock_ms();
  if (left < 0) left = 0;
  return ms < 0 || left < ms ? (int) left : ms;
}

static void looks_due(struct server *srv)
{
  long long now = clock_ms();
  while (srv->nlooks && look_at(srv, 0)->when <= now) look_now(srv);
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
    if (live_children(srv) >= srv->opt.limit) {
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
  srv.opt = option_defaults;
  msg_setprog("tcpserver");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tcpserver", USAGE));
  parse_options(&srv.opt, argc, argv);
  srv.opt.prog = argv + optind + 2;
  host_to_ip(&srv.opt, argv[optind], &srv.bound_ip);
  srv.bound_port = resolve_port(argv[optind + 1]);
  apply_interface(&srv.opt, &srv.bound_ip);
  /* What a supervisor passed is for tcpserver, not for the programs. */
  int passed = listenfd_systemd();
  if (passed < 0) msg_fatal_sys("unable to use LISTEN_FDS");
  if (passed > 0)
    for (const char *const *name = listenfd_env_names; *name; name++) unsetenv(*name);
  const char *notify_socket = getenv("NOTIFY_SOCKET");
  unsetenv("NOTIFY_SOCKET");   /* the string itself stays valid */
  srv.listen_fd = -1;
  if (passed > 0) srv.listen_fd = systemd_listener(passed, &srv.bound_ip, &srv.bound_port);
  else if (srv.opt.socket_on_0) srv.listen_fd = socket_from_fd0(&srv.bound_ip, &srv.bound_port);
  tables_init(&srv);
  srv.fast_path = !srv.opt.remotehost && !srv.opt.remoteinfo && srv.opt.localname &&
                  srv.opt.bannerlen <= FAST_BANNER_MAX;
  envb_init(&srv.env, environ);
  standard_fds_open();
  descriptor_budget(&srv);
  signals_init(&srv);
  if (srv.opt.rules &&
      rules_db_init(&srv.rules, srv.opt.rules,
                    rules_keycap_for(IP_FMT_SIZE, NAMES_MAX, IDENT_INFO_MAX)) < 0)
    msg_fatal_sys("out of memory");
  events_init(&srv);
  if (srv.listen_fd < 0) srv.listen_fd = listen_on(&srv.opt, &srv.bound_ip, &srv.bound_port);
  drop_privileges(&srv.opt);
  if (srv.opt.printport) print_port(srv.bound_port);
  notify_ready(&srv.opt, notify_socket);
  close(0);
  close(1);
  reaper_init(&srv);
  print_status(&srv.opt, 0);
  serve(&srv);
}
