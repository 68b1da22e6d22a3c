#!/bin/sh
# argv0 and mconnect-io, against expectations and the reference.
B=${UCSPI_BIN:-build}
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n+1)); echo "ok $n # SKIP $1"; }
same() { [ "$1" = "$2" ]; echo $?; }

# argv0 REALNAME PROGRAM ARGS: REALNAME runs with argv[0] = PROGRAM.
out=$("$B/argv0" cat fancy-name /proc/self/cmdline | tr '\0' ' ')
ok "$(same "$out" "fancy-name /proc/self/cmdline ")" "argv0 sets argv[0], keeps the arguments"
out=$(PATH=/nonexistent:/bin:/usr/bin "$B/argv0" sh x -c 'echo found')
ok "$(same "$out" found)" "argv0 searches PATH"
"$B/argv0" sh > "$T/out" 2> "$T/err"; rc=$?
ok "$(same "$rc:$(cat "$T/err")" "100:argv0: usage: argv0 realname program [ arg ... ]")" "argv0 usage"
"$B/argv0" /nonexistent/p x 2> "$T/err"; rc=$?
ok "$(same "$rc:$(cat "$T/err")" "111:argv0: fatal: unable to run /nonexistent/p: file does not exist")" "argv0: no such file"
printf 'not a program\n' > "$T/text"; chmod 755 "$T/text"
"$B/argv0" "$T/text" x 2> "$T/err"; rc=$?
ok "$(same "$rc:$(cat "$T/err")" "111:argv0: fatal: unable to run $T/text: exec format error")" "argv0: no sh fallback for a text file"
"$B/argv0" -- sh 2> "$T/err"; rc=$?
ok "$(same "$rc:$(cat "$T/err")" "111:argv0: fatal: unable to run --: file does not exist")" "argv0 takes no options"
if [ -x /usr/bin/argv0 ]; then
  for args in "sh name -c echo\ \$0" "/nonexistent x" "$T/text x" "/tmp x" "-- sh"; do
    eval "set -- $args"
    a=$("$B/argv0" "$@" 2>&1; echo "rc=$?")
    r=$(/usr/bin/argv0 "$@" 2>&1; echo "rc=$?")
    ok "$(same "$a" "$(echo "$r" | sed 's/^argv0/argv0/')")" "argv0 $args: same as the reference"
  done
else
  for i in 1 2 3 4 5; do skip "no reference argv0"; done
fi

# mconnect-io: fd 6 to stdout unchanged; stdin to fd 7 with addcr's CR.
printf 'net1\r\nnet2\nx\r' > "$T/net"
mkfifo "$T/fifo"
run_mconnect() { # $1 = program; the network side stays open until stdin is sent
  ( sleep 0.3; printf 'late\n' ) > "$T/fifo" &
  printf 'in1\nin2\r\nz' | timeout 10 "$1" 6< "$T/fifo" 7> "$T/to-net" > "$T/from-net"
  echo $?
  wait
}
rc=$(run_mconnect "$B/mconnect-io")
ok "$(same "$rc:$(od -c < "$T/to-net")" "0:$(printf 'in1\r\nin2\r\r\nz' | od -c)")" "mconnect-io: stdin to fd 7 with a CR before each LF"
ok "$(same "$(cat "$T/from-net")" late)" "mconnect-io: fd 6 to stdout"
timeout 10 "$B/mconnect-io" 6< "$T/net" 7> /dev/null < /dev/null > "$T/from-net"; rc=$?
ok "$(same "$rc:$(od -c < "$T/from-net")" "0:$(od -c < "$T/net")")" "mconnect-io: the network side passes unchanged"
timeout 10 "$B/mconnect-io" 6< / 7> /dev/full < "$T/net" > /dev/full 2> "$T/err"; rc=$?
ok "$(same "$rc:$(cat "$T/err")" "0:")" "mconnect-io: errors ignored, exit 0, as the reference"
if [ -x /usr/bin/mconnect-io ]; then
  rc=$(run_mconnect /usr/bin/mconnect-io)
  ok "$(same "$rc:$(od -c < "$T/to-net")" "0:$(printf 'in1\r\nin2\r\r\nz' | od -c)")" "reference mconnect-io agrees"
else
  skip "no reference mconnect-io"
fi
echo "1..$n"
