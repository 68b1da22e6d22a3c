/* The connection and environment of tcpclient and tlsclient. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include "client.h"
#include "errtext.h"
#include "logline.h"
#include "msg.h"
#include "num.h"
#include "port.h"
#include "resolve.h"
#include "tcpconnect.h"

void client_defaults(struct client_options *o)
{
  *o = (struct client_options) {
    .verbosity = 1, .delay = 1, .remotehost = 1, .remoteinfo = 1,
    .family = AF_UNSPEC, .infotimeout = 26, .conntimeout = { 2, 58 },
  };
}

/* -T x+y; "-T x" means x+0. */
static void parse_conntimeout(const char *s, unsigned long t[2])
{
  size_t n = scan_ulong(s, &t[0]);
  if (s[n] == '+') n++;
  t[1] = scan_leading(s + n);
}

int client_option(struct client_options *o, int c, const char *arg)
{
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
  case 'l': o->localname = arg; break;
  case 't': o->infotimeout = scan_leading(arg); break;
  case 'T': parse_conntimeout(arg, o->conntimeout); break;
  case 'i':
    if (ip_parse(arg, &o->localip) < 0) return -1;
    o->havelocalip = 1;
    break;
  case 'p':
    /* As the reference: the number modulo 65536, junk ignored. */
    o->localport = (unsigned) (scan_leading(arg) & 0xffff);
    break;
  case 'I':
    o->scope = if_nametoindex(arg);
    if (!o->scope) return -1;
    break;
  default:
    return 1;
  }
  return 0;
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
   0.88: 127.0.0.1 (::1 with -6).  0 when there are none (*why). */
static size_t resolve(const char *host, const struct client_options *o,
                      struct ip_addr *addrs, size_t max,
                      enum client_failure *why)
{
  /* -i decides the family, whatever -4 or -6 said. */
  int family = o->havelocalip ? o->localip.family : o->family;
  size_t n = 1;
  if (!*host || !strcmp(host, "0")) {
    if (family == AF_INET6) ip_parse("::1", &addrs[0]);
    else ip_set_v4(&addrs[0], 127, 0, 0, 1);
  } else {
    if (resolve_host(host, family, addrs, max, &n) < 0) {
      *why = CLIENT_RESOLVE;
      return 0;
    }
    n = keep_family(addrs, n, family);
    if (!n) {
      *why = CLIENT_NOADDR;
      return 0;
    }
  }
  for (size_t i = 0; i < n; i++) scope_link_local(&addrs[i], o->scope);
  return n;
}

/* "PROG: WHAT IP port PORT", the address as in tcpserver's lines (IPv6
   in brackets) with its interface. */
static void address_line(struct logline *l, const char *what,
                         const struct ip_addr *ip, unsigned port)
{
  logline_start(l, msg_prog());
  logline_str(l, ": ");
  logline_str(l, what);
  logline_ip_scope(l, ip);
  logline_str(l, " port ");
  logline_num(l, port);
}

static void report_failure(void *ctx, const struct ip_addr *ip,
                           unsigned port, int err)
{
  const struct client_options *o = ctx;
  struct logline l;
  if (!o->verbosity) return;
  address_line(&l, "unable to connect to ", ip, port);
  logline_str(&l, ": ");
  logline_str(&l, errtext(err));
  logline_write(&l, 2);
}

int client_connect(const struct client_options *o, const char *host,
                   unsigned port, enum client_failure *why)
{
  struct ip_addr addrs[TCPCONNECT_MAX];
  size_t n = resolve(host, o, addrs, TCPCONNECT_MAX, why);
  if (!n) return -1;
  struct tcpconnect c = {
    .local = o->havelocalip ? &o->localip : 0, .localport = o->localport,
    .timeout = { o->conntimeout[0], o->conntimeout[1] },
    .failed = report_failure, .ctx = (void *) o,
  };
  enum tcpconnect_failure tf;
  int fd = tcpconnect_any(addrs, n, port, &c, &tf);
  if (fd < 0) {
    *why = tf == TCPCONNECT_SOCKET ? CLIENT_SOCKET
         : tf == TCPCONNECT_BIND ? CLIENT_BIND : CLIENT_UNREACHED;
    return -1;
  }
  if (!o->delay) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

const char *client_failure_text(enum client_failure why)
{
  switch (why) {
  case CLIENT_RESOLVE: return "temporarily unable to figure out IP address for ";
  case CLIENT_NOADDR: return "no IP address for ";
  case CLIENT_SOCKET: return "unable to create socket";
  case CLIENT_BIND: return "unable to bind socket";
  default: return "unable to connect";
  }
}

static int socket_ends(int fd, struct tcpenv *t)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0) return -1;
  ip_from_sockaddr((struct sockaddr *) &ss, &t->local, &t->localport);
  len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0) return -3;
  ip_from_sockaddr((struct sockaddr *) &ss, &t->remote, &t->remoteport);
  return 0;
}

int client_environment(int fd, const struct client_options *o, struct envb *e)
{
  struct tcpenv t;
  char localhost[NAMES_MAX + 1], remotehost[NAMES_MAX + 1];
  char info[IDENT_INFO_MAX + 1];
  int r = socket_ends(fd, &t);
  if (r < 0) return r;
  t.localhost = o->localname;
  if (!t.localhost && names_reverse(&t.local, localhost)) t.localhost = localhost;
  if (o->verbosity >= 2) {
    struct logline l;
    address_line(&l, "connected to ", &t.remote, t.remoteport);
    logline_write(&l, 2);
  }
  t.remotehost = 0;
  if (o->remotehost && names_reverse(&t.remote, remotehost)) t.remotehost = remotehost;
  t.remoteinfo = 0;
  if (o->remoteinfo
      && ident_lookup(&t.local, t.localport, &t.remote, t.remoteport,
                      o->infotimeout, info))
    t.remoteinfo = info;
  return tcpenv_apply(e, &t) < 0 ? -2 : 0;
}

static int stop_with(struct client_stop *stop, const char *what, const char *arg, int sys)
{
  stop->what = what;
  stop->arg = arg;
  stop->sys = sys;
  return -1;
}

int client_operands(char **argv, const char **host, unsigned *port,
                    char ***prog, struct client_stop *stop)
{
  if (!argv[0] || !argv[1] || !argv[2]) return -1;
  *host = argv[0];
  *prog = argv + 2;
  if (port_parse(argv[1], port) < 0) {
    stop_with(stop, "unable to figure out port number for ", argv[1], 0);
    return -2;
  }
  return 0;
}

int client_open(const struct client_options *o, const char *host, unsigned port,
                char **base, char ***env, struct client_stop *stop)
{
  enum client_failure why;
  int fd = client_connect(o, host, port, &why);
  if (fd < 0) {
    switch (why) {
    case CLIENT_UNREACHED: return stop_with(stop, NULL, "", 0);
    case CLIENT_SOCKET:
    case CLIENT_BIND: return stop_with(stop, client_failure_text(why), "", 1);
    case CLIENT_RESOLVE: return stop_with(stop, client_failure_text(why), host, 1);
    default: return stop_with(stop, client_failure_text(why), host, 0);
    }
  }
  struct envb e;
  envb_init(&e, base);
  int r = client_environment(fd, o, &e);
  if (r == -1) return stop_with(stop, "unable to get local address", "", 1);
  if (r == -3) return stop_with(stop, "unable to get remote address", "", 1);
  *env = r < 0 ? NULL : envb_vec(&e);
  if (!*env) return stop_with(stop, "out of memory", "", 0);
  return fd;
}
