/* spawnloop: run a program N times in a row (output to /dev/null) and
   print the mean wall-clock time of one run, start to exit, in
   microseconds.  For programs whose cost is mostly start-up.
   usage: spawnloop count program [arg ...] */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  posix_spawn_file_actions_t fa;
  long count, i;
  double t0;
  if (argc < 3 || (count = atol(argv[1])) < 1) {
    fputs("spawnloop: usage: spawnloop count program [arg ...]\n", stderr);
    return 100;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  t0 = now();
  for (i = 0; i < count; i++) {
    pid_t pid;
    int status;
    if (posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0) {
      perror("spawnloop: spawn");
      return 111;
    }
    if (waitpid(pid, &status, 0) == -1) {
      perror("spawnloop: waitpid");
      return 111;
    }
  }
  printf("%.1f\n", (now() - t0) / count * 1e6);
  return 0;
}
