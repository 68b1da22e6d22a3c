/* argv0: run a program under another name (argv[0]). */
#include <unistd.h>
#include "msg.h"
#include "opts.h"
#include "pathexec.h"

#define USAGE "argv0 realname program [ arg ... ]"

int main(int argc, char **argv)
{
  msg_setprog("argv0");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "argv0", USAGE));
  if (argc < 3) msg_usage(USAGE);
  extern char **environ;
  pathexec_run(argv[1], argv + 2, environ);
  msg_fatal_sys("unable to run ", argv[1]);
}
