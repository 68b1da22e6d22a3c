#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "errtext.h"
#include "proxywait.h"

void proxywait_init(struct proxywait *w, size_t cap)
{
  w->slot = NULL;
  w->cap = cap;
  w->n = 0;
  w->first = w->last = w->free = PROXYWAIT_NONE;
}

void proxywait_free(struct proxywait *w)
{
  free(w->slot);
  proxywait_init(w, w->cap);
}

static int allocate(struct proxywait *w)
{
  if (w->slot) return 0;
  if (!w->cap || !(w->slot = calloc(w->cap, sizeof *w->slot))) {
    errno = ENOMEM;
    return -1;
  }
  for (size_t i = 0; i < w->cap; i++) {
    w->slot[i].fd = -1;
    w->slot[i].next = i + 1 < w->cap ? i + 1 : PROXYWAIT_NONE;
  }
  w->free = 0;
  return 0;
}

size_t proxywait_oldest(const struct proxywait *w)
{
  return w->n ? w->first : PROXYWAIT_NONE;
}

int proxywait_full(const struct proxywait *w)
{
  return w->slot && w->free == PROXYWAIT_NONE;
}

const struct proxywait_slot *proxywait_get(const struct proxywait *w, size_t i)
{
  if (!w->slot || i >= w->cap || w->slot[i].fd < 0) return NULL;
  return &w->slot[i];
}

size_t proxywait_add(struct proxywait *w, int fd, const struct ip_addr *peer,
                     unsigned peerport, unsigned accept, long long deadline)
{
  if (allocate(w) < 0) return PROXYWAIT_NONE;
  size_t i = w->free;
  if (i == PROXYWAIT_NONE) {
    errno = ENOSPC;
    return PROXYWAIT_NONE;
  }
  struct proxywait_slot *s = &w->slot[i];
  w->free = s->next;
  s->fd = fd;
  s->peer = *peer;
  s->peerport = peerport;
  s->accept = accept;
  s->deadline = deadline;
  s->have = 0;
  s->prev = w->last;
  s->next = PROXYWAIT_NONE;
  if (s->prev != PROXYWAIT_NONE) w->slot[s->prev].next = i;
  else w->first = i;
  w->last = i;
  w->n++;
  return i;
}

void proxywait_remove(struct proxywait *w, size_t i)
{
  struct proxywait_slot *s = &w->slot[i];
  if (s->prev != PROXYWAIT_NONE) w->slot[s->prev].next = s->next;
  else w->first = s->next;
  if (s->next != PROXYWAIT_NONE) w->slot[s->next].prev = s->prev;
  else w->last = s->prev;
  s->fd = -1;
  s->next = w->free;
  w->free = i;
  w->n--;
}

int proxywait_read(struct proxywait *w, size_t i, struct proxy_header *h,
                   const char **why)
{
  struct proxywait_slot *s = &w->slot[i];
  for (;;) {
    size_t need;
    *why = "invalid header";
    int r = proxy_parse(s->buf, s->have, s->accept, h, &need, why);
    if (r != 0) {
      proxywait_remove(w, i);
      return r;
    }
    if (need > sizeof s->buf - s->have) need = sizeof s->buf - s->have;
    ssize_t n = recv(s->fd, s->buf + s->have, need, MSG_DONTWAIT);
    if (n > 0) {
      s->have += (size_t) n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    *why = n == 0 ? "connection closed" : errtext(errno);
    proxywait_remove(w, i);
    return -1;
  }
}
