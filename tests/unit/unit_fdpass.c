/* fdpass.c: a message and a descriptor go together over a seqpacket
   pair and come out whole; a message without a descriptor gives -1; one
   too big for the buffer is EMSGSIZE and its descriptor is not leaked;
   the other end closed is 0 to the reader and EPIPE to the writer (no
   SIGPIPE). */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "fdpass.h"

static int open_fds(void)
{
  int n = 0;
  for (int fd = 0; fd < 256; fd++)
    if (fcntl(fd, F_GETFD) >= 0) n++;
  return n;
}

static int same_file(int a, int b)
{
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int main(void)
{
  int sv[2], pipefd[2], fd;
  char buf[64];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(pipefd) < 0) return 1;

  struct iovec iov[2] = { { "hello ", 6 }, { "world", 5 } };
  tap_ok(fdpass_send(sv[0], iov, 2, pipefd[0]) == 11, "two pieces and a descriptor sent as one message");
  ssize_t n = fdpass_recv(sv[1], buf, sizeof buf, &fd);
  tap_ok(n == 11 && memcmp(buf, "hello world", 11) == 0, "received whole");
  tap_ok(fd >= 0 && fd != pipefd[0] && same_file(fd, pipefd[0]), "with the descriptor, a new number for the same pipe");
  tap_ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "close-on-exec");
  if (fd >= 0) close(fd);

  tap_ok(fdpass_send(sv[0], iov, 1, -1) == 6, "a message without a descriptor");
  n = fdpass_recv(sv[1], buf, sizeof buf, &fd);
  tap_ok(n == 6 && fd == -1, "comes with -1");

  int before = open_fds();
  char big[200];
  memset(big, 'x', sizeof big);
  struct iovec one = { big, sizeof big };
  fdpass_send(sv[0], &one, 1, pipefd[0]);
  errno = 0;
  n = fdpass_recv(sv[1], buf, sizeof buf, &fd);
  tap_ok(n == -1 && errno == EMSGSIZE && fd == -1, "too big for the buffer: EMSGSIZE");
  tap_ok(open_fds() == before, "and its descriptor is closed, not leaked");

  close(sv[0]);
  tap_ok(fdpass_recv(sv[1], buf, sizeof buf, &fd) == 0, "the other end closed: 0");
  errno = 0;
  tap_ok(fdpass_send(sv[1], iov, 2, pipefd[0]) == -1 && errno == EPIPE,
         "and writing to it is EPIPE, without SIGPIPE ending the test");
  return tap_done();
}
