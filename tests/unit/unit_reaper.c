/* reaper.c: the children it is given are reported when they end, each
   once, while the server's own descriptor table does not grow with
   them; a pid that does not exist cannot be watched. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "reaper.h"

#define KIDS 100

static int open_fds(void)
{
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

/* News until want pids came or 5 s passed. */
static int gather(struct reaper *r, pid_t *got, int want)
{
  int n = 0;
  for (int tries = 0; n < want && tries < 500; tries++) {
    long k = reaper_news(r, got + n, (size_t) (want - n));
    if (k < 0) return -1;
    n += (int) k;
    if (n < want) {
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep(&ts, NULL);
    }
  }
  return n;
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
  struct timespec ts = { 0, 200 * 1000 * 1000 };
  nanosleep(&ts, NULL);
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
  nanosleep(&ts, NULL);
  tap_ok(reaper_news(&r, got, 1) == 0, "no pid reported twice");

  /* Children that end together come in one message; taken one pid at a
     time, none of it is lost. */
  if (pipe(pipefd) < 0) return 111;
  for (int i = 0; i < KIDS; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      char c;
      close(pipefd[1]);
      _exit(read(pipefd[0], &c, 1) < 0 ? 1 : 0);
    }
    if (r.nbatch == REAPER_BATCH) reaper_flush(&r, failed);
    reaper_watch(&r, kids[i]);
  }
  reaper_flush(&r, failed);
  close(pipefd[0]);
  nanosleep(&ts, NULL);
  close(pipefd[1]);
  nanosleep(&ts, NULL);
  n = 0;
  for (int tries = 0; n < KIDS && tries < 500; tries++) {
    long k = reaper_news(&r, got + n, 1);
    if (k < 0) break;
    if (k == 0) nanosleep(&(struct timespec) { 0, 10 * 1000 * 1000 }, NULL);
    n += (int) k;
  }
  all = n == KIDS;
  for (int i = 0; i < KIDS; i++) {
    int status;
    if (waitpid(kids[i], &status, WNOHANG) != kids[i]) all = 0;
  }
  tap_ok(all, "100 children ending together, taken one pid at a time: every one reported");

  reaper_watch(&r, 999999999);   /* no such process */
  reaper_flush(&r, failed);
  n = gather(&r, got, 1);
  tap_ok(n == 1 && got[0] == -999999999, "a pid that does not exist cannot be watched: minus the pid");
  return tap_done();
}
