/* reaper.c: the children it is given are reported when they end, each
   once, while the server's own descriptor table does not grow with
   them; a pid that does not exist cannot be watched.  The thread's start
   closes every other descriptor also where close_range fails (a kernel
   before 5.9); a thread late to start keeps its descriptor number. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "reaper.h"

#define KIDS 100

static int entries(const char *dir)
{
  int n = 0;
  DIR *d = opendir(dir);
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static int open_fds(void) { return entries("/proc/self/fd"); }
static int threads(void) { return entries("/proc/self/task") - 2; }   /* . and .. */

static void pause_ms(long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };
  nanosleep(&ts, NULL);
}

/* News until want pids came or 5 s passed. */
static int gather(struct reaper *r, pid_t *got, int want)
{
  int n = 0;
  for (int tries = 0; n < want && tries < 500; tries++) {
    long k = reaper_news(r, got + n, (size_t) (want - n));
    if (k < 0) return -1;
    n += (int) k;
    if (n < want) pause_ms(10);
  }
  return n;
}

static int closer_calls;
static int no_close_range(unsigned first, unsigned last, int flags)
{
  (void) first;
  (void) last;
  (void) flags;
  closer_calls++;
  errno = ENOSYS;
  return -1;
}

/* In a child: descriptors around keep, reaper_close_others with closer;
   the child answers on keep how many of 0..highest+10 are still open
   besides keep, and whether the closer was tried.  "-1" on failure. */
static int still_open_after(reaper_range_closer *closer, int *tried)
{
  int p[2];
  if (pipe(p) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(p[0]);
    int extra[6], highest = p[1];
    for (int i = 0; i < 6; i++) {
      extra[i] = open("/dev/null", O_RDONLY);
      if (extra[i] > highest) highest = extra[i];
    }
    int far = dup2(p[1], 400) < 0 ? -1 : 400;   /* a gap below it */
    if (far > highest) highest = far;
    closer_calls = 0;
    if (reaper_close_others(p[1], closer) < 0) _exit(1);
    unsigned char answer[2] = { 0, (unsigned char) closer_calls };
    for (int fd = 0; fd <= highest + 10; fd++)
      if (fd != p[1] && fcntl(fd, F_GETFD) >= 0) answer[0]++;
    _exit(write(p[1], answer, 2) == 2 ? 0 : 1);
  }
  close(p[1]);
  unsigned char answer[2];
  ssize_t got = read(p[0], answer, 2);
  close(p[0]);
  int status;
  waitpid(pid, &status, 0);
  if (got != 2) return -1;
  *tried = answer[1];
  return answer[0];
}

static void test_close_others(void)
{
  int tried = 0;
  tap_ok(still_open_after(close_range, &tried) == 0, "close_range: nothing open but the kept one");
  tap_ok(still_open_after(no_close_range, &tried) == 0,
         "close_range failing with ENOSYS: each descriptor closed all the same");
  tap_ok(tried == 2, "... after trying close_range for both spans");
}

/* A thread not ready in time: its descriptor stays open in the server's
   table (so that the next client cannot get its number), and the
   thread, finding the server's end gone, ends.  A wait of 0 ms makes it
   late nearly always; a try where it was ready all the same proves
   nothing and is repeated. */
static void test_late_start(void)
{
  int late = 0, kept = 0;
  for (int i = 0; i < 20 && !late; i++) {
    struct reaper r;
    int before = open_fds();
    if (reaper_start_within(&r, 0) == 0) {
      close(r.fd);
      pause_ms(50);
      continue;
    }
    late = errno == EAGAIN;
    kept = open_fds() == before + 1;
  }
  tap_ok(late, "a thread late to start: EAGAIN");
  tap_ok(kept, "... and its end of the socket stays open in the server's table");
  int ended = 0;
  for (int i = 0; i < 500 && !ended; i++) {
    ended = threads() == 1;
    if (!ended) pause_ms(10);
  }
  tap_ok(ended, "... and every such thread ends by itself (the first reaper too, its end closed)");
}

int main(void)
{
  struct reaper r;
  pid_t kids[KIDS], got[KIDS + 1], failed[REAPER_BATCH];
  tap_ok(reaper_start(&r) == 0 && r.fd >= 0, "started");
  int pipefd[2];
  if (pipe(pipefd) < 0) return 111;
  int before = open_fds();
  for (int i = 0; i < KIDS; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {   /* wait for the word, then end */
      char c;
      close(pipefd[1]);
      _exit(read(pipefd[0], &c, 1) < 0 ? 1 : 0);
    }
    if (r.nbatch == REAPER_BATCH) reaper_flush(&r, failed);
    reaper_watch(&r, kids[i]);
  }
  tap_ok(reaper_flush(&r, failed) == 0, "every pid handed over");
  close(pipefd[0]);
  pause_ms(200);
  tap_ok(reaper_news(&r, got, KIDS) == 0, "nothing ended yet: no news");
  tap_ok(open_fds() == before - 1, "the server's own table did not grow with 100 watched children");
  close(pipefd[1]);   /* every child ends */
  int n = gather(&r, got, KIDS);
  tap_ok(n == KIDS, "every child reported once it ended");
  int all = 1;
  for (int i = 0; i < KIDS; i++) {
    int status;
    if (waitpid(kids[i], &status, WNOHANG) != kids[i]) all = 0;
  }
  tap_ok(all, "each reported child is reapable at once");
  pause_ms(200);
  tap_ok(reaper_news(&r, got, 1) == 0, "no pid reported twice");

  reaper_watch(&r, 999999999);   /* no such process */
  reaper_flush(&r, failed);
  n = gather(&r, got, 1);
  tap_ok(n == 1 && got[0] == -999999999, "a pid that does not exist cannot be watched: minus the pid");
  close(r.fd);
  test_close_others();
  test_late_start();
  return tap_done();
}
