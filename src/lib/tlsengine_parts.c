/* What the TLS engine's modes share (tlsengine_parts.h): ending, the
   descriptors, ids and confinement, signals, the handshake, the relay,
   starting the program and leaving as it left. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "env.h"
#include "fd.h"
#include "num.h"
#include "pathexec.h"
#include "tlsengine.h"
#include "tlsengine_parts.h"
#include "tlsrelay.h"

_Noreturn void engine_die(const struct tlsengine *e, const char *what,
                          const char *arg, int err)
{
  e->fatal(e->ctx, what, arg, err);
  _exit(111);
}

/* A descriptor above the ones the program gets (0-2, 6, 7), so that
   putting those in place can never clobber it. */
int engine_high(const struct tlsengine *e, int fd)
{
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (h < 0) engine_die(e, "unable to set up descriptors", "", errno);
  close(fd);
  return h;
}

void engine_make_pipe(const struct tlsengine *e, int p[2])
{
  if (pipe2(p, O_CLOEXEC) < 0) engine_die(e, "unable to create pipe", "", errno);
  p[0] = engine_high(e, p[0]);
  p[1] = engine_high(e, p[1]);
}

/* As tcpserver's -g and -u: an id of 0 is kept. */
int engine_set_ids(int on, uid_t uid, gid_t gid)
{
  if (!on) return 0;
  if (gid && (setgroups(1, &gid) < 0 || setgid(gid) < 0)) return -1;
  if (uid && setuid(uid) < 0) return -1;
  return 0;
}

/* The engine's own confinement, once the program's process exists. */
void engine_confine(const struct tlsengine *e)
{
  if (engine_set_ids(e->set_tls_ids, e->tls_uid, e->tls_gid) < 0)
    engine_die(e, "unable to set the TLS engine's uid or gid", "", errno);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* SIGTERM (tlsserver's drain, a supervisor) reaches the program, which
   then ends as it would under tcpserver; the engine relays its last
   words and follows it. */
static volatile pid_t program_pid;

static void forward_term(int sig)
{
  /* A program under another uid cannot be signalled: the engine ends,
     and the program reads EOF and writes into a closed pipe. */
  if (program_pid > 0 && kill(program_pid, sig) < 0) _exit(111);
}

void engine_forward_signals(pid_t pid)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward_term;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  program_pid = pid;
  sigaction(SIGTERM, &sa, 0);
}

int engine_pidfd_of(pid_t pid)
{
  return (int) syscall(SYS_pidfd_open, pid, 0);
}

/* Leave as the program left: its exit code, or its signal. */
_Noreturn void engine_exit_like(pid_t pid)
{
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    sigset_t all;
    signal(WTERMSIG(status), SIG_DFL);
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, 0);
    raise(WTERMSIG(status));
  }
  _exit(111);
}

int engine_handshake(const struct tlsengine *e, struct tls_conn **out)
{
  char why[TLS_WHY];
  struct tls_conn *c = e->server ? tls_conn_accept(e->server, e->sock)
                                 : tls_conn_connect(e->client, e->sock, e->name);
  if (!c) {
    e->log_fail(e->ctx, "out of memory");
    return -1;
  }
  if (tls_conn_handshake(c, e->handshake_ms, why) < 0) {
    e->log_fail(e->ctx, why);
    tls_conn_free(c);
    return -1;
  }
  e->log_tls(e->ctx, c);
  *out = c;
  return 0;
}

/* The banner, through TLS, before the program's first byte. */
static int send_banner(const struct tlsengine *e, struct tls_conn *c)
{
  size_t done = 0;
  while (done < e->bannerlen) {
    ssize_t n = tls_conn_write(c, e->banner + done, e->bannerlen - done);
    if (n > 0) { done += (size_t) n; continue; }
    if (n == TLS_IO_ERROR) return -1;
    struct pollfd p = { e->sock, n == TLS_IO_WANT_READ ? POLLIN : POLLOUT, 0 };
    if (poll(&p, 1, e->handshake_ms) <= 0) return -1;
  }
  return 0;
}

void engine_relay(const struct tlsengine *e, struct tls_conn *c, int to, int from,
                  pid_t pid)
{
  char why[TLS_WHY];
  int pidfd = engine_pidfd_of(pid);
  if (e->bannerlen && send_banner(e, c) < 0) {
    close(to);
    close(from);
    return;
  }
  tlsrelay_run(c, e->sock, to, from, pidfd, why);
  if (pidfd >= 0) close(pidfd);
}

/* What failed in the program's process before exec, sent back to the
   engine, which reports it. */
struct start_failure { int setting_ids; int err; };

/* The program's process: its descriptors (every source above 9, so no
   move clobbers another), its ids, exec.  After vfork it may only use
   the stack and system calls. */
static _Noreturn void program_process(const struct tlsengine *e, char **env,
                                      const int *from, const int *to, size_t n,
                                      int report)
{
  struct start_failure f = { 0, 0 };
  for (size_t i = 0; i < n; i++)
    if (dup2(from[i], to[i]) < 0) goto failed;
  if (engine_set_ids(e->set_prog_ids, e->prog_uid, e->prog_gid) < 0) {
    f.setting_ids = 1;
    goto failed;
  }
  signal(SIGPIPE, SIG_DFL);
  pathexec_run(e->argv[0], e->argv, env);
failed:
  f.err = errno;
  if (write(report, &f, sizeof f) < 0) _exit(111);
  _exit(111);
}

/* Start the program with from[i] on to[i]: vfork when there are no ids
   to set (the engine's memory is not copied), else fork.  Returns its
   pid; a failure to start it ends the engine (reported). */
pid_t engine_start_program(const struct tlsengine *e, char **env,
                           const int *from, const int *to, size_t n)
{
  int report[2];
  engine_make_pipe(e, report);
  pid_t pid = e->set_prog_ids ? fork() : vfork();
  if (pid == 0) program_process(e, env, from, to, n, report[1]);
  if (pid < 0) engine_die(e, "unable to fork", "", errno);
  close(report[1]);
  struct start_failure f;
  ssize_t got = read(report[0], &f, sizeof f);
  close(report[0]);
  if (got == (ssize_t) sizeof f) {
    waitpid(pid, 0, 0);
    if (f.setting_ids) engine_die(e, "unable to set uid or gid", "", f.err);
    engine_die(e, "unable to run ", e->argv[0], f.err);
  }
  return pid;
}

