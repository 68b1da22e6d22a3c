/* children.c: add, find, remove by pid, the full table, reuse after
   removal, walking, and many random operations checked against a plain
   array of pids. */
#include <errno.h>
#include <stdlib.h>
#include "tap.h"
#include "children.h"

static const struct siphash_key seed = { 42, 4242 };

#define MODEL_MAX 64

/* The model: live[0..n) are the live pids, payload start_ms == pid * 3. */
static int model_matches(const struct children *t, const pid_t *live, size_t n)
{
  if (children_count(t) != n) return 0;
  for (size_t i = 0; i < n; i++) {
    const struct child_entry *c = children_find(t, live[i]);
    if (!c || c->pid != live[i] || c->start_ms != (int64_t) live[i] * 3) return 0;
  }
  /* Walking visits each once. */
  size_t seen = 0;
  for (size_t i = 0; i < children_count(t); i++) {
    const struct child_entry *c = children_at(t, i);
    for (size_t j = 0; j < n; j++) seen += c->pid == live[j];
  }
  return seen == n && children_at(t, n) == NULL;
}

static int random_ops(size_t cap, unsigned rounds, unsigned seedval)
{
  pid_t live[MODEL_MAX];
  size_t n = 0;
  int ok = 1;
  struct children *t = children_new(cap, &seed);
  if (!t) return 0;
  srand(seedval);
  for (unsigned r = 0; r < rounds && ok; r++) {
    /* Few distinct pids, so that adds of live ones and removes of dead
       ones happen too. */
    pid_t pid = 1 + rand() % (int) (cap * 3);
    size_t at = n;
    for (size_t i = 0; i < n; i++)
      if (live[i] == pid) at = i;
    if (rand() % 2) {
      struct child_entry *c = children_add(t, pid);
      if (at < n) ok = !c && errno == EEXIST;
      else if (n >= cap) ok = !c && errno == ENOSPC;
      else if (c) {
        c->start_ms = (int64_t) pid * 3;
        live[n++] = pid;
      } else ok = 0;
    } else {
      struct child_entry gone;
      int rc = children_remove(t, pid, &gone);
      if (at == n) ok = rc == -1 && errno == ENOENT;
      else {
        ok = rc == 0 && gone.pid == pid && gone.start_ms == (int64_t) pid * 3;
        live[at] = live[--n];
      }
    }
    ok = ok && model_matches(t, live, n);
  }
  children_free(t);
  return ok;
}

int main(void)
{
  struct children *t = children_new(2, &seed);
  tap_ok(t && children_capacity(t) == 2 && children_count(t) == 0, "a table for 2 children");
  struct child_entry *c = children_add(t, 100);
  tap_ok(c && c->pid == 100 && c->watched == 0 && c->nkeys == 0 && c->start_ms == 0,
         "add: a cleared entry");
  struct ip_addr ip;
  ip_parse("2001:db8:1:2::5", &ip);
  c->ip = ip;
  clientkey_make(&c->keys[0], &ip, 64);
  clientkey_make(&c->keys[1], &ip, 48);
  c->nkeys = 2;
  tap_ok(children_add(t, 100) == NULL && errno == EEXIST, "a live pid cannot be added twice");
  tap_ok(children_add(t, 0) == NULL && errno == EINVAL, "pid 0 is refused");
  tap_ok(children_add(t, -5) == NULL && errno == EINVAL, "a negative pid is refused");
  tap_ok(children_add(t, 200) != NULL && children_count(t) == 2, "second child");
  tap_ok(children_add(t, 300) == NULL && errno == ENOSPC, "a third: full");
  tap_ok(children_find(t, 300) == NULL, "the refused one is not there");
  c = children_find(t, 100);
  tap_ok(c && c->nkeys == 2 && ip_equal(&c->ip, &ip), "find gives the payload back");
  struct child_entry gone;
  tap_ok(children_remove(t, 100, &gone) == 0 && gone.pid == 100 && gone.nkeys == 2,
         "remove hands back the entry");
  char buf[CLIENTKEY_FMT_SIZE];
  clientkey_format(&gone.keys[0], buf);
  tap_is_str(buf, "2001:db8:1:2::/64", "with the keys to decrement");
  tap_ok(children_find(t, 100) == NULL && children_count(t) == 1, "removed");
  tap_ok(children_remove(t, 100, NULL) == -1 && errno == ENOENT, "removing twice fails");
  tap_ok(children_add(t, 100) != NULL && children_add(t, 300) == NULL,
         "its room is reused, and only it");
  tap_ok(children_find(t, 200) && children_find(t, 200)->pid == 200, "the other is intact");
  children_free(t);

  t = children_new(0, &seed);
  tap_ok(t && children_add(t, 1) == NULL && errno == ENOSPC, "a table for 0 children");
  children_free(t);
  errno = 0;
  tap_ok(children_new(SIZE_MAX / 8, &seed) == NULL && errno == ENOMEM, "a huge table: ENOMEM");

  tap_ok(random_ops(8, 20000, 1), "random operations, 8 children");
  tap_ok(random_ops(MODEL_MAX, 20000, 2), "random operations, 64 children");
  tap_ok(random_ops(1, 2000, 3), "random operations, 1 child");

  /* Pids the way the kernel hands them out: rising, wrapping. */
  t = children_new(40, &seed);
  int ok = t != NULL;
  pid_t next = 300;
  pid_t ring[40];
  for (int i = 0; i < 40 && ok; i++) {
    ok = children_add(t, next) != NULL;
    ring[i] = next++;
  }
  for (int round = 0; round < 100000 && ok; round++) {
    int i = round % 40;
    ok = children_remove(t, ring[i], NULL) == 0 && children_add(t, next) != NULL;
    ring[i] = next++;
  }
  tap_ok(ok && children_count(t) == 40, "100000 children through a table of 40");
  children_free(t);
  return tap_done();
}
