/* The rules database of tcpserver -x and tcprulescheck (rules.h:
   rules_db_*): the cdb at a path kept mapped while it is the same file,
   and the guard against a file truncated under the mapping. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "rules.h"

/* The guard against SIGBUS from a file truncated under its mapping.  One
   lookup at a time per process, so one jump buffer serves. */
static sigjmp_buf fault_jump;
static volatile sig_atomic_t reading;

static void on_bus(int sig)
{
  if (reading) siglongjmp(fault_jump, 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void guard_install(void)
{
  static int installed;
  struct sigaction sa;
  if (installed) return;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_bus;
  sa.sa_flags = SA_NODEFER;   /* so that sigsetjmp need not save the mask */
  sigaction(SIGBUS, &sa, NULL);
  installed = 1;
}

int rules_db_init(struct rules_db *db, const char *path, size_t keycap)
{
  memset(db, 0, sizeof *db);
  db->path = path;
  db->fd = -1;
  db->keycap = keycap;
  db->key = malloc(keycap);
  if (!db->key) {
    errno = ENOMEM;
    return -1;
  }
  guard_install();
  return 0;
}

void rules_db_close(struct rules_db *db)
{
  if (db->fd < 0) return;
  cdb_free(&db->cdb);
  close(db->fd);
  db->fd = -1;
}

void rules_db_free(struct rules_db *db)
{
  rules_db_close(db);
  free(db->key);
  free(db->data);
  db->key = db->data = NULL;
}

static int same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
         a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
         a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int db_open(struct rules_db *db)
{
  int fd = open(db->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, &db->st) < 0 || cdb_init(&db->cdb, fd) < 0) {
    int e = errno;
    /* 0.88 fails to map an empty file and says so. */
    if (db->st.st_size == 0) e = EINVAL;
    close(fd);
    errno = e;
    return -1;
  }
  db->fd = fd;
  return 0;
}

void rules_db_batch(struct rules_db *db)
{
  db->batched = 1;
}

void rules_db_recheck(struct rules_db *db)
{
  db->looked = 0;
}

/* The file now at the path, mapped: reopened only when it changed. */
static int db_refresh(struct rules_db *db)
{
  struct stat st;
  if (db->fd >= 0 && db->batched && db->looked) return 0;
  db->looked = 1;
  if (db->fd >= 0 && stat(db->path, &st) == 0 && same_file(&st, &db->st))
    return 0;
  rules_db_close(db);
  return db_open(db);
}

static int keep_data(struct rules_db *db, struct rules_found *f)
{
  if (f->datalen > db->datacap) {
    size_t cap = db->datacap ? db->datacap : 256;
    while (cap < f->datalen) cap *= 2;
    char *d = realloc(db->data, cap);
    if (!d) {
      errno = ENOMEM;
      return -1;
    }
    db->data = d;
    db->datacap = cap;
  }
  if (f->datalen) memcpy(db->data, f->data, f->datalen);
  f->data = db->data;
  return 0;
}

static int find_and_keep(struct rules_db *db, const struct rules_query *q,
                         struct rules_found *f)
{
  int r = rules_find(&db->cdb, q, db->key, db->keycap, f);
  if (r == 1 && keep_data(db, f) < 0) return -1;
  return r;
}

int rules_db_lookup(struct rules_db *db, const struct rules_query *q,
                    struct rules_found *f)
{
  int r;
  if (db_refresh(db) < 0) return -1;
  if (sigsetjmp(fault_jump, 0)) {   /* 0: no system call */
    reading = 0;
    rules_db_close(db);
    errno = EIO;
    return -1;
  }
  reading = 1;
  r = find_and_keep(db, q, f);
  reading = 0;
  if (r < 0) {   /* a corrupt file: look again at the next lookup */
    int e = errno;
    rules_db_close(db);
    errno = e;
  }
  return r;
}
