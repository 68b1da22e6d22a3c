#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "addr.h"
#include "clock.h"
#include "fd.h"
#include "resquery.h"

/* Adds the IPv4 address s (length len) to the server list. */
static void add_server(const char *s, size_t len, struct sockaddr_in *list, int *n)
{
  char buf[IP_FMT_SIZE];
  struct ip_addr ip;
  struct sockaddr_storage ss;
  if (len >= sizeof buf || *n >= MAXNS) return;
  memcpy(buf, s, len);
  buf[len] = 0;
  if (ip_parse(buf, &ip) < 0 || ip.family != AF_INET) return;
  ip_to_sockaddr(&ip, NS_DEFAULTPORT, &ss);
  memcpy(&list[(*n)++], &ss, sizeof list[0]);
}

int resquery_servers(const char *s, struct sockaddr_in *list)
{
  int n = 0;
  while (s && *s) {
    size_t len = strcspn(s, " \t\n,"), end = 0;
    for (int dots = 0; end < len && dots < 4; end++)
      if (s[end] == '.' && ++dots == 4) break;
    add_server(s, end, list, &n);
    s += end < len ? end + 1 : len;
    s += strspn(s, " \t\n,");
  }
  return n;
}

int resquery_open(struct resquery *q, const char *dnscacheip)
{
  if (q->state) return q->state;
  q->state = res_ninit(&q->res) == 0 ? 1 : -1;
  if (q->state < 0) return -1;
  struct sockaddr_in list[MAXNS];
  int n = resquery_servers(dnscacheip, list);
  if (n) {
    memcpy(q->res.nsaddr_list, list, sizeof list[0] * (size_t) n);
    q->res.nscount = n;
  }
  return 1;
}

void resquery_close(struct resquery *q)
{
  if (q->state == 1) res_nclose(&q->res);
  q->state = 0;
}

/* Fit the resolver's tries into what is left: with one try per server,
   each server gets retrans seconds. */
static void fit_tries(struct __res_state *res, long long remaining_ms)
{
  long long worst = (long long) res->retrans * res->nscount;
  for (int k = 1; k < res->retry; k++) worst += (long long) res->retrans << k;
  if (worst * 1000 <= remaining_ms) return;
  int per_server = (int) (remaining_ms / 1000 / res->nscount);
  res->retry = 1;
  res->retrans = per_server > 0 ? per_server : 1;
}

/* Reads fd to its end into buf (at most size bytes) before deadline
   (0: none).  Returns the length, or -1 (timeout, error). */
static ssize_t read_to_end(int fd, unsigned char *buf, size_t size, long long deadline)
{
  size_t len = 0;
  while (len < size) {
    if (clock_wait_fd(fd, POLLIN, deadline ? deadline : CLOCK_FOREVER)
        != CLOCK_WAIT_READY) return -1;
    ssize_t n = read(fd, buf + len, size - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    len += (size_t) n;
  }
  return (ssize_t) len;
}

/* The child writes the answer to the pipe and exits with 0, or with
   1 + h_errno when there is none. */
static enum resquery_result query_in_child(struct resquery *q, const char *name, int type,
                                           unsigned char *ans, size_t *len,
                                           long long deadline)
{
  int fd[2];
  if (pipe2(fd, O_CLOEXEC) < 0) return RESQUERY_FAILED;
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    return RESQUERY_FAILED;
  }
  if (pid == 0) {
    close(fd[0]);
    int n = res_nquery(&q->res, name, C_IN, type, ans, (int) *len);
    if (n < 0) _exit(1 + q->res.res_h_errno);
    _exit(write_all(fd[1], ans, (size_t) n < *len ? (size_t) n : *len) < 0);
  }
  close(fd[1]);
  ssize_t got = read_to_end(fd[0], ans, *len, deadline);
  close(fd[0]);
  int status;
  if (got < 0) kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (got < 0 || !WIFEXITED(status)) return RESQUERY_FAILED;
  int code = WEXITSTATUS(status);
  if (code == 1 + HOST_NOT_FOUND || code == 1 + NO_DATA) return RESQUERY_ABSENT;
  if (code || got == 0) return RESQUERY_FAILED;
  *len = (size_t) got;
  return RESQUERY_PRESENT;
}

enum resquery_result resquery_ask(struct resquery *q, const char *name, int type,
                                  unsigned char *ans, size_t *len, long long deadline)
{
  if (q->state != 1) return RESQUERY_FAILED;
  if (deadline) {
    long long remaining = deadline - clock_ms();
    if (remaining < 1000) return RESQUERY_FAILED;
    fit_tries(&q->res, remaining);
  }
  return query_in_child(q, name, type, ans, len, deadline);
}
