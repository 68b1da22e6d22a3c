#!/usr/bin/perl
# Descriptor exhaustion: with its descriptor limit at 0 (set on the
# running server with prlimit: the parent holds so few descriptors that a
# small ulimit -n at start never runs short), a pending connection cannot
# be accepted.  The server must keep running without spinning (its CPU
# time stays small while exhausted) and serve again once the limit is back.
# 0.88 spins here: this is one of the issue's requirements beyond it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);

need_ours('tcpserver', 'bench/okchild');
need_tool('prlimit', 'prlimit (util-linux) is missing');
my $dir = tmpdir();
my $log = "$dir/log";
my $srv = start_server(ours('tcpserver'), ['-v', '-c', '40', '-H', '-R', '-l', 'x', '127.0.0.1', '0', ours('bench/okchild')], log => $log);
my ($pid, $port) = @$srv{qw(pid port)};

sub served {
  my ($timeout) = @_;
  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or return "connect: $!";
  return read_to_eof($s, $timeout);
}

is(served(10), "ok\n", 'served before the exhaustion');
my $limits = `prlimit --pid $pid --nofile --output SOFT,HARD --noheadings`;
my ($soft, $hard) = $limits =~ /(\S+)\s+(\S+)/;
ok(defined $hard, "limits read ($soft:$hard)");
is(system('prlimit', "--pid=$pid", "--nofile=0:$hard"), 0, 'descriptor limit set to 0');

# A client waits in the listen queue that the server cannot accept from.
my $pending = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5);
ok($pending, 'a client connects while the server is exhausted');
# The CPU time over 2 s of exhaustion, from now: the pending client is
# already in the queue the server cannot accept from.
my $t0 = cpu_ticks($pid);
sleep 2;
my $used = cpu_ticks($pid) - $t0;
ok(kill(0, $pid), 'the server keeps running');
cmp_ok($used, '<', 40, "no spinning: $used clock ticks of CPU in 2 s while exhausted");

is(system('prlimit', "--pid=$pid", "--nofile=$soft:$hard"), 0, 'descriptor limit restored');
is(served(15), "ok\n", 'served again once descriptors are free');
is(stop_server($pid), 0, 'server ends on SIGTERM, exit 0');
done_testing();
