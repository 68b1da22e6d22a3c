/* loadgen: keep N connections in flight against a TCP server on the
   loopback, read each to EOF, report throughput and latency.
   usage: loadgen [-c concurrency] [-n total] [-t seconds] [-e bytes]
                  [-s source [-a addresses]] [-w | -h] [-p 1|2] [-r rate] ip port
   -s binds each socket to the source address (e.g. 127.0.0.2 on lo);
   with -a N the IPv4 source cycles through N consecutive addresses from
   it (a client of many addresses).  -w: a client that never reads: it
   waits for the server's end of the connection (FIN or reset) and closes
   with the data unread; such a connection counts as completed.  -h:
   once connected, shut the sending side down (a service that reads to
   EOF sees it at once).  -p 1 or -p 2: act as a balancer, starting each
   connection with a PROXY header (v1 or v2) for the fixed client
   192.0.2.1:40000 -> 192.0.2.2:80, written once connected.
   Prints one line: completed=.. failed=.. unfinished=.. seconds=.. cps=..
   p50_us=.. p99_us=.. max_us=..  Bounded in count (-n) and time (-t). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn { long long start_ns; size_t got; int fd; int header_due; };

static struct sockaddr_storage target, source;
static socklen_t targetlen, sourcelen;
static unsigned long source_count = 1, source_next;
static int never_read, half_close;
static long concurrency = 16, total = 10000, expect = 0;
static double seconds = 30;
static long started, completed, failed;
static long long *latency;   /* ns, one per completed connection */
static struct conn *conns;   /* indexed by fd */
static int nconns;
static int epfd;

/* The PROXY header of -p, the same for every connection. */
static const char proxy_v1[] = "PROXY TCP4 192.0.2.1 192.0.2.2 40000 80\r\n";
static const unsigned char proxy_v2[28] = {
  '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n',
  0x21, 0x11, 0, 12,          /* v2 PROXY, TCP over IPv4, 12 bytes follow */
  192, 0, 2, 1, 192, 0, 2, 2, /* source, destination */
  40000 >> 8, 40000 & 0xff, 0, 80
};
static const void *header;
static size_t headerlen;

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
  fprintf(stderr, "loadgen: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

static void usage(void)
{
  fputs("loadgen: usage: loadgen [-c concurrency] [-n total] [-t seconds] [-e bytes] [-s source [-a addresses]] [-w | -h] [-p 1|2] [-r rate] ip port\n", stderr);
  exit(100);
}

static socklen_t parse_address(const char *ip, int p, struct sockaddr_storage *ss)
{
  struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
  memset(ss, 0, sizeof *ss);
  if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(p);
    return sizeof *s4;
  }
  if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(p);
    return sizeof *s6;
  }
  usage();
  return 0;
}

/* The next source address: -s, cycled through -a addresses. */
static void bind_source(int fd)
{
  struct sockaddr_storage ss = source;
  if (!sourcelen) return;
  if (source_count > 1 && ss.ss_family == AF_INET) {
    struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
    s4->sin_addr.s_addr = htonl(ntohl(s4->sin_addr.s_addr) + (uint32_t) (source_next++ % source_count));
  }
  if (bind(fd, (struct sockaddr *) &ss, sourcelen) == -1) die("unable to bind the source address");
}

static void start_one(int ep)
{
  int fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct epoll_event ev;
  if (fd == -1) die("unable to create socket");
  if (fd >= nconns) { errno = EMFILE; die("descriptor out of range"); }
  bind_source(fd);
  conns[fd].start_ns = now_ns();
  conns[fd].got = 0;
  conns[fd].fd = fd;
  conns[fd].header_due = header != NULL;
  started++;
  /* EPOLLIN also reports a refused or reset connect (EPOLLERR/EPOLLHUP). */
  ev.events = never_read ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP;
  /* connected: then the header, the shutdown */
  if (half_close || header) ev.events |= EPOLLOUT;
  ev.data.fd = fd;
  if (connect(fd, (struct sockaddr *) &target, targetlen) == -1 && errno != EINPROGRESS) {
    close(fd);
    failed++;
    return;
  }
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) die("unable to add to epoll");
}

/* Write the PROXY header on an established connection.  0 when it
   cannot be written (the connection failed). */
static int send_header(int fd)
{
  conns[fd].header_due = 0;
  return write(fd, header, headerlen) == (ssize_t) headerlen;
}

