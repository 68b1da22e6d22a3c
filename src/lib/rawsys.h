#ifndef RAWSYS_H
#define RAWSYS_H
/* System calls without libc: each returns the kernel's result, a
   negative errno on failure, and never touches errno.  For a child that
   shares its parent's memory (clone without CLONE_VFORK, launch.c),
   where errno is the parent's too: a libc wrapper failing in the child
   would change the parent's errno under its feet.  RAWSYS_OK is 1 on
   the architectures written here (x86-64, AArch64), else 0 and nothing
   else is defined. */
#include <sys/syscall.h>

#if defined(__x86_64__)
#define RAWSYS_OK 1
static inline long rawsys6(long n, long a, long b, long c, long d, long e, long f)
{
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
#define RAWSYS_OK 1
static inline long rawsys6(long n, long a, long b, long c, long d, long e, long f)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc #0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
}
#else
#define RAWSYS_OK 0
#endif

#if RAWSYS_OK
#include <stddef.h>
#include <stdint.h>

#define RAWSYS_P(x) ((long) (uintptr_t) (x))

static inline long raw_write(int fd, const void *buf, size_t n)
{
  return rawsys6(SYS_write, fd, RAWSYS_P(buf), (long) n, 0, 0, 0);
}
static inline long raw_dup3(int from, int to)
{
  return rawsys6(SYS_dup3, from, to, 0, 0, 0, 0);
}
static inline long raw_setsockopt(int fd, int level, int name, const void *v, unsigned len)
{
  return rawsys6(SYS_setsockopt, fd, level, name, RAWSYS_P(v), len, 0);
}
/* The kernel's sigaction, for SIG_DFL only (no restorer needed). */
static inline long raw_default_signal(int sig)
{
  struct { unsigned long handler, flags, restorer, mask; } act = { 0, 0, 0, 0 };
  return rawsys6(SYS_rt_sigaction, sig, RAWSYS_P(&act), 0, sizeof act.mask, 0, 0);
}
/* mask: the kernel's 64 signals, the first word of a sigset_t. */
static inline long raw_setmask(const void *mask)
{
  return rawsys6(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, RAWSYS_P(mask), 0, 8, 0, 0);
}
static inline long raw_prlimit(int resource, const void *rlim)
{
  return rawsys6(SYS_prlimit64, 0, resource, RAWSYS_P(rlim), 0, 0, 0);
}
static inline long raw_execve(const char *path, char *const *argv, char *const *envp)
{
  return rawsys6(SYS_execve, RAWSYS_P(path), RAWSYS_P(argv), RAWSYS_P(envp), 0, 0, 0);
}
/* Wait while *word is val, until woken or for at most ms milliseconds
   (a futex of this process's memory: FUTEX_WAIT_PRIVATE). */
static inline long raw_futex_wait(volatile int *word, int val, long ms)
{
  struct { long sec, nsec; } t = { ms / 1000, ms % 1000 * 1000000 };
  return rawsys6(SYS_futex, RAWSYS_P(word), 128 /* FUTEX_WAIT_PRIVATE */, val, RAWSYS_P(&t), 0, 0);
}
static inline long raw_getppid(void)
{
  return rawsys6(SYS_getppid, 0, 0, 0, 0, 0, 0);
}
static inline _Noreturn void raw_exit(int code)
{
  for (;;) rawsys6(SYS_exit_group, code, 0, 0, 0, 0, 0);
}
#endif
#endif
