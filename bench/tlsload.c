/* tlsload: loadgen for TLS servers: keep N connections in flight against
   a server on the loopback, each a full (or with -R a resumed) TLS
   handshake, then read to the server's end; report throughput and
   latency as loadgen does.
   usage: tlsload [-c concurrency] [-n total] [-t seconds] [-e bytes]
                  [-k name] [-R] ip port
   The server's certificate is verified against CAFILE for name (default
   localhost).  -R offers the latest session again (resumption).
   Prints one line: completed=.. failed=.. unfinished=.. seconds=.. cps=..
   p50_us=.. p99_us=.. max_us=.. resumed=..  Bounded in count and time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tls.h"

extern char **environ;

enum phase { CONNECTING, HANDSHAKE, READING };
struct conn { long long start_ns; size_t got; enum phase phase; struct tls_conn *tls; };

static struct sockaddr_in target;
static long concurrency = 16, total = 1000, expect = 0;
static double seconds = 30;
static long started, completed, failed, resumed;
static long long *latency;
static struct conn *conns;
static int nconns, epfd;
static struct tls_client *client;
static const char *name = "localhost";

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
  fprintf(stderr, "tlsload: %s: %s\n", what, strerror(errno));
  exit(111);
}

static void usage(void)
{
  fprintf(stderr, "tlsload: usage: tlsload [-c concurrency] [-n total] [-t seconds] [-e bytes] [-k name] [-R] ip port\n");
  exit(100);
}

static void watch(int fd, unsigned events, int op)
{
  struct epoll_event ev = { .events = events, .data.fd = fd };
  if (epoll_ctl(epfd, op, fd, &ev) == -1) die("unable to watch a socket");
}

static void start_one(void)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1) die("unable to create socket");
  if (fd >= nconns) { errno = EMFILE; die("descriptor out of range"); }
  conns[fd] = (struct conn) { .start_ns = now_ns(), .phase = CONNECTING };
  started++;
  if (connect(fd, (struct sockaddr *) &target, sizeof target) == -1 && errno != EINPROGRESS) {
    close(fd);
    failed++;
    return;
  }
  watch(fd, EPOLLOUT, EPOLL_CTL_ADD);
}

/* The end of a connection: 0 (no longer in flight). */
static int finish(int fd, int ok)
{
  struct conn *c = &conns[fd];
  if (ok && c->got >= (size_t) expect) {
    latency[completed++] = now_ns() - c->start_ns;
    if (c->tls && tls_conn_resumed(c->tls)) resumed++;
  } else {
    failed++;
  }
  /* Our close_notify too: OpenSSL offers no session again whose
     connection was freed without one. */
  if (c->tls && ok) tls_conn_close_notify(c->tls);
  tls_conn_free(c->tls);
  c->tls = 0;
  close(fd);
  return 0;
}

/* Wait for what a TLS call asked for: 1 (still in flight). */
static int wait_for(int fd, ssize_t r)
{
  watch(fd, r == TLS_IO_WANT_WRITE ? EPOLLOUT : EPOLLIN, EPOLL_CTL_MOD);
  return 1;
}

/* 1 while the connection stays in flight, 0 once it is finished. */
static int step(int fd)
{
  struct conn *c = &conns[fd];
  char why[TLS_WHY], buf[16384];
  if (c->phase == CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err) return finish(fd, 0);
    if (!(c->tls = tls_conn_connect(client, fd, name))) return finish(fd, 0);
    c->phase = HANDSHAKE;
  }
  if (c->phase == HANDSHAKE) {
    int r = tls_conn_handshake_step(c->tls, why);
    if (r == TLS_IO_ERROR) return finish(fd, 0);
    if (r != 0) return wait_for(fd, r);
    c->phase = READING;
  }
  for (;;) {
    ssize_t r = tls_conn_read(c->tls, buf, sizeof buf);
    if (r > 0) { c->got += (size_t) r; continue; }
    if (r == TLS_IO_CLOSED) return finish(fd, 1);
    if (r == TLS_IO_ERROR) return finish(fd, 0);
    return wait_for(fd, r);
  }
}

static int cmp_ll(const void *a, const void *b)
{
  long long x = *(const long long *) a, y = *(const long long *) b;
  return (x > y) - (x < y);
}

static long long percentile(double p)
{
  if (!completed) return 0;
  return latency[(long) (p * (completed - 1) + 0.5)];
}

int main(int argc, char **argv)
{
  int opt, resume = 0;
  long inflight = 0;
  struct epoll_event evs[256];
  char why[TLS_WHY];
  while ((opt = getopt(argc, argv, "c:n:t:e:k:R")) != -1) {
    switch (opt) {
    case 'c': concurrency = atol(optarg); break;
    case 'n': total = atol(optarg); break;
    case 't': seconds = atof(optarg); break;
    case 'e': expect = atol(optarg); break;
    case 'k': name = optarg; break;
    case 'R': resume = 1; break;
    default: usage();
    }
  }
  if (argc - optind != 2 || concurrency < 1 || total < 1 || total > 10000000 || seconds <= 0) usage();
  target.sin_family = AF_INET;
  target.sin_port = htons((unsigned short) atoi(argv[optind + 1]));
  if (inet_pton(AF_INET, argv[optind], &target.sin_addr) != 1) usage();
  signal(SIGPIPE, SIG_IGN);
  if (!(client = tls_client_new(environ, why))) {
    fprintf(stderr, "tlsload: %s\n", why);
    return 111;
  }
  if (resume) tls_client_resume(client);
  nconns = (int) concurrency + 256;
  conns = calloc((size_t) nconns, sizeof *conns);
  latency = malloc((size_t) total * sizeof *latency);
  if (!conns || !latency) die("out of memory");
  if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) die("unable to create epoll");
  long long t0 = now_ns(), deadline = t0 + (long long) (seconds * 1e9);
  for (;;) {
    while (inflight < concurrency && started < total) {
      long before = failed;
      start_one();
      if (failed == before) inflight++;
    }
    if (inflight == 0) break;
    long long left = deadline - now_ns();
    if (left <= 0) break;
    int n = epoll_wait(epfd, evs, 256, (int) (left / 1000000) + 1);
    if (n == -1 && errno != EINTR) die("unable to wait");
    for (int i = 0; i < n; i++)
      if (!step(evs[i].data.fd)) inflight--;
  }
  long long elapsed = now_ns() - t0;
  qsort(latency, (size_t) completed, sizeof *latency, cmp_ll);
  printf("completed=%ld failed=%ld unfinished=%ld seconds=%.3f cps=%.0f p50_us=%lld p99_us=%lld max_us=%lld resumed=%ld\n",
         completed, failed, inflight, elapsed / 1e9, completed / (elapsed / 1e9),
         percentile(0.50) / 1000, percentile(0.99) / 1000, percentile(1.0) / 1000, resumed);
  return failed || inflight ? 1 : 0;
}
