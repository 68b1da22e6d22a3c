/* genrules: write a tcprules input of N lines to standard output, with
   every address form of 0.88 (addresses, prefixes, both kinds of range,
   =host, =.suffix, info@ip, info@=host), assignments with various quote
   characters, comments and empty lines.  Deterministic: the same N and
   seed give the same file.  No line matches 127.*, so that a benchmark's
   loopback client falls through every lookup to the default.
   usage: genrules lines [seed] */
#include <stdio.h>
#include <stdlib.h>

static unsigned long long state;

static unsigned next(unsigned bound)
{
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned) (state >> 33) % bound;
}

/* A first octet that is never 127, never 0. */
static unsigned first_octet(void)
{
  unsigned a = 1 + next(254);
  return a == 127 ? 128 : a;
}

static const char *const words[] = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot" };
static const char quotes[] = "\"/+=':";

static void assignments(unsigned n, unsigned long i)
{
  while (n--) {
    char q = quotes[next(sizeof quotes - 1)];
    printf(",%s%u=%c%s%lu%c", words[next(6)], next(100), q, words[next(6)], i, q);
  }
}

static void line(unsigned long i)
{
  unsigned a = first_octet(), b = next(256), c = next(256), d = next(256);
  const char *action = next(4) ? "allow" : "deny";
  switch (next(13)) {
  case 0: printf("%u.%u.%u.%u:%s", a, b, c, d, action); break;
  case 1: printf("%u.%u.%u.:%s", a, b, c, action); break;
  case 2: printf("%u.%u.:%s", a, b, action); break;
  case 3: printf("%u.:%s", a, action); break;
  case 4: printf("%u.%u.%u.%u-%u:%s", a, b, c, d, d + next(4), action); break;
  case 5: printf("%u.%u-%u.:%s", a, b, b + next(3), action); break;
  case 6: printf("=host%lu.example.com:%s", i, action); break;
  case 7: printf("=.%s%lu.example:%s", words[next(6)], i, action); break;
  case 8: printf("user%lu@%u.%u.%u.%u:%s", i, a, b, c, d, action); break;
  case 9: printf("%s%lu@=mail%lu.example.org:%s", words[next(6)], i, i, action); break;
  case 10: printf("# comment %lu: %s", i, words[next(6)]); return;
  case 11: return;   /* an empty line */
  default: printf("%u.%u.%u.%u:%s", a, b, c, d, action); assignments(1 + next(3), i); return;
  }
  assignments(next(3), i);
}

int main(int argc, char **argv)
{
  static char buf[1 << 16];
  unsigned long n, i;
  if (argc < 2) {
    fputs("genrules: usage: genrules lines [seed]\n", stderr);
    return 100;
  }
  n = strtoul(argv[1], NULL, 10);
  state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
  setvbuf(stdout, buf, _IOFBF, sizeof buf);
  for (i = 0; i < n; i++) {
    line(i);
    putchar('\n');
  }
  return fflush(stdout) ? 111 : 0;
}
