/* A main for the fuzz targets without libFuzzer: runs the target on
   every file named, so that the corpus and the crash regressions
   (fuzz/regress/) are replayed by make check, and under ASan by make
   asan.  Exit 0 when the target returned for every file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *file)
{
  FILE *f = fopen(file, "rb");
  if (!f) { perror(file); return 1; }
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len, f);
    if (len < cap) break;
    uint8_t *bigger = realloc(buf, cap *= 2);
    if (!bigger) free(buf);
    buf = bigger;
  }
  fclose(f);
  if (!buf) return 1;
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv)
{
  int bad = 0;
  for (int i = 1; i < argc; i++) bad |= replay(argv[i]);
  return bad;
}
