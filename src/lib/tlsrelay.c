/* Relay between a TLS connection and a program's pipes.  Each pass tries
   every step that may move data; when none can, poll waits for what the
   steps asked for.  No step blocks. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "errtext.h"
#include "tlsrelay.h"

struct flow {
  char buf[TLSRELAY_BUF];
  size_t len, off;     /* bytes waiting: buf[off .. len) */
  int open;            /* its source may still give data */
};

struct relay {
  struct tls_conn *c;
  int sock, to_prog, from_prog, pidfd;
  struct flow in, out;     /* peer to program, program to peer */
  int notified;            /* close_notify sent */
  int prog_gone;
  short sock_ev, to_ev, from_ev;
  int broken;
};

/* The result of a TLS call that moved nothing: what to wait for. */
static int tls_wait(struct relay *r, ssize_t n)
{
  if (n == TLS_IO_WANT_READ) r->sock_ev |= POLLIN;
  else if (n == TLS_IO_WANT_WRITE) r->sock_ev |= POLLOUT;
  else r->broken = 1;
  return 0;
}

static void close_fd(int *fd)
{
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void stop_input(struct relay *r)
{
  r->in.open = 0;
  r->in.len = r->in.off = 0;
}

static int peer_read(struct relay *r)
{
  if (!r->in.open || r->in.len) return 0;
  ssize_t n = tls_conn_read(r->c, r->in.buf, sizeof r->in.buf);
  if (n > 0) {
    r->in.len = (size_t) n;
    r->in.off = 0;
    return 1;
  }
  if (n == TLS_IO_CLOSED) {
    r->in.open = 0;
    return 1;
  }
  return tls_wait(r, n);
}

static int prog_write(struct relay *r)
{
  if (!r->in.len) {
    if (r->in.open || r->to_prog < 0) return 0;
    close_fd(&r->to_prog);   /* the peer's end reaches the program */
    return 1;
  }
  ssize_t n = write(r->to_prog, r->in.buf + r->in.off, r->in.len - r->in.off);
  if (n > 0) {
    r->in.off += (size_t) n;
    if (r->in.off == r->in.len) r->in.len = r->in.off = 0;
    return 1;
  }
  if (n < 0 && errno == EINTR) return 1;
  if (n < 0 && errno == EAGAIN) {
    r->to_ev = POLLOUT;
    return 0;
  }
  stop_input(r);   /* the program reads no more */
  close_fd(&r->to_prog);
  return 1;
}

static int prog_read(struct relay *r)
{
  if (!r->out.open || r->out.len) return 0;
  ssize_t n = read(r->from_prog, r->out.buf, sizeof r->out.buf);
  if (n > 0) {
    r->out.len = (size_t) n;
    r->out.off = 0;
    return 1;
  }
  if (n < 0 && errno == EINTR) return 1;
  if (n < 0 && errno == EAGAIN) {
    r->from_ev = POLLIN;
    return 0;
  }
  r->out.open = 0;
  close_fd(&r->from_prog);
  return 1;
}

static int peer_write(struct relay *r)
{
  if (r->out.len) {
    ssize_t n = tls_conn_write(r->c, r->out.buf + r->out.off, r->out.len - r->out.off);
    if (n <= 0) return tls_wait(r, n);
    r->out.off += (size_t) n;
    if (r->out.off == r->out.len) r->out.len = r->out.off = 0;
    return 1;
  }
  if (r->out.open || r->notified) return 0;
  int s = tls_conn_close_notify(r->c);
  if (s != 0) return tls_wait(r, s);
  r->notified = 1;
  shutdown(r->sock, SHUT_WR);
  return 1;
}

static int finished(const struct relay *r)
{
  return !r->in.open && !r->in.len && r->to_prog < 0
      && !r->out.open && !r->out.len && r->notified;
}

/* One pass over the steps; 1 when any of them moved something. */
static int pass(struct relay *r)
{
  r->sock_ev = r->to_ev = r->from_ev = 0;
  if (r->prog_gone && !r->out.open && r->in.open) stop_input(r);
  int moved = peer_read(r);
  moved |= prog_write(r);
  moved |= prog_read(r);
  moved |= peer_write(r);
  return moved;
}

static int wait_events(struct relay *r)
{
  struct pollfd p[4];
  int n = 0, pid_at = -1;
  if (r->sock_ev)   /* else a hung-up socket would wake every poll */
    p[n++] = (struct pollfd) { .fd = r->sock, .events = r->sock_ev };
  if (r->to_ev && r->to_prog >= 0)
    p[n++] = (struct pollfd) { .fd = r->to_prog, .events = r->to_ev };
  if (r->from_ev && r->from_prog >= 0)
    p[n++] = (struct pollfd) { .fd = r->from_prog, .events = r->from_ev };
  if (r->pidfd >= 0 && !r->prog_gone) {
    pid_at = n;
    p[n++] = (struct pollfd) { .fd = r->pidfd, .events = POLLIN };
  }
  if (poll(p, (nfds_t) n, -1) < 0 && errno != EINTR) return -1;
  if (pid_at >= 0 && p[pid_at].revents) r->prog_gone = 1;
  return 0;
}

static void nonblocking(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int tlsrelay_run(struct tls_conn *c, int sock, int to_prog, int from_prog,
                 int pidfd, char why[TLS_WHY])
{
  /* 128 KiB: not on the stack.  Only the fields are cleared: the
     buffers are written before they are read, and a page of them is
     touched only when data comes (in a forked engine each page first
     touched is a page fault). */
  static struct relay r;
  r.in.len = r.in.off = r.out.len = r.out.off = 0;
  r.notified = r.prog_gone = r.broken = 0;
  r.sock_ev = r.to_ev = r.from_ev = 0;
  r.c = c;
  r.sock = sock;
  r.to_prog = to_prog;
  r.from_prog = from_prog;
  r.pidfd = pidfd;
  r.in.open = r.out.open = 1;
  nonblocking(to_prog);
  nonblocking(from_prog);
  int rc = 0;
  for (;;) {
    while (pass(&r) && !r.broken && !finished(&r)) {}
    if (r.broken) {
      snprintf(why, TLS_WHY, "%s", tls_conn_error(c));
      rc = -1;
      break;
    }
    if (finished(&r)) break;
    if (wait_events(&r) < 0) {
      snprintf(why, TLS_WHY, "unable to poll: %s", errtext(errno));
      rc = -1;
      break;
    }
  }
  close_fd(&r.to_prog);
  close_fd(&r.from_prog);
  return rc;
}
