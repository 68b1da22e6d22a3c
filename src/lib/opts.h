#ifndef OPTS_H
#define OPTS_H
/* getopt as the reference's programs use it (0.88's sgetopt): options
   end at the first operand (no permutation), at "-", or at an argument
   starting with "--", which is consumed ("--x" like "--"); a bad option
   is reported in the reference's words before the caller prints its
   usage:
     tcpclient: illegal option -- Z
     tcpclient: option requires an argument -- i
   (the program name is argv[0] without its directory).  Returns as
   getopt: the option letter with optarg set, '?' after an error, -1 at
   the end, when optind is the first operand. */
int opts_next(int argc, char *const argv[], const char *optstring);

/* --help and --version, only where 0.88 would have failed anyway: as the
   one and only argument (0.88 takes any "--word" as the end of the
   options, so "tcpserver --help 0 79 prog" still runs a server).
   Returns OPTS_HELP, OPTS_VERSION, or 0 for anything else. */
enum { OPTS_HELP = 1, OPTS_VERSION = 2 };
int opts_help_version(int argc, char *const argv[]);
/* The answer on stdout: "usage: USAGE" for OPTS_HELP, "PROG VERSION"
   for OPTS_VERSION (VERSION from the top of the tree), and a newline;
   one write when under 512 bytes, whole in any case.  Returns the exit
   code: 0, or 111 when stdout could not be written. */
int opts_answer(int which, const char *prog, const char *usage);
#endif