/* 1 while the connection stays open, 0 once it is finished. */
static int drain(int fd, unsigned events)
{
  char buf[4096];
  if (conns[fd].header_due && !(events & (EPOLLERR | EPOLLHUP))) {
    if (!(events & EPOLLOUT)) return 1;
    if (!send_header(fd)) { close(fd); failed++; return 0; }
  }
  if ((half_close || header) && (events & EPOLLOUT)) {
    struct epoll_event ev = { .events = never_read ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP, .data.fd = fd };
    if (half_close) shutdown(fd, SHUT_WR);
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == -1) die("unable to modify epoll");
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return 1;
  }
  if (never_read) {
    if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return 1;
    latency[completed++] = now_ns() - conns[fd].start_ns;
    close(fd);
    return 0;
  }
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) { conns[fd].got += r; continue; }
    if (r == -1 && errno == EINTR) continue;
    if (r == -1 && errno == EAGAIN) return 1;
    if (r == 0 && conns[fd].got >= (size_t) expect)
      latency[completed++] = now_ns() - conns[fd].start_ns;
    else
      failed++;
    close(fd);   /* also removes it from the epoll set */
    return 0;
  }
}

static int cmp_ll(const void *a, const void *b)
{
  long long x = *(const long long *) a, y = *(const long long *) b;
  return (x > y) - (x < y);
}

static long long percentile(double p)
{
  long i;
  if (!completed) return 0;
  i = (long) (p * (completed - 1) + 0.5);
  return latency[i];
}

int main(int argc, char **argv)
{
  int opt, ep, inflight = 0;
  long long t0, deadline, elapsed;
  struct epoll_event evs[256];

  const char *src = NULL;
  double rate = 0;   /* -r: connections started per second at most; 0 no limit */
  while ((opt = getopt(argc, argv, "c:n:t:e:s:a:whp:r:")) != -1) {
    switch (opt) {
    case 'c': concurrency = atol(optarg); break;
    case 'n': total = atol(optarg); break;
    case 't': seconds = atof(optarg); break;
    case 'e': expect = atol(optarg); break;
    case 's': src = optarg; break;
    case 'a': source_count = strtoul(optarg, NULL, 10); break;
    case 'w': never_read = 1; break;
    case 'h': half_close = 1; break;
    case 'r': rate = atof(optarg); break;
    case 'p':
      if (!strcmp(optarg, "1")) { header = proxy_v1; headerlen = sizeof proxy_v1 - 1; }
      else if (!strcmp(optarg, "2")) { header = proxy_v2; headerlen = sizeof proxy_v2; }
      else usage();
      break;
    default: usage();
    }
  }
  if (argc - optind != 2 || concurrency < 1 || total < 1 || total > 10000000 || seconds <= 0 ||
      source_count < 1 || (source_count > 1 && !src) || (never_read && half_close))
    usage();
  targetlen = parse_address(argv[optind], atoi(argv[optind + 1]), &target);
  if (src) sourcelen = parse_address(src, 0, &source);
  if (src && source.ss_family != target.ss_family) usage();

  nconns = concurrency + 256;   /* fds 0-2, epoll, then the sockets */
  conns = calloc(nconns, sizeof *conns);
  latency = malloc(total * sizeof *latency);
  if (!conns || !latency) die("out of memory");
  ep = epfd = epoll_create1(EPOLL_CLOEXEC);
  if (ep == -1) die("unable to create epoll");

  t0 = now_ns();
  deadline = t0 + (long long) (seconds * 1e9);
  for (;;) {
    int n, i;
    long allowed = rate > 0 ? (long) ((now_ns() - t0) / 1e9 * rate) + 1 : total;
    while (inflight < concurrency && started < total && started < allowed) {
      long before = failed;
      start_one(ep);
      if (failed == before) inflight++;
    }
    if (inflight == 0 && (started >= total || rate <= 0)) break;
    long long left = deadline - now_ns();
    if (left <= 0) break;
    int wait_ms = (int) (left / 1000000) + 1;
    if (rate > 0 && started < total && wait_ms > 1) wait_ms = 1;   /* the next start */
    n = epoll_wait(ep, evs, 256, wait_ms);
    if (n == -1 && errno != EINTR) die("unable to wait");
    for (i = 0; i < n; i++)
      if (!drain(evs[i].data.fd, evs[i].events)) inflight--;
  }
  elapsed = now_ns() - t0;
  qsort(latency, completed, sizeof *latency, cmp_ll);
  printf("completed=%ld failed=%ld unfinished=%d seconds=%.3f cps=%.0f p50_us=%lld p99_us=%lld max_us=%lld\n",
         completed, failed, inflight, elapsed / 1e9, completed / (elapsed / 1e9),
         percentile(0.50) / 1000, percentile(0.99) / 1000, percentile(1.0) / 1000);
  return failed || inflight ? 1 : 0;
}
