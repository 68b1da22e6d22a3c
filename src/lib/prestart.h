#ifndef PRESTART_H
#define PRESTART_H
/* A program's way around libc's start-up, for the case where all it does
   is run another program: a static glibc program spends most of its
   start-up (hundreds of microseconds on a VM) probing the CPU before main
   runs, which a program run once per connection pays every time.

   A program linked with -Wl,-e,prestart_entry (the Makefile's
   PRESTART_PROGS) starts in prestart_entry, before libc: that calls the
   program's prestart_program with the kernel's argc, argv and envp.  If
   it returns an index i > 0, argv[i] is run at once with argv + i and
   envp, found as pathexec_run would find it (pathexec.h).  If it returns
   0, or the program cannot be run there and then (any failure: nothing
   is reported), libc starts as usual and main does everything again,
   errors included: the fast way has no effect but the exec.

   prestart_program runs before libc: it may call the prestart_ helpers
   below and nothing else (no libc function, no errno, no globals that
   need relocating), and its file is compiled with PRESTART_CFLAGS (no
   stack protector, no sanitizer, no builtins) and listed in the
   Makefile's PRESTART_OBJ.  Linux on x86-64 only: elsewhere, and in
   builds that are not static, the Makefile links the program as any
   other and none of this runs. */

/* Defined by the program: the index of the program to run, or 0. */
int prestart_program(int argc, char **argv, char **envp);

/* The value of the first NAME=value in envp, or 0 (as getenv). */
const char *prestart_getenv(char **envp, const char *name);

/* The index of the first operand after the options, parsed as opts_next
   parses them with optstring (opts.h), or 0 for anything opts_next would
   complain about (an unknown letter, a missing argument) or when there
   is no operand. */
int prestart_operand(int argc, char **argv, const char *optstring);
#endif
