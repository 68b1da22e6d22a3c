#!/usr/bin/perl
# tcpserver under supervisors: systemd socket activation (run by
# systemd-socket-activate, Debian package systemd, without a running
# systemd), -0 (the listening socket on descriptor 0), readiness through
# -N's descriptor and through NOTIFY_SOCKET (a path and an abstract name).
# What the supervisor passes is for tcpserver: the program never sees
# LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES or NOTIFY_SOCKET.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use IO::Socket::IP;
use Socket qw(AF_UNIX SOCK_DGRAM SOCK_STREAM pack_sockaddr_un);
use POSIX ();
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Cwd ();
use Time::HiRes qw(sleep time);

need_ours('tcpserver');
# systemd-socket-activate passes PATH but not a relative name's meaning.
my $tcpserver = Cwd::abs_path(ours('tcpserver'));
my $dir = tmpdir();

my $prog = "$dir/prog";
spew($prog, <<'EOF');
#!/bin/sh
echo "served $TCPLOCALPORT"
env | grep -E '^(LISTEN_|NOTIFY_SOCKET)' | sort
EOF
chmod 0755, $prog;

sub connects {
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $_[0], Timeout => 3);
  return $c ? 1 : 0;
}

# systemd-socket-activate listening on free ports (one -l each), running
# CMD once a connection comes; returns (pid, ports, stderr file).  A port
# taken meanwhile by someone else costs one more try.
my $activate = '/usr/bin/systemd-socket-activate';
sub activate {
  my ($nports, $cmd, @extra) = @_;
  for my $try (1 .. 5) {
    my @ports = map { free_port() } 1 .. $nports;
    my $err = "$dir/activate-$try-" . time;
    my ($pid) = start_process([$activate, (map { ('-l', "127.0.0.1:$_") } @ports), @extra, @{ $cmd->(@ports) }],
      stderr => $err, timeout => 0.1);
    my $ok = wait_until(5, sub { (() = slurp($err) =~ /^Listening on /mg) == $nports || !kill(0, $pid) });
    return ($pid, \@ports, $err) if $ok && kill(0, $pid) && waitpid($pid, POSIX::WNOHANG()) == 0;
    stop_pid($pid);
  }
  die "systemd-socket-activate does not start\n";
}

SKIP: {
  skip 'no systemd-socket-activate (Debian package systemd; make deps)', 1 unless -x $activate;

  subtest 'one socket: tcpserver -v 0 0 serves it' => sub {
    my ($pid, $ports, $err) = activate(1, sub { [$tcpserver, '-v', '-H', '-R', '-l', 'x', '0', '0', $prog] },
      '--fdname=web');
    my $got = fetch($ports->[0]);
    like($got, qr{^served $ports->[0]$}m, 'the first connection is served (it starts tcpserver)')
      or diag(slurp($err));
    like(fetch($ports->[0]), qr{^served $ports->[0]$}m, 'and the next one');
    unlike($got, qr{LISTEN_}, 'the program sees no LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES') or diag($got);
    like(slurp($err), qr{^tcpserver: status: 0/40$}m, 'tcpserver -v logs its status');
    like(slurp($err), qr{^tcpserver: ok \d+ x:127\.0\.0\.1:$ports->[0] :127\.0\.0\.1::\d+$}m, 'ok line with the passed socket\'s address');
    is(stop_pid($pid), 0, 'SIGTERM: exit 0');
  };

  subtest 'two sockets: tcpserver 0 PORT2 serves the second, closes the first' => sub {
    my ($pid, $ports, $err) = activate(2, sub { [$tcpserver, '-v', '-H', '-R', '-l', 'x', '0', $_[1], $prog] });
    # A connection to the second starts tcpserver.
    like(fetch($ports->[1]), qr{^served $ports->[1]$}m, 'the second socket is served') or diag(slurp($err));
    ok(wait_until(5, sub { !connects($ports->[0]) }), 'the first socket is closed (connections refused)');
    stop_pid($pid);
  };

  subtest 'host 127.0.0.1 and the first port: the first of two' => sub {
    my ($pid, $ports, $err) = activate(2, sub { [$tcpserver, '-H', '-R', '-l', 'x', '127.0.0.1', $_[0], $prog] });
    like(fetch($ports->[0]), qr{^served $ports->[0]$}m, 'the first socket is served') or diag(slurp($err));
    ok(wait_until(5, sub { !connects($ports->[1]) }), 'the second is closed');
    stop_pid($pid);
  };

  subtest 'no passed socket matches: fatal, 111' => sub {
    for my $case (['a port not passed', sub { [$tcpserver, '0', free_port(), $prog] }],
                  ['an address not passed', sub { [$tcpserver, '127.0.0.2', $_[0], $prog] }]) {
      my ($pid, $ports, $err) = activate(1, $case->[1]);
      my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $ports->[0], Timeout => 3);
      my $st = wait_pid($pid, 10);
      ok(defined $st && $st >> 8 == 111, "$case->[0]: exit 111") or diag(defined $st ? "status $st" : 'still running');
      like(slurp($err), qr{^tcpserver: fatal: no socket passed by systemd matches the host and port$}m,
        "$case->[0]: the fatal message") or diag(slurp($err));
      stop_pid($pid);
    }
  };

  subtest 'NOTIFY_SOCKET passed by systemd-socket-activate -E' => sub {
    socket(my $n, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
    bind($n, pack_sockaddr_un("$dir/notify-sa")) or die "bind: $!";
    local $ENV{NOTIFY_SOCKET} = "$dir/notify-sa";
    my ($pid, $ports, $err) = activate(1, sub { [$tcpserver, '-H', '-R', '-l', 'x', '0', '0', $prog] },
      '-E', 'NOTIFY_SOCKET');
    my $got = fetch($ports->[0]);
    like($got, qr{^served}m, 'served');
    is(recv_within($n, 5), 'READY=1', 'READY=1 sent');
    unlike($got, qr{NOTIFY_SOCKET|LISTEN_}, 'the program sees neither NOTIFY_SOCKET nor LISTEN_*');
    stop_pid($pid);
  };
}

