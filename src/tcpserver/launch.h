#ifndef LAUNCH_H
#define LAUNCH_H
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* The fast launch: the child of an admitted connection made by clone
   with CLONE_VM but without CLONE_VFORK, so that the server goes back to
   accepting while the child execs the program on another CPU (with
   vfork the server waits for the exec; with fork it copies its memory).
   The child shares the server's memory until its exec: it runs on a
   slot of its own (stack and data), reads only what was copied there,
   and makes only raw system calls (rawsys.h), since a libc wrapper
   failing in it would write the server's errno.  The kernel clears the
   slot's busy word when the child execs or ends (CLONE_CHILD_CLEARTID),
   and the slot is used again.  What failed in the child (descriptors,
   banner, exec) is left in its slot and logged by the server when it
   reaps the child, through the one writer.

   Used for what the vfork child would do but its log lines: the fast
   path, an admitted connection, exec of the program (not a server
   program's own run).  With -v the server writes the child's pid and
   verdict lines while the child waits (wait_go), so that they come
   before anything of the program's, as in 0.88.  Only on the
   architectures rawsys.h knows and not under AddressSanitizer:
   elsewhere launch_job always says no slot is free (then vfork). */

#define LAUNCH_SLOTS 32
#define LAUNCH_DATA (24 * 1024)   /* the copied environment and banner */
#define LAUNCH_STACK (24 * 1024)  /* the walk of $PATH takes PATH_MAX */

/* What the child is given, in its slot. */
struct launch_job {
  int fd;
  int killopts, nodelay;
  const char *file;              /* the program, searched in path */
  const char *path;
  char *const *argv;             /* the options' own: never changed */
  char **envp;                   /* copied into the slot */
  const char *banner;            /* copied into the slot */
  size_t bannerlen;
  int signals[5];                /* to set back to SIG_DFL, 0 ends */
  unsigned long mask;            /* the start-up mask, the kernel's word */
  int set_nofile;
  struct rlimit nofile;
  /* With wait_go, the child waits for go before its first act, so that
     the server's log lines for it come first (launch_release). */
  int wait_go;
  volatile int go;
  pid_t server;                  /* the server's pid: gone, go on without */
  /* The child's words back: which step failed, and its errno. */
  volatile int failed_step, failed_err;
};

struct launch_slot;
struct launch {
  struct launch_slot *slots;     /* LAUNCH_SLOTS, mapped on first use */
  unsigned next;
  int off;                       /* unavailable here: never tried again */
};

/* A free slot's job, to be filled (envp and banner by launch_copy),
   or NULL when none is free (the caller uses vfork then). */
struct launch_job *launch_job(struct launch *l);
/* Copy env (NULL-terminated) and the banner into the job's slot: 0, or
   -1 when they do not fit (use vfork). */
int launch_copy(struct launch_job *j, char *const *env,
                const char *banner, size_t bannerlen);
/* Start it: the child's pid, or -1 with errno (the slot is free
   again). */
pid_t launch_start(struct launch_job *j);
/* Let a child started with wait_go go on. */
void launch_release(struct launch_job *j);
/* A child ended: if it was launched and failed, what failed is put in
   *what, *arg and *err and 1 returned (the slot is freed); else 0. */
int launch_failure(struct launch *l, pid_t pid, const char **what,
                   const char **arg, int *err);
#endif
