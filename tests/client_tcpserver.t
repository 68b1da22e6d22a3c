#!/bin/sh
# tcpclient against our tcpserver (or the reference's when ours is not
# built): both ends agree on the addresses and ports, data flows both
# ways, recordio under tcpserver logs the dialogue.
B=${UCSPI_BIN:-build}
SERVER=$B/tcpserver
[ -x "$SERVER" ] || SERVER=/usr/bin/tcpserver
if [ ! -x "$SERVER" ] || [ ! -x "$B/tcpclient" ]; then echo "1..0 # SKIP no tcpserver"; exit 0; fi
T=$(mktemp -d) || exit 1
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT
n=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
same() { [ "$1" = "$2" ]; echo $?; }

start() { # host, program...: a server on a free port; sets PORT
  host=$1; shift
  : > "$T/port"
  timeout 30 "$SERVER" -1 -RHl0 "$host" 0 "$@" > "$T/port" 2> "$T/server.err" &
  pids="$pids $!"
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    PORT=$(head -n 1 "$T/port")
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  return 1
}

start 127.0.0.1 sh -c 'echo "$TCPREMOTEIP $TCPREMOTEPORT $TCPLOCALPORT"; read line; echo "got $line"'
out=$(timeout 10 "$B/tcpclient" -RHl0 127.0.0.1 "$PORT" sh -c \
  'read seen <&6; echo ping >&7; read reply <&6; echo "$seen|$reply|$TCPLOCALIP $TCPLOCALPORT $TCPREMOTEPORT"')
seen=${out%%|*}; rest=${out#*|}; reply=${rest%%|*}; mine=${rest#*|}
set -- $seen
ok "$(same "$1 $2 $3" "$(echo "$mine" | awk '$1 == "127.0.0.1" {print $1, $2, $3}')")" "the server sees our address and ports, we see its"
ok "$(same "$reply" "got ping")" "data flows both ways over fds 6 and 7"

if start ::1 sh -c 'echo "$PROTO $TCPREMOTEIP"'; then
  out=$(timeout 10 "$B/tcpclient" -RHl0 ::1 "$PORT" sh -c 'read seen <&6; echo "$seen|$PROTO $TCPLOCALIP"')
  ok "$(same "$out" "TCP6 ::1|TCP6 ::1")" "IPv6 end to end"
else
  n=$((n+1)); echo "ok $n # SKIP no IPv6 server"
fi

start 127.0.0.1 "$B/recordio" sh -c 'read line; echo "got $line"'
out=$(echo hello | timeout 10 "$B/tcpclient" -RHl0 127.0.0.1 "$PORT" sh -c 'cat >&7; cat <&6')
ok "$(same "$out" "got hello")" "recordio under tcpserver passes the data"
for i in 1 2 3 4 5 6 7 8 9 10; do grep -q '> \[EOF\]' "$T/server.err" && break; sleep 0.1; done
log=$(sed -n 's/^[0-9]* //p' "$T/server.err")
ok "$(same "$log" "$(printf '< hello \n> got hello \n> [EOF]')")" "recordio's transcript on the server's stderr"
echo "1..$n"
