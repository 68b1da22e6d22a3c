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
like($f{Provides}, qr/\bucspi-tcp \(= \Q$version\E\)/, 'provides ucspi-tcp, so that its dependents stay satisfied');
like($f{Provides}, qr/\bucspi-tcp-ipv6\b/, 'provides ucspi-tcp-ipv6');
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

ok(run_log("dpkg --root=$root --force-not-root --purge $pkg", "$tmp/purge.log"), 'the package purges');
my @left = grep { !m{/(doc|man|man1|man5|bin|share|usr)$} } split /\n/, `find $u -mindepth 1 2>/dev/null`;
is("@left", '', 'nothing of it is left in /usr');
my @info = glob("$root/var/lib/dpkg/info/$pkg.*");
is("@info", '', 'nor in the dpkg database');
done_testing();
