#!/usr/bin/perl
# make deb-check: the Debian package built from a clean clone of the
# committed tree, its control fields, installed into a scratch root (over
# Debian's ucspi-tcp when that can be downloaded), the installed programs
# tried, removed without a trace, and lintian without errors.  Never
# touches the machine's own /usr.  Slow (a build and lintian): run only
# when UCSPI_DEB_CHECK=1, as make deb-check sets it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::IP;

plan skip_all => 'the package test: make deb-check (UCSPI_DEB_CHECK=1)' unless $ENV{UCSPI_DEB_CHECK};
for (qw(git dpkg-buildpackage dpkg-deb dpkg lintian)) {
  plan skip_all => "no $_ (make deps DEPS=package)" if system("command -v $_ >/dev/null 2>&1") != 0;
}
# A make that runs this test exports its command-line variables (B,
# EXTRA_CFLAGS of make asan, ...): none may reach the make run here.
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES B EXTRA_CFLAGS EXTRA_LDFLAGS
  NOSTRIP STATIC WERROR CHECK_ASAN DESTDIR PREFIX DOCDIR DEPS)};
my $tmp = tempdir(CLEANUP => 1);
sub run_log { my ($cmd, $log) = @_; my $rc = system("$cmd >$log 2>&1"); diag(`tail -n 30 $log`) if $rc; $rc == 0 }

chomp(my $top = `git rev-parse --show-toplevel`);
chomp(my $head = `git rev-parse HEAD`);
chomp(my $version = slurp('VERSION'));
my ($pkg) = slurp('debian/control') =~ /^Package: (\S+)/m;
ok(run_log("git clone -q --no-checkout '$top' $tmp/src && git -C $tmp/src checkout -q $head", "$tmp/clone.log"),
  "clean clone of the committed tree ($head)") or BAIL_OUT('no clone');
my $t0 = time;
ok(run_log("make -C $tmp/src deb", "$tmp/deb.log"), 'make deb in the clone') or BAIL_OUT('no package');
diag('make deb: ' . (time - $t0) . ' s');
my ($deb) = glob("$tmp/src/${pkg}_${version}_*.deb");
ok(defined $deb && -f $deb, "make deb leaves ${pkg}_${version}_ARCH.deb in the tree") or BAIL_OUT('no .deb');

my %f = map { $_ => scalar `dpkg-deb -f '$deb' $_` } qw(Package Version Provides Conflicts Replaces);
chomp %f;
is($f{Version}, $version, 'the package version is VERSION');
like($f{Provides}, qr/\bucspi-tcp \(= 1:\Q$version\E\)/,
  'provides ucspi-tcp with Debian\'s epoch, so that its dependents (>= 1:0.88 too) stay satisfied');
like($f{Provides}, qr/\bucspi-tcp-ipv6 \(= 1:\Q$version\E\)/, 'provides ucspi-tcp-ipv6 likewise');
for my $rel (qw(Conflicts Replaces)) {
  like($f{$rel}, qr/\bucspi-tcp\b(?!-)/, "$rel: ucspi-tcp");
  like($f{$rel}, qr/\bucspi-tcp-ipv6\b/, "$rel: ucspi-tcp-ipv6");
}

# lintian: no errors (the deliberate static links are overridden, with
# the reason, in debian/).
my $lint = `lintian --fail-on error '$deb' 2>&1`;
is($?, 0, 'lintian: no errors') or diag($lint);
diag("lintian: $_") for grep { /^[WEI]:/ } split /\n/, $lint;

# A scratch root with an empty dpkg database.
my $root = "$tmp/root";
system('mkdir', '-p', "$root/var/lib/dpkg/info", "$root/var/lib/dpkg/updates") == 0 or die;
open my $st, '>', "$root/var/lib/dpkg/status" or die;
close $st;
my $dpkg = "dpkg --root=$root --force-depends --force-not-root";
sub status_of { my ($p) = @_; my $s = `dpkg-query --root=$root -W -f='\${Status}' $p 2>/dev/null`; $s }

