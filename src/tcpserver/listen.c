/* The listening socket: bound here, passed by systemd (LISTEN_FDS) or on
   descriptor 0 (-0); then readiness for the supervisor and the
   privileges dropped.  Everything here happens before serving, so every
   failure is fatal. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "errtext.h"
#include "fd.h"
#include "listenfd.h"
#include "msg.h"
#include "notify.h"
#include "num.h"
#include "port.h"
#include "resolve.h"
#include "server.h"

/* The any address, or the host looked up (without -4/-6 an IPv4
   address is preferred, as 0.88 served IPv4 only): tcpenv_bind_plan. */
static void host_to_ip(const struct options *opt, const char *host, struct ip_addr *ip)
{
  if (opt->bind.any == AF_INET6) {
    ip_parse("::", ip);
    return;
  }
  if (opt->bind.any == AF_INET) {
    ip_set_v4(ip, 0, 0, 0, 0);
    return;
  }
  int r = resolve_host_one(host, opt->bind.family, ip);
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
    int v6only = opt->bind.v6only;
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

/* A passed socket that is not served is named at start, then closed:
   systemd holds it open all the same, and its clients would wait in its
   backlog for nobody.  ip NULL: not a listening TCP socket (errno). */
static void ignore_passed(int fd, const struct ip_addr *ip, unsigned port)
{
  char num[FMT_ULONG];
  fmt_ulong(num, (unsigned long) fd);
  if (ip) {
    char addr[IP_FMT_SIZE], portnum[FMT_ULONG];
    addr[ip_format(ip, addr)] = 0;
    fmt_ulong(portnum, port);
    msg_warn("not serving the socket passed on descriptor ", num, ", ", addr,
             " port ", portnum, ": it is not the host and port asked for");
  } else {
    msg_warn("not serving descriptor ", num, " passed by systemd: ", errtext(errno));
  }
  close(fd);
}

/* systemd's sockets (LISTEN_FDS): the first that host and port match is
   served, the others are closed with a warning. */
static int systemd_listener(int n, struct ip_addr *ip, unsigned *port)
{
  int chosen = -1;
  for (int fd = LISTENFD_FIRST; fd < LISTENFD_FIRST + n; fd++) {
    struct ip_addr got;
    unsigned gotport;
    if (listenfd_check(fd) < 0 || adopt_listener(fd, &got, &gotport) < 0) {
      ignore_passed(fd, NULL, 0);
    } else if (chosen < 0 && wanted_address(ip, *port, &got, gotport)) {
      chosen = fd;
      *ip = got;
      *port = gotport;
    } else {
      ignore_passed(fd, &got, gotport);
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

/* NOTIFY_SOCKET as found; taken out of the environment at once. */
static const char *notify_socket;

/* The address and port asked for, and the listening socket when a
   supervisor passed it; else it is bound by listen_ready.  What a
   supervisor passed is for tcpserver, not for the programs: it leaves
   the environment before the programs' is made. */
void listen_setup(struct server *srv, const char *host, const char *port)
{
  tcpenv_bind_plan(host, srv->opt.family, getenv(TCPENV_IPV6_VAR), &srv->opt.bind);
  host_to_ip(&srv->opt, host, &srv->bound_ip);
  srv->bound_port = resolve_port(port);
  apply_interface(&srv->opt, &srv->bound_ip);
  int passed = listenfd_systemd();
  if (passed < 0) msg_fatal_sys("unable to use LISTEN_FDS");
  if (passed > 0)
    for (const char *const *name = listenfd_env_names; *name; name++) unsetenv(*name);
  notify_socket = getenv("NOTIFY_SOCKET");
  unsetenv("NOTIFY_SOCKET");   /* the string itself stays valid */
  srv->listen_fd = -1;
  if (passed > 0) srv->listen_fd = systemd_listener(passed, &srv->bound_ip, &srv->bound_port);
  else if (srv->opt.socket_on_0) srv->listen_fd = socket_from_fd0(&srv->bound_ip, &srv->bound_port);
  standard_fds_open();
}

/* Tell the supervisor that the socket is listening: -N's descriptor,
   systemd's NOTIFY_SOCKET.  A supervisor that cannot be told is worth a
   warning, not the service. */
static void notify_ready(const struct options *opt)
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

/* 0.88's order: listen, drop privileges, print the port (-1), then
   readiness (with -G the front tells the supervisor), and descriptors 0
   and 1 closed. */
void listen_ready(struct server *srv)
{
  if (srv->listen_fd < 0) srv->listen_fd = listen_on(&srv->opt, &srv->bound_ip, &srv->bound_port);
  drop_privileges(&srv->opt);
  if (srv->opt.printport) print_port(srv->bound_port);
  if (srv->front.fd >= 0) front_tell(&srv->front, FRONT_READY);
  else notify_ready(&srv->opt);
  close(0);
  close(1);
}

/* -G: this process stays the front and its child goes on as the server
   (front.h).  The front holds no listening socket; it tells the
   supervisor once the server listens (systemd takes READY=1 from the
   main process only), drops its privileges as the server does, and
   never returns. */
void listen_front(struct server *srv)
{
  int r = front_fork(&srv->front);
  if (r < 0) msg_fatal_sys("unable to start the server process");
  if (r == 0) {
    if (srv->opt.notify_fd >= 0) close(srv->opt.notify_fd);
    return;
  }
  if (srv->listen_fd >= 0) close(srv->listen_fd);
  front_wait_ready(&srv->front);
  notify_ready(&srv->opt);
  drop_privileges(&srv->opt);
  close(0);
  close(1);
  front_serve(&srv->front);
}
