#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "reaper.h"

/* ---- the thread ---- */

#define CONTROL_TAG UINT64_MAX

/* The thread's first word on the socket: ready (it has a descriptor
   table of its own and listens), or given up (it will never again use
   its end in the server's table). */
#define READY 0
#define GAVE_UP (-1)
#define LATE 1       /* nothing within a second (no pid is sent here) */

static void tell(int fd, pid_t pid)
{
  while (send(fd, &pid, sizeof pid, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
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

/* Above the highest descriptor number the process may hold: the hard
   limit (a descriptor is below the soft limit when opened, and the soft
   limit never exceeds the hard one; only lowering the hard limit after
   opening could leave one above, which the server never does), or
   Linux's default nr_open when there is no limit. */
static int descriptor_ceiling(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return -1;
  if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > INT_MAX) return 1 << 20;
  return (int) rl.rlim_max;
}

/* EBADF for the numbers not open is expected and harmless. */
static void close_each(unsigned first, unsigned last)
{
  for (unsigned fd = first; fd <= last; fd++) close((int) fd);
}

/* first..last (last ~0u: to the end) with closer, else one by one. */
static int close_span(unsigned first, unsigned last, reaper_range_closer *closer)
{
  if (closer(first, last, 0) == 0) return 0;
  if (last == ~0u) {
    int ceiling = descriptor_ceiling();
    if (ceiling < 0) return -1;
    if ((unsigned) ceiling <= first) return 0;
    last = (unsigned) ceiling - 1;
  }
  close_each(first, last);
  return 0;
}

int reaper_close_others(int keep, reaper_range_closer *closer)
{
  if (keep > 0 && close_span(0, (unsigned) keep - 1, closer) < 0) return -1;
  return close_span((unsigned) keep + 1, ~0u, closer);
}

/* Its own descriptor table, with nothing of the server's but its end of
   the socket (above all not the listening socket, which must close when
   the server closes it); then, until the server's end closes: watch what
   it names, name what ended.  Until unshare has succeeded the table is
   the server's: fd is then left alone (the server closes it). */
static void *reaper_main(void *arg)
{
  int fd = (int) (intptr_t) arg;
  struct epoll_event ev[REAPER_BATCH];
  if (unshare(CLONE_FILES) < 0) {
    tell(fd, GAVE_UP);   /* the server reaps the old way */
    return NULL;
  }
  int ep = -1;
  struct epoll_event ctl = { .events = EPOLLIN, .data.u64 = CONTROL_TAG };
  if (reaper_close_others(fd, close_range) < 0 ||
      (ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ctl) < 0) {
    tell(fd, GAVE_UP);
    close(fd);
    if (ep >= 0) close(ep);
    return NULL;
  }
  tell(fd, READY);   /* the server may close its copy of fd */
  for (;;) {
    int n = epoll_wait(ep, ev, REAPER_BATCH, -1);
    for (int i = 0; i < n; i++) {
      if (ev[i].data.u64 != CONTROL_TAG) {
        close((int) (ev[i].data.u64 >> 32));
        tell(fd, (pid_t) (uint32_t) ev[i].data.u64);
      } else if (take_requests(ep, fd) < 0) {
        close(fd);
        close(ep);
        return NULL;
      }
    }
  }
}

/* ---- the server's side ---- */

/* The thread's first word within ms: READY, GAVE_UP, or LATE. */
static pid_t first_word(int fd, int ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  pid_t word = LATE;
  if (poll(&p, 1, ms) != 1 ||
      recv(fd, &word, sizeof word, MSG_DONTWAIT) != (ssize_t) sizeof word ||
      (word != READY && word != GAVE_UP))
    return LATE;
  return word;
}

int reaper_start(struct reaper *r)
{
  return reaper_start_within(r, 1000);
}

int reaper_start_within(struct reaper *r, int ms)
{
  int sv[2], e;
  pthread_t t;
  pthread_attr_t attr;
  sigset_t all, old;
  r->fd = -1;
  r->nbatch = 0;
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
     goes. */
  pid_t word = first_word(sv[0], ms);
  if (word == GAVE_UP) {
    e = EAGAIN;        /* it holds nothing of ours any more */
    goto fail;
  }
  if (word != READY) {
    /* Not ready in time: the thread may yet unshare, copying this
       table, and take whatever then had sv[1]'s number for its socket,
       e.g. the next client.  So sv[1] stays open for good (one
       descriptor, close-on-exec), and sv[0] closes: the thread, when it
       runs, finds its peer gone and ends. */
    close(sv[0]);
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

long reaper_news(struct reaper *r, pid_t *pids, size_t max)
{
  size_t n = 0;
  if (r->fd < 0) return -1;
  while (n < max) {
    ssize_t got = recv(r->fd, &pids[n], sizeof *pids, MSG_DONTWAIT);
    if (got == (ssize_t) sizeof *pids) {
      n++;
      continue;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n) break;   /* report what came; the end is seen next time */
    close(r->fd);
    r->fd = -1;
    return -1;
  }
  return (long) n;
}
