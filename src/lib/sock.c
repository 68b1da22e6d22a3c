#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include "clock.h"
#include "sock.h"

int sock_tcp(int family)
{
  return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int sock_bind(int fd, const struct ip_addr *ip, unsigned port)
{
  struct sockaddr_storage ss;
  socklen_t len = ip_to_sockaddr(ip, port, &ss);
  return bind(fd, (struct sockaddr *) &ss, len);
}

int sock_connect(int fd, const struct ip_addr *ip, unsigned port, int ms)
{
  struct sockaddr_storage ss;
  socklen_t len = ip_to_sockaddr(ip, port, &ss);
  if (connect(fd, (struct sockaddr *) &ss, len) == 0) return 0;
  if (errno != EINPROGRESS) return -1;
  int r = clock_wait_fd(fd, POLLOUT, clock_ms() + ms);
  if (r == CLOCK_WAIT_TIMEOUT) errno = ETIMEDOUT;
  if (r != CLOCK_WAIT_READY) return -1;
  int err = 0;
  socklen_t elen = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) return -1;
  if (err) { errno = err; return -1; }
  return 0;
}

int sock_blocking(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -1;
  return fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}
