#!/usr/bin/perl
# tcpclient against our tcpserver (or the reference's when ours is not
# built): both ends agree on the addresses and ports, data flows both
# ways, recordio under tcpserver logs the dialogue.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

my $server = -x ours('tcpserver') ? ours('tcpserver') : ref_bin('tcpserver');
skip_all('no tcpserver') unless -x $server && -x ours('tcpclient');
my $tc = ours('tcpclient');

# A server on a free port of HOST running PROGRAM...; undef when it
# cannot start.
sub server {
  my ($host, @prog) = @_;
  my $s = eval { start_server($server, ['-RHl0', $host, '0', @prog]) };
  return $s;
}
sub client { my $r = run_cmd([$tc, '-RHl0', @_], timeout => 10); return $r->{out} }

my $s = server('127.0.0.1', 'sh', '-c', 'echo "$TCPREMOTEIP $TCPREMOTEPORT $TCPLOCALPORT"; read line; echo "got $line"');
my $out = client('127.0.0.1', $s->{port}, 'sh', '-c',
  'read seen <&6; echo ping >&7; read reply <&6; echo "$seen|$reply|$TCPLOCALIP $TCPLOCALPORT $TCPREMOTEPORT"');
chomp $out;
my ($seen, $reply, $mine) = split /\|/, $out, 3;
my @theirs = split ' ', $seen // '';
my @mine = split ' ', $mine // '';
is("@theirs[0 .. 2]", ($mine[0] // '') eq '127.0.0.1' ? "@mine[0 .. 2]" : '',
   'the server sees our address and ports, we see its');
is($reply, 'got ping', 'data flows both ways over fds 6 and 7');
stop_server($s);

SKIP: {
  my $s6 = server('::1', 'sh', '-c', 'echo "$PROTO $TCPREMOTEIP"');
  skip('no IPv6 server', 1) unless $s6;
  is(client('::1', $s6->{port}, 'sh', '-c', 'read seen <&6; echo "$seen|$PROTO $TCPLOCALIP"'),
     "TCP6 ::1|TCP6 ::1\n", 'IPv6 end to end');
  stop_server($s6);
}

$s = server('127.0.0.1', ours('recordio'), 'sh', '-c', 'read line; echo "got $line"');
my $r = run_cmd([$tc, '-RHl0', '127.0.0.1', $s->{port}, 'sh', '-c', 'cat >&7; cat <&6'], in => "hello\n", timeout => 10);
is($r->{out}, "got hello\n", 'recordio under tcpserver passes the data');
wait_until(10, sub { slurp($s->{log}) =~ /> \[EOF\]/ });
my $log = join '', map { s/^\d+ //r } grep { /^\d+ / } split /^/m, slurp($s->{log});
is($log, "< hello \n> got hello \n> [EOF]\n", "recordio's transcript on the server's stderr");
stop_server($s);
done_testing();
