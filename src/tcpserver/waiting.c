/* Connections accepted but not yet admitted: those from trusted proxies
   whose PROXY header is still arriving (read as it comes, never waited
   for, in order of arrival, which is the order of their deadlines), and
   those held in a queue: for their second look after a concurrency
   limit, or, ready but with -c's children all running, for a place.
   None of them counts under -c (silent balancer connections must not
   keep clients out); the loop admits the held ones, in order, as places
   free.  Nothing here starts a child: a connection that is ready goes
   back to the loop, which admits it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "clock.h"
#include "errtext.h"
#include "msg.h"
#include "server.h"

void waiting_init(struct server *srv)
{
  proxywait_init(&srv->pending, srv->opt.rules ? PENDING_MAX : 0);
}

/* ---- PROXY headers ---- */

/* "dropping connection, unable to read PROXY header from IP: WHY" */
static void proxy_failed(const struct server *srv, int fd,
                         const struct ip_addr *peer, const char *why)
{
  char ip[IP_FMT_SIZE];
  ip_format(peer, ip);
  log_warn(&srv->opt, "dropping connection, unable to read PROXY header from ",
           ip, ": ", why);
  close(fd);   /* also takes it out of epfd */
}

static void proxy_drop(struct server *srv, size_t i, const char *why)
{
  const struct proxywait_slot *p = proxywait_get(&srv->pending, i);
  int fd = p->fd;
  struct ip_addr peer = p->peer;
  proxywait_remove(&srv->pending, i);
  proxy_failed(srv, fd, &peer, why);
}

/* A connection from a trusted proxy: its header is read as it comes. */
static int take_header(struct server *srv, size_t i, struct conn *c, int watched);

int waiting_proxy_add(struct server *srv, const struct peer *p, unsigned accept,
                      struct conn *c)
{
  if (proxywait_full(&srv->pending))
    proxy_drop(srv, proxywait_oldest(&srv->pending), "too many waiting");
  size_t i = proxywait_add(&srv->pending, p->fd, &p->remote, p->remoteport, accept,
                           clock_ms() + (long long) srv->opt.proxy_ms);
  if (i == PROXYWAIT_NONE) {
    proxy_failed(srv, p->fd, &p->remote, errtext(errno));
    return 0;
  }
  /* A balancer sends the header with the connection: it is usually
     there already, and then the connection is never watched. */
  if (take_header(srv, i, c, 0)) return 1;
  if (!proxywait_get(&srv->pending, i)) return 0;   /* it failed */
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = PENDING_TAG | i };
  if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, p->fd, &ev) < 0) proxy_drop(srv, i, errtext(errno));
  return 0;
}

/* After the header the connection is the client's: its addresses (a
   LOCAL or UNKNOWN header: the connection's own), the proxy's kept
   apart. */
static void proxied_peer(const struct server *srv, struct peer *p, int fd,
                         const struct ip_addr *proxy, unsigned proxyport,
                         const struct proxy_header *h)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(p, 0, sizeof *p);
  p->fd = fd;
  p->proxied = 1;
  p->proxy = *h;
  p->proxy_ip = *proxy;
  p->proxy_port = proxyport;
  if (!ip_is_any(&srv->bound_ip)) {   /* bound to one address: that one */
    p->proxy_local = srv->bound_ip;
    p->proxy_localport = srv->bound_port;
  } else if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0) {
    ip_from_sockaddr((struct sockaddr *) &ss, &p->proxy_local, &p->proxy_localport);
  }
  if (h->has_addresses) {
    p->remote = h->src;
    p->remoteport = h->srcport;
    p->local = h->dst;
    p->localport = h->dstport;
  } else {
    p->remote = *proxy;
    p->remoteport = proxyport;
    p->local = p->proxy_local;
    p->localport = p->proxy_localport;
  }
  p->local_known = 1;
}

/* Read what arrived on slot i: 1 when its header is complete and c is
   the client's connection, ready for admission. */
int waiting_proxy_readable(struct server *srv, size_t i, struct conn *c)
{
  return take_header(srv, i, c, 1);
}

/* What slot i has received: 1 when its header is complete (c is then
   the client's connection and the slot free), else 0. */
static int take_header(struct server *srv, size_t i, struct conn *c, int watched)
{
  const struct proxywait_slot *s = proxywait_get(&srv->pending, i);
  if (!s) return 0;
  int fd = s->fd;
  struct ip_addr proxy = s->peer;
  unsigned proxyport = s->peerport;
  struct proxy_header h;
  const char *why;
  int r = proxywait_read(&srv->pending, i, &h, &why);
  if (r < 0) proxy_failed(srv, fd, &proxy, why);
  if (r != 1) return 0;
  if (watched) epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);
  memset(&c->v, 0, sizeof c->v);
  proxied_peer(srv, &c->peer, fd, &proxy, proxyport, &h);
  return 1;
}

