#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include "clock.h"
#include "msg.h"
#include "sock.h"
#include "tcpconnect.h"

int tcpconnect_ms(unsigned long t)
{
  return (int) (clock_cap(t) * 1000 + 20);
}

/* One attempt: a new socket, bound if asked, connected within ms. */
static int attempt(const struct ip_addr *ip, unsigned port,
                   const struct tcpconnect *c, int ms)
{
  int fd = sock_tcp(ip->family);
  if (fd < 0) msg_fatal_sys("unable to create socket");
  if (c->local || c->localport) {
    struct ip_addr any = { .family = ip->family };
    if (sock_bind(fd, c->local ? c->local : &any, c->localport) < 0)
      msg_fatal_sys("unable to bind socket");
  }
  if (sock_connect(fd, ip, port, ms) == 0 && sock_blocking(fd) == 0)
    return fd;
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

int tcpconnect_any(const struct ip_addr *addrs, size_t n, unsigned port,
                   const struct tcpconnect *c)
{
  unsigned long timeout[2] = { c->timeout[0], c->timeout[1] };
  if (n > TCPCONNECT_MAX) n = TCPCONNECT_MAX;
  if (n == 1) {
    timeout[0] = timeout[0] + timeout[1] < timeout[0]
      ? ULONG_MAX : timeout[0] + timeout[1];
    timeout[1] = 0;
  }
  size_t retry[TCPCONNECT_MAX];   /* indexes that timed out in pass 1 */
  size_t nretry = 0;
  for (size_t i = 0; i < n; i++) {
    int fd = attempt(&addrs[i], port, c, tcpconnect_ms(timeout[0]));
    if (fd >= 0) return fd;
    if (timeout[1] && errno == ETIMEDOUT) retry[nretry++] = i;
    else if (c->failed) c->failed(c->ctx, &addrs[i], port, errno);
  }
  for (size_t k = 0; k < nretry; k++) {
    const struct ip_addr *ip = &addrs[retry[k]];
    int fd = attempt(ip, port, c, tcpconnect_ms(timeout[1]));
    if (fd >= 0) return fd;
    if (c->failed) c->failed(c->ctx, ip, port, errno);
  }
  return -1;
}
