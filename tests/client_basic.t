#!/usr/bin/perl
# tcpclient against a plain listener on 127.0.0.1 and ::1: environment,
# fds 6/7, -v, -i/-p, refused, -q, -T against a full backlog, service
# names, usage errors, IPv6; and the same output as the reference's.
use strict;
use warnings;
use IO::Socket::IP;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpclient');
my $tc = ours('tcpclient');
my $ref = have_ref('tcpclient') ? ref_bin('tcpclient') : undef;

# Run a command line (list), stdin empty, at most 10 s: (exit code,
# stdout, stderr).
sub run {
  my $r = run_cmd([@_], stdin => '/dev/null', timeout => 10);
  return ($r->{status}, $r->{out}, $r->{err});
}

# A listener that, for each connection, says who connected, then
# answers one line.
sub server {
  my ($host) = @_;
  my ($pid, $port) = fake_server(sub {
    my ($c) = @_;
    print $c "hello ", $c->peerhost, " ", $c->peerport, "\n";
    my $line = <$c>;
    print $c "got ", defined $line ? $line : "nothing\n";
  }, host => $host);
  return $port;
}

my $P = server('127.0.0.1') or die "no listener";
my $show = 'for v in PROTO TCPLOCALIP TCPLOCALPORT TCPLOCALHOST TCPREMOTEIP TCPREMOTEPORT'
  . ' TCPREMOTEHOST TCPREMOTEINFO TCP6REMOTEIP TCP6LOCALIP TCP6REMOTEPORT TCP6LOCALPORT'
  . ' TCP6LOCALHOST TCP6REMOTEHOST TCP6REMOTEINFO TCP6INTERFACE;'
  . ' do eval "[ -n \"\${$v+x}\" ] && echo $v=\$$v"; done';

# Environment and descriptors.
my ($rc, $out, $err) = run('env', 'TCPREMOTEHOST=stale', 'TCPREMOTEINFO=stale', 'TCP6REMOTEIP=stale',
  $tc, '-RHl0', '127.0.0.1', $P, 'sh', '-c',
  "$show; read greeting <&6; echo \"\$greeting\"; echo ping >&7; read reply <&6; echo \"\$reply\";"
  . ' for fd in 6 7; do readlink /proc/$$/fd/$fd; done');
