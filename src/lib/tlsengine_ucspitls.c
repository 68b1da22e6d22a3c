/* UCSPI-TLS (ucspi-ssl's protocol) in the engine: the program starts in
   cleartext and asks for TLS on its control descriptor (tlsengine.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "env.h"
#include "fd.h"
#include "num.h"
#include "tlsengine.h"
#include "tlsengine_parts.h"
#include "tlsrelay.h"

static void put_fd_var(struct envb *env, const char *name, int fd)
{
  char num[FMT_ULONG];
  fmt_ulong(num, (unsigned long) fd);
  envb_set(env, name, num);
}

/* Where the program finds the UCSPI-TLS descriptors: single digits, so
   that a shell script can name them (sh takes no "<&10"). */
enum { CTL_FD = 3, READ_FD = 4, WRITE_FD = 5 };

/* The program's environment for UCSPI-TLS; exits when out of memory. */
static char **ucspitls_env(const struct tlsengine *e, struct envb *env)
{
  envb_init(env, (char **) e->envp);
  tls_scrub_env(env, e->envp);
  put_fd_var(env, "SSLCTLFD", CTL_FD);
  put_fd_var(env, "SSLREADFD", READ_FD);
  put_fd_var(env, "SSLWRITEFD", WRITE_FD);
  char **vec = envb_vec(env);
  if (!vec) engine_die(e, "out of memory", "", ENOMEM);
  return vec;
}

/* The program's request on the control descriptor: 'y', 'Y', or 0 when
   it ended (or closed it) without asking. */
static int wait_request(int ctl, pid_t pid)
{
  int pidfd = engine_pidfd_of(pid);
  for (;;) {
    struct pollfd p[2] = { { ctl, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
    if (poll(p, pidfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) break;
    if (p[0].revents) {
      char ch;
      ssize_t r = read(ctl, &ch, 1);
      if (r < 0 && errno == EINTR) continue;
      if (pidfd >= 0) close(pidfd);
      return r == 1 && (ch == 'y' || ch == 'Y') ? ch : 0;
    }
    if (p[1].revents) break;
  }
  if (pidfd >= 0) close(pidfd);
  return 0;
}

/* UCSPI-TLS: the program starts in cleartext and asks for TLS. */
_Noreturn void engine_run_ucspitls(const struct tlsengine *e)
{
  int ctl[2], rd[2], wr[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)
    engine_die(e, "unable to create socket", "", errno);
  ctl[0] = engine_high(e, ctl[0]);
  ctl[1] = engine_high(e, ctl[1]);
  engine_make_pipe(e, rd);
  engine_make_pipe(e, wr);
  struct envb env;
  char **vec = ucspitls_env(e, &env);
  int sock = fcntl(e->sock, F_DUPFD_CLOEXEC, 10);
  if (sock < 0) engine_die(e, "unable to set up descriptors", "", errno);
  const int from[] = { ctl[1], rd[0], wr[1], sock, sock };
  const int to[] = { CTL_FD, READ_FD, WRITE_FD, e->fd_read, e->fd_write };
  pid_t pid = engine_start_program(e, vec, from, to, 5);
  close(ctl[1]); close(rd[0]); close(wr[1]); close(sock);
  engine_forward_signals(pid);
  engine_confine(e);
  int ask = wait_request(ctl[0], pid);
  struct tls_conn *c;
  if (!ask || engine_handshake(e, &c) < 0) {
    close(rd[1]); close(wr[0]); close(ctl[0]);
    engine_exit_like(pid);
  }
  if (ask == 'Y') {
    static char block[VARS_MAX];
    size_t n = tls_conn_vars_block(c, e->full, block, sizeof block);
    if (n) write_all(ctl[0], block, n);
  }
  close(ctl[0]);
  engine_relay(e, c, rd[1], wr[0], pid);
  engine_exit_like(pid);
}
