#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "notify.h"

/* A datagram socket bound to address (path or "@name"), non-blocking. */
static int receiver(const char *address)
{
  struct sockaddr_un sun;
  size_t len = strlen(address);
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, address, len);
  if (address[0] == '@') sun.sun_path[0] = 0;
  else len++;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *) &sun, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static const char *received(int fd, char *buf, size_t size)
{
  ssize_t r = recv(fd, buf, size - 1, 0);
  if (r < 0) return "(nothing)";
  buf[r] = 0;
  return buf;
}

/* A pipe whose reader has stopped with it full (64 KiB unread); the
   write end blocking again, as a supervisor hands it over. */
static int full_pipe(int p[2])
{
  if (pipe(p) < 0) return -1;
  int flags = fcntl(p[1], F_GETFL);
  fcntl(p[1], F_SETFL, flags | O_NONBLOCK);
  char junk[4096] = { 0 };
  while (write(p[1], junk, sizeof junk) > 0) {}
  while (write(p[1], junk, 1) > 0) {}
  return fcntl(p[1], F_SETFL, flags);
}

/* notify_fd_ready on a full pipe, in a child killed after 5 s if it
   hangs: 1 when it returned -1 with EAGAIN at once, 0 when it hung or
   answered anything else. */
static int full_pipe_refused(int p[2])
{
  pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    int r = notify_fd_ready(p[1]);
    _exit(r < 0 && errno == EAGAIN ? 0 : 1);
  }
  int wstat = 0;
  for (int i = 0; i < 500; i++) {
    if (waitpid(pid, &wstat, WNOHANG) == pid)
      return WIFEXITED(wstat) && WEXITSTATUS(wstat) == 0;
    nanosleep(&(struct timespec) { 0, 10000000 }, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &wstat, 0);
  return 0;
}

static void test_full_pipe(void)
{
  int p[2];
  if (full_pipe(p) < 0) { tap_ok(0, "a full pipe"); return; }
  int refused = full_pipe_refused(p);
  tap_ok(refused, "full notification pipe: EAGAIN at once, no hang");
  if (!refused) return;   /* here it would hang the test */
  int keep = dup(p[1]);
  errno = 0;
  tap_ok(notify_fd_ready(p[1]) < 0 && errno == EAGAIN, "... in this process too");
  tap_ok(!(fcntl(keep, F_GETFL) & O_NONBLOCK), "the shared description is blocking again");
  tap_ok(fcntl(p[1], F_GETFD) < 0 && errno == EBADF, "and fd closed all the same");
  close(keep);
  close(p[0]);
}

int main(void)
{
  char dir[] = "/tmp/notify-test-XXXXXX";
  char path[200], buf[64];
  if (!mkdtemp(dir)) { tap_ok(0, "temporary directory"); return tap_done(); }
  snprintf(path, sizeof path, "%s/notify", dir);

  int r = receiver(path);
  tap_ok(r >= 0, "receiver bound in a temporary directory");
  setenv("NOTIFY_SOCKET", path, 1);
  tap_ok(notify_systemd_ready() == 1, "READY sent to a path");
  tap_is_str(received(r, buf, sizeof buf), "READY=1", "receiver got READY=1");

  char abstract[64];
  snprintf(abstract, sizeof abstract, "@ucspi-notify-test-%ld", (long) getpid());
  int a = receiver(abstract);
  tap_ok(a >= 0, "receiver bound in the abstract namespace");
  setenv("NOTIFY_SOCKET", abstract, 1);
  tap_ok(notify_systemd_ready() == 1, "READY sent to an abstract name");
  tap_is_str(received(a, buf, sizeof buf), "READY=1", "abstract receiver got READY=1");
  tap_is_str(received(r, buf, sizeof buf), "(nothing)", "... and the path receiver nothing");

  unsetenv("NOTIFY_SOCKET");
  tap_ok(notify_systemd_ready() == 0, "NOTIFY_SOCKET unset: nothing to do");
  setenv("NOTIFY_SOCKET", "", 1);
  tap_ok(notify_systemd_ready() == 0, "NOTIFY_SOCKET empty: nothing to do");

  errno = 0;
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  tap_ok(notify_systemd_ready() < 0 && errno == EAFNOSUPPORT, "relative path refused");
  char longpath[300];
  memset(longpath, 'a', sizeof longpath);
  longpath[0] = '/';
  longpath[sizeof longpath - 1] = 0;
  errno = 0;
  tap_ok(notify_send(longpath, "READY=1") < 0 && errno == ENAMETOOLONG, "over-long path refused");
  char path108[109];
  memset(path108, 'b', sizeof path108);
  path108[0] = '/';
  path108[108] = 0;
  errno = 0;
  tap_ok(notify_send(path108, "READY=1") < 0 && errno == ENAMETOOLONG, "108-byte path (no room for the 0) refused");
  snprintf(path, sizeof path, "%s/nobody", dir);
  errno = 0;
  tap_ok(notify_send(path, "READY=1") < 0 && errno == ENOENT, "no receiver: ENOENT");

  /* A receiver that never reads: sending fails with EAGAIN, never hangs. */
  int full = 0;
  snprintf(path, sizeof path, "%s/notify", dir);
  for (int i = 0; i < 100000 && !full; i++)
    if (notify_send(path, "READY=1") < 0) full = errno == EAGAIN ? 1 : -1;
  tap_ok(full == 1, "full receiver queue: EAGAIN, no hang");
  close(r);
  close(a);
  unlink(path);
  rmdir(dir);

  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0) {
    tap_ok(notify_fd_ready(sp[1]) == 0, "notification fd written");
    ssize_t n = read(sp[0], buf, sizeof buf);
    tap_ok(n == 1 && buf[0] == '\n', "a newline arrived");
    tap_ok(read(sp[0], buf, sizeof buf) == 0, "then end of file: the fd was closed");
    tap_ok(fcntl(sp[1], F_GETFD) < 0 && errno == EBADF, "fd closed in the writer");
    close(sp[0]);
  }
  errno = 0;
  tap_ok(notify_fd_ready(9999) < 0 && errno == EBADF, "bad fd: EBADF");
  test_full_pipe();
  return tap_done();
}
