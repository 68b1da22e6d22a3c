/* A message and a descriptor over a unix socket (fdpass.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fdpass.h"

/* Room for the control data of one descriptor, aligned as cmsghdr wants. */
union fd_control {
  char buf[CMSG_SPACE(sizeof(int))];
  struct cmsghdr align;
};

ssize_t fdpass_send(int sock, const struct iovec *iov, int n, int fd)
{
  union fd_control control;
  struct msghdr m = { .msg_iov = (struct iovec *) iov, .msg_iovlen = (size_t) n };
  if (fd >= 0) {
    memset(&control, 0, sizeof control);
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  return sendmsg(sock, &m, MSG_NOSIGNAL);
}

/* The descriptor of a received message, if there is one. */
static int taken_fd(struct msghdr *m)
{
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int)))
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

ssize_t fdpass_recv(int sock, void *buf, size_t size, int *fd)
{
  union fd_control control;
  struct iovec iov = { buf, size };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  *fd = -1;
  ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  if (r <= 0) return r;
  int got = taken_fd(&m);
  if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    if (got >= 0) close(got);
    errno = EMSGSIZE;
    return -1;
  }
  *fd = got;
  return r;
}
