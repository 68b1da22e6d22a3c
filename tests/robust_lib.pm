# Helpers of tests/robust_*.t: start our programs from $UCSPI_BIN, watch
# a server process through /proc, clean up every process by pid.
package robust_lib;
use strict;
use warnings;
use Exporter 'import';
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
our @EXPORT = qw(bin need_bins spawn_server start_server stop_server fd_count children
  cpu_ticks wait_until slurp line_within read_to_eof);

my @started;
my $owner = $$;   # forked helpers must not clean up the test's servers

sub bin { my $d = $ENV{UCSPI_BIN} || 'build'; return "$d/$_[0]" }

# Skip the whole test (TAP plan 0) unless every program is built.
sub need_bins {
  for (@_) {
    next if -x bin($_);
    print "1..0 # SKIP $_ not built yet\n";
    exit 0;
  }
}

# Start SERVER -1 ARGS (a tcpserver, ours or the reference) with stderr
# to LOG; returns (pid, port).  The optional CODE runs in the child before
# exec (limits, environment).  The server is killed at the end.
sub spawn_server {
  my ($server, $log, $args, $code) = @_;
  pipe(my $r, my $w) or die "pipe: $!";
  my $pid = fork;
  die "fork: $!" unless defined $pid;
  if (!$pid) {
    close $r;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>&', $w;
    open STDERR, '>', $log;
    $code->() if $code;
    exec $server, '-1', @$args;
    exit 127;
  }
  close $w;
  push @started, $pid;
  my $port = line_within($r, 10);
  close $r;
  die "$server printed no port: " . slurp($log) unless defined $port && $port =~ /^(\d+)\s*$/;
  return ($pid, $1);
}

# Our tcpserver, as spawn_server.
sub start_server { my ($log, $args, $code) = @_; spawn_server(bin('tcpserver'), $log, $args, $code) }

sub stop_server {
  my ($pid) = @_;
  kill 'TERM', $pid;
  for (1 .. 100) { return 1 if waitpid($pid, WNOHANG) == $pid; sleep 0.05 }
  kill 'KILL', $pid;
  waitpid($pid, 0);
  return 0;
}

sub fd_count {
  opendir my $d, "/proc/$_[0]/fd" or return -1;
  return scalar grep { /^\d+$/ } readdir $d;
}

# The children of pid: a list of [pid, state].
sub children {
  my ($ppid) = @_;
  my @kids;
  opendir my $d, '/proc' or return ();
  for my $p (grep { /^\d+$/ } readdir $d) {
    open my $fh, '<', "/proc/$p/stat" or next;
    my $s = <$fh>;
    next unless defined $s && $s =~ /\) (\S) (\d+) /;
    push @kids, [$p, $1] if $2 == $ppid;
  }
  return @kids;
}

# utime + stime of a process, in clock ticks.
sub cpu_ticks {
  open my $fh, '<', "/proc/$_[0]/stat" or return -1;
  my $s = <$fh>;
  $s =~ s/^.*\) //;
  my @f = split ' ', $s;
  return $f[11] + $f[12];
}

# Poll CODE every 50 ms until it is true or SECONDS pass; its last value.
sub wait_until {
  my ($seconds, $code) = @_;
  my $end = time + $seconds;
  while (1) {
    my $v = $code->();
    return $v if $v || time > $end;
    sleep 0.05;
  }
}

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return <$fh> }

# The next line of FH, or undef after SECONDS without one.
sub line_within {
  my ($fh, $seconds) = @_;
  my $line;
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm $seconds;
    $line = <$fh>;
    alarm 0;
  };
  return $line;
}

# All FH gives until its end, or what came within SECONDS.
sub read_to_eof {
  my ($fh, $seconds) = @_;
  my $got = '';
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm $seconds;
    while (sysread($fh, my $buf, 65536) > 0) { $got .= $buf }
    alarm 0;
  };
  return $got;
}

END {
  local $?;   # keep the test's exit status
  return unless $$ == $owner;
  for my $pid (@started) {
    kill 'KILL', $pid if kill 0, $pid;
    waitpid($pid, WNOHANG);
  }
}
1;
