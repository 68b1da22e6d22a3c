/* One connection's TLS engine: the program's process, the handshake,
   the relay and the program's end (tlsengine.h). */
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

/* In the program's process: ids, then exec. */
static _Noreturn void exec_program(const struct tlsengine *e, char **env)
{
  if (engine_set_ids(e->set_prog_ids, e->prog_uid, e->prog_gid) < 0)
    engine_die(e, "unable to set uid or gid", "", errno);
  signal(SIGPIPE, SIG_DFL);
  pathexec_run(e->argv[0], e->argv, env);
  engine_die(e, "unable to run ", e->argv[0], errno);
}

/* Read the variables block (the program's process, before exec): its
   length, 0 when the engine closed the pipe without one. */
static size_t read_block(int fd, char *buf, size_t n)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t) r;
  }
  return got;
}

static _Noreturn void waiting_program(const struct tlsengine *e, int go,
                                      int in, int out)
{
  static char block[VARS_MAX];
  size_t n = read_block(go, block, sizeof block);
  if (!n) _exit(111);   /* no handshake: the engine has said why */
  close(go);
  close(e->sock);
  struct envb env;
  envb_init(&env, (char **) e->envp);
  tls_scrub_env(&env, e->envp);
  for (size_t i = 0; i < n && block[i]; i += strlen(block + i) + 1)
    envb_put(&env, block + i, strlen(block + i));
  char **vec = envb_vec(&env);
  if (!vec) engine_die(e, "out of memory", "", ENOMEM);
  if (fd_move(e->fd_read, in) < 0 || fd_move(e->fd_write, out) < 0)
    engine_die(e, "unable to set up descriptors", "", errno);
  exec_program(e, vec);
}

/* TLS from the start: the program waits for the handshake. */
static _Noreturn void run_direct(const struct tlsengine *e)
{
  int go[2], in[2], out[2];
  engine_make_pipe(e, go);
  engine_make_pipe(e, in);
  engine_make_pipe(e, out);
  pid_t pid = fork();
  if (pid < 0) engine_die(e, "unable to fork", "", errno);
  if (pid == 0) {
    close(go[1]); close(in[1]); close(out[0]);
    waiting_program(e, go[0], in[0], out[1]);
  }
  close(go[0]); close(in[0]); close(out[1]);
  engine_forward_signals(pid);
  engine_confine(e);
  struct tls_conn *c;
  if (engine_handshake(e, &c) < 0) {
    close(go[1]);
    waitpid(pid, 0, 0);
    _exit(111);
  }
  static char block[VARS_MAX];
  size_t n = tls_conn_vars_block(c, e->full, block, sizeof block);
  if (!n || write_all(go[1], block, n) < 0) {
    close(go[1]);
    waitpid(pid, 0, 0);
    _exit(111);
  }
  close(go[1]);
  engine_relay(e, c, in[1], out[0], pid);
  engine_exit_like(pid);
}

/* No ids to give the program: the handshake first, then the program,
   started with vfork (one fork of the engine fewer a connection). */
static _Noreturn void run_spawned(const struct tlsengine *e)
{
  engine_confine(e);
  struct tls_conn *c;
  if (engine_handshake(e, &c) < 0) _exit(111);
  struct envb env;
  envb_init(&env, (char **) e->envp);
  tls_scrub_env(&env, e->envp);
  char **vec = tls_conn_vars(c, e->full, &env) < 0 ? 0 : envb_vec(&env);
  if (!vec) engine_die(e, "out of memory", "", ENOMEM);
  int in[2], out[2];
  engine_make_pipe(e, in);
  engine_make_pipe(e, out);
  const int from[] = { in[0], out[1] }, to[] = { e->fd_read, e->fd_write };
  pid_t pid = engine_start_program(e, vec, from, to, 2);
  close(in[0]); close(out[1]);
  engine_forward_signals(pid);
  engine_relay(e, c, in[1], out[0], pid);
  engine_exit_like(pid);
}

void tlsengine_run(const struct tlsengine *e)
{
  signal(SIGPIPE, SIG_IGN);
  if (e->ucspitls) engine_run_ucspitls(e);
  if (!e->set_tls_ids && !e->set_prog_ids) run_spawned(e);
  run_direct(e);
}
