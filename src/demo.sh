#!/bin/sh
# make demo: compile rules.example and show what tcprulescheck says.
set -e
B=${UCSPI_BIN:-build}
$B/tcprules $B/demo-rules.cdb $B/demo-rules.tmp < rules.example
for ip in 127.0.0.1 10.1.2.3 192.168.7.7; do
  echo "--- TCPREMOTEIP=$ip"
  TCPREMOTEIP=$ip $B/tcprulescheck $B/demo-rules.cdb
done
