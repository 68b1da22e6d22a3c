#!/usr/bin/perl
# tcpserver -G under socket activation, where systemd cannot run (it is
# not PID 1 here): what `systemctl restart` does to a Type=notify service
# with KillMode=process, done by the test itself.  The test holds the
# listening socket as systemd does, starts tcpserver with LISTEN_FDS=1,
# LISTEN_PID and NOTIFY_SOCKET, and restarts it as systemd does: SIGTERM
# to the main process, wait for it to exit (TimeoutStopSec), start the
# next one.  Checked: READY=1 from each instance, the main process exits
# at once, a client keeps its connection through the restart until the
# deadline, a prober (a try every 100 ms) is served within a second on
# every try (the socket never stops listening, and the next instance
# accepts at once), the old server's lines, nothing left after the
# deadline.  And with two sockets passed (systemd-socket-activate, two
# -l) and a host and port that pick one, the other is named in a
# warning at start and closed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Restart;
use IO::Socket::IP;
use Socket qw(AF_UNIX SOCK_DGRAM pack_sockaddr_un);
use POSIX ();
use Fcntl ();
use Cwd ();
use Time::HiRes qw(sleep time);
use Test::More;

need_ours('tcpserver');
skip_all('cannot become a child subreaper (prctl)') unless subreaper();
my $tcpserver = Cwd::abs_path(ours('tcpserver'));
my $dir = tmpdir();
my ($drain, $kill) = (2, 1);
my $echo = ['sh', '-c', 'while IFS= read -r l; do printf "%s\n" "$l"; done'];

# The socket systemd would hold, and its notification socket.
my $listener = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Listen => 128, ReuseAddr => 1)
  or die "listen: $!";
my $port = $listener->sockport;
socket(my $notify, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
bind($notify, pack_sockaddr_un("$dir/notify")) or die "bind: $!";
my $log = "$dir/journal";

# One instance, as systemd starts it: the socket on descriptor 3.
sub start_instance {
  return background(sub {
    POSIX::dup2(fileno($listener), 3) or POSIX::_exit(111) if fileno($listener) != 3;
    open(my $fd3, '+<&=', 3) or POSIX::_exit(111);
    fcntl($fd3, Fcntl::F_SETFD(), 0) or POSIX::_exit(111);   # kept through exec
    $ENV{LISTEN_FDS} = 1;
    $ENV{LISTEN_PID} = $$;
    $ENV{NOTIFY_SOCKET} = "$dir/notify";
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', $log;
    open STDERR, '>>', $log;
    exec $tcpserver, '-v', '-G', "$drain+$kill", '-R', '-H', '-l', 'x', '0', '0', @$echo;
  });
}

sub ready {
  my $rin = '';
  vec($rin, fileno($notify), 1) = 1;
  my $msg = '';
  recv($notify, $msg, 100, 0) if select(my $rout = $rin, undef, undef, 5);
  return $msg;
}

sub only_child {
  my ($pid) = @_;
  my @k;
  wait_until(5, sub { @k = grep { $_->[1] ne 'Z' } children($pid); @k == 1 });
  return @k == 1 ? $k[0][0] : undef;
}

my $main = start_instance();
is(ready(), 'READY=1', 'READY=1 once the server listens');
my $server = only_child($main);
ok($server, 'the main process has one child, the server');
my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 3) or die;
is(echo_line($c, 'one'), "one\n", 'a client is served');
my $prog = only_child($server);
my $pfile = "$dir/probe";
my $prober = start_prober($port, $pfile);
sleep 0.5;

# systemctl restart, KillMode=process: SIGTERM to the main process only,
# wait for it, start the next.
my $t = time;
kill 'TERM', $main;
my $st = wait_pid($main, 5);
my $stop = time - $t;
is($st, 0, 'the main process exits 0');
cmp_ok($stop, '<', 1, sprintf('at once (%.3f s): systemd goes on to start the next instance', $stop));
my $main2 = start_instance();
is(ready(), 'READY=1', 'the next instance says READY=1');
is(echo_line($c, 'two'), "two\n", 'the client keeps its connection through the restart');
ok(alive($server), 'the old server runs on for it');
my $eof;
read_to_eof($c, $drain + 3, \$eof);
my $end = time - $t;
ok($eof && $end > $drain - 0.3 && $end < $drain + 0.8, sprintf('the client is ended at the deadline (%.2f s)', $end));
ok(wait_until(3, sub { !alive($server) }), 'the old server exits after its last connection');
reap($server);
ok(!alive($prog), 'nothing of the old instance is left');
ok(wait_until(3, sub { !stray_zombies($$) }), 'no zombie');
sleep 0.3;
stop_prober($prober);
my ($win, $fails, $tries) = refused_window($pfile);
is($fails, 0, "every try of the prober was served within a second ($tries tries)");
note(sprintf('systemd-like restart (KillMode=process): main process exited in %.3f s, '
  . 'prober unserved for %.2f s (%d of %d tries)', $stop, $win, $fails, $tries));
my $text = slurp($log);
like($text, qr/^tcpserver: drain: pid $server stopped accepting, waiting for \d+ child(?:ren)?$/m,
     'the journal: the drain, naming the old server');
like($text, qr/^tcpserver: end $prog status 15$/m, 'the journal: the old connection\'s end (TERM)');
like($text, qr/^tcpserver: drain: done$/m, 'the journal: the drain is done');
stop_pid($main2);

# Two sockets passed, one picked by host and port: the other is named.
SKIP: {
  my $activate = '/usr/bin/systemd-socket-activate';
  skip 'no systemd-socket-activate (package systemd)', 3 unless -x $activate;
  my ($p1, $p2, $pid, $err);
  for my $try (1 .. 5) {
    ($p1, $p2) = (free_port(), free_port());
    $err = "$dir/activate-$try";
    ($pid) = start_process([$activate, '-l', "127.0.0.1:$p1", '-l', "127.0.0.1:$p2",
                            $tcpserver, '-H', '-R', '-l', 'x', '127.0.0.1', $p1, 'echo', 'served'],
                           stderr => $err, timeout => 0.1);
    last if wait_until(5, sub { (() = slurp($err) =~ /^Listening on /mg) == 2 });
    stop_pid($pid);
  }
  is(fetch($p1), "served\n", 'two sockets: the one asked for is served');
  like(slurp($err), qr/^tcpserver: warning: not serving the socket passed on descriptor 4, 127\.0\.0\.1 port $p2: it is not the host and port asked for$/m,
       'the other is named in a warning') or diag(slurp($err));
  ok(wait_until(3, sub { !IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $p2, Timeout => 1) }),
     'and closed: its clients are refused (systemd itself would keep it listening)');
  stop_pid($pid);
}

done_testing();
