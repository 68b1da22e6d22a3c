#!/usr/bin/perl
# -G x[+y], the graceful drain on SIGTERM, on the fast and the slow path:
# the process started stays a front whose one child, the server, accepts;
# on SIGTERM the front exits 0 at once and the port is free (a new server
# binds it and serves) while the server waits for its child; the child
# finishes normally; the deadline sends TERM, y seconds later KILL (a
# child that ignores TERM); a second SIGTERM, to the server, skips the
# wait; -q logs no drain lines.  The test is the child subreaper, so that
# the server, once its front exited, is its child to reap.  Without -G,
# SIGTERM is 0.88's (server_term.t).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Restart;
use IO::Socket::IP;
use Time::HiRes qw(sleep time);
use Test::More;

need_ours('tcpserver');
skip_all('cannot become a child subreaper (prctl)') unless subreaper();
my $t = tmpdir();
my $tcpserver = ours('tcpserver');

sub connect_to {
  my ($port) = @_;
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 5)
    or die "connect $port: $!";
  $c->autoflush(1);
  return $c;
}

# The one child of PID, once it is there.
sub only_child {
  my ($pid) = @_;
  my @k;
  wait_until(5, sub { @k = grep { $_->[1] ne 'Z' } children($pid); @k == 1 });
  return @k == 1 ? $k[0][0] : undef;
}

