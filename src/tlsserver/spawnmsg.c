/* The request of the spawner's protocol (spawnmsg.h). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "spawnmsg.h"

/* Where a name of the peer points. */
enum { AT_NONE, AT_PEER, AT_LOCALNAME };

struct request {
  pid_t expect;                  /* the standby expected to take it; 0 none */
  unsigned char localhost_at, remotehost_at, remoteinfo_at;
  int outcome, drop_err;
  uint32_t has_drop;             /* the tail starts with drop_what, drop_arg */
  uint32_t env_count;            /* then this many NAME=value strings */
  uint32_t tail_len;
  uint32_t peer_len;             /* of peer below: whole, or without the PROXY part */
  struct peer peer;              /* name pointers cleared */
};

/* A peer not behind a proxy is sent without the header's room (half of it). */
#define PEER_SHORT offsetof(struct peer, proxied)
#define HEAD_LEN offsetof(struct request, peer)

#define TAIL_MAX (SPAWNMSG_MAX - sizeof(struct request))

static unsigned char name_at(const char *name, const char *in_peer, const char *localname)
{
  if (!name) return AT_NONE;
  if (name == in_peer) return AT_PEER;
  return name == localname ? AT_LOCALNAME : AT_NONE;
}

static const char *name_from(unsigned char at, const char *in_peer, const char *localname)
{
  return at == AT_PEER ? in_peer : at == AT_LOCALNAME ? localname : NULL;
}

/* s and its 0 at tail + *len; -1 when it does not fit. */
static int put_string(char *tail, size_t *len, const char *s)
{
  size_t n = strlen(s) + 1;
  if (n > TAIL_MAX - *len) return -1;
  memcpy(tail + *len, s, n);
  *len += n;
  return 0;
}

int spawnmsg_encode(const struct server *srv, const struct conn *c, pid_t expect,
                    struct iovec iov[2])
{
  static struct request r;
  static char tail[TAIL_MAX];
  const struct peer *p = &c->peer;
  size_t len = 0;
  r.expect = expect;
  r.peer = *p;
  r.peer_len = p->proxied ? sizeof r.peer : PEER_SHORT;
  r.localhost_at = name_at(p->localhost, p->localhost_buf, srv->opt.localname);
  r.remotehost_at = name_at(p->remotehost, p->remotehost_buf, NULL);
  r.remoteinfo_at = name_at(p->remoteinfo, p->info_buf, NULL);
  r.peer.localhost = r.peer.remotehost = r.peer.remoteinfo = NULL;
  r.outcome = (int) c->v.outcome;
  r.drop_err = c->v.drop_err;
  r.has_drop = c->v.outcome == OUT_DROP;
  r.env_count = 0;
  if (r.has_drop && (put_string(tail, &len, c->v.drop_what ? c->v.drop_what : "") < 0 ||
                     put_string(tail, &len, c->v.drop_arg ? c->v.drop_arg : "") < 0))
    return -1;
  if (srv->fast_path && c->v.outcome == OUT_OK && c->v.envp)
    for (char **e = c->v.envp; *e; e++, r.env_count++)
      if (put_string(tail, &len, *e) < 0) return -1;
  r.tail_len = (uint32_t) len;
  iov[0] = (struct iovec) { &r, HEAD_LEN + r.peer_len };
  iov[1] = (struct iovec) { tail, len };
  return 0;
}

pid_t spawnmsg_expected(const unsigned char *buf, size_t len)
{
  const struct request *r = (const struct request *) buf;
  return len >= HEAD_LEN ? r->expect : 0;
}

/* The next 0-terminated string of the tail; NULL when there is none. */
static char *take_string(char *tail, size_t len, size_t *pos)
{
  char *s = tail + *pos;
  char *end = *pos < len ? memchr(s, 0, len - *pos) : NULL;
  if (!end) return NULL;
  *pos += (size_t) (end - s) + 1;
  return s;
}

static int bad_request(void)
{
  errno = EPROTO;
  return -1;
}

static int take_env(struct conn *c, char *tail, size_t len, size_t *pos, uint32_t count)
{
  char **env = malloc(((size_t) count + 1) * sizeof *env);
  if (!env) return -1;
  for (uint32_t i = 0; i < count; i++)
    if (!(env[i] = take_string(tail, len, pos))) {
      free(env);
      return bad_request();
    }
  env[count] = NULL;
  c->v.envp = env;
  return 0;
}

int spawnmsg_decode(const struct server *srv, unsigned char *buf, size_t len, int fd,
                    struct conn *c)
{
  const struct request *r = (const struct request *) buf;
  if (len < HEAD_LEN || (r->peer_len != PEER_SHORT && r->peer_len != sizeof r->peer) ||
      len - HEAD_LEN < r->peer_len || r->tail_len != len - HEAD_LEN - r->peer_len ||
      fd < 0 || r->outcome < OUT_OK || r->outcome > OUT_LIMIT)
    return bad_request();
  char *tail = (char *) buf + HEAD_LEN + r->peer_len;
  size_t pos = 0;
  memset(c, 0, sizeof *c);
  memcpy(&c->peer, &r->peer, r->peer_len);   /* short: not proxied, as the zeros say */
  c->peer.fd = fd;
  c->peer.localhost_buf[NAMES_MAX] = c->peer.remotehost_buf[NAMES_MAX] = 0;
  c->peer.info_buf[IDENT_INFO_MAX] = 0;
  c->peer.localhost = name_from(r->localhost_at, c->peer.localhost_buf, srv->opt.localname);
  c->peer.remotehost = name_from(r->remotehost_at, c->peer.remotehost_buf, NULL);
  c->peer.remoteinfo = name_from(r->remoteinfo_at, c->peer.info_buf, NULL);
  c->v.outcome = (enum outcome) r->outcome;
  c->v.drop_err = r->drop_err;
  if (r->has_drop) {
    c->v.drop_what = take_string(tail, r->tail_len, &pos);
    c->v.drop_arg = take_string(tail, r->tail_len, &pos);
    if (!c->v.drop_arg) return bad_request();
  }
  if (srv->fast_path && c->v.outcome == OUT_OK)
    return take_env(c, tail, r->tail_len, &pos, r->env_count);
  return 0;
}
