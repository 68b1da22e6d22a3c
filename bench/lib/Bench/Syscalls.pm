package Bench::Syscalls;
# The system calls a server's own threads make per connection, counted by
# `perf trace -s` attached to the server while a load runs (the children
# it starts are other tasks and are left out), so that the next change
# that adds one shows up in the report.  A separate run from the timed
# ones: tracing slows the server down, never the counts.
use strict;
use warnings;
use POSIX qw(WNOHANG);
use Bench;
use Exporter 'import';

our @EXPORT = qw(syscalls_available syscalls_during syscalls_line syscalls_table_head);

my $usable;
# perf with its trace command (Debian's linux-perf), and the right to use
# it (root, or perf_event_paranoid low enough).
sub syscalls_available {
  return $usable if defined $usable;
  my $out = `perf trace -s -- true 2>&1`;
  $usable = ($? == 0 && $out =~ /Summary of events/) ? 1 : 0;
  return $usable;
}

sub threads_of {
  my ($pid) = @_;
  opendir my $d, "/proc/$pid/task" or return ();
  return grep { /^\d+$/ } readdir $d;
}

# perf trace -s's summary: { tid => { syscall => calls } }.
sub parse_summary {
  my ($file) = @_;
  open my $fh, '<', $file or return {};
  my (%by, $tid);
  while (<$fh>) {
    if (/^\s*\S.*\((\d+)\), \d+ events/) { $tid = $1; next }
    next unless defined $tid;
    $by{$tid}{$1} += $2 if /^\s+([a-z_0-9]+)\s+(\d+)\s+\d+\s/;
  }
  return \%by;
}

# Runs $load->() (which returns loadgen's result) while perf counts the
# server's system calls.  Returns { main => {call => n per connection},
# others => {...}, conns => completed } or undef without perf.
sub syscalls_during {
  my ($pid, $load) = @_;
  return undef unless syscalls_available();
  my $file = "$work/perf-trace.out";
  unlink $file;
  my %tids = map { $_ => 1 } threads_of($pid);
  my $perf = fork // die "bench: fork: $!\n";
  if (!$perf) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    { exec 'perf', 'trace', '-s', '-o', $file, '-p', $pid }
    POSIX::_exit(127);
  }
  sleep 2;    # perf attaches to every thread before the load starts
  my $r = $load->();
  $tids{$_} = 1 for threads_of($pid);
  kill 'INT', $perf;
  for (1 .. 100) { last if waitpid($perf, WNOHANG) == $perf; select undef, undef, undef, 0.1 }
  kill 'KILL', $perf;
  waitpid($perf, 0);
  my $n = $r->{completed} or return undef;
  my $by = parse_summary($file);
  my %out = (main => {}, others => {}, conns => $n);
  for my $tid (grep { $tids{$_} } keys %$by) {
    my $where = $tid == $pid ? 'main' : 'others';
    $out{$where}{$_} += $by->{$tid}{$_} / $n for keys %{ $by->{$tid} };
  }
  return \%out;
}

sub total { my $t = 0; $t += $_ for values %{ $_[0] }; return $t }

# The calls made at least once in 20 connections, most frequent first.
sub top {
  my ($h) = @_;
  my @names = grep { $h->{$_} >= 0.05 } sort { $h->{$b} <=> $h->{$a} || $a cmp $b } keys %$h;
  return join(', ', map { sprintf '%s %.2f', $_, $h->{$_} } @names) || '-';
}

sub syscalls_table_head {
  my ($what) = @_;
  say_('');
  say_("System calls per connection of the server's own threads ($what; `perf trace -s` attached to the server, children left out):");
  say_('');
  say_('| server | main thread | other threads | main thread: calls per connection (>= 0.05) | other threads: calls per connection |');
  say_('| --- | ---: | ---: | --- | --- |');
}

sub syscalls_line {
  my ($name, $s) = @_;
  return say_("| $name | - | - | perf trace not available | |") unless $s;
  say_(sprintf '| %s | %.2f | %.2f | %s | %s |', $name, total($s->{main}), total($s->{others}), top($s->{main}), top($s->{others}));
}

1;
