/* tlsserver's spawner and standby engines (spawner.h).

   Three processes meet here.  The parent sends a request and reads
   notes.  The spawner only clones standbys, one at a time, and learns
   from a pipe whether its standby took a request ('t': clone the next),
   saw the parent's end ('q': end too) or died (clone another, after a
   pause).  The standby announces itself (NOTE_READY), takes one
   request from the parent's line, answers NOTE_TAKEN with its pid, and
   becomes the engine: as it is the one reading the parent's line, no
   byte of the request passes through the spawner. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "errtext.h"
#include "fdpass.h"
#include "spawner.h"
#include "spawnmsg.h"

/* How long the parent waits for a standby's answer.  A standby answers
   at once; only right after a start, or when the spawner is slow to
   clone the next one, does the parent wait for a clone (milliseconds). */
#define ANSWER_MS 2000
/* After a failed clone or a standby that died unused, before the next. */
#define RETRY_MS 100
/* After a failed start of the spawner, before the next try. */
#define RESTART_MS 1000

static void pause_ms(long ms)
{
  struct timespec t = { ms / 1000, ms % 1000 * 1000000L };
  nanosleep(&t, NULL);
}

/* ---- the standby ---- */

static void note(int sock, int kind)
{
  struct spawn_note n = { kind, getpid() };
  send(sock, &n, sizeof n, MSG_NOSIGNAL);   /* a parent gone: recv says so */
}

static _Noreturn void standby(struct server *srv, int sock, int tell)
{
  static alignas(max_align_t) unsigned char buf[SPAWNMSG_MAX];
  struct conn c;
  int fd;
  ssize_t n;
  note(sock, NOTE_READY);
  do n = fdpass_recv(sock, buf, sizeof buf, &fd); while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  if (n == 0 || (n < 0 && err != EMSGSIZE)) {   /* the parent's end closed */
    if (write(tell, "q", 1) < 0) {}
    _exit(0);
  }
  if (n < 0 || spawnmsg_expected(buf, (size_t) n) != getpid())
    note(sock, NOTE_TAKEN);   /* the parent counts this process from now on */
  if (write(tell, "t", 1) < 0) {}   /* the spawner gone: the parent finds out */
  close(tell);
  close(sock);
  if (n < 0 || spawnmsg_decode(srv, buf, (size_t) n, fd, &c) < 0) {
    log_drop(&srv->opt, "unable to read the request of the server", "", n < 0 ? err : errno);
    _exit(111);
  }
  child_run(srv, &c);
}

/* ---- the spawner ---- */

/* A fork whose child is the server's, not this process's: the server
   reaps it, sees its end, signals it, as a child it forked.  (glibc's
   fork has no such flag; this process is single-threaded, holds no
   lock, and the child's pid is asked of the kernel, so a bare clone is
   a fork here.  What glibc keeps of the thread's id stays the
   spawner's in the child; only raise and error-checking or robust
   mutexes read it, none of which the engine uses, and its own forks
   set it right in their children.  OpenSSL sees a new pid and reseeds
   its random generator, as after fork.) */
static pid_t clone_sibling(void)
{
  return (pid_t) syscall(SYS_clone, (unsigned long) (CLONE_PARENT | SIGCHLD), 0, 0, 0, 0);
}

static void spawner_signals(void)
{
  struct sigaction sa = { .sa_handler = SIG_IGN };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);   /* the engine sets it back (child_run) */
  sa.sa_handler = SIG_DFL;
  sigaction(SIGALRM, &sa, NULL);  /* the parent's file watch is not ours */
}

/* One standby after another, until one sees the parent's end. */
static _Noreturn void spawner_main(struct server *srv, int sock)
{
  spawner_signals();
  for (;;) {
    int line[2];
    char what = 0;
    if (getppid() != srv->pid) _exit(0);
    if (pipe2(line, O_CLOEXEC) < 0) {
      pause_ms(RETRY_MS);
      continue;
    }
    pid_t pid = clone_sibling();
    if (pid == 0) {
      close(line[0]);
      standby(srv, sock, line[1]);
    }
    close(line[1]);
    while (pid > 0 && read(line[0], &what, 1) < 0 && errno == EINTR) {}
    close(line[0]);
    if (what == 'q') _exit(0);
    if (what != 't') pause_ms(RETRY_MS);
  }
}

/* ---- the parent ---- */

void spawner_init(struct spawner *s)
{
  s->fd = s->pidfd = -1;
  s->pid = s->standby = 0;
  s->retry_at = 0;
  memset(s->reaped, 0, sizeof s->reaped);
  s->nreaped = 0;
}

static int start_failed(struct spawner *s, int err)
{
  s->retry_at = clock_ms() + RESTART_MS;
  errno = err;
  return -1;
}

