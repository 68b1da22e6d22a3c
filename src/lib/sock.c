#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "sock.h"

long long clock_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
  long long deadline = clock_ms() + ms;
  for (;;) {
    long long left = deadline - clock_ms();
    if (left <= 0) { errno = ETIMEDOUT; return -1; }
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int r = poll(&p, 1, (int) left);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) continue;
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) return -1;
    if (err) { errno = err; return -1; }
    return 0;
  }
}

int sock_blocking(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -1;
  return fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}
