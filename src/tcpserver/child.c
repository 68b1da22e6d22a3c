/* The child of one connection, 0.88's order: pid line, banner, (slow
   path: the lookups and the rules), verdict line, then exit 100 on deny,
   or the program with the connection on descriptors 0 and 1.

   Fast path: vfork.  The parent is suspended until the child has
   exec'd or exited, so the child uses the connection, the verdict and
   the environment in place; it may only use its stack and system calls
   (no allocation, no stdio, no locks, nothing another thread may hold),
   must never return from this file's functions, and ends in exec or
   _exit.  Its log writes go through log.c, which never lets a stalled
   logger hold the suspended parent for ever.

   Slow path, -G, and a program with its own run: fork, or the
   program's spawn (a process made some other way, that calls
   child_run).  The server has
   a second thread (the reaper), and only the forking thread lives on in
   the child: the child must not take a lock that thread may have held
   (malloc is safe in glibc's fork; the reaper holds none of ours).  Its
   first act is to close what is the server's, above all the listening
   socket, so that a child still in its lookups never keeps the port
   from a new instance. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fd.h"
#include "pathexec.h"
#include "server.h"

/* Everything of the server's but the connection and descriptor 2. */
void child_close_server_fds(struct server *srv)
{
  int *server_fds[] = { &srv->listen_fd, &srv->epfd, &srv->reaper.fd, &srv->front.fd,
                        &srv->helper_fd };
  for (size_t i = 0; i < sizeof server_fds / sizeof *server_fds; i++) {
    int fd = *server_fds[i];
    *server_fds[i] = -1;
    if (fd >= 0) close(fd);
  }
  signals_close();
  waiting_close_fds(srv);
}

/* -O (0.88's default): IP options, IPv4's only, are removed. */
static int kills_ip_options(const struct options *opt, const struct peer *p)
{
  return opt->killopts && p->remote.family == AF_INET;
}

