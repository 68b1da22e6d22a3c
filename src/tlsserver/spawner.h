#ifndef SPAWNER_H
#define SPAWNER_H
#include <sys/types.h>
#include "../tcpserver/server.h"

/* tlsserver's spawner: the parent's memory is large (OpenSSL's
   contexts), so a fork per connection costs the parent most of its
   time.  Instead, one helper process, forked once, keeps an engine
   ready: a "standby", cloned with CLONE_PARENT so that it is the
   server's own child, like a forked engine.  Per connection the parent
   sends the standby the socket and what the child needs of struct conn
   over a SOCK_SEQPACKET pair and waits for its pid; the standby answers
   at once and becomes the connection's engine (child_run), and the
   spawner clones the next standby meanwhile: the fork is off the
   parent's path, its cost on the spawner's.

   The spawner and an unused standby are children of the server that
   are no connections: the core reaps them silently (kids.c).  They end
   when the parent closes its end (spawner_retire, or the parent's exit).

   A connection the spawner cannot take (a request too big, the spawner
   gone or silent) is forked by the core as without it; one warning
   says so, and a new spawner is started.  The slow path with -x or -C
   is always forked: its child counts the server's children, which only
   a fork of the parent knows. */
#define SPAWNER_REAPED 8
struct spawner {
  int fd;           /* the parent's end; -1: no spawner */
  pid_t pid;
  int pidfd;        /* the spawner's, to reap it safely; -1 none */
  pid_t standby;    /* the standby engine as last heard of; 0 none */
  long long retry_at;  /* a failed start: not again before (clock_ms) */
  /* Helpers reaped lately: a note from one of them, still queued, is
     stale (counting a reaped pid would count it for ever). */
  pid_t reaped[SPAWNER_REAPED];
  unsigned nreaped;
};

void spawner_init(struct spawner *s);
/* Fork the spawner, with the parent's memory as it is now (a reload
   starts a new one).  0, or -1 with errno; after a failure, the next
   second's tries fail at once (EAGAIN), so that a server out of
   processes does not pay two forks per connection. */
int spawner_start(struct spawner *s, struct server *srv);
/* The server_program spawn hook: the engine's pid, or 0 (the core
   forks). */
pid_t spawner_spawn(struct spawner *s, struct server *srv, struct conn *c);
/* The server_program helper_ended hook: pid was reaped. */
void spawner_reaped(struct spawner *s, pid_t pid);
/* Let the spawner and its standby end; running engines are untouched. */
void spawner_retire(struct spawner *s, struct server *srv);
#endif
