#!/usr/bin/perl
# A flood against -C 2: 127.0.0.2 holds its two connections, then opens
# 20,000 more at concurrency 200 (every one refused with the message),
# then 20,000 more as a client that never reads; meanwhile 127.0.0.3
# keeps connecting one at a time.  It loses nothing and each of its
# connections completes within 5 s; afterwards no child or zombie is
# left and the parent has the descriptors it had before.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Limits;
use Time::HiRes qw(sleep time);
use Test::More;

need_ours('tcpserver');
my $loadgen = ours('bench/loadgen');
my $hold = ours('bench/holdchild');
skip_all('bench/loadgen and bench/holdchild not built (make units)') unless -x $loadgen && -x $hold;
my $t = tmpdir();
my $flood_n = 20000;

my $s = start_server(ours('tcpserver'), [qw(-HRl x -C 2:busy -c 400 -b 1024 127.0.0.1 0), $hold]);
# The descriptors of a settled parent: after one connection, served and
# its child reaped.
my $first = connect_from('127.0.0.4', $s->{port});
shutdown($first, 1);
is(read_to_eof($first, 5), "ok\n", 'server up');
close $first;
ok(wait_until(5, sub { !children($s->{pid}) }), 'its child reaped');
my $fds_before = fd_count($s->{pid});

# 127.0.0.2 at its limit.
my @held = map { connect_from('127.0.0.2', $s->{port}) } 1 .. 2;
ok(wait_until(5, sub { scalar(() = children($s->{pid})) == 2 }), '127.0.0.2 holds two connections');
my ($g) = refusal('127.0.0.2', $s->{port});
is(show($g), show("busy\r\n"), '127.0.0.2 is at its limit');

# The served client, in its own process, until told to stop.
my $stop = "$t/stop";
my $stats = "$t/stats";
my $served = background(sub {
  my ($n, $ok, $max, @bad) = (0, 0, 0);
  while (!-e $stop && $n < 100000) {
    my $t0 = time;
    my $c = connect_from('127.0.0.3', $s->{port});
    my $got = '';
    if ($c) { shutdown($c, 1); $got = read_to_eof($c, 5); close $c }
    my $dt = time - $t0;
    $max = $dt if $dt > $max;
    $n++;
    if ($got eq "ok\n") { $ok++ } else { push @bad, show($got) }
  }
  spew($stats, "$n $ok $max @bad\n");
});

my $t0 = time;
my $r = run_cmd([$loadgen, '-c', '200', '-n', $flood_n, '-t', '40', '-e', '6', '-s', '127.0.0.2', '127.0.0.1', $s->{port}], timeout => 50);
like($r->{out}, qr/^completed=$flood_n failed=0 unfinished=0 /, "flood of $flood_n: every one refused with the message") or diag($r->{out} . $r->{err});
my ($secs1) = $r->{out} =~ /seconds=([\d.]+)/;
$r = run_cmd([$loadgen, '-w', '-c', '200', '-n', $flood_n, '-t', '40', '-s', '127.0.0.2', '127.0.0.1', $s->{port}], timeout => 50);
like($r->{out}, qr/^completed=$flood_n failed=0 unfinished=0 /, "flood of $flood_n that never reads: every one closed by the server") or diag($r->{out} . $r->{err});
my ($secs2) = $r->{out} =~ /seconds=([\d.]+)/;
my $flood_time = time - $t0;
diag(sprintf 'floods: %.1f s and %.1f s (%d connections each)', $secs1 // -1, $secs2 // -1, $flood_n);
ok($flood_time < 90, 'the floods ended in bounded time');

spew($stop, '');
ok(defined wait_pid($served, 15), 'the served client stopped');
my ($n, $okn, $max, @bad) = split ' ', slurp($stats);
$n //= 0;
diag(sprintf 'served client: %d connections during the floods, slowest %.3f s', $n, $max // -1);
ok($n >= 10, "the served client connected during the floods ($n times)");
my $other = grep { $_ ne 'busy\\x0d\\x0a' } @bad;
is($other, 0, 'the served client: every connection answered ("ok", or "busy" for a previous child not yet reaped)') or diag("it got: @bad");
ok($okn >= 0.5 * $n, "the served client: most served ($okn of $n)");
is($okn, $n, 'the served client lost nothing (each connection got its "ok")') or diag("it got: @bad");
ok(defined $max && $max < 5, 'each of its connections completed within 5 s');

close $_ for @held;
ok(wait_until(10, sub { !children($s->{pid}) }), 'no child left (nor a zombie)');
my @z = grep { $_->[1] eq 'Z' } children($s->{pid});
is(scalar(@z), 0, 'no zombie');
is(fd_count($s->{pid}), $fds_before, "the parent's descriptors as before ($fds_before)");
my $c = connect_from('127.0.0.2', $s->{port});
shutdown($c, 1);
is(read_to_eof($c, 5), "ok\n", '127.0.0.2 served again after the floods');
close $c;
ok(kill(0, $s->{pid}), 'the server still runs');
stop_server($s);
done_testing();
