#!/usr/bin/perl
# -c 2 under a burst of 50 clients: never more than 2 children (watched in
# /proc and in the status lines), every client served, accept waits
# rather than refusing; -c 0 never accepts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);
use Test::More;

need_ours('tcpserver');
my $s = start_server(ours('tcpserver'), [qw(-v -c 2 -b 64 -HRl x 127.0.0.1 0 sh -c), 'sleep 0.05; echo served']);

# 50 clients at once, each in its own process.
my @clients;
my $t = tmpdir();
for my $i (1 .. 50) {
  my $pid = background(sub { spew("$t/client$i", fetch($s->{port})) });
  push @clients, $pid;
}
my $max = 0;
while (grep { $_ } @clients) {
  for (@clients) { $_ = 0 if $_ && waitpid($_, WNOHANG) == $_ }
  my $n = () = children($s->{pid});
  $max = $n if $n > $max;
  sleep 0.01;   # the sampling period
}
ok(log_settled($s), 'all children ended');
stop_server($s);
my $served = grep { slurp("$t/client$_") eq "served\n" } 1 .. 50;
is($served, 50, 'every client served');
ok($max <= 2 && $max >= 1, "at most 2 children seen at once ($max)");
my $log = slurp($s->{log});
my @counts = $log =~ m{^tcpserver: status: (\d+)/2$}mg;
ok(!grep({ $_ > 2 } @counts), 'status never beyond 2/2');
is(scalar(() = $log =~ /^tcpserver: end \d+ status 0$/mg), 50, '50 ends with status 0');
ok(scalar(grep { $_ == 2 } @counts) > 0, 'the limit was reached');

# -c 0: the connection waits in the backlog, nothing runs.
$s = start_server(ours('tcpserver'), [qw(-v -c 0 -HRl x 127.0.0.1 0 echo no)]);
my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}, Timeout => 5);
ok($c, '-c 0: the kernel still completes the handshake');
sleep 0.3;    # the time given to it to do what it must not
is(slurp($s->{log}), "tcpserver: status: 0/0\n", '-c 0: nothing accepted');
is(scalar(() = children($s->{pid})), 0, '-c 0: no child');
stop_server($s);
done_testing();
