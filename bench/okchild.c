/* okchild: the trivial service of the benchmarks: writes "ok\n", exits.
   Linked statically so that its own start-up costs next to nothing. */
#include <unistd.h>

int main(void)
{
  return write(1, "ok\n", 3) == 3 ? 0 : 1;
}
