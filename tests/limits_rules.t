#!/usr/bin/perl
# The limits of rules (-x rules.cdb made by our tcprules): MAXCONNIP with
# DIEMSG, MAXCONNC on a /24, a rules file of the limits patch for 0.88
# unchanged, MAXCONNNET on a CIDR network (its clients together), a
# host-name rule's MAXCONNNET ignored; TCPCONNNUM set only where a rule
# limits; the rule's variables still reach the program.  In the slow
# path the child refuses after its full rule look-up: "limit PID" with
# its own pid, then "end PID status 25600", and the program never runs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Limits;
use Test::More;

need_ours('tcpserver', 'tcprules');
my $t = tmpdir();
my $nrules = 0;

sub rules_cdb { my ($text) = @_; return make_rules("$t/rules" . $nrules++ . '.cdb', $text) }

my $runs;
sub server {
  my ($rules, @args) = @_;
  $runs = "$t/runs$nrules";
  my @prog = ('/bin/sh', '-c', "echo run >> '$runs'; " .
              'echo "hi ${TCPCONNNUM-unset} ${MAXCONNIP-unset} ${TCPREMOTEHOST-unset}"; exec cat >/dev/null');
  return start_server(ours('tcpserver'), ['-v', @args, '-x', rules_cdb($rules), '127.0.0.1', '0', @prog]);
}

# MAXCONNIP and DIEMSG, fast path.
{
  my $s = server(qq{127.0.0.1:allow,MAXCONNIP="1",DIEMSG="too many"\n}, qw(-HRl x));
  my $a = served($s, '127.0.0.1', '1 1 unset', 'MAXCONNIP=1: first served, TCPCONNNUM=1, MAXCONNIP in the environment');
  my $l = refused($s, '127.0.0.1', "too many\r\n", 'MAXCONNIP=1: second refused');
  like($l, qr/^0 x:127\.0\.0\.1:$s->{port} :127\.0\.0\.1::\d+ MAXCONNIP 1\/1$/, 'MAXCONNIP: the limit line, pid 0');
  my $b = served($s, '127.0.0.2', 'unset unset unset', 'no rule for 127.0.0.2: served, no TCPCONNNUM');
  is(runs($runs), 2, 'MAXCONNIP: the program ran twice');
  is(scalar(() = slurp($s->{log}) =~ /^tcpserver: status: /mg), 3, 'no status line for the refusal');
  done_with($s, $a, $b);
}

# MAXCONNC: the /24 together; another /24 apart.
{
  my $s = server(qq{127.:allow,MAXCONNC="2"\n}, qw(-HRl x));
  my $a = served($s, '127.0.0.1', '1 unset unset', 'MAXCONNC=2: 127.0.0.1 served');
  my $b = served($s, '127.0.0.2', '1 unset unset', 'MAXCONNC=2: 127.0.0.2 served (its own TCPCONNNUM)');
  my $l = refused($s, '127.0.0.3', '', 'MAXCONNC=2: 127.0.0.3 refused, no DIEMSG');
  like($l, qr/^0 x:127\.0\.0\.1:\d+ :127\.0\.0\.3::\d+ MAXCONNC 2\/2$/, 'MAXCONNC: the limit line');
  my $c = served($s, '127.0.1.1', '1 unset unset', 'MAXCONNC=2: 127.0.1.1 (another /24) served');
  close $a;
  ok(wait_log($s, qr/^tcpserver: end \d+ status 0$/m), 'MAXCONNC: one ended');
  my $d = served($s, '127.0.0.3', '1 unset unset', 'MAXCONNC=2: then 127.0.0.3 served');
  done_with($s, $b, $c, $d);
}

