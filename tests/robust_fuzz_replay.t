#!/bin/sh
# Replays every fuzz corpus input and every crash regression
# (fuzz/regress/NAME/) through the fuzz targets built as plain programs
# ($UCSPI_BIN/t/fuzz_NAME); under make asan they run with the sanitizers.
bin=${UCSPI_BIN:-build}/t
n=0
for src in fuzz/*.c; do
  name=$(basename "$src" .c)
  [ "$name" = replay ] && continue
  n=$((n + 1))
  if [ ! -x "$bin/fuzz_$name" ]; then
    echo "ok $n # SKIP fuzz_$name not built (its library sources are not written yet)"
    continue
  fi
  files=$(find "fuzz/corpus/$name" "fuzz/regress/$name" -type f 2>/dev/null)
  count=$(printf '%s\n' "$files" | grep -c .)
  if [ "$count" -eq 0 ]; then
    echo "not ok $n - $name: no corpus in fuzz/corpus/$name"
    continue
  fi
  # xargs runs the target on many files at once; a crash fails it.
  if printf '%s\n' "$files" | timeout 120 xargs -d '\n' "$bin/fuzz_$name" > /dev/null; then
    echo "ok $n - $name replays its $count corpus and regression inputs"
  else
    echo "not ok $n - $name failed on one of its $count inputs"
  fi
done
echo "1..$n"
