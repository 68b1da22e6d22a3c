# Helpers of the restart tests (tests/restart_*.t): the test as the
# reaper of orphans, a prober that tries the service every 100 ms and
# writes down what it got, the longest time it was refused, processes
# by their state in /proc, and the supervisors' commands.
#
#   subreaper()           make this process the child subreaper
#       (prctl PR_SET_CHILD_SUBREAPER), so that a server whose parent
#       exited becomes our child and is reaped here, not by whatever
#       PID 1 is; true when that worked.
#   reap(PID...)          reap those of PID... that ended (no wait).
#   alive(PID)            true while PID runs (a zombie does not).
#   state(PID)            its state letter from /proc (R, S, Z...), or ''
#       when there is no such process.
#   stray_zombies(PID)    the zombies among the descendants of PID that
#       are not its own children (those are its to reap: helpers it
#       started, orphans it adopted), as [pid, ppid] pairs.
#   descendants(PID)      the pids below PID in the process tree.
#   start_prober(PORT, FILE)   fork a prober: every 100 ms it connects
#       to 127.0.0.1 PORT, sends "probe N", and counts as served when the
#       line comes back within 1 s; each try is a line of FILE,
#       "START OK|FAIL" (START in seconds since the epoch).  Stop it with
#       stop_prober(PID).
#   refused_window(FILE)  (longest, failures, tries): the longest time
#       from a failed try to the next served one (or the last try), the
#       number of failed tries, and of all tries.
#   echo_line(SOCK, TEXT[, SECONDS])  write TEXT and a newline, the line
#       that comes back (undef within SECONDS, default 5).
package Ucspi::Restart;
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::IP;
use IO::Select;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Ucspi;

our @EXPORT = qw(subreaper reap alive state stray_zombies descendants
  start_prober stop_prober refused_window echo_line);

sub subreaper {
  my $prctl = eval { require 'syscall.ph'; &SYS_prctl() } // 157;   # x86-64
  return syscall($prctl, 36, 1, 0, 0, 0) == 0;   # PR_SET_CHILD_SUBREAPER
}

sub reap { waitpid($_, WNOHANG) for @_ }

sub state {
  my ($pid) = @_;
  open my $fh, '<', "/proc/$pid/stat" or return '';
  my $s = <$fh> // '';
  return $s =~ /\) (\S) / ? $1 : '';
}

sub alive { my $s = state($_[0]); return $s ne '' && $s ne 'Z' && $s ne 'X' }

# pid => [ppid, state] for every process.
sub process_table {
  my %t;
  opendir my $d, '/proc' or return %t;
  for my $p (grep { /^\d+$/ } readdir $d) {
    open my $fh, '<', "/proc/$p/stat" or next;
    my $s = <$fh>;
    $t{$p} = [$2, $1] if defined $s && $s =~ /\) (\S) (\d+) /;
  }
  return %t;
}

sub descendants {
  my ($root) = @_;
  my %t = process_table();
  my %kids;
  push @{ $kids{ $t{$_}[0] } }, $_ for keys %t;
  my @todo = ($root);
  my @out;
  while (@todo) {
    my $p = shift @todo;
    for my $k (@{ $kids{$p} || [] }) { push @out, $k; push @todo, $k }
  }
  return @out;
}

sub stray_zombies {
  my ($root) = @_;
  my %t = process_table();
  return map { [$_, $t{$_}[0]] }
    grep { $t{$_} && $t{$_}[1] eq 'Z' && $t{$_}[0] != $root } descendants($root);
}

sub echo_line {
  my ($sock, $text, $seconds) = @_;
  local $SIG{PIPE} = 'IGNORE';
  syswrite($sock, "$text\n") or return undef;
  return line_within($sock, $seconds // 5);
}

sub start_prober {
  my ($port, $file) = @_;
  return background(sub {
    open my $out, '>>', $file or die "$file: $!";
    $out->autoflush(1);
    my $n = 0;
    while (1) {
      my $start = time;
      my $ok = 0;
      my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 1);
      if ($c) {
        $n++;
        my $got = echo_line($c, "probe $n", 1);
        $ok = defined $got && $got eq "probe $n\n";
        close $c;
      }
      printf $out "%.3f %s\n", $start, $ok ? 'OK' : 'FAIL';
      my $left = $start + 0.1 - time;
      sleep $left if $left > 0;
    }
  });
}

sub stop_prober { my ($pid) = @_; stop_pid($pid, 'TERM', 3) }

sub refused_window {
  my ($file) = @_;
  my @tries = map { [split ' '] } grep { /^\d/ } split /\n/, slurp($file);
  my ($longest, $fails, $since) = (0, 0, undef);
  for my $t (@tries) {
    my ($when, $what) = @$t;
    if ($what eq 'FAIL') {
      $fails++;
      $since //= $when;
    } elsif (defined $since) {
      $longest = $when - $since if $when - $since > $longest;
      undef $since;
    }
  }
  if (defined $since && @tries) {
    my $span = $tries[-1][0] - $since;
    $longest = $span if $span > $longest;
  }
  return ($longest, $fails, scalar @tries);
}

1;
