#ifndef PATHEXEC_H
#define PATHEXEC_H
/* Run a program the way the reference does: a name with a '/' is run as
   it is, any other is searched for in $PATH (default "/bin:/usr/bin"; an
   empty entry is the current directory).  Unlike execvp, a file that is
   not an executable format is an error (ENOEXEC), never handed to sh.
   Returns only on failure, with errno: the last error other than
   "file does not exist" met on the way, else ENOENT. */
void pathexec_run(const char *file, char *const argv[], char *const envp[]);

/* The search itself, for callers that cannot use execve's errno (a
   child sharing its parent's memory, launch.c): try_exec(name, arg)
   runs name or returns the errno of its failure; path is $PATH's value
   (NULL: the default).  Returns the errno pathexec_run would leave.
   Uses only the stack (PATH_MAX bytes) and try_exec. */
int pathexec_walk(const char *file, const char *path,
                  int (*try_exec)(const char *name, void *arg), void *arg);

/* The same with environ. */
void pathexec(char *const argv[]);
#endif
