#ifndef NOTIFY_H
#define NOTIFY_H

/* Telling a supervisor that the server is ready (its socket is bound and
   listening), so that services depending on it start only then: systemd's
   NOTIFY_SOCKET protocol and s6's notification fd.  Neither ever blocks. */

/* Send the datagram "READY=1" to the AF_UNIX socket named by
   NOTIFY_SOCKET.  Returns 1 when sent, 0 when NOTIFY_SOCKET is unset or
   empty (not run under a supervisor that listens), -1 with errno. */
int notify_systemd_ready(void);

/* The same to an explicit address: an absolute path, or "@name" for the
   abstract namespace.  -1 with errno EAFNOSUPPORT for any other form,
   ENAMETOOLONG when it does not fit a sockaddr_un, EAGAIN when the
   receiver's queue is full, or the error of socket/sendto. */
int notify_send(const char *address, const char *message);

/* Write a newline to fd, then close it (s6-supervise's notification-fd).
   Never waits: a reader that has stopped and left the pipe full gives
   -1 with errno EAGAIN at once (a supervisor that cannot be told is
   worth a warning, not the service).  The descriptor is non-blocking for
   that one write only.  Returns 0, or -1 with errno (fd is closed all
   the same). */
int notify_fd_ready(int fd);
#endif
