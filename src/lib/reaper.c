#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "reaper.h"

/* ---- the thread ---- */

#define CONTROL_TAG UINT64_MAX

static void tell_all(int fd, const pid_t *pids, size_t n)
{
  while (send(fd, pids, n * sizeof *pids, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

static void tell(int fd, pid_t pid)
{
  tell_all(fd, &pid, 1);
}

static void watch(int ep, int fd, pid_t pid)
{
  int pidfd = pidfd_open(pid, 0);
  /* The pidfd's number rides along in the upper half. */
  struct epoll_event ev = {
    .events = EPOLLIN,
    .data.u64 = (uint64_t) (uint32_t) pid | (uint64_t) (uint32_t) pidfd << 32,
  };
  if (pidfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
    if (pidfd >= 0) close(pidfd);
    tell(fd, -pid);
  }
}

/* 0 while the server's end is open. */
static int take_requests(int ep, int fd)
{
  pid_t pids[REAPER_BATCH];
  ssize_t got;
  while ((got = recv(fd, pids, sizeof pids, MSG_DONTWAIT)) > 0)
    for (size_t i = 0; i < (size_t) got / sizeof *pids; i++)
      if (pids[i] > 0) watch(ep, fd, pids[i]);
  /* got <= 0 here: 0 is the end, -1 an error unless there is just no more */
  return got == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
}

/* Its own descriptor table, with nothing of the server's but its end of
   the socket (above all not the listening socket, which must close when
   the server closes it); then, until the server's end closes: watch what
   it names, name what ended. */
static void *reaper_main(void *arg)
{
  int fd = (int) (intptr_t) arg;
  struct epoll_event ev[REAPER_BATCH];
  if (unshare(CLONE_FILES) < 0) {
    close(fd);   /* the server sees the end and reaps the old way */
    return NULL;
  }
  if (fd > 0) close_range(0, (unsigned) fd - 1, 0);
  close_range((unsigned) fd + 1, ~0u, 0);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ctl = { .events = EPOLLIN, .data.u64 = CONTROL_TAG };
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ctl) < 0) {
    close(fd);
    return NULL;
  }
  tell(fd, 0);   /* ready: the server may close its copy of fd */
  for (;;) {
    /* The children of one wake-up in one message: one send here and one
       recv in the server for all of them, not one each. */
    pid_t ended[REAPER_BATCH];
    size_t nended = 0;
    int n = epoll_wait(ep, ev, REAPER_BATCH, -1);
    for (int i = 0; i < n; i++) {
      if (ev[i].data.u64 != CONTROL_TAG) {
        close((int) (ev[i].data.u64 >> 32));
        ended[nended++] = (pid_t) (uint32_t) ev[i].data.u64;
      } else if (take_requests(ep, fd) < 0) {
        close(fd);
        return NULL;
      }
    }
    if (nended) tell_all(fd, ended, nended);
  }
}

/* ---- the server's side ---- */

int reaper_start(struct reaper *r)
{
  int sv[2], e;
  pthread_t t;
  pthread_attr_t attr;
  sigset_t all, old;
  r->fd = -1;
  r->nbatch = 0;
  r->nnews = r->newsat = 0;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  int flags = fcntl(sv[0], F_GETFL);
  if (flags < 0 || fcntl(sv[0], F_SETFL, flags | O_NONBLOCK) < 0) {
    e = errno;
    goto fail;
  }
  /* Every signal stays the server's: the thread starts with all blocked. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  e = pthread_create(&t, &attr, reaper_main, (void *) (intptr_t) sv[1]);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e) goto fail;
  /* Once the thread has its own table, the server's copy of its end
     goes.  A thread that is not ready in a second is given up (it ends
     when it sees the server's end close). */
  struct pollfd p = { .fd = sv[0], .events = POLLIN };
  pid_t ready = -1;
  if (poll(&p, 1, 1000) != 1 ||
      recv(sv[0], &ready, sizeof ready, MSG_DONTWAIT) != (ssize_t) sizeof ready ||
      ready != 0) {
    close(sv[0]);
    close(sv[1]);
    errno = EAGAIN;
    return -1;
  }
  close(sv[1]);
  r->fd = sv[0];
  return 0;
fail:
  close(sv[0]);
  close(sv[1]);
  errno = e;
  return -1;
}

size_t reaper_flush(struct reaper *r, pid_t *failed)
{
  size_t n = r->nbatch;
  r->nbatch = 0;
  if (!n) return 0;
  if (r->fd >= 0 &&
      send(r->fd, r->batch, n * sizeof *r->batch, MSG_DONTWAIT | MSG_NOSIGNAL) ==
          (ssize_t) (n * sizeof *r->batch))
    return 0;
  for (size_t i = 0; i < n; i++) failed[i] = r->batch[i];
  return n;
}

void reaper_watch(struct reaper *r, pid_t pid)
{
  r->batch[r->nbatch++] = pid;
}

/* The next message, whole (a message holds at most REAPER_BATCH pids:
   a smaller buffer would cut it); 1, 0 when none has come, -1 at the
   end. */
static int next_message(struct reaper *r)
{
  ssize_t got = recv(r->fd, r->news, sizeof r->news, MSG_DONTWAIT);
  if (got >= (ssize_t) sizeof *r->news) {
    r->nnews = (size_t) got / sizeof *r->news;
    r->newsat = 0;
    return 1;
  }
  return got < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

long reaper_news(struct reaper *r, pid_t *pids, size_t max)
{
  size_t n = 0;
  if (r->fd < 0 && r->newsat == r->nnews) return -1;
  while (n < max) {
    if (r->newsat == r->nnews) {
      int m = r->fd < 0 ? -1 : next_message(r);
      if (m > 0) continue;
      if (m == 0 || n) break;   /* report what came; the end is seen next time */
      close(r->fd);
      r->fd = -1;
      return -1;
    }
    pids[n++] = r->news[r->newsat++];
  }
  return (long) n;
}
