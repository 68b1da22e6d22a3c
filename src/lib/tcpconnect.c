#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include "clock.h"
#include "sock.h"
#include "tcpconnect.h"

int tcpconnect_ms(unsigned long t)
{
  return (int) (clock_cap(t) * 1000 + 20);
}

static int close_keeping_errno(int fd)
{
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

/* One attempt: a new socket, bound if asked, connected within ms.  -1
   with *why TCPCONNECT_UNREACHED when this address failed, otherwise
   the failure that ends every attempt. */
static int attempt(const struct ip_addr *ip, unsigned port,
                   const struct tcpconnect *c, int ms,
                   enum tcpconnect_failure *why)
{
  int fd = sock_tcp(ip->family);
  *why = TCPCONNECT_SOCKET;
  if (fd < 0) return -1;
  if (c->local || c->localport) {
    struct ip_addr any = { .family = ip->family };
    *why = TCPCONNECT_BIND;
    if (sock_bind(fd, c->local ? c->local : &any, c->localport) < 0)
      return close_keeping_errno(fd);
  }
  *why = TCPCONNECT_UNREACHED;
  if (sock_connect(fd, ip, port, ms) == 0 && sock_blocking(fd) == 0)
    return fd;
  return close_keeping_errno(fd);
}

int tcpconnect_any(const struct ip_addr *addrs, size_t n, unsigned port,
                   const struct tcpconnect *c, enum tcpconnect_failure *why)
{
  enum tcpconnect_failure ignored;
  if (!why) why = &ignored;
  *why = TCPCONNECT_UNREACHED;
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
    int fd = attempt(&addrs[i], port, c, tcpconnect_ms(timeout[0]), why);
    if (fd >= 0 || *why != TCPCONNECT_UNREACHED) return fd;
    if (timeout[1] && errno == ETIMEDOUT) retry[nretry++] = i;
    else if (c->failed) c->failed(c->ctx, &addrs[i], port, errno);
  }
  for (size_t k = 0; k < nretry; k++) {
    const struct ip_addr *ip = &addrs[retry[k]];
    int fd = attempt(ip, port, c, tcpconnect_ms(timeout[1]), why);
    if (fd >= 0 || *why != TCPCONNECT_UNREACHED) return fd;
    if (c->failed) c->failed(c->ctx, ip, port, errno);
  }
  return -1;
}
