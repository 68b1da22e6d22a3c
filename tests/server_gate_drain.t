#!/usr/bin/perl
# A drain while a slow-path child is still in its ident lookup: the port
# is free at once for a new instance, because the child closed the
# listening socket first (before, it kept it until exec, and the new
# instance failed with "unable to bind: address already used").  In a
# private network namespace, whose port 113 answers nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Limits;
use IO::Socket::IP;
use Time::HiRes qw(sleep);
use Test::More;

need_ours('tcpserver');
need_private_net();

my $identd = IO::Socket::IP->new(Listen => 5, LocalHost => '127.0.0.1', LocalPort => 113, ReuseAddr => 1)
  or skip_all("cannot listen on 127.0.0.1:113: $!");
for my $opts (['-G', '10'], []) {
  my $name = @$opts ? 'drain' : 'no drain';
  my $s = start_server(ours('tcpserver'), ['-v', '-H', '-r', '-t', '20', '-l', 'x', @$opts,
                                           '127.0.0.1', '0', hold_program(undef)]);
  my $c = connect_from('127.0.0.1', $s->{port});
  my $q = $identd->accept;
  ok($q, "$name: the child asks ident, which never answers");
  kill 'TERM', $s->{pid};
  if (@$opts) {
    ok(wait_until(5, sub { slurp($s->{log}) =~ /drain: pid \d+ stopped accepting/ }), "$name: the drain began");
  } else {
    ok(defined wait_pid($s->{pid}, 5), "$name: the server ended at once, as in 0.88");
  }
  my $s2 = eval { start_server(ours('tcpserver'), ['-HRl', 'x', '127.0.0.1', $s->{port}, 'echo', 'new']) };
  ok($s2, "$name: a new instance binds the port at once") or diag($@);
  is(fetch($s->{port}), "new\n", "$name: and serves it") if $s2;
  stop_server($s2) if $s2;
  close $q;
  close $c;
  stop_server($s);
}
done_testing();
