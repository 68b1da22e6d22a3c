#!/bin/sh
# make demo: compile rules.example and show what tcprulescheck says.
set -e
B=${UCSPI_BIN:-build}
$B/tcprules $B/demo-rules.cdb $B/demo-rules.tmp < rules.example
show() {
  echo "--- $*"
  env -u TCPREMOTEIP -u TCPREMOTEHOST -u TCPREMOTEINFO "$@" $B/tcprulescheck $B/demo-rules.cdb
}
show TCPREMOTEIP=127.0.0.1
show TCPREMOTEIP=192.168.1.9
show TCPREMOTEIP=192.168.2.20
show TCPREMOTEIP=192.168.3.4 TCPREMOTEINFO=joe
show TCPREMOTEIP=203.0.113.5 TCPREMOTEHOST=mail.example.org
show TCPREMOTEIP=203.0.113.6 TCPREMOTEHOST=bad.spam.example
show TCPREMOTEIP=10.1.2.3
show TCPREMOTEIP=10.66.1.1
show TCPREMOTEIP=2001:db8:5::77
show TCPREMOTEIP=2001:DB8:0::25
show TCPREMOTEIP=203.0.113.7
