#ifndef SPAWNMSG_H
#define SPAWNMSG_H
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "../tcpserver/server.h"

/* What the parent tells a standby engine about its connection (the
   descriptor goes beside it, fdpass.h): struct conn as far as the child
   uses it, made position-independent.  The peer is copied whole, its
   name pointers replaced by where they point (inside the peer, to -l's
   name, or nowhere); the outcome and, on the fast path, the drop
   reason and the program's environment follow as 0-terminated strings.
   Pointers to option strings would be valid in the standby too (it is
   a fork made after option parsing), but nothing depends on that. */

/* A whole request is at most this long: a bigger one (a rule that sets
   tens of kilobytes of variables) is forked by the core instead. */
#define SPAWNMSG_MAX 65536

/* Into iov[0..1] (pointing to static storage, valid until the next
   call), for the standby expect (0: whichever takes it must answer):
   0, or -1 when the request would be over SPAWNMSG_MAX. */
int spawnmsg_encode(const struct server *srv, const struct conn *c, pid_t expect,
                    struct iovec iov[2]);

/* The standby a request of len bytes is meant for; 0: none. */
pid_t spawnmsg_expected(const unsigned char *buf, size_t len);

/* From len bytes in buf (aligned for any type; the strings stay in it)
   and the descriptor that came with them, into *c.  0, or -1 with
   errno (EPROTO: not a request; ENOMEM). */
int spawnmsg_decode(const struct server *srv, unsigned char *buf, size_t len, int fd,
                    struct conn *c);

/* Standby to parent.  The parent that knows the waiting standby from
   its NOTE_READY sends the request for it and counts it at once, with
   no answer to wait for; only a request for no standby in particular
   (none had announced itself yet), or one taken by another than
   expected (the expected one died), is answered. */
enum { NOTE_READY = 1,   /* a standby waits: pid */
       NOTE_TAKEN = 2 }; /* it took the request: pid is the engine */
struct spawn_note {
  int kind;
  pid_t pid;
};
#endif
