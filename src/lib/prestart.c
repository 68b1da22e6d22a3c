/* Before libc starts (prestart.h).  Everything here runs with no libc
   set up: no thread pointer (so no errno and no stack protector), no
   relocations applied, no IFUNCs resolved.  Hence the system call by
   hand, the loops by hand, and the flags of PRESTART_CFLAGS; the
   Makefile checks that the object calls nothing but _start and
   prestart_program. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include "prestart.h"

#if defined(__x86_64__) && defined(__linux__)

void prestart_try(long *sp) __attribute__((visibility("hidden"), used));

/* The kernel starts the program here, with argc at the top of the
   stack, then argv, a null, envp, a null, and in rdx the function the
   dynamic loader wants run at exit.  libc's _start must find all of it
   as the kernel left it: the stack pointer and rdx are kept in rbx and
   r12, which prestart_try preserves and _start does not read. */
__asm__(
  ".text\n"
  ".globl prestart_entry\n"
  ".type prestart_entry, @function\n"
  "prestart_entry:\n"
  "  mov %rsp, %rbx\n"
  "  mov %rdx, %r12\n"
  "  mov %rsp, %rdi\n"
  "  and $-16, %rsp\n"
  "  call prestart_try\n"
  "  mov %rbx, %rsp\n"
  "  mov %r12, %rdx\n"
  "  jmp _start\n"
  ".size prestart_entry, .-prestart_entry\n");

/* execve(2) without libc: returns -errno. */
static long raw_execve(const char *path, char *const argv[], char *const envp[])
{
  long r;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "0"(59L), "D"(path), "S"(argv), "d"(envp)
                   : "rcx", "r11", "memory");
  return r;
}

#else

static long raw_execve(const char *path, char *const argv[], char *const envp[])
{
  (void) path;
  (void) argv;
  (void) envp;
  return -ENOSYS;
}

#endif

static size_t length(const char *s)
{
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static const char *find_char(const char *s, char c)
{
  for (; *s; s++)
    if (*s == c) return s;
  return 0;
}

/* pathexec_run's rule: the search goes on past these. */
static int search_goes_on(long err)
{
  return err == ENOENT || err == EACCES || err == EPERM || err == EISDIR;
}

/* pathexec_run without libc; returns on any failure. */
static void run(const char *file, char *const argv[], char *const envp[])
{
  if (find_char(file, '/')) {
    raw_execve(file, argv, envp);
    return;
  }
  const char *path = prestart_getenv((char **) envp, "PATH");
  if (!path) path = "/bin:/usr/bin";
  size_t flen = length(file);
  for (;;) {
    size_t dlen = 0;
    while (path[dlen] && path[dlen] != ':') dlen++;
    const char *dir = dlen ? path : ".";
    size_t dl = dlen ? dlen : 1;
    char buf[PATH_MAX];
    if (dl + 1 + flen >= sizeof buf) return;
    for (size_t k = 0; k < dl; k++) buf[k] = dir[k];
    buf[dl] = '/';
    for (size_t k = 0; k <= flen; k++) buf[dl + 1 + k] = file[k];
    if (!search_goes_on(-raw_execve(buf, argv, envp)) || !path[dlen]) return;
    path += dlen + 1;
  }
}

void prestart_try(long *sp)
{
  int argc = (int) sp[0];
  char **argv = (char **) (sp + 1);
  char **envp = argv + argc + 1;
  int i = prestart_program(argc, argv, envp);
  if (i > 0 && i < argc) run(argv[i], argv + i, envp);
}

const char *prestart_getenv(char **envp, const char *name)
{
  size_t n = length(name);
  for (; *envp; envp++) {
    const char *e = *envp;
    size_t k = 0;
    while (k < n && e[k] == name[k]) k++;
    if (k == n && e[k] == '=') return e + k + 1;
  }
  return 0;
}

/* The arguments one option argument a (starting with '-', not "--")
   takes: 1, or 2 when its last letter wants the next argument; 0 for
   what opts_next would complain about. */
static int option_width(const char *a, int has_next, const char *optstring)
{
  for (size_t j = 1; a[j]; j++) {
    const char *spec = a[j] == ':' ? 0 : find_char(optstring, a[j]);
    if (!spec) return 0;
    if (spec[1] == ':') return a[j + 1] ? 1 : has_next ? 2 : 0;
  }
  return 1;
}

int prestart_operand(int argc, char **argv, const char *optstring)
{
  int i = 1;
  while (i < argc) {
    const char *a = argv[i];
    if (a[0] != '-' || !a[1]) break;
    if (a[1] == '-') {
      i++;
      break;
    }
    int w = option_width(a, i + 1 < argc, optstring);
    if (!w) return 0;
    i += w;
  }
  return i < argc ? i : 0;
}
