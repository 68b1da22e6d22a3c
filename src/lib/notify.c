#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "notify.h"

int notify_send(const char *address, const char *message)
{
  struct sockaddr_un sun;
  size_t len = strlen(address);
  if (address[0] != '/' && address[0] != '@') { errno = EAFNOSUPPORT; return -1; }
  /* A path needs its terminating 0; an abstract name has none. */
  if (len + (address[0] == '/') > sizeof sun.sun_path) { errno = ENAMETOOLONG; return -1; }
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, address, len);
  if (address[0] == '@') sun.sun_path[0] = 0;
  socklen_t salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + (address[0] == '/'));

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  size_t mlen = strlen(message);
  ssize_t w;
  do {
    w = sendto(fd, message, mlen, MSG_NOSIGNAL, (struct sockaddr *) &sun, salen);
  } while (w < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (w < 0) { errno = err; return -1; }
  if ((size_t) w != mlen) { errno = EMSGSIZE; return -1; }
  return 0;
}

int notify_systemd_ready(void)
{
  const char *address = getenv("NOTIFY_SOCKET");
  if (!address || !*address) return 0;
  return notify_send(address, "READY=1") < 0 ? -1 : 1;
}

/* One byte to fd without waiting: the descriptor's open file description
   (shared with whoever else holds it) is non-blocking only for the one
   write, then has its old flags back. */
static ssize_t write_byte_nowait(int fd, char c)
{
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -1;
  if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
  ssize_t w;
  do {
    w = write(fd, &c, 1);
  } while (w < 0 && errno == EINTR);
  int err = errno;
  if (!(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags);
  errno = err;
  return w;
}

int notify_fd_ready(int fd)
{
  ssize_t w = write_byte_nowait(fd, '\n');
  int err = errno;
  close(fd);
  if (w < 0) { errno = err; return -1; }
  return 0;
}