# The server: the one child of the front that start_server started; its
# pid is kept in $s->{server}.
sub server_of { my ($s) = @_; return $s->{server} //= only_child($s->{pid}) }

# The connection's program: the one child of the server.
sub the_child { my ($s) = @_; return only_child(server_of($s)) }

# SIGTERM to the front: it exits 0 at once; the server's exit status.
sub term_front {
  my ($s, $name) = @_;
  my $server = server_of($s);
  kill 'TERM', $s->{pid};
  is(wait_pid($s->{pid}, 2), 0, "$name: the front exits 0 at once");
  return $server;
}

# Each of LINES is a whole line of LOG, in this order, the last one last.
sub in_order {
  my ($log, @lines) = @_;
  my $at = 0;
  for my $l (@lines) {
    my $i = index("\n$log", "\n$l\n", $at);
    return 0 if $i < 0;
    $at = $i + length($l) + 1;
  }
  return $at == length $log;
}

sub log_has { my ($s, $re, $secs) = @_; return wait_until($secs // 5, sub { slurp($s->{log}) =~ $re }) }

for my $path (['fast', [qw(-HRl x)]], ['slow', [qw(-R)]]) {
  my ($name, $opts) = @$path;

  # --- the child finishes during the wait
  {
    my $done = "$t/done-$name";
    my $s = start_server($tcpserver, ['-v', '-G', '3+1', @$opts, '127.0.0.1', '0', 'sh', '-c',
                                      "echo started; read line; echo \$line > $done; echo bye"]);
    my $c = connect_to($s->{port});
    is(line_within($c, 5), "started\n", "$name: child running");
    my $child = the_child($s);
    my $server = term_front($s, $name);
    ok(log_has($s, qr/^tcpserver: drain: pid $server stopped accepting, waiting for 1 child\n/m, 2),
       "$name: drain begins at once, the line names the server");
    # Another server on the same port (no -S): the listening socket is gone.
    my $s2 = eval { start_server($tcpserver, [@$opts, '127.0.0.1', $s->{port}, 'echo', 'second']) };
    ok($s2 && $s2->{port} == $s->{port}, "$name: the port is free at once: a second server binds it")
      or diag($@);
    is($s2 ? fetch($s->{port}) : '', "second\n", "$name: and serves it");
    stop_server($s2) if $s2;
    ok(!defined wait_pid($server, 0.5), "$name: the first server still runs while its child does");
    ok(alive($child), "$name: the child still runs");
    print $c "finished\n";
    is(line_within($c, 5), "bye\n", "$name: the child answers after the SIGTERM");
    close $c;
    is(wait_pid($server, 5), 0, "$name: the server exits 0 once the child ended");
    is(slurp($done), "finished\n", "$name: the child finished its work");
    ok(in_order(slurp($s->{log}), "tcpserver: drain: pid $server stopped accepting, waiting for 1 child",
                "tcpserver: end $child status 0", 'tcpserver: drain: done'),
       "$name: log: stopped accepting, the end line, done last") or diag(slurp($s->{log}));
    unlike(slurp($s->{log}), qr/deadline|KILL/, "$name: no deadline reached");
  }

  # --- the deadline: TERM
  {
    my $s = start_server($tcpserver, ['-v', '-G', '1+1', @$opts, '127.0.0.1', '0', 'sleep', '30']);
    my $c = connect_to($s->{port});
    my $child = the_child($s);
    ok($child, "$name: sleep 30 running");
    wait_until(5, sub { slurp("/proc/$child/cmdline") =~ /^sleep\0/ });
    my $start = time;
    my $server = term_front($s, "$name: deadline");
    my $status = wait_pid($server, 5);
    my $took = time - $start;
    is($status, 0, "$name: deadline: the server exits 0");
    ok($took > 0.8 && $took < 3, "$name: after the 1 s deadline (" . sprintf('%.2f', $took) . ' s)');
    ok(in_order(slurp($s->{log}), "tcpserver: drain: pid $server stopped accepting, waiting for 1 child",
                'tcpserver: drain: deadline, sending TERM to 1 child',
                "tcpserver: end $child status 15", 'tcpserver: drain: done'),
       "$name: log: deadline, TERM, the child's end (status 15), done last") or diag(slurp($s->{log}));
    unlike(slurp($s->{log}), qr/KILL/, "$name: no KILL needed");
    ok(!alive($child), "$name: the child is gone");
    close $c;
  }

  # --- a child that ignores TERM gets KILL y seconds later
  {
    my $s = start_server($tcpserver, ['-v', '-G', '1+1', @$opts, '127.0.0.1', '0', 'sh', '-c',
                                      'trap "" TERM; exec sleep 30']);
    my $c = connect_to($s->{port});
    my $child = the_child($s);
    # The trap is set once sh has exec'd sleep (SIG_IGN kept through exec).
    wait_until(5, sub { slurp("/proc/$child/cmdline") =~ /^sleep\0/ });
    my $start = time;
    my $server = term_front($s, "$name: KILL stage");
    my $status = wait_pid($server, 6);
    my $took = time - $start;
    is($status, 0, "$name: KILL stage: the server exits 0");
    ok($took > 1.8 && $took < 4, "$name: after 1 s + 1 s (" . sprintf('%.2f', $took) . ' s)');
    ok(in_order(slurp($s->{log}), "tcpserver: drain: pid $server stopped accepting, waiting for 1 child",
                'tcpserver: drain: deadline, sending TERM to 1 child',
                'tcpserver: drain: sending KILL to 1 child',
                "tcpserver: end $child status 9", 'tcpserver: drain: done'),
       "$name: log: TERM, KILL, the child's end (status 9), done last") or diag(slurp($s->{log}));
    ok(!alive($child), "$name: nothing left running");
    close $c;
  }

  # --- a second SIGTERM (to the server: the front is gone) skips the wait
  {
    my $s = start_server($tcpserver, ['-v', '-G', '30+5', @$opts, '127.0.0.1', '0', 'sleep', '30']);
    my $c = connect_to($s->{port});
    my $child = the_child($s);
    # The program runs (a child still in its lookups would exit 0 on TERM).
    wait_until(5, sub { slurp("/proc/$child/cmdline") =~ /^sleep\0/ });
    my $server = term_front($s, "$name: second SIGTERM");
    log_has($s, qr/drain: pid \d+ stopped accepting/, 2);
    my $start = time;
    kill 'TERM', $server;
    my $status = wait_pid($server, 5);
    my $took = time - $start;
    is($status, 0, "$name: second SIGTERM: the server exits 0");
    cmp_ok($took, '<', 2, "$name: the children got TERM at once (" . sprintf('%.2f', $took) . ' s, not 30)');
    ok(in_order(slurp($s->{log}), 'tcpserver: drain: deadline, sending TERM to 1 child',
                "tcpserver: end $child status 15", 'tcpserver: drain: done'),
       "$name: log: TERM sent, the child's end") or diag(slurp($s->{log}));
    ok(!alive($child), "$name: the child is gone");
    close $c;
  }

  # --- -q: no drain lines; the default verbosity logs them
  for my $v (['-q', 0], ['', 1]) {
    my ($flag, $logs) = @$v;
    my $s = start_server($tcpserver, [($flag ? $flag : ()), '-G', '1+1', @$opts, '127.0.0.1', '0', 'sleep', '30']);
    my $c = connect_to($s->{port});
    my $child = the_child($s);
    my $server = term_front($s, "$name " . ($flag || 'default'));
    is(wait_pid($server, 5), 0, "$name " . ($flag || 'default') . ': the server exits 0');
    my $log = slurp($s->{log});
    if ($logs) {
      is($log, "tcpserver: drain: pid $server stopped accepting, waiting for 1 child\n"
             . "tcpserver: drain: deadline, sending TERM to 1 child\n"
             . "tcpserver: drain: done\n", "$name default: the drain lines only");
    } else {
      is($log, '', "$name -q: no drain lines");
    }
    ok(!alive($child), "$name " . ($flag || 'default') . ': the child is gone');
    close $c;
  }
}
done_testing();
