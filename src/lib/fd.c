#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "fd.h"

int write_all(int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t) w;
  }
  return 0;
}

int fd_move(int to, int from)
{
  if (to == from) {
    int flags = fcntl(to, F_GETFD);
    if (flags < 0) return -1;
    return fcntl(to, F_SETFD, flags & ~FD_CLOEXEC);
  }
  if (dup2(from, to) < 0) return -1;
  close(from);
  return 0;
}
