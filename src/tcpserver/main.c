/* tcpserver: wait for TCP connections and run a program for each one,
   with the connection on descriptors 0 and 1 (ucspi-tcp 0.88's
   interface).  The core (server.h) does it all; tcpserver adds nothing
   to it. */
#include "server.h"

#define USAGE "tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] " \
  "[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] " \
  "[ -t timeout ] host port program"
#define HELP "tcpserver [ -1UXpPhHrRoOdDqQv46S0 ] [ -c limit ] [ -x rules.cdb ] " \
  "[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] " \
  "[ -t timeout ] [ -I interface ] [ -C n[:message] ] [ -L v4[/v6] ] " \
  "[ -F rate[/burst][:message] ] [ -W seconds ] [ -G drain[+kill] ] " \
  "[ -N fd ] host port program"

static const struct server_program tcpserver = {
  .name = "tcpserver", .usage = USAGE, .help = HELP,
};

int main(int argc, char **argv)
{
  static struct server srv;
  options_parse(&srv, &tcpserver, argc, argv);
  server_setup(&srv);
  loop_serve(&srv);
}
