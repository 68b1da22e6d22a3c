#!/bin/sh
# The service of `make demo` (not installed): greets the client with the
# TCP environment tcpserver gave it and the variables its rule set.
echo "${GREETING:-hello} from the ucspi-tcp demo, pid $$"
echo "you are ${TCPREMOTEHOST:-(no name)} $TCPREMOTEIP port $TCPREMOTEPORT"
echo "this is ${TCPLOCALHOST:-(no name)} $TCPLOCALIP port $TCPLOCALPORT"
echo "--- the TCP environment:"
env | grep -E '^(PROTO|TCP)' | LC_ALL=C sort
echo "--- set by your rule in rules.example:"
env | grep -E '^(RELAYCLIENT|SMTPUSER|GREETING)=' | LC_ALL=C sort
[ -n "${RELAYCLIENT+set}" ] && echo "(RELAYCLIENT is set: qmail-smtpd would let you relay)"
exit 0