# One datagram from $sock within $seconds, or undef.
sub recv_within {
  my ($sock, $seconds) = @_;
  my $rin = '';
  vec($rin, fileno($sock), 1) = 1;
  return undef unless select(my $rout = $rin, undef, undef, $seconds);
  defined recv($sock, my $buf, 4096, 0) or return undef;
  return $buf;
}

subtest '-0: the listening socket on descriptor 0' => sub {
  my $l = IO::Socket::IP->new(Listen => 5, LocalHost => '127.0.0.1', LocalPort => 0) or die "listen: $!";
  my $port = $l->sockport;
  my $log = "$dir/fd0.log";
  my ($pid) = start_process([$tcpserver, '-0', '-v', '-H', '-R', '-l', 'x', '0', '0', $prog],
    stderr => $log, timeout => 0.1, code => sub { POSIX::dup2(fileno($l), 0) or die "dup2: $!" });
  close $l;
  ok(wait_until(5, sub { slurp($log) =~ m{status: 0/40} }), '-0: tcpserver runs') or diag(slurp($log));
  like(fetch($port), qr{^served $port$}m, '-0: a connection to the socket is served');
  like(fetch($port), qr{^served $port$}m, '-0: and another');
  is(stop_pid($pid), 0, '-0: SIGTERM, exit 0');

  my $r = run_cmd([$tcpserver, '-0', '0', '0', $prog], stdin => '/dev/null', timeout => 5);
  is($r->{status}, 111, '-0 with /dev/null on descriptor 0: exit 111');
  like($r->{err}, qr{^tcpserver: fatal: unable to use descriptor 0 as a listening socket: }m, '-0 with /dev/null: the fatal message')
    or diag($r->{err});

  # A TCP socket that is not listening (connected) is refused too.
  my $other = IO::Socket::IP->new(Listen => 1, LocalHost => '127.0.0.1', LocalPort => 0) or die;
  my $conn = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $other->sockport) or die;
  my $err = "$dir/fd0-conn.err";
  ($pid) = start_process([$tcpserver, '-0', '0', '0', $prog], stderr => $err, timeout => 0.1,
    code => sub { POSIX::dup2(fileno($conn), 0) or die "dup2: $!" });
  my $st = wait_pid($pid, 5);
  ok(defined $st && $st >> 8 == 111, '-0 with a connected socket: exit 111');
  like(slurp($err), qr{^tcpserver: fatal: unable to use descriptor 0 as a listening socket: }m, '-0 with a connected socket: the fatal message')
    or diag(slurp($err));
  stop_pid($pid);
};

