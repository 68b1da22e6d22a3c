#!/usr/bin/perl
# tcpserver -C: a client over its limit gets the message and CRLF (or
# nothing without a message) and EOF; no process is made for it; the -v
# log has one "limit 0 ..." line and no status line for it; another
# address is still served; the count falls again when a child ends
# normally, when it is killed, and counts nothing when the fork fails.
# TCPCONNNUM is 1, 2, ... with -C and absent without.  Both the fast
# path (-H -R -l x) and the slow path (-R, names looked up) behave alike.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Limits;
use Time::HiRes qw(sleep);
use Test::More;

need_ours('tcpserver');
my $t = tmpdir();

# The pid of the child that serves the connection from SRC's port.
sub child_of {
  my ($s, $sock) = @_;
  my $rport = $sock->sockport;
  my ($pid) = slurp($s->{log}) =~ /^tcpserver: ok (\d+) \S+ \S*:\S+::$rport$/m;
  return $pid;
}

sub kids { my ($s) = @_; return scalar(() = children($s->{pid})) }

for my $path (['fast', qw(-HRl x)], ['slow', '-R']) {
  my ($name, @mode) = @$path;
  my $runs = "$t/runs-$name";
  my $s = start_server(ours('tcpserver'), ['-v', @mode, '-C', '2:busy', '127.0.0.1', '0', hold_program($runs)]);
  my $port = $s->{port};
  my $lhost = $name eq 'fast' ? 'x' : '';

  my $c1 = connect_from('127.0.0.1', $port);
  is(hello($c1), "hi 1\n", "$name: first connection served, TCPCONNNUM=1");
  my $c2 = connect_from('127.0.0.1', $port);
  is(hello($c2), "hi 2\n", "$name: second connection served, TCPCONNNUM=2");
  is(kids($s), 2, "$name: two children");
  my $before = slurp($s->{log});

  my $c3 = connect_from('127.0.0.1', $port);
  my $rport = $c3->sockport;
  my $eof;
  my $got = read_to_eof($c3, 5, \$eof);
  close $c3;
  is(show($got), show("busy\r\n"), "$name: the third gets exactly the message and CRLF");
  ok($eof, "$name: then EOF");
  ok(wait_log($s, qr/limit/), "$name: a limit line came");
  sleep 0.2;   # time for anything else to be logged, which must not be
  my $log = slurp($s->{log});
  my $new = substr($log, length $before);
  is($new, "tcpserver: limit 0 $lhost:127.0.0.1:$port :127.0.0.1::$rport client 2/2\n",
     "$name: one limit line, pid 0, exact format, no status line");
  is(kids($s), 2, "$name: still two children: none made for the refused one");
  is(runs($runs), 2, "$name: the program ran twice");

  # Without a message: just EOF.
  my ($got0, $eof0);
  {
    my $s0 = start_server(ours('tcpserver'), ['-v', @mode, '-C', '1', '127.0.0.1', '0', hold_program()]);
    my $h = connect_from('127.0.0.1', $s0->{port});
    is(hello($h), "hi 1\n", "$name -C 1: first served");
    ($got0, $eof0) = refusal('127.0.0.1', $s0->{port});
    is(show($got0), '', "$name -C 1 without a message: nothing written");
    ok($eof0, "$name -C 1 without a message: EOF");
    ok(wait_log($s0, qr/^tcpserver: limit 0 \S+ \S+ client 1\/1$/m), "$name -C 1: limit line client 1/1");
    is(kids($s0), 1, "$name -C 1: one child");
    close $h;
    ok(log_settled($s0), "$name -C 1: the child ended");
    stop_server($s0);
  }

  # Another address is its own client.
  my $o = connect_from('127.0.0.2', $port);
  ok($o, "$name: 127.0.0.2 connects");
  is(hello($o), "hi 1\n", "$name: 127.0.0.2 served while 127.0.0.1 is at its limit (TCPCONNNUM=1)");
  is(runs($runs), 3, "$name: its program ran");
  close $o;

  # A child that ends normally gives its place back.
  my $pid1 = child_of($s, $c1);
  ok($pid1, "$name: the first child's pid from the log");
  shutdown($c1, 1);
  read_to_eof($c1, 5);
  close $c1;
  ok(wait_log($s, qr/^tcpserver: end $pid1 status 0$/m), "$name: the first child ended");
  my $c4 = connect_from('127.0.0.1', $port);
  is(hello($c4), "hi 2\n", "$name: after a normal end, served again (TCPCONNNUM=2)");
  my ($g, $e) = refusal('127.0.0.1', $port);
  is(show($g), show("busy\r\n"), "$name: and at the limit again");

  # A child killed by a signal gives its place back.
  my $pid2 = child_of($s, $c2);
  ok($pid2 && grep({ $_->[0] == $pid2 } children($s->{pid})), "$name: the second child is a child of the server");
  kill 'KILL', $pid2 if $pid2;
  ok(wait_log($s, qr/^tcpserver: end $pid2 status 9$/m), "$name: the killed child reaped (status 9)");
  close $c2;
  my $c5 = connect_from('127.0.0.1', $port);
  is(hello($c5), "hi 2\n", "$name: after a KILL, served again (TCPCONNNUM=2)");
  ($g, $e) = refusal('127.0.0.1', $port);
  is(show($g), show("busy\r\n"), "$name: and at the limit again");
  close $c4;
  close $c5;
  ok(log_settled($s), "$name: every child ended");
  is(kids($s), 0, "$name: no child left");
  my @limits = slurp($s->{log}) =~ /^tcpserver: limit (\d+) /mg;
  is(scalar(@limits), 3, "$name: three refusals logged");
  ok(!grep({ $_ != 0 } @limits), "$name: all by the parent (pid 0)");
  is(runs($runs), 5, "$name: the program ran five times in all");
  stop_server($s);
}

