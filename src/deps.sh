#!/bin/sh
# make deps: install what the build and the tests need, one group at a
# time, saying for each group what it is for and what it installs.
# Usage: src/deps.sh GROUP...   (build tests sanitizers services package bench)
# Only the build group is required: without it the script fails (exit
# 111); a package of another group that cannot be had is reported, and the
# tests that need it skip.  Installing needs root and apt-get; otherwise
# the script prints the command to run.

# Why each group is needed, and its packages.
why_build="tinycdb's cdb.h and libcdb.a, to compile and link the rules code; OpenSSL 3's headers and libraries, for tlsserver and tlsclient; musl-gcc, for the per-connection programs' fast start-up"
why_tests="the reference (Debian's ucspi-tcp 0.88), ucspi-tcp-ipv6 unpacked beside it (src/oracle-ipv6.sh) and the tools the tests run"
why_sanitizers="the ASan and UBSan runtimes of the compiler, for the sanitizer suite"
why_services="the supervisors the service examples are tested with"
why_package="the tools that build and check the Debian package"
# musl-tools is optional: without it argv0 and tcprulescheck are linked
# with glibc (src/startup.mk), and start about 3 times slower.
pkgs_build="libcdb-dev libssl-dev musl-tools"
why_bench="perf, to count the servers' system calls, and ipsvd's tcpsvd, an anchor of make bench"
# haproxy: a real balancer sending PROXY v1/v2 headers and health checks
# (tests/proxy_haproxy.t); systemd: systemd-socket-activate, to hand
# tcpserver its listening sockets without a running systemd
# (tests/supervisor_activation.t); cppcheck and clang-tidy: the static
# checks of the sources (tests/static_checks.t, with gcc -fanalyzer).
# openssl, gnutls-bin, curl, swaks, python3: real TLS clients (and
# openssl s_server a real server) for tests/tls_*.t; stunnel4, hitch:
# the TLS peers tlsserver is compared with (make bench, bench/tls.pl).
pkgs_tests="ucspi-tcp tinycdb perl valgrind strace groff-base iproute2 haproxy systemd cppcheck clang-tidy openssl gnutls-bin curl swaks stunnel4 hitch python3"
pkgs_sanitizers="libasan8 libubsan1 libclang-rt-14-dev"
pkgs_services="daemontools runit s6"
pkgs_package="build-essential debhelper devscripts lintian libcdb-dev po-debconf libssl-dev"
# make bench only (not make deps' default): linux-perf for perf stat;
# ipsvd for tcpsvd, the peer server measured beside ours (Debian's
# busybox has no tcpsvd applet).
pkgs_bench="linux-perf ipsvd"

say() { echo "deps: $*"; }

installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q ' installed$'
}

# 0 if the compiler (DEPS_CC, from the Makefile) preprocesses cdb.h.
cdb_works() {
  printf '#include <cdb.h>\n' | ${DEPS_CC:-cc} -E -x c - >/dev/null 2>&1
}

# 0 if the compiler preprocesses OpenSSL's ssl.h.
ssl_works() {
  printf '#include <openssl/ssl.h>\n' | ${DEPS_CC:-cc} -E -x c - >/dev/null 2>&1
}

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

# The packages of group $1 that are missing.  The build and sanitizer
# groups are judged by what the compiler can do, not by package names,
# so that a tinycdb or a runtime from elsewhere counts too.
missing() {
  case $1 in
    build)
      out=""
      cdb_works || out=libcdb-dev
      ssl_works || out="$out libssl-dev"
      command -v musl-gcc >/dev/null 2>&1 || out="$out musl-tools"
      echo $out
      return 0 ;;
    sanitizers)
      san_works && return 0
      # The runtime of the compiler in use is enough.
      case $(${DEPS_CC:-cc} --version 2>/dev/null | head -n 1) in
        *clang*) echo libclang-rt-14-dev; return 0 ;;
        *) echo libasan8 libubsan1; return 0 ;;
      esac ;;
  esac
  eval "list=\$pkgs_$1"
  out=""
  for p in $list; do
    installed "$p" || out="$out $p"
  done
  echo $out
}

can_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ $updated = 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed; trying with the lists there are"
    updated=1
  fi
  log=$(mktemp) || return 1
  apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1
  rc=$?
  [ $rc = 0 ] || sed 's/^/deps:   /' "$log" | tail -n 3
  rm -f "$log"
  return $rc
}

status=0
for group in "$@"; do
  case $group in
    build|tests|sanitizers|services|package|bench) ;;
    *) say "unknown group $group (build tests sanitizers services package bench)"; exit 100 ;;
  esac
  eval "why=\$why_$group"
  [ "$group" = tests ] && sh "$(dirname "$0")/oracle-ipv6.sh"
  need=$(missing "$group")
  if [ -z "$need" ]; then
    say "$group: present ($why)"
    continue
  fi
  if ! can_install; then
    say "$group: missing $need ($why): run apt-get install $need as root"
    [ "$group" = build ] && status=111
    continue
  fi
  say "$group: installing $need ($why)"
  if [ "$group" = build ]; then
    for p in $need; do
      apt_install "$p" || say "build: unable to install $p"
    done
    cdb_works && ssl_works || { say "build: tinycdb or OpenSSL is still missing"; status=111; }
    continue
  fi
  if [ "$group" = sanitizers ]; then
    apt_install $need && san_works || say "sanitizers: still no ASan/UBSan runtime for ${DEPS_CC:-cc}: the sanitizer suite will fail"
    continue
  fi
  # One at a time, so that a package missing from the mirror cannot
  # cost the others.
  failed=""
  for p in $need; do
    apt_install "$p" || failed="$failed $p"
  done
  [ -z "$failed" ] || say "$group: unable to install$failed: the tests that need them skip"
done
exit $status
