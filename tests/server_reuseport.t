#!/usr/bin/perl
# -S (SO_REUSEPORT): two servers bind the same address and port and the
# kernel spreads the connections over both; once the first stops, the
# second serves them all.  Without -S on both, the second fails to bind as
# in 0.88 (the reference too).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver');
my $tcpserver = ours('tcpserver');

my $s1 = start_server($tcpserver, ['-S', '-HRl', 'x', '127.0.0.1', '0', 'echo', 'one']);
my $port = $s1->{port};
my $s2 = eval { start_server($tcpserver, ['-S', '-HRl', 'x', '127.0.0.1', $port, 'echo', 'two']) };
ok($s2 && $s2->{port} == $port, 'a second server with -S binds the same port') or diag($@);

SKIP: {
  skip 'the second server did not start', 4 unless $s2;
  my %seen;
  $seen{ fetch($port) }++ for 1 .. 200;
  my ($one, $two) = ($seen{"one\n"} // 0, $seen{"two\n"} // 0);
  is($one + $two, 200, '200 connections, each served by one of them')
    or diag(join ', ', map { show($_) . " x $seen{$_}" } sort keys %seen);
  ok($one > 0 && $two > 0, "both serve some ($one and $two)");

  is(stop_server($s1), 0, 'the first server stops (SIGTERM, exit 0)');
  my @after = map { fetch($port) } 1 .. 20;
  is_deeply(\@after, [("two\n") x 20], 'then the second serves every connection');
  stop_server($s2);
}
stop_server($s1);

# Without -S, or with -S on one side only: address already used.
my @refs = (['ours', $tcpserver]);
push @refs, ['reference', ref_bin('tcpserver')] if have_ref('tcpserver');
for my $case (['neither', [], []], ['only the second', [], ['-S']], ['only the first', ['-S'], []]) {
  my ($name, $first, $second) = @$case;
  for my $r (@refs) {
    my ($who, $bin) = @$r;
    next if $who eq 'reference' && @$second;   # 0.88 has no -S
    my $s = start_server($tcpserver, [@$first, '-HRl', 'x', '127.0.0.1', '0', 'echo', 'one']);
    my $res = run_cmd([$bin, '-HRl', 'x', @$second, '127.0.0.1', $s->{port}, 'echo', 'two'], timeout => 5);
    is($res->{status}, 111, "$name has -S, $who second server: exit 111");
    is($res->{err}, "tcpserver: fatal: unable to bind: address already used\n",
       "$name has -S, $who second server: the fatal message");
    is(fetch($s->{port}), "one\n", "$name has -S: the first server still serves");
    stop_server($s);
  }
}
done_testing();
