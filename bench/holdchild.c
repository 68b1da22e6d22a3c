/* holdchild: the service of the benchmarks and load tests that keeps its
   connection: reads its input until EOF, then writes "ok\n" and exits.
   A client that never closes its side holds a connection slot idle for
   as long as it likes.  Linked statically, as okchild. */
#include <unistd.h>

int main(void)
{
  char buf[512];
  ssize_t r;
  while ((r = read(0, buf, sizeof buf)) > 0)
    ;
  return write(1, "ok\n", 3) == 3 ? 0 : 1;
}
