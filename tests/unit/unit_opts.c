/* opts.c: --help and --version only as the one argument; the answer on
   stdout whole, however long the usage; 0.88's option parsing ("--x"
   ends the options and is consumed). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "opts.h"

/* What opts_answer writes to stdout (up to 4 KiB), and its result. */
static const char *answer(int which, const char *prog, const char *usage, int *code)
{
  static char got[4096];
  int p[2], saved = dup(1);
  fflush(stdout);
  if (saved < 0 || pipe(p) < 0) return "(no pipe)";
  dup2(p[1], 1);
  close(p[1]);
  *code = opts_answer(which, prog, usage);
  dup2(saved, 1);
  close(saved);
  ssize_t n = read(p[0], got, sizeof got - 1);
  close(p[0]);
  got[n > 0 ? n : 0] = 0;
  return got;
}

int main(void)
{
  char *help[] = { "x", "--help", NULL }, *version[] = { "x", "--version", NULL };
  char *more[] = { "x", "--help", "y", NULL }, *other[] = { "x", "--helpme", NULL };
  tap_ok(opts_help_version(2, help) == OPTS_HELP, "--help alone");
  tap_ok(opts_help_version(2, version) == OPTS_VERSION, "--version alone");
  tap_ok(opts_help_version(3, more) == 0, "--help with more arguments: not an answer");
  tap_ok(opts_help_version(2, other) == 0, "--helpme: not an answer");

  int code = -1;
  tap_is_str(answer(OPTS_HELP, "x", "x [ -a ] prog", &code), "usage: x [ -a ] prog\n", "the usage");
  tap_ok(code == 0, "... exit 0");
  char longer[700];
  memset(longer, 'u', sizeof longer - 1);
  longer[sizeof longer - 1] = 0;
  const char *got = answer(OPTS_HELP, "x", longer, &code);
  tap_ok(strlen(got) == 7 + 699 + 1 && got[706] == '\n' && got[705] == 'u' && code == 0,
         "a usage of 699 bytes goes out whole, not cut at 512");

  char *argv[] = { "x", "-ab", "--z", "rest", NULL };
  optind = 0;
  int a = opts_next(4, argv, "ab"), b = opts_next(4, argv, "ab"), end = opts_next(4, argv, "ab");
  tap_ok(a == 'a' && b == 'b' && end == -1 && optind == 3,
         "-ab then \"--z\": options end there and it is consumed, as 0.88's sgetopt");
  return tap_done();
}
