package Bench;
# What the parts of the benchmark (bench/run.pl and bench/lib/Bench/*.pm)
# share: the configuration from the environment (see bench/run.pl), the
# report, statistics, starting and stopping servers, the load generator,
# connections held open, and what /proc says about a server.
use strict;
use warnings;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);
use IO::Socket::IP;
use Socket qw(SOCK_STREAM);
use Exporter 'import';

our @EXPORT = qw($ours $tools $work $ref $child $rounds $run_seconds @report
  have say_ median ratio fmt start_server start_server_at stop_server
  proc_stat cpu_seconds loadgen lg timed hold_open children_of wait_children
  proc_memory free_port);

our $ours = $ENV{UCSPI_BIN} || 'build';
our $tools = $ENV{BENCH_BIN} || "$ours/bench";
our $rounds = $ENV{BENCH_ROUNDS} || 5;
our $ref = '/usr/bin';
our $work = "$tools/work";
our $child = "$tools/okchild";
our $run_seconds = 60;    # bound of one loadgen run
our @report;
mkdir $work;

sub have { -x $_[0] }
sub say_ { my $l = join '', @_; print "$l\n"; push @report, $l }

sub median {
  my @v = sort { $a <=> $b } grep { defined } @_;
  return undef unless @v;
  return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}
sub ratio { defined $_[0] && defined $_[1] && $_[1] ? sprintf('%.2f', $_[0] / $_[1]) : '-' }
sub fmt { defined $_[0] ? sprintf($_[1] || '%.0f', $_[0]) : '-' }

# Start a server that prints its port on its first line (-1); returns
# (pid, port, fh).
sub start_server {
  my @cmd = @_;
  my $pid = open(my $fh, '-|', @cmd) or die "bench: unable to run $cmd[0]: $!\n";
  my $port;
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    $port = <$fh>;
    alarm 0;
  };
  die "bench: $cmd[0] printed no port\n" unless defined $port && $port =~ /^(\d+)$/;
  return ($pid, $1, $fh);
}

# A port of 127.0.0.1 the kernel had free a moment ago, for the servers
# that cannot print the one they got (tcpsvd, s6-tcpserver).
sub free_port {
  my $s = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Listen => 1, ReuseAddr => 1)
    or die "bench: unable to find a free port: $!\n";
  my $port = $s->sockport;
  close $s;
  return $port;
}

# Start a server given its port (PORT in the command is replaced); returns
# (pid, port, fh) once the port accepts connections.
sub start_server_at {
  my @cmd = @_;
  my $port = free_port();
  s/^PORT$/$port/ for @cmd;
  my $pid = open(my $fh, '-|', @cmd) or die "bench: unable to run $cmd[0]: $!\n";
  for (1 .. 500) {
    return ($pid, $port, $fh) if IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Type => SOCK_STREAM);
    die "bench: $cmd[0] ended at start\n" if waitpid($pid, WNOHANG) == $pid;
    select undef, undef, undef, 0.01;
  }
  stop_server($pid, $fh);
  die "bench: $cmd[0] did not listen on port $port\n";
}

sub stop_server {
  my ($pid, $fh) = @_;
  kill 'TERM', $pid;
  for (1 .. 50) { last if waitpid($pid, WNOHANG) == $pid; select undef, undef, undef, 0.1 }
  kill 'KILL', $pid;
  close $fh;
}

# CPU seconds the process has used so far: the server's own cost, apart
# from its children's (which exec and exit the service).  The scheduler's
# count of each of its threads (/proc/PID/task/*/schedstat, nanoseconds),
# where utime and stime count 10 ms ticks: a server that takes a few ticks
# a run would otherwise be measured to within a tenth.  The ticks when
# schedstat cannot be read.
sub cpu_seconds {
  my ($pid) = @_;
  my ($ns, $tasks) = (0, 0);
  for my $f (glob "/proc/$pid/task/*/schedstat") {
    open my $fh, '<', $f or next;
    my ($run) = split ' ', (scalar <$fh> // '');
    next unless defined $run && $run =~ /^\d+$/;
    $ns += $run;
    $tasks++;
  }
  return $ns / 1e9 if $tasks && $ns;
  my @f = proc_stat($pid) or return undef;
  return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

# The fields of /proc/PID/stat after the command's name: ($f[0] the
# state, $f[1] the parent, $f[7] minflt ... as proc(5) numbers them,
# less 3); () when the process is gone.
sub proc_stat {
  my ($pid) = @_;
  open my $fh, '<', "/proc/$pid/stat" or return ();
  return split ' ', (split /\) /, scalar(<$fh>) // '', 2)[1] // '';
}

# The process's memory now: { rss => VmRSS kB, hwm => VmHWM kB }.
sub proc_memory {
  open my $st, '<', "/proc/$_[0]/status" or return {};
  my $s = join '', <$st>;
  my ($rss) = $s =~ /VmRSS:\s+(\d+)/;
  my ($hwm) = $s =~ /VmHWM:\s+(\d+)/;
  return { rss => $rss, hwm => $hwm };
}

sub loadgen {
  my ($port, $c, $n, @extra) = @_;
  my $line = `timeout @{[$run_seconds + 10]} $tools/loadgen -c $c -n $n -t $run_seconds -e 3 @extra 127.0.0.1 $port`;
  my %r = $line =~ /(\w+)=([\d.]+)/g;
  return \%r;
}

sub lg {
  my ($port, @args) = @_;
  my $line = `timeout @{[$run_seconds + 10]} $tools/loadgen -t $run_seconds @args 127.0.0.1 $port`;
  my %r = $line =~ /(\w+)=([\d.]+)/g;
  return \%r;
}

# Run a command under /usr/bin/time -v; returns (seconds, peak RSS kB, exit).
sub timed {
  my ($in, @cmd) = @_;
  my $tv = "$work/time.out";
  my $t0 = time;
  system('/usr/bin/time', '-v', '-o', $tv, 'sh', '-c', 'exec "$@" < "$0" > /dev/null', $in, @cmd);
  my $elapsed = time - $t0;
  my $exit = $? >> 8;
  open my $fh, '<', $tv or return ($elapsed, undef, $exit);
  my ($rss) = join('', <$fh>) =~ /Maximum resident set size \(kbytes\): (\d+)/;
  return ($elapsed, $rss, $exit);
}

# n connections from src held open to a service that waits for EOF.
sub hold_open {
  my ($port, $n, $src) = @_;
  my @h;
  for (1 .. $n) {
    my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Type => SOCK_STREAM,
      Timeout => 5, $src ? (LocalHost => $src) : ()) or die "bench: unable to hold connection $_: $!\n";
    push @h, $c;
  }
  return \@h;
}

# How many children the process has (those of all its threads; from
# /proc/PID/task/*/children, so that 10,000 of them are counted quickly).
sub children_of {
  my ($ppid) = @_;
  my $n = 0;
  for my $f (glob "/proc/$ppid/task/*/children") {
    open my $fh, '<', $f or next;
    my $list = <$fh> // '';
    $n += () = $list =~ /\d+/g;
  }
  return $n;
}

sub wait_children {
  my ($pid, $n) = @_;
  for (1 .. 1500) { return 1 if children_of($pid) == $n; select undef, undef, undef, 0.02 }
  return 0;
}

1;
