#!/bin/sh
# make demo: compile rules.example, show what it says for a few clients,
# then run tcpserver on 127.0.0.1 port $PORT (7000) serving
# src/demo-greet.sh, with -v logging, until Ctrl-C.
set -e
B=${UCSPI_BIN:-build}
PORT=${PORT:-7000}
GREET=$(cd "$(dirname "$0")" && pwd)/demo-greet.sh
$B/tcprules $B/demo-rules.cdb $B/demo-rules.tmp < rules.example
show() {
  echo "--- $*"
  env -u TCPREMOTEIP -u TCPREMOTEHOST -u TCPREMOTEINFO "$@" $B/tcprulescheck $B/demo-rules.cdb
}
echo "=== What rules.example says, by tcprulescheck:"
show TCPREMOTEIP=127.0.0.1
show TCPREMOTEIP=192.168.2.20
show TCPREMOTEIP=192.168.3.4 TCPREMOTEINFO=joe
show TCPREMOTEIP=203.0.113.6 TCPREMOTEHOST=bad.spam.example
show TCPREMOTEIP=10.66.1.1
show TCPREMOTEIP=2001:DB8:0::25
cat <<END

=== tcpserver on 127.0.0.1 port $PORT (PORT=... make demo for another).
Connect from another terminal with
    $B/tcpclient 127.0.0.1 $PORT sh -c 'cat <&6'
or  nc 127.0.0.1 $PORT
Edit rules.example and run
    $B/tcprules $B/demo-rules.cdb $B/demo-rules.tmp < rules.example
the next connection sees the new rules, without a restart.
Ctrl-C stops the server.  Its log (-v) follows:

END
# -R: no ident query to the client (0.88's default -r would wait up to
# 26 seconds on a silent identd); -H and -l: no name looked up in the DNS
# of this machine (TCPLOCALHOST is the name given here).
set -- $B/tcpserver -v -R -H -l demo.localhost -x $B/demo-rules.cdb 127.0.0.1 "$PORT" sh "$GREET"
# Ctrl-C ends the demo without an error: on a terminal the server runs as
# the terminal's foreground job, so that the interrupt reaches the server
# alone and not make, which then sees this script exit 0.
trap 'echo; echo "demo stopped."; exit 0' INT
if [ -t 0 ] && command -v perl >/dev/null 2>&1; then
  perl -MPOSIX -e '
    open(my $tty, "+<", "/dev/tty") or exec @ARGV;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
      setpgid(0, 0);
      $SIG{TTOU} = "IGNORE";
      tcsetpgrp(fileno($tty), getpgrp());
      $SIG{TTOU} = "DEFAULT";
      exec @ARGV or exit 127;
    }
    setpgid($pid, $pid);
    $SIG{TTOU} = "IGNORE";
    tcsetpgrp(fileno($tty), $pid);
    waitpid($pid, 0);
    tcsetpgrp(fileno($tty), getpgrp());
    exit 0;' "$@"
  echo
  echo "demo stopped."
  exit 0
fi
"$@" &
server=$!
trap 'kill $server 2>/dev/null; wait $server; echo; echo "demo stopped."; exit 0' INT TERM
wait $server
