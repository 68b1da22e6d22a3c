#!/usr/bin/perl
# The front of tcpserver -G, around what the supervisors see: the process
# started holds no listening socket; on SIGTERM it exits 0 at once and the
# port can be bound as soon as it has (no -S); SIGTERM sent to the server
# itself also ends the front (the supervisor then starts a new instance);
# SIGKILL to the front starts the drain; SIGHUP is forwarded, and the
# front ends as the server did (0.88's server dies of SIGHUP, so does
# ours, children left alone); a server that cannot start makes the front
# exit as it did, with one message; with -u and -g the front drops its
# privileges too; with -0 only the server holds the socket; a logger
# that reads nothing holds neither the front nor the drain; a slow-path
# child (its lookups) holds no listening socket, so the port is free
# during its lookups.  The test
# is the child subreaper: a server whose front exited is its to reap.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Restart;
use IO::Socket::IP;
use Socket qw(SOMAXCONN);
use Time::HiRes qw(sleep time);
use POSIX ();
use Test::More;

need_ours('tcpserver');
my $netns = $> == 0 ? private_net() : 0;   # re-runs the test in one, as root
skip_all('cannot become a child subreaper (prctl)') unless subreaper();
my $tcpserver = ours('tcpserver');
my $echo = ['sh', '-c', 'while IFS= read -r l; do printf "%s\n" "$l"; done'];

sub connect_to {
  my ($port) = @_;
  return IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 3);
}

sub only_child {
  my ($pid) = @_;
  my @k;
  wait_until(5, sub { @k = grep { $_->[1] ne 'Z' } children($pid); @k == 1 });
  return @k == 1 ? $k[0][0] : undef;
}

# The inodes of the sockets listening on TCP port PORT (IPv4).
sub listening_inodes {
  my ($port) = @_;
  my $hex = sprintf('%04X', $port);
  my @inodes;
  for my $line (split /\n/, slurp('/proc/net/tcp')) {
    my @f = split ' ', $line;
    push @inodes, $f[9] if @f > 9 && $f[1] =~ /:$hex$/ && $f[3] eq '0A';
  }
  return @inodes;
}

# 1 if PID holds one of the sockets listening on PORT.
sub holds_listener {
  my ($pid, $port) = @_;
  my %listen = map { $_ => 1 } listening_inodes($port);
  opendir my $d, "/proc/$pid/fd" or return 0;
  for my $fd (grep { /^\d+$/ } readdir $d) {
    my $l = readlink("/proc/$pid/fd/$fd") // '';
    return 1 if $l =~ /^socket:\[(\d+)\]$/ && $listen{$1};
  }
  return 0;
}

sub binds {
  my ($port) = @_;
  my $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Listen => SOMAXCONN, ReuseAddr => 1);
  return $l ? 1 : 0;
}

# --- the front holds no listening socket; SIGTERM: exits 0 at once, the
# port is free as soon as it has
{
  my $s = start_server($tcpserver, ['-v', '-G', '5+1', '-R', '-H', '-l', 'x', '127.0.0.1', '0', @$echo]);
  my $server = only_child($s->{pid});
  ok($server, 'the front has one child, the server');
  ok(holds_listener($server, $s->{port}), 'the server holds the listening socket');
  ok(!holds_listener($s->{pid}, $s->{port}), 'the front does not');
  my $c = connect_to($s->{port});
  is(echo_line($c, 'a'), "a\n", 'a client is served');
  my $t = time;
  kill 'TERM', $s->{pid};
  is(wait_pid($s->{pid}, 2), 0, 'SIGTERM: the front exits 0');
  my $took = time - $t;
  ok(binds($s->{port}), 'the port can be bound as soon as the front has exited (no -S)');
  cmp_ok($took, '<', 1, sprintf('the front took %.3f s', $took));
  is(echo_line($c, 'b'), "b\n", 'the client is still served');
  close $c;
  is(wait_pid($server, 5), 0, 'the server exits 0 once its client left');
  like(slurp($s->{log}), qr/^tcpserver: drain: done$/m, 'its drain is done');
}

