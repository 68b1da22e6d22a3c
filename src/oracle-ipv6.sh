#!/bin/sh
# make deps, tests group: Debian's ucspi-tcp-ipv6, the second oracle of
# the differential tests (tests/ipv6_*.t).  (No packages installed.)  It conflicts with ucspi-tcp,
# the first oracle, so it is never installed: its .deb is fetched with
# apt-get download and unpacked with dpkg -x into DIR, where
# tests/lib/Ucspi.pm (ipv6_bin) looks for it; a test skips when it is
# absent.  DIR: UCSPI_IPV6_ORACLE, default
# /var/cache/ucspi-tcp-modern/ucspi-tcp-ipv6.
# Beside it, in UCSPI_DJBDNS (default /var/cache/ucspi-tcp-modern/djbdns),
# Debian's axfrdns and tinydns, unpacked the same way: the service that
# tests/ipv6_djbdns.t runs under either tcpserver.
dir=${UCSPI_IPV6_ORACLE:-/var/cache/ucspi-tcp-modern/ucspi-tcp-ipv6}
djbdns=${UCSPI_DJBDNS:-/var/cache/ucspi-tcp-modern/djbdns}
say() { echo "deps: $*"; }

# unpack DIR TEST PACKAGE...: each package's .deb unpacked into DIR,
# unless the file TEST is there already.
unpack() {
  to=$1 test=$2
  shift 2
  [ -e "$to/$test" ] && { say "tests: $* present in $to (unpacked, not installed)"; return 0; }
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "tests: $* missing (tests compare with them): as root run"
    say "  cd /tmp && apt-get download $* && for d in $(printf '%s_*.deb ' "$@"); do dpkg -x \$d $to; done"
    return 0
  fi
  work=$(mktemp -d) || return 0
  # apt's download user must be able to write there.
  chmod 755 "$work"
  chown _apt "$work" 2>/dev/null
  ok=0
  if (cd "$work" && apt-get download -qq "$@" >"$work/log" 2>&1) && mkdir -p "$to"; then
    ok=1
    for deb in "$work"/*.deb; do dpkg -x "$deb" "$to" || ok=0; done
  fi
  if [ $ok = 1 ]; then
    say "tests: $* unpacked in $to (not installed)"
  else
    sed 's/^/deps:   /' "$work/log" 2>/dev/null | tail -n 3
    say "tests: unable to fetch $*: the tests that compare with them skip"
  fi
  rm -rf "$work"
}

unpack "$dir" usr/bin/tcpserver ucspi-tcp-ipv6
unpack "$djbdns" usr/sbin/axfrdns axfrdns tinydns
exit 0