int spawner_start(struct spawner *s, struct server *srv)
{
  int sv[2];
  int bufsize = 2 * SPAWNMSG_MAX;
  struct timeval answer = { ANSWER_MS / 1000, ANSWER_MS % 1000 * 1000 };
  if (s->retry_at && clock_ms() < s->retry_at) {
    errno = EAGAIN;
    return -1;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return start_failed(s, errno);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &answer, sizeof answer);
  srv->helper_fd = sv[0];   /* every child closes it: only we hold this end */
  pid_t pid = fork();
  if (pid == 0) {
    child_close_server_fds(srv);
    spawner_main(srv, sv[1]);
  }
  int err = errno;
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    srv->helper_fd = -1;
    return start_failed(s, err);
  }
  s->fd = sv[0];
  s->pid = pid;
  s->pidfd = pidfd_open(pid, 0);
  s->standby = 0;
  return 0;
}

static int reaped_lately(const struct spawner *s, pid_t pid)
{
  for (unsigned i = 0; i < SPAWNER_REAPED; i++)
    if (s->reaped[i] == pid) return 1;
  return 0;
}

void spawner_reaped(struct spawner *s, pid_t pid)
{
  if (pid == s->standby) s->standby = 0;
  s->reaped[s->nreaped++ % SPAWNER_REAPED] = pid;
}

/* The notes: a standby's pid is kept.  Waiting (not dontwait), the pid
   of the engine that took the request is returned; not waiting, 1 as
   soon as a standby is known (one recv when its note is the first),
   0 when no note is left.  Waiting, 0 when none came in time; -1 at
   the end of the line, an error, or (EPROTO) a note out of turn, with
   errno. */
static pid_t read_note(struct spawner *s, int dontwait)
{
  struct spawn_note n;
  for (;;) {
    ssize_t r = recv(s->fd, &n, sizeof n, dontwait ? MSG_DONTWAIT : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    if (r == 0) errno = ECONNRESET;
    if (r <= 0) return -1;
    if (r != sizeof n || n.pid <= 0) continue;   /* not ours: ignored */
    if (n.kind == NOTE_READY && reaped_lately(s, n.pid)) continue;   /* dead already */
    if (n.kind == NOTE_READY) {
      s->standby = n.pid;
      if (dontwait) return 1;
    }
    if (n.kind != NOTE_TAKEN) continue;
    if (n.pid == s->standby) s->standby = 0;
    if (!dontwait) return n.pid;
    /* Late: a request meant for a standby that died unread was taken
       by the next one.  That engine runs uncounted (it may have ended
       and been reaped already: adding it now could count it for ever);
       the dead standby was counted and has its end line instead.  The
       notes still queued are one standby behind: start afresh. */
    errno = EPROTO;
    return -1;
  }
}

/* 1 unless the helper behind pidfd is known to be reaped already. */
static size_t still_to_reap(int pidfd)
{
  siginfo_t si = { .si_pid = 0 };
  if (pidfd < 0) return 1;
  if (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED | WNOHANG) < 0) return errno != ECHILD;
  return si.si_pid == 0;
}

/* The line closed: the standby and the spawner see its end and end. */
static void let_go(struct spawner *s, struct server *srv, int kill_them)
{
  while (read_note(s, 1) > 0) {}   /* the last standby's name */
  if (kill_them) {
    if (s->pidfd >= 0) pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
    if (s->standby > 0) kill(s->standby, SIGKILL);
  }
  close(s->fd);
  srv->helper_fd = -1;
  kids_helpers_ending(srv, still_to_reap(s->pidfd) + (s->standby > 0));
  if (s->pidfd >= 0) close(s->pidfd);
  spawner_init(s);
}

void spawner_retire(struct spawner *s, struct server *srv)
{
  if (s->fd >= 0) let_go(s, srv, 0);
}

/* Gone or silent: one warning, a new spawner for the next connection,
   and this one is forked by the core.  A silent one is killed with its
   standby first, so that nobody serves the connection twice. */
static void lost(struct spawner *s, struct server *srv, int err, int silent)
{
  log_warn(&srv->opt, silent ? "the spawner did not answer, forking: "
                             : "the spawner is gone, forking: ", errtext(err));
  let_go(s, srv, silent);
  spawner_start(s, srv);
}

pid_t spawner_spawn(struct spawner *s, struct server *srv, struct conn *c)
{
  struct iovec iov[2];
  if (!srv->fast_path && (srv->opt.rules || srv->opt.client_limit)) return 0;
  if (s->fd < 0 && spawner_start(s, srv) < 0) return 0;
  if (!s->standby && read_note(s, 1) < 0) {   /* a standby announced since? */
    lost(s, srv, errno, 0);
    return 0;
  }
  pid_t expect = s->standby;
  if (spawnmsg_encode(srv, c, expect, iov) < 0) return 0;
  if (fdpass_send(s->fd, iov, 2, c->peer.fd) < 0) {
    lost(s, srv, errno, 0);
    return 0;
  }
  s->standby = 0;
  if (expect) return expect;   /* it is blocked reading this very request */
  pid_t pid = read_note(s, 0);
  if (pid > 0) return pid;
  lost(s, srv, pid == 0 ? ETIMEDOUT : errno, pid == 0 || errno == EAGAIN);
  return 0;
}
