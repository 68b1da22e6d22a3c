/* tcpclient: connect to a TCP server and run a program with the
   connection on fds 6 (read) and 7 (write), and the TCP environment. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
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
#include "tcpconnect.h"
#include "tcpenv.h"

#define USAGE "tcpclient [ -hHrRdDqQv ] [ -i localip ] [ -p localport ]" \
  " [ -T timeoutconn ] [ -l localname ] [ -t timeoutinfo ] host port program"
/* --help lists every option, the extensions too; a usage error keeps
   0.88's line. */
#define HELP "tcpclient [ -46hHrRdDqQv ] [ -i localip ] [ -p localport ]" \
  " [ -T x+y ] [ -l localname ] [ -t timeout ] [ -I ifname ]" \
  " host port program [ arg ... ]"

struct options {
  int verbosity;            /* 0 -q, 1 -Q, 2 -v */
  int delay;                /* -d; -D sets TCP_NODELAY */
  int remotehost;           /* -h / -H */
  int remoteinfo;           /* -r / -R */
  int family;               /* -4, -6: AF_INET, AF_INET6; else AF_UNSPEC */
  unsigned long infotimeout;        /* -t */
  unsigned long conntimeout[2];     /* -T x+y */
  struct ip_addr localip;   /* -i */
  int havelocalip;
  unsigned localport;       /* -p */
  const char *localname;    /* -l */
  unsigned scope;           /* -I ifname: for link-local addresses */
};

/* -T x+y; "-T x" means x+0. */
static void parse_conntimeout(const char *s, unsigned long t[2])
{
  size_t n = scan_ulong(s, &t[0]);
  if (s[n] == '+') n++;
  t[1] = scan_leading(s + n);
}

static int parse_options(int argc, char **argv, struct options *o)
{
  int c;
  while ((c = opts_next(argc, argv, "46dDvqQhHrRi:p:t:T:l:I:")) != -1) {
    switch (c) {
    case '4': o->family = AF_INET; break;
    case '6': o->family = AF_INET6; break;
    case 'd': o->delay = 1; break;
    case 'D': o->delay = 0; break;
    case 'v': o->verbosity = 2; break;
    case 'q': o->verbosity = 0; break;
    case 'Q': o->verbosity = 1; break;
    case 'h': o->remotehost = 1; break;
    case 'H': o->remotehost = 0; break;
    case 'r': o->remoteinfo = 1; break;
    case 'R': o->remoteinfo = 0; break;
    case 'l': o->localname = optarg; break;
    case 't': o->infotimeout = scan_leading(optarg); break;
    case 'T': parse_conntimeout(optarg, o->conntimeout); break;
    case 'i':
      if (ip_parse(optarg, &o->localip) < 0) msg_usage(USAGE);
      o->havelocalip = 1;
      break;
    case 'p':
      /* As the reference: the number modulo 65536, junk ignored. */
      o->localport = (unsigned) (scan_leading(optarg) & 0xffff);
      break;
    case 'I':
      o->scope = if_nametoindex(optarg);
      if (!o->scope) msg_usage(USAGE);
      break;
    default:
      msg_usage(USAGE);
    }
  }
  return optind;
}

static void scope_link_local(struct ip_addr *ip, unsigned scope)
{
  static const unsigned char fe80[2] = { 0xfe, 0x80 };
  if (ip->family == AF_INET6 && !ip->scope && scope
      && ip->a[0] == fe80[0] && (ip->a[1] & 0xc0) == fe80[1])
    ip->scope = scope;
}

/* Only the addresses of the family asked for (-4, -6, -i). */
static size_t keep_family(struct ip_addr *addrs, size_t n, int family)
{
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    if (family == AF_UNSPEC || addrs[i].family == family)
      addrs[kept++] = addrs[i];
  return kept;
}

/* The server's addresses.  Host "0" or "" is the local machine, as in
   0.88: 127.0.0.1 (::1 with -6). */
static size_t resolve(const char *host, const struct options *o,
                      struct ip_addr *addrs, size_t max)
{
  size_t n = 1;
  if (!*host || !strcmp(host, "0")) {
    if (o->family == AF_INET6) ip_parse("::1", &addrs[0]);
    else ip_set_v4(&addrs[0], 127, 0, 0, 1);
  } else {
    if (resolve_host(host, o->family, addrs, max, &n) < 0)
      msg_fatal_sys("temporarily unable to figure out IP address for ", host);
    n = keep_family(addrs, n, o->family);
    if (!n) msg_fatal(111, "no IP address for ", host);
  }
  for (size_t i = 0; i < n; i++) scope_link_local(&addrs[i], o->scope);
  return n;
}

/* "tcpclient: WHAT IP port PORT", the address as in tcpserver's lines
   (IPv6 in brackets) with its interface. */
