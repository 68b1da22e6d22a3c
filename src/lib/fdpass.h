#ifndef FDPASS_H
#define FDPASS_H
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* One message with one descriptor in it (SCM_RIGHTS), over a unix
   socket that keeps message boundaries (SOCK_SEQPACKET): tlsserver's
   parent hands a connection to its spawner this way. */

/* Send the n pieces of iov as one message, with fd (-1: none).  Never
   raises SIGPIPE.  Returns the bytes sent (all of them: a seqpacket
   message goes whole or not at all), or -1 with errno (EPIPE or
   ECONNRESET: nobody reads the other end any more; EMSGSIZE: too big
   for the socket's buffer; EAGAIN: a timeout set on the socket). */
ssize_t fdpass_send(int sock, const struct iovec *iov, int n, int fd);

/* Receive one message into buf (size bytes) and the descriptor that
   came with it into *fd (-1 if none; close-on-exec).  Returns its
   length, 0 at the end (the other end closed), or -1 with errno:
   EMSGSIZE when the message or its control data did not fit (it is
   discarded, and any descriptor in it closed), EAGAIN on a timeout
   set on the socket, EINTR. */
ssize_t fdpass_recv(int sock, void *buf, size_t size, int *fd);
#endif
