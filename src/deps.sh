#!/bin/sh
# Install what the build needs (tinycdb) and, when possible, what the
# differential tests compare against (Debian's ucspi-tcp, the reference).
# Usage: src/deps.sh [--tests]
need_cdb=0
[ -f /usr/include/cdb.h ] || need_cdb=1
need_ref=0
need_san=0
# 0 if the compiler links a program with ASan and UBSan.
san_works() {
  probe=$(mktemp -d) || return 1
  printf 'int main(void) { return 0; }\n' > "$probe/t.c"
  ${DEPS_CC:-cc} -fsanitize=address,undefined -o "$probe/t" "$probe/t.c" \
    >/dev/null 2>&1
  ok=$?
  rm -rf "$probe"
  return $ok
}
if [ "$1" = "--tests" ]; then
  [ -x /usr/bin/tcprulescheck ] || need_ref=1
  command -v prove >/dev/null 2>&1 || need_ref=1
  command -v ip >/dev/null 2>&1 || need_ref=1
  # make check's second run needs the compiler's ASan and UBSan runtimes
  # (DEPS_CC: the compiler of conf-cc or $CC, from the Makefile).
  san_works || need_san=1
fi
[ $need_cdb = 0 ] && [ $need_ref = 0 ] && [ $need_san = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if [ $need_cdb = 1 ]; then
    echo "deps: tinycdb is missing: run apt-get install -y libcdb-dev as root" >&2
    exit 111
  fi
  if [ $need_san = 1 ]; then
    echo "deps: no ASan/UBSan runtime for ${DEPS_CC:-cc}: run apt-get install -y libasan8 libubsan1 libclang-rt-14-dev as root" >&2
    exit 111
  fi
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
if [ $need_cdb = 1 ]; then
  apt-get install -y -qq libcdb-dev >/dev/null || {
    echo "deps: unable to install libcdb-dev: run apt-get install -y libcdb-dev" >&2
    exit 111
  }
fi
if [ $need_ref = 1 ]; then
  # The reference and the test tools are optional: tests skip without them.
  # Apart, so that a tool missing from the mirror cannot cost the reference.
  apt-get install -y -qq ucspi-tcp tinycdb perl >/dev/null 2>&1 || true
  for tool in valgrind strace groff-base iproute2; do
    apt-get install -y -qq "$tool" >/dev/null 2>&1 || true
  done
fi
if [ $need_san = 1 ]; then
  apt-get install -y -qq libasan8 libubsan1 libclang-rt-14-dev >/dev/null 2>&1 || true
  if ! san_works; then
    echo "deps: no ASan/UBSan runtime for ${DEPS_CC:-cc}: install libasan8 libubsan1 (gcc) or libclang-rt-14-dev (clang)" >&2
    exit 111
  fi
fi
exit 0