# A limits-patch rules file, unchanged.
SKIP: {
  my $s = server(qq{127.:allow,MAXCONNIP="2",MAXCONNC="3",DIEMSG="421 too many connections"\n:allow,MAXCONNIP="1"\n}, qw(-HRl x));
  my @h;
  push @h, served($s, '127.0.0.1', '1 2 unset', 'tcp.smtp: 127.0.0.1 first');
  push @h, served($s, '127.0.0.1', '2 2 unset', 'tcp.smtp: 127.0.0.1 second');
  my $l = refused($s, '127.0.0.1', "421 too many connections\r\n", 'tcp.smtp: 127.0.0.1 third');
  like($l, qr/ MAXCONNIP 2\/2$/, 'tcp.smtp: MAXCONNIP 2/2');
  push @h, served($s, '127.0.0.2', '1 2 unset', 'tcp.smtp: 127.0.0.2 (the /24 at 3)');
  $l = refused($s, '127.0.0.3', "421 too many connections\r\n", 'tcp.smtp: 127.0.0.3');
  like($l, qr/ MAXCONNC 3\/3$/, 'tcp.smtp: MAXCONNC 3/3');
  done_with($s, @h);
}

# The empty rule for another family: ::1 on a dual-stack listener.
SKIP: {
  skip 'no ::1 here', 5 unless IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1);
  my $cdb = rules_cdb(qq{127.:allow,MAXCONNIP="2"\n:allow,MAXCONNIP="1",DIEMSG="one"\n});
  my @prog = ('/bin/sh', '-c', 'echo "hi ${TCPCONNNUM-unset} ${MAXCONNIP-unset}"; exec cat >/dev/null');
  my $s = start_server(ours('tcpserver'), ['-v', qw(-HRl x -x), $cdb, '::', '0', @prog]);
  my $a = connect_from('::1', $s->{port}, '::1');
  is($a ? hello($a) : undef, "hi 1 1\n", 'empty rule: ::1 served');
  my ($got, $eof) = refusal('::1', $s->{port}, '::1');
  is(show($got), show("one\r\n"), 'empty rule: ::1 again refused');
  my $b = connect_from('127.0.0.1', $s->{port}, '127.0.0.1');
  is($b ? hello($b) : undef, "hi 1 2\n", 'dual stack: 127.0.0.1 has the 127. rule');
  done_with($s, $a, $b);
}

# MAXCONNNET of a CIDR rule: its clients together.  The first connection
# under a rule's network must count as well: the third of MAXCONNNET=2 is
# refused however the server learns of the network.
{
  my $s = server(qq{127.0.0.0/8:allow,MAXCONNNET="2"\n}, qw(-HRl x));
  my $a = served($s, '127.0.0.1', '1 unset unset', 'MAXCONNNET=2 (first use): 127.0.0.1 served');
  my $b = served($s, '127.0.0.2', '1 unset unset', 'MAXCONNNET=2 (first use): 127.0.0.2 served');
  my $c = connect_from('127.0.0.3', $s->{port});
  my $eof;
  my $got = read_to_eof($c, 1.5, \$eof);
  close $c;
  is(show($got), '', 'MAXCONNNET=2 (first use): the third, 127.0.0.3, refused');
  ok($eof, 'MAXCONNNET=2 (first use): EOF for it');
  done_with($s, $a, $b);
}
{
  my $s = server(qq{127.0.0.0/8:allow,MAXCONNNET="2"\n}, qw(-HRl x));
  # One connection first, ended: the network is known from then on.
  my $w = served($s, '127.0.0.9', '1 unset unset', 'MAXCONNNET=2: a first connection');
  close $w;
  ok(wait_log($s, qr/^tcpserver: end \d+ status 0$/m), 'MAXCONNNET: it ended');
  my $a = served($s, '127.0.0.1', '1 unset unset', 'MAXCONNNET=2: 127.0.0.1 served');
  my $b = served($s, '127.0.0.2', '1 unset unset', 'MAXCONNNET=2: 127.0.0.2 served');
  my $l = refused($s, '127.0.0.3', '', 'MAXCONNNET=2: 127.0.0.3 refused');
  like($l, qr/^0 x:127\.0\.0\.1:\d+ :127\.0\.0\.3::\d+ MAXCONNNET 2\/2$/, 'MAXCONNNET: the limit line');
  $l = refused($s, '127.1.2.3', '', 'MAXCONNNET=2: 127.1.2.3 (same /8) refused');
  like($l, qr/ MAXCONNNET 2\/2$/, 'MAXCONNNET: 2/2 again');
  my $before = () = slurp($s->{log}) =~ /^tcpserver: end /mg;
  close $a;
  ok(wait_until(5, sub { (() = slurp($s->{log}) =~ /^tcpserver: end \d+ status 0$/mg) > $before }), 'MAXCONNNET: one ended');
  my $c = served($s, '127.0.0.3', '1 unset unset', 'MAXCONNNET=2: then 127.0.0.3 served');
  is(runs($runs), 4, 'MAXCONNNET: four runs');
  done_with($s, $b, $c);
}

