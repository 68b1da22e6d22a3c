/* The event loop: accept while a place is free, wait for what became
   ready, and admit each connection through one gate.

   A place under -c is a child.  The listening socket is watched, and
   accept called, only while the children are below -c, as 0.88 stops
   accepting at the limit.  Every connection that may become a child,
   on every path (accept, a completed PROXY header, a second look),
   passes the one gate, loop_admit, which checks -c just before the
   spawn: a connection ready while every place is taken waits in
   waiting.c's queue, which is served, in order, as places free.

   The wait only collects what became ready; the loop decides, and
   nothing here calls back into itself. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "errtext.h"
#include "msg.h"
#include "num.h"
#include "server.h"

/* Accepts in a row before pending events get their chance; the most
   connections taken from the queue before the first is admitted. */
#define ACCEPT_BURST 16
#define ACCEPT_BATCH 8
#define EVENTS_MAX 64

void loop_init(struct server *srv)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TERM_TAG };
  struct epoll_event front = { .events = EPOLLIN, .data.u64 = FRONT_TAG };
  srv->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (srv->epfd < 0 || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, signals_wake_fd(), &ev) < 0 ||
      (srv->front.fd >= 0 && epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->front.fd, &front) < 0))
    msg_fatal_sys("unable to create epoll instance");
}

static int place_free(const struct server *srv)
{
  return kids_live(srv) < srv->opt.limit;
}

/* The listening socket is in the epoll set exactly while accepting.  If
   epoll refuses it, the loop polls it instead (a warning, once). */
static void watch_listener(struct server *srv, int on)
{
  if (on == srv->accepting || srv->listen_fd < 0) return;
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
  if (epoll_ctl(srv->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, srv->listen_fd, &ev) == 0) {
    srv->accepting = on;
    srv->listener_stuck = 0;
    return;
  }
  if (!srv->listener_stuck)
    log_warn(&srv->opt, "unable to watch the listening socket, polling it: ", errtext(errno));
  srv->listener_stuck = on;
}

/* ---- the gate ---- */

static void refuse(struct server *srv, struct conn *c)
{
  child_refuse(srv, c);
  close(c->peer.fd);
}

/* Every connection that may become a child comes here: a place under
   -c, the limits, the verdict (fast path), the child. */
void loop_admit(struct server *srv, struct conn *c)
{
  if (!place_free(srv)) {
    waiting_for_place(srv, &c->peer);
    return;
  }
  c->peer.nkeys = clientcount_keys(&srv->clients, &c->peer.remote, c->peer.keys);
  c->v.outcome = OUT_OK;
  verdict_concurrency(srv, c, 1);
  if (c->v.outcome == OUT_LIMIT) {
    if (!waiting_look_later(srv, &c->peer)) refuse(srv, c);
    return;
  }
  if (srv->fast_path) verdict_prepare(srv, c);
  if (c->v.outcome == OUT_OK) verdict_rate(srv, c);
  if (c->v.outcome == OUT_LIMIT) {
    refuse(srv, c);
    return;
  }
  /* The forked child copies the counts: as fresh as they can be. */
  if (!srv->fast_path && c->peer.nkeys) kids_reap_ready(srv);
  log_status(srv, kids_live(srv) + 1);
  pid_t pid = child_spawn(srv, c);
  if (pid < 0) {
    log_warn(&srv->opt, "dropping connection, unable to fork: ", errtext(errno));
    log_status(srv, kids_live(srv));
  } else {
    kids_add(srv, pid, &c->peer);
  }
  close(c->peer.fd);
}

static void ready(struct server *srv, struct conn *c);

/* A new connection: its address rule says whether a PROXY header comes
   first. */