my %env = %{ env_of($out) };
ok($rc == 0, 'connected, exit code of the program');
ok(($env{PROTO} // '') eq 'TCP' && $env{TCPLOCALIP} eq '127.0.0.1' && $env{TCPREMOTEIP} eq '127.0.0.1'
   && $env{TCPREMOTEPORT} eq $P && $env{TCPLOCALHOST} eq '0', 'PROTO, TCPLOCALIP, TCPREMOTEIP, TCPREMOTEPORT, -l 0')
  or diag($out);
ok(!exists $env{TCPREMOTEHOST} && !exists $env{TCPREMOTEINFO} && !exists $env{TCP6REMOTEIP},
   '-H -R: TCPREMOTEHOST and TCPREMOTEINFO removed, no TCP6 variables for IPv4');
my ($greet_port) = $out =~ /^hello 127\.0\.0\.1 (\d+)$/m;
ok(defined $greet_port && $greet_port eq $env{TCPLOCALPORT}, 'fd 6 reads from the server; TCPLOCALPORT is our port');
ok($out =~ /^got ping$/m, 'fd 7 writes to the server');
ok($out =~ /^socket:\[\d+\]\nsocket:\[\d+\]$/m, 'fds 6 and 7 are the socket');
ok($err eq '', 'nothing on stderr without -v');

# -h and no -l: names from the system's resolver, or nothing.
{
  use Socket qw(inet_aton AF_INET);
  my $name = gethostbyaddr(inet_aton('127.0.0.1'), AF_INET);
  my $want = defined $name && $name ne '' ? lc($name) : 'unset';
  ($rc, $out) = run($tc, '-R', '127.0.0.1', $P, 'sh', '-c',
    'echo "${TCPLOCALHOST-unset} ${TCPREMOTEHOST-unset}"');
  ok($rc == 0 && $out eq "$want $want\n", "-h: TCPREMOTEHOST and TCPLOCALHOST looked up ($want)") or diag($out);
}

# The child keeps fds 0-2.
($rc, $out, $err) = run($tc, '-RHl0', '127.0.0.1', $P, 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exec 6<&- 7>&-');
ok($out eq "to-stdout\n" && $err eq "to-stderr\n", 'the program keeps stdout and stderr');

# -v
($rc, $out, $err) = run($tc, '-v', '-RHl0', '0', $P, 'true');
ok($rc == 0 && $err eq "tcpclient: connected to 127.0.0.1 port $P\n", '-v line; host 0 is 127.0.0.1') or diag($err);
($rc, $out, $err) = run($tc, '-v', '-RHl0', '', $P, 'true');
ok($rc == 0 && $err eq "tcpclient: connected to 127.0.0.1 port $P\n", 'empty host is 127.0.0.1');

# -i and -p: the local end.
my $lport = free_port();
($rc, $out) = run($tc, '-RHl0', '-i', '127.0.0.1', '-p', $lport, '127.0.0.1', $P, 'sh', '-c',
  'read g <&6; echo "$g"; echo "local $TCPLOCALIP $TCPLOCALPORT"');
ok($rc == 0 && $out =~ /^hello 127\.0\.0\.1 $lport$/m && $out =~ /^local 127\.0\.0\.1 $lport$/m, '-i and -p bind the local end')
  or diag($out);

# Refused, -q.
my $C = free_port();
($rc, $out, $err) = run($tc, '-RHl0', '127.0.0.1', $C, 'echo', 'ran');
ok($rc == 111 && $out eq '' && $err eq "tcpclient: unable to connect to 127.0.0.1 port $C: connection refused\n",
   'refused: message, exit 111, program not run') or diag($err);
($rc, $out, $err) = run($tc, '-q', '-RHl0', '127.0.0.1', $C, 'true');
ok($rc == 111 && $err eq '', '-q: silent, still exit 111');
($rc, $out, $err) = run($tc, '-q', '-Q', '-RHl0', '127.0.0.1', $C, 'true');
ok($rc == 111 && $err ne '', '-Q after -q speaks again');
($rc, $out, $err) = run($tc, '-q');
ok($rc == 100 && $err eq '', '-q silences the usage message after the options');

# Service names.
($rc, $out, $err) = run($tc, '-RHl0', '127.0.0.1', 'nosuchservice', 'true');
ok($rc == 111 && $err eq "tcpclient: fatal: unable to figure out port number for nosuchservice\n", 'unknown service name');
SKIP: {
  skip('no tcpmux in /etc/services', 1) unless getservbyname('tcpmux', 'tcp');
  ($rc, $out, $err) = run($tc, '-RHl0', '-T', '2', '127.0.0.1', 'tcpmux', 'true');
  ok($err =~ /^tcpclient: unable to connect to 127\.0\.0\.1 port 1: /, 'service name tcpmux is port 1');
}

# Usage errors.
my $usage = "tcpclient: usage: tcpclient [ -hHrRdDqQv ] [ -i localip ] [ -p localport ] [ -T timeoutconn ] [ -l localname ] [ -t timeoutinfo ] host port program\n";
for my $case (
  [[], '', 'no arguments'],
  [['127.0.0.1'], '', 'no port'],
  [['127.0.0.1', $P], '', 'no program'],
  [['-i', 'bad', '127.0.0.1', $P, 'true'], '', 'bad -i'],
  [['-Z', '127.0.0.1', $P, 'true'], "tcpclient: illegal option -- Z\n", 'unknown option'],
  [['-q', '-Z', '127.0.0.1', $P, 'true'], "tcpclient: illegal option -- Z\n", 'unknown option after -q'],
  [['-i'], "tcpclient: option requires an argument -- i\n", 'missing option argument'],
) {
  my ($args, $pre, $name) = @$case;
  ($rc, $out, $err) = run($tc, @$args);
  ok($rc == 100 && $err eq $pre . $usage, "usage: $name") or diag($err);
}
($rc, $out, $err) = run($tc, '-RHl0', 'nosuch.invalid', $P, 'true');
ok($rc == 111 && $err eq "tcpclient: fatal: no IP address for nosuch.invalid\n", 'unknown host');

# -T against a listener whose backlog is full (it drops the SYNs).
my $full = IO::Socket::IP->new(Listen => 0, LocalHost => '127.0.0.1', LocalPort => 0);
my $F = $full->sockport;
my @held;
my $filled = 0;
for (1 .. 2000) {
  my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $F, Timeout => 0.3);
  if (!$s) { $filled = 1; last }
  push @held, $s;
}
SKIP: {
  skip('backlog does not fill here', 2) unless $filled;
  ($rc, $out, $err) = run($tc, '-RHl0', '-T', '1', '127.0.0.1', $F, 'echo', 'ran');
  ok($rc == 111 && $out eq '' && $err eq "tcpclient: unable to connect to 127.0.0.1 port $F: timed out\n",
     '-T 1: timed out, exit 111') or diag($err);
  ($rc, $out, $err) = run($tc, '-q', '-RHl0', '-T', '0+1', '127.0.0.1', $F, 'true');
  ok($rc == 111 && $err eq '', '-T 0+1 with -q');
}
@held = (); close $full;

# IPv6 over ::1.
my $P6 = server('::1');
SKIP: {
  skip('no ::1', 10) unless $P6;
  ($rc, $out, $err) = run($tc, '-v', '-RHl0', '::1', $P6, 'sh', '-c', "$show; read g <&6; echo \"\$g\"");
  %env = %{ env_of($out) };
  ok($rc == 0 && $env{PROTO} eq 'TCP6' && $env{TCPREMOTEIP} eq '::1' && $env{TCPLOCALIP} eq '::1'
     && $env{TCP6REMOTEIP} eq '::1' && $env{TCP6LOCALIP} eq '::1' && $env{TCP6REMOTEPORT} eq $P6
     && $env{TCP6LOCALPORT} eq $env{TCPLOCALPORT} && $env{TCP6LOCALHOST} eq '0'
     && !exists $env{TCP6REMOTEHOST} && !exists $env{TCP6INTERFACE}, 'IPv6: PROTO=TCP6, TCP and TCP6 variables')
    or diag($out);
  ok($err eq "tcpclient: connected to [::1] port $P6\n", 'IPv6 -v line: address in brackets') or diag($err);
  ($rc, $out) = run($tc, '-RHl0', '[::1]', $P6, 'sh', '-c', 'read g <&6; echo "$g"');
  ok($rc == 0 && $out =~ /^hello ::1 \d+$/, 'bracketed [::1]');
  ($rc, $out) = run($tc, '-6', '-RHl0', '0', $P6, 'sh', '-c', 'echo $TCPREMOTEIP');
  ok($rc == 0 && $out eq "::1\n", '-6 makes host 0 ::1');
  ($rc, $out, $err) = run($tc, '-4', '-RHl0', '::1', $P6, 'true');
  ok($rc == 111 && $err eq "tcpclient: fatal: no IP address for ::1\n", '-4 refuses an IPv6 address');
  ($rc, $out, $err) = run($tc, '-RHl0', '-i', '::1', '::1', $P6, 'sh', '-c', 'echo $TCPLOCALIP');
  ok($rc == 0 && $out eq "::1\n", '-i ::1');
  ($rc, $out, $err) = run($tc, '-RHl0', '::1', $C, 'true');
  ok($rc == 111 && $err =~ /^tcpclient: unable to connect to \[::1\] port $C: connection refused\n\z/,
     'IPv6 refused: address in brackets');
  ($rc, $out, $err) = run($tc, '-RHl0', '-T', '1', 'fe80::1%lo', $C, 'true');
  ok($rc == 111 && $err =~ /^tcpclient: unable to connect to \[fe80::1%lo\] port $C: /, 'link-local with %ifname')
    or diag($err);
  ($rc, $out, $err) = run($tc, '-RHl0', '-T', '1', '-I', 'lo', 'fe80::1', $C, 'true');
  ok($rc == 111 && $err =~ /^tcpclient: unable to connect to \[fe80::1%lo\] port $C: /, 'link-local with -I ifname')
    or diag($err);
  ($rc, $out, $err) = run($tc, '-RHl0', '-I', 'nosuchif0', 'fe80::1', $C, 'true');
  ok($rc == 100, '-I with an unknown interface: usage');
}

# The reference, side by side (its DNS-only host lookup aside).
SKIP: {
  skip('no reference tcpclient', 19) unless $ref;
  my $norm = sub { my ($s) = @_; $s =~ s/^TCPLOCALPORT=\d+$/TCPLOCALPORT=N/mg; $s =~ s/^hello 127.0.0.1 \d+$/hello/mg; $s };
  for my $args (
    ['-RHl0', '127.0.0.1', $P, 'sh', '-c', "$show; read g <&6; echo \"\$g\"; echo x >&7; read r <&6; echo \"\$r\""],
    ['-v', '-RHl0', '0', $P, 'true'],
    ['-v', '-RHl', '', '', $P, 'sh', '-c', $show],
    ['-RHl0', '127.0.0.1', $C, 'true'],
    ['-v', '-RHl0', '127.0.0.1', $C, 'true'],
    ['-q', '-RHl0', '127.0.0.1', $C, 'true'],
    ['-RHl0', '127.0.0.1', 'nosuchservice', 'true'],
    ['-i', '127.0.0.1', '-RHl0', '127.0.0.1', $P, 'sh', '-c', 'echo $TCPLOCALIP'],
    ['-d', '-D', '-h', '-H', '-r', '-R', '-t', '1', '-l', 'me', '127.0.0.1', $P, 'sh', '-c', $show],
    [], ['-q'], ['0'], ['0', $P], ['-Z'], ['-vZ'], ['-i'], ['-i', 'bad', '0', $P, 'true'],
    ['-T', '1', '-p', '0', '-RHl0', '127.0.0.1', $C, 'true'],
    ['--', '-RHl0', '0', $P, 'true'],
  ) {
    my @a = @$args;
    my ($orc, $oout, $oerr) = run($tc, @a);
    my ($rrc, $rout, $rerr) = run($ref, @a);
    my $ours = "$orc\n" . $norm->($oout) . $oerr;
    my $theirs = "$rrc\n" . $norm->($rout) . $rerr;
    ok($ours eq $theirs, "same as the reference: tcpclient @a") or diag("ours:\n$ours\nreference:\n$theirs");
  }
}
done_testing();
