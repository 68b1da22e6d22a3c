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
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "tcpenv.h"

#define USAGE "tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] " \
  "[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] " \
  "[ -t timeout ] host port program"
#define OPTIONS "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO46I:"

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

/* ---- the children ---- */

struct child { pid_t pid; struct ip_addr ip; };
static struct child *children;   /* the live ones, packed */
static size_t nchildren, children_cap;

static void children_init(void)
{
  children_cap = opt.limit < CHILDREN_MAX ? opt.limit : CHILDREN_MAX;
  if (!children_cap) return;
  children = calloc(children_cap, sizeof *children);
  if (!children) {
    errno = ENOMEM;
    msg_fatal_sys("out of memory");
  }
}

static void child_add(pid_t pid, const struct ip_addr *ip)
{
  if (nchildren >= children_cap) return;
  children[nchildren].pid = pid;
  children[nchildren].ip = *ip;
  nchildren++;
}

/* 1 if pid was one of ours. */
static int child_remove(pid_t pid)
{
  for (size_t i = 0; i < nchildren; i++)
    if (children[i].pid == pid) {
      children[i] = children[--nchildren];
      return 1;
    }
  return 0;
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

static void reap_children(void)
{
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    child_remove(pid);
    print_end(pid, status);
    print_status(nchildren);
  }
}

/* ---- signals ---- */

static volatile sig_atomic_t got_child, got_term;
static sigset_t startup_mask;    /* restored in the children */
static sigset_t waiting_mask;    /* inside ppoll: SIGCHLD, SIGTERM open */

static void on_child(int sig) { (void) sig; got_child = 1; }
static void on_term(int sig) { (void) sig; got_term = 1; }
static void on_term_in_child(int sig) { (void) sig; _exit(0); }

static void catch_signal(int sig, void (*handler)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static void signals_init(void)
{
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGCHLD);
  sigaddset(&blocked, SIGTERM);
  sigprocmask(SIG_BLOCK, &blocked, &startup_mask);
  waiting_mask = startup_mask;
  sigdelset(&waiting_mask, SIGCHLD);
  sigdelset(&waiting_mask, SIGTERM);
  catch_signal(SIGCHLD, on_child);
  catch_signal(SIGTERM, on_term);
  catch_signal(SIGPIPE, SIG_IGN);
}

/* Wait for the listening socket (fd >= 0) or a signal, at most ms
   (-1: no limit); act on the signals that came. */
static void wait_for(int fd, int ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  ppoll(&p, fd >= 0 ? 1 : 0, ms >= 0 ? &ts : NULL, &waiting_mask);
  if (got_term) _exit(0);
  if (got_child) {
    got_child = 0;
    reap_children();
  }
}

/* ---- one connection ---- */

enum outcome { OUT_OK, OUT_DENY, OUT_DROP };

static struct conn {
  int fd;
  struct ip_addr local, remote;
  unsigned localport, remoteport;
  int local_known;
  int prepared;
  const char *localhost, *remotehost, *remoteinfo;
  char remotehost_buf[NAMES_MAX + 1], localhost_buf[NAMES_MAX + 1];
  char info_buf[IDENT_INFO_MAX + 1];
  enum outcome outcome;
  const char *drop_what, *drop_arg;
  int drop_err;
  char **envp;
} conn;

static struct envb env;
static struct ip_addr bound_ip;
static unsigned bound_port;
static int fast_path;

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

/* The rules file stays open and mapped while it is the same file: one
   stat per connection notices a new one (tcprules renames over it) or a
   change in place, so new rules still apply to the next connection, as
   in 0.88, without mapping a large cdb again each time.  A forked child
   inherits the mapping. */
static struct {
  struct rules_file rf;
  struct stat st;
} rules_cache = { .rf = { .fd = -1 } };

static int same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
         a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
         a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The current rules cdb, or NULL with errno. */
