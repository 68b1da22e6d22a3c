#ifndef FRONT_H
#define FRONT_H
/* The front (-G): the process a supervisor started stays a thin front,
   and a child of it, the server, binds, accepts and is the parent of
   the connections.  Supervisors restart a service only when the process
   they started exits, and only the parent of a connection's program
   learns how it ended; so on SIGTERM the front has the server close its
   listening socket, waits until it has (the port is then free), and
   exits at once: the supervisor starts the new instance while the
   server drains the old connections to its deadline, logs their ends on
   the same descriptor 2, and exits after the last one.

   The two talk over a socket pair: the server writes FRONT_READY once
   it listens (the front then tells the supervisor) and FRONT_CLOSED once
   its listening socket is closed (the front then exits 0); the end of
   the front (SIGKILL, any signal that ends it) is an end of file for the
   server, which then drains as on SIGTERM.  The front forwards SIGTERM
   and SIGHUP to the server; when the server ends, the front ends the
   same way (its exit code, or its signal).  Nothing passes between them
   per connection. */

#define FRONT_READY 'R'
#define FRONT_CLOSED 'C'
/* How long the front waits, after SIGTERM, for the server to close its
   listening socket before it exits all the same (a stopped server). */
#define FRONT_TERM_WAIT_MS 5000

struct front {
  int fd;   /* this process's end of the socket pair; -1: no front */
};

/* Fork the server.  Returns 0 in the server (fd: its end, close-on-exec
   and non-blocking; the signal mask as it was), 1 in the front (fd: its
   end), -1 with errno when the pair or the fork failed. */
int front_fork(struct front *fr);

/* In the front: wait until the server listens.  If the server ends
   first, the front ends as it did and never returns. */
void front_wait_ready(struct front *fr);

/* In the front, once the server is ready: wait for a signal, the
   server's word or its end, as described above.  Never returns. */
_Noreturn void front_serve(struct front *fr);

/* In the server: tell the front (FRONT_READY, FRONT_CLOSED); a front
   that is gone is not an error. */
void front_tell(const struct front *fr, char what);

/* In the server, when fd is readable: 1 when the front is gone (end of
   file), else 0. */
int front_gone(const struct front *fr);
#endif
