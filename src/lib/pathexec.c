#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pathexec.h"

extern char **environ;

/* Errors after which the search goes on to the next directory, as in the
   reference: the file may still be found (and runnable) further on. */
static int search_goes_on(int err)
{
  return err == ENOENT || err == EACCES || err == EPERM || err == EISDIR;
}

int pathexec_walk(const char *file, const char *path,
                  int (*try_exec)(const char *name, void *arg), void *arg)
{
  if (strchr(file, '/')) return try_exec(file, arg);
  if (!path) path = "/bin:/usr/bin";
  size_t flen = strlen(file);
  int saved = 0;
  for (;;) {
    size_t dlen = strcspn(path, ":");
    char buf[PATH_MAX];
    const char *dir = dlen ? path : ".";
    size_t dl = dlen ? dlen : 1;
    int err = ENAMETOOLONG;
    if (dl + 1 + flen < sizeof buf) {
      memcpy(buf, dir, dl);
      buf[dl] = '/';
      memcpy(buf + dl + 1, file, flen + 1);
      err = try_exec(buf, arg);
    }
    if (err != ENOENT) {
      saved = err;
      if (!search_goes_on(err)) return err;
    }
    if (!path[dlen]) return saved ? saved : ENOENT;
    path += dlen + 1;
  }
}

struct exec_args { char *const *argv, *const *envp; };

static int libc_exec(const char *name, void *arg)
{
  const struct exec_args *a = arg;
  execve(name, a->argv, a->envp);
  return errno;
}

void pathexec_run(const char *file, char *const argv[], char *const envp[])
{
  struct exec_args a = { argv, envp };
  errno = pathexec_walk(file, getenv("PATH"), libc_exec, &a);
}

void pathexec(char *const argv[])
{
  pathexec_run(argv[0], argv, environ);
}
