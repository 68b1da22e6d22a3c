#include <string.h>
#include <unistd.h>
#include "fd.h"
#include "opts.h"

static void complain(const char *argv0, const char *what, int opt)
{
  const char *slash = strrchr(argv0, '/');
  const char *name = slash ? slash + 1 : argv0;
  char line[256];
  size_t n = strlen(name);
  if (n > 100) n = 100;
  memcpy(line, name, n);
  size_t w = strlen(what);
  memcpy(line + n, what, w);
  n += w;
  line[n++] = (char) opt;
  line[n++] = '\n';
  write_all(2, line, n);
}

int opts_next(int argc, char *const argv[], const char *optstring)
{
  char spec[128];
  size_t len = strlen(optstring);
  if (len > sizeof spec - 3) len = sizeof spec - 3;
  /* '+': stop at the first operand; ':': report errors ourselves. */
  spec[0] = '+';
  spec[1] = ':';
  memcpy(spec + 2, optstring, len);
  spec[len + 2] = 0;
  opterr = 0;
  int c = getopt(argc, argv, spec);
  if (c == '?') complain(argv[0], ": illegal option -- ", optopt);
  if (c == ':') {
    complain(argv[0], ": option requires an argument -- ", optopt);
    c = '?';
  }
  return c;
}