# --- SIGTERM to the server: it drains, and the front exits 0
{
  my $s = start_server($tcpserver, ['-G', '5+1', '-R', '-H', '-l', 'x', '127.0.0.1', '0', @$echo]);
  my $server = only_child($s->{pid});
  my $c = connect_to($s->{port});
  is(echo_line($c, 'a'), "a\n", 'server TERMed: a client is served');
  kill 'TERM', $server;
  is(wait_pid($s->{pid}, 2), 0, 'SIGTERM to the server: the front exits 0 (the supervisor starts another)');
  ok(wait_until(2, sub { binds($s->{port}) }), 'the port is free');
  is(echo_line($c, 'b'), "b\n", 'the client is still served');
  close $c;
  is(wait_pid($server, 5), 0, 'the server exits once its client left');
}

# --- SIGKILL to the front: the server drains all the same
{
  my $s = start_server($tcpserver, ['-v', '-G', '1+1', '-R', '-H', '-l', 'x', '127.0.0.1', '0', @$echo]);
  my $server = only_child($s->{pid});
  my $c = connect_to($s->{port});
  is(echo_line($c, 'a'), "a\n", 'front KILLed: a client is served');
  kill 'KILL', $s->{pid};
  wait_pid($s->{pid}, 2);
  ok(wait_until(2, sub { slurp($s->{log}) =~ /^tcpserver: drain: pid $server stopped accepting/m }),
     'the server starts its drain') or diag(slurp($s->{log}));
  ok(wait_until(2, sub { binds($s->{port}) }), 'the port is free');
  my $eof;
  read_to_eof($c, 4, \$eof);
  ok($eof, 'the client is ended at the deadline');
  is(wait_pid($server, 4), 0, 'the server exits 0');
}

# --- SIGHUP: forwarded; the server dies of it (0.88's default), so does
# the front, and the program goes on
{
  my $s = start_server($tcpserver, ['-G', '1+1', '-R', '-H', '-l', 'x', '127.0.0.1', '0', @$echo]);
  my $server = only_child($s->{pid});
  my $c = connect_to($s->{port});
  is(echo_line($c, 'a'), "a\n", 'HUP: a client is served');
  my $prog = only_child($server);
  kill 'HUP', $s->{pid};
  is(wait_pid($s->{pid}, 2), 1, 'the front dies of SIGHUP, as 0.88 does');
  ok(wait_until(2, sub { !alive($server) }), 'so does the server');
  reap($server);
  is(echo_line($c, 'b'), "b\n", 'the program is left alone');
  close $c;
  ok(wait_until(3, sub { !alive($prog) }), 'and ends with its client');
  reap($prog);
}
SKIP: {
  skip 'reference tcpserver not installed', 1 unless have_ref('tcpserver');
  my $s = start_server(ref_bin('tcpserver'), ['-R', '-H', '-l', 'x', '127.0.0.1', '0', 'cat']);
  kill 'HUP', $s->{pid};
  is(wait_pid($s->{pid}, 2), 1, 'the reference dies of SIGHUP');
}

# --- a server that cannot start: the front exits as it did, one message
{
  my $busy = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Listen => 1) or die;
  my $r = run_cmd([$tcpserver, '-G', '1', '127.0.0.1', $busy->sockport, 'cat'], timeout => 5);
  is($r->{status}, 111, 'bind fails: exit 111');
  is($r->{err}, "tcpserver: fatal: unable to bind: address already used\n", 'one fatal message');
}

# --- -u and -g: the front drops its privileges as the server does
SKIP: {
  skip 'needs root (-u, -g)', 3 unless $> == 0;
  my ($uid, $gid) = (scalar getpwnam('nobody'), scalar getgrnam('nogroup'));
  skip 'no user nobody or group nogroup', 3 unless defined $uid && defined $gid;
  my $s = start_server($tcpserver, ['-G', '1', '-u', $uid, '-g', $gid, '-R', '-H', '-l', 'x', '127.0.0.1', '0', 'cat']);
  my $server = only_child($s->{pid});
  my $ids = sub { my $st = slurp("/proc/$_[0]/status"); join ' ', map { $st =~ /^$_:\s+(\d+)/m ? $1 : '?' } 'Uid', 'Gid' };
  is($ids->($server), "$uid $gid", '-u -g: the server runs as the user and group');
  ok(wait_until(2, sub { $ids->($s->{pid}) eq "$uid $gid" }), '-u -g: so does the front, once the server listens');
  kill 'TERM', $s->{pid};
  is(wait_pid($s->{pid}, 2), 0, '-u -g: the front can still pass SIGTERM on, and exits 0');
  wait_pid($server, 3);
}

