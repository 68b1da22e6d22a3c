#ifndef MSG_H
#define MSG_H
/* Messages on fd 2 in the reference's style, each written with a single
   write(2) so that concurrent writers never interleave a line:
     PROG: fatal: unable to bind: address already used
   Every list of strings ends with a NULL pointer. */

void msg_setprog(const char *prog);
const char *msg_prog(void);
/* Quiet (-q): from now on every message is dropped; exit codes stay. */
void msg_quiet(int on);

/* "PROG: " s... "\n" */
void msg_line(const char *s, ...);
/* "PROG: warning: " s... "\n" */
void msg_warn(const char *s, ...);
/* "PROG: " s... "\n", then exit(code). */
_Noreturn void msg_die(int code, const char *s, ...);
/* "PROG: fatal: " s... ": " errtext(errno) "\n", then exit(111). */
_Noreturn void msg_fatal_sys(const char *s, ...);
/* "PROG: fatal: " s... "\n", then exit(code). */
_Noreturn void msg_fatal(int code, const char *s, ...);
/* "PROG: usage: " usage "\n", then exit(100). */
_Noreturn void msg_usage(const char *usage);

#endif
