/* The children: the ledger of the live ones, counted under the keys of
   their connections (clientcount), and their reaping.  The reaper
   thread names the children that ended, so that each is reaped by its
   pid; a child it could not take is "unwatched" and reaped the old way
   (SIGCHLD, waitpid(-1)).  Every child that starts is in the ledger:
   the admission gate leaves room for it, so a ledger that refuses one
   is an impossible state, never ignored. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "msg.h"
#include "server.h"

/* Pids cannot go beyond this (Linux's PID_MAX_LIMIT), nor can children. */
#define CHILDREN_MAX (1ul << 22)

/* Room in the reaper's own descriptor table for a pidfd per child: the
   soft descriptor limit is raised toward the hard one when -c needs it,
   and restored for the program. */
static void descriptor_budget(struct server *srv)
{
  if (getrlimit(RLIMIT_NOFILE, &srv->nofile) < 0) return;
  rlim_t want = (rlim_t) srv->children_cap + 64;
  rlim_t soft = srv->nofile.rlim_cur;
  if (soft == RLIM_INFINITY || soft >= want || srv->nofile.rlim_max <= soft) return;
  struct rlimit raised = srv->nofile;
  raised.rlim_cur = srv->nofile.rlim_max == RLIM_INFINITY ||
                    srv->nofile.rlim_max > want ? want : srv->nofile.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0) srv->nofile_raised = 1;
}

void kids_init(struct server *srv)
{
  srv->children_cap = srv->opt.limit < CHILDREN_MAX ? srv->opt.limit : CHILDREN_MAX;
  if (clientcount_init(&srv->clients, srv->children_cap,
                       srv->opt.client_limit || srv->opt.rules,
                       srv->opt.v4prefix, srv->opt.v6prefix) < 0)
    msg_fatal_sys("unable to set up the client tables");
  descriptor_budget(srv);
  srv->reaper.fd = -1;
}

/* Once the server's descriptors are what they will stay; without a
   reaper, children are reaped the old way. */
void kids_start_reaper(struct server *srv)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CHILDREN_TAG };
  if (reaper_start(&srv->reaper) < 0) return;
  if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->reaper.fd, &ev) < 0) {
    /* The thread sees its end close and ends: nothing of it is reused. */
    close(srv->reaper.fd);
    srv->reaper.fd = -1;
  }
}

size_t kids_live(const struct server *srv)
{
  return clientcount_live(&srv->clients);
}

static void mark_unwatched(struct server *srv, pid_t pid)
{
  struct child_entry *ch = children_find(srv->clients.children, pid);
  if (ch && ch->watched) {
    ch->watched = 0;
    srv->unwatched++;
  }
}

/* Hand the reaper what was gathered; what it could not take is ours. */
void kids_flush(struct server *srv)
{
  pid_t failed[REAPER_BATCH];
  size_t n = reaper_flush(&srv->reaper, failed);
  for (size_t i = 0; i < n; i++) mark_unwatched(srv, failed[i]);
}

static int watch_child(struct server *srv, pid_t pid)
{
  if (srv->reaper.fd < 0) return 0;
  if (srv->reaper.nbatch == REAPER_BATCH) kids_flush(srv);
  reaper_watch(&srv->reaper, pid);
  return 1;
}

/* A new child, counted under the keys of its connection, computed now:
   a rule may have made a network length counted since it arrived. */
void kids_add(struct server *srv, pid_t pid, const struct peer *p)
{
  struct clientkey keys[CHILD_KEYS_MAX];
  unsigned nkeys = clientcount_keys(&srv->clients, &p->remote, keys);
  struct child_entry *ch = clientcount_add(&srv->clients, pid, &p->remote, keys, nkeys);
  X(ch != NULL);
  ch->watched = watch_child(srv, pid);
  if (!ch->watched) srv->unwatched++;
}

static void child_ended(struct server *srv, pid_t pid, int status)
{
  struct child_entry gone;
  if (clientcount_remove(&srv->clients, pid, &gone) == 0 && !gone.watched)
    srv->unwatched--;
  log_end(srv, pid, status);
  log_status(srv, kids_live(srv));
}

