#!/usr/bin/perl
# tcpserver -F rate/burst: the burst passes, the next is refused (pid 0,
# "rate R/B" in the log, the message if any), the bucket refills with
# time, another address is unaffected; a rule's MAXCONNRATE with its
# DIEMSG; the slow path decides the rate in the parent too; a flood from
# thousands of addresses, each within its own rate, refuses none of
# them (more addresses than the table has buckets: the forgotten ones
# come back with a full bucket).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Limits;
use Time::HiRes qw(sleep time);
use Test::More;

need_ours('tcpserver', 'tcprules');
my $t = tmpdir();
my @prog = ('/bin/echo', 'hi');

sub limit_lines { my ($s) = @_; my @l = slurp($s->{log}) =~ /^tcpserver: limit (.*)$/mg; return @l }

# N children ended, the last status line says 0.
sub ended {
  my ($s, $n) = @_;
  return wait_until(10, sub {
    my $l = slurp($s->{log});
    (() = $l =~ /^tcpserver: end \d+ status 0$/mg) == $n && $l =~ m{.*status: (\d+)/}s && $1 == 0;
  });
}

# What SRC gets: "hi\n" when served, else the refusal.
sub get { my ($s, $src) = @_; my ($got) = refusal($src, $s->{port}); return $got }

{
  my $s = start_server(ours('tcpserver'), ['-v', qw(-HRl x -F 1/2 127.0.0.1 0), @prog]);
  my $t0 = time;
  is(get($s, '127.0.0.1'), "hi\n", '-F 1/2: first served');
  is(get($s, '127.0.0.1'), "hi\n", '-F 1/2: second served (the burst)');
  is(show(get($s, '127.0.0.1')), '', '-F 1/2: third refused, nothing written');
  my $quick = time - $t0;
  ok(wait_until(5, sub { limit_lines($s) == 1 }), '-F 1/2: one limit line');
  like((limit_lines($s))[0], qr/^0 x:127\.0\.0\.1:$s->{port} :127\.0\.0\.1::\d+ rate 1\/2$/, '-F 1/2: "rate 1/2", pid 0');
  is(get($s, '127.0.0.2'), "hi\n", '-F 1/2: another address served');
  sleep 1.1 - (time - $t0) + $quick if time - $t0 < 1.1 + $quick;
  is(get($s, '127.0.0.1'), "hi\n", '-F 1/2: after 1.1 s one more served (refilled)');
  is(show(get($s, '127.0.0.1')), '', '-F 1/2: and the next refused again');
  ok(ended($s, 4), '-F 1/2: four programs ran and ended');
  is(scalar(() = slurp($s->{log}) =~ /^tcpserver: status: /mg), 1 + 2 * 4, '-F 1/2: status lines only for the four served');
  stop_server($s);
}