static void address_line(struct logline *l, const char *what,
                         const struct ip_addr *ip, unsigned port)
{
  logline_start(l, "tcpclient: ");
  logline_str(l, what);
  logline_ip_scope(l, ip);
  logline_str(l, " port ");
  logline_num(l, port);
}

static void report_failure(void *ctx, const struct ip_addr *ip,
                           unsigned port, int err)
{
  const struct options *o = ctx;
  struct logline l;
  if (!o->verbosity) return;
  address_line(&l, "unable to connect to ", ip, port);
  logline_str(&l, ": ");
  logline_str(&l, errtext(err));
  logline_write(&l, 2);
}

static void report_connected(const struct ip_addr *ip, unsigned port)
{
  struct logline l;
  address_line(&l, "connected to ", ip, port);
  logline_write(&l, 2);
}

static void socket_ends(int fd, struct tcpenv *t)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
    msg_fatal_sys("unable to get local address");
  ip_from_sockaddr((struct sockaddr *) &ss, &t->local, &t->localport);
  len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0)
    msg_fatal_sys("unable to get remote address");
  ip_from_sockaddr((struct sockaddr *) &ss, &t->remote, &t->remoteport);
}

/* What one connection learns: its ends, names and ident info. */
struct found {
  struct tcpenv t;
  char localhost[NAMES_MAX + 1], remotehost[NAMES_MAX + 1];
  char info[IDENT_INFO_MAX + 1];
};

/* The connection's environment, gathered in the reference's order:
   local name, (-v line), remote name, remote info. */
static void gather(int fd, const struct options *o, struct found *f)
{
  struct tcpenv *t = &f->t;
  socket_ends(fd, t);
  t->localhost = o->localname;
  if (!t->localhost && names_reverse(&t->local, f->localhost))
    t->localhost = f->localhost;
  if (o->verbosity >= 2) report_connected(&t->remote, t->remoteport);
  t->remotehost = 0;
  if (o->remotehost && names_reverse(&t->remote, f->remotehost))
    t->remotehost = f->remotehost;
  t->remoteinfo = 0;
  if (o->remoteinfo
      && ident_lookup(&t->local, t->localport, &t->remote, t->remoteport,
                      o->infotimeout,
                      f->info))
    t->remoteinfo = f->info;
}

static void setup_descriptors(int fd)
{
  /* fd_move: the socket may be 6 already, with close-on-exec. */
  if (fd_move(6, fd) < 0)
    msg_fatal_sys("unable to set up descriptor 6");
  if (dup2(6, 7) < 0)
    msg_fatal_sys("unable to set up descriptor 7");
}

int main(int argc, char **argv)
{
  extern char **environ;
  struct options o = {
    .verbosity = 1, .delay = 1, .remotehost = 1, .remoteinfo = 1,
    .family = AF_UNSPEC, .infotimeout = 26, .conntimeout = { 2, 58 },
  };
  msg_setprog("tcpclient");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tcpclient", HELP));
  close(6);
  close(7);
  signal(SIGPIPE, SIG_IGN);
  argv += parse_options(argc, argv, &o);
  if (!o.verbosity) msg_quiet(1);
  if (o.havelocalip) o.family = o.localip.family;

  const char *host = argv[0];
  if (!host) msg_usage(USAGE);
  const char *service = argv[1];
  if (!service) msg_usage(USAGE);
  char **prog = argv + 2;
  if (!*prog) msg_usage(USAGE);
  unsigned port;
  if (port_parse(service, &port) < 0)
    msg_fatal(111, "unable to figure out port number for ", service);

  struct ip_addr addrs[TCPCONNECT_MAX];
  size_t n = resolve(host, &o, addrs, TCPCONNECT_MAX);
  struct tcpconnect c = {
    .local = o.havelocalip ? &o.localip : 0, .localport = o.localport,
    .timeout = { o.conntimeout[0], o.conntimeout[1] },
    .failed = report_failure, .ctx = &o,
  };
  enum tcpconnect_failure why;
  int fd = tcpconnect_any(addrs, n, port, &c, &why);
  if (fd < 0 && why == TCPCONNECT_SOCKET)
    msg_fatal_sys("unable to create socket");
  if (fd < 0 && why == TCPCONNECT_BIND) msg_fatal_sys("unable to bind socket");
  if (fd < 0) _exit(111);
  if (!o.delay) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  struct found f;
  gather(fd, &o, &f);
  struct envb e;
  envb_init(&e, environ);
  char **env = tcpenv_apply(&e, &f.t) < 0 ? 0 : envb_vec(&e);
  if (!env) msg_fatal(111, "out of memory");
  setup_descriptors(fd);
  signal(SIGPIPE, SIG_DFL);
  pathexec_run(prog[0], prog, env);
  msg_fatal_sys("unable to run ", prog[0]);
}
