/* bareloop: the "limit" a super-server can reach: accept, spawn the
   program with the socket on fds 0 and 1, nothing else (no options, no
   limit on children, no logging).  Children are reaped by the kernel.
   usage: bareloop fork|vfork program [arg ...]
   Binds 127.0.0.1 port 0 with backlog 1024 and prints the port, as
   tcpserver -1 does. */
#include <arpa/inet.h>
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

int main(int argc, char **argv)
{
  int use_vfork, s;
  if (argc < 3 || (strcmp(argv[1], "fork") && strcmp(argv[1], "vfork"))) {
    fputs("bareloop: usage: bareloop fork|vfork program [arg ...]\n", stderr);
    return 100;
  }
  use_vfork = argv[1][0] == 'v';
  signal(SIGCHLD, SIG_IGN);   /* the kernel reaps: no wait calls at all */
  s = listen_loopback();
  for (;;) {
    pid_t pid;
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c == -1) continue;
    pid = use_vfork ? vfork() : fork();
    if (pid == 0) run_child(c, argv + 2);
    close(c);
  }
}
