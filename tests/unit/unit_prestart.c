/* The start before libc (prestart.h): its option scan must agree with
   opts_next on every argument list, since a disagreement would run the
   program where main would have refused the options (or the reverse);
   its getenv with getenv's first-match rule. */
#include <fcntl.h>
#include <unistd.h>
#include "tap.h"
#include "opts.h"
#include "prestart.h"

/* prestart.o's hook; never called here. */
int prestart_program(int argc, char **argv, char **envp)
{
  (void) argc;
  (void) argv;
  (void) envp;
  return 0;
}

/* What main would do: the operand's index, or 0 (a complaint, or none). */
static int by_opts_next(int argc, char **argv, const char *optstring)
{
  optind = 0;
  int c;
  while ((c = opts_next(argc, argv, optstring)) != -1)
    if (c == '?') return 0;
  return optind < argc ? optind : 0;
}

static const char *const words[] = {
  "-b", "-r", "x", "-rx", "-bc", "-bt", "-Z", "-", "--", "--x", "-b:",
  "-:", "prog", "-ta", "-t", "-bB", "-T", "-a", ""
};
#define NWORDS (int) (sizeof words / sizeof words[0])

/* Every list of up to 4 of the words after argv[0]. */
static void agree_with_opts_next(void)
{
  const char *optstring = "bBcCt:T:r:a:";
  int quiet = open("/dev/null", O_WRONLY), saved = dup(2);
  dup2(quiet, 2);   /* opts_next's complaints */
  long cases = 0, differ = 0;
  char *argv[6];
  argv[0] = (char *) "rblsmtpd";
  for (int len = 0; len <= 4; len++) {
    long total = 1;
    for (int k = 0; k < len; k++) total *= NWORDS;
    for (long n = 0; n < total; n++) {
      long m = n;
      for (int k = 0; k < len; k++, m /= NWORDS) argv[1 + k] = (char *) words[m % NWORDS];
      argv[1 + len] = 0;
      int want = by_opts_next(1 + len, argv, optstring);
      int got = prestart_operand(1 + len, argv, optstring);
      cases++;
      if (got != want && differ++ < 5) {
        dup2(saved, 2);
        printf("# differ on");
        for (int k = 1; k <= len; k++) printf(" '%s'", argv[k]);
        printf(": prestart %d, opts_next %d\n", got, want);
        dup2(quiet, 2);
      }
    }
  }
  dup2(saved, 2);
  close(saved);
  close(quiet);
  printf("# %ld argument lists\n", cases);
  tap_ok(!differ, "prestart_operand agrees with opts_next on every list of up to 4 arguments");
}

static void getenv_first_match(void)
{
  char *env[] = { (char *) "RBLSMTP=a", (char *) "RBLSMTPDX=b", (char *) "=c",
                  (char *) "RBLSMTPD=", (char *) "RBLSMTPD=d", 0 };
  tap_is_str(prestart_getenv(env, "RBLSMTPD"), "", "the first RBLSMTPD=, empty");
  tap_is_str(prestart_getenv(env + 4, "RBLSMTPD"), "d", "a value");
  tap_ok(prestart_getenv(env, "PATH") == 0, "absent: null");
  tap_ok(prestart_getenv(env, "RBLSMTP") != 0 && !strcmp(prestart_getenv(env, "RBLSMTP"), "a"),
         "a name that is a prefix of another");
}

int main(void)
{
  agree_with_opts_next();
  getenv_first_match();
  return tap_done();
}
