/* The children: the ledger of the live ones, counted under the keys of
   their connections (clientcount), and their reaping.  While few
   children live, they are reaped the old way (SIGCHLD, waitpid(-1)),
   whose walk of the children costs the kernel little then; from
   REAPER_FROM live children on, the reaper thread names the children
   that ended, so that each is reaped by its pid (a pidfd each in the
   thread), and the children kept from it so far are handed over too.
   A child the reaper could not take is "unwatched" and reaped the old
   way.  Every child that starts is in the ledger: the admission gate
   leaves room for it, so a ledger that refuses one is an impossible
   state, never ignored.  A child that is not in the ledger is a
   program's helper (tlsserver's spawner and its standby engine): it
   ends without an end line, and changes no count. */
#include <errno.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "msg.h"
#include "server.h"

/* Pids cannot go beyond this (Linux's PID_MAX_LIMIT), nor can children. */
#define CHILDREN_MAX (1ul << 22)

/* From this many live children on, the reaper.  Below, a waitpid(-1)
   walks at most this many children: about 10 ns each here (3.5 us at
   256), against the reaper's pidfd_open, epoll_ctl and close in its
   thread and the wake-ups of the thread for every child, which cost
   the parent more than that per connection (bench/RESULTS.md). */
#define REAPER_FROM 256

/* From REAPER_FROM on, a new child is handed to the reaper only if it
   still runs DEFER_MS later: most children of a busy server end sooner,
   and one waitpid of the pid then reaps each, where a pidfd costs the
   reaper thread three system calls and its wake-ups, as much again as
   the rest of the connection (bench/RESULTS.md).  An ended child waits
   at most that long for its reaping (the loop wakes for it), none when
   a limit is reached (kids_count) or every place is taken. */
#define DEFER_MS 10
#define DEFER_MAX 4096

/* How a child is reaped (child_entry.watched). */
enum { BY_SIGNAL = 0,   /* SIGCHLD, waitpid(-1): the reaper could not take it */
       BY_REAPER = 1,   /* the reaper names it when it ends */
       KEPT = 2,        /* by SIGCHLD while few live; the reaper's later */
       DEFERRED = 3 };  /* its pid looked at DEFER_MS after its start */

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
   reaper, children are reaped the old way.  With -c below REAPER_FROM
   it would never be used: no thread then. */
void kids_start_reaper(struct server *srv)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CHILDREN_TAG };
  if (srv->children_cap < REAPER_FROM) return;
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
  if (ch && ch->watched == BY_REAPER) {
    ch->watched = BY_SIGNAL;
    srv->unwatched++;
  }
}

/* A child leaves the ledger: the counts of how it was reaped follow. */
static void forget(struct server *srv, const struct child_entry *gone)
{
  if (gone->watched == BY_SIGNAL || gone->watched == KEPT) srv->unwatched--;
  if (gone->watched == KEPT) srv->kept--;
}

/* Hand the reaper what was gathered; what it could not take is ours. */
void kids_flush(struct server *srv)
{
  pid_t failed[REAPER_BATCH];
  size_t n = reaper_flush(&srv->reaper, failed);
  for (size_t i = 0; i < n; i++) mark_unwatched(srv, failed[i]);
}

static void watch_child(struct server *srv, struct child_entry *ch)
{
  if (srv->reaper.nbatch == REAPER_BATCH) kids_flush(srv);
  reaper_watch(&srv->reaper, ch->pid);
  ch->watched = BY_REAPER;
}

/* Many children now: those kept from the reaper go to it, so that no
   waitpid(-1) walks them all any more.  (One that has ended already is
   named at once: its pidfd is readable.) */
static void hand_over_kept(struct server *srv)
{
  for (size_t i = 0; i < kids_live(srv) && srv->kept; i++) {
    struct child_entry *ch = children_at(srv->clients.children, i);
    if (ch->watched != KEPT) continue;
    watch_child(srv, ch);
    srv->kept--;
    srv->unwatched--;
  }
}

static void child_ended(struct server *srv, pid_t pid, int status);

/* ---- children deferred from the reaper (DEFER_MS) ---- */