SKIP: {
  my $got_ref = system("cd $tmp && apt-get download ucspi-tcp >$tmp/download.log 2>&1") == 0;
  my ($ref) = glob("$tmp/ucspi-tcp_*.deb");
  skip "Debian's ucspi-tcp cannot be downloaded: " . slurp("$tmp/download.log"), 2 unless $got_ref && $ref;
  ok(run_log("$dpkg -i $ref", "$tmp/ref.log"), "Debian's ucspi-tcp installed in the scratch root first");
  ok(-x "$root/usr/bin/tcpserver", 'its tcpserver is there');
}
ok(run_log("$dpkg -i '$deb'", "$tmp/install.log"), 'the package installs (replacing ucspi-tcp if there)');
like(status_of($pkg), qr/install ok installed/, "$pkg is installed");
unlike(status_of('ucspi-tcp'), qr/ installed/, 'Debian\'s ucspi-tcp is gone');

my $u = "$root/usr";
my @progs = qw(tcpserver tcprules tcprulescheck tcpclient recordio rblsmtpd addcr delcr fixcrio argv0
  mconnect-io tcpcat mconnect who@ date@ finger@ http@);
my @missing = grep { !-x "$u/bin/$_" } @progs;
is("@missing", '', 'every program in /usr/bin');
my $doc = "$u/share/doc/$pkg";
for my $d (qw(copyright rules.example examples/daemontools/echo/run examples/qmail-smtpd/run examples/systemd/ucspi-echo.socket)) {
  ok(-f "$doc/$d", "$doc/$d");
}
ok(-f "$doc/README" || -f "$doc/README.gz", 'README in the doc directory');
like(`zcat $u/share/man/man1/tcpserver.1.gz`, qr/^\.TH tcpserver 1 "[^"]*" "ucspi-tcp \Q$version\E"/m,
  'the man page shows the version');
like(slurp("$u/bin/date\@"), qr{/usr/bin/tcpclient}, 'the scripts call /usr/bin');

# The installed programs at work.
is(system("$u/bin/tcprules $tmp/r.cdb $tmp/r.tmp < $doc/rules.example"), 0, 'tcprules compiles rules.example');
like(`TCPREMOTEIP=10.1.2.3 $u/bin/tcprulescheck $tmp/r.cdb`, qr/^rule 10\.0\.0\.0\/8:\n.*allow connection/ms,
  'tcprulescheck answers');
my $pid = open(my $srv, '-|', "exec $u/bin/tcpserver -1 -R -H -l 0 127.0.0.1 0 echo installed");
my $port;
eval {
  local $SIG{ALRM} = sub { die "timeout\n" };
  alarm 10;
  $port = <$srv>;
  chomp $port if defined $port;
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port) or die "connect: $!\n";
  my $line = <$c>;
  is($line, "installed\n", "the installed tcpserver -1 serves a connection (port $port)");
  alarm 0;
};
alarm 0;
is($@, '', 'no timeout');
kill 'TERM', $pid;
close $srv;

# apt's view on this machine, simulated (-s changes nothing): the package
# goes in, Debian's ucspi-tcp (if installed here) goes out, and nothing
# that depends on ucspi-tcp is removed with it.
SKIP: {
  skip 'no apt-get', 2 if system('command -v apt-get >/dev/null 2>&1') != 0;
  my $sim = `apt-get -s install '$deb' 2>&1`;
  like($sim, qr/^Inst \Q$pkg\E /m, 'apt install ./the.deb would install it') or diag($sim);
  my @removed = grep { !/^ucspi-tcp(-ipv6)? / } map { /^Remv (\S+ .*)/ ? $1 : () } split /\n/, $sim;
  is("@removed", '', 'and remove nothing but ucspi-tcp/ucspi-tcp-ipv6');
}

swap_tests();

