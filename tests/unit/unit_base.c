/* The base layer: numbers (num.h), descriptors (fd.h), time (clock.h)
   and the address helpers that are written once in addr.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include "tap.h"
#include "addr.h"
#include "clock.h"
#include "fd.h"
#include "num.h"
#include "resolve.h"

static void numbers(void)
{
  char buf[FMT_ULONG];
  unsigned long u;
  tap_ok(fmt_ulong(buf, 0) == 1 && !strcmp(buf, "0"), "fmt_ulong 0");
  tap_ok(fmt_ulong(buf, ULONG_MAX) == 20 && !strcmp(buf, "18446744073709551615"),
         "fmt_ulong ULONG_MAX, NUL-terminated");
  tap_ok(scan_ulong("123abc", &u) == 3 && u == 123, "leading digits, bytes used");
  tap_ok(scan_ulong("abc", &u) == 0 && u == 0, "no digits: 0, nothing used");
  tap_ok(scan_ulong("", &u) == 0 && u == 0, "empty string");
  tap_ok(scan_ulong("-5", &u) == 0 && u == 0, "no sign");
  tap_ok(scan_ulong("18446744073709551617", &u) == 20 && u == 1,
         "0.88's scan_ulong wraps modulo 2^64");
  tap_ok(scan_ulong_sat("18446744073709551617", &u) == 20 && u == ULONG_MAX,
         "the saturating variant stops at ULONG_MAX, and uses every digit");
  tap_ok(scan_ulong_sat("18446744073709551615", &u) == 20 && u == ULONG_MAX,
         "ULONG_MAX itself");
  tap_ok(scan_leading("18446744073709551617") == 1 && scan_leading("x") == 0,
         "scan_leading wraps, as 0.88's options");
  tap_ok(scan_leading_sat("99999999999999999999999x") == ULONG_MAX
         && scan_leading_sat("26") == 26 && scan_leading_sat("x") == 0,
         "scan_leading_sat's value");
  tap_ok(scan_ulong_flags("12345", 2, 0, &u) == 2 && u == 12,
         "a length bounds the scan");
  tap_ok(scan_ulong_flags("12", 0, SCAN_SATURATE, &u) == 0 && u == 0,
         "length 0");
}

static void descriptors(void)
{
  int p[2];
  tap_ok(pipe2(p, O_CLOEXEC) == 0, "a pipe with close-on-exec");
  tap_ok(fd_move(p[1], p[1]) == 0 && !(fcntl(p[1], F_GETFD) & FD_CLOEXEC),
         "fd_move(x, x) clears close-on-exec (dup2 would keep it)");
  int to = p[0] + 20;
  tap_ok(fd_move(to, p[0]) == 0 && fcntl(p[0], F_GETFD) < 0 && errno == EBADF
         && !(fcntl(to, F_GETFD) & FD_CLOEXEC),
         "fd_move(to, from) moves: from closed, to without close-on-exec");
  tap_ok(write_all(p[1], "hello", 5) == 0, "write_all");
  char buf[8];
  tap_ok(read(to, buf, sizeof buf) == 5 && !memcmp(buf, "hello", 5),
         "the moved descriptor reads what was written");
  tap_ok(fd_move(to, 1000) < 0 && errno == EBADF, "fd_move of a closed fd fails");
  errno = 0;
  tap_ok(write_all(1000, "x", 1) < 0 && errno == EBADF, "write_all reports errors");
  close(to);
  close(p[1]);
}

static void time_(void)
{
  int p[2];
  pipe(p);
  long long start = clock_ms();
  int r = clock_wait_fd(p[0], POLLIN, start + 150);
  long long took = clock_ms() - start;
  tap_ok(r == CLOCK_WAIT_TIMEOUT && took >= 140 && took < 2000,
         "clock_wait_fd times out at the deadline");
  tap_ok(clock_wait_fd(p[0], POLLIN, start - 1) == CLOCK_WAIT_TIMEOUT,
         "a deadline in the past: timeout at once");
  tap_ok(clock_wait_fd(p[1], POLLOUT, clock_ms() + 1000) == CLOCK_WAIT_READY,
         "ready for writing");
  write(p[1], "x", 1);
  tap_ok(clock_wait_fd(p[0], POLLIN, CLOCK_FOREVER) == CLOCK_WAIT_READY,
         "ready for reading, without deadline");
  close(p[0]);
  close(p[1]);
  tap_ok(clock_wait_fd(p[0], POLLIN, clock_ms() + 1000) == CLOCK_WAIT_READY,
         "a closed fd is reported (POLLNVAL), not waited on");
  tap_ok(clock_cap(~0UL) == CLOCK_SECONDS_MAX && clock_cap(26) == 26,
         "one cap for every timeout");
  long long d = clock_deadline(~0UL) - clock_ms();
  tap_ok(d <= (long long) CLOCK_SECONDS_MAX * 1000 && d > INT_MAX / 4,
         "clock_deadline caps the seconds");
}

static void addresses(void)
{
  struct ip_addr ip;
  char buf[IP_FMT_SIZE];
  ip_parse("::ffff:1.2.3.4", &ip);
  tap_ok(ip_is_v4mapped(&ip), "::ffff:1.2.3.4 is v4-mapped");
  ip_fold_v4mapped(&ip);
  ip_format(&ip, buf);
  tap_ok(ip.family == AF_INET && !strcmp(buf, "1.2.3.4"), "folds to 1.2.3.4");
  ip_v4mapped(&ip);
  ip_format(&ip, buf);
  tap_is_str(buf, "::ffff:1.2.3.4", "and back to the mapped form");
  ip_parse("::1", &ip);
  tap_ok(!ip_is_v4mapped(&ip), "::1 is not v4-mapped");
  ip_fold_v4mapped(&ip);
  tap_ok(ip.family == AF_INET6, "folding leaves other IPv6 alone");
  ip_parse("10.11.12.13", &ip);
  ip_mask(&ip, 20);
  ip_format(&ip, buf);
  tap_is_str(buf, "10.11.0.0", "ip_mask /20");
  ip_parse("2001:db8:ffff:ffff::1", &ip);
  ip_mask(&ip, 36);
  ip_format(&ip, buf);
  tap_is_str(buf, "2001:db8:f000::", "ip_mask /36 of IPv6");
  ip_parse("1.2.3.4", &ip);
  ip_mask(&ip, 32);
  ip_format(&ip, buf);
  tap_is_str(buf, "1.2.3.4", "ip_mask /32 keeps everything");
}

static void hosts(void)
{
  struct ip_addr a[4];
  char buf[IP_FMT_SIZE];
  size_t n;
  tap_ok(resolve_host("[127.000.000.001]", AF_UNSPEC, a, 4, &n) == 0 && n == 1
         && ip_format(&a[0], buf) && !strcmp(buf, "127.0.0.1"),
         "a bracketed dotted literal, leading zeros");
  tap_ok(resolve_host("1.2.3", AF_UNSPEC, a, 4, &n) == 0 && n == 0,
         "three bytes are no address");
  tap_ok(resolve_host("127.0.0.256", AF_UNSPEC, a, 4, &n) == 0 && n == 1
         && ip_format(&a[0], buf) && !strcmp(buf, "127.0.0.0"),
         "a part is a byte, modulo 256");
  tap_ok(resolve_host("1.2.3.4.5.6.7.8.9", AF_UNSPEC, a, 4, &n) == 0 && n == 2
         && ip_format(&a[1], buf) && !strcmp(buf, "5.6.7.8"),
         "every four bytes an address, the rest dropped");
  tap_ok(resolve_host("[::1]", AF_UNSPEC, a, 4, &n) == 0 && n == 1
         && a[0].family == AF_INET6, "IPv6 in brackets");
  char label[80];
  memset(label, 'a', 64);
  strcpy(label + 64, ".example");
  errno = 0;
  tap_ok(resolve_host(label, AF_UNSPEC, a, 4, &n) < 0 && errno == EPROTO,
         "a 64-byte label: EPROTO, as 0.88");
  char big[320];
  for (int i = 0; i < 5; i++) { memset(big + 61 * i, 'b', 60); big[61 * i + 60] = '.'; }
  big[304] = 0;
  errno = 0;
  tap_ok(resolve_host(big, AF_UNSPEC, a, 4, &n) < 0 && errno == EPROTO,
         "more than 255 bytes in all: EPROTO");
  struct ip_addr one;
  tap_ok(resolve_host_one("10.0.0.1.10.0.0.2", AF_UNSPEC, &one) == 1
         && ip_format(&one, buf) && !strcmp(buf, "10.0.0.1"), "resolve_host_one: the first");
  tap_ok(resolve_host_one("1.2", AF_UNSPEC, &one) == 0, "resolve_host_one: none");
}

int main(void)
{
  hosts();
  numbers();
  descriptors();
  time_();
  addresses();
  return tap_done();
}
