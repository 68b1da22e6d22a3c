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
#endif