{
  my $s = start_server(ours('tcpserver'), ['-v', qw(-HRl x -F), '2.5/5:slow down', qw(127.0.0.1 0), @prog]);
  my $served = grep { get($s, '127.0.0.1') eq "hi\n" } 1 .. 5;
  is($served, 5, '-F 2.5/5: a burst of 5 served');
  is(show(get($s, '127.0.0.1')), show("slow down\r\n"), '-F 2.5/5:slow down: the sixth told the message');
  ok(wait_until(5, sub { limit_lines($s) == 1 }), '-F 2.5/5: a limit line');
  like((limit_lines($s))[0] // '', qr/ rate 2\.5\/5$/, '-F 2.5/5: "rate 2.5/5"');
  ok(ended($s, 5), 'children ended');
  stop_server($s);
}

{
  my $s = start_server(ours('tcpserver'), ['-v', qw(-HRl x -F 0.5 127.0.0.1 0), @prog]);
  is(get($s, '127.0.0.1'), "hi\n", '-F 0.5: first served');
  is(show(get($s, '127.0.0.1')), '', '-F 0.5: second refused (burst 1)');
  ok(wait_until(5, sub { limit_lines($s) == 1 }), '-F 0.5: a limit line');
  like((limit_lines($s))[0] // '', qr/ rate 0\.5\/1$/, '-F 0.5: "rate 0.5/1"');
  ok(ended($s, 1), 'children ended');
  stop_server($s);
}

# The slow path: the parent decides the rate from the address alone.
{
  my $s = start_server(ours('tcpserver'), ['-v', qw(-R -F 1/1:later 127.0.0.1 0), @prog]);
  is(get($s, '127.0.0.1'), "hi\n", 'slow -F 1/1: first served');
  is(show(get($s, '127.0.0.1')), show("later\r\n"), 'slow -F 1/1: second refused with the message');
  ok(wait_until(5, sub { limit_lines($s) == 1 }), 'slow -F 1/1: a limit line');
  like((limit_lines($s))[0] // '', qr/^0 :127\.0\.0\.1:\d+ :127\.0\.0\.1::\d+ rate 1\/1$/, 'slow -F 1/1: by the parent (pid 0)');
  ok(ended($s, 1), 'children ended');
  is(scalar(() = slurp($s->{log}) =~ /^tcpserver: pid /mg), 1, 'slow -F 1/1: one process only');
  stop_server($s);
}

# A rule's MAXCONNRATE and DIEMSG, without -F.
{
  my $cdb = make_rules("$t/rate.cdb", qq{127.0.0.1:allow,MAXCONNRATE="1/1",DIEMSG="slow"\n});
  my $s = start_server(ours('tcpserver'), ['-v', qw(-HRl x -x), $cdb, qw(127.0.0.1 0), @prog]);
  is(get($s, '127.0.0.1'), "hi\n", 'MAXCONNRATE=1/1: first served');
  is(show(get($s, '127.0.0.1')), show("slow\r\n"), 'MAXCONNRATE=1/1: second told DIEMSG');
  ok(wait_until(5, sub { limit_lines($s) == 1 }), 'MAXCONNRATE: a limit line');
  like((limit_lines($s))[0] // '', qr/^0 x:127\.0\.0\.1:\d+ :127\.0\.0\.1::\d+ rate 1\/1$/, 'MAXCONNRATE: "rate 1/1"');
  is(get($s, '127.0.0.2'), "hi\n", 'MAXCONNRATE: 127.0.0.2 (no rule) served');
  is(get($s, '127.0.0.2'), "hi\n", 'MAXCONNRATE: 127.0.0.2 again (no rate for it)');
  ok(ended($s, 3), 'children ended');
  stop_server($s);
}

# A flood of addresses: 5,000 addresses of 127.1/16 once each (more than
# the 4,096 buckets of -c 40), then 300 of 127.2/16, each within -F 1/1;
# 127.0.0.9, which used its burst before, is still refused, and served
# once its bucket refilled.
SKIP: {
  my $loadgen = ours('bench/loadgen');
  my $okchild = ours('bench/okchild');
  skip 'bench/loadgen and bench/okchild not built (make units)', 7 unless -x $loadgen && -x $okchild;
  my $s = start_server(ours('tcpserver'), [qw(-v -HRl x -F 1/1 -b 256 127.0.0.1 0), $okchild]);
  my $t0 = time;
  is(get($s, '127.0.0.9'), "ok\n", 'flood: 127.0.0.9 served once');
  my $r = run_cmd([$loadgen, qw(-c 8 -n 5000 -t 25 -e 3 -s 127.1.0.1 -a 5000 127.0.0.1), $s->{port}], timeout => 30);
  like($r->{out}, qr/^completed=5000 failed=0 unfinished=0 /, '5,000 addresses, one connection each: none refused') or diag($r->{out} . $r->{err});
  $r = run_cmd([$loadgen, qw(-c 8 -n 300 -t 25 -e 3 -s 127.2.0.1 -a 300 127.0.0.1), $s->{port}], timeout => 30);
  like($r->{out}, qr/^completed=300 failed=0 unfinished=0 /, '300 more addresses: none refused') or diag($r->{out} . $r->{err});
  is(scalar(limit_lines($s)), 0, 'flood: no limit line');
  ok(wait_until(10, sub { slurp($s->{log}) =~ m{status: 0/40\n\z} }), 'flood: children ended');
  # Its token comes back a second after it was spent: the flood may be
  # quicker than that (the musl okchild serves 7,000 a second).
  sleep(1.1 - (time - $t0)) if time - $t0 < 1.1;
  my $ok = get($s, '127.0.0.9');
  ok($ok eq "ok\n", '127.0.0.9 after the flood: served (its bucket refilled or forgotten: full either way)');
  ok(time - $t0 < 60, 'flood within a minute');
  stop_server($s);
}

done_testing();
