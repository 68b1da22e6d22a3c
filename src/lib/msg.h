#ifndef MSG_H
#define MSG_H
/* Messages on fd 2 in the reference's style, each written with a single
   write(2) so that concurrent writers never interleave a line:
     PROG: fatal: unable to bind: address already used
   The message is the concatenation of the strings given, e.g.
     msg_fatal(111, "unable to read ", file);
   The macros pass them as one NULL-terminated array (a compound literal),
   so that no call site ends a variable argument list by hand. */

void msg_setprog(const char *prog);
const char *msg_prog(void);
/* Quiet (-q): from now on every message is dropped; exit codes stay. */
void msg_quiet(int on);

#define MSG_PARTS(...) ((const char *const[]) { __VA_ARGS__, (const char *) 0 })

/* "PROG: " parts "\n" */
#define msg_line(...) msg_line_parts(MSG_PARTS(__VA_ARGS__))
/* "PROG: warning: " parts "\n" */
#define msg_warn(...) msg_warn_parts(MSG_PARTS(__VA_ARGS__))
/* "PROG: " parts "\n", then exit(code). */
#define msg_die(code, ...) msg_die_parts(code, MSG_PARTS(__VA_ARGS__))
/* "PROG: fatal: " parts "\n", then exit(code). */
#define msg_fatal(code, ...) msg_fatal_parts(code, MSG_PARTS(__VA_ARGS__))
/* "PROG: fatal: " parts ": " errtext(errno) "\n", then exit(111). */
#define msg_fatal_sys(...) msg_fatal_sys_parts(MSG_PARTS(__VA_ARGS__))
/* "PROG: usage: " usage "\n", then exit(100). */
_Noreturn void msg_usage(const char *usage);

/* The functions behind the macros: parts ends with a NULL pointer. */
void msg_line_parts(const char *const *parts);
void msg_warn_parts(const char *const *parts);
_Noreturn void msg_die_parts(int code, const char *const *parts);
_Noreturn void msg_fatal_parts(int code, const char *const *parts);
_Noreturn void msg_fatal_sys_parts(const char *const *parts);
#endif
