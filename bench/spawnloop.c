/* spawnloop: run a program N times in a row (output to /dev/null) and
   print the median and the mean wall-clock time of one run, start to
   exit, in microseconds: "p50_us=.. mean_us=..".  For programs whose
   cost is mostly start-up.
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

static int by_value(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  posix_spawn_file_actions_t fa;
  long count, i;
  double *took, total = 0;
  if (argc < 3 || (count = atol(argv[1])) < 1 || count > 10000000) {
    fputs("spawnloop: usage: spawnloop count program [arg ...]\n", stderr);
    return 100;
  }
  if (!(took = malloc(sizeof *took * (size_t) count))) {
    perror("spawnloop: malloc");
    return 111;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  for (i = 0; i < count; i++) {
    pid_t pid;
    int status;
    double t0 = now();
    if (posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0) {
      perror("spawnloop: spawn");
      return 111;
    }
    if (waitpid(pid, &status, 0) == -1) {
      perror("spawnloop: waitpid");
      return 111;
    }
    took[i] = now() - t0;
    total += took[i];
  }
  qsort(took, (size_t) count, sizeof *took, by_value);
  printf("p50_us=%.1f mean_us=%.1f\n", took[count / 2] * 1e6, total / count * 1e6);
  return 0;
}
