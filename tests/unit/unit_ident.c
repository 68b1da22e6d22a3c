#include "tap.h"
#include "ident.h"

static void reply(const char *r, int want_ok, const char *want, const char *name)
{
  char info[IDENT_INFO_MAX + 1];
  int ok = ident_parse(r, strlen(r), info);
  tap_ok(ok == want_ok, name);
  if (ok && want_ok) tap_is_str(info, want, name);
}

int main(void)
{
  reply("6191, 23 : USERID : UNIX : joe\r\n", 1, "joe", "plain USERID reply");
  reply("6191,23:USERID:UNIX:j o\te\r\n", 1, "joe", "white space removed");
  reply("6191, 23 : ERROR : NO-USER\r\n", 1, "", "ERROR gives empty info");
  reply("6191, 23 : USERID : UNIX : joe", 0, "", "no line end: unusable");
  reply("", 0, "", "empty reply");
  reply("1,2:USERID:UNIX:a:b:c\n", 1, "a:b:c", "colons after the third kept");
  reply("1,2:USERID:UNIX:\x01\x80x\n", 1, "??x", "control and high bytes become ?");

  char big[2000];
  memcpy(big, "1,2:USERID:UNIX:", 16);
  memset(big + 16, 'a', sizeof big - 17);
  big[sizeof big - 1] = 0;
  char info[IDENT_INFO_MAX + 1];
  int ok = ident_parse(big, strlen(big), info);
  tap_ok(ok == 1 && strlen(info) == 257, "endless reply cut at 257 bytes");

  struct ident_parser p;
  ident_parser_init(&p);
  const char *parts[] = { "12, 3", "4 : USE", "RID : UNIX", " : bo", "b\r", "\n" };
  int done = 0;
  for (unsigned i = 0; i < 6; i++) done = ident_parser_feed(&p, parts[i], strlen(parts[i]));
  tap_ok(done == 1, "incremental: complete after the LF");
  tap_is_str(p.info, "bob", "incremental: info");
  return tap_done();
}
