#ifndef NUM_H
#define NUM_H
#include <stddef.h>

/* Decimal numbers in and out, as 0.88 reads and writes them: every
   number of an option, an environment variable, a rules range or a log
   line goes through here. */

/* Decimal formatting of n into buf (at least FMT_ULONG bytes), NUL
   added; returns the length without the NUL. */
#define FMT_ULONG 21
size_t fmt_ulong(char *buf, unsigned long n);

/* The one number scanner: the leading decimal digits of s, at most len
   bytes of them (the scan also stops at a NUL or any other non-digit).
   *u is 0 when there are none.  Returns how many bytes it used.
   Without SCAN_SATURATE the value wraps modulo 2^64 as 0.88's scan_ulong
   does (tcprules' ranges depend on it); with it a number too big for an
   unsigned long is ULONG_MAX, which the programs' options have always
   given. */
#define SCAN_SATURATE 1
size_t scan_ulong_flags(const char *s, size_t len, int flags,
                        unsigned long *u);

/* The common forms: a NUL-terminated s, wrapping (0.88's scan_ulong) or
   saturating. */
size_t scan_ulong(const char *s, unsigned long *u);
size_t scan_ulong_sat(const char *s, unsigned long *u);
/* Just the value: wrapping, for 0.88's options and variables (tcpserver
   -c 18446744073709551617 is -c 1 there too); saturating, for the
   options 0.88 does not have. */
unsigned long scan_leading(const char *s);
unsigned long scan_leading_sat(const char *s);
#endif