subtest '-N 5: a newline on descriptor 5 once listening, then EOF' => sub {
  for my $try (1 .. 5) {
    my $port = free_port();
    pipe(my $r, my $w) or die "pipe: $!";
    my $log = "$dir/notify-fd-$try.log";
    my ($pid) = start_process([$tcpserver, '-N', '5', '-v', '-H', '-R', '-l', 'x', '127.0.0.1', $port, $prog],
      stderr => $log, timeout => 0.1, code => sub { POSIX::dup2(fileno($w), 5) or die "dup2: $!" });
    close $w;
    my $line = line_within($r, 5);
    if (!defined $line && slurp($log) =~ /unable to bind/) { stop_pid($pid); next }
    is($line, "\n", '-N 5: a newline arrives');
    ok(connects($port), '-N 5: connecting right after it succeeds');
    my $eof;
    my $more = read_to_eof($r, 5, \$eof);
    ok($eof && $more eq '', '-N 5: then EOF (the descriptor is closed), nothing more');
    like(fetch($port), qr{^served $port$}m, '-N 5: served');
    stop_pid($pid);
    last;
  }
};

subtest '-N 5 to a full pipe whose reader stopped: a warning, the service runs' => sub {
  for my $try (1 .. 5) {
    my $port = free_port();
    pipe(my $r, my $w) or die "pipe: $!";
    my $flags = fcntl($w, F_GETFL, 0);
    fcntl($w, F_SETFL, $flags | O_NONBLOCK);
    1 while syswrite($w, 'x' x 4096);
    1 while syswrite($w, 'x');
    fcntl($w, F_SETFL, $flags);   # handed over blocking, as a supervisor does
    my $log = "$dir/notify-full-$try.log";
    my ($pid) = start_process([$tcpserver, '-N', '5', '-v', '-H', '-R', '-l', 'x', '127.0.0.1', $port, $prog],
      stderr => $log, timeout => 0.1, code => sub { POSIX::dup2(fileno($w), 5) or die "dup2: $!" });
    close $w;
    ok(wait_until(5, sub { slurp($log) =~ /status: 0\/40|unable to bind/ }), '-N 5 full: the server goes on')
      or diag(slurp($log));
    if (slurp($log) =~ /unable to bind/) { stop_pid($pid); next }
    like(slurp($log), qr{^tcpserver: warning: unable to notify readiness on descriptor 5: temporary failure$}m,
      '-N 5 full: a warning');
    like(fetch($port), qr{^served $port$}m, '-N 5 full: served');
    stop_pid($pid);
    close $r;
    last;
  }
};

for my $abstract (0, 1) {
  my $name = $abstract ? "\@ucspi-test-$$-" . int(rand(1e9)) : "$dir/notify";
  subtest "NOTIFY_SOCKET=" . ($abstract ? '@name (abstract)' : 'a path') => sub {
    socket(my $n, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
    my $addr = $abstract ? "\0" . substr($name, 1) : $name;
    bind($n, pack_sockaddr_un($addr)) or die "bind $name: $!";
    for my $try (1 .. 5) {
      my $port = free_port();
      my $log = "$dir/notify-$abstract-$try.log";
      my ($pid) = start_process([$tcpserver, '-v', '-H', '-R', '-l', 'x', '127.0.0.1', $port, $prog],
        stderr => $log, timeout => 0.1, code => sub { $ENV{NOTIFY_SOCKET} = $name });
      my $msg = recv_within($n, 5);
      if (!defined $msg && slurp($log) =~ /unable to bind/) { stop_pid($pid); next }
      is($msg, 'READY=1', 'READY=1 received');
      ok(connects($port), 'connecting right after it succeeds');
      my $got = fetch($port);
      like($got, qr{^served $port$}m, 'served');
      unlike($got, qr{NOTIFY_SOCKET}, 'the program does not see NOTIFY_SOCKET');
      unlike(slurp($log), qr{warning}, 'no warning') or diag(slurp($log));
      stop_pid($pid);
      last;
    }
  };
}

subtest 'NOTIFY_SOCKET nobody listens on: a warning, the service runs' => sub {
  my $port = free_port();
  my $log = "$dir/notify-none.log";
  my ($pid) = start_process([$tcpserver, '-v', '-H', '-R', '-l', 'x', '127.0.0.1', $port, $prog],
    stderr => $log, timeout => 0.1, code => sub { $ENV{NOTIFY_SOCKET} = "$dir/nobody-here" });
  ok(wait_until(5, sub { slurp($log) =~ m{status: 0/40} }), 'tcpserver runs') or diag(slurp($log));
  like(slurp($log), qr{^tcpserver: warning: unable to notify readiness to \Q$dir\E/nobody-here: }m, 'the warning')
    or diag(slurp($log));
  like(fetch($port), qr{^served $port$}m, 'served');
  stop_pid($pid);
};

done_testing();
