/* bareloop: the "limit" a super-server can reach: accept, spawn the
   program with the socket on fds 0 and 1, nothing else (no options, no
   limit on children, no logging).  Children are reaped by the kernel.
   clone: as tcpserver's fast launch, clone(CLONE_VM) without
   CLONE_VFORK on a stack of its own, the loop going on while the child
   execs (a slot is used again once the kernel has cleared its word at
   the child's exec).
   usage: bareloop fork|vfork|clone program [arg ...]
   Binds 127.0.0.1 port 0 with backlog 1024 and prints the port, as
   tcpserver -1 does. */
#include <arpa/inet.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what)
{
  perror(what);
  exit(111);
}

static int listen_loopback(void)
{
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int one = 1;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s == -1) die("bareloop: socket");
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *) &sa, sizeof sa) == -1) die("bareloop: bind");
  if (listen(s, 1024) == -1) die("bareloop: listen");
  if (getsockname(s, (struct sockaddr *) &sa, &len) == -1) die("bareloop: getsockname");
  printf("%u\n", ntohs(sa.sin_port));
  fflush(stdout);
  return s;
}

/* Only async-signal-safe calls: this also runs in a vfork child. */
static void run_child(int c, char **argv)
{
  if (dup2(c, 0) == -1 || dup2(c, 1) == -1) _exit(111);
  execve(argv[0], argv, environ);
  _exit(111);
}

/* The clone mode's slots: the child reads only its own. */
#define SLOTS 32
#define SLOT_STACK (16 * 1024)
struct slot {
  volatile pid_t busy;
  int fd;
  char **argv;
  char stack[SLOT_STACK] __attribute__((aligned(16)));
};
static struct slot slots[SLOTS];

static int slot_child(void *arg)
{
  struct slot *sl = arg;
  run_child(sl->fd, sl->argv);
  return 111;
}

static pid_t clone_child(int c, char **argv)
{
  static unsigned next;
  for (unsigned i = 0; i < SLOTS; i++) {
    struct slot *sl = &slots[next++ % SLOTS];
    if (__atomic_load_n(&sl->busy, __ATOMIC_ACQUIRE)) continue;
    sl->fd = c;
    sl->argv = argv;
    sl->busy = 1;
    pid_t pid = clone(slot_child, sl->stack + SLOT_STACK, CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD,
                      sl, NULL, NULL, &sl->busy);
    if (pid < 0) sl->busy = 0;
    return pid;
  }
  pid_t pid = vfork();
  if (pid == 0) run_child(c, argv);
  return pid;
}

int main(int argc, char **argv)
{
  int use_vfork, use_clone, s;
  if (argc < 3 || (strcmp(argv[1], "fork") && strcmp(argv[1], "vfork") && strcmp(argv[1], "clone"))) {
    fputs("bareloop: usage: bareloop fork|vfork|clone program [arg ...]\n", stderr);
    return 100;
  }
  use_vfork = argv[1][0] == 'v';
  use_clone = argv[1][0] == 'c';
  signal(SIGCHLD, SIG_IGN);   /* the kernel reaps: no wait calls at all */
  s = listen_loopback();
  for (;;) {
    pid_t pid;
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c == -1) continue;
    if (use_clone) {
      clone_child(c, argv + 2);
      close(c);
      continue;
    }
    pid = use_vfork ? vfork() : fork();
    if (pid == 0) run_child(c, argv + 2);
    close(c);
  }
}