# --- -0: the listening socket on descriptor 0 goes to the server alone
{
  my $l = IO::Socket::IP->new(Listen => 5, LocalHost => '127.0.0.1', LocalPort => 0) or die "listen: $!";
  my ($front) = start_process([$tcpserver, '-0', '-G', '1', '-R', '-H', '-l', 'x', '0', '0', 'echo', 'zero'],
                              timeout => 0.1, stderr => tmpdir() . '/fd0-log',
                              code => sub { POSIX::dup2(fileno($l), 0) or die "dup2: $!" });
  my $server = only_child($front);
  ok($server && holds_listener($server, $l->sockport) && !holds_listener($front, $l->sockport),
     '-0: the server holds the socket, the front does not');
  is(fetch($l->sockport), "zero\n", '-0: served');
  kill 'TERM', $front;
  is(wait_pid($front, 2), 0, '-0: the front exits 0');
  wait_pid($server, 3);
}

# --- a logger that reads nothing: the front exits at once all the same,
# and the server's drain runs to its end (its lines dropped)
{
  my $fifo = tmpdir() . '/stuck-log';
  POSIX::mkfifo($fifo, 0600) or die "mkfifo: $!";
  sysopen(my $r, $fifo, POSIX::O_RDONLY() | POSIX::O_NONBLOCK()) or die "$fifo: $!";
  my ($front, $line) = start_process([$tcpserver, '-1', '-v', '-G', '1+1', '-R', '-H', '-l', 'x',
                                      '127.0.0.1', '0', 'sh', '-c', 'read l; [ "$l" = hold ] && exec sleep 30'],
                                     stderr => $fifo);
  my ($port) = ($line // '') =~ /^(\d+)/;
  my $server = only_child($front);
  my $hold = connect_to($port);
  syswrite($hold, "hold\n");
  # Short connections, each answered (closed) by its program, until one
  # is not: the server is blocked on its log.
  my ($made, $stuck) = (0, 0);
  for (1 .. 3000) {
    my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 1) or last;
    $made++;
    syswrite($c, "x\n");
    my $eof;
    read_to_eof($c, 1, \$eof);
    if (!$eof) { $stuck = 1; last }
  }
  ok($stuck, "stuck logger: the server blocks on its log ($made connections)");
  my $t = time;
  kill 'TERM', $front;
  is(wait_pid($front, 3), 0, 'stuck logger: the front exits 0');
  ok(wait_until(2, sub { binds($port) }), 'stuck logger: the port is free');
  ok(wait_until(6, sub { !alive($server) }), sprintf('stuck logger: the server ends by its deadline (%.1f s)', time - $t));
  reap($server);
  close $r;
}

# --- the slow path: a child doing its lookups holds no listening socket
SKIP: {
  skip 'no private network namespace (needs root)', 4 unless $netns;
  # An ident server (port 113) that accepts and never answers: the
  # child waits -t seconds for it.
  my $identd = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 113, Listen => 5, ReuseAddr => 1)
    or skip "cannot listen on port 113: $!", 4;
  my $s = start_server($tcpserver, ['-v', '-G', '5+1', '-t', '4', '-H', '-l', 'x', '127.0.0.1', '0', @$echo]);
  my $server = only_child($s->{pid});
  my $c = connect_to($s->{port});
  my $child;
  wait_until(3, sub { $child = only_child($server) });
  ok($child && !holds_listener($child, $s->{port}), 'a child in its ident lookup holds no listening socket');
  kill 'TERM', $s->{pid};
  is(wait_pid($s->{pid}, 2), 0, 'the front exits');
  ok(binds($s->{port}), 'the port is free during the lookup');
  is(echo_line($c, 'late', 6), "late\n", 'the lookup times out, the program serves the client');
  close $c;
  wait_pid($server, 5);
}

done_testing();
