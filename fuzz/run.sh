#!/bin/sh
# make fuzz: build every libFuzzer target of fuzz/ with clang (ASan and
# UBSan), run each for FUZZTIME seconds on its corpus fuzz/corpus/NAME,
# then minimise that corpus.  A crash leaves its input in FB/crash-NAME-*
# and makes this script fail; turn it into a regression test (a file in
# fuzz/regress/NAME/, replayed by tests/robust_fuzz_replay.t).
# Usage: fuzz/run.sh BUILD_DIR [FUZZTIME]
set -u
FB=$1
FUZZTIME=${2:-60}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -g -O1"
mkdir -p "$FB"

# libFuzzer comes with Debian's clang runtime; install it when missing.
have_fuzzer() {
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void) d; (void) n; return 0; }' > "$FB/probe.c"
  clang -fsanitize=fuzzer "$FB/probe.c" -o "$FB/probe" 2>/dev/null
}
if ! command -v clang >/dev/null 2>&1 || ! have_fuzzer; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null 2>&1 ||
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null 2>&1
  fi
  have_fuzzer || { echo "fuzz: clang with libFuzzer is missing: apt-get install clang libclang-rt-14-dev" >&2; exit 111; }
fi

# The library, built by the project's Makefile with the fuzzing flags.
make -s B="$FB" CC=clang STATIC= EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $SAN" "$FB/libucspi.a" || exit 111

status=0
for src in fuzz/*.c; do
  name=$(basename "$src" .c)
  # A target names the library sources it needs (replay.c, not a target,
  # names none); skip it until they exist.
  needs=$(sed -n 's|^// needs: ||p' "$src")
  [ -n "$needs" ] || continue
  missing=
  for need in $needs; do
    [ -f "$need" ] || missing="$missing $need"
  done
  if [ -n "$missing" ]; then
    echo "fuzz: $name skipped, not written yet:$missing"
    continue
  fi
  clang -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc/lib -fsanitize=fuzzer $SAN \
    -o "$FB/fuzz-$name" "$src" "$FB/libucspi.a" -l:libcdb.a || { status=111; continue; }
  corpus=fuzz/corpus/$name
  mkdir -p "$corpus" "$FB/new-$name"
  echo "fuzz: $name for $FUZZTIME s"
  if ! "$FB/fuzz-$name" -max_total_time="$FUZZTIME" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$FB/crash-$name-" "$FB/new-$name" "$corpus" \
      > "$FB/fuzz-$name.log" 2>&1; then
    echo "fuzz: $name FAILED, see $FB/fuzz-$name.log and $FB/crash-$name-*" >&2
    tail -n 30 "$FB/fuzz-$name.log" >&2
    status=1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov:' "$FB/fuzz-$name.log" | tail -n 3
  # Keep the corpus small: only inputs that add coverage stay.
  rm -rf "$FB/min-$name" && mkdir -p "$FB/min-$name"
  if "$FB/fuzz-$name" -merge=1 "$FB/min-$name" "$corpus" "$FB/new-$name" > "$FB/merge-$name.log" 2>&1; then
    rm -rf "$corpus" && mv "$FB/min-$name" "$corpus"
  fi
  rm -rf "$FB/new-$name"
  echo "fuzz: $name corpus: $(ls "$corpus" | wc -l) inputs"
done
exit $status