/* One child the reaper saw end. */
static void reap_one(struct server *srv, pid_t pid)
{
  int status;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    child_ended(srv, pid, status);
  } else if (r < 0 && errno == ECHILD) {   /* reaped already */
    struct child_entry gone;
    if (clientcount_remove(&srv->clients, pid, &gone) == 0 && !gone.watched)
      srv->unwatched--;
  }
}

/* Every child that ended, for the ones without a pidfd. */
void kids_reap_any(struct server *srv)
{
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) child_ended(srv, pid, status);
}

/* Without the reaper every child is reaped the old way. */
static void reaper_gone(struct server *srv)
{
  for (size_t i = 0; i < kids_live(srv); i++) {
    struct child_entry *ch = children_at(srv->clients.children, i);
    if (ch->watched) {
      ch->watched = 0;
      srv->unwatched++;
    }
  }
  log_warn(&srv->opt, "the reaper thread ended: reaping every child by SIGCHLD");
}

/* Every child that has ended by now, so that the counts are as fresh as
   they can be (a client that reconnects as soon as its program ended
   must not find itself still counted). */
void kids_reap_ready(struct server *srv)
{
  pid_t news[REAPER_BATCH];
  long n = 0;
  kids_flush(srv);
  if (srv->reaper.fd >= 0)
    while ((n = reaper_news(&srv->reaper, news, REAPER_BATCH)) > 0)
      for (long i = 0; i < n; i++) {
        if (news[i] > 0) reap_one(srv, news[i]);
        else mark_unwatched(srv, -news[i]);
      }
  if (n < 0) reaper_gone(srv);
  if (srv->unwatched) kids_reap_any(srv);
}

/* 1 unless pid is known to have ended (a forked child cannot reap its
   siblings, but can see them end through a pidfd of its own). */
static int still_running(pid_t pid)
{
  int fd = pidfd_open(pid, 0);
  if (fd < 0) return errno != ESRCH;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int ended = poll(&p, 1, 0) == 1;
  close(fd);
  return !ended;
}

/* The children under key that still run: a walk, for a forked child at
   a limit only. */
static unsigned long count_running(const struct server *srv, const struct clientkey *key)
{
  unsigned long n = 0;
  for (size_t i = 0; i < kids_live(srv); i++) {
    const struct child_entry *ch = children_at(srv->clients.children, i);
    struct clientkey k;
    if (clientkey_make(&k, &ch->ip, key->prefix) == 0 && clientkey_equal(&k, key) &&
        still_running(ch->pid))
      n++;
  }
  return n;
}

/* The forked child's second look: the program that made its client's
   last connection may be ending (its socket closed, the client already
   back) while it is not yet gone; it is given SECOND_LOOK_MS, in steps,
   before the limit counts it.  Only this child waits. */
static unsigned long count_running_settled(const struct server *srv,
                                           const struct clientkey *key,
                                           unsigned long limit)
{
  const struct timespec step = { 0, SECOND_LOOK_MS * 1000000L / 10 };
  unsigned long n = count_running(srv, key);
  for (int i = 0; i < 10 && n >= limit; i++) {
    nanosleep(&step, NULL);
    n = count_running(srv, key);
  }
  return n;
}

unsigned long kids_count(struct server *srv, const struct clientkey *key,
                         unsigned long limit, int in_parent, int is_net)
{
  unsigned long n = is_net ? clientcount_net(&srv->clients, key, in_parent)
                           : clientcount_get(&srv->clients, key);
  if (n < limit) return n;
  if (!in_parent) return count_running_settled(srv, key, limit);
  kids_reap_ready(srv);
  return is_net ? clientcount_net(&srv->clients, key, 1)
                : clientcount_get(&srv->clients, key);
}

/* The drain's TERM (with CONT, so that a stopped child gets it) and
   KILL. */
void kids_signal(const struct server *srv, int sig)
{
  for (size_t i = 0; i < kids_live(srv); i++) {
    pid_t pid = children_at(srv->clients.children, i)->pid;
    kill(pid, sig);
    if (sig == SIGTERM) kill(pid, SIGCONT);
  }
}
