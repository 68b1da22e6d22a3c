#ifndef TLSENGINE_PARTS_H
#define TLSENGINE_PARTS_H
#include <stddef.h>
#include <sys/types.h>
#include "tls.h"
#include "tlsengine.h"

/* Inside tlsengine_run (tlsengine.h): what its modes share
   (tlsengine_parts.c), for the direct and spawned modes (tlsengine.c)
   and the UCSPI-TLS mode (tlsengine_ucspitls.c).
   Not for other callers.  Each "ends the engine" reports through
   e->fatal and exits 111. */

/* The SSL_* block handed to the program: bounded. */
#define VARS_MAX 16384

_Noreturn void engine_die(const struct tlsengine *e, const char *what,
                          const char *arg, int err);
/* fd moved above the program's descriptors, close-on-exec. */
int engine_high(const struct tlsengine *e, int fd);
void engine_make_pipe(const struct tlsengine *e, int p[2]);
/* As tcpserver's -g and -u when on (an id of 0 is kept): 0, or -1. */
int engine_set_ids(int on, uid_t uid, gid_t gid);
/* The engine's own ids and confinement, once the program's process exists. */
void engine_confine(const struct tlsengine *e);
/* SIGTERM to the engine goes on to pid. */
void engine_forward_signals(pid_t pid);
/* pid's pidfd, or -1. */
int engine_pidfd_of(pid_t pid);
/* Reap pid and leave as it left: its exit code, or its signal. */
_Noreturn void engine_exit_like(pid_t pid);
/* The handshake within e->handshake_ms: 0 and *out, or -1 (logged). */
int engine_handshake(const struct tlsengine *e, struct tls_conn **out);
/* Relay between c and the program's to/from until both directions end. */
void engine_relay(const struct tlsengine *e, struct tls_conn *c, int to, int from,
                  pid_t pid);
/* Start the program with from[i] on to[i]; its pid (a failure ends the engine). */
pid_t engine_start_program(const struct tlsengine *e, char **env,
                           const int *from, const int *to, size_t n);
/* UCSPI-TLS: the program starts in cleartext and asks for TLS. */
_Noreturn void engine_run_ucspitls(const struct tlsengine *e);
#endif
