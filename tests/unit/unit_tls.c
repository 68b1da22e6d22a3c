/* The tls module: contexts from the environment and their errors, SNI,
   reload keeping the old contexts on failure, the change check, the
   variables, and the scrubbing of settings.  The certificates come from
   tests/unit_tls.t (PKI=dir). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "tls.h"

static char dir[512];

static char *var(const char *name, const char *file)
{
  static char bufs[16][700];
  static int n;
  char *b = bufs[n++ % 16];
  if (file[0] == '/') snprintf(b, 700, "%s=%s", name, file);
  else snprintf(b, 700, "%s=%s/%s", name, dir, file);
  return b;
}

/* A handshake over a socketpair with a client (forked) asking for
   name; the server's connection is returned after it, or NULL. */
static struct tls_conn *served(struct tls_server *s, const char *name,
                               const char *ca, int sv[2])
{
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    char *env[] = { var("CAFILE", ca), 0 };
    char why[TLS_WHY];
    close(sv[0]);
    struct tls_client *cl = tls_client_new(env, why);
    struct tls_conn *c = cl ? tls_conn_connect(cl, sv[1], name) : 0;
    int ok = c && tls_conn_handshake(c, 5000, why) == 0;
    _exit(ok ? 0 : 1);
  }
  close(sv[1]);
  char why[TLS_WHY];
  struct tls_conn *c = tls_conn_accept(s, sv[0]);
  int ok = c && tls_conn_handshake(c, 5000, why) == 0;
  int status;
  waitpid(pid, &status, 0);
  if (!ok || status) {
    printf("# handshake: %s\n", ok ? "client failed" : why);
    tls_conn_free(c);
    close(sv[0]);
    return 0;
  }
  return c;
}

/* The SNI name the server saw, and the variables block's first entry. */
static void check_name(struct tls_server *s, const char *name, const char *want_sni,
                       const char *what)
{
  int sv[2];
  struct tls_conn *c = served(s, name, "ca.pem", sv);
  tap_ok(c != 0, what);
  if (!c) return;
  tap_is_str(tls_conn_sni(c), want_sni, "  the name the server saw");
  tls_conn_free(c);
  close(sv[0]);
}

static void errors(void)
{
  char why[TLS_WHY];
  char *none[] = { 0 };
  tap_ok(!tls_server_new(none, TLS_CLIENTCERT_NONE, why), "no CERTFILE: no server");
  tap_is_str(why, "CERTFILE is not set", "  and why");
  char *missing[] = { var("CERTFILE", "/nonexistent/x.pem"), 0 };
  tap_ok(!tls_server_new(missing, TLS_CLIENTCERT_NONE, why), "a missing CERTFILE");
  tap_is_str(why, "unable to read CERTFILE /nonexistent/x.pem: file does not exist", "  in errtext's words");
  char *wrongkey[] = { var("CERTFILE", "srv.pem"), var("KEYFILE", "a.key"), 0 };
  tap_ok(!tls_server_new(wrongkey, TLS_CLIENTCERT_NONE, why), "a key of another certificate");
  tap_ok(strstr(why, "KEYFILE") && strstr(why, "mismatch"), "  says the KEYFILE is a mismatch");
  char *noca[] = { var("CERTFILE", "srv.pem"), var("KEYFILE", "srv.key"), 0 };
  tap_ok(!tls_server_new(noca, TLS_CLIENTCERT_REQUIRE, why), "client certificates without CAFILE");
  char *badciphers[] = { var("CERTFILE", "srv.pem"), var("KEYFILE", "srv.key"), "CIPHERS=NOPE", 0 };
  tap_ok(!tls_server_new(badciphers, TLS_CLIENTCERT_NONE, why), "CIPHERS that name nothing");
  tap_ok(!strncmp(why, "unable to use CIPHERS NOPE", 26), "  says so");
}

static void sni_and_reload(void)
{
  char why[TLS_WHY];
  char *env[] = {
    var("CERTFILE", "srv.pem"), var("KEYFILE", "srv.key"),
    var("CERTFILE:a.test", "a.pem"), var("KEYFILE:a.test", "a.key"),
    var("CERTFILE:*.w.test", "wild.pem"), var("KEYFILE:*.w.test", "wild.key"), 0,
  };
  struct tls_server *s = tls_server_new(env, TLS_CLIENTCERT_NONE, why);
  tap_ok(s != 0, "a server with two SNI pairs");
  if (!s) { printf("# %s\n", why); return; }
  check_name(s, "localhost", "localhost", "the default certificate for its name");
  check_name(s, "a.test", "a.test", "a.test's certificate for a.test");
  check_name(s, "x.w.test", "x.w.test", "the wildcard for x.w.test");
  int sv[2];
  tap_ok(!served(s, "y.x.w.test", "ca.pem", sv), "but not for two labels (y.x.w.test)");
  tap_ok(!served(s, "b.test", "ca.pem", sv), "an unknown name gets the default (which b.test rejects)");

  tap_ok(!tls_server_changed(s), "nothing changed yet");
  char *broken[] = { var("CERTFILE", "srv.pem"), var("KEYFILE", "a.key"), 0 };
  tap_ok(tls_server_reload(s, broken, why) < 0, "a reload with a broken pair fails");
  check_name(s, "a.test", "a.test", "  and the old contexts stay");
  char path[700];
  snprintf(path, sizeof path, "%s/a.pem", dir);
  struct timespec later[2] = { { 0, UTIME_OMIT }, { time(0) + 5, 0 } };
  utimensat(AT_FDCWD, path, later, 0);
  tap_ok(tls_server_changed(s), "a touched certificate is a change");
  char *plain[] = { var("CERTFILE", "srv.pem"), var("KEYFILE", "srv.key"), 0 };
  tap_ok(tls_server_reload(s, plain, why) == 0, "a good reload");
  tap_ok(!tls_server_changed(s), "  watches the new files");
  tap_ok(!served(s, "a.test", "ca.pem", sv), "  and a.test's certificate is gone");
  tls_server_free(s);
}

