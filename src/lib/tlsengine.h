#ifndef TLSENGINE_H
#define TLSENGINE_H
#include <stddef.h>
#include <sys/types.h>
#include "tls.h"

/* The TLS side of one connection, for tlsserver's forked child and for
   tlsclient: it starts the program, takes the handshake, relays, reaps
   the program and exits with its status, so that whoever waits for this
   process sees the program's end.

   Without ucspitls the program runs with its descriptors fd_read and
   fd_write on pipes to the engine once the handshake is done; a failed
   handshake ends the engine (exit 111) after log_fail, and no program
   runs.  With ids to set (set_tls_ids or set_prog_ids) the program's
   process is forked first, while the engine may still change its ids,
   and waits; the engine takes the handshake under its own ids (tls_*),
   then hands the program its SSL_* variables, and the program runs
   under prog_*.  Without, the program is started after the handshake
   with vfork, which costs less than a fork of the engine.

   With ucspitls (UCSPI-TLS) the program starts at once with the
   cleartext socket on fd_read and fd_write and SSLCTLFD, SSLREADFD,
   SSLWRITEFD in its environment; 'y' on the control descriptor starts
   the handshake, 'Y' too and the variables come back on it as
   NAME=value\0...\0\0; the program then reads SSLREADFD and writes
   SSLWRITEFD.  A failed handshake closes those (the program reads EOF)
   after log_fail.

   SIGTERM to the engine is passed on to the program (when the engine
   may signal it; else the engine ends, closing the program's pipes).  The engine is not
   dumpable and has no_new_privs.  Every TLS setting
   (tls_scrub_env) is removed from the program's environment. */
struct tlsengine {
  int sock;                        /* the connected socket */
  struct tls_server *server;       /* a server side, or */
  struct tls_client *client;       /* a client side, for */
  const char *name;                /* its expected name (may be NULL) */
  int handshake_ms;
  int full;                        /* the full certificate variables */
  int ucspitls;
  int fd_read, fd_write;           /* the program's: 0 1 or 6 7 */
  const char *banner;              /* written through TLS first; may be NULL */
  size_t bannerlen;
  char *const *argv;
  char *const *envp;               /* the program's, before the SSL_* */
  int set_prog_ids;                /* then setgroups, setgid, setuid: */
  uid_t prog_uid;
  gid_t prog_gid;
  int set_tls_ids;                 /* the engine's own, likewise */
  uid_t tls_uid;
  gid_t tls_gid;
  /* Reports, to the caller's log; after fatal the engine exits 111. */
  void (*log_tls)(void *ctx, const struct tls_conn *c);
  void (*log_fail)(void *ctx, const char *why);
  void (*fatal)(void *ctx, const char *what, const char *arg, int err);
  void *ctx;
};

_Noreturn void tlsengine_run(const struct tlsengine *e);
#endif