static struct deferred *deferred_at(const struct server *srv, size_t i)
{
  return &srv->deferred[(srv->defer_first + i) % DEFER_MAX];
}

/* The oldest deferred child: reaped if it has ended, else watched. */
static void settle_oldest(struct server *srv)
{
  pid_t pid = deferred_at(srv, 0)->pid;
  srv->defer_first = (srv->defer_first + 1) % DEFER_MAX;
  srv->ndeferred--;
  struct child_entry *ch = children_find(srv->clients.children, pid);
  if (!ch || ch->watched != DEFERRED) return;   /* reaped meanwhile */
  int status;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    child_ended(srv, pid, status);
  } else {
    watch_child(srv, ch);
  }
}

void kids_settle(struct server *srv, int all)
{
  long long now = srv->ndeferred && !all ? clock_ms() : 0;
  while (srv->ndeferred && (all || deferred_at(srv, 0)->since + DEFER_MS <= now))
    settle_oldest(srv);
}

int kids_timeout_ms(const struct server *srv, int ms)
{
  if (!srv->ndeferred) return ms;
  long long left = deferred_at(srv, 0)->since + DEFER_MS - clock_ms();
  if (left < 0) left = 0;
  return ms < 0 || left < ms ? (int) left : ms;
}

/* 0, or -1 when there is no room (the caller watches it at once). */
static int defer(struct server *srv, struct child_entry *ch)
{
  if (!srv->deferred && !(srv->deferred = calloc(DEFER_MAX, sizeof *srv->deferred)))
    return -1;
  if (srv->ndeferred == DEFER_MAX) settle_oldest(srv);
  *deferred_at(srv, srv->ndeferred++) = (struct deferred) { ch->pid, clock_ms() };
  ch->watched = DEFERRED;
  return 0;
}

/* A new child, counted under the keys of its connection, computed now:
   a rule may have made a network length counted since it arrived. */
void kids_add(struct server *srv, pid_t pid, const struct peer *p)
{
  struct clientkey keys[CHILD_KEYS_MAX];
  unsigned nkeys = clientcount_keys(&srv->clients, &p->remote, keys);
  struct child_entry *ch = clientcount_add(&srv->clients, pid, &p->remote, keys, nkeys);
  X(ch != NULL);
  if (srv->reaper.fd >= 0 && kids_live(srv) >= REAPER_FROM) {
    if (defer(srv, ch) < 0)
      watch_child(srv, ch);   /* before the others: kids_flush may mark it */
    if (srv->kept) hand_over_kept(srv);
    return;
  }
  ch->watched = srv->reaper.fd >= 0 ? KEPT : BY_SIGNAL;
  srv->unwatched++;
  if (ch->watched == KEPT) srv->kept++;
}

static void child_ended(struct server *srv, pid_t pid, int status)
{
  struct child_entry gone;
  const char *what, *arg;
  int err;
  /* A launched child that failed exits 111: only then is there a slot
     to look for. */
  if (WIFEXITED(status) && WEXITSTATUS(status) == 111 &&
      launch_failure(&srv->launch, pid, &what, &arg, &err))
    log_drop(&srv->opt, what, arg, err);
  if (clientcount_remove(&srv->clients, pid, &gone) < 0) {
    if (srv->helpers_ending) srv->helpers_ending--;   /* a helper: no line */
    if (srv->program->helper_ended) srv->program->helper_ended(srv, pid);
    return;
  }
  forget(srv, &gone);
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
    if (clientcount_remove(&srv->clients, pid, &gone) == 0) forget(srv, &gone);
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
    if (ch->watched == BY_REAPER || ch->watched == DEFERRED) srv->unwatched++;
    if (ch->watched == KEPT) srv->kept--;
    ch->watched = BY_SIGNAL;
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
  if (kids_by_signal(srv)) kids_reap_any(srv);
}

void kids_helpers_ending(struct server *srv, size_t n)
{
  srv->helpers_ending += n;
}

int kids_by_signal(const struct server *srv)
{
  return srv->unwatched || srv->helpers_ending;
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
  kids_settle(srv, 1);
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