static void variables(void)
{
  char why[TLS_WHY];
  char *env[] = { var("CERTFILE", "srv.pem"), var("KEYFILE", "srv.key"), 0 };
  struct tls_server *s = tls_server_new(env, TLS_CLIENTCERT_NONE, why);
  int sv[2];
  struct tls_conn *c = s ? served(s, "localhost", "ca.pem", sv) : 0;
  tap_ok(c != 0, "a connection for the variables");
  if (!c) return;
  char block[4096];
  size_t n = tls_conn_vars_block(c, 1, block, sizeof block);
  tap_ok(n > 2 && block[n - 1] == 0 && block[n - 2] == 0, "the block ends in two NULs");
  tap_is_str(block, "SSL_PROTOCOL=TLSv1.3", "SSL_PROTOCOL first");
  int seen_none = 0;
  for (size_t i = 0; i < n && block[i]; i += strlen(block + i) + 1)
    if (!strcmp(block + i, "SSL_CLIENT_VERIFY=NONE")) seen_none = 1;
  tap_ok(seen_none, "no client certificate: SSL_CLIENT_VERIFY=NONE");
  tap_ok(tls_conn_vars_block(c, 1, block, 20) == 0, "a block that does not fit: 0");
  tls_conn_free(c);
  close(sv[0]);
  tls_server_free(s);
}

/* The client side of two connections in a row, with tls_client_resume:
   exit 0 when the second one resumed. */
static _Noreturn void resuming_client(int fds[2])
{
  char *env[] = { var("CAFILE", "ca.pem"), 0 };
  char why[TLS_WHY], buf[16];
  struct tls_client *cl = tls_client_new(env, why);
  if (!cl) _exit(2);
  tls_client_resume(cl);
  int resumed = 0;
  for (int i = 0; i < 2; i++) {
    struct tls_conn *c = tls_conn_connect(cl, fds[i], "localhost");
    if (!c || tls_conn_handshake(c, 5000, why) < 0) _exit(3);
    while (tls_conn_read(c, buf, sizeof buf) != TLS_IO_CLOSED) {}   /* the ticket comes with it */
    resumed = tls_conn_resumed(c);
    tls_conn_close_notify(c);
    tls_conn_free(c);
  }
  _exit(resumed ? 0 : 1);
}

static void resumption(void)
{
  char why[TLS_WHY];
  char *env[] = { var("CERTFILE", "srv.pem"), var("KEYFILE", "srv.key"), 0 };
  struct tls_server *s = tls_server_new(env, TLS_CLIENTCERT_NONE, why);
  int a[2], b[2];
  if (!s || socketpair(AF_UNIX, SOCK_STREAM, 0, a) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, b) < 0) {
    tap_ok(0, "resumption set up");
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    int mine[2] = { a[1], b[1] };
    resuming_client(mine);
  }
  close(a[1]);
  close(b[1]);
  int first_resumed = -1, second_resumed = -1;
  int ends[2] = { a[0], b[0] };
  for (int i = 0; i < 2; i++) {
    struct tls_conn *c = tls_conn_accept(s, ends[i]);
    int r = -1;
    /* the step API, as an event loop would drive it */
    do r = c ? tls_conn_handshake_step(c, why) : TLS_IO_ERROR;
    while (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE);
    if (c && r == 0) {
      if (i == 0) first_resumed = tls_conn_resumed(c);
      else second_resumed = tls_conn_resumed(c);
      tls_conn_close_notify(c);   /* the socket buffer takes it at once */
    }
    tls_conn_free(c);
    shutdown(ends[i], SHUT_WR);
  }
  int status;
  waitpid(pid, &status, 0);
  tap_ok(first_resumed == 0, "handshake steps: the first connection is a full handshake");
  tap_ok(second_resumed == 1, "the second resumes the first's session (one ticket key)");
  tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "  and the client says so too");
  close(a[0]);
  close(b[0]);
  tls_server_free(s);
}

static void scrub(void)
{
  char *base[] = { "CERTFILE=/k", "CERTFILE:a.test=/a", "KEYFILE=/k", "TLS_UID=5",
                   "SSL_CIPHER=forged", "SSL_CLIENT_S_DN=forged", "PATH=/bin",
                   "CERTFILEX=stay", "SSL_CERT_FILE=/ca", 0 };
  struct envb e;
  envb_init(&e, base);
  tls_scrub_env(&e, base);
  char **v = envb_vec(&e);
  int n = 0;
  for (; v && v[n]; n++) {}
  tap_ok(n == 3 && !strcmp(v[0], "PATH=/bin") && !strcmp(v[1], "CERTFILEX=stay")
         && !strcmp(v[2], "SSL_CERT_FILE=/ca"),
         "settings and the connection's names removed, the rest (SSL_CERT_FILE) kept");
  envb_free(&e);
}

int main(void)
{
  const char *pki = getenv("PKI");
  if (!pki) {
    printf("1..0 # SKIP PKI not set (run tests/unit_tls.t)\n");
    return 0;
  }
  snprintf(dir, sizeof dir, "%s", pki);
  signal(SIGPIPE, SIG_IGN);   /* as the programs: a peer gone is an error */
  errors();
  sni_and_reload();
  variables();
  resumption();
  scrub();
  return tap_done();
}
