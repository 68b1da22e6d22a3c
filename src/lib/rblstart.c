/* rblsmtpd's start before libc (prestart.h).  A client exempted by
   RBLSMTPD set and empty is accepted whatever the options ask for (main
   decides from RBLSMTPD before the options, and -r and -a look nothing
   up once a decision is made, as in 0.88), so the SMTP server can be run
   at once, provided main would have accepted the options: the exempt
   path of every qmail-smtpd chain, once per connection. */
#include "dnsbl.h"
#include "prestart.h"

int prestart_program(int argc, char **argv, char **envp)
{
  const char *exempt = prestart_getenv(envp, "RBLSMTPD");
  if (!exempt || *exempt) return 0;
  return prestart_operand(argc, argv, RBLSMTPD_OPTIONS);
}