# The slow path: names looked up, the child refuses.
{
  my $s = server(qq{127.0.0.1:allow,MAXCONNIP="1",DIEMSG="too many"\n}, qw(-R));
  my $a = connect_from('127.0.0.1', $s->{port});
  my $hi = $a ? hello($a) : '';
  like($hi // '', qr/^hi 1 1 \S+\n\z/, 'slow: first served');
  my $l = refused($s, '127.0.0.1', "too many\r\n", 'slow: second refused by the child');
  my ($pid) = $l =~ /^(\d+) /;
  ok($pid && $pid > 0, 'slow: the limit line has the child\'s pid');
  like($l, qr/^\d+ \S*:127\.0\.0\.1:\d+ \S*:127\.0\.0\.1::\d+ MAXCONNIP 1\/1$/, 'slow: the limit line');
  ok(wait_log($s, qr/^tcpserver: end $pid status 25600$/m), 'slow: the child exits 100 (end PID status 25600)');
  like(slurp($s->{log}), qr/^tcpserver: pid $pid from 127\.0\.0\.1$/m, 'slow: its pid line');
  unlike(slurp($s->{log}), qr/^tcpserver: ok $pid /m, 'slow: no ok line for it');
  is(runs($runs), 1, 'slow: the program did not run for it');
  done_with($s, $a);
}

# The slow path's MAXCONNNET: the child counts the network's clients.
{
  my $s = server(qq{127.0.0.0/8:allow,MAXCONNNET="2",DIEMSG="net full"\n}, qw(-R));
  my @h;
  for my $src (qw(127.0.0.1 127.0.0.2)) {
    my $c = connect_from($src, $s->{port});
    like(($c ? hello($c) : '') // '', qr/^hi 1 unset /, "slow MAXCONNNET=2: $src served");
    push @h, $c;
  }
  my $l = refused($s, '127.0.0.3', "net full\r\n", 'slow MAXCONNNET=2: 127.0.0.3 refused by the child');
  like($l, qr/^[1-9]\d* \S*:127\.0\.0\.1:\d+ \S*:127\.0\.0\.3::\d+ MAXCONNNET 2\/2$/, 'slow MAXCONNNET: the limit line with a pid');
  is(runs($runs), 2, 'slow MAXCONNNET: two runs');
  done_with($s, @h);
}

# A host-name rule names no network: its MAXCONNNET is ignored.
{
  my $s = server(qq{=localhost:allow,MAXCONNNET="1"\n}, qw(-R));
  my $a = connect_from('127.0.0.1', $s->{port});
  my $hi = $a ? hello($a) : '';
  SKIP: {
    skip '127.0.0.1 is not named localhost here', 1 unless ($hi // '') =~ /^hi \S+ unset localhost\n/;
    my $b = served($s, '127.0.0.1', '2 unset localhost', 'host rule: MAXCONNNET ignored, second served (TCPCONNNUM set)');
    close $b;
  }
  done_with($s, $a);
}

done_testing();
