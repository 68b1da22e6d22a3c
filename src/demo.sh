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
# 26 seconds on a silent identd).
exec $B/tcpserver -v -R -x $B/demo-rules.cdb 127.0.0.1 "$PORT" sh "$GREET"