static struct cdb *rules_current(void)
{
  struct stat st;
  int err;
  if (stat(opt.rules, &st) == 0 && rules_cache.rf.fd >= 0 &&
      same_file(&st, &rules_cache.st))
    return &rules_cache.rf.cdb;
  rules_close(&rules_cache.rf);
  if (rules_open(&rules_cache.rf, opt.rules) < 0) return NULL;
  if (fstat(rules_cache.rf.fd, &rules_cache.st) < 0) {
    err = errno;
    rules_close(&rules_cache.rf);
    errno = err;
    return NULL;
  }
  return &rules_cache.rf.cdb;
}

/* A rules file truncated in place under the mapping (not tcprules' way,
   but possible) raises SIGBUS while it is read: that must cost the
   connection, not the server.  The guard covers the lookup and the use of
   the record's data (a fault in the middle leaves at worst a few unused
   bytes in env's arena, reset for the next connection). */
static sigjmp_buf rules_fault;
static volatile sig_atomic_t rules_reading;

static void on_bus(int sig)
{
  if (rules_reading) siglongjmp(rules_fault, 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void rules_guard_init(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_bus;
  sa.sa_flags = SA_NODEFER;   /* so that sigsetjmp need not save the mask */
  sigaction(SIGBUS, &sa, NULL);
}

/* The rule's verdict and variables; -1 with errno on a read error. */
static int use_rule(struct cdb *cdb, const struct rules_query *q,
                    struct conn *c)
{
  struct rules_match m;
  int r = rules_lookup(cdb, q, &m);
  if (r <= 0) return r;
  if (rules_data_denies(m.data, m.datalen)) {
    c->outcome = OUT_DENY;
    return 1;
  }
  size_t pos = 0, len;
  const char *item;
  while (rules_data_next(m.data, m.datalen, &pos, &item, &len))
    if (memchr(item, '=', len)) envb_put(&env, item, len);
  return 1;
}

static int guarded_use_rule(struct cdb *cdb, const struct rules_query *q,
                            struct conn *c)
{
  int r;
  if (sigsetjmp(rules_fault, 0)) {   /* 0: no system call */
    rules_reading = 0;
    rules_close(&rules_cache.rf);
    errno = EIO;
    return -1;
  }
  rules_reading = 1;
  r = use_rule(cdb, q, c);
  rules_reading = 0;
  return r;
}

/* Rules (-x): sets c->outcome, adds the rule's variables to env. */
static void apply_rules(struct conn *c, const char *ipstr)
{
  struct rules_query q = { &c->remote, ipstr, c->remotehost, c->remoteinfo };
  struct cdb *cdb;
  int r = -1;
  c->outcome = OUT_OK;
  if (!opt.rules) return;
  cdb = rules_current();
  if (cdb) r = guarded_use_rule(cdb, &q, c);
  if (r < 0 && (errno != ENOENT || !opt.rules_optional))
    set_drop(c, "unable to read ", opt.rules, errno);
}

/* Everything between the banner and the log line: local address, names,
   ident, rules, the environment.  In the parent (fast path) or in a
   forked child (slow path). */
static void prepare(struct conn *c)
{
  char ipstr[IP_FMT_SIZE];
  c->prepared = 1;
  if (local_address(c) < 0) {
    set_drop(c, "unable to get local address", "", errno);
    return;
  }
  if (fast_path) {
    c->localhost = opt.localname;
    c->remotehost = c->remoteinfo = NULL;
  } else {
    look_up_names(c);
  }
  ip_format(&c->remote, ipstr);
  envb_reset(&env);
  struct tcpenv t = { c->local, c->localport, c->remote, c->remoteport,
                      c->localhost, c->remotehost, c->remoteinfo };
  tcpenv_apply(&env, &t);
  apply_rules(c, ipstr);
  if (c->outcome != OUT_OK) return;
  c->envp = envb_vec(&env);
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

static void signals_for_program(void)
{
  catch_signal(SIGCHLD, SIG_DFL);
  catch_signal(SIGTERM, SIG_DFL);
  catch_signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &startup_mask, NULL);
}

/* The child's part, 0.88's order: pid line, banner, (slow path: the
   lookups and rules), verdict line, then exit 100 on deny or exec.
   Runs after vfork (fast path: only the stack and system calls, no
   allocation) or after fork. */
static _Noreturn void run_child(struct conn *c)
{
  pid_t pid = getpid();
  if (!c->prepared) {
    catch_signal(SIGTERM, on_term_in_child);
    catch_signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, &startup_mask, NULL);
  }
  if (opt.verbosity >= 2) log_pid(pid, c);
  socket_options(c->fd, c);
  if (opt.bannerlen && write_all(c->fd, opt.banner, opt.bannerlen) < 0) {
    drop("unable to print banner", "", errno);
    _exit(111);
  }
  if (!c->prepared) prepare(c);
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
  signals_for_program();
  pathexec_run(opt.prog[0], opt.prog, c->envp);
  drop("unable to run ", opt.prog[0], errno);
  _exit(111);
}

/* vfork: the parent waits until the child has exec'd or exited, so the
   child may use conn and env as they are. */
static pid_t spawn_fast(struct conn *c)
{
  pid_t pid = vfork();
  if (pid == 0) run_child(c);
  return pid;
}

static pid_t spawn_slow(struct conn *c)
{
  pid_t pid = fork();
  if (pid == 0) run_child(c);
  return pid;
}

static void handle(int fd, const struct sockaddr_storage *peer)
{
  struct conn *c = &conn;
  c->fd = fd;
  ip_from_sockaddr((const struct sockaddr *) peer, &c->remote, &c->remoteport);
  c->local_known = !ip_is_any(&bound_ip);
  if (c->local_known) {
    c->local = bound_ip;
    c->localport = bound_port;
  }
  c->prepared = 0;
  if (fast_path) prepare(c);
  print_status(nchildren + 1);
  pid_t pid = fast_path ? spawn_fast(c) : spawn_slow(c);
  if (pid < 0) {
    if (opt.verbosity)
      msg_warn("dropping connection, unable to fork: ", errtext(errno));
    print_status(nchildren);
  } else {
    child_add(pid, &c->remote);
  }
  close(fd);
}

/* Accept errors that mean "out of resources": wait a little instead of
   spinning on a socket that stays readable. */
static int resource_shortage(int err)
{
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static _Noreturn void serve(int s)
{
  int burst = 0;
  for (;;) {
    if (nchildren >= opt.limit) {
      wait_for(-1, -1);
      continue;
    }
    if (++burst > ACCEPT_BURST) {
      burst = 0;
      wait_for(-1, 0);
      continue;
    }
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = accept4(s, (struct sockaddr *) &peer, &len, SOCK_CLOEXEC);
    if (fd >= 0) {
      handle(fd, &peer);
      continue;
    }
    burst = 0;
    if (errno == EAGAIN) wait_for(s, -1);
    else if (resource_shortage(errno)) wait_for(-1, 100);
  }
}

int main(int argc, char **argv)
{
  msg_setprog("tcpserver");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tcpserver", USAGE));
  parse_options(argc, argv);
  opt.prog = argv + optind + 2;
  host_to_ip(argv[optind], &bound_ip);
  bound_port = resolve_port(argv[optind + 1]);
  apply_interface(&bound_ip);
  children_init();
  fast_path = !opt.remotehost && !opt.remoteinfo && opt.localname &&
              opt.bannerlen <= FAST_BANNER_MAX;
  envb_init(&env, environ);
  signals_init();
  if (opt.rules) rules_guard_init();
  int s = listen_on(&bound_ip, &bound_port);
  drop_privileges();
  if (opt.printport) print_port(bound_port);
  close(0);
  close(1);
  print_status(nchildren);
  serve(s);
}
