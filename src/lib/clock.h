#ifndef CLOCK_H
#define CLOCK_H
/* Time: the monotonic clock in milliseconds, deadlines, and waiting for
   one descriptor until a deadline.  Every timeout of the library is
   capped here, once. */

/* Milliseconds on the monotonic clock. */
long long clock_ms(void);

/* The longest timeout anything waits, in seconds (11.6 days): its
   milliseconds fit the int of poll(2), with room for 0.88's extra 20 ms. */
#define CLOCK_SECONDS_MAX 1000000ul
/* seconds, capped at CLOCK_SECONDS_MAX. */
unsigned long clock_cap(unsigned long seconds);
/* The deadline `seconds` (capped) from now, in clock_ms() terms. */
long long clock_deadline(unsigned long seconds);

/* No deadline: wait as long as it takes. */
#define CLOCK_FOREVER (-1LL)

enum { CLOCK_WAIT_ERROR = -1, CLOCK_WAIT_TIMEOUT = 0, CLOCK_WAIT_READY = 1 };
/* Poll fd for events (POLLIN, POLLOUT) until the absolute deadline (or
   CLOCK_FOREVER), retrying on EINTR.  Returns CLOCK_WAIT_READY when poll
   reports the fd (also for an error or hang-up condition on it),
   CLOCK_WAIT_TIMEOUT when the deadline has passed, CLOCK_WAIT_ERROR with
   errno when poll failed. */
int clock_wait_fd(int fd, short events, long long deadline);
#endif
