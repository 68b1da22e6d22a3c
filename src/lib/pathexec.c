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

void pathexec_run(const char *file, char *const argv[], char *const envp[])
{
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return;
  }
  const char *path = getenv("PATH");
  if (!path) path = "/bin:/usr/bin";
  size_t flen = strlen(file);
  int saved = 0;
  for (;;) {
    size_t dlen = strcspn(path, ":");
    char buf[PATH_MAX];
    const char *dir = dlen ? path : ".";
    size_t dl = dlen ? dlen : 1;
    if (dl + 1 + flen < sizeof buf) {
      memcpy(buf, dir, dl);
      buf[dl] = '/';
      memcpy(buf + dl + 1, file, flen + 1);
      execve(buf, argv, envp);
    } else {
      errno = ENAMETOOLONG;
    }
    if (errno != ENOENT) {
      saved = errno;
      if (!search_goes_on(errno)) return;
    }
    if (!path[dlen]) {
      errno = saved ? saved : ENOENT;
      return;
    }
    path += dlen + 1;
  }
}

void pathexec(char *const argv[])
{
  pathexec_run(argv[0], argv, environ);
}
