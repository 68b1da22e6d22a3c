#ifndef RELAY_H
#define RELAY_H
#include <stddef.h>

/* The process structure of recordio and fixcrio: the calling process
   runs the program with pipes on its fds 0 and 1, and a forked child
   relays between them and the original fds 0 and 1, a packet (one read
   of at most RELAY_PACKET bytes) at a time.  The relay stops reading
   stdin while a packet is still on its way to the program, and the
   program's output likewise; it ends when the program's output ends. */

#define RELAY_PACKET 256

enum relay_dir { RELAY_IN, RELAY_OUT };  /* to the program, from it */

struct relay_hooks {
  /* Each packet read: fill out (room for 2 * n bytes), return its
     length.  May log. */
  size_t (*packet)(void *ctx, enum relay_dir dir, const char *in, size_t n,
                   char *out);
  /* The end of a direction's input; may be NULL. */
  void (*eof)(void *ctx, enum relay_dir dir);
  void *ctx;
};

/* What failed when relay_run returns. */
enum relay_failure { RELAY_PIPE, RELAY_FORK, RELAY_DESCRIPTORS, RELAY_EXEC };

/* Fork the relay and exec argv (searched in $PATH).  Returns only if the
   pipes, the fork, the descriptors or the exec failed: -1 with errno and
   *why set. */
int relay_run(char *const argv[], const struct relay_hooks *h,
              enum relay_failure *why);

/* The programs' message for a failure, to be followed by argv[0] for
   RELAY_EXEC: "unable to create pipe", "unable to fork",
   "unable to set up descriptors", "unable to run ". */
const char *relay_failure_text(enum relay_failure why);
#endif
