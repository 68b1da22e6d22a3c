#ifndef LISTENFD_H
#define LISTENFD_H
#include <stddef.h>
#include <sys/types.h>

/* Listening sockets handed over by a supervisor instead of bound by the
   server itself: systemd socket activation (LISTEN_PID, LISTEN_FDS, the
   sockets on fds 3, 4, ..., LISTEN_FDNAMES) and a listening socket on
   fd 0 (inetd "wait" services, s6-tcpserver-socketbinder). */

#define LISTENFD_FIRST 3          /* SD_LISTEN_FDS_START */
#define LISTENFD_MAX 4096         /* more is taken as a malformed LISTEN_FDS */

/* The environment variables of socket activation, NULL-terminated: unset
   them before running a program, so that it does not take the sockets
   for its own. */
extern const char *const listenfd_env_names[];

/* How many sockets systemd passed to this process (pid self), from the
   values of LISTEN_PID and LISTEN_FDS (NULL when unset).  0 when they
   are unset or LISTEN_PID names another process (the variables were
   inherited, not meant for us); -1 with errno EINVAL when malformed (not
   a decimal number, or more than LISTENFD_MAX).  The sockets are fds
   LISTENFD_FIRST .. LISTENFD_FIRST + n - 1. */
int listenfd_count(const char *listen_pid, const char *listen_fds, pid_t self);

/* The same from this process's environment and getpid(). */
int listenfd_systemd(void);

/* Name i (0-based) of the colon-separated LISTEN_FDNAMES value into
   buf[size], 0-terminated.  Returns 0, or -1 with errno ENOENT when
   names is NULL or has fewer names, ENAMETOOLONG when it does not fit. */
int listenfd_name(const char *names, unsigned i, char *buf, size_t size);

/* 0 when fd is a listening stream socket of AF_INET or AF_INET6 (what
   tcpserver can accept on), else -1 with errno: EBADF not open, ENOTSOCK
   not a socket, EPROTOTYPE not SOCK_STREAM, EAFNOSUPPORT not IPv4/IPv6,
   EINVAL not listening. */
int listenfd_check(int fd);
#endif
