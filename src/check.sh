#!/bin/sh
# make check's driver: runs the phases one after the other, announces
# each, and ends with a summary (each phase's result and time), so that
# a person sees what is happening and what failed.
# Usage: src/check.sh MAKE ASAN   (ASAN: yes or no, from CHECK_ASAN)
# The build and both suites use -Werror: warnings fail make check, not
# a user's make.
make=${1:-make}
asan=${2:-yes}
start=$(date +%s)
summary=""
failed=0
stop=0

elapsed() {
  s=$1
  if [ "$s" -ge 60 ]; then echo "$((s / 60)) min $((s % 60)) s"; else echo "$s s"; fi
}

note() {
  summary="$summary$(printf '  %-16s %s' "$1" "$2")
"
}

# phase NAME COMMAND...: skipped once an earlier phase that the later
# ones need (dependencies, build) has failed.
phase() {
  name=$1
  shift
  if [ $stop = 1 ]; then
    note "$name" "skipped"
    return 1
  fi
  echo "=== make check: $name"
  t0=$(date +%s)
  if "$@"; then result=passed; else result=FAILED; failed=$((failed + 1)); fi
  t=$(elapsed $(($(date +%s) - t0)))
  echo "=== make check: $name $result ($t)"
  note "$name" "$result ($t)"
  [ $result = passed ]
}

phase dependencies $make --no-print-directory deps || stop=1
phase build $make --no-print-directory WERROR=-Werror all units || stop=1
phase "plain suite" $make --no-print-directory WERROR=-Werror test
if [ "$asan" = yes ]; then
  phase "sanitizer suite" $make --no-print-directory WERROR=-Werror asan
else
  note "sanitizer suite" "not run (CHECK_ASAN=no)"
fi

echo
echo "=== make check summary:"
printf '%s' "$summary"
total=$(elapsed $(($(date +%s) - start)))
if [ $failed = 0 ]; then
  echo "=== make check: all phases passed in $total"
  exit 0
fi
echo "=== make check: $failed phase(s) FAILED, in $total"
exit 1
