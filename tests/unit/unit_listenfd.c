#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tap.h"
#include "listenfd.h"

static int inet_socket(int family, int type, int do_listen)
{
  int fd = socket(family, type, 0);
  if (fd < 0) return -1;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *s4 = (struct sockaddr_in *) (void *) &ss;
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *s4;
  } else {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) (void *) &ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = in6addr_loopback;
    len = sizeof *s6;
  }
  if (bind(fd, (struct sockaddr *) &ss, len) < 0) { close(fd); return -2; }
  if (do_listen && listen(fd, 1) < 0) { close(fd); return -1; }
  return fd;
}

static int fails_with(int fd, int err)
{
  errno = 0;
  return listenfd_check(fd) < 0 && errno == err;
}

int main(void)
{
  pid_t me = getpid();
  char pid[32];
  snprintf(pid, sizeof pid, "%ld", (long) me);

  tap_ok(listenfd_count(NULL, NULL, me) == 0, "unset: no sockets");
  tap_ok(listenfd_count(pid, NULL, me) == 0, "LISTEN_FDS unset: no sockets");
  tap_ok(listenfd_count(pid, "2", me) == 2, "LISTEN_PID ours: count");
  tap_ok(listenfd_count(pid, "0", me) == 0, "LISTEN_FDS 0");
  tap_ok(listenfd_count("1", "2", me) == 0, "another process's LISTEN_PID: not ours");
  errno = 0;
  tap_ok(listenfd_count("12x", "2", me) < 0 && errno == EINVAL, "malformed LISTEN_PID");
  tap_ok(listenfd_count(pid, "-1", me) < 0 && errno == EINVAL, "negative LISTEN_FDS");
  tap_ok(listenfd_count(pid, " 1", me) < 0, "LISTEN_FDS with a space");
  tap_ok(listenfd_count(pid, "", me) < 0, "empty LISTEN_FDS");
  tap_ok(listenfd_count(pid, "4097", me) < 0, "LISTEN_FDS above the bound");
  tap_ok(listenfd_count(pid, "99999999999999999999999", me) < 0, "LISTEN_FDS overflowing");
  setenv("LISTEN_PID", pid, 1);
  setenv("LISTEN_FDS", "1", 1);
  tap_ok(listenfd_systemd() == 1, "from the environment");
  setenv("LISTEN_PID", "1", 1);
  tap_ok(listenfd_systemd() == 0, "from the environment, not ours");

  char name[16];
  tap_ok(listenfd_name("http:smtp::x", 0, name, sizeof name) == 0 && !strcmp(name, "http"), "first name");
  tap_ok(listenfd_name("http:smtp::x", 1, name, sizeof name) == 0 && !strcmp(name, "smtp"), "second name");
  tap_ok(listenfd_name("http:smtp::x", 2, name, sizeof name) == 0 && !strcmp(name, ""), "empty name");
  tap_is_str(listenfd_name("http:smtp::x", 3, name, sizeof name) == 0 ? name : NULL, "x", "last name");
  errno = 0;
  tap_ok(listenfd_name("http:smtp::x", 4, name, sizeof name) < 0 && errno == ENOENT, "past the last name");
  tap_ok(listenfd_name(NULL, 0, name, sizeof name) < 0 && errno == ENOENT, "no names");
  tap_ok(listenfd_name("averyveryverylongname", 0, name, sizeof name) < 0 && errno == ENAMETOOLONG,
         "name too long for the buffer");

  int n = 0;
  for (const char *const *v = listenfd_env_names; *v; v++) n++;
  tap_ok(n == 3 && !strcmp(listenfd_env_names[1], "LISTEN_FDS"), "the names to unset");

  int fd = inet_socket(AF_INET, SOCK_STREAM, 1);
  tap_ok(fd >= 0 && listenfd_check(fd) == 0, "listening TCP/IPv4 socket accepted");
  int fd0 = dup(0);
  if (fd >= 0 && fd0 >= 0 && dup2(fd, 0) == 0) {
    tap_ok(listenfd_check(0) == 0, "listening socket on fd 0 accepted");
    dup2(fd0, 0);
  } else {
    tap_ok(0, "listening socket on fd 0 accepted");
  }
  if (fd0 >= 0) close(fd0);
  if (fd >= 0) close(fd);
  fd = inet_socket(AF_INET6, SOCK_STREAM, 1);
  if (fd == -2) tap_ok(1, "# SKIP no IPv6 loopback");
  else tap_ok(fd >= 0 && listenfd_check(fd) == 0, "listening TCP/IPv6 socket accepted");
  if (fd >= 0) close(fd);
  fd = inet_socket(AF_INET, SOCK_STREAM, 0);
  tap_ok(fd >= 0 && fails_with(fd, EINVAL), "bound but not listening: EINVAL");
  if (fd >= 0) close(fd);
  fd = inet_socket(AF_INET, SOCK_DGRAM, 0);
  tap_ok(fd >= 0 && fails_with(fd, EPROTOTYPE), "UDP socket: EPROTOTYPE");
  if (fd >= 0) close(fd);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  tap_ok(fd >= 0 && fails_with(fd, EAFNOSUPPORT), "AF_UNIX stream socket: EAFNOSUPPORT");
  if (fd >= 0) close(fd);
  int p[2];
  if (pipe(p) == 0) {
    tap_ok(fails_with(p[0], ENOTSOCK), "pipe: ENOTSOCK");
    close(p[0]);
    close(p[1]);
    tap_ok(fails_with(p[0], EBADF), "closed fd: EBADF");
  }
  return tap_done();
}
