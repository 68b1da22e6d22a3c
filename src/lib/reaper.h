#ifndef REAPER_H
#define REAPER_H
#include <stddef.h>
#include <sys/types.h>

/* A thread that watches a server's children and tells the server which
   of them ended, so that the server reaps exactly those (waitpid on
   each pid), never walking all its children.  The thread holds a pidfd
   per watched child in a descriptor table of its own (unshare), so that
   the server's table stays small: each fork copies the table of the
   thread that forks, and with a pidfd per child there, every fork cost
   thousands of references.  It takes no signal and no lock, and ends
   with the process.

   Messages are one pid each on a SOCK_SEQPACKET pair; the server never
   waits on it.  Pids to watch are gathered and handed over in one go
   (reaper_flush, before the server waits), so that a busy server wakes
   the thread once for many children.  A pid the thread could not take,
   or could not watch, is the server's to reap the old way (SIGCHLD and
   waitpid(-1)). */

#define REAPER_BATCH 64

struct reaper {
  int fd;                        /* -1: no reaper */
  pid_t batch[REAPER_BATCH];
  size_t nbatch;
};

/* Start it; 0, or -1 with errno (r->fd is then -1).  Its pidfds count
   against the process's descriptor limit, in its own table.  Waits at
   most a second for the thread to say it is ready; a thread that is late
   may still copy the server's descriptor table, so one descriptor (its
   end of the socket) is then left open for good, to keep its number from
   being reused while the thread may use it. */
int reaper_start(struct reaper *r);
/* The same, waiting at most ms milliseconds (reaper_start: 1000). */
int reaper_start_within(struct reaper *r, int ms);

/* Watch pid, one of the caller's children, at the next flush; the
   batch holds REAPER_BATCH (flush when r->nbatch reaches it). */
void reaper_watch(struct reaper *r, pid_t pid);

/* Hand over what was gathered.  Pids that could not be handed over are
   put in failed[] (room for REAPER_BATCH); returns how many. */
size_t reaper_flush(struct reaper *r, pid_t *failed);

/* What the reaper said since: up to max pids into pids, each > 0 for a
   child that ended, < 0 (minus the pid) for one it could not watch.
   Returns how many, 0 when nothing more has come, -1 when the reaper is
   gone (r->fd is then closed and -1). */
long reaper_news(struct reaper *r, pid_t *pids, size_t max);

/* Close every descriptor of the calling thread's table but keep (the
   thread's start, after unshare).  closer is close_range (Linux 5.9,
   glibc 2.34); when it fails (ENOSYS on an older kernel, or any other
   error) each number up to the hard RLIMIT_NOFILE is closed one by one.
   A parameter so that a test can make it fail.  Returns 0, or -1 when
   getrlimit fails (the caller then gives up). */
typedef int reaper_range_closer(unsigned first, unsigned last, int flags);
int reaper_close_others(int keep, reaper_range_closer *closer);
#endif