# A client that connects again as soon as its previous connection ended
# (EOF seen) has no other connection: -C 1 must admit it.
{
  my $s = start_server(ours('tcpserver'), [qw(-HRl x -C 1:busy 127.0.0.1 0 /bin/echo hi)]);
  my %got;
  for (1 .. 50) { my ($g) = refusal('127.0.0.1', $s->{port}); $got{$g}++ }
  my $busy = $got{"busy\r\n"} // 0;
  is(($got{"hi\n"} // 0) + $busy, 50, '-C 1, 50 connections one after the other: each served or refused, none lost');
  is($busy, 0, '-C 1, one connection after the other: none refused');
  stop_server($s);
}

# TCPCONNNUM is absent without -C (and without rules).
{
  my $s = start_server(ours('tcpserver'), [qw(-v -HRl x 127.0.0.1 0), hold_program()]);
  my $a = connect_from('127.0.0.1', $s->{port});
  my $b = connect_from('127.0.0.1', $s->{port});
  is(hello($a), "hi unset\n", 'without -C: no TCPCONNNUM');
  is(hello($b), "hi unset\n", 'without -C: none for the second either');
  close $a;
  close $b;
  ok(log_settled($s), 'without -C: children ended');
  stop_server($s);
}

# A failed fork counts nothing.  Root is never refused a process for
# RLIMIT_NPROC, so the server runs as nobody (-u/-g) and its process
# limit is then lowered from outside with prlimit.
SKIP: {
  skip 'needs root (to run the server as nobody)', 6 if $> != 0;
  skip 'prlimit is missing', 6 unless have_tool('prlimit');
  my @nobody = getpwnam('nobody');
  skip 'no user nobody', 6 unless @nobody;
  my ($uid, $gid) = @nobody[2, 3];
  my $s = start_server(ours('tcpserver'), ['-v', '-u', $uid, '-g', $gid, qw(-HRl x -C 2:busy 127.0.0.1 0), hold_program()]);
  my $h = connect_from('127.0.0.1', $s->{port});
  is(hello($h), "hi 1\n", 'fork: first connection served');
  # As the server's own user (root may be refused it, e.g. in a sandbox);
  # only the soft limit, which that user may raise again.
  my @as = have_tool('setpriv') ? ('setpriv', "--reuid=$uid", "--regid=$gid", '--clear-groups') : ();
  my ($soft) = `@as prlimit --pid=$s->{pid} --nproc --raw --noheadings -o SOFT` =~ /(\S+)/;
  skip 'prlimit cannot read the process limit', 5 unless defined $soft;
  system(@as, 'prlimit', "--pid=$s->{pid}", '--nproc=1:') == 0 or skip 'prlimit --nproc failed', 5;
  my $f = connect_from('127.0.0.1', $s->{port});
  my $eof;
  read_to_eof($f, 5, \$eof);
  close $f;
  my $failed = wait_log($s, qr/unable to fork/);
  system(@as, 'prlimit', "--pid=$s->{pid}", "--nproc=$soft:") == 0 or diag('the process limit could not be restored');
  skip 'the process limit did not make the fork fail here', 5 unless $failed;
  ok($eof, 'fork: the connection that could not get a process is closed');
  like(slurp($s->{log}), qr/^tcpserver: warning: dropping connection, unable to fork: /m, 'fork: the warning');
  my $n = connect_from('127.0.0.1', $s->{port});
  is(hello($n), "hi 2\n", 'fork: the failed one was not counted (TCPCONNNUM=2 next)') or diag(show_text(slurp($s->{log})));
  my ($g) = refusal('127.0.0.1', $s->{port});
  is(show($g), show("busy\r\n"), 'fork: and the limit is 2 real connections');
  close $h;
  close $n;
  ok(log_settled($s), 'fork: children ended');
  stop_server($s);
}

done_testing();
