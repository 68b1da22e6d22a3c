#!/usr/bin/perl
# 1,000 connections (fast and slow path): no zombies, and the server's
# descriptor count is what it was.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver', 'tcprules');
my $t = tmpdir();
make_rules("$t/r.cdb", "127.0.0.1:allow,X=\"1\"\n");
for my $path (['fast', [qw(-HRl x)], 700], ['slow', [qw(-R -l x)], 300]) {
  my ($name, $opts, $n) = @$path;
  my $s = start_server(ours('tcpserver'), ['-v', '-x', "$t/r.cdb", @$opts, '127.0.0.1', '0', 'echo', 'ok']);
  fetch($s->{port});
  log_settled($s);
  my $fds = fd_count($s->{pid});
  my $bad = 0;
  for (1 .. $n) { $bad++ if fetch($s->{port}) ne "ok\n" }
  is($bad, 0, "$name: $n connections served");
  ok(log_settled($s), "$name: every child ended");
  my @zombies = grep { $_->[1] eq 'Z' } children($s->{pid});
  is(scalar @zombies, 0, "$name: no zombies");
  is(scalar(() = children($s->{pid})), 0, "$name: no children left");
  is(fd_count($s->{pid}), $fds, "$name: same descriptor count ($fds)");
  stop_server($s);
}
done_testing();
