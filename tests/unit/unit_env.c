#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "env.h"
#include "errtext.h"

static size_t count(char **v) { size_t n = 0; while (v[n]) n++; return n; }

int main(void)
{
  char *base[] = { "PATH=/bin", "TCPREMOTEHOST=stale", "HOME=/", NULL };
  struct envb e;
  envb_init(&e, base);
  tap_ok(count(envb_vec(&e)) == 3, "starts as the base");
  envb_unset(&e, "TCPREMOTEHOST");
  envb_set(&e, "PROTO", "TCP");
  envb_put(&e, "RELAYCLIENT=", 12);
  tap_ok(envb_get(&e, "TCPREMOTEHOST") == NULL, "unset removes");
  tap_is_str(envb_get(&e, "PROTO"), "TCP", "set adds");
  tap_is_str(envb_get(&e, "RELAYCLIENT"), "", "put with empty value");
  envb_put(&e, "PROTO=X", 7);
  tap_is_str(envb_get(&e, "PROTO"), "X", "put replaces");
  envb_put(&e, "HOME", 4);
  tap_ok(envb_get(&e, "HOME") == NULL, "put without = unsets");
  tap_ok(count(envb_vec(&e)) == 3, "PATH PROTO RELAYCLIENT");
  for (int i = 0; i < 2000; i++) {
    char name[32];
    snprintf(name, sizeof name, "V%d", i);
    envb_set(&e, name, "a value long enough to need several chunks of arena");
  }
  tap_is_str(envb_get(&e, "PROTO"), "X", "earlier sets survive growth");
  tap_is_str(envb_get(&e, "V1999"), "a value long enough to need several chunks of arena", "late set");
  envb_reset(&e);
  tap_is_str(envb_get(&e, "TCPREMOTEHOST"), "stale", "reset restores the base");
  tap_ok(count(envb_vec(&e)) == 3, "reset drops sets");
  envb_free(&e);

  /* The merged order: untouched base entries, then each name's last set. */
  char *base2[] = { "A=1", "B=2", "C=3", NULL };
  envb_init(&e, base2);
  envb_set(&e, "B", "x");
  envb_set(&e, "D", "4");
  envb_unset(&e, "A");
  envb_set(&e, "B", "y");
  envb_put(&e, "D", 1);
  envb_put(&e, "D=5", 3);
  char **v = envb_vec(&e);
  tap_ok(count(v) == 3, "C B D");
  tap_is_str(v[0], "C=3", "an untouched base entry keeps its place");
  tap_is_str(v[1], "B=y", "the last set of B, in the order of sets");
  tap_is_str(v[2], "D=5", "set after unset");
  envb_reset(&e);
  v = envb_vec(&e);
  tap_ok(count(v) == 3 && !strcmp(v[0], "A=1"), "reset: the base again");
  for (int i = 0; i < 30000; i++) {
    char item[32];
    int n = snprintf(item, sizeof item, "V%d=%d", i % 1000, i);
    envb_put(&e, item, (size_t) n);
  }
  v = envb_vec(&e);
  tap_ok(count(v) == 1003, "30,000 puts of 1,000 names merge to 1,000");
  tap_is_str(envb_get(&e, "V999"), "29999", "the last put wins");
  envb_free(&e);

  tap_is_str(errtext(2), "file does not exist", "ENOENT text");
  tap_is_str(errtext(98), "address already used", "EADDRINUSE text");
  tap_is_str(errtext(28), "out of disk space", "ENOSPC text");
  tap_is_str(errtext(99999), "unknown error", "unknown errno");
  return tap_done();
}
