/* noop: the service of the start-up part of the benchmark: does nothing
   and exits 0.  Linked statically (on musl when there is musl-gcc), so
   that the chain "program under test, then noop" measures the program. */
int main(void)
{
  return 0;
}
