#!/usr/bin/perl
# tcpserver's fixes that 0.88 users can see: SIGTERM ends the server also
# while a -v log write blocks on a reader that stopped reading; started
# with fd 0 or fd 1 closed it still serves (the listening socket must not
# land on a descriptor that is closed once listening) and does not spin;
# -c wraps modulo 2^64 as 0.88's numbers do.  Against the reference where
# it is installed (but for the closed descriptors, where 0.88 fails).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Fcntl qw(O_RDONLY O_NONBLOCK);
use IO::Socket::IP;
use POSIX qw(mkfifo);
use Time::HiRes qw(sleep time);
use Test::More;

need_ours('tcpserver');
my $t = tmpdir();
my $FIONREAD = 0x541B;
my @servers = (['ours', ours('tcpserver')]);
push @servers, ['reference', ref_bin('tcpserver')] if have_ref('tcpserver');

sub pipe_fill {
  my ($fh) = @_;
  my $n = pack('L', 0);
  ioctl($fh, $FIONREAD, $n) or return -1;
  return unpack('L', $n);
}

sub process_state {
  open my $fh, '<', "/proc/$_[0]/stat" or return '';
  my $s = <$fh> // '';
  return $s =~ /\) (\S) / ? $1 : '';
}

# --- SIGTERM while a log write blocks

# stderr is a FIFO whose reader (this test) never reads: connections until
# the pipe is full (the server then blocks in a log write), then SIGTERM.
my $nfifo = 0;
sub term_while_log_blocks {
  my ($bin, $opts) = @_;
  my $fifo = "$t/fifo" . $nfifo++;
  mkfifo($fifo, 0600) or die "mkfifo: $!";
  sysopen(my $r, $fifo, O_RDONLY | O_NONBLOCK) or die "$fifo: $!";
  my ($pid, $line) = start_process([$bin, '-1', '-v', @$opts, '127.0.0.1', '0', 'true'],
                                   stderr => $fifo);
  die "no port" unless defined $line && $line =~ /^(\d+)/;
  my $port = $1;
  my ($made, $stuck) = (0, 0);
  for (1 .. 1000) {
    my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 3)
      or last;
    $made++;
    # Paced by the server (the child closes at once): no connection waits
    # in a full backlog, and none answers once the server is blocked.
    my $eof;
    read_to_eof($c, 1, \$eof);
    close $c;
    if (!$eof) { $stuck = 1; last }
  }
  # A child may block first (slow path): a few more connections, each a
  # status line the server itself has to write.
  my @more = map { IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 1) } 1 .. 3;
  sleep 0.2;
  my $fill = pipe_fill($r);
  my @kids = map { $_->[0] } children($pid);
  my $start = time;
  my $status = stop_pid($pid, 'TERM', 5);
  my $took = time - $start;
  close $r;   # blocked writers (children of the slow path) get EPIPE
  wait_until(5, sub { !grep { my $s = process_state($_); $s ne '' && $s ne 'Z' } @kids });
  kill 'KILL', grep { my $s = process_state($_); $s ne '' && $s ne 'Z' } @kids;
  return ($status, $fill, $made, $took, $stuck);
}

for my $srv (@servers) {
  my ($who, $bin) = @$srv;
  for my $path (['fast', [qw(-HRl x)]], ['slow', [qw(-R)]]) {
    my ($name, $opts) = @$path;
    # The reference's slow path asks the DNS itself for 127.0.0.1's name,
    # which may take longer than the pace of the connections here.
    next if $who eq 'reference' && $name eq 'slow';
    my ($status, $fill, $made, $took, $stuck) = term_while_log_blocks($bin, $opts);
    # Full or nearly: a writer may wait while the last page still has room.
    cmp_ok($fill, ">", 65536 - 8192, "$who $name: the log pipe is full ($fill bytes, $made connections)");
    ok($stuck, "$who $name: the server is stuck on its log (a connection unanswered)");
    is($status, 0, "$who $name: SIGTERM while a log write blocks: exit 0")
      or diag(defined $status ? "status $status" : 'still running after 5 s (killed)');
    cmp_ok($took, '<', 3, "$who $name: at once (" . sprintf('%.2f', $took) . ' s)');
  }
}

# With -G the SIGTERM starts a drain instead; a logger that does not read
# must not keep the drain from running (it once held SIGTERM back for
# good, the port taken and the server running for ever).
{
  my ($status, $fill, $made, $took, $stuck) = term_while_log_blocks(ours('tcpserver'), [qw(-G 1+1 -HRl x)]);
  ok($stuck, "-G: the server is stuck on its log ($fill bytes, $made connections)");
  is($status, 0, '-G: SIGTERM while a log write blocks: the server ends (exit 0) within 5 s')
    or diag(defined $status ? "status $status" : 'still running after 5 s (killed)');
}

# --- fd 0 or fd 1 closed at start


# The server with fd FD closed; returns (pid, port, log) once it serves.
sub start_closed {
  my ($bin, $fd) = @_;
  for my $try (1 .. 5) {
    my $log = "$t/closed-$fd-$try";
    my $port = $fd == 1 ? free_port() : '0';
    my @one = $fd == 1 ? () : ('-1');
    my ($pid, $line) = start_process([$bin, @one, '-HRl', 'x', '127.0.0.1', $port, 'echo', 'hello'],
                                     stderr => $log, code => sub { POSIX::close($fd) });
    if ($fd != 1) {
      die "no port: " . slurp($log) unless defined $line && $line =~ /^(\d+)/;
      $port = $1;
      return ($pid, $port, $log);
    }
    # No -1 with fd 1 closed: the port chosen here; another process may
    # have taken it in between (then the server fails to bind: again).
    my $up = wait_until(5, sub {
      return 1 if IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 1);
      return 1 if slurp($log) =~ /address already used/;
      return 0;
    });
    return ($pid, $port, $log) unless slurp($log) =~ /address already used/;
    wait_pid($pid, 5);
  }
  die "no free port in 5 tries";
}

# Ours only: the reference (0.88) fails here, its listening socket lands
# on the closed descriptor, is closed with 0 and 1 after listening, and
# accept spins on EBADF.
{
  my $bin = ours('tcpserver');
  for my $fd (0, 1) {
    my $name = "fd $fd closed";
    my ($pid, $port, $log) = start_closed($bin, $fd);
    my @got = map { fetch($port) } 1 .. 3;
    is_deeply(\@got, [("hello\n") x 3], "$name: serves connections")
      or diag(show_text(slurp($log)));
    my $ticks = cpu_ticks($pid);
    sleep 1;
    my $used = cpu_ticks($pid) - $ticks;
    cmp_ok($used, '<', 20, "$name: no spinning ($used ticks in 1 s)");
    is(stop_pid($pid, 'TERM', 5), 0, "$name: SIGTERM: exit 0");
  }
}

# --- -c wraps modulo 2^64 (18446744073709551617 is 1)

for my $srv (@servers) {
  my ($who, $bin) = @$srv;
  my $s = start_server($bin, ['-v', '-c', '18446744073709551617', '127.0.0.1', '0', 'true']);
  my ($first) = split /\n/, slurp($s->{log});
  is($first, 'tcpserver: status: 0/1', "$who: -c 18446744073709551617: status 0/1");
  stop_server($s);
}

# The ident fix (a reply without three colons sets TCPREMOTEINFO empty)
# is tested in server_ident.t.
done_testing();