static void proxy_expire(struct server *srv)
{
  long long now = clock_ms();
  size_t i;
  while ((i = proxywait_oldest(&srv->pending)) != PROXYWAIT_NONE &&
         proxywait_get(&srv->pending, i)->deadline <= now)
    proxy_drop(srv, i, "timed out");
}

/* ---- the queue ---- */

static struct second_look *look_at(const struct server *srv, size_t k)
{
  return &srv->looks[(srv->looks_first + k) % SECOND_LOOK_MAX];
}

/* Hold p, due ms from now (the queue stays in order: every entry is due
   a fixed time after it came).  0 when the queue is full. */
static int hold(struct server *srv, const struct peer *p, long long ms)
{
  if (!srv->looks && !(srv->looks = calloc(SECOND_LOOK_MAX, sizeof *srv->looks)))
    return 0;
  if (srv->nlooks == SECOND_LOOK_MAX) return 0;
  struct second_look *l = look_at(srv, srv->nlooks);
  l->peer = *p;
  l->peer.localhost = l->peer.remotehost = l->peer.remoteinfo = NULL;
  l->when = clock_ms() + ms;
  srv->nlooks++;
  return 1;
}

/* 1 if the connection waits for its second look: its first only (a
   server that counts clients), and while there is room; else the
   caller refuses it now. */
int waiting_look_later(struct server *srv, const struct peer *p)
{
  if (p->second_look || !srv->clients.counts) return 0;
  struct peer later = *p;
  later.second_look = 1;
  return hold(srv, &later, SECOND_LOOK_MS);
}

/* A connection ready while -c's children all run: it waits for a place
   (0.88 leaves such connections in the listen backlog; these were
   accepted already, for their PROXY header or a second look).  When the
   queue is full it is closed, with its line. */
void waiting_for_place(struct server *srv, const struct peer *p)
{
  if (hold(srv, p, 0)) return;
  char ip[IP_FMT_SIZE];
  ip_format(&p->remote, ip);
  log_warn(&srv->opt, "dropping connection from ", ip, ": too many waiting");
  close(p->fd);
}

/* ---- both ---- */

/* ms, shortened to the next deadline of what waits (the queue's only
   when a place is free: else the end of a child comes first). */
int waiting_timeout_ms(const struct server *srv, int ms, int place)
{
  long long next = -1;
  if (srv->pending.n)
    next = proxywait_get(&srv->pending, proxywait_oldest(&srv->pending))->deadline;
  if (place && srv->nlooks && (next < 0 || look_at(srv, 0)->when < next))
    next = look_at(srv, 0)->when;
  if (next < 0) return ms;
  long long left = next - clock_ms();
  if (left < 0) left = 0;
  return ms < 0 || left < ms ? (int) left : ms;
}

/* Drop the PROXY headers that took too long; then, when a place is
   free, 1 when the first of the queue is due, with c its connection,
   ready for admission. */
int waiting_next_due(struct server *srv, struct conn *c, int place)
{
  if (srv->pending.n) proxy_expire(srv);
  if (!place || !srv->nlooks || look_at(srv, 0)->when > clock_ms()) return 0;
  memset(&c->v, 0, sizeof c->v);
  c->peer = look_at(srv, 0)->peer;
  srv->looks_first = (srv->looks_first + 1) % SECOND_LOOK_MAX;
  srv->nlooks--;
  return 1;
}

/* The drain: what waits is closed, each with its line. */
void waiting_close_all(struct server *srv)
{
  size_t i;
  while ((i = proxywait_oldest(&srv->pending)) != PROXYWAIT_NONE)
    proxy_drop(srv, i, "draining");
  while (srv->nlooks) {
    const struct peer *p = &look_at(srv, 0)->peer;
    char ip[IP_FMT_SIZE];
    ip_format(&p->remote, ip);
    log_warn(&srv->opt, "dropping connection from ", ip, ": draining");
    close(p->fd);
    srv->looks_first = (srv->looks_first + 1) % SECOND_LOOK_MAX;
    srv->nlooks--;
  }
}

/* A forked child: these descriptors are the server's. */
void waiting_close_fds(const struct server *srv)
{
  for (size_t i = proxywait_oldest(&srv->pending); i != PROXYWAIT_NONE;
       i = proxywait_get(&srv->pending, i)->next)
    close(proxywait_get(&srv->pending, i)->fd);
  for (size_t k = 0; k < srv->nlooks; k++) close(look_at(srv, k)->peer.fd);
}
