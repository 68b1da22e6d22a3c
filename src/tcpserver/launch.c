/* The fast launch (launch.h): clone without vfork, on a slot of its own. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "launch.h"
#include "pathexec.h"
#include "rawsys.h"

#if RAWSYS_OK

enum { STEP_NONE, STEP_BANNER, STEP_FDS, STEP_EXEC };

struct launch_slot {
  /* 1 from the start until the child execs or ends: the kernel clears
     it then (CLONE_CHILD_CLEARTID). */
  volatile pid_t busy;
  pid_t pid;
  struct launch_job job;
  char data[LAUNCH_DATA] __attribute__((aligned(16)));
  char stack[LAUNCH_STACK] __attribute__((aligned(16)));
};

#define SLOT_OF(j) ((struct launch_slot *) ((char *) (j) - offsetof(struct launch_slot, job)))


static _Noreturn void failed(struct launch_job *j, int step, long err)
{
  j->failed_err = (int) err;
  j->failed_step = step;
  raw_exit(111);
}

static long write_all_raw(int fd, const char *buf, size_t n)
{
  while (n) {
    long w = raw_write(fd, buf, n);
    if (w == -EINTR) continue;
    if (w < 0) return w;
    buf += w;
    n -= (size_t) w;
  }
  return 0;
}

/* The socket on 0 and 1 without close-on-exec: dup3 into the one of
   them it is not, then into the other, whatever fd was. */
static long socket_to_stdio_raw(int fd)
{
  int first = fd == 0 ? 1 : 0;
  long r = raw_dup3(fd, first);
  return r < 0 ? r : raw_dup3(first, 1 - first);
}

static int exec_raw(const char *name, void *arg)
{
  const struct launch_job *j = arg;
  return (int) -raw_execve(name, j->argv, j->envp);
}

/* The child, on its slot's stack: only the slot and raw system calls.
   Until its mask is set it blocks what the server blocks, and a signal
   with a handler is set back to SIG_DFL before it can come in. */
static int launched(void *arg)
{
  struct launch_job *j = arg;
  int one = 1;
  long r;
  /* A server that ended before its lines (a SIGTERM) never lets go:
     then the program runs without them, as a forked child would. */
  while (j->wait_go && !__atomic_load_n(&j->go, __ATOMIC_ACQUIRE) &&
         raw_getppid() == j->server)
    raw_futex_wait(&j->go, 0, 50);
  if (j->killopts) raw_setsockopt(j->fd, IPPROTO_IP, IP_OPTIONS, 0, 0);
  if (j->nodelay) raw_setsockopt(j->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (j->bannerlen && (r = write_all_raw(j->fd, j->banner, j->bannerlen)) < 0)
    failed(j, STEP_BANNER, -r);
  if ((r = socket_to_stdio_raw(j->fd)) < 0) failed(j, STEP_FDS, -r);
  for (const int *s = j->signals; *s; s++) raw_default_signal(*s);
  raw_setmask(&j->mask);
  if (j->set_nofile) raw_prlimit(RLIMIT_NOFILE, &j->nofile);
  failed(j, STEP_EXEC, pathexec_walk(j->file, j->path, exec_raw, j));
}

static int slot_free(const struct launch_slot *s)
{
  return __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE) == 0 && !s->job.failed_step;
}

/* Under AddressSanitizer the child would run the sanitizer's runtime on
   the server's thread state, shared with the server itself: vfork then. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

struct launch_job *launch_job(struct launch *l)
{
  if (l->off || SANITIZED) return NULL;
  if (!l->slots) {
    void *m = mmap(NULL, LAUNCH_SLOTS * sizeof *l->slots, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      l->off = 1;
      return NULL;
    }
    l->slots = m;
  }
  for (unsigned i = 0; i < LAUNCH_SLOTS; i++) {
    struct launch_slot *s = &l->slots[l->next++ % LAUNCH_SLOTS];
    if (!slot_free(s)) continue;
    memset(&s->job, 0, sizeof s->job);
    return &s->job;
  }
  return NULL;
}

int launch_copy(struct launch_job *j, char *const *env,
                const char *banner, size_t bannerlen)
{
  struct launch_slot *s = SLOT_OF(j);
  size_t n = 0, bytes = bannerlen;
  while (env[n]) bytes += strlen(env[n++]) + 1;
  size_t vecbytes = (n + 1) * sizeof(char *);
  if (vecbytes > sizeof s->data || bytes > sizeof s->data - vecbytes) return -1;
  char **vec = (char **) (void *) s->data;
  char *at = s->data + vecbytes;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(env[i]) + 1;
    memcpy(at, env[i], len);
    vec[i] = at;
    at += len;
  }
  vec[n] = NULL;
  memcpy(at, banner, bannerlen);
  j->envp = vec;
  j->banner = at;
  j->bannerlen = bannerlen;
  return 0;
}

pid_t launch_start(struct launch_job *j)
{
  struct launch_slot *s = SLOT_OF(j);
  s->busy = 1;
  pid_t pid = clone(launched, s->stack + sizeof s->stack,
                    CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, j,
                    NULL, NULL, &s->busy);
  if (pid < 0) {
    s->busy = 0;
    return -1;
  }
  s->pid = pid;
  return pid;
}

void launch_release(struct launch_job *j)
{
  __atomic_store_n(&j->go, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, &j->go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int launch_failure(struct launch *l, pid_t pid, const char **what,
                   const char **arg, int *err)
{
  if (!l->slots) return 0;
  for (unsigned i = 0; i < LAUNCH_SLOTS; i++) {
    struct launch_slot *s = &l->slots[i];
    if (s->pid != pid || !s->job.failed_step) continue;
    *arg = "";
    *err = s->job.failed_err;
    switch (s->job.failed_step) {
    case STEP_BANNER: *what = "unable to print banner"; break;
    case STEP_FDS: *what = "unable to set up descriptors"; break;
    default: *what = "unable to run "; *arg = s->job.file; break;
    }
    s->job.failed_step = STEP_NONE;
    return 1;
  }
  return 0;
}

#else

struct launch_job *launch_job(struct launch *l) { (void) l; return NULL; }
int launch_copy(struct launch_job *j, char *const *env,
                const char *banner, size_t bannerlen)
{
  (void) j; (void) env; (void) banner; (void) bannerlen;
  return -1;
}
void launch_release(struct launch_job *j) { (void) j; }
pid_t launch_start(struct launch_job *j)
{
  (void) j;
  errno = ENOSYS;
  return -1;
}
int launch_failure(struct launch *l, pid_t pid, const char **what,
                   const char **arg, int *err)
{
  (void) l; (void) pid; (void) what; (void) arg; (void) err;
  return 0;
}

#endif
