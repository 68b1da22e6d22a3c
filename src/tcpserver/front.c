/* The front of -G (see front.h): fork the server, wait for its word,
   forward the supervisor's signals, and exit as soon as the server no
   longer listens. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "front.h"

static pid_t server;
static sigset_t open_mask;      /* the front's mask while it waits */
static volatile sig_atomic_t got_term, got_hup, got_child;

static void on_term(int sig) { (void) sig; got_term = 1; }
static void on_hup(int sig) { (void) sig; got_hup = 1; }
static void on_child(int sig) { (void) sig; got_child = 1; }

static void handle(int sig, void (*handler)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* The signals the front takes; blocked from before the fork, so that
   none is lost before the handlers are in place.  (No other thread
   exists yet; pthread_sigmask as everywhere in the server.) */
static void front_signals(sigset_t *set)
{
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGCHLD);
}

int front_fork(struct front *fr)
{
  int pair[2];
  sigset_t mine, old;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) return -1;
  front_signals(&mine);
  pthread_sigmask(SIG_BLOCK, &mine, &old);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(pair[0]);
    close(pair[1]);
    errno = e;
    return -1;
  }
  if (pid == 0) {
    close(pair[0]);
    fr->fd = pair[1];
    fcntl(fr->fd, F_SETFL, fcntl(fr->fd, F_GETFL) | O_NONBLOCK);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
  }
  close(pair[1]);
  fr->fd = pair[0];
  server = pid;
  open_mask = old;
  sigdelset(&open_mask, SIGTERM);
  sigdelset(&open_mask, SIGHUP);
  sigdelset(&open_mask, SIGCHLD);
  handle(SIGTERM, on_term);
  handle(SIGHUP, on_hup);
  handle(SIGCHLD, on_child);
  return 1;
}

/* The server ended: the front ends the same way, so that the supervisor
   sees what it would have seen without a front. */
static _Noreturn void end_as(int status)
{
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    sigset_t one;
    handle(sig, SIG_DFL);
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 111);
}

static void server_ended(void)
{
  int status;
  pid_t r = waitpid(server, &status, WNOHANG);
  if (r == server) end_as(status);
}

/* The server's word: FRONT_READY returns 1, FRONT_CLOSED ends the front,
   the end of the server ends it as the server ended. */
static int server_said(int fd)
{
  char buf[16];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0) return 0;
  if (n == 0) {   /* the server is gone (or only its programs hold it) */
    int status;
    while (waitpid(server, &status, 0) < 0)
      if (errno != EINTR) _exit(111);
    end_as(status);
  }
  int ready = 0;
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == FRONT_CLOSED) _exit(0);
    if (buf[i] == FRONT_READY) ready = 1;
  }
  return ready;
}

/* One wait, at most ms (-1: none), then what came.  Returns 1 when the
   server said it is ready. */
static int front_step(struct front *fr, int ms)
{
  struct pollfd p = { .fd = fr->fd, .events = POLLIN };
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
  int n = ppoll(&p, 1, ms < 0 ? NULL : &ts, &open_mask);
  if (got_child) {
    got_child = 0;
    server_ended();
  }
  if (got_hup) {
    got_hup = 0;
    kill(server, SIGHUP);
  }
  if (got_term) {
    got_term = 0;
    kill(server, SIGTERM);
    kill(server, SIGCONT);
    return -1;
  }
  return n > 0 ? server_said(fr->fd) : 0;
}

/* After SIGTERM: the server has FRONT_TERM_WAIT_MS to close its
   listening socket; the front exits then in any case. */
static _Noreturn void wait_for_close(struct front *fr)
{
  long long until = clock_ms() + FRONT_TERM_WAIT_MS;
  for (;;) {
    long long left = until - clock_ms();
    if (left <= 0) _exit(0);
    front_step(fr, (int) left);
  }
}

void front_wait_ready(struct front *fr)
{
  for (;;) {
    int r = front_step(fr, -1);
    if (r > 0) return;
    if (r < 0) wait_for_close(fr);
  }
}

_Noreturn void front_serve(struct front *fr)
{
  for (;;)
    if (front_step(fr, -1) < 0) wait_for_close(fr);
}

void front_tell(const struct front *fr, char what)
{
  if (fr->fd < 0) return;
  while (write(fr->fd, &what, 1) < 0 && errno == EINTR) {}
}

int front_gone(const struct front *fr)
{
  char buf[16];
  ssize_t n;
  while ((n = read(fr->fd, buf, sizeof buf)) > 0) {}
  return n == 0;
}
