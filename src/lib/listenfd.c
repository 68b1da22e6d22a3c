#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "listenfd.h"

const char *const listenfd_env_names[] = {
  "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", NULL
};

/* Strict decimal: digits only, no sign, no space, no overflow. */
static int decimal(const char *s, unsigned long max, unsigned long *out)
{
  unsigned long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    unsigned d = (unsigned) (*s - '0');
    if (v > (max - d) / 10) return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int listenfd_count(const char *listen_pid, const char *listen_fds, pid_t self)
{
  unsigned long pid, n;
  if (!listen_pid || !listen_fds) return 0;
  if (decimal(listen_pid, (unsigned long) -1, &pid) < 0) { errno = EINVAL; return -1; }
  if (pid != (unsigned long) self) return 0;
  if (decimal(listen_fds, LISTENFD_MAX, &n) < 0) { errno = EINVAL; return -1; }
  return (int) n;
}

int listenfd_systemd(void)
{
  return listenfd_count(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), getpid());
}

int listenfd_name(const char *names, unsigned i, char *buf, size_t size)
{
  if (!names) { errno = ENOENT; return -1; }
  for (; i; i--) {
    names = strchr(names, ':');
    if (!names) { errno = ENOENT; return -1; }
    names++;
  }
  size_t len = strcspn(names, ":");
  if (len >= size) { errno = ENAMETOOLONG; return -1; }
  memcpy(buf, names, len);
  buf[len] = 0;
  return 0;
}

static int sockopt(int fd, int name, int *value)
{
  socklen_t len = sizeof *value;
  return getsockopt(fd, SOL_SOCKET, name, value, &len);
}

int listenfd_check(int fd)
{
  int type, domain, listening;
  if (fcntl(fd, F_GETFD) < 0) return -1;           /* EBADF */
  if (sockopt(fd, SO_TYPE, &type) < 0) return -1;  /* ENOTSOCK */
  if (type != SOCK_STREAM) { errno = EPROTOTYPE; return -1; }
  if (sockopt(fd, SO_DOMAIN, &domain) < 0) return -1;
  if (domain != AF_INET && domain != AF_INET6) { errno = EAFNOSUPPORT; return -1; }
  if (sockopt(fd, SO_ACCEPTCONN, &listening) < 0) return -1;
  if (!listening) { errno = EINVAL; return -1; }
  return 0;
}
