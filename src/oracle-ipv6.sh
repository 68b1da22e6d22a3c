#!/bin/sh
# make deps, tests group: Debian's ucspi-tcp-ipv6, the second oracle of
# the differential tests (tests/ipv6_*.t).  It conflicts with ucspi-tcp,
# the first oracle, so it is never installed: its .deb is fetched with
# apt-get download and unpacked with dpkg -x into DIR, where
# tests/lib/Ucspi.pm (ipv6_bin) looks for it; a test skips when it is
# absent.  DIR: UCSPI_IPV6_ORACLE, default
# /var/cache/ucspi-tcp-modern/ucspi-tcp-ipv6.
dir=${UCSPI_IPV6_ORACLE:-/var/cache/ucspi-tcp-modern/ucspi-tcp-ipv6}
say() { echo "deps: $*"; }

if [ -x "$dir/usr/bin/tcpserver" ]; then
  say "tests: ucspi-tcp-ipv6 present in $dir (the second oracle, unpacked, not installed)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "tests: ucspi-tcp-ipv6 missing (the second oracle): as root run"
  say "  cd /tmp && apt-get download ucspi-tcp-ipv6 && dpkg -x ucspi-tcp-ipv6_*.deb $dir"
  exit 0
fi
work=$(mktemp -d) || exit 0
# apt's download user cannot write to a private directory: let it.
chmod 755 "$work"
chown _apt "$work" 2>/dev/null
if (cd "$work" && apt-get download -qq ucspi-tcp-ipv6 >"$work/log" 2>&1) &&
   mkdir -p "$dir" && dpkg -x "$work"/ucspi-tcp-ipv6_*.deb "$dir"; then
  say "tests: ucspi-tcp-ipv6 unpacked in $dir (the second oracle, not installed: it conflicts with ucspi-tcp)"
else
  sed 's/^/deps:   /' "$work/log" 2>/dev/null | tail -n 3
  say "tests: unable to fetch ucspi-tcp-ipv6: the tests against it skip"
fi
rm -rf "$work"
exit 0
