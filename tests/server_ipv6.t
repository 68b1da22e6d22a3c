#!/usr/bin/perl
# IPv6: ::1, dual-stack ::, -6 IPv6-only, TCP6 variables, bracketed log
# addresses, address forms and -4/-6 name resolution.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use IO::Socket::IP;
use Test::More;

need_ours('tcpserver', 'tcprules');
my $private = private_net();
if (!IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0)) {
  skip_all('no IPv6 loopback');
}
my $t = tmpdir();
my $show = 'env | grep -E "^(PROTO|TCP|X=)" | LC_ALL=C sort';
sub run_one {
  my ($opts, $host, $peer) = @_;
  my $s = start_server(ours('tcpserver'), ['-v', '-HR', '-l', 'x', @$opts, $host, '0', 'sh', '-c', $show]);
  my $out = fetch($s->{port}, undef, $peer);
  log_settled($s);
  stop_server($s);
  $out =~ s/PORT=\d+/PORT=N/g;
  return ($out, normalise(slurp($s->{log})), $s->{port});
}

my ($out, $log) = run_one([], '::1', '::1');
is($out, join('', map { "$_\n" } 'PROTO=TCP6', 'TCP6LOCALHOST=x', 'TCP6LOCALIP=::1',
   'TCP6LOCALPORT=N', 'TCP6REMOTEIP=::1', 'TCP6REMOTEPORT=N', 'TCPLOCALHOST=x',
   'TCPLOCALIP=::1', 'TCPLOCALPORT=N', 'TCPREMOTEIP=::1', 'TCPREMOTEPORT=N'),
   '::1: PROTO=TCP6, the TCP and TCP6 variables');
like($log, qr/^tcpserver: pid PID from \[::1\]$/m, 'pid line: address in brackets');
like($log, qr/^tcpserver: ok PID x:\[::1\]:LPORT :\[::1\]::RPORT$/m, 'ok line: addresses in brackets');

($out) = run_one([], '[::1]', '::1');
like($out, qr/^TCPLOCALIP=::1$/m, '[::1] accepted');
($out) = run_one([], '0:0::0:1', '::1');
like($out, qr/^TCPLOCALIP=::1$/m, 'any textual form accepted');

SKIP: {
# Wildcard binds only where nothing but loopback exists.
skip 'no private network namespace for binding ::', 9 unless $private;
# Dual stack: an IPv4 client on :: is plain IPv4, and IPv4 rules apply.
make_rules("$t/r.cdb", "127.0.0.1:allow,X=\"v4rule\"\n::1:allow,X=\"v6rule\"\n");
my $s = start_server(ours('tcpserver'), ['-v', '-HRl', 'x', '-x', "$t/r.cdb", '::', '0', 'sh', '-c', $show]);
$out = fetch($s->{port}, undef, '127.0.0.1');
my $out6 = fetch($s->{port}, undef, '::1');
log_settled($s);
stop_server($s);
like($out, qr/^PROTO=TCP\nTCPLOCALHOST=x\nTCPLOCALIP=127\.0\.0\.1\n/, ':: with a v4 client: PROTO=TCP, dotted addresses');
like($out, qr/^TCPREMOTEIP=127\.0\.0\.1$/m, 'v4-mapped folded in TCPREMOTEIP');
unlike($out, qr/^TCP6/m, 'no TCP6 variables for IPv4');
like($out, qr/^X=v4rule$/m, 'the IPv4 rule applies');
like($out6, qr/^PROTO=TCP6$/m, ':: with a v6 client: TCP6');
like($out6, qr/^X=v6rule$/m, 'the IPv6 rule applies');
like(slurp($s->{log}), qr/^tcpserver: ok \d+ x:127\.0\.0\.1:\d+ :127\.0\.0\.1::\d+$/m,
     'v4 client on :: logged exactly as on IPv4');

# -6: IPv6 only.
$s = start_server(ours('tcpserver'), ['-6', '-HRl', 'x', '::', '0', 'echo', 'hi']);
is(fetch($s->{port}, undef, '::1'), "hi\n", '-6 :: serves ::1');
is(fetch($s->{port}, undef, '127.0.0.1'), '', '-6 :: refuses an IPv4 client');
stop_server($s);
}

# Names: -4 picks IPv4; "localhost" has no IPv6 address here.
my $s4 = start_server(ours('tcpserver'), ['-4', '-HRl', 'x', 'localhost', '0', 'echo', 'hi']);
is(fetch($s4->{port}), "hi\n", '-4 localhost: 127.0.0.1');
stop_server($s4);

# Bad forms.
my $msg = `timeout 5 @{[ours('tcpserver')]} -HRl x ':::' 0 true 2>&1`;
is($? >> 8, 111, '::: is no address: exit 111');
like($msg, qr/^tcpserver: fatal: no IP address for :::$/, '::: message');
$msg = `timeout 5 @{[ours('tcpserver')]} -I no-such-if0 -HRl x fe80::1 0 true 2>&1`;
like($msg, qr/^tcpserver: fatal: unable to find interface no-such-if0$/, '-I unknown interface');
$msg = `timeout 5 @{[ours('tcpserver')]} -HRl x fe80::1%no-such-if0 0 true 2>&1`;
like($msg, qr/^tcpserver: fatal: no IP address for fe80::1%no-such-if0$/, 'unknown %scope');
$msg = `timeout 5 @{[ours('tcpserver')]} -HRl x fe80::1%lo 0 true 2>&1`;
like($msg, qr/^tcpserver: fatal: unable to bind: address not available$/,
     'link-local with %lo parsed (and not present: cannot bind)');
done_testing();
