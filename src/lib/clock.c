#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include "clock.h"

long long clock_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned long clock_cap(unsigned long seconds)
{
  return seconds > CLOCK_SECONDS_MAX ? CLOCK_SECONDS_MAX : seconds;
}

long long clock_deadline(unsigned long seconds)
{
  return clock_ms() + (long long) clock_cap(seconds) * 1000;
}

int clock_wait_fd(int fd, short events, long long deadline)
{
  for (;;) {
    int wait = -1;
    if (deadline != CLOCK_FOREVER) {
      long long left = deadline - clock_ms();
      if (left <= 0) return CLOCK_WAIT_TIMEOUT;
      wait = left > INT_MAX ? INT_MAX : (int) left;
    }
    struct pollfd p = { .fd = fd, .events = events };
    int r = poll(&p, 1, wait);
    if (r > 0) return CLOCK_WAIT_READY;
    if (r < 0 && errno != EINTR) return CLOCK_WAIT_ERROR;
  }
}