static void accepted(struct server *srv, int fd, const struct sockaddr_storage *from)
{
  struct conn c = { .peer = { .fd = fd } };
  struct peer *p = &c.peer;
  ip_from_sockaddr((const struct sockaddr *) from, &p->remote, &p->remoteport);
  p->local_known = !ip_is_any(&srv->bound_ip);
  if (p->local_known) {
    p->local = srv->bound_ip;
    p->localport = srv->bound_port;
  }
  if (srv->opt.rules) {
    verdict_address_rule(srv, &c);
    if (c.v.rule_found && c.v.rule.proxy > 0) {
      struct conn proxied;
      if (waiting_proxy_add(srv, p, (unsigned) c.v.rule.proxy, &proxied)) ready(srv, &proxied);
      return;
    }
    if (c.v.rule_found && c.v.rule.proxy < 0) {
      log_drop(&srv->opt, "bad PROXYPROTOCOL in ", srv->opt.rules, 0);
      close(fd);
      return;
    }
  }
  loop_admit(srv, &c);
}

/* A connection that finished waiting: its rule is looked up again (for
   a proxied one, the client's; the proxy's PROXYPROTOCOL is not applied
   again), then the gate. */
static void ready(struct server *srv, struct conn *c)
{
  X(!srv->draining);   /* the drain closed what waited */
  if (srv->opt.rules) verdict_address_rule(srv, c);
  loop_admit(srv, c);
}

/* ---- the drain (-G) ---- */

/* "drain: pid PID stopped accepting, waiting for N children": the pid
   tells the old server's lines from the next instance's. */
static void log_drain_begin(const struct server *srv)
{
  char what[48] = "pid ";
  size_t n = 4 + fmt_ulong(what + 4, (unsigned long) srv->pid);
  memcpy(what + n, " stopped accepting, waiting for ", 33);
  log_drain(&srv->opt, what, kids_live(srv), " children");
}

/* The first SIGTERM: no more connections, the port free for the next
   instance at once, what waits closed.  A second one: TERM the children
   now. */
static void drain_begin(struct server *srv)
{
  if (srv->draining) {
    if (!srv->drain_stage) srv->drain_next = clock_ms();
    return;
  }
  srv->draining = 1;
  watch_listener(srv, 0);
  close(srv->listen_fd);
  srv->listen_fd = -1;
  front_tell(&srv->front, FRONT_CLOSED);   /* the port is free: it may go */
  srv->drain_next = clock_ms() + (long long) srv->opt.drain_ms;
  log_drain_begin(srv);
  waiting_close_all(srv);
}

/* The front ended without a word (SIGKILL, or a signal it does not
   take): the supervisor will start another instance, so drain. */
static void front_lost(struct server *srv)
{
  if (!front_gone(&srv->front)) return;
  epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->front.fd, NULL);
  close(srv->front.fd);
  srv->front.fd = -1;
  if (!srv->draining) {
    log_stop_waiting();
    drain_begin(srv);
  }
}

/* At each deadline the next stage (TERM and CONT, then KILL, then give
   up); exit 0 once no child is left.  Returns how long to wait. */
static int drain_step(struct server *srv)
{
  if (!kids_live(srv)) {
    log_drain(&srv->opt, "done", 0, NULL);
    _exit(0);
  }
  long long now = clock_ms();
  if (now >= srv->drain_next) {
    switch (srv->drain_stage++) {
      case 0:
        log_drain(&srv->opt, "deadline, sending TERM to ", kids_live(srv), " children");
        kids_signal(srv, SIGTERM);
        srv->drain_next = now + (long long) srv->opt.kill_ms;
        break;
      case 1:
        log_drain(&srv->opt, "sending KILL to ", kids_live(srv), " children");
        kids_signal(srv, SIGKILL);
        srv->drain_next = now + 1000;   /* for the kernel to end them */
        break;
      default:
        log_drain(&srv->opt, "giving up, ", kids_live(srv), " children left");
        _exit(0);
    }
  }
  long long left = srv->drain_next - now;
  return left > 0 && left < 60000 ? (int) left : 1000;
}

/* ---- waiting and acting ---- */

static void on_signals(struct server *srv, int pipe_readable)
{
  int bits = signals_take(pipe_readable);
  if (bits & SIG_CHLD_BIT) kids_reap_any(srv);
  if ((bits & SIG_HUP_BIT) && srv->program->reload) srv->program->reload(srv);
  if (bits & SIG_TERM_BIT) drain_begin(srv);
}

/* Wait at most ms (-1: no limit) for an event, and for a new connection
   when listen is set (not after an accept error: the pause is the
   point), then act on each. */