ok(run_log("dpkg --root=$root --force-not-root --purge $pkg", "$tmp/purge.log"), 'the package purges');
my @left = grep { !m{/(doc|man|man1|man5|bin|share|usr)$} } split /\n/, `find $u -mindepth 1 2>/dev/null`;
is("@left", '', 'nothing of it is left in /usr');
my @info = glob("$root/var/lib/dpkg/info/$pkg.*");
is("@info", '', 'nor in the dpkg database');
done_testing();

# The swap with ucspi-tcp-ipv6 as apt resolves it, djbdns-utils and
# axfrdns installed: dpkg status files made from this machine's, with
# ucspi-tcp-ipv6, djbdns-utils, axfrdns and what they need declared
# installed (apt-cache's records; nothing is unpacked or run), and a
# package that needs ucspi-tcp (>= 1:0.88) and ucspi-tcp-ipv6
# (>= 1:0.88).  apt-get -s changes nothing.  Then the same swap done by
# dpkg in a scratch root, with ucspi-tcp-ipv6's files really installed.
sub swap_tests {
  SKIP: {
    skip 'no apt-get', 10 if system('command -v apt-get >/dev/null 2>&1') != 0;
    my %st;
    {
      local $/ = '';
      open my $f, '<', '/var/lib/dpkg/status' or skip 'no dpkg status', 10;
      while (my $s = <$f>) {
        my ($p) = $s =~ /^Package: (\S+)/m;
        $st{$p} = $s if $p && $s =~ /^Status: install ok installed$/m;
      }
    }
    delete $st{'ucspi-tcp'};
    my $provided = sub {
      my ($n) = @_;
      return $st{$n} || grep { /^Provides:.*(?:^|[ ,])\Q$n\E(?:[ ,(]|$)/m } values %st;
    };
    my $declare;
    $declare = sub {
      my ($p) = @_;
      return 1 if $st{$p};
      my $s = `apt-cache show --no-all-versions '$p' 2>/dev/null`;
      $s =~ s/\n\n.*//s;
      return 0 unless $s =~ /^Package:/;
      $s =~ s/^(Package: .*\n)/$1Status: install ok installed\n/;
      # What only an archive's record holds, dpkg refuses in a status file.
      $s =~ s/^(?:Filename|Size|MD5sum|SHA\d+|Description-md5): .*\n//mg;
      $st{$p} = "$s\n\n";
      my ($deps) = $s =~ /^Depends: (.*)$/m;
      for (split /,\s*/, $deps // '') {
        my ($n) = /^\s*([^\s(|]+)/;
        $declare->($n) unless $provided->($n);
      }
      return 1;
    };
    for (qw(ucspi-tcp-ipv6 djbdns-utils axfrdns)) {
      $declare->($_) or skip "apt knows no $_", 10;
    }
    # A dependent that needs a version: Debian's ucspi-tcp-ipv6 provides
    # ucspi-tcp without one, so it can only be there beside this package
    # or Debian's ucspi-tcp.
    my $versioned = "Package: needs-ucspi-tcp\nStatus: install ok installed\n"
      . "Version: 1\nArchitecture: all\nMaintainer: test <t\@example.org>\n"
      . "Depends: ucspi-tcp (>= 1:0.88)\nDescription: test\n\n";
    my $write = sub {
      my ($file) = @_;
      open my $o, '>', $file or die;
      print $o $st{$_} for sort keys %st;
      close $o;
      return $file;
    };
    my $apt = sub {
      my ($status, @args) = @_;
      my $out = `apt-get -s -o Dir::State::status=$status @args 2>&1`;
      return ($?, $out) if $args[0] eq 'check';
      my @remv = map { /^Remv (\S+)/ ? $1 : () } split /\n/, $out;
      my @inst = map { /^Inst (\S+)/ ? $1 : () } split /\n/, $out;
      diag($out) if $out =~ /^E:/m;
      return ("@inst", join(' ', sort @remv));
    };
    my $with_ipv6 = $write->("$tmp/status-ipv6");
    is_deeply([$apt->($with_ipv6, 'install', $deb)], [$pkg, 'ucspi-tcp-ipv6'],
      'apt install ./the.deb over ucspi-tcp-ipv6: removes it alone; djbdns-utils and axfrdns stay');
    delete $st{'ucspi-tcp-ipv6'};
    my $ours = `dpkg-deb -f '$deb'`;
    $ours =~ s/^(Package: .*\n)/$1Status: install ok installed\n/;
    $st{$pkg} = "$ours\n";
    $st{'needs-ucspi-tcp'} = $versioned;
    my $with_ours = $write->("$tmp/status-ours");
    my ($rc, $out) = $apt->($with_ours, 'check');
    is($rc, 0, 'with it, every dependency holds, ucspi-tcp (>= 1:0.88) too') or diag($out);
    is_deeply([$apt->($with_ours, 'install', 'ucspi-tcp')], ['ucspi-tcp', $pkg],
      'apt install ucspi-tcp goes back: removes this package alone');
    is_deeply([$apt->($with_ours, 'install', 'ucspi-tcp-ipv6')], ['ucspi-tcp-ipv6', "needs-ucspi-tcp $pkg"],
      'apt install ucspi-tcp-ipv6 goes back: djbdns-utils and axfrdns stay (not the versioned dependent)');
    is_deeply([$apt->($with_ours, 'remove', $pkg)], ['', "axfrdns djbdns-utils needs-ucspi-tcp $pkg"],
      'apt remove takes the dependents with it, as README.Debian says');

    # dpkg itself, in a scratch root: ucspi-tcp-ipv6 installed for real,
    # djbdns-utils and axfrdns declared, then this package, then back.
    my $r2 = "$tmp/root2";
    system('mkdir', '-p', "$r2/var/lib/dpkg/info", "$r2/var/lib/dpkg/updates") == 0 or die;
    my $dl = system("cd $tmp && apt-get download ucspi-tcp-ipv6 >$tmp/dl6.log 2>&1") == 0;
    my ($ipv6deb) = glob("$tmp/ucspi-tcp-ipv6_*.deb");
    skip "ucspi-tcp-ipv6 cannot be downloaded: " . slurp("$tmp/dl6.log"), 5 unless $dl && $ipv6deb;
    %st = map { $_ => $st{$_} } grep { /^(libc6|libssl3|debconf|djbdns-utils|axfrdns|needs-ucspi-tcp)$/ } keys %st;
    $write->("$r2/var/lib/dpkg/status");
    my $d2 = "dpkg --root=$r2 --force-not-root";
    my $status2 = sub { scalar `dpkg-query --root=$r2 -W -f='\${Status}' $_[0] 2>/dev/null` };
    ok(run_log("$d2 -i $ipv6deb", "$tmp/ipv6.log"), 'scratch root: ucspi-tcp-ipv6 installed');
    ok(run_log("$d2 -i '$deb'", "$tmp/swap.log"), 'dpkg -i the package: no dependency problem, no --force-depends');
    is(join(' ', map { $status2->($_) =~ / installed$/ ? 'installed' : 'gone' }
      qw(ucspi-tcp-ipv6 djbdns-utils axfrdns needs-ucspi-tcp)), 'gone installed installed installed',
      'ucspi-tcp-ipv6 replaced; djbdns-utils, axfrdns and the (>= 1:0.88) dependent stay');
    my $no = `$d2 --no-act -r $pkg 2>&1`;
    like($no, qr/dependency problems prevent removal/, 'dpkg refuses to remove it alone: it satisfies their ucspi-tcp dependency');
    ok(-x "$r2/usr/bin/tcpserver" && slurp("$r2/usr/bin/tcpserver") eq slurp("$u/bin/tcpserver"),
      'its tcpserver is in place of ucspi-tcp-ipv6\'s');
  }
}
