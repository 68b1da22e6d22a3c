/* tcpconnect: the two-pass connect schedule, over 127.0.0.1 and ::1 with
   the same port number.  A listener whose backlog is full stands for an
   address that drops SYNs. */
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include "tap.h"
#include "clock.h"
#include "errtext.h"
#include "sock.h"
#include "tcpconnect.h"

static struct ip_addr v4, v6;

struct failure { int family; int err; };
static struct failure failures[8];
static int nfailures;

static void failed(void *ctx, const struct ip_addr *ip, unsigned port, int err)
{
  (void) ctx;
  (void) port;
  if (nfailures < 8) failures[nfailures++] = (struct failure) { ip->family, err };
}

static int listener(const struct ip_addr *ip, unsigned port)
{
  int fd = socket(ip->family, SOCK_STREAM, 0);
  int one = 1;
  if (ip->family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (sock_bind(fd, ip, port) < 0 || listen(fd, 0) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static unsigned local_port(int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  struct ip_addr ip;
  unsigned port = 0;
  if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0)
    ip_from_sockaddr((struct sockaddr *) &ss, &ip, &port);
  return port;
}

/* Connect until a SYN goes unanswered: the backlog is full. */
static int fill(const struct ip_addr *ip, unsigned port, int *held, int max)
{
  for (int n = 0; n < max; n++) {
    held[n] = sock_tcp(ip->family);
    if (sock_connect(held[n], ip, port, 300) < 0 && errno == ETIMEDOUT)
      return n + 1;
  }
  return -1;
}

/* Listeners on 127.0.0.1:P and ::1:P. */
static unsigned pair(int *l4, int *l6)
{
  for (int tries = 0; tries < 20; tries++) {
    *l4 = listener(&v4, 0);
    unsigned port = local_port(*l4);
    *l6 = listener(&v6, port);
    if (*l6 >= 0) return port;
    close(*l4);
  }
  return 0;
}

static long long elapsed_since(long long start) { return clock_ms() - start; }

int main(void)
{
  ip_parse("127.0.0.1", &v4);
  ip_parse("::1", &v6);
  tap_ok(tcpconnect_ms(0) == 20, "a timeout of 0 s waits 20 ms, as the reference");
  tap_ok(tcpconnect_ms(2) == 2020, "2 s is 2020 ms");
  tap_ok(tcpconnect_ms(~0UL) == (int) (CLOCK_SECONDS_MAX * 1000 + 20),
         "huge timeouts are capped at the library's longest timeout");

  int l4, l6;
  unsigned port = pair(&l4, &l6);
  if (!port) {
    printf("1..0 # SKIP no ::1 next to 127.0.0.1\n");
    return 0;
  }
  static int held[4096];
  int nheld = fill(&v4, port, held, 4096);
  tap_ok(nheld > 0, "the IPv4 listener's backlog fills");

  /* Pass 1 defers the silent v4 address and connects to ::1. */
  struct ip_addr both[2] = { v4, v6 };
  struct tcpconnect c = { .timeout = { 0, 1 }, .failed = failed };
  nfailures = 0;
  int fd = tcpconnect_any(both, 2, port, &c, NULL);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  tap_ok(fd >= 0 && getpeername(fd, (struct sockaddr *) &ss, &len) == 0
         && ss.ss_family == AF_INET6 && nfailures == 0,
         "a timed-out address is left for the second pass; the next one connects");
  if (fd >= 0) close(fd);

  /* Both silent: both tried again with y seconds, then reported in order. */
  int held6[4096];
  int nheld6 = fill(&v6, port, held6, 4096);
  nfailures = 0;
  long long start = clock_ms();
  fd = tcpconnect_any(both, 2, port, &c, NULL);
  long long took = elapsed_since(start);
  tap_ok(fd < 0 && nfailures == 2 && failures[0].family == AF_INET
         && failures[1].family == AF_INET6 && failures[0].err == ETIMEDOUT
         && failures[1].err == ETIMEDOUT,
         "all silent: each reported once, timed out, in order");
  tap_ok(took >= 2000, "the second pass gave each address its y seconds");
  tap_is_str(errtext(failures[0].err), "timed out", "reason text of a timeout");

  /* One address: x+y at once, reported once. */
  struct tcpconnect one = { .timeout = { 0, 1 }, .failed = failed };
  nfailures = 0;
  start = clock_ms();
  fd = tcpconnect_any(&v4, 1, port, &one, NULL);
  took = elapsed_since(start);
  tap_ok(fd < 0 && nfailures == 1 && failures[0].err == ETIMEDOUT && took >= 1000,
         "a single address gets x+y in one attempt");

  for (int i = 0; i < nheld; i++) close(held[i]);
  for (int i = 0; i < nheld6 && nheld6 > 0; i++) close(held6[i]);
  close(l4);
  close(l6);

  /* Refused addresses are reported at once, never retried. */
  nfailures = 0;
  fd = tcpconnect_any(both, 2, port, &c, NULL);
  tap_ok(fd < 0 && nfailures == 2 && failures[0].err == ECONNREFUSED
         && failures[1].err == ECONNREFUSED && failures[0].family == AF_INET,
         "refused: reported in the first pass, in order");

  /* Local address and port. */
  l4 = listener(&v4, 0);
  port = local_port(l4);
  int probe = listener(&v4, 0);
  unsigned lport = local_port(probe);
  close(probe);
  struct tcpconnect bound = { .local = &v4, .localport = lport,
                              .timeout = { 2, 58 }, .failed = failed };
  fd = tcpconnect_any(&v4, 1, port, &bound, NULL);
  tap_ok(fd >= 0 && local_port(fd) == lport, "bound to the local port asked for");
  tap_ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "the socket is blocking again");
  if (fd >= 0) close(fd);
  close(l4);
  return tap_done();
}