static void wait_and_act(struct server *srv, int ms, int listen)
{
  struct epoll_event ev[EVENTS_MAX];
  struct conn c;
  int full = !place_free(srv);
  kids_settle(srv, full);
  int place = place_free(srv);
  if (full && place && ms < 0) ms = 0;   /* a place came free: accept again */
  watch_listener(srv, listen && !srv->draining && place);
  if (srv->listener_stuck && (ms < 0 || ms > 100)) ms = 100;
  const sigset_t *mask = kids_by_signal(srv) ? &srv->waiting_mask : &srv->watched_mask;
  kids_flush(srv);
  ms = kids_timeout_ms(srv, waiting_timeout_ms(srv, ms, place));
  int n = epoll_pwait(srv->epfd, ev, EVENTS_MAX, ms, mask);
  if (srv->opt.rules) rules_db_recheck(&srv->rules);
  int woken = 0;
  for (int i = 0; i < n; i++) {
    uint64_t tag = ev[i].data.u64;
    if (tag == TERM_TAG) woken = 1;
    if (tag == CHILDREN_TAG) kids_reap_ready(srv);
    else if (tag == FRONT_TAG) front_lost(srv);
    else if (tag & PENDING_TAG) {
      if (waiting_proxy_readable(srv, (size_t) (tag & ~PENDING_TAG), &c)) ready(srv, &c);
    }
  }
  on_signals(srv, woken);
  while (waiting_next_due(srv, &c, place_free(srv))) ready(srv, &c);
}

/* Accept errors that belong to one connection (it is gone, or the network
   path broke): the next one may be fine at once.  Any other error (out of
   resources, or a socket that cannot accept) would stay: wait a little
   instead of spinning. */
static int connection_error(int err)
{
  return err == ECONNABORTED || err == EPROTO || err == EPERM ||
         err == EINTR || err == ENETDOWN || err == ENETUNREACH ||
         err == EHOSTDOWN || err == EHOSTUNREACH || err == ENONET ||
         err == ENOPROTOOPT || err == EOPNOTSUPP || err == ETIMEDOUT;
}

/* Up to max connections from the queue: how many, and the error that
   ended the batch in *err (0 when it is full). */
struct taken { int fd; struct sockaddr_storage from; };
static int accept_batch(struct server *srv, struct taken *t, int max, int *err)
{
  int n = 0;
  *err = 0;
  while (n < max) {
    socklen_t len = sizeof t[n].from;
    t[n].fd = accept4(srv->listen_fd, (struct sockaddr *) &t[n].from, &len, SOCK_CLOEXEC);
    if (t[n].fd < 0) {
      *err = errno;
      break;
    }
    n++;
  }
  return n;
}

static int places_left(const struct server *srv)
{
  unsigned long left = srv->opt.limit - kids_live(srv);
  return left < ACCEPT_BATCH ? (int) left : ACCEPT_BATCH;
}

/* The rules file is looked at after the accepts of a batch, not before:
   a connection made after the file changed is judged by the new file,
   as 0.88's child reads it after the accept. */
_Noreturn void loop_serve(struct server *srv)
{
  int burst = 0;
  struct taken batch[ACCEPT_BATCH];
  for (;;) {
    if (srv->draining) {
      wait_and_act(srv, drain_step(srv), 0);
      continue;
    }
    if (!place_free(srv)) {
      wait_and_act(srv, -1, 0);
      continue;
    }
    if (burst >= ACCEPT_BURST) {
      burst = 0;
      wait_and_act(srv, 0, 0);
      continue;
    }
    int err;
    int n = accept_batch(srv, batch, places_left(srv), &err);
    if (n && srv->opt.rules) rules_db_recheck(&srv->rules);
    for (int i = 0; i < n; i++) accepted(srv, batch[i].fd, &batch[i].from);
    burst += n;
    if (!err) continue;
    burst = 0;
    if (err == EAGAIN) wait_and_act(srv, -1, 1);
    else if (connection_error(err)) wait_and_act(srv, 0, 0);
    else wait_and_act(srv, 100, 0);
  }
}
