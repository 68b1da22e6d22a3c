#!/usr/bin/perl
# Clients that reset their connection before tcpserver has written its
# banner (-B): they wait in the listen queue behind a connection that
# holds the only slot (-c 1), then reset.  The server must carry on:
# alive, serving, no children or descriptors left behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER);

need_ours('tcpserver');
my $dir = tmpdir();
my $log = "$dir/log";
my $srv = start_server(ours('tcpserver'), ['-v', '-c', '1', '-B', "hello\r\n", '-H', '-R', '-l', 'x', '127.0.0.1', '0', '/bin/sh', '-c', 'read x; echo "got $x"'], log => $log);
my ($pid, $port) = @$srv{qw(pid port)};
ok(wait_until(5, sub { slurp($log) =~ m{status: 0/1} }), 'server started');
my $fds = fd_count($pid);

sub connect_ { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) }
sub read_all { read_to_eof($_[0], 10) }

my $holder = connect_();
my $banner = '';
sysread($holder, $banner, 100);
is($banner, "hello\r\n", 'the first client gets the banner and holds the slot');
my $resets = 0;
for (1 .. 20) {
  my $s = connect_() or next;
  setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));   # close sends RST
  close $s;
  $resets++;
}
is($resets, 20, '20 clients connected and reset while queued');
print $holder "go\n";
is(read_all($holder), "got go\n", 'the first client is served');
close $holder;

ok(wait_until(20, sub {
  my $t = slurp($log);
  my $ends = () = $t =~ /^tcpserver: end /mg;
  $ends >= 1 && $t =~ m{status: 0/1\n\z} && !children($pid) }), 'the queue drained, no child left');
ok(kill(0, $pid), 'the server keeps running');
my $s = connect_();
print $s "again\n";
is(read_all($s), "hello\r\ngot again\n", 'a new client gets the banner and is served');
ok(wait_until(10, sub { !children($pid) && slurp($log) =~ m{status: 0/1\n\z} }), 'no zombies');
is(fd_count($pid), $fds, "descriptor count unchanged ($fds)");
unlike(slurp($log), qr/fatal/, 'nothing fatal logged');
is(stop_server($pid), 0, 'server ends on SIGTERM, exit 0');
done_testing();
