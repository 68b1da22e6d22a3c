#ifndef FD_H
#define FD_H
#include <stddef.h>

/* Descriptors: whole writes, and putting a descriptor where a program
   expects it (0 and 1 for tcpserver's program, 6 and 7 for tcpclient's,
   the pipes of recordio and fixcrio). */

/* Write exactly n bytes to fd, retrying on EINTR and short writes.
   Returns 0, or -1 with errno set. */
int write_all(int fd, const void *buf, size_t n);

/* Make `from` available as `to` for the program about to be exec'd: dup2
   and close `from`; when they are already the same descriptor, clear its
   close-on-exec flag instead (dup2(6, 6) would keep it).  Returns 0, or
   -1 with errno. */
int fd_move(int to, int from);
#endif
