/* The signals: SIGCHLD stays blocked except inside epoll_pwait, so that
   it can never slip in between a check and a wait, and costs no system
   call per connection.  SIGTERM is never blocked: it ends the server at
   once, whatever it is doing (also while a log write blocks on a reader
   that stopped reading), as in 0.88; with -G it starts the drain
   instead.  SIGHUP reloads when the program has a reload, else keeps
   its default action (0.88's server ends).  A handler only notes the
   signal and writes a byte to a pipe that wakes the wait.

   The process has a second thread (the reaper, which blocks every
   signal): masks are set with pthread_sigmask, never sigprocmask. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "msg.h"
#include "server.h"

static volatile sig_atomic_t got_chld, got_term, got_hup;
static pid_t server_pid;
static int wake_pipe[2] = { -1, -1 };

static void wake(void)
{
  int e = errno;
  if (write(wake_pipe[1], "", 1) < 0) {}   /* full: a wake-up is pending */
  errno = e;
}

/* SIGCHLD comes only inside epoll_pwait, which it ends: no wake-up. */
static void on_child(int sig) { (void) sig; got_chld = 1; }
static void on_hup(int sig) { (void) sig; got_hup = 1; wake(); }
/* As in 0.88, SIGTERM ends the server at once. */
static void on_term(int sig) { (void) sig; _exit(0); }
/* -G: SIGTERM starts the drain.  A child not yet running its program
   (it has the handler until then) ends, as in 0.88. */
static void on_term_drain(int sig)
{
  (void) sig;
  if (getpid() != server_pid) _exit(0);
  log_stop_waiting();
  got_term = 1;
  wake();
}

static void catch_signal(int sig, void (*handler)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

void signals_init(struct server *srv)
{
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &blocked, &srv->startup_mask);
  srv->waiting_mask = srv->startup_mask;
  sigdelset(&srv->waiting_mask, SIGCHLD);
  sigdelset(&srv->waiting_mask, SIGTERM);
  if (srv->program->reload) sigdelset(&srv->waiting_mask, SIGHUP);
  srv->watched_mask = srv->waiting_mask;
  sigaddset(&srv->watched_mask, SIGCHLD);
  server_pid = srv->pid;
  if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0) msg_fatal_sys("unable to create pipe");
  catch_signal(SIGCHLD, on_child);
  catch_signal(SIGTERM, srv->opt.drain_ms ? on_term_drain : on_term);
  if (srv->program->reload) catch_signal(SIGHUP, on_hup);
  catch_signal(SIGPIPE, SIG_IGN);
}

/* The read end of the pipe the handlers write to. */
int signals_wake_fd(void)
{
  return wake_pipe[0];
}

/* Each flag is cleared only once seen set: a signal that comes in
   between is taken now or at the next call, never lost. */
int signals_take(int pipe_readable)
{
  int bits = 0;
  if (pipe_readable) {   /* else nothing to read: SIGCHLD only sets its flag */
    char buf[64];
    while (read(wake_pipe[0], buf, sizeof buf) > 0) {}
  }
  if (got_chld) { got_chld = 0; bits |= SIG_CHLD_BIT; }
  if (got_term) { got_term = 0; bits |= SIG_TERM_BIT; }
  if (got_hup) { got_hup = 0; bits |= SIG_HUP_BIT; }
  return bits;
}

/* A forked child: the pipe is the server's.  Marked closed, so that a
   handler inherited until the child sets its own never writes to a
   descriptor that has been given another use. */
void signals_close(void)
{
  for (int i = 0; i < 2; i++)
    if (wake_pipe[i] >= 0) {
      close(wake_pipe[i]);
      wake_pipe[i] = -1;
    }
}

/* A forked child (slow path) that is still doing the lookups: SIGTERM
   ends it, as in 0.88, and nothing else is blocked.  A vfork child
   shares the parent's handlers' memory and must not touch them: it
   keeps the parent's dispositions until exec resets them. */
void signals_for_child(const struct server *srv)
{
  catch_signal(SIGTERM, on_term);
  if (srv->program->reload) catch_signal(SIGHUP, SIG_DFL);
  pthread_sigmask(SIG_SETMASK, &srv->startup_mask, NULL);
}

/* What the program gets, as it was when the server started. */
void signals_handled(const struct server *srv, int *sigs)
{
  int n = 0;
  sigs[n++] = SIGCHLD;
  sigs[n++] = SIGTERM;
  sigs[n++] = SIGPIPE;
  if (srv->program->reload) sigs[n++] = SIGHUP;
  sigs[n] = 0;
}

void signals_for_program(const struct server *srv)
{
  int sigs[5];
  signals_handled(srv, sigs);
  for (int *s = sigs; *s; s++) catch_signal(*s, SIG_DFL);
  pthread_sigmask(SIG_SETMASK, &srv->startup_mask, NULL);
}
