#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include "fd.h"
#include "pathexec.h"
#include "relay.h"

/* One direction: read from `from`, pass the filtered packet to `to`. */
struct leg {
  int from, to;
  int state;          /* READING, WRITING or DONE */
  char buf[2 * RELAY_PACKET];
  size_t pos, len;
};
enum { READING, WRITING, DONE };

static void leg_init(struct leg *g, int from, int to)
{
  g->from = from;
  g->to = to;
  g->state = READING;
  g->pos = g->len = 0;
}

/* Read a packet; returns 0 at the end of the input (or a read error). */
static int leg_read(struct leg *g, enum relay_dir dir,
                    const struct relay_hooks *h)
{
  char in[RELAY_PACKET];
  ssize_t r;
  do r = read(g->from, in, sizeof in); while (r < 0 && errno == EINTR);
  if (r <= 0) {
    g->state = DONE;
    if (h->eof) h->eof(h->ctx, dir);
    return 0;
  }
  g->len = h->packet(h->ctx, dir, in, (size_t) r, g->buf);
  g->pos = 0;
  if (g->len) g->state = WRITING;
  return 1;
}

/* Write what poll says fits; returns 0 on a write error. */
static int leg_write(struct leg *g)
{
  ssize_t w = write(g->to, g->buf + g->pos, g->len - g->pos);
  if (w < 0) return errno == EINTR || errno == EAGAIN;
  g->pos += (size_t) w;
  if (g->pos == g->len) g->state = READING;
  return 1;
}

static short leg_watch(const struct leg *g, struct pollfd *p)
{
  p->fd = g->state == WRITING ? g->to : g->from;
  p->events = g->state == WRITING ? POLLOUT : POLLIN;
  p->revents = 0;
  return g->state != DONE;
}

/* The child: stdin -> program (in), program -> stdout (out), until the
   program's output ends or a write fails. */
static _Noreturn void relay_loop(int toprog, int fromprog,
                                 const struct relay_hooks *h)
{
  struct leg in, out;
  leg_init(&in, 0, toprog);
  leg_init(&out, fromprog, 1);
  for (;;) {
    struct pollfd p[2];
    nfds_t n = 0;
    struct pollfd *pin = 0, *pout = 0;
    if (leg_watch(&in, &p[n])) pin = &p[n++];
    if (leg_watch(&out, &p[n])) pout = &p[n++];
    if (poll(p, n, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(111);
    }
    if (pin && pin->revents) {
      if (in.state == WRITING) {
        if (!leg_write(&in)) break;
      } else if (!leg_read(&in, RELAY_IN, h)) {
        close(toprog);
      }
    }
    if (pout && pout->revents) {
      if (out.state == WRITING) {
        if (!leg_write(&out)) break;
      } else if (!leg_read(&out, RELAY_OUT, h)) {
        break;
      }
    }
  }
  _exit(0);
}

const char *relay_failure_text(enum relay_failure why)
{
  switch (why) {
  case RELAY_PIPE: return "unable to create pipe";
  case RELAY_FORK: return "unable to fork";
  case RELAY_DESCRIPTORS: return "unable to set up descriptors";
  case RELAY_EXEC: break;
  }
  return "unable to run ";
}

int relay_run(char *const argv[], const struct relay_hooks *h,
              enum relay_failure *why)
{
  int in[2], out[2];
  *why = RELAY_PIPE;
  if (pipe(in) < 0) return -1;
  if (pipe(out) < 0) {
    int err = errno;
    close(in[0]);
    close(in[1]);
    errno = err;
    return -1;
  }
  switch (fork()) {
  case -1:
    *why = RELAY_FORK;
    return -1;
  case 0:
    signal(SIGPIPE, SIG_IGN);
    close(in[0]);
    close(out[1]);
    relay_loop(in[1], out[0], h);
  }
  close(in[1]);
  close(out[0]);
  *why = RELAY_DESCRIPTORS;
  if (fd_move(0, in[0]) < 0 || fd_move(1, out[1]) < 0) return -1;
  *why = RELAY_EXEC;
  pathexec(argv);
  return -1;
}
