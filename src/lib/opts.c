#include <string.h>
#include <unistd.h>
#include "fd.h"
#include "opts.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

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

/* Where the next option letter is in argv[optind]; 0 at the start of an
   argument. */
static int letter;

/* 1 when a (argv[optind], NULL past the end) starts options; consumes
   an argument that starts with "--" (0.88's sgetopt ends the options
   there, whatever follows). */
static int options_start(const char *a)
{
  if (!a || a[0] != '-' || !a[1]) return 0;
  if (a[1] == '-') {
    optind++;
    return 0;
  }
  letter = 1;
  return 1;
}

int opts_next(int argc, char *const argv[], const char *optstring)
{
  if (optind < 1) {   /* getopt's convention: 0 starts again */
    optind = 1;
    letter = 0;
  }
  if (!letter && !options_start(optind < argc ? argv[optind] : NULL))
    return -1;
  const char *a = argv[optind];
  int c = (unsigned char) a[letter++];
  const char *spec = c == ':' ? NULL : strchr(optstring, c);
  int rest = a[letter] != 0;
  if (!spec || spec[1] != ':') {
    if (!rest) {
      optind++;
      letter = 0;
    }
    if (spec) return c;
    optopt = c;
    complain(argv[0], ": illegal option -- ", c);
    return '?';
  }
  /* An option with an argument: the rest of this one, or the next. */
  const char *after = a + letter;
  optind++;
  letter = 0;
  if (rest) {
    optarg = (char *) after;
    return c;
  }
  if (optind < argc) {
    optarg = argv[optind++];
    return c;
  }
  optopt = c;
  complain(argv[0], ": option requires an argument -- ", c);
  return '?';
}

int opts_help_version(int argc, char *const argv[])
{
  if (argc != 2 || !argv[1]) return 0;
  if (!strcmp(argv[1], "--help")) return OPTS_HELP;
  if (!strcmp(argv[1], "--version")) return OPTS_VERSION;
  return 0;
}

int opts_answer(int which, const char *prog, const char *usage)
{
  const char *head = which == OPTS_HELP ? "usage: " : prog;
  const char *text = which == OPTS_HELP ? usage : " " VERSION;
  char line[512];
  size_t h = strlen(head), t = strlen(text);
  if (h + t + 1 > sizeof line)   /* a usage this long goes out in pieces */
    return write_all(1, head, h) < 0 || write_all(1, text, t) < 0 ||
           write_all(1, "\n", 1) < 0 ? 111 : 0;
  memcpy(line, head, h);
  memcpy(line + h, text, t);
  line[h + t] = '\n';
  return write_all(1, line, h + t + 1) < 0 ? 111 : 0;
}
