#!/bin/sh
# Install what the build needs (tinycdb) and, when possible, what the
# differential tests compare against (Debian's ucspi-tcp, the reference).
# Usage: src/deps.sh [--tests]
need_cdb=0
[ -f /usr/include/cdb.h ] || need_cdb=1
need_ref=0
if [ "$1" = "--tests" ]; then
  [ -x /usr/bin/tcprulescheck ] || need_ref=1
  command -v prove >/dev/null 2>&1 || need_ref=1
fi
[ $need_cdb = 0 ] && [ $need_ref = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if [ $need_cdb = 1 ]; then
    echo "deps: tinycdb is missing: run apt-get install -y libcdb-dev as root" >&2
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
  apt-get install -y -qq ucspi-tcp tinycdb perl valgrind >/dev/null 2>&1 || true
fi
exit 0
