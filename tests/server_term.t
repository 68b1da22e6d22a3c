#!/usr/bin/perl
# SIGTERM: the server exits 0 at once, a running child goes on and
# finishes its work (for both the fast and the slow path).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use IO::Socket::IP;
use Test::More;

need_ours('tcpserver');
my $t = tmpdir();
for my $path (['fast', [qw(-HRl x)]], ['slow', [qw(-R)]]) {
  my ($name, $opts) = @$path;
  my $done = "$t/done-$name";
  my $s = start_server(ours('tcpserver'), ['-v', @$opts, '127.0.0.1', '0', 'sh', '-c',
                                    "echo started; read line; echo \$line > $done; echo bye"]);
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}, Timeout => 5) or die;
  $c->autoflush(1);
  local $SIG{ALRM} = sub { die "timeout\n" };
  alarm 10;
  is(scalar <$c>, "started\n", "$name: child running");
  my ($child) = map { $_->[0] } children($s->{pid});
  my $status = stop_server($s);
  is($status, 0, "$name: SIGTERM: the server exits 0");
  ok($child && kill(0, $child), "$name: the child is still running");
  print $c "finished\n";
  is(scalar <$c>, "bye\n", "$name: the child answers after the server is gone");
  alarm 0;
  close $c;
  ok(wait_until(5, sub { slurp($done) eq "finished\n" }), "$name: the child finished its work");
  unlike(slurp($s->{log}), qr/end/, "$name: no end line (the server was gone)");
}
done_testing();
