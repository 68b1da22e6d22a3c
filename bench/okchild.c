/* okchild: the trivial service of the benchmarks and load tests: writes
   "ok\n" and exits; with an argument, first waits that many milliseconds
   (so that a load test fills the server's connection slots).  Linked
   statically so that its own start-up costs next to nothing. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc > 1) {
    long ms = atol(argv[1]);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
  }
  return write(1, "ok\n", 3) == 3 ? 0 : 1;
}