static void socket_options(const struct options *opt, int fd, const struct peer *p)
{
  int one = 1;
  if (kills_ip_options(opt, p)) setsockopt(fd, IPPROTO_IP, IP_OPTIONS, NULL, 0);
  if (opt->nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The socket on 0 and 1, without close-on-exec; nothing else survives
   exec but 2. */
static int socket_to_stdio(int fd)
{
  if (fd_move(0, fd) < 0) return -1;
  return dup2(0, 1) < 0 ? -1 : 0;
}

/* The refused client gets the message and CRLF, if the socket takes them
   at once (a new connection's buffer always does: the message is cut to
   fit), never waiting on it; what it sent is read away, so that the
   close does not reset the connection before the message arrives. */
#define REFUSAL_MSG_MAX 1000
static void tell_refused(const struct conn *c)
{
  char buf[REFUSAL_MSG_MAX + 2];
  size_t n = c->v.limit_msglen;
  if (!c->v.limit_msg) return;   /* nothing to tell: the close says it all */
  if (n > REFUSAL_MSG_MAX) n = REFUSAL_MSG_MAX;
  memcpy(buf, c->v.limit_msg, n);
  buf[n++] = '\r';
  buf[n++] = '\n';
  send(c->peer.fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(c->peer.fd, SHUT_WR);
  recv(c->peer.fd, buf, sizeof buf, MSG_DONTWAIT);
}

/* A refusal for a limit decided by the parent: logged (pid 0: no
   process) and told; the caller closes the connection. */
void child_refuse(const struct server *srv, struct conn *c)
{
  if (srv->opt.verbosity >= 2 && verdict_local_address(&c->peer) == 0)
    c->peer.localhost = srv->opt.localname;
  log_limit(&srv->opt, 0, c);
  tell_refused(c);
}

static _Noreturn void drop_and_exit(const struct server *srv, const char *what,
                                    const char *arg, int err)
{
  log_drop(&srv->opt, what, arg, err);
  _exit(111);
}

/* The child's part from the pid line on: in a forked child, or in a
   vfork child that shares the parent's memory. */
static _Noreturn void serve(struct server *srv, struct conn *c)
{
  pid_t pid = getpid();
  if (srv->opt.verbosity >= 2) {
    log_pid(pid, &c->peer);
    if (c->peer.proxied) log_proxy(pid, &c->peer);
  }
  socket_options(&srv->opt, c->peer.fd, &c->peer);
  if (srv->opt.bannerlen && write_all(c->peer.fd, srv->opt.banner, srv->opt.bannerlen) < 0)
    drop_and_exit(srv, "unable to print banner", "", errno);
  if (!srv->fast_path) verdict_prepare(srv, c);
  if (c->v.outcome == OUT_LIMIT) {
    log_limit(&srv->opt, pid, c);
    tell_refused(c);
    _exit(100);
  }
  if (c->v.outcome == OUT_DROP)
    drop_and_exit(srv, c->v.drop_what, c->v.drop_arg, c->v.drop_err);
  if (srv->opt.verbosity >= 2) log_verdict(pid, c);
  if (c->v.outcome == OUT_DENY) _exit(100);
  if (socket_to_stdio(c->peer.fd) < 0)
    drop_and_exit(srv, "unable to set up descriptors", "", errno);
  signals_for_program(srv);
  if (srv->nofile_raised) setrlimit(RLIMIT_NOFILE, &srv->nofile);
  if (srv->program->run) {
    srv->program->run(srv, c);
    _exit(111);   /* it does not return; never run the program in its place */
  }
  pathexec_run(srv->opt.prog[0], srv->opt.prog, c->v.envp);
  drop_and_exit(srv, "unable to run ", srv->opt.prog[0], errno);
}

_Noreturn void child_run(struct server *srv, struct conn *c)
{
  signals_for_child(srv);   /* SIGTERM ends the lookups, as in 0.88 */
  /* Its rules come after its name lookups, from the file as it is
     then, as 0.88's child reads them. */
  if (srv->opt.rules) rules_db_recheck(&srv->rules);
  serve(srv, c);
}

/* The fast launch (launch.h), when the child would only exec: its pid;
   0 when it cannot be used for this connection (then vfork or fork);
   -1 with errno when clone failed. */
static pid_t launch_child(struct server *srv, struct conn *c)
{
  if (!srv->fast_path || srv->program->run || c->v.outcome != OUT_OK)
    return 0;
  struct launch_job *j = launch_job(&srv->launch);
  if (!j || launch_copy(j, c->v.envp, srv->opt.banner, srv->opt.bannerlen) < 0)
    return 0;
  j->fd = c->peer.fd;
  j->killopts = kills_ip_options(&srv->opt, &c->peer);
  j->nodelay = srv->opt.nodelay;
  j->file = srv->opt.prog[0];
  j->path = srv->path;
  j->argv = srv->opt.prog;
  signals_handled(srv, j->signals);
  memcpy(&j->mask, &srv->startup_mask, sizeof j->mask);
  j->set_nofile = srv->nofile_raised;
  j->nofile = srv->nofile;
  j->wait_go = srv->opt.verbosity >= 2;
  j->server = srv->pid;
  pid_t pid = launch_start(j);
  if (pid > 0 && j->wait_go) {
    log_pid(pid, &c->peer);
    if (c->peer.proxied) log_proxy(pid, &c->peer);
    log_verdict(pid, c);
    launch_release(j);
  }
  return pid;
}

/* The child of an admitted connection: its pid, or -1 with errno. */
pid_t child_spawn(struct server *srv, struct conn *c)
{
  pid_t launched = launch_child(srv, c);
  if (launched) return launched;
  /* With -G a fork: a vfork child blocked in a log write would hold the
     parent, and with it the drain, for as long as the logger reads
     nothing (a signal does not end the wait of a vfork). */
  int forked = !srv->fast_path || srv->opt.drain_ms || srv->program->run;
  if (forked && srv->program->spawn) {
    pid_t pid = srv->program->spawn(srv, c);
    if (pid != 0) return pid;
  }
  pid_t pid = forked ? fork() : vfork();
  if (pid == 0 && !forked) serve(srv, c);
  if (pid == 0) {
    child_close_server_fds(srv);
    child_run(srv, c);
  }
  return pid;
}
